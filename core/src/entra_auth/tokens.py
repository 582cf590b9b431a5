"""Token shapes that match azure-core's ``AccessToken`` and ``AccessTokenInfo`` field for field,
so Azure SDK and Graph SDK clients accept our credential without importing azure-core here.
"""

from __future__ import annotations

from typing import NamedTuple


class AccessToken(NamedTuple):
    """What ``TokenCredential.get_token`` returns (azure.core.credentials.AccessToken)."""

    token: str
    expires_on: int


class AccessTokenInfo:
    """What ``SupportsTokenInfo.get_token_info`` returns (azure.core.credentials.AccessTokenInfo).

    A plain class rather than a NamedTuple because azure-core's is one, with keyword-only
    ``token_type`` and ``refresh_on``.
    """

    __slots__ = ("expires_on", "refresh_on", "token", "token_type")

    def __init__(
        self,
        token: str,
        expires_on: int,
        *,
        token_type: str = "Bearer",
        refresh_on: int | None = None,
    ) -> None:
        self.token = token
        self.expires_on = expires_on
        self.token_type = token_type
        self.refresh_on = refresh_on

    def __repr__(self) -> str:
        # Never show the token itself.
        return (
            f"AccessTokenInfo(token=<redacted>, expires_on={self.expires_on}, "
            f"token_type={self.token_type!r}, refresh_on={self.refresh_on})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AccessTokenInfo):
            return NotImplemented
        return (self.token, self.expires_on, self.token_type, self.refresh_on) == (
            other.token,
            other.expires_on,
            other.token_type,
            other.refresh_on,
        )

    __hash__ = None  # type: ignore[assignment]


class TokenResult(NamedTuple):
    """What a provider's token source hands back to core for one successful request."""

    token: str
    expires_on: int
    refresh_on: int | None = None
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        return (
            f"TokenResult(token=<redacted>, expires_on={self.expires_on}, "
            f"refresh_on={self.refresh_on}, token_type={self.token_type!r})"
        )
