"""Fixtures for the file-system fault-injection suite: the CLI as a real subprocess
(``python -m entra_auth_cli``) in the isolated home of the root conftest, and a fresh app in the
session's emulator."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from fault_helpers import SECRET_VARIABLE, App, Result, Run


@pytest.fixture
def run_cli() -> Run:
    """Run the CLI with this test's environment (as fixtures have set ``os.environ``); a hang
    (a FIFO read) fails the test after 20 s instead of blocking the suite."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        stdin: str = "",
        prefix: tuple[str, ...] | list[str] = (),
        preexec_fn: Callable[[], None] | None = None,
    ) -> Result:
        environ = {**os.environ, **(env or {})}
        completed = subprocess.run(
            [*prefix, sys.executable, "-m", "entra_auth_cli", *args],
            env=environ,
            input=stdin,
            preexec_fn=preexec_fn,
            capture_output=True,
            text=True,
            timeout=20,
        )
        return Result(args, completed.returncode, completed.stdout, completed.stderr)

    return run


@pytest.fixture
def make_app(emulator, emulator_env, monkeypatch: pytest.MonkeyPatch) -> Callable[..., App]:  # type: ignore[no-untyped-def]
    """Register a fresh app in the session's emulator with ``secret`` (default: random) and
    put the secret in this test's environment, as a CI job would have it."""

    def make(secret: str | None = None) -> App:
        app = App(str(uuid.uuid4()), str(uuid.uuid4()), secret or uuid.uuid4().hex)
        emulator.register_app(
            tenant_id=app.tenant_id,
            client_id=app.client_id,
            display_name="Fault Injection",
            roles=["User.Read.All"],
            secrets=[app.secret],
        )
        monkeypatch.setenv(SECRET_VARIABLE, app.secret)
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., App]) -> App:
    return make_app()


@pytest.fixture
def home(isolated_environment: Path) -> Path:
    return isolated_environment
