"""Turning what each host answered into one line that says what went wrong and what to do.

Every host has its own error shape (IMDS and Arc: OAuth ``error``/``error_description``; App
Service: ``statusCode``/``message``; Service Fabric: ``error.code``/``error.message``), and msal
passes most of them through as a text blob. Users should not have to read JSON to learn that the
identity they named is not assigned to this machine.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from entra_auth import AuthenticationError, IdentityEndpointUnavailable

from .hosts import APP_SERVICE, MACHINE_LEARNING, SERVICE_FABRIC, Host
from .identity import Identity
from .transport import IdentitySession

_NOT_FOUND_MARKERS = (
    "identity not found",
    "unable to load the proper managed identity",
    "managedidentitynotfound",
    "no managed identity",
    "not found for the specified",
)


def unreachable(host: Host, exc: BaseException, session: IdentitySession) -> AuthenticationError:
    """The endpoint refused, timed out or dropped the connection."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        why = f"no connection within {session.timeout[0]:g} s"
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        waited = session.failed_after if session.failed_after is not None else session.timeout[1]
        why = f"connected, but no answer within {waited:.0f} s"
    elif isinstance(exc, requests.exceptions.SSLError):
        if host.server_thumbprint and "fingerprint" in str(exc).lower():
            # Something did answer: with a certificate other than the pinned one.
            return IdentityEndpointUnavailable(
                f"the {host.source} identity endpoint {host.endpoint} presented a certificate "
                f"whose SHA-1 thumbprint is not IDENTITY_SERVER_THUMBPRINT "
                f"({host.server_thumbprint}); nothing was sent to it. Another service may be "
                "listening there, or the variables are stale after a certificate rollover",
                error="identity_endpoint_untrusted",
            )
        why = "the TLS handshake failed"
    elif _refused(exc):
        why = "connection refused"
    else:
        why = "the connection failed"
    return IdentityEndpointUnavailable(
        f"no managed identity endpoint answered at {host.endpoint} ({why}); {host.likely_cause()}",
        error="identity_endpoint_unavailable",
    )


def _refused(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or "refused" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__ or _reason(current)
    return False


def _reason(exc: BaseException) -> BaseException | None:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return reason
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], BaseException) else None


_SECRET_VARIABLES = {
    APP_SERVICE: "IDENTITY_HEADER",
    SERVICE_FABRIC: "IDENTITY_HEADER",
    MACHINE_LEARNING: "MSI_SECRET",
}


def refused(
    host: Host, identity: Identity, result: dict[str, Any], session: IdentitySession
) -> AuthenticationError:
    """The endpoint answered, but not with a token."""
    response = session.last_response
    status = response.status_code if response is not None else None
    detail = _detail(result, response)
    where = f"{host.source} identity endpoint {host.endpoint}"
    if status is not None:
        where += f" answered HTTP {status}"
        if session.attempts > 1:
            where += f" after {session.attempts} attempts"
    message = f"managed identity sign-in refused: {where}: {detail}"
    lowered = detail.lower()
    if any(marker in lowered for marker in _NOT_FOUND_MARKERS):
        message += f" (hint: {identity.not_found_hint(host)})"
    elif status in (429,) or (status is not None and status >= 500):
        message += " (hint: the endpoint is busy or failing; try again in a minute)"
    elif status in (401, 403) and host.source in _SECRET_VARIABLES:
        message += (
            f" (hint: the endpoint did not accept {_SECRET_VARIABLES[host.source]}; the host "
            "sets it per process and changes it on restart, so take it from the current "
            "environment)"
        )
    return AuthenticationError(message, error=_error_code(result))


def _error_code(result: dict[str, Any]) -> str:
    error = result.get("error")
    if isinstance(error, dict):  # Service Fabric nests {"code", "message"}
        error = error.get("code")
    return str(error or "managed_identity_error")


def _detail(result: dict[str, Any], response: requests.Response | None) -> str:
    """The most specific human text in the answer, from the raw body when msal blurred it."""
    body: Any = None
    if response is not None:
        try:
            body = json.loads(response.text)
        except ValueError:
            body = None
    for candidate in (body, result):
        text = _text_of(candidate)
        if text:
            return text
    if response is not None and response.text.strip():
        return " ".join(response.text.split())[:200]
    return str(result.get("error") or "no token in the answer")


def _text_of(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict):  # Service Fabric
        code, message = error.get("code"), error.get("message")
        return ": ".join(str(x) for x in (code, message) if x) or None
    if payload.get("message"):  # App Service
        return str(payload["message"])
    description = payload.get("error_description")
    if description:
        text = str(description).splitlines()[0].strip()
        return f"{error}: {text}" if error and not text.startswith(str(error)) else text
    return str(error) if error else None


def malformed(host: Host, session: IdentitySession) -> AuthenticationError:
    """The endpoint answered something that is not JSON (a proxy page, a captive portal)."""
    response = session.last_response
    status = f"HTTP {response.status_code} " if response is not None else ""
    return AuthenticationError(
        f"the {host.source} identity endpoint {host.endpoint} answered {status}with something "
        "that is not a token (not JSON); is another service listening at that address?",
        error="invalid_response",
    )


def arc_challenge_file(host: Host, exc: OSError) -> AuthenticationError:
    """msal could not read the key file the Arc agent named; the two usual reasons differ."""
    if isinstance(exc, PermissionError):
        why = (
            "permission denied (only root and members of the himds group may read it: run as "
            "one of them, e.g. sudo usermod -aG himds $USER)"
        )
    elif isinstance(exc, FileNotFoundError):
        why = (
            f"no such file here (is {host.endpoint} this machine's own Arc agent? the key file "
            "must be in the agent's token folder on this machine)"
        )
    else:
        why = exc.strerror or str(exc)
    return AuthenticationError(
        f"cannot read the Azure Arc challenge file {exc.filename}: {why}",
        error="arc_challenge_file",
    )
