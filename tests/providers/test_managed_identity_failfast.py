"""Off Azure, or with a dead identity endpoint, connecting fails fast with one line that names the
endpoint tried and the likely cause: within 3 s when the port refuses connections, within 10 s
when something listens but never answers. Timings are asserted loosely here and measured in
benchmarks/managed_identity_failfast.py."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from mi_helpers import full_backlog_listener, not_on_an_arc_machine, silent_listener

import entra_auth
from entra_auth import IdentityEndpointUnavailable

IMDS_PATH = "/metadata/identity/oauth2/token"
pytestmark = not_on_an_arc_machine


def _connect_and_time() -> tuple[IdentityEndpointUnavailable, float]:
    started = time.monotonic()
    with pytest.raises(IdentityEndpointUnavailable) as caught:
        entra_auth.connect("managed-identity")
    return caught.value, time.monotonic() - started


def test_refused_port_fails_within_3_seconds_naming_endpoint_and_cause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The root conftest already points AZURE_POD_IDENTITY_AUTHORITY_HOST at a closed port.
    import os

    endpoint = os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] + IMDS_PATH

    error, elapsed = _connect_and_time()

    message = str(error)
    assert elapsed < 3
    assert "\n" not in message
    assert error.exit_code == 1
    assert message.startswith(f"no managed identity endpoint answered at {endpoint}")
    assert "connection refused" in message
    assert "probably not an Azure VM" in message


@pytest.mark.parametrize("accept", [False, True], ids=["never-accepts", "accepts-never-replies"])
def test_listener_that_never_answers_fails_within_10_seconds(
    accept: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    with silent_listener(accept=accept) as url:
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", url)
        error, elapsed = _connect_and_time()

    assert elapsed < 10
    assert f"at {url}{IMDS_PATH} (connected, but no answer within 6 s)" in str(error)


def test_listener_with_a_full_backlog_fails_on_the_connect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with full_backlog_listener() as url:
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", url)
        error, elapsed = _connect_and_time()

    assert elapsed < 10
    assert f"at {url}{IMDS_PATH} (no connection within 2 s)" in str(error)


def test_dead_app_service_endpoint_names_the_variables_that_chose_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    dead = os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] + "/msi/token"
    monkeypatch.setenv("IDENTITY_ENDPOINT", dead)
    monkeypatch.setenv("IDENTITY_HEADER", "x")

    error, elapsed = _connect_and_time()

    assert elapsed < 3
    assert f"at {dead} (connection refused)" in str(error)
    assert "IDENTITY_ENDPOINT and IDENTITY_HEADER say this is App Service" in str(error)


def test_silent_service_fabric_endpoint_is_bounded_too(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """msal's own Service Fabric session has no timeouts; ours has, down to the socket (the
    TLS handshake is what never completes here)."""
    with silent_listener(accept=True) as url:
        endpoint = url.replace("http:", "https:") + "/token"
        monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint)
        monkeypatch.setenv("IDENTITY_HEADER", "x")
        monkeypatch.setenv("IDENTITY_SERVER_THUMBPRINT", "ab" * 20)
        error, elapsed = _connect_and_time()

    assert elapsed < 10
    # The handshake stalls, so the connect timeout (2 s) is what ends it; the line says so.
    assert f"at {endpoint} (connected, but no answer within 2 s)" in str(error)
    assert "say this is a Service Fabric application" in str(error)
    assert not [t for t in threading.enumerate() if t.name.startswith("entra-auth-managed")]
