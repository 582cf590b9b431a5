"""The emulator's configuration: app registrations and managed identities, from TOML or code.

The TOML format is pinned in DESIGN.md ("The emulator"); unknown keys are errors so a typo never
silently turns into an app that signs in without the credential the author meant to require.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from .errors import ConfigError
from .pki import CertifiedKey, load_certificates

__all__ = [
    "AppRegistration",
    "CertificateInput",
    "EmulatorConfig",
    "ManagedIdentityRegistration",
    "load_config",
]

DEFAULT_TOKEN_LIFETIME = 3599
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
class AppRegistration:
    """An app registration (and its service principal) in one tenant."""

    tenant_id: str
    client_id: str
    display_name: str = ""
    roles: tuple[str, ...] = ()
    secrets: tuple[str, ...] = field(default=(), repr=False)
    certificates: tuple[x509.Certificate, ...] = ()
    trusted_issuers: tuple[x509.Certificate, ...] = ()
    object_id: str = ""
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME

    def __post_init__(self) -> None:
        if not self.display_name:
            object.__setattr__(self, "display_name", f"app {self.client_id}")
        if not self.object_id:
            object.__setattr__(self, "object_id", _derived_id("sp", self.tenant_id, self.client_id))


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
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME

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


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator knows at start; more can be registered at runtime."""

    apps: tuple[AppRegistration, ...] = ()
    managed_identities: tuple[ManagedIdentityRegistration, ...] = ()

    def __post_init__(self) -> None:
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

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EmulatorConfig:
        return load_config(path)


_APP_KEYS = {
    "tenant_id",
    "client_id",
    "display_name",
    "roles",
    "secrets",
    "certificates",
    "trusted_issuers",
    "object_id",
    "token_lifetime",
}
_MI_KEYS = {
    "tenant_id",
    "client_id",
    "object_id",
    "resource_id",
    "display_name",
    "roles",
    "token_lifetime",
}


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


def _lifetime(entry: Mapping[str, Any], where: str) -> int:
    value = entry.get("token_lifetime", DEFAULT_TOKEN_LIFETIME)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 86400:
        raise ConfigError(f"{where}: 'token_lifetime' must be seconds between 1 and 86400")
    return value


def _entries(data: Mapping[str, Any], key: str, where: str) -> Sequence[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where}: '{key}' must be an array of tables ([[{key}]])")
    return value


def config_from_dict(data: Mapping[str, Any], *, base: Path | None, where: str) -> EmulatorConfig:
    """Validate parsed TOML (or an equivalent dict) into an :class:`EmulatorConfig`."""
    unknown = sorted(set(data) - {"apps", "managed_identities"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown key '{unknown[0]}' (expected apps, managed_identities)"
        )
    apps = []
    for i, entry in enumerate(_entries(data, "apps", where), 1):
        at = f"{where}: apps[{i}]"
        extra = sorted(set(entry) - _APP_KEYS)
        if extra:
            raise ConfigError(f"{at}: unknown key '{extra[0]}'")
        apps.append(
            AppRegistration(
                tenant_id=_str(entry, "tenant_id", at, required=True),
                client_id=_str(entry, "client_id", at, required=True),
                display_name=_str(entry, "display_name", at),
                roles=_str_list(entry, "roles", at),
                secrets=_str_list(entry, "secrets", at),
                certificates=_certs(entry, "certificates", at, base),
                trusted_issuers=_certs(entry, "trusted_issuers", at, base),
                object_id=_str(entry, "object_id", at),
                token_lifetime=_lifetime(entry, at),
            )
        )
    mis = []
    for i, entry in enumerate(_entries(data, "managed_identities", where), 1):
        at = f"{where}: managed_identities[{i}]"
        extra = sorted(set(entry) - _MI_KEYS)
        if extra:
            raise ConfigError(f"{at}: unknown key '{extra[0]}'")
        client_id = _str(entry, "client_id", at)
        resource_id = _str(entry, "resource_id", at)
        mis.append(
            ManagedIdentityRegistration(
                tenant_id=_str(entry, "tenant_id", at, required=True),
                client_id=client_id,
                object_id=_str(entry, "object_id", at),
                resource_id=resource_id,
                display_name=_str(entry, "display_name", at),
                roles=_str_list(entry, "roles", at),
                user_assigned=bool(client_id or resource_id),
                token_lifetime=_lifetime(entry, at),
            )
        )
    try:
        return EmulatorConfig(apps=tuple(apps), managed_identities=tuple(mis))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _certs(
    entry: Mapping[str, Any], key: str, where: str, base: Path | None
) -> tuple[x509.Certificate, ...]:
    paths = _str_list(entry, key, where)
    try:
        return coerce_certificates(paths, base=base, what=key.rstrip("s").replace("_", " "))
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
