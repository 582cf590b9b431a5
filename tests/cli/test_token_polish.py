"""``token``: one resource per token (several scopes of it, or az's ``--resource``), another
tenant through the tenant guard, az's JSON fields; a status line on a terminal while a sign-in
waits; ``connect`` refusing secrets later processes could not replay."""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any

from cli_helpers import SECRET_VARIABLE, connect_args, token_requests
from test_prompted_secrets import run_in_terminal

from entra_auth.claims import token_claims


def connected(run_cli: Any, app: Any, *extra: str) -> None:
    result = run_cli(*connect_args(app, "--no-welcome", *extra))
    assert result.code == 0, result.stderr


def test_several_scopes_of_one_resource_make_one_token(run_cli, secret_in_env, emulator):
    connected(run_cli, secret_in_env)
    before = token_requests(emulator, secret_in_env.tenant_id)
    result = run_cli(
        "token", "--scope", "https://graph.microsoft.com/.default",
        "--scope", "https://graph.microsoft.com/.default", "--output", "json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["scopes"] == ["https://graph.microsoft.com/.default"]
    assert token_claims(data["access_token"])["aud"].startswith("https://graph.microsoft.com")
    assert token_requests(emulator, secret_in_env.tenant_id) == before + 1


def test_scopes_of_several_resources_are_refused_locally(run_cli, secret_in_env, emulator):
    connected(run_cli, secret_in_env)
    before = token_requests(emulator, secret_in_env.tenant_id)
    result = run_cli(
        "token", "--scope", "https://graph.microsoft.com/.default",
        "--scope", "https://management.azure.com/.default",
    )  # fmt: skip
    assert result.code == 2
    line = result.error_line()
    assert "the scopes are for 2 resources" in line
    assert "https://graph.microsoft.com, https://management.azure.com" in line
    assert "run entra-auth token once per resource" in line
    assert token_requests(emulator, secret_in_env.tenant_id) == before  # nothing sent
    # A bare permission is Graph's, as Entra reads it.
    mixed = run_cli("token", "--scope", "User.Read", "--scope", "api://contoso/.default")
    assert mixed.code == 2 and "2 resources" in mixed.error_line()


def test_resource_is_the_default_scope_of_that_resource(run_cli, secret_in_env):
    connected(run_cli, secret_in_env)
    result = run_cli("token", "--resource", "https://graph.microsoft.com/", "--output", "json")
    assert result.code == 0, result.stderr
    assert result.json()["scopes"] == ["https://graph.microsoft.com/.default"]
    both = run_cli("token", "--resource", "https://graph.microsoft.com", "--scope", "x")
    assert both.code == 2 and "--scope or --resource, not both" in both.error_line()
    bad = run_cli("token", "--resource", "graph")
    assert bad.code == 2 and "is not a URL" in bad.error_line()


def test_tenant_goes_through_the_tenant_guard(run_cli, secret_in_env, emulator):
    connected(run_cli, secret_in_env)
    before = token_requests(emulator, secret_in_env.tenant_id)
    other = "99999999-9999-9999-9999-999999999999"
    refused = run_cli("token", "--tenant", other)
    assert refused.code != 0
    assert f"a token for tenant {other!r} was asked" in refused.error_line()
    assert "additionally_allowed_tenants" in refused.error_line()
    own = run_cli("token", "--tenant", secret_in_env.tenant_id, "--output", "json", "--az-fields")
    assert own.code == 0, own.stderr
    assert own.json()["tenant"] == secret_in_env.tenant_id
    assert token_requests(emulator, secret_in_env.tenant_id) == before + 1


def test_az_fields(run_cli, secret_in_env):
    connected(run_cli, secret_in_env)
    result = run_cli("token", "--output", "json", "--az-fields")
    assert result.code == 0, result.stderr
    data = result.json()
    assert list(data) == ["accessToken", "expiresOn", "expires_on", "tenant", "tokenType"]
    assert data["tokenType"] == "Bearer"
    assert data["tenant"] == secret_in_env.tenant_id
    assert isinstance(data["expires_on"], int) and data["expires_on"] > time.time()
    # az's local-time string, for the same instant
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(data["expires_on"]))
    assert data["expiresOn"].startswith(local + ".")
    assert token_claims(data["accessToken"])["tid"] == secret_in_env.tenant_id
    raw = run_cli("token", "--az-fields")
    assert raw.code == 2 and "--az-fields goes with --output json" in raw.error_line()


def test_a_slow_sign_in_shows_a_status_line_on_a_terminal_only(
    cli_command, run_cli, secret_in_env, emulator
):
    emulator.add_fault(path=f"/{secret_in_env.tenant_id}/*", delay=2.5, count=1)
    env = {**os.environ, SECRET_VARIABLE: secret_in_env.secret}
    # stderr (and stdin) on a pty: the status appears after 1 s and is erased at the end.
    master, slave = os.openpty()
    process = subprocess.Popen(
        [*cli_command, *connect_args(secret_in_env)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env, text=True,
    )  # fmt: skip
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 1024)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    stdout, _ = process.communicate(timeout=60)
    os.close(master)
    assert process.returncode == 0
    assert "Welcome To Microsoft Graph!" in stdout
    text = shown.decode()
    assert "\rSigning in at https://" in text and "… 1 s" in text
    assert text.endswith("\r\x1b[K")  # erased

    # Not a terminal: exactly nothing on stderr, however slow.
    emulator.add_fault(path=f"/{secret_in_env.tenant_id}/*", delay=2.5, count=1)
    piped = run_cli("token")
    assert piped.code == 0, piped.stderr
    assert piped.stderr == ""


def test_a_fast_sign_in_on_a_terminal_shows_nothing(cli_command, secret_in_env):
    env = {**os.environ, SECRET_VARIABLE: secret_in_env.secret}
    master, slave = os.openpty()
    process = subprocess.Popen(
        [*cli_command, *connect_args(secret_in_env)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env, text=True,
    )  # fmt: skip
    os.close(slave)
    process.wait(timeout=60)
    try:
        shown = os.read(master, 4096)
    except OSError:
        shown = b""
    os.close(master)
    assert process.returncode == 0
    assert b"Signing in" not in shown


def test_connect_refuses_stdin_that_later_processes_cannot_read(
    run_cli, secret_app, emulator_env, emulator, connection_file
):
    args = ("connect", "--client-id", secret_app.client_id, "--tenant-id", secret_app.tenant_id,
            "--client-secret", "stdin", "--no-welcome")  # fmt: skip
    before = token_requests(emulator, secret_app.tenant_id)
    refused = run_cli(*args, stdin=secret_app.secret + "\n")
    assert refused.code == 2
    line = refused.error_line()
    assert "--client-secret stdin: the secret is read once, by this process" in line
    assert "env:NAME, file:PATH or keyring:SERVICE/NAME" in line
    assert "--context-scope CurrentUser" in line
    assert token_requests(emulator, secret_app.tenant_id) == before
    assert not connection_file.exists()

    # CurrentUser: the cached token serves later processes.
    kept = run_cli(*args, "--context-scope", "CurrentUser", stdin=secret_app.secret + "\n")
    assert kept.code == 0, kept.stderr
    assert json.loads(connection_file.read_text())["options"]["client_secret"] == "stdin"
    later = run_cli("token")
    assert later.code == 0, later.stderr
    assert token_requests(emulator, secret_app.tenant_id) == before + 1


def test_connect_refuses_a_prompt_without_a_keyring_unless_current_user(
    cli_command, run_cli, secret_app, emulator_env, connection_file
):
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    args = [*cli_command, "connect", "--client-id", secret_app.client_id, "--tenant-id",
            secret_app.tenant_id, "--client-secret", "prompt", "--no-welcome"]  # fmt: skip
    refused, shown = run_in_terminal(args, secret_app.secret, env)
    assert refused.code == 2
    assert "Client secret for" not in shown  # refused before asking
    expected = "--client-secret prompt: without a usable OS keyring the typed secret cannot be kept"
    assert expected in refused.stderr
    kept, _ = run_in_terminal([*args, "--context-scope", "CurrentUser"], secret_app.secret, env)
    assert kept.code == 0, kept.stderr
    assert run_cli("token", env=env).code == 0
