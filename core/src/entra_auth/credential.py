"""The credential: azure-core's ``TokenCredential`` and ``SupportsTokenInfo`` shapes over a
provider's token source, with the in-process cache of DESIGN.md "Performance shape".

- Warm path: one dict lookup and one clock read, no lock, no msal.
- Cold path: single-flight per key, so fifty threads on a cold credential make one request.
- Refresh ahead: past ``refresh_on`` (msal's, or five minutes before expiry) callers keep
  getting the cached token while one background thread fetches the next.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .claims import token_claims
from .context import EntraContext
from .providers import TokenSource
from .tokens import AccessToken, AccessTokenInfo, TokenResult

log = logging.getLogger("entra_auth.credential")

REFRESH_BEFORE_EXPIRY = 300
"""Seconds before expiry at which a token is refreshed when the service gives no refresh_on."""
EXPIRY_MARGIN = 30
"""A cached token this close to expiry is not handed out: it could expire in flight."""

CacheKey = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    info: AccessTokenInfo
    access_token: AccessToken
    refresh_on: float
    usable_until: float

    @classmethod
    def from_result(cls, result: TokenResult) -> _Entry:
        refresh_on = result.refresh_on or (result.expires_on - REFRESH_BEFORE_EXPIRY)
        info = AccessTokenInfo(
            result.token,
            result.expires_on,
            token_type=result.token_type,
            refresh_on=int(refresh_on),
        )
        return cls(
            info,
            AccessToken(result.token, result.expires_on),
            refresh_on,
            result.expires_on - EXPIRY_MARGIN,
        )


class _Flight:
    __slots__ = ("done", "entry", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.entry: _Entry | None = None
        self.error: BaseException | None = None


class TokenStore(Protocol):
    """A second-level cache behind the in-memory one (the ``CurrentUser`` file cache)."""

    def load(self, key: CacheKey) -> TokenResult | None: ...

    def save(self, key: CacheKey, result: TokenResult) -> None: ...


class EntraCredential:
    """A token credential for one provider and one set of options.

    Pass it wherever Azure SDK or Graph SDK clients take a ``TokenCredential``; read
    ``.context`` for what ``Get-EntraContext`` shows.
    """

    def __init__(
        self,
        source: TokenSource | Callable[[], TokenSource],
        *,
        context: EntraContext,
        default_scopes: tuple[str, ...],
        store: TokenStore | None = None,
    ) -> None:
        # A factory defers building the source (reading keys, importing msal) until a token
        # is really needed: a warm persisted cache then costs neither.
        self._source: TokenSource | None = None
        self._factory: Callable[[], TokenSource] | None = None
        self._base_context = context
        self._context = context
        if isinstance(source, TokenSource):
            self._adopt(source)
        else:
            self._factory = source
        self.default_scopes = default_scopes
        self._store = store
        self._cache: dict[CacheKey, _Entry] = {}
        self._flights: dict[CacheKey, _Flight] = {}
        self._lock = threading.Lock()
        self.requests_made = 0
        """How many times the token source was asked for a token (for diagnostics)."""

    def __repr__(self) -> str:
        ctx = self._context
        return (
            f"EntraCredential(auth_type={ctx.auth_type!r}, client_id={ctx.client_id!r}, "
            f"tenant_id={ctx.tenant_id!r})"
        )

    # -- azure-core protocol --------------------------------------------------------------
    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """``TokenCredential.get_token``: a token for ``scopes`` (Graph's ``.default`` when
        none are given)."""
        return self._entry(scopes, claims, tenant_id).access_token

    def get_token_info(
        self, *scopes: str, options: Mapping[str, Any] | None = None
    ) -> AccessTokenInfo:
        """``SupportsTokenInfo.get_token_info``: like ``get_token`` with ``refresh_on`` and
        ``token_type``; ``options`` may hold ``claims`` and ``tenant_id``."""
        if options:
            return self._entry(scopes, options.get("claims"), options.get("tenant_id")).info
        return self._entry(scopes, None, None).info

    def _entry(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None) -> _Entry:
        """The warm path: one dict lookup and one clock read; everything else is cold."""
        if claims is None and tenant_id is None:
            entry = self._cache.get(scopes)
            if entry is not None:
                now = time.time()
                if now < entry.refresh_on:
                    return entry
                if now < entry.usable_until:
                    self._refresh_in_background(scopes)
                    return entry
        return self._get(scopes, claims, tenant_id)

    # -- context and lifetime -------------------------------------------------------------
    @property
    def context(self) -> EntraContext:
        """The connection context; filled from the token's claims once one was obtained."""
        return self._context

    def close(self) -> None:
        if self._source is not None:
            self._source.close()

    def _ensure_source(self) -> TokenSource:
        with self._lock:
            if self._source is None:
                assert self._factory is not None
                self._adopt(self._factory())
            assert self._source is not None
            return self._source

    def _adopt(self, source: TokenSource) -> None:
        """Use ``source`` and take the context fields only it knows (certificate, identity)."""
        self._source = source
        provided = dict(source.context())
        if provided:
            self._base_context = EntraContext.from_dict(
                {**self._base_context.as_dict(), **provided}
            )
            self._context = EntraContext.from_dict({**self._context.as_dict(), **provided})

    def __enter__(self) -> EntraCredential:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------
    def _get(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None) -> _Entry:
        key: CacheKey = (
            scopes if claims is None and tenant_id is None else (scopes, claims, tenant_id)
        )
        if claims is None:
            entry = self._cache.get(key)
            if entry is not None and time.time() < entry.usable_until:
                return entry
        return self._single_flight(key, scopes, claims, tenant_id, background=False)

    def _single_flight(
        self,
        key: CacheKey,
        scopes: tuple[str, ...],
        claims: str | None,
        tenant_id: str | None,
        *,
        background: bool,
    ) -> _Entry:
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.entry is not None
            return flight.entry
        try:
            entry = self._fetch(key, scopes, claims, tenant_id, background=background)
            flight.entry = entry
            return entry
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def _fetch(
        self,
        key: CacheKey,
        scopes: tuple[str, ...],
        claims: str | None,
        tenant_id: str | None,
        *,
        background: bool,
    ) -> _Entry:
        wanted = scopes or self.default_scopes
        cacheable = claims is None
        if cacheable and not background:
            cached = self._cache.get(key)
            if cached is not None and time.time() < cached.refresh_on:
                return cached  # another flight finished just before this one started
            if self._store is not None:
                stored = self._store.load((wanted, tenant_id))
                if stored is not None:
                    entry = _Entry.from_result(stored)
                    if time.time() < entry.refresh_on:
                        self._remember(key, wanted, tenant_id, entry)
                        return entry
        source = self._ensure_source()
        self.requests_made += 1
        result = source.acquire(wanted, claims=claims, tenant_id=tenant_id)
        entry = _Entry.from_result(result)
        if cacheable:
            if self._store is not None:
                self._store.save((wanted, tenant_id), result)
            self._remember(key, wanted, tenant_id, entry)
        return entry

    def _remember(
        self, key: CacheKey, scopes: tuple[str, ...], tenant_id: str | None, entry: _Entry
    ) -> None:
        self._cache[key] = entry
        if tenant_id is None and (scopes == self.default_scopes or not self._context.app_name):
            self._context = self._base_context.with_claims(token_claims(entry.info.token))

    def _refresh_in_background(self, scopes: tuple[str, ...]) -> None:
        with self._lock:
            if scopes in self._flights:
                return
        threading.Thread(
            target=self._refresh_quietly, args=(scopes,), name="entra-auth-refresh", daemon=True
        ).start()

    def _refresh_quietly(self, scopes: tuple[str, ...]) -> None:
        try:
            self._single_flight(scopes, scopes, None, None, background=True)
        except Exception as exc:  # the cached token stays usable until it expires
            log.warning("background token refresh failed: %s", exc)
