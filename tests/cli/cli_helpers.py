"""Shared pieces of the CLI tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SECRET_VARIABLE = "CONTOSO_APP_SECRET"


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error_line(self) -> str:
        """The single error line; fails when stderr holds anything more."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got: {self.stderr!r}"
        assert lines[0].startswith("entra-auth: error: "), lines[0]
        return lines[0]


Run = Callable[..., Result]


def connect_args(app: Any, *extra: str) -> tuple[str, ...]:
    return (
        "connect",
        "--client-id",
        app.client_id,
        "--tenant-id",
        app.tenant_id,
        "--client-secret",
        f"env:{SECRET_VARIABLE}",
        *extra,
    )


def token_requests(emulator: Any, tenant_id: str) -> int:
    return sum(
        1
        for entry in emulator.requests()
        if entry.get("endpoint") == "token" and f"/{tenant_id}/" in entry.get("path", "")
    )


def config_path(home: Any) -> Any:
    """The config file the CLI uses in the isolated home (``$XDG_CONFIG_HOME``)."""
    return home / ".config" / "entra-auth" / "config.toml"


def file_mode(path: Any) -> int:
    import stat

    return stat.S_IMODE(path.stat().st_mode)
