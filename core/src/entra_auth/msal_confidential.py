"""Shared machinery for app credentials (secret, certificate, assertion) on msal's
``ConfidentialClientApplication``, so every provider gets the same error mapping, timeouts,
TLS trust and one msal app per credential and tenant for the credential's lifetime.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import AuthenticationError, UsageError
from .tokens import TokenResult

if TYPE_CHECKING:
    import msal

    from .providers import ProviderSettings

ClientCredential = str | Mapping[str, Any]
_AADSTS = re.compile(r"AADSTS(\d+)")


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
        self._apps: dict[str, msal.ConfidentialClientApplication] = {}
        self._lock = threading.Lock()
        self._http = settings.http_session()

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

    def _app(self, tenant_id: str) -> msal.ConfidentialClientApplication:
        with self._lock:
            app = self._apps.get(tenant_id)
            if app is not None:
                return app
            import msal

            env = self._settings.environment
            authority = env.authority(tenant_id)
            try:
                app = msal.ConfidentialClientApplication(
                    self.client_id,
                    client_credential=self._client_credential(),
                    authority=authority,
                    http_client=self._http,
                    # Instance discovery asks the public cloud about the host; only Microsoft's
                    # own hosts are known there, and a lab or emulator must never leak out.
                    instance_discovery=None if env.is_microsoft_host else False,
                )
            except ValueError as exc:
                raise _discovery_error(exc, authority) from None
            except _network_errors() as exc:
                raise _unreachable(authority, exc) from None
            self._apps[tenant_id] = app
            return app

    def acquire(
        self, scopes: Sequence[str], *, claims: str | None = None, tenant_id: str | None = None
    ) -> TokenResult:
        tenant = tenant_id or self.tenant_id
        app = self._app(tenant)
        authority = self._settings.environment.authority(tenant)
        try:
            result = app.acquire_token_for_client(list(scopes), claims_challenge=claims)
        except _network_errors() as exc:
            raise _unreachable(authority, exc) from None
        except ValueError as exc:
            raise UsageError(f"msal refused the request: {exc}") from None
        if not result or "access_token" not in result:
            raise AuthenticationError.from_entra_response(result or {}, authority=authority)
        return token_result(result)


def token_result(result: Mapping[str, Any], *, now: float | None = None) -> TokenResult:
    """msal's success dict as a ``TokenResult`` (absolute times, as azure-core wants)."""
    issued = time.time() if now is None else now
    expires_on = int(result.get("expires_on") or issued + int(result.get("expires_in", 0)))
    refresh_on = result.get("refresh_on")
    return TokenResult(
        token=str(result["access_token"]),
        expires_on=expires_on,
        refresh_on=int(refresh_on) if refresh_on else None,
        token_type=str(result.get("token_type") or "Bearer"),
    )


def _network_errors() -> tuple[type[BaseException], ...]:
    import requests

    return (requests.exceptions.ConnectionError, requests.exceptions.Timeout)


def _unreachable(authority: str, exc: BaseException) -> AuthenticationError:
    import requests

    if isinstance(exc, requests.exceptions.SSLError):
        why = (
            "TLS verification failed (is the authority's CA trusted? set the environment's "
            "ca_bundle or REQUESTS_CA_BUNDLE)"
        )
    elif isinstance(exc, requests.exceptions.Timeout):
        why = "the request timed out"
    else:
        why = "the connection failed"
    return AuthenticationError(f"could not reach {authority}: {why}")


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
