"""Reading the config file: named profiles and custom environments (DESIGN.md "Config file").

Reading lives in core (stdlib ``tomllib``) so scripts can ``connect(profile="prod")``; writing
lives in the CLI (``tomli-w``). Everything is checked before any network call, and each problem
is one line that names the file, the profile and the key.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import paths
from .environments import BUILTIN_ENVIRONMENTS, Environment, validate_url
from .errors import ConfigurationError
from .records import Record

TOP_LEVEL_KEYS = ("default_profile", "profiles", "environments")
PROFILE_META_KEYS = ("provider", "environment", "context_scope")
ENVIRONMENT_KEYS = ("authority_host", "graph_endpoint", "ca_bundle")
PROFILE_ENV = "ENTRA_AUTH_PROFILE"


_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Profile(Record):
    """A named set of connect options: which provider, its options, where, how long.

    Config records are ``Record`` classes rather than frozen dataclasses or named tuples: as
    immutable, and the cheapest to define on every process's start-up path."""

    name: str
    provider: str
    options: Mapping[str, Any] = _EMPTY
    environment: str | None = None
    context_scope: str | None = None

    @property
    def app(self) -> str | None:
        """The app (or user-assigned identity) the profile signs in as, when it names one."""
        value = self.options.get("client_id")
        return str(value) if value is not None else None

    @property
    def tenant(self) -> str | None:
        value = self.options.get("tenant_id")
        return str(value) if value is not None else None

    def as_table(self) -> dict[str, Any]:
        table: dict[str, Any] = {"provider": self.provider, **self.options}
        if self.environment:
            table["environment"] = self.environment
        if self.context_scope:
            table["context_scope"] = self.context_scope
        return table


class Config(Record):
    """The parsed config file (``exists`` False when there is none)."""

    path: Path
    default_profile: str | None = None
    profiles: Mapping[str, Profile] = _EMPTY
    environments: Mapping[str, Environment] = _EMPTY
    exists: bool = False

    def profile(self, name: str) -> Profile:
        found = self.profiles.get(name)
        if found is None:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigurationError(
                f"no profile {name!r} in {self.path}; profiles: {known} "
                "(add one with 'entra-auth profile add')"
            )
        return found

    def selected_profile_name(self, explicit: str | None = None) -> str | None:
        """``--profile``, else ``ENTRA_AUTH_PROFILE``, else ``default_profile``."""
        return explicit or os.environ.get(PROFILE_ENV, "").strip() or self.default_profile


PARSED_CACHE_THRESHOLD = 64 * 1024
"""Config files larger than this keep a parsed copy (see ``read_toml``)."""
PARSED_CACHE_NAME = "config.parsed"
PARSED_CACHE_VERSION = 1


def read_toml(path: Path) -> dict[str, Any]:
    """Parse ``path`` (an absent file is empty); a syntax error names the file, line and column.

    The file is read with ``files.read_trusted``: a regular file owned by the user or root, not
    writable by group or others, in a folder others cannot write, up to 16 MiB.

    tomllib takes about 25 ms per 1,000 profiles, so a config with thousands of them would slow
    every command down. A large file's parsed form is therefore kept as JSON in the cache
    folder, stamped with the config's path and the SHA-256 of its bytes (hashing a megabyte
    costs about a millisecond), and used only while the file says exactly that. The copy can
    say nothing the file does not: it is read with the same ownership and mode rules (and must
    be private and not a link), its stamp must match the bytes just read, and any anomaly is a
    miss that parses the file again; it is never written into a folder others could write.
    """
    from .files import CONFIG_LIMIT, read_trusted

    try:
        data = read_trusted(path, limit=CONFIG_LIMIT, what="config file")
    except FileNotFoundError:
        return {}
    stamp: list[str] | None = None
    if len(data) > PARSED_CACHE_THRESHOLD:
        import hashlib

        stamp = [str(Path(path).absolute()), hashlib.sha256(data).hexdigest()]
        cached = _load_parsed(stamp)
        if cached is not None:
            return cached
    import tomllib  # only when there is a config file to parse

    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"config file {path} is not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"config file {path} is not valid TOML: {exc}") from None
    if stamp is not None:
        _store_parsed(stamp, parsed)
    return parsed


def _parsed_cache_file() -> Path:
    return paths.cache_dir() / PARSED_CACHE_NAME


def _load_parsed(stamp: list[str]) -> dict[str, Any] | None:
    import json

    from .errors import EntraAuthError
    from .files import CONFIG_LIMIT, read_trusted

    try:
        blob = read_trusted(
            _parsed_cache_file(),
            limit=4 * CONFIG_LIMIT,
            what="parsed config copy",
            private=True,
            follow_symlinks=False,
        )
        saved = json.loads(blob)
    except (OSError, ValueError, RecursionError, EntraAuthError):
        return None
    if (
        not isinstance(saved, dict)
        or saved.get("version") != PARSED_CACHE_VERSION
        or saved.get("stamp") != stamp
        or not isinstance(saved.get("data"), dict)
    ):
        return None
    data: dict[str, Any] = saved["data"]
    return data


def _store_parsed(stamp: list[str], data: dict[str, Any]) -> None:
    import json

    from .errors import EntraAuthError
    from .files import atomic_write_text, check_folder

    try:
        # TOML dates and times have no JSON form, and NaN/inf would not round-trip: parse
        # such files every time.
        text = json.dumps(
            {"version": PARSED_CACHE_VERSION, "stamp": stamp, "data": data}, allow_nan=False
        )
    except (TypeError, ValueError):
        return
    folder = _parsed_cache_file().parent
    with contextlib.suppress(EntraAuthError):
        check_folder(folder, "the parsed config copy")
        atomic_write_text(_parsed_cache_file(), text)


def parse_config(data: Mapping[str, Any], path: Path, *, exists: bool = True) -> Config:
    unknown = sorted(set(data) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown top-level key {unknown[0]!r}; allowed: {', '.join(TOP_LEVEL_KEYS)}"
        )
    environments = {
        name: _environment(path, name, table)
        for name, table in _tables(path, data.get("environments", {}), "environments").items()
    }
    profiles = {
        name: _profile(path, name, table)
        for name, table in _tables(path, data.get("profiles", {}), "profiles").items()
    }
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise ConfigurationError(f"{path}: default_profile must be a profile name (a string)")
    return Config(path, default, profiles, environments, exists)


def load_config(path: Path | None = None) -> Config:
    """The config at ``path`` (default: ``$ENTRA_AUTH_CONFIG`` or the XDG location); an absent
    file is an empty config."""
    path = path or paths.config_file()
    data = read_toml(path)
    return parse_config(data, path, exists=bool(data) or _exists(path))


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _tables(path: Path, value: object, what: str) -> dict[str, Mapping[str, Any]]:
    if not isinstance(value, dict):
        raise ConfigurationError(f"{path}: [{what}] must be a table of tables")
    for name, table in value.items():
        if not isinstance(table, dict):
            raise ConfigurationError(f"{path}: [{what}.{name}] must be a table")
    return value


def _environment(path: Path, name: str, table: Mapping[str, Any]) -> Environment:
    where = f"{path}: [environments.{name}]"
    if name in BUILTIN_ENVIRONMENTS:
        raise ConfigurationError(f"{where} redefines the built-in environment {name}")
    unknown = sorted(set(table) - set(ENVIRONMENT_KEYS))
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(ENVIRONMENT_KEYS)}"
        )
    for key in ("authority_host", "graph_endpoint"):
        if not isinstance(table.get(key), str):
            raise ConfigurationError(f'{where} needs {key} = "https://…"')
    ca_bundle = table.get("ca_bundle")
    if ca_bundle is not None:
        if not isinstance(ca_bundle, str):
            raise ConfigurationError(f"{where}: ca_bundle must be a path")
        bundle = Path(ca_bundle).expanduser()
        if not bundle.is_absolute():
            bundle = path.parent / bundle
        ca_bundle = str(bundle)
    return Environment(
        name,
        validate_url(table["authority_host"], f"{where} authority_host"),
        validate_url(table["graph_endpoint"], f"{where} graph_endpoint"),
        ca_bundle,
    )


def _profile(path: Path, name: str, table: Mapping[str, Any]) -> Profile:
    where = f"{path}: [profiles.{name}]"
    provider = table.get("provider")
    if not isinstance(provider, str) or not provider:
        raise ConfigurationError(f'{where} needs provider = "<name>" (see entra-auth providers)')
    scope = table.get("context_scope")
    if scope is not None and scope not in ("Process", "CurrentUser"):
        raise ConfigurationError(f"{where}: context_scope must be Process or CurrentUser")
    environment = table.get("environment")
    if environment is not None and not isinstance(environment, str):
        raise ConfigurationError(f"{where}: environment must be a name")
    options = {k: v for k, v in table.items() if k not in PROFILE_META_KEYS}
    return Profile(name, provider, options, environment, scope)
