"""The credential: azure-core's ``TokenCredential`` and ``SupportsTokenInfo`` shapes over a
provider's token source, with the in-process cache of DESIGN.md "Performance shape".

- Warm path: one dict lookup and one clock read, no lock, no msal.
- Cold path: single-flight per key, so fifty threads on a cold credential make one request.
- Refresh ahead: past ``refresh_on`` (msal's, or five minutes before expiry) callers keep
  getting the cached token while one background thread fetches the next. A failed background
  refresh is sent once (no retries: the caller still holds a valid token) and the next one
  waits at least ``REFRESH_RETRY_DELAY`` seconds, as azure-identity does.
- CAE (``enable_cae=True``) tokens are cached apart from plain ones; a ``claims`` challenge
  always reaches the service and its token replaces the cached one.
- Tenant guard: a token for another tenant than the credential's is refused unless the tenant
  is in ``additionally_allowed_tenants`` (``*`` allows any), before any request is made.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from .claims import token_claims
from .context import EntraContext
from .errors import AuthenticationError, TenantNotAllowedError
from .identifiers import check_scope
from .providers import TokenSource
from .tokens import (
    _AZURE_CREDENTIALS,
    AccessToken,
    AccessTokenInfo,
    TokenResult,
    sdk_access_token,
    sdk_token_info,
)

log = logging.getLogger("entra_auth.credential")

REFRESH_BEFORE_EXPIRY = 300
"""Seconds before expiry at which a token is refreshed when the service gives no refresh_on."""
EXPIRY_MARGIN = 30
OUTAGE_MARGIN = 300
"""During an outage (5xx, throttling, unreachable) a cached token still valid for at least
this many seconds is served, with one warning; an expired one never is."""
"""A cached token this close to expiry is not handed out: it could expire in flight."""
REFRESH_RETRY_DELAY = 30.0
"""Seconds a failed background refresh waits before the next attempt (azure-identity's 30 s)."""
ALLOW_ANY_TENANT = "*"
ALLOWED_TENANTS_OPTION = "additionally_allowed_tenants"
"""A core option every provider takes (also a profile key): tenants ``get_token(tenant_id=…)``
may ask for besides the credential's own; ``*`` allows any."""
ALLOWED_TENANTS_ENV = "AZURE_ADDITIONALLY_ALLOWED_TENANTS"

CacheKey = tuple[Any, ...]


class _Entry:
    """A cached token in the shapes callers ask for. A plain class with slots: as small as a
    named tuple (a credential may hold thousands) and a fraction of its cost to define."""

    __slots__ = ("access_token", "info", "refresh_on", "usable_until")

    def __init__(
        self,
        info: AccessTokenInfo,
        access_token: AccessToken,
        refresh_on: float,
        usable_until: float,
    ) -> None:
        self.info = info
        self.access_token = access_token
        self.refresh_on = refresh_on
        self.usable_until = usable_until

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

    def sdk_token(self) -> AccessToken:
        """The token as azure-core's class when azure-core is loaded (see ``tokens``); the
        cached object itself otherwise."""
        if _AZURE_CREDENTIALS not in sys.modules:
            return self.access_token
        return sdk_access_token(self.access_token.token, self.access_token.expires_on)

    def sdk_info(self) -> AccessTokenInfo:
        info = self.info
        if _AZURE_CREDENTIALS not in sys.modules:
            return info
        return sdk_token_info(
            info.token, info.expires_on, token_type=info.token_type, refresh_on=info.refresh_on
        )


def cache_key(scopes: tuple[str, ...], tenant_id: str | None, cae: bool) -> CacheKey:
    """The in-memory cache key: the scopes alone in the common case (no tuple to build on the
    warm path), else scopes, tenant and CAE mode (CAE tokens live in their own partition)."""
    return scopes if tenant_id is None and not cae else (scopes, tenant_id, cae)


def parse_tenants(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``additionally_allowed_tenants`` from a list, or from a string separated by commas or
    semicolons (as ``AZURE_ADDITIONALLY_ALLOWED_TENANTS`` is), lower-cased."""
    if value is None:
        return ()
    items = value.replace(";", ",").split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip().lower() for item in items if str(item).strip())


class _Flight:
    __slots__ = ("done", "entry", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.entry: _Entry | None = None
        self.error: BaseException | None = None


def token_request_options(
    *, tenant: str | None = None, claims: str | None = None
) -> dict[str, str] | None:
    """azure-core's ``TokenRequestOptions`` for ``get_token_info`` (None when empty)."""
    options = {k: v for k, v in (("tenant_id", tenant), ("claims", claims)) if v}
    return options or None


class TokenStore(Protocol):
    """A second-level cache behind the in-memory one (the ``CurrentUser`` file cache, or a
    shared cache a plugin serves).

    A store may also have ``lock(key)``, a context manager held while this process fetches
    the token for ``key``: the credential takes it after a miss, reads the store again (another
    process may have fetched the token meanwhile), and only then asks the token source. A
    shared store's lock spans processes and hosts, so a fleet asks Entra once per token.
    """

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
        additionally_allowed_tenants: str | Iterable[str] = (),
        outage_margin: float = OUTAGE_MARGIN,
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
        self._refresh_failed: dict[CacheKey, float] = {}
        self._lock = threading.Lock()
        self._home_tenant = (context.tenant_id or "").lower() or None
        self.additionally_allowed_tenants = parse_tenants(additionally_allowed_tenants)
        self._source_takes_cae: bool | None = None
        self.outage_margin = outage_margin
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
        none are given). ``claims`` (a challenge) skips the cache; ``tenant_id`` must be the
        credential's or an allowed one; ``enable_cae`` asks for a CAE-capable token."""
        return self._entry(scopes, claims, tenant_id, enable_cae).sdk_token()

    def get_token_info(
        self, *scopes: str, options: Mapping[str, Any] | None = None
    ) -> AccessTokenInfo:
        """``SupportsTokenInfo.get_token_info``: like ``get_token`` with ``refresh_on`` and
        ``token_type``; ``options`` may hold ``claims``, ``tenant_id`` and ``enable_cae``."""
        if options:
            return self._entry(
                scopes,
                options.get("claims"),
                options.get("tenant_id"),
                bool(options.get("enable_cae")),
            ).sdk_info()
        return self._entry(scopes, None, None, False).sdk_info()

    def _entry(
        self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None, cae: bool
    ) -> _Entry:
        """The warm path: one dict lookup and one clock read; everything else is cold."""
        entry = self._cached(scopes, claims, tenant_id, cae)
        if entry is not None:
            return entry
        return self._get(scopes, claims, tenant_id, cae)

    def _cached(
        self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None, cae: bool
    ) -> _Entry | None:
        """The cached entry when it may be handed out now (starting a background refresh past
        ``refresh_on``), else None. Never blocks: the async credential calls it on the loop."""
        if claims:  # a challenge ("" is none: some SDKs pass it)
            return None
        scopes = scopes or self.default_scopes  # none asked: the defaults, under their key
        key = scopes if tenant_id is None and not cae else (scopes, tenant_id, cae)
        entry = self._cache.get(key)
        if entry is not None:
            now = time.time()
            if now < entry.refresh_on:
                return entry
            if now < entry.usable_until:
                self._refresh_in_background(key, scopes, tenant_id, cae)
                return entry
        return None

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
    def check_tenant(self, tenant_id: str | None) -> str | None:
        """The tenant to request (None for the credential's own), or ``TenantNotAllowedError``
        for a tenant that is neither the credential's nor additionally allowed."""
        if tenant_id is None or self._home_tenant is None:
            # No tenant asked, or a credential bound to no tenant (a managed identity, whose
            # endpoint has no way to ask another tenant).
            return tenant_id
        wanted = tenant_id.strip().lower()
        own = {self._home_tenant, (self._context.tenant_id or "").lower()}
        if wanted in own:
            return None
        allowed = self.additionally_allowed_tenants
        if ALLOW_ANY_TENANT in allowed or wanted in allowed:
            return tenant_id
        raise TenantNotAllowedError(
            f"a token for tenant {tenant_id!r} was asked, but this credential signs in to "
            f"{self._home_tenant!r}; to allow it, add the tenant (or '*') to "
            "additionally_allowed_tenants (connect option, profile key, or the "
            "AZURE_ADDITIONALLY_ALLOWED_TENANTS environment variable)"
        )

    def _get(
        self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None, cae: bool
    ) -> _Entry:
        tenant_id = self.check_tenant(tenant_id)
        scopes = scopes or self.default_scopes
        key = cache_key(scopes, tenant_id, cae)
        if not claims:
            entry = self._cache.get(key)
            if entry is not None and time.time() < entry.usable_until:
                return entry
            return self._single_flight(key, scopes, None, tenant_id, cae, background=False)
        # A claims challenge is its own flight (never shared with a plain request), and its
        # token replaces the cached one: the old token is what the resource just refused.
        return self._single_flight(
            (key, claims), scopes, claims, tenant_id, cae, background=False, cache_as=key
        )

    def _single_flight(
        self,
        key: CacheKey,
        scopes: tuple[str, ...],
        claims: str | None,
        tenant_id: str | None,
        cae: bool,
        *,
        background: bool,
        cache_as: CacheKey | None = None,
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
            entry = self._fetch(
                cache_as if cache_as is not None else key,
                scopes,
                claims,
                tenant_id,
                cae,
                background=background,
            )
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
        cae: bool,
        *,
        background: bool,
    ) -> _Entry:
        wanted = scopes or self.default_scopes
        store_key: tuple[Any, ...] = (wanted, tenant_id, "cae") if cae else (wanted, tenant_id)
        if claims is None and not background:
            cached = self._cache.get(key)
            if cached is not None and time.time() < cached.refresh_on:
                return cached  # another flight finished just before this one started
            stored = self._fresh_from_store(key, wanted, tenant_id, store_key)
            if stored is not None:
                return stored
        lock = getattr(self._store, "lock", None) if claims is None else None
        if lock is None:
            return self._request(key, wanted, claims, tenant_id, cae, store_key)
        # A shared store's lock: one process (or host) fetches, the others wait for it and
        # then find its token in the store.
        with lock(store_key):
            stored = self._fresh_from_store(key, wanted, tenant_id, store_key)
            if stored is not None:
                return stored
            return self._request(key, wanted, claims, tenant_id, cae, store_key)

    def _fresh_from_store(
        self,
        key: CacheKey,
        wanted: tuple[str, ...],
        tenant_id: str | None,
        store_key: tuple[Any, ...],
    ) -> _Entry | None:
        if self._store is None:
            return None
        stored = self._store.load(store_key)
        if stored is None:
            return None
        entry = _Entry.from_result(stored)
        if time.time() >= entry.refresh_on:
            return None
        self._remember(key, wanted, tenant_id, entry)
        return entry

    def _request(
        self,
        key: CacheKey,
        wanted: tuple[str, ...],
        claims: str | None,
        tenant_id: str | None,
        cae: bool,
        store_key: tuple[Any, ...],
    ) -> _Entry:
        # Checked here, on a miss, not on the warm path: a scope with a space in it would
        # silently become two scopes in the request msal sends.
        for scope in wanted:
            check_scope(scope)
        source = self._ensure_source()
        self.requests_made += 1
        try:
            if cae and self._takes_cae(source):
                result = source.acquire(
                    wanted,
                    claims=claims,
                    tenant_id=tenant_id,
                    enable_cae=True,  # type: ignore[call-arg]
                )
            else:
                # A source without CAE support (a managed identity) gets a plain token, as
                # azure-identity's managed identity credential does.
                result = source.acquire(wanted, claims=claims, tenant_id=tenant_id)
        except AuthenticationError as exc:
            fallback = None if claims else self._outage_fallback(exc, key, store_key)
            if fallback is None:
                raise
            return fallback
        entry = _Entry.from_result(result)
        if self._store is not None:
            self._store.save(store_key, result)
        self._remember(key, wanted, tenant_id, entry)
        return entry

    def _outage_fallback(
        self, exc: AuthenticationError, key: CacheKey, store_key: tuple[Any, ...]
    ) -> _Entry | None:
        """The cached token to serve while Entra is down, or None: only for outages (5xx,
        408/429, unreachable), never for a refusal, and only a token valid long enough."""
        status = getattr(exc, "status", None)
        outage = (status is None and not exc.error_codes) or (
            status is not None and (status >= 500 or status in (408, 429))
        )
        if not outage:
            return None
        candidates = [self._cache.get(key)]
        if self._store is not None:
            stored = self._store.load(store_key)
            candidates.append(_Entry.from_result(stored) if stored is not None else None)
        deadline = time.time() + self.outage_margin
        for entry in candidates:
            if entry is not None and entry.usable_until >= deadline:
                left = int(entry.usable_until - time.time())
                log.warning(
                    "serving a cached token (valid for %d more seconds) because the identity "
                    "service failed: %s",
                    left,
                    exc,
                )
                return entry
        return None

    def _takes_cae(self, source: TokenSource) -> bool:
        """Whether the source's ``acquire`` accepts ``enable_cae`` (core's msal sources do;
        third-party sources written before CAE need not)."""
        if self._source_takes_cae is None:
            inner = getattr(source, "_source", None)  # plugins.GuardedSource wraps the real one
            try:
                import inspect  # once per credential, off the import path

                parameters = inspect.signature((inner or source).acquire).parameters
            except (TypeError, ValueError):
                parameters = {}  # type: ignore[assignment]
            self._source_takes_cae = "enable_cae" in parameters or (
                inner is None
                and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
            )
        return self._source_takes_cae

    def _remember(
        self, key: CacheKey, scopes: tuple[str, ...], tenant_id: str | None, entry: _Entry
    ) -> None:
        self._cache[key] = entry
        if tenant_id is None and (scopes == self.default_scopes or not self._context.app_name):
            self._context = self._base_context.with_claims(token_claims(entry.info.token))

    def _refresh_in_background(
        self, key: CacheKey, scopes: tuple[str, ...], tenant_id: str | None, cae: bool
    ) -> None:
        with self._lock:
            if key in self._flights:
                return
            failed_at = self._refresh_failed.get(key)
            if failed_at is not None and time.monotonic() - failed_at < REFRESH_RETRY_DELAY:
                return  # be kind to Entra: the cached token is still good
            # Counted as in flight from now, so a burst of warm callers starts one thread.
            self._flights[key] = flight = _Flight()
        threading.Thread(
            target=self._refresh_quietly,
            args=(key, flight, scopes, tenant_id, cae),
            name="entra-auth-refresh",
            daemon=True,
        ).start()

    def _refresh_quietly(
        self,
        key: CacheKey,
        flight: _Flight,
        scopes: tuple[str, ...],
        tenant_id: str | None,
        cae: bool,
    ) -> None:
        try:
            from .http_retry import no_retries

            with no_retries():
                flight.entry = self._fetch(key, scopes, None, tenant_id, cae, background=True)
            self._refresh_failed.pop(key, None)
        except Exception as exc:  # the cached token stays usable until it expires
            flight.error = exc
            self._refresh_failed[key] = time.monotonic()
            log.warning(
                "background token refresh failed (next attempt in %.0f s at the earliest): %s",
                REFRESH_RETRY_DELAY,
                exc,
            )
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()
