"""Transient identity-endpoint answers (410, 429, 5xx) are retried with bounded backoff and
Retry-After honoured, checked through the emulator's fault injection and request log."""

from __future__ import annotations

import time
from typing import Any

import pytest
from mi_helpers import Identities, identity_requests, register_identities, use_host

import entra_auth
from entra_auth import AuthenticationError


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


def test_a_dropped_connection_is_reported_not_retried(
    emulator: Any, identities: Identities
) -> None:
    emulator.add_fault("imds", drop=True, count=1)

    with pytest.raises(entra_auth.IdentityEndpointUnavailable, match="the connection failed"):
        entra_auth.connect("managed-identity")


def test_app_service_retries_too(
    emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, "AppService")
    emulator.add_fault("appservice", status=429, retry_after=1, count=1)

    with entra_auth.connect("managed-identity"):
        pass

    assert _statuses(emulator, "AppService") == [429, 200]
