"""``--context-scope CurrentUser``: tokens outlive the process in 0600 files, a new process is
served with no request at all, a cache that cannot be used is reported loudly, and
``disconnect`` forgets everything."""

from __future__ import annotations

import json
import os

from cli_helpers import connect_args, file_mode


def tenant_requests(emulator, tenant_id: str) -> list[dict]:
    """Every request the emulator saw for this tenant: discovery as well as tokens."""
    return [r for r in emulator.requests() if f"/{tenant_id}/" in r.get("path", "")]


def test_a_new_process_gets_the_cached_token_with_no_request(run_cli, secret_in_env, emulator):
    app = secret_in_env
    connected = run_cli(*connect_args(app, "--context-scope", "CurrentUser", "--no-welcome"))
    assert connected.code == 0, connected.stderr
    seen = len(tenant_requests(emulator, app.tenant_id))
    first = run_cli("token", "--output", "json")
    second = run_cli("token")
    assert first.code == 0 and second.code == 0, first.stderr + second.stderr
    assert len(tenant_requests(emulator, app.tenant_id)) == seen  # no request, not even discovery
    assert first.json()["access_token"] == second.stdout.strip()
    assert first.stderr == second.stderr == ""


def test_every_file_written_is_0600_in_0700_folders(run_cli, secret_in_env, isolated_environment):
    app = secret_in_env
    assert run_cli("environment", "add", "Lab", "--authority-host", "https://login.lab.example",
                   "--graph-endpoint", "https://graph.lab.example").code == 0  # fmt: skip
    assert run_cli("profile", "add", "ci", *connect_args(app)[1:]).code == 0
    assert run_cli("profile", "use", "ci").code == 0
    assert run_cli("connect", "--context-scope", "CurrentUser", "--no-welcome").code == 0
    assert run_cli("token", "--scope", "https://management.azure.com/.default").code == 0
    written = []
    for base in (".config", ".local/state"):
        root = isolated_environment / base / "entra-auth"
        assert file_mode(root) == 0o700
        for folder, dirs, files in os.walk(root):
            for name in dirs:
                assert file_mode(root / folder / name) == 0o700, name
            for name in files:
                path = root / folder / name
                written.append(path.relative_to(root).as_posix())
                assert file_mode(path) == 0o600, path
    names = sorted(written)
    assert "config.toml" in names and "config.toml.lock" in names and "connection.json" in names
    assert len([n for n in names if n.startswith("tokens/")]) == 2  # two scopes, two entries


def test_an_unusable_cache_is_reported_loudly(run_cli, secret_in_env, connection_file, emulator):
    app = secret_in_env
    connection_file.parent.mkdir(parents=True)
    (connection_file.parent / "tokens").write_text("not a folder")
    connected = run_cli(*connect_args(app, "--context-scope", "CurrentUser", "--no-welcome"))
    assert connected.code == 0  # signing in worked; persisting did not, and it says so
    assert connected.stderr.startswith("entra-auth: warning: token cache ")
    assert "cannot be written" in connected.stderr and "--context-scope Process" in connected.stderr

    seen = len(tenant_requests(emulator, app.tenant_id))
    token = run_cli("token")
    assert token.code == 0
    assert "entra-auth: warning: token cache " in token.stderr
    assert "cannot be read" in token.stderr
    assert len(tenant_requests(emulator, app.tenant_id)) > seen  # a fresh token, said out loud

    debug = run_cli("--debug", "token")
    assert debug.stderr.count("cannot be read") == 1  # --debug's handler does not double it


def test_disconnect_forgets_the_connection_and_its_tokens(
    run_cli, secret_in_env, connection_file, emulator
):
    app = secret_in_env
    assert run_cli(*connect_args(app, "--context-scope", "CurrentUser", "--no-welcome")).code == 0
    assert run_cli("token").code == 0
    tokens = connection_file.parent / "tokens"
    assert len(list(tokens.glob("*.json"))) == 1
    saved = json.loads(connection_file.read_text())
    assert saved["context_scope"] == "CurrentUser"

    gone = run_cli("disconnect")
    assert gone.code == 0
    assert "and 1 cached token" in gone.stdout
    assert not connection_file.exists()
    assert list(tokens.glob("*.json")) == []
    after = run_cli("token")
    assert after.code == 2 and "not connected" in after.error_line()

    seen = len(tenant_requests(emulator, app.tenant_id))
    again = run_cli(*connect_args(app, "--context-scope", "CurrentUser", "--no-welcome"))
    assert again.code == 0
    assert len(tenant_requests(emulator, app.tenant_id)) > seen  # nothing cached was left
