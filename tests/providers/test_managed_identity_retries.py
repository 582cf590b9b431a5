"""Transient identity-endpoint answers (410, 429, 5xx) are retried with bounded backoff and
Retry-After honoured, checked through the emulator's fault injection and request log: through its
Python API in-process, and through ``POST /_emulator/faults`` for the CLI as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest
from mi_helpers import (
    ENDPOINT_NAMES,
    HOSTS,
    Identities,
    identity_requests,
    logged_requests,
    not_on_an_arc_machine,
    post_fault,
    register_identities,
    use_host,
)

import entra_auth
from entra_auth import AuthenticationError

pytestmark = not_on_an_arc_machine


@pytest.fixture
def identities(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Identities:
    emulator.reset()
    found = register_identities(emulator)
    use_host(monkeypatch, emulator, "IMDS")
    yield found
    emulator.reset()


def _statuses(emulator: Any, host: str = "IMDS") -> list[int]:
    return [r["status"] for r in identity_requests(emulator, host)]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(status: int, emulator: Any, identities: Identities) -> None:
    emulator.add_fault("imds", status=status, retry_after=1, count=2)

    started = time.monotonic()
    with entra_auth.connect("managed-identity") as credential:
        elapsed = time.monotonic() - started
        assert credential.context.client_id == identities.system_client_id

    assert _statuses(emulator) == [status, status, 200]
    assert 2.0 <= elapsed < 5.0  # two waits of the asked 1 s, no more


@pytest.mark.parametrize("status", [410, 500, 502, 504])
def test_transient_answers_without_retry_after_back_off_briefly(
    status: int, emulator: Any, identities: Identities
) -> None:
    emulator.add_fault("imds", status=status, count=1)

    started = time.monotonic()
    with entra_auth.connect("managed-identity"):
        elapsed = time.monotonic() - started

    assert _statuses(emulator) == [status, 200]
    assert 0.4 <= elapsed < 3.0


def test_retries_are_bounded_and_the_error_says_how_many(
    emulator: Any, identities: Identities
) -> None:
    emulator.add_fault("imds", status=503, count=10)

    with pytest.raises(AuthenticationError) as caught:
        entra_auth.connect("managed-identity")

    assert _statuses(emulator) == [503] * 4
    assert "HTTP 503 after 4 attempts" in str(caught.value)
    assert "try again in a minute" in str(caught.value)


def test_a_retry_after_beyond_the_cap_ends_retries_at_once(
    emulator: Any, identities: Identities
) -> None:
    emulator.add_fault("imds", status=429, retry_after=3600, count=1)

    started = time.monotonic()
    with pytest.raises(AuthenticationError, match="HTTP 429"):
        entra_auth.connect("managed-identity")

    assert time.monotonic() - started < 2
    assert _statuses(emulator) == [429]


def test_a_refusal_is_not_retried(emulator: Any, identities: Identities) -> None:
    with pytest.raises(AuthenticationError):
        entra_auth.connect("managed-identity", object_id="00000000-0000-0000-0000-000000000042")

    assert _statuses(emulator) == [400]


def test_a_connection_dropped_every_time_is_reported_after_bounded_retries(
    emulator: Any, identities: Identities
) -> None:
    emulator.add_fault("imds", drop=True, count=10)

    started = time.monotonic()
    with pytest.raises(entra_auth.IdentityEndpointUnavailable, match="the connection failed"):
        entra_auth.connect("managed-identity")

    assert len(identity_requests(emulator, "IMDS")) == 4  # the first try and three retries
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("host", HOSTS)
def test_every_host_retries_a_429_through_the_http_fault_endpoint(
    host: str, emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, host)
    post_fault(emulator, endpoint=ENDPOINT_NAMES[host], status=429, retry_after=1, count=1)

    started = time.monotonic()
    with entra_auth.connect("managed-identity") as credential:
        elapsed = time.monotonic() - started
        assert credential.context.client_id == identities.system_client_id

    # Arc's retry starts the challenge handshake over: 429, then 401 with a key file, then 200.
    expected = [429, 401, 200] if host == "AzureArc" else [429, 200]
    assert _statuses(emulator, host) == expected
    assert 1.0 <= elapsed < 4.0


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entra_auth_cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # AZURE_POD_IDENTITY_AUTHORITY_HOST: the emulator's IMDS
        timeout=60,
    )


def _logged_imds_statuses(emulator: Any) -> list[int]:
    return [r["status"] for r in logged_requests(emulator) if r.get("endpoint") == "imds"]


def test_cli_waits_what_retry_after_asks_then_connects(
    emulator: Any, identities: Identities
) -> None:
    """Another process queues the faults over HTTP; the CLI process obeys Retry-After."""
    post_fault(emulator, endpoint="imds", status=429, retry_after=1, count=1)
    post_fault(emulator, endpoint="imds", status=503, retry_after=1, count=1)

    started = time.monotonic()
    result = _cli("connect", "--identity", "--no-welcome")
    elapsed = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    assert _logged_imds_statuses(emulator) == [429, 503, 200]
    assert elapsed >= 2.0  # two asked waits; the upper bound is start-up noise, kept loose
    assert elapsed < 10


def test_cli_gives_up_after_bounded_retries_with_one_line(
    emulator: Any, identities: Identities
) -> None:
    post_fault(emulator, endpoint="imds", status=503, retry_after=0, count=10)

    result = _cli("connect", "--identity")

    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "HTTP 503 after 4 attempts" in line
    assert emulator.imds_endpoint in line
    assert _logged_imds_statuses(emulator) == [503] * 4


@pytest.mark.parametrize("host", ["IMDS", "AppService"])
def test_a_dropped_connection_is_retried_like_the_azure_sdk(
    host: str, emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, host)
    emulator.add_fault(ENDPOINT_NAMES[host], drop=True, count=1)
    with entra_auth.connect("managed-identity") as credential:
        assert credential.context.client_id == identities.system_client_id
    # the dropped attempt, then the answer
    assert len(identity_requests(emulator, host)) == 2
    assert _statuses(emulator, host)[-1] == 200


def test_a_408_is_retried(emulator: Any, identities: Identities) -> None:
    emulator.add_fault("imds", status=408, count=1)
    with entra_auth.connect("managed-identity") as credential:
        assert credential.context.client_id == identities.system_client_id
    assert _statuses(emulator) == [408, 200]
