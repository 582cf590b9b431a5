"""The directory objects the emulator's small Microsoft Graph serves: users and groups per tenant.

They come from the config (``[[graph.users]]``, ``[[graph.groups]]``); an entry without
``tenant_id`` appears in every tenant. A tenant that no entry names gets a small default set
(three users, three groups), so ``GET /v1.0/groups`` answers something in a fresh tenant.
Groups created with ``POST /v1.0/groups`` live in memory until ``reset``.

```toml
[[graph.users]]
tenant_id = "11111111-1111-1111-1111-111111111111"   # optional: every tenant
display_name = "Adele Vance"
user_principal_name = "AdeleV@contoso.onmicrosoft.com"

[[graph.groups]]
display_name = "Finance"
members = ["AdeleV@contoso.onmicrosoft.com"]         # user principal names or ids
```
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import ConfigError

_ID_NAMESPACE = uuid.UUID("0b9f3c1e-7f7a-4d0e-8f63-6a8f3d1c2b55")
USER_KEYS = {"tenant_id", "id", "display_name", "user_principal_name", "mail", "job_title"}
GROUP_KEYS = {
    "tenant_id",
    "id",
    "display_name",
    "description",
    "mail_nickname",
    "mail_enabled",
    "security_enabled",
    "members",
}
GRAPH_KEYS = {"users", "groups"}
DEFAULT_DOMAIN = "contoso.onmicrosoft.com"
# Stable, so scripts and docs can show the same dates every run.
CREATED = "2024-01-15T09:30:00Z"


def derived_id(*parts: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join(p.lower() for p in parts)))


@dataclass(frozen=True)
class GraphUser:
    display_name: str
    user_principal_name: str
    tenant_id: str = ""
    id: str = ""
    mail: str = ""
    job_title: str = ""


@dataclass(frozen=True)
class GraphGroup:
    display_name: str
    tenant_id: str = ""
    id: str = ""
    description: str = ""
    mail_nickname: str = ""
    mail_enabled: bool = False
    security_enabled: bool = True
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class GraphConfig:
    users: tuple[GraphUser, ...] = ()
    groups: tuple[GraphGroup, ...] = ()


def _text(entry: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _flag(entry: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: '{key}' must be true or false")
    return value


def _unknown(entry: Mapping[str, Any], known: set[str], where: str) -> None:
    extra = sorted(set(entry) - known)
    if extra:
        raise ConfigError(
            f"{where}: unknown key '{extra[0]}' (expected {', '.join(sorted(known))})"
        )


def parse_graph(data: object, where: str) -> GraphConfig:
    """The ``[graph]`` table of an emulator config."""
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{where}: 'graph' must be a table with [[graph.users]] / [[graph.groups]]"
        )
    _unknown(data, GRAPH_KEYS, f"{where}: graph")
    users: list[GraphUser] = []
    groups: list[GraphGroup] = []
    for kind in ("users", "groups"):
        entries = data.get(kind, [])
        if not isinstance(entries, Sequence) or isinstance(entries, str):
            raise ConfigError(f"{where}: 'graph.{kind}' must be an array of tables")
        for i, entry in enumerate(entries, 1):
            here = f"{where}: graph.{kind}[{i}]"
            if not isinstance(entry, Mapping):
                raise ConfigError(f"{here}: must be a table")
            if kind == "users":
                _unknown(entry, USER_KEYS, here)
                upn = _text(entry, "user_principal_name", here, required=True)
                if "@" not in upn:
                    raise ConfigError(f"{here}: user_principal_name must look like name@domain")
                users.append(
                    GraphUser(
                        display_name=_text(entry, "display_name", here, required=True),
                        user_principal_name=upn,
                        tenant_id=_text(entry, "tenant_id", here),
                        id=_text(entry, "id", here),
                        mail=_text(entry, "mail", here),
                        job_title=_text(entry, "job_title", here),
                    )
                )
            else:
                _unknown(entry, GROUP_KEYS, here)
                members = entry.get("members", [])
                if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
                    raise ConfigError(f"{here}: 'members' must be a list of strings")
                groups.append(
                    GraphGroup(
                        display_name=_text(entry, "display_name", here, required=True),
                        tenant_id=_text(entry, "tenant_id", here),
                        id=_text(entry, "id", here),
                        description=_text(entry, "description", here),
                        mail_nickname=_text(entry, "mail_nickname", here),
                        mail_enabled=_flag(entry, "mail_enabled", here, False),
                        security_enabled=_flag(entry, "security_enabled", here, True),
                        members=tuple(members),
                    )
                )
    names = {u.user_principal_name.lower() for u in users} | {u.id.lower() for u in users if u.id}
    for group in groups:
        for member in group.members:
            if member.lower() not in names:
                raise ConfigError(
                    f"{where}: graph group {group.display_name!r}: member {member!r} is not in "
                    "[[graph.users]] (give a user_principal_name or id)"
                )
    return GraphConfig(tuple(users), tuple(groups))


def _default_config(domain: str) -> GraphConfig:
    users = (
        GraphUser("Adele Vance", f"AdeleV@{domain}", job_title="Retail Manager"),
        GraphUser("Alex Wilber", f"AlexW@{domain}", job_title="Marketing Assistant"),
        GraphUser("Megan Bowen", f"MeganB@{domain}", job_title="Auditor"),
    )
    groups = (
        GraphGroup(
            "All Company",
            description="Everyone in the organization",
            members=tuple(u.user_principal_name for u in users),
        ),
        GraphGroup(
            "Finance",
            description="Finance team",
            members=(users[0].user_principal_name, users[2].user_principal_name),
        ),
        GraphGroup(
            "Automation Admins",
            description="Who runs the automation",
            members=(users[1].user_principal_name,),
        ),
    )
    return GraphConfig(users, groups)


def user_object(user: GraphUser, tenant_id: str) -> dict[str, Any]:
    given, _, surname = user.display_name.partition(" ")
    return {
        "id": user.id or derived_id("user", tenant_id, user.user_principal_name),
        "businessPhones": [],
        "displayName": user.display_name,
        "givenName": given or None,
        "jobTitle": user.job_title or None,
        "mail": user.mail or user.user_principal_name,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": surname or None,
        "userPrincipalName": user.user_principal_name,
    }


def group_object(
    tenant_id: str,
    *,
    display_name: str,
    group_id: str = "",
    description: str = "",
    mail_nickname: str = "",
    mail_enabled: bool = False,
    security_enabled: bool = True,
    created: str = CREATED,
    domain: str = DEFAULT_DOMAIN,
) -> dict[str, Any]:
    nickname = mail_nickname or "".join(c for c in display_name if c.isalnum()) or "group"
    return {
        "id": group_id or derived_id("group", tenant_id, display_name),
        "createdDateTime": created,
        "description": description or None,
        "displayName": display_name,
        "groupTypes": [],
        "mail": f"{nickname}@{domain}" if mail_enabled else None,
        "mailEnabled": mail_enabled,
        "mailNickname": nickname,
        "securityEnabled": security_enabled,
        "visibility": None,
    }


class TenantGraph:
    """One tenant's users and groups (Graph-shaped dicts) and group memberships."""

    def __init__(self, tenant_id: str, domain: str, config: GraphConfig) -> None:
        self.tenant_id = tenant_id
        self.domain = domain
        self.users: list[dict[str, Any]] = []
        self.groups: list[dict[str, Any]] = []
        self.members: dict[str, list[str]] = {}
        wanted = tenant_id.lower()
        users = [u for u in config.users if u.tenant_id.lower() in ("", wanted)]
        groups = [g for g in config.groups if g.tenant_id.lower() in ("", wanted)]
        if not users and not groups:
            defaults = _default_config(domain)
            users, groups = list(defaults.users), list(defaults.groups)
        by_name: dict[str, str] = {}
        for user in users:
            obj = user_object(user, tenant_id)
            self.users.append(obj)
            by_name[obj["id"].lower()] = obj["id"]
            by_name[user.user_principal_name.lower()] = obj["id"]
        for group in groups:
            obj = group_object(
                tenant_id,
                display_name=group.display_name,
                group_id=group.id,
                description=group.description,
                mail_nickname=group.mail_nickname,
                mail_enabled=group.mail_enabled,
                security_enabled=group.security_enabled,
                domain=domain,
            )
            self.groups.append(obj)
            unknown = [m for m in group.members if m.lower() not in by_name]
            if unknown:
                raise ConfigError(
                    f"graph group {group.display_name!r}: member {unknown[0]!r} is not a user "
                    "of the tenant (give a user_principal_name or id from [[graph.users]])"
                )
            self.members[obj["id"].lower()] = [by_name[m.lower()] for m in group.members]

    def user(self, key: str) -> dict[str, Any] | None:
        wanted = key.lower()
        for user in self.users:
            if wanted in (user["id"].lower(), user["userPrincipalName"].lower()):
                return user
        return None

    def group(self, group_id: str) -> dict[str, Any] | None:
        wanted = group_id.lower()
        return next((g for g in self.groups if g["id"].lower() == wanted), None)

    def group_members(self, group_id: str) -> list[dict[str, Any]]:
        found = []
        for member_id in self.members.get(group_id.lower(), []):
            user = self.user(member_id)
            if user is not None:
                found.append({"@odata.type": "#microsoft.graph.user", **user})
        return found

    def add_group(self, fields: Mapping[str, Any], member_ids: Sequence[str]) -> dict[str, Any]:
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        obj = group_object(
            self.tenant_id,
            display_name=fields["displayName"],
            group_id=str(uuid.uuid4()),
            description=fields.get("description") or "",
            mail_nickname=fields["mailNickname"],
            mail_enabled=fields["mailEnabled"],
            security_enabled=fields["securityEnabled"],
            created=created,
            domain=self.domain,
        )
        self.groups.append(obj)
        self.members[obj["id"].lower()] = list(member_ids)
        return obj


class GraphData:
    """Every tenant's Graph objects, made on first use from the config; thread-safe."""

    def __init__(self, config: GraphConfig) -> None:
        self.config = config
        self._tenants: dict[str, TenantGraph] = {}
        self.lock = threading.RLock()

    def tenant(self, tenant_id: str, domain: str) -> TenantGraph:
        with self.lock:
            found = self._tenants.get(tenant_id.lower())
            if found is None:
                found = TenantGraph(tenant_id, domain, self.config)
                self._tenants[tenant_id.lower()] = found
            return found

    def reset(self) -> None:
        """Forget groups created at runtime: back to the config (or the default set)."""
        with self.lock:
            self._tenants.clear()
