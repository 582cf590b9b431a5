"""``httpx`` authentication (sync and async clients) for people who call REST APIs directly::

    auth = entra_auth.httpx_auth.HttpxBearerAuth(cred, "https://graph.microsoft.com/.default")
    httpx.get(url, auth=auth)                       # or httpx.AsyncClient(auth=auth)

Needs the ``httpx`` extra (``pip install entra-auth[httpx]``). An async client gets its token
without blocking the event loop: a synchronous credential is wrapped in
:class:`~entra_auth.aio.AsyncEntraCredential` (same cache). A 401 with a claims challenge is
answered once with a token that satisfies the claims.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator

import httpx

from .aio import AsyncEntraCredential
from .challenges import claims_from_challenge
from .credential import EntraCredential

__all__ = ["HttpxBearerAuth"]


class HttpxBearerAuth(httpx.Auth):
    """An ``httpx.Auth`` adding a bearer token for ``scopes`` (the credential's default scopes
    when none are given). ``credential`` is an ``EntraCredential`` or an
    ``AsyncEntraCredential``; a sync client needs the former (or the latter's ``.sync``)."""

    def __init__(self, credential: EntraCredential | AsyncEntraCredential, *scopes: str) -> None:
        if isinstance(credential, AsyncEntraCredential):
            self._sync, self._async = credential.sync, credential
        else:
            self._sync, self._async = credential, AsyncEntraCredential(credential)
        self.scopes = scopes or self._sync.default_scopes

    def __repr__(self) -> str:
        return f"HttpxBearerAuth({self._sync!r}, scopes={self.scopes!r})"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        token = self._sync.get_token(*self.scopes)
        request.headers["Authorization"] = f"Bearer {token.token}"
        response = yield request
        claims = _claims(response)
        if claims is not None:
            token = self._sync.get_token(*self.scopes, claims=claims)
            request.headers["Authorization"] = f"Bearer {token.token}"
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._async.get_token(*self.scopes)
        request.headers["Authorization"] = f"Bearer {token.token}"
        response = yield request
        claims = _claims(response)
        if claims is not None:
            token = await self._async.get_token(*self.scopes, claims=claims)
            request.headers["Authorization"] = f"Bearer {token.token}"
            yield request


def _claims(response: httpx.Response) -> str | None:
    if response.status_code != 401:
        return None
    return claims_from_challenge(response.headers.get("WWW-Authenticate"))
