"""The saved connection: what ``connect`` leaves behind for later ``context`` and ``token``
processes, in ``$XDG_STATE_HOME/entra-auth/connection.json`` (mode 0600, written atomically).

It holds everything needed to sign in again and nothing that is secret: secret options are kept
as the references the user gave (``env:AZURE_CLIENT_SECRET``), never as values. The environment
is saved resolved (authority host, Graph endpoint, CA bundle) so a later ``token`` talks to the
same authority ``connect`` did, whatever ``AZURE_AUTHORITY_HOST`` says by then.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import saved_format
from .saved_format import FILE_NAME, FORMAT_VERSION


@dataclass
class SavedConnection:
    provider: str
    options: dict[str, Any]
    """Provider options; secret options are references only."""
    environment: dict[str, str]
    """``Environment.as_dict()``: name, authority_host, graph_endpoint, optional ca_bundle."""
    context_scope: str
    context: dict[str, Any]
    """``EntraContext.as_dict()`` as the token described it at connect time."""
    profile: str | None = None
    kept_in_keyring: list[str] = field(default_factory=list)
    """``keyring:entra-auth/…`` references ``connect`` stored from a prompt; ``disconnect``
    deletes them (a keyring entry the user made is never touched)."""
    partition: str | None = None
    """The token cache partition ``connect`` used, so ``disconnect`` can clear it even when the
    provider is no longer installed."""
    connected_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )
    version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        ordered = {"version": data.pop("version"), **data}
        return json.dumps(ordered, indent=2) + "\n"

    def describe(self) -> str:
        ctx = self.context
        who = ctx.get("AppName") or ctx.get("ClientId") or "?"
        return f"{who} ({self.provider}) in tenant {ctx.get('TenantId') or '?'}"


def connection_file() -> Path:
    from entra_auth import paths

    return paths.connection_dir() / FILE_NAME


def save(connection: SavedConnection) -> Path:
    from entra_auth.files import atomic_write_text, check_folder

    path = connection_file()
    check_folder(path.parent, "the saved connection")
    atomic_write_text(path, connection.to_json(), what="saved connection")
    return path


_FIX = "run entra-auth disconnect, then entra-auth connect again"


def load() -> SavedConnection:
    """The saved connection; a ``UsageError`` (exit 2) that says how to connect when there is
    none, and a ``ConfigurationError`` with the fix when it cannot be trusted or read (see
    ``files.read_trusted``: regular file, the user's, not writable by others, 1 MiB at most).
    """
    from entra_auth import ConfigurationError, UsageError
    from entra_auth.files import STATE_LIMIT, read_trusted

    path = connection_file()
    try:
        raw = read_trusted(path, limit=STATE_LIMIT, what="saved connection")
    except FileNotFoundError:
        raise UsageError(
            "not connected; run entra-auth connect with a sign-in method (see entra-auth "
            "connect --help), or pass --profile NAME"
        ) from None
    except ConfigurationError as exc:
        raise ConfigurationError(f"{exc}; or {_FIX}") from None
    try:
        return parse_connection(raw)
    except ValueError as exc:
        raise ConfigurationError(
            f"the saved connection {path} is damaged ({exc}); {_FIX}"
        ) from None


def parse_connection(raw: bytes) -> SavedConnection:
    """A ``SavedConnection`` from the file's bytes; ``ValueError`` saying what is wrong with
    anything ``save`` could not have written (``saved_format.parse``)."""
    return SavedConnection(**saved_format.parse(raw))


def forget() -> SavedConnection | None:
    """Remove the saved connection; what was forgotten, or None when there was nothing.

    Works whatever is there: a damaged, foreign or untrusted file (or a FIFO, a socket, a link,
    an empty folder) is removed without being read (its cached tokens cannot be found then)."""
    from entra_auth import EntraAuthError
    from entra_auth.files import FileWriteError

    path = connection_file()
    try:
        previous: SavedConnection | None = load()
    except EntraAuthError:
        previous = None
    try:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileWriteError(
            f"cannot remove the saved connection {path}: {exc.strerror}; remove it by hand "
            f"(rm -r {path})"
        ) from None
    return previous or SavedConnection("unknown", {}, {}, "Process", {})


def forget_cached_tokens(connection: SavedConnection) -> int:
    """Remove the CurrentUser cache entries of ``connection``; how many were removed."""
    from entra_auth.token_store import FileTokenStore, cache_folder

    if not connection.partition:
        return 0
    return FileTokenStore(cache_folder(), connection.partition).clear()
