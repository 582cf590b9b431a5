"""``entra-auth --help`` kept between processes, so the fast path prints it without typer.

Importing typer and the command table is most of what ``--help`` costs, to print a page that
changes only when the CLI or what is installed changes. The full CLI stores the page it
rendered (``TopLevelGroup.get_help``); the fast path prints it only under the same key and
terminal width, else the full CLI answers and stores it again. The key covers the plugin
discovery cache's key (every installed distribution and its version, typer's included, the
Python version) and the CLI's own source files (name, size and modification time: an edit of
an editable install counts). The file is ``$XDG_CACHE_HOME/entra-auth/help.json``, 0600,
written atomically by core's ``files``; the fast path reads it only when it is exactly as
written (``fast.read_private``).
"""

from __future__ import annotations

import hashlib
import json
import os

from .plugin_cache_loader import plugin_cache_module

TYPE_CHECKING = False  # typing is not imported: the fast path reads this module
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

FILE_NAME = "help.json"
FORMAT_VERSION = 1
_WIDTHS_KEPT = 8
"""Pages kept per key, one per terminal width seen (the oldest goes first)."""


def key(plugin_cache: ModuleType) -> str:
    """What the page depends on besides the terminal width."""
    digest = hashlib.sha256(f"{FORMAT_VERSION}\0{plugin_cache.environment_key()}\0".encode())
    folder = os.path.dirname(os.path.abspath(__file__))
    with os.scandir(folder) as found:
        sources = sorted((e.name, e.stat()) for e in found if e.name.endswith(".py"))
    for name, info in sources:
        digest.update(f"{name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def columns() -> int:
    """The terminal width click formats help for (it asks ``shutil`` too)."""
    import shutil

    return shutil.get_terminal_size().columns


def lookup(raw: bytes, page_key: str, width: int) -> str | None:
    """The page stored for ``page_key`` at ``width``, when ``raw`` is a well-formed file."""
    page = _pages(raw, page_key).get(str(width))
    return page if isinstance(page, str) and page.isascii() else None


def _pages(raw: bytes, page_key: str) -> dict[str, Any]:
    """The pages kept under ``page_key``: none for another key or a malformed file."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        return {}
    pages = data.get("pages")
    return pages if data.get("key") == page_key and isinstance(pages, dict) else {}


def store(page: str) -> None:
    """Keep ``page`` (the top-level help the full CLI just rendered) for the fast path; never
    fails the command: a cache that cannot be written is only slower."""
    try:
        _store(page)
    except Exception as exc:  # the help is printed whatever happens here
        import logging

        logging.getLogger("entra_auth.cli").debug("help page not cached: %s", exc)


def _store(page: str) -> None:
    plugin_cache = plugin_cache_module()
    if plugin_cache is None or not page.isascii():
        return
    page_key, width = key(plugin_cache), str(columns())
    path = os.path.join(os.path.dirname(plugin_cache.cache_path()), FILE_NAME)
    from .fast import read_private

    raw = read_private(path)  # None when missing or not exactly as written: written anew
    pages = _pages(raw, page_key) if raw is not None else {}
    if pages.get(width) == page:
        return  # already kept: core (and with it pluggy) is imported only to write
    pages.pop(width, None)
    pages[width] = page
    while len(pages) > _WIDTHS_KEPT:
        pages.pop(next(iter(pages)))
    text = json.dumps({"version": FORMAT_VERSION, "key": page_key, "pages": pages})
    from pathlib import Path

    from entra_auth.files import atomic_write_text, ensure_private_dir

    ensure_private_dir(Path(path).parent)
    atomic_write_text(Path(path), text + "\n", what="help cache")
