"""Every check of the conformance kits can fail: each kit is fed broken plugins (installed as
distributions on sys.path, found through their entry points, or registered in-process where
the entry-point check is the one under test) in a pytester run, and each named check must come
out *failed*: not passed, not an error in a fixture, not skipped."""

from __future__ import annotations

import importlib
import pkgutil
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

import entra_auth
import entra_auth_emulator

pytest_plugins = ["pytester"]


def _import_all(package: ModuleType) -> None:
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)


# pytester's in-process runs unload every module first imported inside them, so a class imported
# in one run would not be the class of the next (isinstance fails, cryptography's Rust core
# refuses its own hash classes): what the kits use is imported here, once, for all runs.
_import_all(entra_auth)
_import_all(entra_auth_emulator)

# -- broken plugins --------------------------------------------------------------------------

BROKEN_PROVIDERS = '''
import base64
import json
import logging
import os
import socket
import time

import entra_auth
from entra_auth import (
    CLIENT_ID,
    TENANT_ID,
    AuthenticationError,
    ConfidentialClientSource,
    DemoStep,
    Option,
    Provider,
    TokenResult,
    hookimpl,
)

log = logging.getLogger("tp_broken_providers")


def _call_home(value):
    """'Validates' the region by calling a service: a connection before the options are
    checked."""
    host, _, port = os.environ["TP_LEAKY_PING"].rpartition(":")
    socket.create_connection((host, int(port)), timeout=2).close()
    return value


class LeakySource:
    def __init__(self, inner, secret):
        self.inner = inner
        self.secret = secret

    def acquire(self, scopes, *, claims=None, tenant_id=None):
        log.debug("acquiring a token with secret %s", self.secret)
        try:  # "telemetry" to a public address
            socket.create_connection(("192.0.2.10", 443), timeout=0.5).close()
        except OSError:
            pass
        try:
            return self.inner.acquire(scopes, claims=claims, tenant_id=tenant_id)
        except entra_auth.EntraAuthError as exc:
            raise AuthenticationError(f"secret {self.secret} was refused: {exc}") from None

    def context(self):
        return {"ClientId": "someone-else", "secret_used": self.secret}

    def close(self):
        self.inner.close()

    def __repr__(self):
        return f"LeakySource(secret={self.secret!r})"


class LeakyProvider(Provider):
    name = "tp-leaky"
    summary = "Signs in for real, and leaks its secret everywhere."
    options = (
        Option("region", "Region, checked by calling home.", check=_call_home),
        CLIENT_ID,
        TENANT_ID,
        Option("api_secret", "Reference to the client secret.", required=True, secret=True),
    )

    def create(self, settings):
        secret = settings.secret("api_secret")
        inner = ConfidentialClientSource(
            settings,
            client_id=settings.require("client_id"),
            tenant_id=settings.require("tenant_id"),
            client_credential=secret,
        )
        return LeakySource(inner, secret)

    def demo_steps(self):
        return (DemoStep("a leaky sign-in", _leaky_demo),)


def _leaky_demo(lab):
    secret = lab.new_secret()
    app = lab.register_app(secrets=[secret])
    lab.set_env("TP_LEAKY_SECRET", secret)
    lab.set_env("TP_LEAKY_PING", lab.emulator.authority_host.removeprefix("https://"))
    return {
        "region": "westeurope",
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "api_secret": "env:TP_LEAKY_SECRET",
    }


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class OfflineSource:
    """Makes a token up instead of asking the identity service."""

    def __init__(self, client_id, tenant_id):
        self.claims = {
            "appid": client_id,
            "tid": tenant_id,
            "roles": ["User.Read.All"],
            "app_displayname": "Made Up",
            "exp": int(time.time()) + 3600,
        }

    def acquire(self, scopes, *, claims=None, tenant_id=None):
        token = f"{_b64({'alg': 'none'})}.{_b64(self.claims)}.c2lnbmF0dXJl"
        return TokenResult(token, self.claims["exp"])

    def context(self):
        return {}

    def close(self):
        pass


class OfflineProvider(Provider):
    name = "tp-offline"
    summary = "Never asks the identity service."
    options = (CLIENT_ID, TENANT_ID)

    def create(self, settings):
        return OfflineSource(settings.require("client_id"), settings.require("tenant_id"))

    def demo_steps(self):
        return (DemoStep("a made-up token", _offline_demo),)


def _offline_demo(lab):
    app = lab.register_app(secrets=[lab.new_secret()])
    return {"client_id": app.client_id, "tenant_id": app.tenant_id}


@hookimpl
def entra_auth_register_providers(register):
    register(LeakyProvider())
    register(OfflineProvider())
'''

BROKEN_SCHEME = """
import os
from dataclasses import dataclass, field
from pathlib import Path

from entra_auth import SecretReferenceError, SecretScheme, hookimpl


@dataclass(frozen=True)
class CachingScheme(SecretScheme):
    cache: dict = field(default_factory=dict)


def _resolve(reference):
    folder = Path(os.environ["TP_VAULT_DIR"])
    path = folder / reference.partition(":")[2]
    if not path.exists():
        held = {p.name: p.read_text() for p in folder.iterdir()}
        raise SecretReferenceError(f"no secret {reference}; the vault holds {held}")
    raw = path.read_text()
    SCHEME.cache[path.name] = raw
    return raw  # the trailing newline is kept


SCHEME = CachingScheme("tpvault", "", _resolve, "tpvault:NAME")


@hookimpl
def entra_auth_register_secret_schemes(register):
    register(SCHEME)
"""

BROKEN_STORE = """
import os
from pathlib import Path
from types import SimpleNamespace

from cryptography import x509

from entra_auth import hookimpl, load_certificate_file


class BadStore:
    name = "tp-bad store\\nsecond line"

    def candidates(self):
        files = sorted(Path(os.environ["TP_BAD_STORE_DIR"]).glob("*.pem"))
        for index, path in enumerate(files):
            other = files[(index + 1) % len(files)]  # loads the wrong file
            yield SimpleNamespace(
                location=str(path),
                certificate=x509.load_pem_x509_certificate(path.read_bytes()),
                load=lambda other=other: load_certificate_file(other),
                problem=None,
            )


@hookimpl
def entra_auth_register_certificate_stores(register):
    register(BadStore())
"""

# Well-behaved plugins registered in-process only: the entry-point checks must fail them.
IN_PROCESS = """
import os
from pathlib import Path

from entra_auth import FolderStore, Option, Provider, SecretScheme, hookimpl


class SloppyProvider(Provider):
    name = "Sloppy_Provider"
    summary = ""
    auth_type = "Application"
    options = (
        Option("APIKey", ""),
        Option("api_key", "An API key, taken as a value."),
        Option("vault_url", "Vault URL.", flag="vault-url", env="vault_url"),
        Option("vault_url", "Vault URL again."),
        Option("client_object", "A client object.", type="object", selects=True),
        Option("mode", "A mode.", type="text"),
    )

    def create(self, settings):
        raise NotImplementedError


class MemoryStore:
    name = "tp-memory store"

    def candidates(self):
        folder = os.environ.get("TP_MEMORY_STORE_DIR")
        return FolderStore(Path(folder), self.name).candidates() if folder else []


@hookimpl
def entra_auth_register_providers(register):
    register(SloppyProvider())


@hookimpl
def entra_auth_register_secret_schemes(register):
    register(SecretScheme("tpmem", "An environment variable, in memory.",
                          lambda ref: os.environ[ref.partition(":")[2]], "tpmem:NAME"))


@hookimpl
def entra_auth_register_certificate_stores(register):
    register(MemoryStore())
"""

IN_PROCESS_HOST = """
def plugin_host(self):
    import tp_in_process
    from entra_auth.plugins import build_host

    return build_host([("tp-in-process", tp_in_process)])
"""


def install(site: Path, dist: str, module: str, source: str) -> None:
    """A module and its .dist-info (METADATA + entry_points.txt), as pip would leave them."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[entra_auth]\n{dist} = {module}\n")


def run_kit(pytester: pytest.Pytester, tests: str) -> dict[str, str]:
    """Run ``tests`` against the broken plugins; the outcome of each test by class::name
    (``error`` when a fixture failed)."""
    install(pytester.path, "tp-broken-providers", "tp_broken_providers", BROKEN_PROVIDERS)
    install(pytester.path, "tp-bad-scheme", "tp_bad_scheme", BROKEN_SCHEME)
    install(pytester.path, "tp-bad-store", "tp_bad_store", BROKEN_STORE)
    (pytester.path / "tp_in_process.py").write_text(textwrap.dedent(IN_PROCESS))
    pytester.syspathinsert()
    pytester.makepyfile(test_kit=textwrap.dedent(tests))
    result = pytester.runpytest_inprocess("-rs", "-p", "no:randomly", "-p", "no:cacheprovider")
    outcomes: dict[str, str] = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):  # type: ignore[attr-defined]
        name = report.nodeid.split("::", 1)[1]
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = report.outcome
            if report.when == "setup" and report.failed:
                outcome = "error"
            outcomes[name] = outcome
    assert outcomes, result.stdout.str()
    return outcomes


def expect(outcomes: dict[str, str], cls: str, wanted: str, tests: list[str]) -> None:
    wrong = {t: outcomes.get(f"{cls}::{t}", "not run") for t in tests}
    wrong = {t: o for t, o in wrong.items() if o != wanted}
    assert not wrong, f"{cls}: expected {wanted} for {sorted(wrong)}, got {wrong}"


# -- the provider kit ------------------------------------------------------------------------

PROVIDER_TESTS = f"""
from entra_auth.testing import ProviderConformance


class TestLeaky(ProviderConformance):
    provider_name = "tp-leaky"


class TestOffline(ProviderConformance):
    provider_name = "tp-offline"


class TestSloppy(ProviderConformance):
    provider_name = "Sloppy_Provider"
{textwrap.indent(IN_PROCESS_HOST, "    ")}
"""


def test_the_provider_kit_fails_broken_providers(pytester: pytest.Pytester) -> None:
    outcomes = run_kit(pytester, PROVIDER_TESTS)
    expect(
        outcomes,
        "TestLeaky",
        "failed",
        [
            "test_missing_required_options_are_refused_before_any_request",
            "test_literal_secrets_are_refused_without_echo_before_any_request",
            "test_context_is_filled_from_the_token",
            "test_no_secret_or_token_in_reprs_or_logs",
            "test_refusal_is_an_error_without_secrets",
            "test_contacts_only_loopback",
        ],
    )
    # It is registered and declared well, and it does get a real token.
    expect(
        outcomes,
        "TestLeaky",
        "passed",
        [
            "test_registered_through_an_entry_point",
            "test_name_summary_and_auth_type",
            "test_options_are_declared_well",
            "test_signs_in_with_a_token_from_the_emulator",
        ],
    )
    expect(
        outcomes,
        "TestOffline",
        "failed",
        [
            "test_signs_in_with_a_token_from_the_emulator",
            "test_context_is_filled_from_the_token",
            "test_refusal_is_an_error_without_secrets",
            "test_contacts_only_loopback",
        ],
    )
    expect(
        outcomes,
        "TestSloppy",
        "failed",
        [
            "test_registered_through_an_entry_point",
            "test_name_summary_and_auth_type",
            "test_options_are_declared_well",
        ],
    )
    # Without a demo step or sign_in_options, the behavioural checks are skipped, not passed.
    expect(
        outcomes,
        "TestSloppy",
        "skipped",
        [
            "test_missing_required_options_are_refused_before_any_request",
            "test_literal_secrets_are_refused_without_echo_before_any_request",
            "test_signs_in_with_a_token_from_the_emulator",
            "test_context_is_filled_from_the_token",
            "test_no_secret_or_token_in_reprs_or_logs",
            "test_refusal_is_an_error_without_secrets",
            "test_contacts_only_loopback",
        ],
    )


# -- the secret scheme kit -------------------------------------------------------------------

SCHEME_TESTS = f"""
from entra_auth.testing import SecretSchemeConformance


class TestBadScheme(SecretSchemeConformance):
    scheme = "tpvault"

    def stored_secret(self, tmp_path, monkeypatch):
        monkeypatch.setenv("TP_VAULT_DIR", str(tmp_path))
        (tmp_path / "app").write_text("vault-value-8c1e2f\\n")
        return "tpvault:app", "vault-value-8c1e2f"

    def missing_reference(self):
        return "tpvault:no-such-secret"


class TestInProcessScheme(SecretSchemeConformance):
    scheme = "tpmem"
{textwrap.indent(IN_PROCESS_HOST, "    ")}
    def stored_secret(self, tmp_path, monkeypatch):
        monkeypatch.setenv("TP_MEM_SECRET", "memory-value-5d7a")
        return "tpmem:TP_MEM_SECRET", "memory-value-5d7a"

    def missing_reference(self):
        return "tpmem:TP_MEM_NOT_SET"
"""


def test_the_scheme_kit_fails_broken_schemes(pytester: pytest.Pytester) -> None:
    outcomes = run_kit(pytester, SCHEME_TESTS)
    expect(
        outcomes,
        "TestBadScheme",
        "failed",
        [
            "test_name_summary_and_form",
            "test_resolves_a_stored_secret",
            "test_missing_secret_is_refused_by_reference_without_values",
            "test_repr_shows_no_value",
        ],
    )
    expect(outcomes, "TestBadScheme", "passed", ["test_registered_through_an_entry_point"])
    # A KeyError for a missing variable is not a SecretReferenceError naming the reference.
    expect(
        outcomes,
        "TestInProcessScheme",
        "failed",
        [
            "test_registered_through_an_entry_point",
            "test_missing_secret_is_refused_by_reference_without_values",
        ],
    )
    expect(
        outcomes,
        "TestInProcessScheme",
        "passed",
        ["test_name_summary_and_form", "test_resolves_a_stored_secret", "test_repr_shows_no_value"],
    )


# -- the certificate store kit ---------------------------------------------------------------

STORE_TESTS = f"""
from entra_auth_emulator.pki import make_leaf_cert
from entra_auth.testing import CertificateStoreConformance


class TestBadStore(CertificateStoreConformance):
    store_name = "tp-bad store"

    def store_certificate(self, tmp_path, monkeypatch):
        monkeypatch.setenv("TP_BAD_STORE_DIR", str(tmp_path))
        cert = make_leaf_cert("CN=tp-bad-store-wanted")
        cert.write_pem(tmp_path / "a-wanted.pem")
        make_leaf_cert("CN=tp-bad-store-decoy").write_pem(tmp_path / "b-decoy.pem")
        return cert.thumbprint, "CN=tp-bad-store-wanted"


class TestInProcessStore(CertificateStoreConformance):
    store_name = "tp-memory store"
{textwrap.indent(IN_PROCESS_HOST, "    ")}
    def store_certificate(self, tmp_path, monkeypatch):
        monkeypatch.setenv("TP_MEMORY_STORE_DIR", str(tmp_path))
        cert = make_leaf_cert("CN=tp-memory-store")
        cert.write_pem(tmp_path / "memory.pem")
        return cert.thumbprint, "CN=tp-memory-store"
"""


def test_the_store_kit_fails_broken_stores(pytester: pytest.Pytester) -> None:
    outcomes = run_kit(pytester, STORE_TESTS)
    expect(
        outcomes,
        "TestBadStore",
        "failed",
        [
            "test_name_is_one_line",
            "test_candidates_are_stored_certificates_that_load",
            "test_found_by_thumbprint",
            "test_found_by_subject",
            "test_signs_in_through_cert_thumbprint",
        ],
    )
    expect(outcomes, "TestBadStore", "passed", ["test_registered_through_an_entry_point"])
    expect(outcomes, "TestInProcessStore", "failed", ["test_registered_through_an_entry_point"])
    expect(
        outcomes,
        "TestInProcessStore",
        "passed",
        [
            "test_name_is_one_line",
            "test_candidates_are_stored_certificates_that_load",
            "test_found_by_thumbprint",
            "test_found_by_subject",
            "test_signs_in_through_cert_thumbprint",
        ],
    )
