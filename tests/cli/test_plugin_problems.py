"""Plugin problems are complete, named and reported once; plugin exceptions become PluginError.

Plugins are real distributions written to a folder on sys.path (found by importlib.metadata as
an installed wheel would be), and the CLI runs as a real subprocess where exit codes matter.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from plugin_helpers import install_distribution

import entra_auth
from entra_auth import PluginError
from entra_auth.plugins import build_host

RAISING_PROVIDER = """
import entra_auth
from entra_auth import CLIENT_ID, TENANT_ID, Option, Provider


class Raising(Provider):
    name = "raising"
    summary = "Raises from create."
    options = (CLIENT_ID, TENANT_ID, Option("token_file", "A file.", selects=True))

    def create(self, settings):
        return {}["token-file"]


@entra_auth.hookimpl
def entra_auth_register_providers(register):
    register(Raising())
"""

MISSPELLED_ARGUMENT = """
import entra_auth


@entra_auth.hookimpl
def entra_auth_register_certificate_stores(registr):
    pass
"""

MISSPELLED_NAME = """
import entra_auth


@entra_auth.hookimpl
def entra_auth_register_provider(register):
    pass
"""


def test_an_exception_in_create_is_a_plugin_error_naming_plugin_distribution_and_hook(
    site: Path,
) -> None:
    install_distribution(site, "entra-raising", "tp_raising", RAISING_PROVIDER)
    host = build_host()
    with pytest.raises(PluginError) as caught:
        entra_auth.connect(
            "raising",
            options={
                "client_id": "22222222-2222-2222-2222-222222222222",
                "tenant_id": "contoso.example",
                "token_file": "x",
            },
            plugins=host,
        )
    message = str(caught.value)
    assert "'entra-raising'" in message and "entra-raising 1.2.3" in message
    assert "failed in create" in message and "KeyError: 'token-file'" in message
    assert isinstance(caught.value.__cause__, KeyError)  # kept for --debug


def test_the_cli_exits_2_naming_the_plugin(site: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    install_distribution(site, "entra-raising", "tp_raising2", RAISING_PROVIDER)
    result = run_cli(
        "connect",
        "--token-file",
        "x",
        "--client-id",
        "22222222-2222-2222-2222-222222222222",
        "--tenant-id",
        "contoso.example",
        env={"PYTHONPATH": str(site)},
    )
    assert result.code == 2, result.output
    line = result.error_line()
    assert "entra-raising" in line and "failed in create" in line and "KeyError" in line
    assert "unexpected" not in line and "Traceback" not in result.stderr


def test_misspelled_hooks_and_arguments_are_reported_whole_and_once(site: Path) -> None:
    install_distribution(site, "entra-typo-arg", "tp_typo_arg", MISSPELLED_ARGUMENT)
    install_distribution(site, "entra-typo-name", "tp_typo_name", MISSPELLED_NAME)
    problems = build_host().problems()
    assert len(problems) == len(set(problems)) == 2
    # pluggy's whole validation message survives, on one line
    argument = next(p for p in problems if "entra-typo-arg" in p)
    assert "'registr'" in argument and "can not be found in the hookspec" in argument
    assert "\n" not in argument
    # a misspelled hook name is not silently ignored
    name = next(p for p in problems if "entra-typo-name" in p)
    assert "'entra_auth_register_provider'" in name
    assert "did you mean 'entra_auth_register_providers'" in name


def test_the_cli_prints_each_problem_once(site: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    install_distribution(site, "entra-typo", "tp_typo2", MISSPELLED_NAME)
    result = run_cli("plugins", env={"PYTHONPATH": str(site)})
    assert result.code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "entra-typo" in line]
    assert lines and len(lines) == len(set(lines))


def test_registration_hooks_go_through_pluggy_so_tracing_sees_them(site: Path) -> None:
    host = build_host()
    seen: list[str] = []
    host.manager.add_hookcall_monitoring(
        lambda name, impls, kwargs: seen.append(name), lambda *args: None
    )
    host.providers()
    host.certificate_stores()
    host.secret_schemes()
    assert "entra_auth_register_providers" in seen
    assert "entra_auth_register_certificate_stores" in seen
    assert "entra_auth_register_secret_schemes" in seen


def test_conflicting_declarations_name_both_plugins_and_do_not_crash(site: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    clash = """
import entra_auth
from entra_auth import Option, Provider


class Clash(Provider):
    name = "clash"
    summary = "Claims a flag another provider selects with, and redefines --client-id."
    options = (
        Option("client_id", "A number.", type="int"),
        Option("client_secret", "Mine now.", secret=True, selects=True),
    )

    def create(self, settings):
        raise NotImplementedError


@entra_auth.hookimpl
def entra_auth_register_providers(register):
    register(Clash())
"""
    install_distribution(site, "entra-clash", "tp_clash", clash)
    problems = build_host().problems()
    for flag in ("--client-id", "--client-secret"):
        line = next(p for p in problems if p.startswith(f"option {flag} "))
        assert "'clash'" in line and "entra-clash" in line and "entra-auth-" in line
    result = run_cli("connect", "--help", env={"PYTHONPATH": str(site)})
    assert result.code == 0 and "--client-secret" in result.stdout
    listed = run_cli("plugins", "--output", "json", env={"PYTHONPATH": str(site)}).json()
    assert any("entra-clash" in p for p in listed["problems"])
