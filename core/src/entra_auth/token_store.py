"""The ``CurrentUser`` token cache: tokens that outlive the process, shared between processes.

One small file per (connection, scopes) entry rather than one big file: a lookup reads one file
whatever the number of tenants, profiles and cached tokens (flat cost at 10,000+ entries), a
write replaces one file atomically, and a process always sees what another wrote last, with no
lock and no reload logic. Files are 0600 in a 0700 folder.

A cache that cannot be used is reported loudly (a warning on every use), never skipped silently.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .files import atomic_write_text, ensure_private_dir
from .tokens import TokenResult

log = logging.getLogger("entra_auth.token_store")

FORMAT_VERSION = 1


def cache_folder() -> Path:
    """Where the ``CurrentUser`` token cache lives: ``$XDG_STATE_HOME/entra-auth/tokens``."""
    from . import paths

    return paths.state_dir() / "tokens"


def partition_key(provider: str, authority_host: str, options: Mapping[str, Any]) -> str:
    """A stable name for one connection's tokens: provider, authority and the options that say
    who signs in (secret references included, values never)."""
    material = json.dumps(
        {
            "provider": provider,
            "authority": authority_host.rstrip("/").lower(),
            "options": {k: str(v) for k, v in sorted(options.items()) if _plain(v)},
        },
        sort_keys=True,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _plain(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


class FileTokenStore:
    """A ``TokenStore`` (see ``credential.TokenStore``) backed by files under ``folder``."""

    def __init__(self, folder: Path, partition: str) -> None:
        self.folder = Path(folder)
        self.partition = partition

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.folder)!r}, partition={self.partition!r})"

    def _path(self, key: tuple[Any, ...]) -> Path:
        digest = hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:32]
        return self.folder / f"{self.partition}-{digest}.json"

    def load(self, key: tuple[Any, ...]) -> TokenResult | None:
        path = self._path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning(
                "token cache %s cannot be read (%s); fetching a new token", path, exc.strerror
            )
            return None
        try:
            data = json.loads(text)
            if data.get("version") != FORMAT_VERSION:
                return None
            result = TokenResult(
                token=str(data["access_token"]),
                expires_on=int(data["expires_on"]),
                refresh_on=int(data["refresh_on"]) if data.get("refresh_on") else None,
                token_type=str(data.get("token_type") or "Bearer"),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("token cache entry %s is damaged; it will be replaced", path)
            return None
        if result.expires_on <= time.time():
            return None
        return result

    def save(self, key: tuple[Any, ...], result: TokenResult) -> None:
        path = self._path(key)
        payload = {
            "version": FORMAT_VERSION,
            "access_token": result.token,
            "expires_on": result.expires_on,
            "refresh_on": result.refresh_on,
            "token_type": result.token_type,
        }
        try:
            ensure_private_dir(self.folder)
            atomic_write_text(path, json.dumps(payload))
        except OSError as exc:
            log.warning(
                "token cache %s cannot be written (%s): tokens will not persist between "
                "processes; fix the folder's permissions or use --context-scope Process",
                self.folder,
                exc.strerror,
            )

    def clear(self) -> int:
        """Forget every token of this partition; returns how many entries were removed."""
        removed = 0
        try:
            entries = list(self.folder.glob(f"{self.partition}-*.json"))
        except OSError:
            return 0
        for entry in entries:
            try:
                os.unlink(entry)
                removed += 1
            except FileNotFoundError:
                pass
        return removed
