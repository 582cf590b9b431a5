"""``entra_auth.aio``: the credential for asyncio code (azure-core's ``AsyncTokenCredential``
and ``AsyncSupportsTokenInfo`` shapes), for ``azure.*.aio`` clients and msgraph-sdk.

It wraps an :class:`~entra_auth.credential.EntraCredential`, so it has the same providers,
context and cache (a token fetched by either is served to both):

- The warm path never leaves the event loop: a cache hit is the sync credential's dict lookup
  and clock read, with no thread hop and no await on anything that blocks.
- A miss runs the blocking msal call in a worker thread, so the loop keeps serving other
  coroutines while Entra answers. Coroutines missing the same token share one task, and the
  sync credential's single-flight makes threads and coroutines share one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from .credential import EntraCredential, _Entry
from .tokens import AccessToken, AccessTokenInfo

__all__ = ["AsyncEntraCredential", "connect_async"]

_FlightKey = tuple[tuple[str, ...], str | None, str | None, bool]


class AsyncEntraCredential:
    """An async token credential over ``credential`` (closing this one closes it).

    Pass it wherever ``azure.*.aio`` clients or ``GraphServiceClient`` take a credential."""

    def __init__(self, credential: EntraCredential) -> None:
        self.sync = credential
        """The wrapped synchronous credential: same cache, usable from threads."""
        self._flights: dict[_FlightKey, asyncio.Task[_Entry]] = {}

    def __repr__(self) -> str:
        return f"Async{self.sync!r}"

    @property
    def context(self) -> Any:
        """The connection context (see ``EntraCredential.context``)."""
        return self.sync.context

    @property
    def default_scopes(self) -> tuple[str, ...]:
        return self.sync.default_scopes

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """``AsyncTokenCredential.get_token`` (see ``EntraCredential.get_token``)."""
        entry = self.sync._cached(scopes, claims, tenant_id, enable_cae)
        if entry is None:
            entry = await self._cold(scopes, claims, tenant_id, enable_cae)
        return entry.sdk_token()

    async def get_token_info(
        self, *scopes: str, options: Mapping[str, Any] | None = None
    ) -> AccessTokenInfo:
        """``AsyncSupportsTokenInfo.get_token_info`` (see ``EntraCredential.get_token_info``)."""
        claims = tenant_id = None
        cae = False
        if options:
            claims, tenant_id = options.get("claims"), options.get("tenant_id")
            cae = bool(options.get("enable_cae"))
        entry = self.sync._cached(scopes, claims, tenant_id, cae)
        if entry is None:
            entry = await self._cold(scopes, claims, tenant_id, cae)
        return entry.sdk_info()

    async def _cold(
        self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None, cae: bool
    ) -> _Entry:
        self.sync.check_tenant(tenant_id)  # refused on the loop, before any thread or request
        key: _FlightKey = (scopes, claims, tenant_id, cae)
        loop = asyncio.get_running_loop()
        task = self._flights.get(key)
        if task is None or task.get_loop() is not loop:
            task = loop.create_task(
                asyncio.to_thread(self.sync._get, scopes, claims, tenant_id, cae),
                name="entra-auth-token",
            )
            self._flights[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        # One waiter giving up (a cancelled request) must not cancel the others' token.
        return await asyncio.shield(task)

    def _landed(self, key: _FlightKey, task: asyncio.Task[_Entry]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: no "never retrieved" warning if every waiter left

    async def close(self) -> None:
        """Release the provider's sessions and keys."""
        self.sync.close()

    async def __aenter__(self) -> AsyncEntraCredential:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def connect_async(
    provider: str | None = None,
    *,
    fetch_token: bool = True,
    scopes: Iterable[str] | None = None,
    **kwargs: Any,
) -> AsyncEntraCredential:
    """``entra_auth.connect`` for asyncio code: same arguments, returns an
    :class:`AsyncEntraCredential`. Set-up (reading keys, resolving secrets) and the first
    token request run in a worker thread, so the event loop is never blocked."""
    from .connect import connect

    credential = await asyncio.to_thread(
        connect, provider, fetch_token=False, scopes=scopes, **kwargs
    )
    wrapped = AsyncEntraCredential(credential)
    if fetch_token:
        try:
            await wrapped.get_token(*credential.default_scopes)
        except BaseException:
            await wrapped.close()
            raise
    return wrapped
