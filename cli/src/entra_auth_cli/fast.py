"""The fast path: ``entra-auth token`` and ``entra-auth context`` answered from the saved
connection and the ``CurrentUser`` token cache, and ``entra-auth --help`` from the page the full
CLI stored (``help_cache``), without importing typer, click, pluggy, msal, requests,
cryptography or importlib.metadata.

It answers only when the answer is certain to be the one the full command would give, byte for
byte, and declines (returns None, so the full CLI runs) on anything else: another flag or
spelling, ``--profile`` or ``ENTRA_AUTH_PROFILE``, ``--debug``, a cache miss or a token due for
refresh, a connection without the ``CurrentUser`` scope, with a shared token cache or with an
encrypted one (``token_cache_encryption``, ``ENTRA_AUTH_CACHE_ENCRYPTION``: the key is in the OS
keyring, which only the full command reads), a provider
whose cache partition depends on more than its options, plugins that changed since they were
last discovered, and every file that is not exactly as entra-auth writes it (a link, another
owner, readable or writable by others, damaged). The full command owns every error and warning.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import time

TYPE_CHECKING = False  # typing, pathlib and dataclasses are not imported on this path
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

_LIMIT = 1024 * 1024
_MAX_TIME = 2**40
_REFRESH_BEFORE_EXPIRY = 300
_CORE_OPTIONS = (
    "additionally_allowed_tenants",
    "token_cache",
    "token_cache_fallback",
    "token_cache_encryption",
)
_URL = re.compile(r"https://[a-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*/?")


def answer(argv: Sequence[str]) -> int | None:
    """The exit code after answering ``argv``, or None when the full CLI must answer."""
    try:
        if list(argv) in (["--help"], ["-h"]):  # the same page whatever the profile
            return _help()
        if not argv or os.environ.get("ENTRA_AUTH_PROFILE", "").strip():
            return None
        command, args = argv[0], list(argv[1:])
        if command == "context":
            return _context(args)
        if command == "token":
            return _token(args)
    except Exception:  # anything unexpected: the full CLI decides
        return None
    return None


def _flags(args: list[str], allowed: dict[str, tuple[str, ...] | None]) -> dict[str, list[str]]:
    """``--name value`` / ``--name=value`` pairs for the allowed flags (a tuple lists the
    values a flag takes, None any value); ValueError for anything else."""
    given: dict[str, list[str]] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, sep, value = arg.partition("=")
        if name not in allowed:
            raise ValueError(arg)
        if not sep:
            if i + 1 >= len(args):
                raise ValueError(arg)
            value = args[i + 1]
            i += 1
        choices = allowed[name]
        if choices is not None and value not in choices:
            raise ValueError(value)
        if choices is None and (not value or value.startswith("-")):
            raise ValueError(value)
        given.setdefault(name, []).append(value)
        i += 1
    for name, values in given.items():
        if allowed[name] is not None and len(values) > 1:
            raise ValueError(name)
    return given


def _context(args: list[str]) -> int | None:
    flags = _flags(args, {"--output": ("table", "json")})
    connection = _connection()
    if connection is None:
        return None
    from .output import data_json, echo, format_list

    shown = connection["context"]
    output = flags.get("--output", ["table"])[0]
    echo(data_json(shown) if output == "json" else format_list(shown))
    return 0


def _token(args: list[str]) -> int | None:
    flags = _flags(args, {"--scope": None, "--output": ("raw", "json")})
    connection = _connection()
    if connection is None or connection["context_scope"] != "CurrentUser":
        return None
    options = connection["options"]
    if any(name in options for name in _CORE_OPTIONS):
        return None
    if os.environ.get("ENTRA_AUTH_CACHE_ENCRYPTION", "").strip():
        return None  # sealed entries: the full command opens them with the keyring's key
    env = connection["environment"]
    authority, graph = env.get("authority_host", ""), env.get("graph_endpoint", "")
    if not (_URL.fullmatch(authority) and _URL.fullmatch(graph)):
        return None
    discovery = _discovery()
    if discovery is None:
        return None
    provider = discovery.get("providers", {}).get(connection["provider"])
    if not isinstance(provider, dict) or provider.get("static_partition") is not True:
        return None
    if any(options.get(name) is not None for name in provider.get("path_options", [None])):
        return None  # checked against the file system again by the full command
    cache_options = set(discovery.get("cache_options", ()))
    own = {k: v for k, v in options.items() if k not in cache_options}
    partition = _partition(connection["provider"], authority, own)
    if partition != connection.get("partition"):
        return None
    scopes = flags.get("--scope") or [graph.rstrip("/") + "/.default"]
    entry = _cached_token(partition, scopes)
    if entry is None:
        return None
    from .output import echo, token_json

    if flags.get("--output", ["raw"])[0] == "json":
        echo(token_json(entry["token_type"], entry["access_token"], entry["expires_on"], scopes))
    else:
        echo(entry["access_token"])
    return 0


def _help() -> int | None:
    """The top-level help page the full CLI stored (``help_cache``) for this installation and
    terminal width."""
    from . import help_cache
    from .plugin_cache_loader import plugin_cache_module

    module = plugin_cache_module()
    if module is None:
        return None
    raw = read_private(os.path.join(os.path.dirname(module.cache_path()), help_cache.FILE_NAME))
    if raw is None:
        return None
    page = help_cache.lookup(raw, help_cache.key(module), help_cache.columns())
    if page is None:
        return None
    from .output import echo

    echo(page)
    return 0


# -- files, read only when exactly as entra-auth writes them ------------------------------


def _xdg(variable: str, fallback: str) -> str:
    value = os.environ.get(variable, "").strip()
    base = value if value and os.path.isabs(value) else os.path.join(_home(), fallback)
    return os.path.join(base, "entra-auth")


def _home() -> str:
    """``Path.home()``: ``~`` expanded, an error when there is no home (the full command
    reports it)."""
    home = os.path.expanduser("~")
    if home == "~":
        raise RuntimeError("no home folder")
    return home


def _private_folder(folder: str) -> bool:
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def read_private(path: str) -> bytes | None:
    """The file's bytes when it is a regular file of this user, 0600 or stricter, not a link,
    in a folder only this user can write; None otherwise."""
    if not _private_folder(os.path.dirname(path)):
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (
            not stat.S_ISREG(info.st_mode)
            or info.st_uid != os.geteuid()
            or info.st_mode & 0o077
            or info.st_size > _LIMIT
        ):
            return None
        data = os.read(fd, _LIMIT + 1)
        return data if len(data) == info.st_size else None
    finally:
        os.close(fd)


def _connection() -> dict[str, Any] | None:
    from . import saved_format

    explicit = os.environ.get("ENTRA_AUTH_STATE_DIR", "").strip()
    folder = os.path.expanduser(explicit) if explicit else _xdg("XDG_STATE_HOME", ".local/state")
    raw = read_private(os.path.join(folder, saved_format.FILE_NAME))
    if raw is None:
        return None
    try:
        return saved_format.parse(raw)
    except ValueError:
        return None


def _discovery() -> dict[str, Any] | None:
    """The plugin discovery cache (core's ``plugin_cache``, loaded without the ``entra_auth``
    package) when it is current."""
    from .plugin_cache_loader import plugin_cache_module

    module = plugin_cache_module()
    if module is None:
        return None
    raw = read_private(module.cache_path())
    if raw is None:
        return None
    data: dict[str, Any] | None = module.parse(raw, module.environment_key())
    if data is None or not isinstance(data.get("providers"), dict):
        return None
    if not isinstance(data.get("cache_options"), list):
        return None
    return data


def _partition(provider: str, authority_host: str, options: dict[str, Any]) -> str:
    """core's ``token_store.partition_key`` (the comparison with the saved partition catches
    any drift: the fast path then declines)."""
    material = json.dumps(
        {
            "provider": provider,
            "authority": authority_host.rstrip("/").lower(),
            "options": {
                k: str(v)
                for k, v in sorted(options.items())
                if isinstance(v, str | int | float | bool)
            },
        },
        sort_keys=True,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _cached_token(partition: str, scopes: list[str]) -> dict[str, Any] | None:
    """The cached entry for ``scopes`` when it is fresh (before its refresh time) and exactly
    as ``FileTokenStore`` writes it."""
    key = json.dumps([list(scopes), None])
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    folder = os.path.join(_xdg("XDG_STATE_HOME", ".local/state"), "tokens")
    raw = read_private(os.path.join(folder, f"{partition}-{digest}.json"))
    if raw is None:
        return None
    data = json.loads(raw.decode("utf-8"))
    if not isinstance(data, dict) or data.get("version") != 1:
        return None
    token = data.get("access_token")
    if not isinstance(token, str) or not token or not token.isascii() or not token.isprintable():
        return None
    token_type = data.get("token_type")
    if not isinstance(token_type, str):
        return None
    expires_on = _timestamp(data.get("expires_on"))
    refresh_on = data.get("refresh_on")
    if expires_on is None or (refresh_on is not None and _timestamp(refresh_on) is None):
        return None
    fresh_until = (_timestamp(refresh_on) if refresh_on else None) or (
        expires_on - _REFRESH_BEFORE_EXPIRY
    )
    now = time.time()
    if not (now < expires_on - 1 and now < fresh_until - 1):  # never near a boundary
        return None
    return {"access_token": token, "token_type": token_type, "expires_on": expires_on}


def _timestamp(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not (isinstance(value, int) or math.isfinite(value)) or not 0 <= value < _MAX_TIME:
        return None
    return int(value)
