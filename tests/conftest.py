"""Workspace-wide fixtures: one embedded emulator for the whole run, a fresh app per test, and
an isolated home so no test reads or writes the user's real config, state or certificates, or
reaches a real identity endpoint.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Variables that would point entra-auth, msal or azure-identity at real services or files.
_SCRUBBED = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    "AZURE_AUTHORITY_HOST",
    "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "ENTRA_AUTH_CONFIG",
    "ENTRA_AUTH_PROFILE",
    "ENTRA_AUTH_CERT_PATH",
    "ENTRA_AUTH_DISABLE_PLUGINS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


def closed_loopback_port() -> int:
    """A loopback port with nothing listening: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own home and XDG folders, and IMDS points at a closed loopback port
    (never 169.254.169.254)."""
    home = tmp_path / "home"
    home.mkdir()
    for name in _SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST", f"http://127.0.0.1:{closed_loopback_port()}"
    )
    from entra_auth import plugins

    plugins.set_host(None)  # entry points and ENTRA_AUTH_DISABLE_PLUGINS are read afresh
    return home


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One embedded emulator for the whole test run (apps are registered per test)."""
    from entra_auth_emulator import Emulator

    with Emulator(state_dir=tmp_path_factory.mktemp("emulator-state")) as running:
        yield running


@dataclass
class SecretApp:
    """An app registered in the emulator that signs in with a client secret."""

    tenant_id: str
    client_id: str
    secret: str
    display_name: str
    roles: list[str] = field(default_factory=list)


@pytest.fixture
def secret_app(emulator) -> SecretApp:  # type: ignore[no-untyped-def]
    """A fresh tenant and app with a random secret and two Graph roles."""
    app = SecretApp(
        tenant_id=str(uuid.uuid4()),
        client_id=str(uuid.uuid4()),
        secret=secrets.token_urlsafe(24),
        display_name=f"Contoso Automation {secrets.token_hex(3)}",
        roles=["Group.Read.All", "User.Read.All"],
    )
    emulator.register_app(
        tenant_id=app.tenant_id,
        client_id=app.client_id,
        display_name=app.display_name,
        roles=app.roles,
        secrets=[app.secret],
    )
    return app


@pytest.fixture
def emulator_env(emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Point this process and its children at the emulator: authority, CA and IMDS.

    Returns the full environment for ``subprocess`` calls of the CLI."""
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", emulator.authority_host)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(emulator.ca_bundle))
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", emulator.imds_endpoint)
    return dict(os.environ)


@pytest.fixture
def cli_command() -> list[str]:
    """How tests run the CLI as a real subprocess: the installed console script's module."""
    return [sys.executable, "-m", "entra_auth_cli"]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for throwaway plugin distributions (see plugin_helpers); their
    ``tp_*`` modules are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in list(sys.modules):
        if name.startswith("tp_"):
            del sys.modules[name]
