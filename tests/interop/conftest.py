"""Fixtures for the interop tests: the emulator, a local HTTPS resource stand-in trusted next
to the emulator's CA, and a signed-in credential for a fresh app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from resource_server import ResourceServer

import entra_auth


@pytest.fixture(scope="session")
def resource_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ResourceServer]:
    server = ResourceServer(tmp_path_factory.mktemp("resource-server")).start()
    yield server
    server.stop()


@pytest.fixture
def resource(resource_server: ResourceServer) -> ResourceServer:
    resource_server.reset()
    return resource_server


@pytest.fixture
def trust_bundle(emulator, resource_server: ResourceServer, tmp_path: Path) -> Path:
    """One CA file trusting both the emulator and the resource stand-in."""
    bundle = tmp_path / "trusted.pem"
    bundle.write_bytes(Path(emulator.ca_bundle).read_bytes() + resource_server.ca_file.read_bytes())
    return bundle


@pytest.fixture
def interop_env(emulator_env, trust_bundle: Path, monkeypatch: pytest.MonkeyPatch):
    """The emulator as authority; requests (and so sync SDK clients) trust both servers."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(trust_bundle))
    return emulator_env


@pytest.fixture
def cred(interop_env, secret_app, monkeypatch: pytest.MonkeyPatch):
    """A connected client-secret credential for a fresh emulator app."""
    monkeypatch.setenv("APP_SECRET", secret_app.secret)
    credential = entra_auth.connect(
        "client-secret",
        client_id=secret_app.client_id,
        tenant_id=secret_app.tenant_id,
        client_secret="env:APP_SECRET",
        fetch_token=False,
    )
    yield credential
    credential.close()


@pytest.fixture(autouse=True, scope="session")
def known_resources(emulator, resource_server: ResourceServer) -> None:  # type: ignore[no-untyped-def]
    """The custom API and the local stand-in (whose Key Vault challenge names its own URL),
    registered as Entra would need them: an unknown resource is refused with AADSTS500011."""
    emulator.register_resource("api://contoso-api", display_name="Contoso API")
    emulator.register_resource(resource_server.url, display_name="Local resource stand-in")
