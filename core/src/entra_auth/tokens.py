"""Token shapes that match azure-core's ``AccessToken`` and ``AccessTokenInfo`` field for field.

SDK clients check types, not shapes: kiota (msgraph-sdk) sends an empty bearer token unless
``isinstance(result, azure.core.credentials.AccessToken)``. So the credential hands out
azure-core's own classes whenever azure-core is loaded in the process (every Azure SDK client
and kiota load it before they ask for a token), and these structural twins otherwise. Choosing
by "already loaded" rather than "importable" keeps the 0.1 s azure-core import off the CLI and
off scripts that never use an SDK. ``isinstance`` against our classes accepts azure-core's too.
"""

from __future__ import annotations

import sys
from abc import ABCMeta
from typing import Any, NamedTuple

_AZURE_CREDENTIALS = "azure.core.credentials"


class _TokenFields(NamedTuple):
    token: str
    expires_on: int


class AccessToken(_TokenFields, metaclass=ABCMeta):
    """What ``TokenCredential.get_token`` returns (azure.core.credentials.AccessToken).

    A ``(token, expires_on)`` named tuple; azure-core's class counts as a subclass.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"AccessToken(token=<redacted>, expires_on={self.expires_on})"


class AccessTokenInfo(metaclass=ABCMeta):  # noqa: B024 (ABCMeta for register(), not abstract)
    """What ``SupportsTokenInfo.get_token_info`` returns (azure.core.credentials.AccessTokenInfo).

    A plain class rather than a NamedTuple because azure-core's is one, with keyword-only
    ``token_type`` and ``refresh_on``; azure-core's class counts as a subclass.
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


_sdk_classes: tuple[Any, type, type] | None = None


def _azure_classes() -> tuple[type, type] | None:
    """Subclasses of azure-core's ``AccessToken`` and ``AccessTokenInfo`` that never show the
    token in their repr (azure-core's do), when something already imported azure-core.

    One ``sys.modules`` lookup per call: cheap enough for the warm path."""
    global _sdk_classes
    module = sys.modules.get(_AZURE_CREDENTIALS)
    if module is None or not hasattr(module, "AccessTokenInfo"):
        return None
    if _sdk_classes is None or _sdk_classes[0] is not module:
        _sdk_classes = (module, *_redacted_subclasses(module))
    return _sdk_classes[1], _sdk_classes[2]


def _redacted_subclasses(module: Any) -> tuple[type, type]:
    class SdkAccessToken(module.AccessToken):
        __slots__ = ()

        def __repr__(self) -> str:
            return f"AccessToken(token=<redacted>, expires_on={self.expires_on})"

    class SdkAccessTokenInfo(module.AccessTokenInfo):
        __repr__ = AccessTokenInfo.__repr__

    SdkAccessToken.__name__ = SdkAccessToken.__qualname__ = "AccessToken"
    SdkAccessTokenInfo.__name__ = SdkAccessTokenInfo.__qualname__ = "AccessTokenInfo"
    AccessToken.register(SdkAccessToken)
    AccessTokenInfo.register(SdkAccessTokenInfo)
    return SdkAccessToken, SdkAccessTokenInfo


def sdk_access_token(token: str, expires_on: int) -> AccessToken:
    """An ``AccessToken`` of azure-core's class when azure-core is loaded, else ours."""
    classes = _azure_classes()
    if classes is None:
        return AccessToken(token, expires_on)
    return classes[0](token, expires_on)


def sdk_token_info(
    token: str, expires_on: int, *, token_type: str, refresh_on: int | None
) -> AccessTokenInfo:
    """An ``AccessTokenInfo`` of azure-core's class when azure-core is loaded, else ours."""
    classes = _azure_classes()
    cls: Any = AccessTokenInfo if classes is None else classes[1]
    return cls(token, expires_on, token_type=token_type, refresh_on=refresh_on)


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
