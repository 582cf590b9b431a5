"""``requests`` authentication for people who call REST APIs directly::

    session.auth = entra_auth.requests_auth.BearerAuth(cred, "https://graph.microsoft.com/.default")

Each request gets ``Authorization: Bearer <token>`` from the credential's cache; a 401 carrying
a claims challenge is answered once with a token that satisfies the claims.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.auth import AuthBase

from .challenges import claims_from_challenge
from .credential import EntraCredential

__all__ = ["BearerAuth"]


class BearerAuth(AuthBase):
    """A ``requests`` auth adding a bearer token for ``scopes`` (the credential's default
    scopes when none are given)."""

    def __init__(self, credential: EntraCredential, *scopes: str) -> None:
        self.credential = credential
        self.scopes = scopes or credential.default_scopes

    def __repr__(self) -> str:
        return f"BearerAuth({self.credential!r}, scopes={self.scopes!r})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.credential.get_token(*self.scopes)
        request.headers["Authorization"] = f"Bearer {token.token}"
        request.register_hook("response", self._answer_challenge)
        return request

    def _answer_challenge(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401:
            return response
        claims = claims_from_challenge(response.headers.get("WWW-Authenticate"))
        if claims is None:
            return response
        token = self.credential.get_token(*self.scopes, claims=claims)
        retry = response.request.copy()
        retry.headers["Authorization"] = f"Bearer {token.token}"
        # The retry carries no hook: a second challenge goes back to the caller, no loop.
        retry.hooks = {"response": []}
        response.content  # noqa: B018 (read the body so the connection can be reused)
        response.close()
        again = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        return again
