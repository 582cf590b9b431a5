"""The plugin discovery cache: which entry points are installed, kept between processes.

Reading the ``entra_auth`` entry points through ``importlib.metadata`` walks every installed
distribution's metadata (16 ms here); this file remembers the answer under a key that changes
whenever a distribution is installed, upgraded or removed. For each ``sys.path`` folder that
holds ``*.dist-info`` / ``*.egg-info`` / ``*.egg-link`` / ``*.pth`` entries: where it is, their
names (an addition counts even within one clock tick), the folder's modification time (an
installer that replaces a ``*.dist-info`` folder of the same name changes it), and the times of
the legacy entries and their ``entry_points.txt``, which ``setup.py develop`` rewrites in place;
zip files on ``sys.path`` by their time; plus ``ENTRA_AUTH_DISABLE_PLUGINS`` and the Python
version. A folder with no distribution (a script's own folder, where other files come and go)
counts for nothing, so scripts run from different folders share one cache; the standard
library's folders are not listed, and no ``*.dist-info`` is stated one by one: the key costs
0.5 ms, not 1.5.

The file is ``$XDG_CACHE_HOME/entra-auth/plugins.json``, 0600, written atomically; core reads it
with ``files.read_trusted`` (private, no link, the user's) and ignores anything it does not
expect. This module imports only the standard library and nothing from ``entra_auth`` (the
CLI's fast path loads it by file location, without importing the package).

Besides the entry points, a host that loaded every plugin records facts about each (``plugins``:
the hooks it implements, the providers it registered, whether it had a problem) so the next
process can leave a plugin that only registers providers unimported until one of its providers
is asked for (see ``plugins.build_host``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys

TYPE_CHECKING = False  # typing itself is not imported: the fast path reads this module

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

FORMAT_VERSION = 2
FILE_NAME = "plugins.json"
LIMIT = 1024 * 1024
_META_SUFFIXES = (".dist-info", ".egg-info", ".egg-link", ".pth")
_REWRITTEN_IN_PLACE = (".egg-info", ".egg-link", ".pth")


def cache_file() -> Path:
    """``$XDG_CACHE_HOME/entra-auth/plugins.json`` (default ``~/.cache/entra-auth``)."""
    from pathlib import Path

    return Path(cache_path())


def cache_path() -> str:
    """``cache_file`` as a string, for the CLI's fast path, which spares itself pathlib."""
    value = os.environ.get("XDG_CACHE_HOME", "").strip()
    if value and os.path.isabs(value):
        base = value
    else:
        home = os.path.expanduser("~")
        if home == "~":  # as Path.home() fails
            raise RuntimeError("Could not determine home directory.")
        base = os.path.join(home, ".cache")
    return os.path.join(base, "entra-auth", FILE_NAME)


def environment_key() -> str:
    """A digest of what decides which distributions (and so entry points) are installed."""
    digest = hashlib.sha256()
    digest.update(f"{FORMAT_VERSION}\0{sys.version}\0{sys.executable}\0".encode())
    digest.update(os.environ.get("ENTRA_AUTH_DISABLE_PLUGINS", "").encode() + b"\0")
    stdlib = _stdlib_folders()
    for entry in sys.path:
        if entry in stdlib:
            continue  # no installer writes there
        folder = entry or "."
        try:
            with os.scandir(folder) as found:
                names = sorted(e.name for e in found if e.name.endswith(_META_SUFFIXES))
        except OSError:  # missing (nothing to find), or a file such as a zip: its time counts
            stamp = _stamp(folder)
            if stamp != "-":
                digest.update(f"{entry}\0{stamp}\0".encode("utf-8", "surrogateescape"))
            continue
        if not names:
            # Nothing installed here (a script's own folder): neither where it is nor what else
            # it holds changes what is installed, so two scripts in two folders share the cache.
            continue
        where = f"{os.path.abspath(folder)}\0{_stamp(folder)}\0"
        digest.update(where.encode("utf-8", "surrogateescape"))
        for name in names:
            stamp = _mtime(entry, name) if name.endswith(_REWRITTEN_IN_PLACE) else 0
            digest.update(f"{name}\0{stamp}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _stdlib_folders() -> set[str]:
    """The interpreter's own library folders (``lib/pythonX.Y``, its zip, ``lib-dynload``)."""
    major, minor = sys.version_info[:2]
    lib = os.path.join(sys.base_prefix, "lib")
    stdlib = os.path.join(lib, f"python{major}.{minor}")
    return {
        stdlib,
        os.path.join(stdlib, "lib-dynload"),
        os.path.join(lib, f"python{major}{minor}.zip"),
    }


def _stamp(path: str) -> int | str:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return "-"


def _mtime(folder: str, name: str) -> int:
    """The entry's modification time, and its entry points file's (rewritten in place by some
    installers, which leaves the folder's time alone)."""
    path = os.path.join(folder or ".", name)
    total = 0
    for candidate in (path, os.path.join(path, "entry_points.txt")):
        with contextlib.suppress(OSError):
            total ^= os.stat(candidate).st_mtime_ns
    return total


def parse(raw: bytes, key: str) -> dict[str, Any] | None:
    """The cached discovery when ``raw`` is a well-formed entry for ``key``, else None."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        return None
    if data.get("key") != key:
        return None
    entry_points = data.get("entry_points")
    if not isinstance(entry_points, list):
        return None
    for ep in entry_points:
        if not (
            isinstance(ep, dict)
            and all(isinstance(ep.get(f), str) for f in ("name", "value", "dist", "version"))
        ):
            return None
    core = data.get("core_version")
    if not isinstance(core, str):
        return None
    if "plugins" in data and not _valid_facts(data["plugins"]):
        return None
    return data


def _valid_facts(facts: object) -> bool:
    """``{entry point: {"hooks": [str], "wrappers": [str], "providers": [str], "problem":
    bool}}``: anything else (the file is not trusted to be ours) drops the whole entry."""
    if not isinstance(facts, dict):
        return False
    for name, fact in facts.items():
        if not (isinstance(name, str) and isinstance(fact, dict)):
            return False
        if set(fact) != {"hooks", "wrappers", "providers", "problem"}:
            return False
        if not isinstance(fact["problem"], bool):
            return False
        for field in ("hooks", "wrappers", "providers"):
            value = fact[field]
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                return False
    return True


def render(key: str, entry_points: list[dict[str, str]], core_version: str, **extra: Any) -> str:
    """The file's text; ``extra`` holds what a host learnt after loading the plugins
    (``providers``, ``cache_options``, ``plugins``)."""
    return json.dumps(
        {
            "version": FORMAT_VERSION,
            "key": key,
            "core_version": core_version,
            "entry_points": entry_points,
            **extra,
        },
        sort_keys=True,
    )
