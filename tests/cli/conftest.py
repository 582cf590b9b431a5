"""Fixtures for CLI tests: the CLI runs as a real subprocess (``python -m entra_auth_cli``)
against the session's emulator, over real HTTPS, with the isolated home of the root conftest.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cli_helpers import SECRET_VARIABLE, Result, Run


@pytest.fixture
def run_cli(cli_command: list[str]) -> Run:
    """Run the CLI with this test's environment (as fixtures have set ``os.environ``)."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        unset: tuple[str, ...] = (),
    ) -> Result:
        environ = {**os.environ, **(env or {})}
        for name in unset:
            environ.pop(name, None)
        completed = subprocess.run(
            [*cli_command, *args],
            env=environ,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Result(args, completed.returncode, completed.stdout, completed.stderr)

    return run


@pytest.fixture
def connection_file(isolated_environment: Path) -> Path:
    return isolated_environment / ".local" / "state" / "entra-auth" / "connection.json"


@pytest.fixture
def secret_in_env(secret_app, emulator_env, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The app's secret in a variable of the test's environment, as a CI job would have it."""
    monkeypatch.setenv(SECRET_VARIABLE, secret_app.secret)
    return secret_app
