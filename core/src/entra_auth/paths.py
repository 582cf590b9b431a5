"""Where entra-auth keeps things, following the XDG base directory spec on every POSIX system
(as most Python CLIs do on Linux and macOS alike), so users can move each place with one
variable."""

from __future__ import annotations

import os
from pathlib import Path

APP = "entra-auth"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "").strip()
    base = Path(value) if value and os.path.isabs(value) else Path.home() / fallback
    return base / APP


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/entra-auth`` (default ``~/.config/entra-auth``)."""
    return _xdg("XDG_CONFIG_HOME", ".config")


def config_file() -> Path:
    """``$ENTRA_AUTH_CONFIG``, else ``config_dir()/config.toml``."""
    explicit = os.environ.get("ENTRA_AUTH_CONFIG", "").strip()
    return Path(explicit).expanduser() if explicit else config_dir() / "config.toml"


def state_dir() -> Path:
    """``$XDG_STATE_HOME/entra-auth``: the saved connection and the CurrentUser token cache."""
    return _xdg("XDG_STATE_HOME", ".local/state")


def connection_dir() -> Path:
    """Where the saved connection lives: ``$ENTRA_AUTH_STATE_DIR`` when set (one per CI job
    sharing a home, so parallel jobs never read each other's), else ``state_dir()``."""
    explicit = os.environ.get("ENTRA_AUTH_STATE_DIR", "").strip()
    return Path(explicit).expanduser() if explicit else state_dir()


def data_dir() -> Path:
    """``$XDG_DATA_HOME/entra-auth``: the tool's own certificate store lives in ``certs/``."""
    return _xdg("XDG_DATA_HOME", ".local/share")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/entra-auth``: things that can be rebuilt at any time."""
    return _xdg("XDG_CACHE_HOME", ".cache")
