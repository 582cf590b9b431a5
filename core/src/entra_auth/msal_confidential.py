"""Shared machinery for app credentials (secret, certificate, assertion) on msal's
``ConfidentialClientApplication``, so every provider gets the same error mapping, timeouts,
retries, TLS trust and one msal app per credential, tenant and CAE mode for the credential's
lifetime.

CAE: ``enable_cae=True`` uses a second msal app that declares the ``CP1`` client capability, as
azure-identity does, so CAE tokens (long-lived, revocable by claims challenge) and plain ones
are never mixed.

Each msal app gets a token cache that stores nothing (``msal_results.no_token_cache``: core
already caches every token, and msal's own cache would be searched linearly on every miss).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import AuthenticationError, UsageError
from .http_retry import RETRY_STATUSES, Attempts, last_attempts
from .msal_results import no_token_cache, token_result

if TYPE_CHECKING:
    import msal

    from .providers import ProviderSettings
    from .tokens import TokenResult

ClientCredential = str | Mapping[str, Any]
_AADSTS = re.compile(r"AADSTS(\d+)")
CAE_CAPABILITIES = ("CP1",)
"""The client capability that says "this client handles CAE claims challenges"."""


class ConfidentialClientSource:
    """A token source for an app registration's own credential.

    ``client_credential`` is what msal takes: the secret string, or a dict with
    ``private_key``/``thumbprint``/``public_certificate``/``passphrase``, or
    ``client_assertion``. A callable is called once, on first use, so a secret or key is read
    only when a token is actually needed.
    """

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        client_id: str,
        tenant_id: str,
        client_credential: ClientCredential | Callable[[], ClientCredential],
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self._settings = settings
        self.client_id = client_id
        self.tenant_id = tenant_id
        self._credential = client_credential
        self._context = dict(context or {})
        self._apps: dict[tuple[str, bool], msal.ConfidentialClientApplication] = {}
        self._lock = threading.Lock()
        from .discovery_cache import DiscoveryCachingClient

        # Discovery documents are public metadata, not tokens: kept between processes in
        # both context scopes, so every new process makes one request per cold token.
        self._http = DiscoveryCachingClient(settings.http_session(), persist=True)

    def __repr__(self) -> str:
        return (
            f"ConfidentialClientSource(client_id={self.client_id!r}, tenant_id={self.tenant_id!r})"
        )

    def context(self) -> Mapping[str, Any]:
        return self._context

    def close(self) -> None:
        self._http.close()
        self._apps.clear()

    def _client_credential(self) -> ClientCredential:
        if callable(self._credential):
            self._credential = self._credential()
        return self._credential

    def _app(self, tenant_id: str, cae: bool) -> msal.ConfidentialClientApplication:
        with self._lock:
            app = self._apps.get((tenant_id, cae))
            if app is not None:
                return app
            env = self._settings.environment
            authority = env.authority(tenant_id)
            # The first request's handshakes overlap msal's import and the key's loading.
            self._http.preconnect(authority)
            import msal

            try:
                app = msal.ConfidentialClientApplication(
                    self.client_id,
                    client_credential=self._client_credential(),
                    authority=authority,
                    http_client=self._http,
                    # Instance discovery asks the public cloud about the host; only Microsoft's
                    # own hosts are known there, and a lab or emulator must never leak out.
                    instance_discovery=None if env.is_microsoft_host else False,
                    client_capabilities=list(CAE_CAPABILITIES) if cae else None,
                    token_cache=no_token_cache(),
                )
            except ValueError as exc:
                attempts = last_attempts()
                if attempts.status in RETRY_STATUSES:  # msal hides a 408/429 as a ValueError
                    raise _http_failure(authority, attempts) from None
                raise _discovery_error(exc, authority) from None
            except _network_errors() as exc:
                raise _unreachable(authority, exc) from None
            except msal.exceptions.MsalServiceError:
                raise _http_failure(authority, last_attempts()) from None
            self._apps[(tenant_id, cae)] = app
            return app

    def acquire(
        self,
        scopes: Sequence[str],
        *,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
    ) -> TokenResult:
        try:
            return self._acquire(scopes, claims, tenant_id, enable_cae)
        except AuthenticationError as exc:
            # A token endpoint that answers 404 may come from a stale cached discovery
            # document: drop it and discover again, once.
            tenant = tenant_id or self.tenant_id
            if getattr(exc, "status", None) != 404 or not self._http.forget(f"/{tenant}/"):
                raise
            with self._lock:
                self._apps.pop((tenant, enable_cae), None)
            return self._acquire(scopes, claims, tenant_id, enable_cae)

    def _acquire(
        self,
        scopes: Sequence[str],
        claims: str | None,
        tenant_id: str | None,
        enable_cae: bool,
    ) -> TokenResult:
        tenant = tenant_id or self.tenant_id
        app = self._app(tenant, enable_cae)
        authority = self._settings.environment.authority(tenant)
        import msal

        try:
            result = app.acquire_token_for_client(list(scopes), claims_challenge=claims)
        except _network_errors() as exc:
            raise _unreachable(authority, exc) from None
        except msal.exceptions.MsalServiceError:
            # msal raises a bare "HTTP Error: 503" for 5xx answers; the session kept the body.
            raise _http_failure(authority, last_attempts()) from None
        except ValueError as exc:
            raise UsageError(f"msal refused the request: {exc}") from None
        if not result or "access_token" not in result:
            attempts = last_attempts()
            raise AuthenticationError.from_entra_response(
                result or {},
                authority=authority,
                status=attempts.status,
                retry_note=attempts.note(),
            )
        return token_result(result)


def _network_errors() -> tuple[type[BaseException], ...]:
    import requests

    return (requests.exceptions.ConnectionError, requests.exceptions.Timeout)


def _http_failure(authority: str, attempts: Attempts) -> AuthenticationError:
    """An error answer msal would not parse (5xx), as Entra's error with status and hint."""
    body = attempts.error_body or {
        "error": "http_error",
        "error_description": f"HTTP {attempts.status}",
    }
    return AuthenticationError.from_entra_response(
        dict(body), authority=authority, status=attempts.status, retry_note=attempts.note()
    )


def _unreachable(authority: str, exc: BaseException) -> AuthenticationError:
    import requests

    from .http_retry import is_dropped_connection

    attempts = last_attempts()
    note = attempts.note()
    if is_dropped_connection(exc):
        hint = "the server closed the connection without answering; try again later"
        if note:
            hint += f"; {note}"
        return AuthenticationError(
            f"could not reach {authority}: the connection was dropped (hint: {hint})",
            error="connection_dropped",
            hint=hint,
        )
    if isinstance(exc, requests.exceptions.SSLError):
        why = "TLS verification failed"
        hint = (
            "is the authority's CA trusted? set the environment's ca_bundle or REQUESTS_CA_BUNDLE"
        )
    elif isinstance(exc, requests.exceptions.Timeout):
        why = "the request timed out"
        hint = "the authority did not answer in time; check the network or raise --timeout"
    else:
        why = "the connection failed"
        hint = "check the authority host (AZURE_AUTHORITY_HOST, --environment) and the network"
    return AuthenticationError(
        f"could not reach {authority}: {why} (hint: {hint})", error="unreachable", hint=hint
    )


def _discovery_error(exc: ValueError, authority: str) -> AuthenticationError:
    """msal hides the tenant-discovery answer behind a generic message; dig the Entra error
    (AADSTS90002 for an unknown tenant) back out of the exception chain."""
    texts = [str(exc)]
    if exc.__context__ is not None:
        texts.insert(0, str(exc.__context__))
    for text in texts:
        start = text.find("{")
        if start != -1:
            try:
                body = json.loads(text[start:])
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("error"):
                return AuthenticationError.from_entra_response(body, authority=authority)
        match = _AADSTS.search(text)
        if match:
            return AuthenticationError.from_entra_response(
                {
                    "error": "invalid_tenant",
                    "error_codes": [int(match.group(1))],
                    "error_description": f"AADSTS{match.group(1)}: tenant discovery failed",
                },
                authority=authority,
            )
    return AuthenticationError(
        f"could not discover the tenant at {authority}: check --tenant-id and the environment"
    )
