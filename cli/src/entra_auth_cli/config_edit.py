"""Changing the config file without losing anything a person wrote in it.

tomli-w writes TOML but cannot keep comments, so a plain load-change-dump would strip every
comment from a file people read and diff. Instead each change edits only the text of the table
it touches (``[profiles.NAME]``, ``[environments.NAME]``) or the one top-level line
(``default_profile = …``), with tomli-w rendering just that piece; everything else stays byte for
byte. The edited text is then parsed again and compared with the data the change should produce;
if a hand-written layout defeated the textual edit (dotted keys, inline tables…), the whole file
is rewritten with tomli-w instead and the user is told that comments were dropped. Order of
untouched entries is kept either way.

Every change runs under ``files.file_lock(config)`` as one read-modify-write cycle and lands
with ``files.atomic_write_text`` (0600, fsync, rename), so concurrent ``profile add`` processes
never lose each other's profiles and a reader never sees half a file. A ``config.toml`` that is
a symbolic link (a dotfiles repository) is written through to the link's target, which keeps its
mode, so the link stays a link. A change that is refused
raises before anything is written: the file stays byte-identical.
"""

from __future__ import annotations

import copy
import logging
import re
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger("entra_auth_cli.config")

_HEADER = re.compile(r"^\s*\[")
_TOP_KEY = r"^\s*{key}\s*="


def _header_path(line: str) -> tuple[str, ...] | None:
    """The key path of a ``[a.b]`` / ``[[a.b]]`` header line, parsed by tomllib itself so
    quoting and whitespace rules are TOML's."""
    if not _HEADER.match(line):
        return None
    try:
        node: Any = tomllib.loads(line)
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        key, node = next(iter(node.items()))
        path.append(key)
        if isinstance(node, list):
            break
    return tuple(path)


def _render_table(section: str, name: str, table: dict[str, Any]) -> list[str]:
    import tomli_w

    return tomli_w.dumps({section: {name: table}}).splitlines(keepends=True)


class ConfigText:
    """The config file's text and the data it must parse to, changed together."""

    def __init__(self, text: str, data: dict[str, Any]) -> None:
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        self.data = copy.deepcopy(data)
        self.rewritten = False
        """True when the textual edit failed and tomli-w rewrote the file (comments lost)."""

    # -- where things are ------------------------------------------------------------------
    def _headers(self) -> list[tuple[int, tuple[str, ...]]]:
        """(line index, key path) of every table header outside multi-line strings."""
        found: list[tuple[int, tuple[str, ...]]] = []
        in_string: str | None = None
        for index, line in enumerate(self.lines):
            if in_string is None:
                path = _header_path(line)
                if path is not None:
                    found.append((index, path))
            for quote in ('"""', "'''"):
                if in_string in (None, quote) and line.count(quote) % 2 == 1:
                    in_string = None if in_string == quote else quote
        return found

    def _comment_start(self, index: int) -> int:
        """Where the comment lines written directly above line ``index`` begin: they belong
        to that table and travel with it."""
        while index > 0 and self.lines[index - 1].lstrip().startswith("#"):
            index -= 1
        return index

    def _span(self, path: tuple[str, str]) -> tuple[int, int, int] | None:
        """(comment start, header, end) of the table at ``path`` with its sub-tables."""
        headers = self._headers()
        for position, (index, header) in enumerate(headers):
            if header != path:
                continue
            end = len(self.lines)
            for next_index, next_header in headers[position + 1 :]:
                if next_header[: len(path)] != path:
                    end = self._comment_start(next_index)
                    break
            return self._comment_start(index), index, end
        return None

    def _section_end(self, section: str) -> int | None:
        """The line after the last table of ``section`` (where a new one goes), or None."""
        names = [h[1] for _, h in self._headers() if h[:1] == (section,) and len(h) >= 2]
        span = self._span((section, names[-1])) if names else None
        return span[2] if span else None

    # -- changes ---------------------------------------------------------------------------
    def set_table(self, section: str, name: str, table: dict[str, Any]) -> None:
        """Add ``[section.name]`` after the section's last table, or replace it in place
        (keeping the comments above it)."""
        rendered = _render_table(section, name, table)
        span = self._span((section, name))
        if span is not None:
            _, header, end = span
            trailing = self.lines[header:end]
            blank = len(trailing) - len(_rstrip_blank(trailing))
            self.lines[header:end] = rendered + ["\n"] * blank
        else:
            at = self._section_end(section)
            if at is None:
                at = len(self.lines)
            block = list(rendered)
            if at > 0 and self.lines[at - 1].strip():
                block.insert(0, "\n")
            if at < len(self.lines):
                block.append("\n")
            self.lines[at:at] = block
        self.data.setdefault(section, {})[name] = copy.deepcopy(table)

    def remove_table(self, section: str, name: str) -> None:
        span = self._span((section, name))
        if span is not None:
            start, _, end = span
            del self.lines[start:end]
            self._tidy_blank_lines(start)
        del self.data[section][name]
        if not self.data[section]:
            del self.data[section]

    def set_top_level(self, key: str, value: Any) -> None:
        """Set a top-level key, which TOML requires before the first table header."""
        import tomli_w

        line = tomli_w.dumps({key: value})
        first_table = min((index for index, _ in self._headers()), default=len(self.lines))
        pattern = re.compile(_TOP_KEY.format(key=re.escape(key)))
        for index in range(first_table):
            if pattern.match(self.lines[index]):
                self.lines[index] = line
                break
        else:
            at = self._comment_start(first_table) if first_table < len(self.lines) else first_table
            block = [line]
            if at < len(self.lines):
                block.append("\n")
            self.lines[at:at] = block
        self.data[key] = value

    def remove_top_level(self, key: str) -> None:
        pattern = re.compile(_TOP_KEY.format(key=re.escape(key)))
        first_table = min((index for index, _ in self._headers()), default=len(self.lines))
        for index in range(first_table):
            if pattern.match(self.lines[index]):
                del self.lines[index]
                self._tidy_blank_lines(index)
                break
        self.data.pop(key, None)

    def _tidy_blank_lines(self, at: int) -> None:
        """No double blank line (nor a leading one) where something was cut out."""
        while (
            at < len(self.lines)
            and not self.lines[at].strip()
            and (at == 0 or not self.lines[at - 1].strip())
        ):
            del self.lines[at]

    # -- result ----------------------------------------------------------------------------
    def render(self) -> str:
        """The edited text, or a full tomli-w rewrite when the edit did not produce exactly
        the intended data."""
        text = "".join(_rstrip_blank(self.lines))
        try:
            if tomllib.loads(text) == self.data:
                return text
        except tomllib.TOMLDecodeError:
            pass
        import tomli_w

        self.rewritten = True
        return tomli_w.dumps(self.data)


def _rstrip_blank(lines: list[str]) -> list[str]:
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


@contextmanager
def editing_config() -> Iterator[tuple[Any, ConfigText]]:
    """Lock the config file, hand out the parsed ``Config`` and a ``ConfigText`` to change,
    and write the result atomically when the block finishes without an exception.

    The file is checked as a whole (core's ``parse_config``) before and after the change: an
    invalid file is reported with its line and column and left alone, and no change can leave
    behind a file ``connect`` would refuse to read.
    """
    from entra_auth import paths
    from entra_auth.config import parse_config, read_toml
    from entra_auth.files import CONFIG_LIMIT, atomic_write_text, file_lock, read_trusted

    from .output import warn

    path = paths.config_file()
    log.debug("locking %s for an edit", path)
    with file_lock(path):
        data = read_toml(path)
        config = parse_config(data, path, exists=path.exists())
        try:
            before = read_trusted(path, limit=CONFIG_LIMIT, what="config file").decode("utf-8")
        except FileNotFoundError:
            before = ""
        document = ConfigText(before, data)
        yield config, document
        after = document.render()
        parse_config(tomllib.loads(after), path)
        if after != before:
            atomic_write_text(path, after, what="config file")
            log.debug(
                "wrote %s (%s)", path, "rewritten by tomli-w" if document.rewritten else "edited"
            )
        if document.rewritten and "#" in before:
            warn(
                f"{path} was rewritten as a whole because its layout could not be edited in "
                "place; its comments were dropped"
            )


def edit_config(change: Callable[[Any, ConfigText], None]) -> Path:
    """Apply ``change(config, text)`` as one locked, atomic edit; the file's path."""
    with editing_config() as (config, document):
        change(config, document)
    return config.path
