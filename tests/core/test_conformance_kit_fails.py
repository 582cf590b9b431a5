"""The conformance kit must catch a provider that breaks the rules (run in pytester)."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

LEAKY = """
import entra_auth
from entra_auth import Option, Provider


class LeakySource:
    def __init__(self, secret):
        self.secret = secret

    def acquire(self, scopes, *, claims=None, tenant_id=None):
        raise NotImplementedError

    def context(self):
        return {"secret_used": self.secret}

    def close(self):
        pass

    def __repr__(self):
        return f"LeakySource({self.secret})"


class LeakyProvider(Provider):
    name = "Leaky_Provider"
    summary = "Shows its secret."
    options = (Option("api_key", "", required=True, secret=True),)

    def create(self, settings):
        return LeakySource(settings.secret("api_key"))


@entra_auth.hookimpl
def entra_auth_register_providers(register):
    register(LeakyProvider())
"""


def test_a_leaky_provider_fails_the_kit(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(tp_leaky=LEAKY)
    info = pytester.path / "tp_leaky-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tp-leaky\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[entra_auth]\nleaky = tp_leaky\n")
    pytester.syspathinsert()
    pytester.makepyfile(
        test_leaky=textwrap.dedent(
            """
            from entra_auth.testing import ProviderConformance

            class TestLeaky(ProviderConformance):
                provider_name = "Leaky_Provider"
                valid_options = {"api_key": "env:LEAKY_KEY"}
                secret_environment = {"LEAKY_KEY": "leaked-value-123"}
            """
        )
    )
    result = pytester.runpytest_inprocess("-q", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 4
    result.stdout.fnmatch_lines(
        [
            "*test_name_summary_and_auth_type*",
            "*test_options_are_declared_and_documented*",
            "*test_create_returns_a_token_source_that_keeps_secrets_out_of_reprs*",
            "*test_context_fields_use_powershell_names*",
        ]
    )
