"""``--client-secret prompt``: typed at a real terminal (a pty), kept in the OS keyring when
one is usable so later processes work, and otherwise not kept, with a later command saying
how to give it. The keyring is faked only at its OS boundary (``file_keyring``)."""

from __future__ import annotations

import fcntl
import json
import os
import select
import subprocess
import termios
import time
from pathlib import Path

import pytest
from cli_helpers import Result, token_requests

HERE = Path(__file__).parent


def run_in_terminal(command: list[str], typed: str, env: dict[str, str]) -> tuple[Result, str]:
    """Run ``command`` with a pty as its controlling terminal, type ``typed`` at the first
    prompt, and return the result and what the terminal showed."""
    master, slave = os.openpty()

    def take_terminal() -> None:  # runs in the child, after setsid
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        command,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        start_new_session=True,
        preexec_fn=take_terminal,  # the pty becomes the controlling terminal getpass opens
    )
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + 30
    while b": " not in shown and time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                shown += os.read(master, 1024)
            except OSError:
                break
    if process.poll() is None:
        os.write(master, typed.encode() + b"\n")
    stdout, stderr = process.communicate(timeout=60)
    os.close(master)
    return Result(tuple(command), process.returncode, stdout, stderr), shown.decode(
        errors="replace"
    )


@pytest.fixture
def keyring_env(tmp_path, emulator_env) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
        "ENTRA_AUTH_TEST_KEYRING": str(tmp_path / "os-keyring.json"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }


def connect_prompt(app) -> list[str]:
    return ["connect", "--client-id", app.client_id, "--tenant-id", app.tenant_id,
            "--client-secret", "prompt", "--no-welcome"]  # fmt: skip


def test_a_prompted_secret_is_kept_in_the_os_keyring(
    cli_command, run_cli, secret_app, keyring_env, connection_file, emulator, tmp_path
):
    keyring_file = tmp_path / "os-keyring.json"
    wrong, _ = run_in_terminal([*cli_command, *connect_prompt(secret_app)], "typo", keyring_env)
    assert wrong.code == 1 and "AADSTS7000215" in wrong.stderr
    assert not keyring_file.exists()  # a secret Entra refused is never kept

    result, shown = run_in_terminal(
        [*cli_command, *connect_prompt(secret_app)], secret_app.secret, keyring_env
    )
    assert result.code == 0, result.stderr
    assert f"Client secret for {secret_app.client_id}: " in shown
    assert secret_app.secret not in shown + result.stdout + result.stderr  # not echoed
    reference = f"keyring:entra-auth/{secret_app.client_id}:client_secret"
    saved = json.loads(connection_file.read_text())
    assert saved["options"]["client_secret"] == reference
    assert saved["kept_in_keyring"] == [reference]
    assert secret_app.secret not in connection_file.read_text()
    assert json.loads(keyring_file.read_text()) == {
        f"entra-auth/{secret_app.client_id}:client_secret": secret_app.secret
    }

    before = token_requests(emulator, secret_app.tenant_id)
    token = run_cli("token", env=keyring_env)  # no terminal: the keyring supplies the secret
    assert token.code == 0, token.stderr
    assert token_requests(emulator, secret_app.tenant_id) == before + 1

    gone = run_cli("disconnect", env=keyring_env)
    assert "and 1 secret in the OS keyring" in gone.stdout
    assert json.loads(keyring_file.read_text()) == {}


def test_without_a_usable_keyring_the_secret_is_not_kept(
    cli_command, run_cli, secret_app, emulator_env, connection_file, isolated_environment
):
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    # Without a keyring only CurrentUser may take a prompted secret (connect refuses it
    # otherwise: tests/cli/test_token_polish.py); its cached token serves later commands.
    command = [*cli_command, *connect_prompt(secret_app), "--context-scope", "CurrentUser"]
    result, _ = run_in_terminal(command, secret_app.secret, env)
    assert result.code == 0, result.stderr
    assert json.loads(connection_file.read_text())["options"]["client_secret"] == "prompt"
    assert run_cli("token", env=env).code == 0  # the cached token

    # Once the cached token is gone (here: removed), the secret is needed again.
    cache = isolated_environment / ".local" / "state" / "entra-auth" / "tokens"
    for entry in cache.rglob("*"):
        if entry.is_file():
            entry.unlink()
    token = run_cli("token", env=env)
    assert token.code == 2
    line = token.error_line()
    assert "client secret typed at 'entra-auth connect' was not kept (no usable OS keyring)" in line
    assert "--client-secret env:NAME, file:PATH or keyring:SERVICE/NAME" in line
    for path in isolated_environment.rglob("*"):
        if path.is_file():
            assert secret_app.secret not in path.read_text(errors="replace"), path


def test_prompt_without_a_terminal_says_what_to_use_instead(run_cli, secret_app, emulator_env):
    result = run_cli(*connect_prompt(secret_app))
    assert result.code == 2
    assert "--client-secret prompt needs a terminal; use stdin, env:NAME" in result.error_line()
