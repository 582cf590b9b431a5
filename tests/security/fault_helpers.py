"""Helpers of the fault-injection suite (imported by name: tests/ has no packages)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

OTHER_UID = 12345
"""Another user: tests run as root, which may chown a file to any uid."""
SECRET_VARIABLE = "CONTOSO_APP_SECRET"


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        """The one error line; fails when stderr holds anything else (a traceback, a second
        line) or the line says "unexpected"."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got: {self.stderr!r}"
        line = lines[0]
        assert line.startswith("entra-auth: error: "), line
        assert "unexpected" not in line and "Traceback" not in self.stderr, line
        return line

    def warnings(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("entra-auth: warn")]


Run = Callable[..., Result]


@dataclass
class App:
    tenant_id: str
    client_id: str
    secret: str

    def ids(self) -> tuple[str, ...]:
        return ("--client-id", self.client_id, "--tenant-id", self.tenant_id)

    def connect_args(self, *extra: str) -> tuple[str, ...]:
        return ("connect", *self.ids(), "--client-secret", f"env:{SECRET_VARIABLE}", *extra)


def config_file(home: Path) -> Path:
    return home / ".config" / "entra-auth" / "config.toml"


def state_dir(home: Path) -> Path:
    return home / ".local" / "state" / "entra-auth"


def private_file(path: Path, data: bytes | str, mode: int = 0o600) -> Path:
    """``path`` with ``data``, in 0700 folders, with ``mode`` (as entra-auth would write it)."""
    for parent in reversed(path.parents):
        if not parent.exists():
            parent.mkdir(mode=0o700)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)
    return path


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.mkfifo(path, 0o600)
    return path


def sparse(path: Path, size: int = 2 * 1024**3) -> Path:
    """A file of ``size`` bytes (2 GB by default) that takes no disk space."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path, "wb") as handle:
        handle.truncate(size)
    os.chmod(path, 0o600)
    return path


def no_root_bypass() -> list[str]:
    """A command prefix that runs the CLI as root without the capabilities that let root
    ignore file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a read-only folder is
    read-only to it as to any user; empty when not root."""
    import shutil

    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to test read-only folders as root"
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]
