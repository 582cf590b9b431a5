"""One exception hierarchy, so callers can catch ``EntraAuthError`` and the CLI can map each
kind to the exit codes pinned in DESIGN.md (1: refused by Entra or the identity endpoint,
2: bad usage, input or configuration).

Messages are single lines that say what was wrong and how to fix it. They never carry a secret:
whoever raises one passes names and references, never values.
"""

from __future__ import annotations

from typing import ClassVar

# Plain-language hints for the AADSTS codes users hit most with app-only sign-in.
AADSTS_HINTS: dict[int, str] = {
    7000215: "the client secret is wrong or expired; create a new one under App registrations > "
    "Certificates & secrets and pass it by reference",
    7000222: "the client secret has expired; create a new one under App registrations > "
    "Certificates & secrets",
    700016: "no application with this client ID exists in the tenant; check --client-id and "
    "--tenant-id, and that the app is registered (or consented) in that tenant",
    90002: "the tenant was not found; check --tenant-id (a GUID or a verified domain such as "
    "contoso.onmicrosoft.com) and the environment (Global, China, USGov, USGovDoD)",
    700027: "the certificate is not registered on the app; upload its public certificate (the "
    "portal lists it by SHA-1 thumbprint) under App registrations > Certificates & secrets",
    700024: "the client assertion is outside its valid time range; check this machine's clock",
    70011: "the scope is not valid for app-only sign-in; use '<resource>/.default', for example "
    "https://graph.microsoft.com/.default",
    7000218: "the request needs a client credential; give a secret, a certificate or a managed "
    "identity",
    500011: "the resource in the scope does not exist in the tenant; check its spelling, for "
    "example https://graph.microsoft.com/.default",
    7000112: "the application is disabled in the tenant; an administrator must enable it",
    700030: "the certificate's subject is not one the app trusts for subject name + issuer sign-in",
    70021: "the app has no federated credential matching the token's issuer, subject and "
    "audience; add one under App registrations > Certificates & secrets > Federated credentials",
    700211: "no federated credential of the app names the token's issuer; check the issuer URL "
    "exactly (trailing slash included)",
    700212: "the federated token's audience is not one the credential accepts (by default "
    "api://AzureADTokenExchange)",
    700213: "no federated credential of the app names the token's subject; matching is exact "
    "and case-sensitive (namespace and service account, repository and branch…)",
}


class EntraAuthError(Exception):
    """Base of every error entra-auth raises on purpose."""

    exit_code: ClassVar[int] = 2


class UsageError(EntraAuthError):
    """The caller asked for something that cannot work: a bad option, value or reference."""


class ArgumentTypeError(UsageError, TypeError):
    """A value of the wrong type (an int where an ID string belongs, a list for a path):
    a ``TypeError`` too, so Python callers can catch it the usual way."""


class ArgumentValueError(UsageError, ValueError):
    """A value of the right type but the wrong shape or range: a ``ValueError`` too."""


class ConfigurationError(UsageError):
    """The configuration (file, profile, environment, plugin set-up) is not usable."""


class SecretReferenceError(UsageError):
    """A secret reference could not be resolved, or a literal secret was given."""


class CertificateError(UsageError):
    """A certificate could not be found, read or used."""


class PluginError(ConfigurationError):
    """A plugin could not be loaded or registered something inconsistent."""


class TenantNotAllowedError(ConfigurationError):
    """A token was asked for a tenant the credential may not sign in to (see
    ``additionally_allowed_tenants``); no request was sent."""


class AuthenticationError(EntraAuthError):
    """Entra ID or the identity endpoint refused, or could not be reached for, a token.

    ``status`` is the HTTP status of the last answer (None when there was none: a dropped
    connection, a timeout), ``aadsts_code`` the first AADSTS code, ``hint`` what to do.
    """

    exit_code: ClassVar[int] = 1

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        error_codes: tuple[int, ...] = (),
        correlation_id: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.error_codes = error_codes
        self.correlation_id = correlation_id
        self.status = status
        self.hint = hint

    @property
    def aadsts_code(self) -> int | None:
        """The first AADSTS code Entra gave, if any."""
        return self.error_codes[0] if self.error_codes else None

    @classmethod
    def from_entra_response(
        cls,
        result: dict[str, object],
        *,
        authority: str,
        status: int | None = None,
        retry_note: str | None = None,
    ) -> AuthenticationError:
        """Build the error from an Entra/msal error dict, keeping the AADSTS code first.

        ``retry_note`` (say "retried 3 times over 14 s") joins the hint for transient errors."""
        error = str(result.get("error") or "unknown_error")
        description = str(result.get("error_description") or "").strip()
        codes = _error_codes(result, description)
        first_line = description.splitlines()[0].strip() if description else error
        # Entra appends "Trace ID: … Correlation ID: … Timestamp: …" to the first line.
        first_line = first_line.split(" Trace ID:")[0].strip()
        if codes and not first_line.startswith("AADSTS"):
            first_line = f"AADSTS{codes[0]}: {first_line}"
        hint = AADSTS_HINTS.get(codes[0]) if codes else None
        if hint is None and status is not None:
            hint = status_hint(status)
        if hint and retry_note:
            hint = f"{hint}; {retry_note}"
        if status is not None and (status >= 500 or status in (408, 429)):
            message = f"sign-in failed at {authority} (HTTP {status}): {first_line}"
        else:
            message = f"sign-in refused by {authority}: {first_line}"
        if hint:
            message += f" (hint: {hint})"
        correlation = result.get("correlation_id")
        return cls(
            message,
            error=error,
            error_codes=codes,
            correlation_id=str(correlation) if correlation else None,
            status=status,
            hint=hint,
        )


def status_hint(status: int) -> str | None:
    """What a transient HTTP status from Entra means for the user."""
    if status == 429:
        return "Entra is throttling this app; wait and try again, or request tokens less often"
    if status == 408:
        return "Entra timed out answering; try again"
    if status >= 500:
        return "Entra is temporarily unavailable; try again later"
    return None


class IdentityEndpointUnavailable(AuthenticationError):
    """The managed-identity endpoint did not answer: usually not running on Azure."""


def _error_codes(result: dict[str, object], description: str) -> tuple[int, ...]:
    raw = result.get("error_codes")
    if isinstance(raw, list) and raw:
        return tuple(int(c) for c in raw if isinstance(c, int | str) and str(c).isdigit())
    if description.startswith("AADSTS"):
        digits = description[6:].split(":", 1)[0]
        if digits.isdigit():
            return (int(digits),)
    return ()
