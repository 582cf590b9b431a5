"""msal's answers as entra-auth's types, for every provider built on msal: its success dict as
a ``TokenResult``, and a token cache that keeps nothing. Apart from ``msal_confidential`` so a
managed identity sign-in (msal's ``ManagedIdentityClient``) does not load the confidential
client's machinery.

Flat misses: msal keeps its own token cache under ours and searches it linearly on every miss
(25 ms at 10,000 scopes). Core already caches every token (``credential``), so each msal app
gets a cache that stores nothing (``NoTokenCache``): a miss costs the same with one scope or
10,000, and a held token costs only core's entry. Nothing msal does for client credentials
needs the cache: a claims challenge skips it anyway, and msal's Retry-After throttling lives
in its per-app ``http_cache``, which stays.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .tokens import TokenResult

if TYPE_CHECKING:
    import msal


def no_token_cache() -> msal.TokenCache:
    """An ``msal.TokenCache`` that never stores a token (see the module's "Flat misses")."""
    return _no_token_cache_class()()


@functools.cache
def _no_token_cache_class() -> type[msal.TokenCache]:
    import msal  # msal is imported only once a token is really requested

    class NoTokenCache(msal.TokenCache):
        """Stores nothing: core's cache holds the token msal returns, so msal's search is
        always over an empty cache."""

        def add(self, event: Any, now: Any = None) -> None:
            return None

    return NoTokenCache


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
