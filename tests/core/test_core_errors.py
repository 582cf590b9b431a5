"""Entra's error answers become one-line errors that keep the AADSTS code and add a hint."""

from __future__ import annotations

import pytest

from entra_auth import AuthenticationError, EntraAuthError, UsageError
from entra_auth.errors import AADSTS_HINTS

ENTRA_BODY = {
    "error": "invalid_client",
    "error_description": (
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
        "request is the client secret value, not the client secret ID.\r\nTrace ID: 1 "
        "Correlation ID: 2 Timestamp: 2026-11-28 01:02:03Z"
    ),
    "error_codes": [7000215],
    "correlation_id": "2",
}


def test_aadsts_code_hint_and_one_line() -> None:
    error = AuthenticationError.from_entra_response(ENTRA_BODY, authority="https://h/t")
    message = str(error)
    assert error.aadsts_code == 7000215
    assert message.startswith("sign-in refused by https://h/t: AADSTS7000215: Invalid client")
    assert "hint: the client secret is wrong or expired" in message
    assert "\n" not in message and "Trace ID" not in message
    assert error.exit_code == 1


def test_code_is_read_from_the_description_when_codes_are_missing() -> None:
    body = {"error": "invalid_request", "error_description": "AADSTS90002: Tenant 'x' not found."}
    error = AuthenticationError.from_entra_response(body, authority="a")
    assert error.aadsts_code == 90002
    assert "the tenant was not found" in str(error)


@pytest.mark.parametrize("code", [7000215, 700016, 90002, 700027, 700024, 70011])
def test_common_codes_have_hints(code: int) -> None:
    assert AADSTS_HINTS[code]


def test_usage_errors_exit_2() -> None:
    assert UsageError("x").exit_code == 2
    assert issubclass(AuthenticationError, EntraAuthError)
