"""The connection context, the Python face of ``Get-EntraContext`` / ``Get-MgContext``.

Filled from the token as Graph PowerShell does: Scopes from ``roles``, AppName from
``app_displayname``, TenantId from ``tid``, ClientId from ``appid``; the provider adds what only
it knows (certificate thumbprint and subject, the managed identity used).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .records import Record, field, replace

# PowerShell's property names, in Get-EntraContext's order.
CONTEXT_FIELDS: dict[str, str] = {
    "client_id": "ClientId",
    "tenant_id": "TenantId",
    "certificate_thumbprint": "CertificateThumbprint",
    "scopes": "Scopes",
    "auth_type": "AuthType",
    "certificate_name": "CertificateName",
    "account": "Account",
    "app_name": "AppName",
    "context_scope": "ContextScope",
    "environment": "Environment",
}
_BY_POWERSHELL_NAME = {ps: py for py, ps in CONTEXT_FIELDS.items()}


class EntraContext(Record):
    """Who is signed in, to which tenant and cloud, with which credential."""

    client_id: str | None = None
    tenant_id: str | None = None
    certificate_thumbprint: str | None = None
    scopes: tuple[str, ...] = ()
    auth_type: str | None = None
    certificate_name: str | None = None
    account: str | None = None
    app_name: str | None = None
    context_scope: str = "Process"
    environment: str = "Global"
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Provider-specific details beyond the ten standard fields (e.g. ``ManagedIdentitySource``)."""

    def as_dict(self) -> dict[str, Any]:
        """PowerShell-named fields, in Get-EntraContext's order, plus provider extras."""
        data: dict[str, Any] = {}
        for name, ps_name in CONTEXT_FIELDS.items():
            value = getattr(self, name)
            data[ps_name] = list(value) if isinstance(value, tuple) else value
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntraContext:
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            py_name = _BY_POWERSHELL_NAME.get(key)
            if py_name is None:
                extra[key] = value
            elif py_name == "scopes":
                known[py_name] = tuple(value or ())
            else:
                known[py_name] = value
        return cls(**known, extra=extra)

    def with_claims(self, claims: Mapping[str, Any]) -> EntraContext:
        """The context as the token describes it; token claims win over configured values."""
        updates: dict[str, Any] = {}
        if claims.get("appid") or claims.get("azp"):
            updates["client_id"] = claims.get("appid") or claims.get("azp")
        if claims.get("tid"):
            updates["tenant_id"] = claims["tid"]
        roles = claims.get("roles")
        if isinstance(roles, list):
            updates["scopes"] = tuple(str(r) for r in roles)
        if claims.get("app_displayname"):
            updates["app_name"] = claims["app_displayname"]
        return replace(self, **updates)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self.as_dict().items())
