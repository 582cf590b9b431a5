"""Errors the emulator raises and the Entra ID JSON shape it answers them with.

Clients (msal, azure-identity, our own core) parse Entra's error body, so refusals mimic it
field for field: ``error``, ``error_description`` starting ``AADSTS<code>:`` and ending with the
trace/correlation/timestamp lines, ``error_codes``, ``timestamp``, ``trace_id``,
``correlation_id`` and ``error_uri``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class ConfigError(Exception):
    """A configuration the emulator cannot start with.

    The message is one line and names the file (and line, when TOML parsing knows it), because
    the CLI prints it as-is and exits with code 2.
    """


class EmulatorError(Exception):
    """The emulator could not start for a reason other than its configuration (port in use)."""


def entra_timestamp(now: datetime | None = None) -> str:
    """Entra's timestamp format in error bodies: ``2016-01-09 02:02:12Z``."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass
class EntraError(Exception):
    """A refusal in Entra's shape; raised by handlers, turned into a response by the server."""

    status: int
    error: str
    code: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    # Request-log fields known when the refusal happened (client_id, grant_type, ...).
    log: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return f"AADSTS{self.code}: {self.message}"

    def body(self, *, correlation_id: str | None, error_uri_base: str | None) -> dict[str, Any]:
        """Render the JSON body; ``correlation_id`` echoes the client's ``client-request-id``."""
        trace_id = str(uuid.uuid4())
        correlation_id = correlation_id or str(uuid.uuid4())
        timestamp = entra_timestamp()
        description = (
            f"AADSTS{self.code}: {self.message}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        )
        body: dict[str, Any] = {
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
        }
        if error_uri_base:
            body["error_uri"] = f"{error_uri_base}/error?code={self.code}"
        return body


# Constructors for the refusals Entra gives, so every call site uses the same status and text.


def missing_parameter(name: str) -> EntraError:
    return EntraError(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


def malformed_body() -> EntraError:
    return EntraError(
        400,
        "invalid_request",
        900144,
        "The request body must be application/x-www-form-urlencoded UTF-8 "
        "and contain the following parameter: 'grant_type'.",
    )


def unknown_tenant(tenant: str, *, error: str = "invalid_request") -> EntraError:
    return EntraError(
        400,
        error,
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
        "are signing into the correct cloud. Check with your subscription administrator, this "
        "may happen if there are no active subscriptions for the tenant.",
    )


def unsupported_grant(grant_type: str) -> EntraError:
    return EntraError(
        400,
        "unsupported_grant_type",
        70003,
        f"The app requested an unsupported grant type '{grant_type}'. "
        "The emulator supports only 'client_credentials'.",
    )


def unknown_app(client_id: str, tenant: str) -> EntraError:
    return EntraError(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. "
        "This can happen if the application has not been installed by the administrator of the "
        "tenant or consented to by any user in the tenant. You may have sent your "
        "authentication request to the wrong tenant.",
    )


def invalid_scope(scope: str) -> EntraError:
    return EntraError(
        400,
        "invalid_scope",
        70011,
        f"The provided request must include a 'scope' input parameter. The provided value for "
        f"the input parameter 'scope' is not valid. The scope {scope} is not valid. "
        "The client credentials flow needs exactly one scope of the form <resource>/.default.",
    )


def no_credential() -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: "
        "'client_assertion' or 'client_secret'.",
    )


def bad_secret(client_id: str) -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        f"client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
    )


def bad_assertion(reason: str) -> EntraError:
    return EntraError(
        401, "invalid_client", 700027, f"Client assertion contains an invalid signature. {reason}"
    )


def key_not_found(thumbprint: str, client_id: str) -> EntraError:
    return bad_assertion(
        f"[Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}', "
        "Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
        f"configured keys for app Id '{client_id}'.]"
    )


def assertion_time_range(now: int, nbf: float | None, exp: float | None) -> EntraError:
    def fmt(value: float | None) -> str:
        if value is None:
            return "(none)"
        try:
            return datetime.fromtimestamp(value, UTC).strftime("%m/%d/%Y %H:%M:%S")
        except (OverflowError, OSError, ValueError):  # a year past 9999 or before 1
            return f"{value:g}"

    return EntraError(
        401,
        "invalid_client",
        700024,
        f"Client assertion is not within its valid time range. Current time: {fmt(now)}, "
        f"assertion valid from {fmt(nbf)}, expiry time of assertion {fmt(exp)}.",
    )


def assertion_audience(aud: object) -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        700023,
        f"Client assertion audience claim does not match Realm issuer. Audience: '{aud}'. "
        "The audience must be the token endpoint.",
    )


def assertion_subject() -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        700021,
        "Client assertion application identifier doesn't match 'client_id' parameter. "
        "The assertion's 'iss' and 'sub' must both equal the client_id.",
    )


def assertion_replayed() -> EntraError:
    return bad_assertion(
        "[Reason - The assertion's 'jti' was already used (strict_jti is on; Entra itself "
        "accepts an assertion again until it expires).]"
    )


def bad_assertion_type(value: str) -> EntraError:
    return EntraError(
        400,
        "invalid_request",
        900144,
        f"The client_assertion_type '{value}' is not supported; use "
        "'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
    )


def both_credentials() -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        7000218,
        "Only one client credential may be presented: 'client_secret' or 'client_assertion'.",
    )


def unknown_resource(resource: str, tenant: str) -> EntraError:
    return EntraError(
        400,
        "invalid_resource",
        500011,
        f"The resource principal named {resource} was not found in the tenant named {tenant}. "
        "This can happen if the application has not been installed by the administrator of the "
        "tenant or consented to by any user in the tenant. You might have sent your "
        "authentication request to the wrong tenant.",
    )


def tenantless_authority(tenant: str) -> EntraError:
    return EntraError(
        400,
        "invalid_request",
        50059,
        "No tenant-identifying information found in either the request or implied by any "
        f"provided credentials. '{tenant}' names no tenant; app-only sign-in needs the tenant "
        "id or a verified domain in the authority.",
    )


def secret_expired(client_id: str) -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        7000222,
        f"The provided client secret keys for app '{client_id}' are expired. Visit the Azure "
        "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider "
        "using certificate credentials for added security: https://aka.ms/certCreds.",
    )


def app_disabled(client_id: str, display_name: str) -> EntraError:
    return EntraError(
        400,
        "unauthorized_client",
        7000112,
        f"Application '{client_id}'({display_name}) is disabled.",
    )


def subject_not_issuer(client_id: str) -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        50048,
        "Subject mismatches Issuer claim in the client assertion for application "
        f"'{client_id}'. Ensure the assertion's 'sub' equals its 'iss'.",
    )


def subject_not_trusted(names: list[str]) -> EntraError:
    shown = ", ".join(names[:10]) or "(none)"
    return EntraError(
        401,
        "invalid_client",
        700030,
        "Invalid certificate - subject name in certificate is not authorized. "
        f"SubjectNames/SubjectAlternativeNames (up to 10) in token certificate are: {shown}",
    )


def no_reply_address(client_id: str) -> EntraError:
    return EntraError(
        400,
        "invalid_request",
        500113,
        f"No reply address is registered for the application '{client_id}'. "
        "The emulator serves app-only sign-in; user sign-in is not emulated.",
    )


_FIC_HINT = (
    "Check your federated identity credential Subject, Audience and Issuer against the "
    "presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
)


def no_federated_record(issuer: object, subject: object, audience: object) -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        70021,
        "No matching federated identity record found for presented assertion. "
        f"Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. "
        f"Assertion Audience: '{audience}'. {_FIC_HINT}",
    )


def federated_issuer_mismatch(issuer: object) -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        700211,
        f"No matching federated identity record found for presented assertion issuer "
        f"'{issuer}'. {_FIC_HINT}",
    )


def federated_audience_mismatch(audience: object) -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        700212,
        f"No matching federated identity record found for presented assertion audience "
        f"'{audience}'. {_FIC_HINT}",
    )


def federated_subject_mismatch(subject: object) -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        700213,
        f"No matching federated identity record found for presented assertion subject "
        f"'{subject}'. Please note that the matching is done using a case-sensitive comparison. "
        f"{_FIC_HINT}",
    )


def oidc_fetch_failed(issuer: str, reason: str) -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        50166,
        f"Request to External OIDC endpoint failed. Issuer: '{issuer}'. [Reason - {reason}]",
    )


def server_fault(status: int) -> EntraError:
    """What an injected fault status answers with: Entra's shape, a transient code."""
    if status == 429:
        return EntraError(429, "temporarily_unavailable", 50196, "Too many requests (emulated).")
    if status >= 500:
        return EntraError(
            status,
            "temporarily_unavailable",
            50030,
            "The service is temporarily unavailable (emulated fault).",
        )
    return EntraError(status, "invalid_request", 90000, "Emulated fault.")
