"""The emulator's configuration: app registrations and managed identities, from TOML or code.

The TOML format is pinned in DESIGN.md ("The emulator"); unknown keys are errors so a typo never
silently turns into an app that signs in without the credential the author meant to require.
"""

from __future__ import annotations

import os
import re
import tomllib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from .errors import ConfigError
from .graph_data import GraphConfig, parse_graph
from .pki import CertifiedKey, load_certificates

__all__ = [
    "AppRegistration",
    "CertificateInput",
    "ClientSecret",
    "EmulatorConfig",
    "FederatedCredential",
    "ManagedIdentityRegistration",
    "ResourceRegistration",
    "TenantRegistration",
    "load_config",
]

DEFAULT_TOKEN_LIFETIME = 3599
MAX_TOKEN_LIFETIME = 86400
# Entra's default (and recommended) audience for a federated identity credential.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
# Object ids the emulator makes up must be stable across restarts (tokens and tests compare them),
# so they are derived from the registration rather than random.
_OID_NAMESPACE = uuid.UUID("6f1c3f5e-4a36-4a8e-9f0e-2f6a3e0d7b11")

CertificateInput = x509.Certificate | CertifiedKey | bytes | str | os.PathLike[str]


def _derived_id(*parts: str) -> str:
    return str(uuid.uuid5(_OID_NAMESPACE, "/".join(p.lower() for p in parts)))


def coerce_certificates(
    values: Iterable[CertificateInput], *, base: Path | None = None, what: str = "certificate"
) -> tuple[x509.Certificate, ...]:
    """Turn PEM/DER bytes, PEM text, paths or Certificate objects into certificates."""
    certs: list[x509.Certificate] = []
    for value in values:
        if isinstance(value, x509.Certificate):
            certs.append(value)
            continue
        if isinstance(value, CertifiedKey):
            certs.append(value.certificate)
            continue
        if isinstance(value, bytes):
            data, source = value, f"{what} bytes"
        elif isinstance(value, str) and "-----BEGIN" in value:
            data, source = value.encode(), f"{what} PEM text"
        elif isinstance(value, str | os.PathLike):
            path = Path(value)
            if base is not None and not path.is_absolute():
                path = base / path
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise ConfigError(f"{what} file {path}: {exc.strerror or exc}") from None
            source = f"{what} file {path}"
        else:
            raise ConfigError(f"{what} must be a path, PEM/DER bytes or a Certificate")
        try:
            found = load_certificates(data)
        except ValueError as exc:
            raise ConfigError(f"{source}: not a PEM or DER certificate ({exc})") from None
        if not found:
            raise ConfigError(f"{source}: no certificate in it")
        certs.extend(found)
    return tuple(certs)


@dataclass(frozen=True)
class ClientSecret:
    """A client secret value and, optionally, when it stops being accepted (AADSTS7000222)."""

    value: str = field(repr=False)
    expires: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not self.value:
            raise ConfigError("a secret must be a non-empty string")
        if self.expires is not None and self.expires.tzinfo is None:
            # TOML local date-times and naive datetimes are read as UTC, as Entra stores them.
            object.__setattr__(self, "expires", self.expires.replace(tzinfo=UTC))

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires is not None and self.expires <= (now or datetime.now(UTC))


SecretInput = ClientSecret | str


@dataclass(frozen=True)
class FederatedCredential:
    """A federated identity credential: the app accepts a token from ``issuer`` about
    ``subject`` for one of ``audiences`` as its client assertion (workload identity federation).
    Matching is exact and case-sensitive, as Entra's is."""

    issuer: str
    subject: str
    audiences: tuple[str, ...] = (TOKEN_EXCHANGE_AUDIENCE,)
    name: str = ""

    def __post_init__(self) -> None:
        if not self.issuer.startswith("https://"):
            raise ConfigError(f"federated credential issuer must be an https URL: {self.issuer!r}")
        if not self.subject:
            raise ConfigError("federated credential subject must be a non-empty string")
        if not self.audiences or not all(isinstance(a, str) and a for a in self.audiences):
            raise ConfigError("federated credential audiences must be non-empty strings")
        if not self.name:
            object.__setattr__(self, "name", _derived_id("fic", self.issuer, self.subject))


@dataclass(frozen=True)
class AppRegistration:
    """An app registration (and its service principal) in one tenant."""

    tenant_id: str
    client_id: str
    display_name: str = ""
    roles: tuple[str, ...] = ()
    secrets: tuple[ClientSecret, ...] = field(default=(), repr=False)
    certificates: tuple[x509.Certificate, ...] = ()
    trusted_issuers: tuple[x509.Certificate, ...] = ()
    trusted_subjects: tuple[str, ...] = ()
    federated_credentials: tuple[FederatedCredential, ...] = ()
    object_id: str = ""
    # None: the emulator's default (--token-lifetime, or the config's top-level token_lifetime).
    token_lifetime: int | None = None
    enabled: bool = True
    # What its own API (api://<client_id>) issues: Entra's accessTokenAcceptedVersion.
    access_token_accepted_version: int = 1

    def __post_init__(self) -> None:
        if not self.display_name:
            object.__setattr__(self, "display_name", f"app {self.client_id}")
        if not self.object_id:
            object.__setattr__(self, "object_id", _derived_id("sp", self.tenant_id, self.client_id))
        secrets = tuple(
            s if isinstance(s, ClientSecret) else ClientSecret(s)
            for s in self.secrets  # str accepted too, for register_app(secrets=["..."])
        )
        object.__setattr__(self, "secrets", secrets)
        if bool(self.trusted_issuers) != bool(self.trusted_subjects):
            # Entra trusts subject name + issuer only for the subjects the app names
            # (trustedCertificateSubjects); an issuer alone would accept any certificate it made.
            raise ConfigError(
                f"app {self.client_id}: trusted_issuers and trusted_subjects go together "
                "(subject name + issuer sign-in needs both)"
            )
        object.__setattr__(
            self, "trusted_subjects", tuple(normalize_subject(s) for s in self.trusted_subjects)
        )
        _check_version(self.access_token_accepted_version, f"app {self.client_id}")
        if self.token_lifetime is not None:
            _check_lifetime(self.token_lifetime, f"app {self.client_id}")


def normalize_subject(subject: str | x509.Name) -> str:
    """A distinguished name in one comparable spelling, so that ``CN=app, O=Contoso`` in a
    config matches the certificate whichever order its tools print RDNs in (OpenSSL and .NET
    disagree): attributes case-folded and sorted."""
    if isinstance(subject, x509.Name):
        name = subject
    else:
        text = re.sub(r"(?<!\\)\s*([,+])\s*", r"\1", subject.strip())
        try:
            name = x509.Name.from_rfc4514_string(text)
        except ValueError:
            raise ConfigError(f"not a distinguished name (CN=...): {subject!r}") from None
        if not list(name):
            raise ConfigError(f"not a distinguished name (CN=...): {subject!r}")
    parts = sorted(x509.Name([attribute]).rfc4514_string().casefold() for attribute in name)
    return ",".join(parts)


def _check_version(version: object, where: str) -> None:
    if version not in (1, 2) or isinstance(version, bool):
        raise ConfigError(f"{where}: 'access_token_accepted_version' must be 1 or 2")


def _check_lifetime(value: object, where: str) -> None:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 1 <= value <= MAX_TOKEN_LIFETIME
    ):
        raise ConfigError(
            f"{where}: 'token_lifetime' must be seconds between 1 and {MAX_TOKEN_LIFETIME}"
        )


@dataclass(frozen=True)
class ManagedIdentityRegistration:
    """A managed identity; ``user_assigned`` is False for the system-assigned one."""

    tenant_id: str
    client_id: str = ""
    object_id: str = ""
    resource_id: str = ""
    display_name: str = ""
    roles: tuple[str, ...] = ()
    user_assigned: bool = True
    token_lifetime: int | None = None

    def __post_init__(self) -> None:
        seed = self.client_id or self.resource_id or self.display_name or "system"
        if not self.client_id:
            object.__setattr__(self, "client_id", _derived_id("mi-app", self.tenant_id, seed))
        if not self.object_id:
            object.__setattr__(self, "object_id", _derived_id("mi-sp", self.tenant_id, seed))
        if not self.display_name:
            object.__setattr__(
                self,
                "display_name",
                "system-assigned identity" if not self.user_assigned else f"mi {self.client_id}",
            )
        if self.token_lifetime is not None:
            _check_lifetime(self.token_lifetime, f"managed identity {self.client_id}")

    @property
    def mirid(self) -> str:
        """The ``xms_mirid`` claim: the Azure resource the identity belongs to. A user-assigned
        identity is its own resource; a system-assigned one is its host's (a VM here)."""
        if self.resource_id:
            return self.resource_id
        sub = _derived_id("subscription", self.tenant_id)
        if self.user_assigned:
            return (
                f"/subscriptions/{sub}/resourcegroups/entra-auth-emulator/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{self.client_id}"
            )
        return (
            f"/subscriptions/{sub}/resourcegroups/entra-auth-emulator/providers/"
            "Microsoft.Compute/virtualMachines/emulator-vm"
        )


@dataclass(frozen=True)
class TenantRegistration:
    """A tenant declared explicitly, so verified domains (``contoso.onmicrosoft.com``) resolve
    to it. Tenants that apps or identities name exist without this."""

    tenant_id: str
    domains: tuple[str, ...] = ()
    display_name: str = ""

    def __post_init__(self) -> None:
        for domain in self.domains:
            if "." not in domain or "/" in domain or domain != domain.strip():
                raise ConfigError(f"tenant {self.tenant_id}: {domain!r} is not a domain name")
        object.__setattr__(self, "domains", tuple(d.lower() for d in self.domains))


@dataclass(frozen=True)
class ResourceRegistration:
    """A resource (an API's service principal) tokens may be requested for, beyond the built-in
    Microsoft ones and the ``api://<client_id>`` of registered apps."""

    identifier_uris: tuple[str, ...]
    app_id: str = ""
    display_name: str = ""
    access_token_accepted_version: int = 1

    def __post_init__(self) -> None:
        if not self.identifier_uris or not all(
            isinstance(u, str) and u.strip() and not u.endswith("/.default")
            for u in self.identifier_uris
        ):
            raise ConfigError("a resource needs identifier_uris (without '/.default')")
        if not self.app_id:
            object.__setattr__(self, "app_id", _derived_id("resource", self.identifier_uris[0]))
        if not self.display_name:
            object.__setattr__(self, "display_name", self.identifier_uris[0])
        _check_version(self.access_token_accepted_version, f"resource {self.identifier_uris[0]}")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator knows at start; more can be registered at runtime."""

    apps: tuple[AppRegistration, ...] = ()
    managed_identities: tuple[ManagedIdentityRegistration, ...] = ()
    tenants: tuple[TenantRegistration, ...] = ()
    resources: tuple[ResourceRegistration, ...] = ()
    # Refuse any reuse of an assertion's jti (Entra accepts reuse until the assertion expires).
    strict_jti: bool = False
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME
    # [[graph.users]] and [[graph.groups]]: what the emulator's small Graph serves.
    graph: GraphConfig = field(default_factory=GraphConfig)

    def __post_init__(self) -> None:
        _check_lifetime(self.token_lifetime, "config")
        seen: set[tuple[str, str]] = set()
        for app in self.apps:
            key = (app.tenant_id.lower(), app.client_id.lower())
            if key in seen:
                raise ConfigError(f"duplicate client_id {app.client_id} in tenant {app.tenant_id}")
            seen.add(key)
        mi_keys: set[str] = set()
        system = 0
        for mi in self.managed_identities:
            if not mi.user_assigned:
                system += 1
                continue
            for value in (mi.client_id, mi.object_id, mi.resource_id):
                if value and value.lower() in mi_keys:
                    raise ConfigError(f"duplicate managed identity id {value}")
                if value:
                    mi_keys.add(value.lower())
        if system > 1:
            raise ConfigError("more than one system-assigned managed identity (no client_id)")
        names: set[str] = set()
        for tenant in self.tenants:
            for name in (tenant.tenant_id.lower(), *tenant.domains):
                if name in names:
                    raise ConfigError(f"tenant id or domain {name} declared twice")
                names.add(name)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EmulatorConfig:
        return load_config(path)


APP_KEYS = {
    "tenant_id",
    "client_id",
    "display_name",
    "roles",
    "secrets",
    "certificates",
    "trusted_issuers",
    "trusted_subjects",
    "federated_credentials",
    "object_id",
    "token_lifetime",
    "enabled",
    "access_token_accepted_version",
}
MI_KEYS = {
    "tenant_id",
    "client_id",
    "object_id",
    "resource_id",
    "display_name",
    "roles",
    "token_lifetime",
}
SECRET_KEYS = {"value", "expires"}
FEDERATED_KEYS = {"issuer", "subject", "audiences", "name"}
TENANT_KEYS = {"tenant_id", "domains", "display_name"}
RESOURCE_KEYS = {"identifier_uris", "app_id", "display_name", "access_token_accepted_version"}
TOP_LEVEL_KEYS = {
    "apps",
    "managed_identities",
    "tenants",
    "resources",
    "strict_jti",
    "token_lifetime",
    "graph",
}
# Older names, kept for the docs test and callers that imported them.
_APP_KEYS = APP_KEYS
_MI_KEYS = MI_KEYS


def _str(entry: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = entry.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where}: missing required key '{key}'")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _str_list(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(value)


def _bool(entry: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: '{key}' must be true or false")
    return value


def _lifetime(entry: Mapping[str, Any], where: str) -> int | None:
    value = entry.get("token_lifetime")
    if value is not None:
        _check_lifetime(value, where)
    return value


def _version(entry: Mapping[str, Any], where: str) -> int:
    value = entry.get("access_token_accepted_version", 1)
    _check_version(value, where)
    return int(value)


def _entries(data: Mapping[str, Any], key: str, where: str) -> Sequence[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where}: '{key}' must be an array of tables ([[{key}]])")
    return value


def _no_extra(entry: Mapping[str, Any], known: set[str], where: str) -> None:
    extra = sorted(set(entry) - known)
    if extra:
        raise ConfigError(f"{where}: unknown key '{extra[0]}' (known: {', '.join(sorted(known))})")


def _expires(value: object, where: str) -> datetime:
    """A TOML date-time, or an ISO 8601 string (what JSON in the admin API carries)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    raise ConfigError(f"{where}: 'expires' must be a date-time such as 2030-01-31T00:00:00Z")


def _secrets(entry: Mapping[str, Any], where: str) -> tuple[ClientSecret, ...]:
    value = entry.get("secrets", [])
    if not isinstance(value, list):
        raise ConfigError(f"{where}: 'secrets' must be a list of strings or tables")
    secrets = []
    for i, item in enumerate(value, 1):
        at = f"{where}: secrets[{i}]"
        if isinstance(item, str) and item:
            secrets.append(ClientSecret(item))
        elif isinstance(item, dict):
            _no_extra(item, SECRET_KEYS, at)
            expires = item.get("expires")
            secrets.append(
                ClientSecret(
                    _str(item, "value", at, required=True),
                    _expires(expires, at) if expires is not None else None,
                )
            )
        else:
            raise ConfigError(f"{at}: a secret is a non-empty string or {{value, expires}}")
    return tuple(secrets)


def parse_federated_credential(entry: Mapping[str, Any], where: str) -> FederatedCredential:
    _no_extra(entry, FEDERATED_KEYS, where)
    audiences = _str_list(entry, "audiences", where) if "audiences" in entry else None
    try:
        return FederatedCredential(
            issuer=_str(entry, "issuer", where, required=True),
            subject=_str(entry, "subject", where, required=True),
            audiences=audiences if audiences is not None else (TOKEN_EXCHANGE_AUDIENCE,),
            name=_str(entry, "name", where),
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_app(entry: Mapping[str, Any], *, base: Path | None, where: str) -> AppRegistration:
    """One ``[[apps]]`` table (or admin API body). ``base`` None: certificates must be PEM text,
    since a path sent over HTTP has no folder it is relative to."""
    _no_extra(entry, APP_KEYS, where)
    feds = tuple(
        parse_federated_credential(f, f"{where}: federated_credentials[{i}]")
        for i, f in enumerate(_entries(entry, "federated_credentials", where), 1)
    )
    try:
        return AppRegistration(
            tenant_id=_str(entry, "tenant_id", where, required=True),
            client_id=_str(entry, "client_id", where, required=True),
            display_name=_str(entry, "display_name", where),
            roles=_str_list(entry, "roles", where),
            secrets=_secrets(entry, where),
            certificates=_certs(entry, "certificates", where, base),
            trusted_issuers=_certs(entry, "trusted_issuers", where, base),
            trusted_subjects=_str_list(entry, "trusted_subjects", where),
            federated_credentials=feds,
            object_id=_str(entry, "object_id", where),
            token_lifetime=_lifetime(entry, where),
            enabled=_bool(entry, "enabled", where, True),
            access_token_accepted_version=_version(entry, where),
        )
    except ConfigError as exc:
        message = str(exc)
        raise ConfigError(message if message.startswith(where) else f"{where}: {message}") from None


def parse_managed_identity(entry: Mapping[str, Any], where: str) -> ManagedIdentityRegistration:
    _no_extra(entry, MI_KEYS, where)
    client_id = _str(entry, "client_id", where)
    resource_id = _str(entry, "resource_id", where)
    return ManagedIdentityRegistration(
        tenant_id=_str(entry, "tenant_id", where, required=True),
        client_id=client_id,
        object_id=_str(entry, "object_id", where),
        resource_id=resource_id,
        display_name=_str(entry, "display_name", where),
        roles=_str_list(entry, "roles", where),
        user_assigned=bool(client_id or resource_id),
        token_lifetime=_lifetime(entry, where),
    )


def parse_tenant(entry: Mapping[str, Any], where: str) -> TenantRegistration:
    _no_extra(entry, TENANT_KEYS, where)
    try:
        return TenantRegistration(
            tenant_id=_str(entry, "tenant_id", where, required=True),
            domains=_str_list(entry, "domains", where),
            display_name=_str(entry, "display_name", where),
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_resource(entry: Mapping[str, Any], where: str) -> ResourceRegistration:
    _no_extra(entry, RESOURCE_KEYS, where)
    try:
        return ResourceRegistration(
            identifier_uris=_str_list(entry, "identifier_uris", where),
            app_id=_str(entry, "app_id", where),
            display_name=_str(entry, "display_name", where),
            access_token_accepted_version=_version(entry, where),
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def config_from_dict(data: Mapping[str, Any], *, base: Path | None, where: str) -> EmulatorConfig:
    """Validate parsed TOML (or an equivalent dict) into an :class:`EmulatorConfig`."""
    unknown = sorted(set(data) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key '{unknown[0]}' (expected {', '.join(sorted(TOP_LEVEL_KEYS))})"
        )
    apps = [
        parse_app(entry, base=base, where=f"{where}: apps[{i}]")
        for i, entry in enumerate(_entries(data, "apps", where), 1)
    ]
    mis = [
        parse_managed_identity(entry, f"{where}: managed_identities[{i}]")
        for i, entry in enumerate(_entries(data, "managed_identities", where), 1)
    ]
    tenants = [
        parse_tenant(entry, f"{where}: tenants[{i}]")
        for i, entry in enumerate(_entries(data, "tenants", where), 1)
    ]
    resources = [
        parse_resource(entry, f"{where}: resources[{i}]")
        for i, entry in enumerate(_entries(data, "resources", where), 1)
    ]
    graph = parse_graph(data.get("graph", {}), where)
    try:
        return EmulatorConfig(
            apps=tuple(apps),
            managed_identities=tuple(mis),
            tenants=tuple(tenants),
            resources=tuple(resources),
            strict_jti=_bool(data, "strict_jti", where, False),
            token_lifetime=data.get("token_lifetime", DEFAULT_TOKEN_LIFETIME),
            graph=graph,
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _certs(
    entry: Mapping[str, Any], key: str, where: str, base: Path | None
) -> tuple[x509.Certificate, ...]:
    values = _str_list(entry, key, where)
    what = key.rstrip("s").replace("_", " ")
    if base is None and any("-----BEGIN" not in v for v in values):
        raise ConfigError(f"{where}: '{key}' must be PEM text here (file paths only in a config)")
    try:
        return coerce_certificates(values, base=base, what=what)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_config(path: str | os.PathLike[str]) -> EmulatorConfig:
    """Read and validate a TOML config; paths inside are relative to the file's folder."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already says "(at line N, column M)".
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return config_from_dict(data, base=path.parent, where=str(path))
