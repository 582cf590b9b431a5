"""Which managed identity to use: system-assigned, or a user-assigned one named by one id.

PowerShell's ``Connect-Entra -Identity -ClientId`` names a user-assigned identity by client id;
azure-identity and msal also accept the object (principal) id or the ARM resource id. Exactly
one id may be given: two could name different identities, and the endpoint would pick silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from entra_auth import UsageError

if TYPE_CHECKING:
    from .hosts import Host

SYSTEM_ASSIGNED = "SystemAssigned"
# Patterns compiled on first use by ``re``'s own cache: a system-assigned identity, the usual
# one, names no id, and a new process should not compile them to sign in.
_GUID = r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_RESOURCE_ID = (
    r"(?i)^/subscriptions/[0-9a-f-]{36}/resourcegroups/[-\w._()]{1,90}/providers/"
    r"microsoft\.managedidentity/userassignedidentities/[-\w]{1,128}$"
)
# Option name -> msal's ManagedIdentity id type (also what the context shows).
ID_KINDS = {"client_id": "ClientId", "object_id": "ObjectId", "resource_id": "ResourceId"}
_FLAGS = {"client_id": "--client-id", "object_id": "--object-id", "resource_id": "--resource-id"}


def _guid(value: Any, flag: str) -> str:
    text = str(value).strip()
    if text and not re.match(_GUID, text):
        raise UsageError(
            f"{flag} must be a GUID like 33333333-3333-3333-3333-333333333333, not {value!r}"
        )
    return text  # empty is refused with the system-assigned hint by Identity.from_options


def check_client_id(value: Any) -> str:
    return _guid(value, "--client-id")


def check_object_id(value: Any) -> str:
    return _guid(value, "--object-id")


def check_resource_id(value: Any) -> str:
    """The ARM id shape, checked before it is put into the identity endpoint's query."""
    text = str(value).strip()
    if text and not re.match(_RESOURCE_ID, text):
        raise UsageError(
            "--resource-id takes the identity's ARM resource id, e.g. /subscriptions/<GUID>/"
            "resourceGroups/<group>/providers/Microsoft.ManagedIdentity/"
            "userAssignedIdentities/<name>"
        )
    return text


class Identity(NamedTuple):
    """``kind`` is ``SystemAssigned``, ``ClientId``, ``ObjectId`` or ``ResourceId``."""

    kind: str = SYSTEM_ASSIGNED
    value: str | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Identity:
        # Present-but-empty is an error, not "system-assigned": `--client-id "$UAMI"` with the
        # variable unset must not quietly sign in as a different identity.
        given = {
            name: str(options[name]).strip() for name in ID_KINDS if options.get(name) is not None
        }
        if len(given) > 1:
            flags = " and ".join(_FLAGS[name] for name in given)
            raise UsageError(
                f"a managed identity is named by one id; got {flags} (give --client-id, "
                "--object-id or --resource-id, or none for the system-assigned identity)"
            )
        if not given:
            return cls()
        ((name, value),) = given.items()
        if not value:
            raise UsageError(
                f"{_FLAGS[name]} is empty; give the user-assigned identity's id, or leave the "
                "option out for the system-assigned identity"
            )
        if name == "resource_id" and not value.startswith("/subscriptions/"):
            raise UsageError(
                "--resource-id takes the identity's ARM resource id, e.g. /subscriptions/…/"
                "resourceGroups/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME"
            )
        return cls(ID_KINDS[name], value)

    @property
    def user_assigned(self) -> bool:
        return self.kind != SYSTEM_ASSIGNED

    @property
    def account(self) -> str:
        """What the context shows as Account: ``SystemAssigned`` or the id used."""
        return self.value if self.value else SYSTEM_ASSIGNED

    def describe(self) -> str:
        if not self.user_assigned:
            return "the system-assigned identity"
        label = {"ClientId": "client id", "ObjectId": "object id", "ResourceId": "resource id"}
        return f"the user-assigned identity with {label[self.kind]} {self.value}"

    def msal(self) -> dict[str, Any]:
        """msal's ``ManagedIdentity`` dict shape."""
        import msal

        if not self.user_assigned:
            return msal.SystemAssignedManagedIdentity()
        key = {"ClientId": "client_id", "ObjectId": "object_id", "ResourceId": "resource_id"}
        return msal.UserAssignedManagedIdentity(**{key[self.kind]: self.value})

    def not_found_hint(self, host: Host) -> str:
        if not self.user_assigned:
            return (
                f"{host.source} has no system-assigned identity here; enable it on the resource, "
                "or name a user-assigned identity with --client-id"
            )
        return (
            f"{self.describe()} is not assigned to this resource; check the id and the "
            "resource's Identity > User assigned list"
        )
