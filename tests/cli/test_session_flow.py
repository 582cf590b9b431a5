"""connect -> context -> token -> disconnect, as separate processes sharing only the saved
connection, against the emulator."""

from __future__ import annotations

import base64
import json
import stat
import sys

from cli_helpers import SECRET_VARIABLE, connect_args, token_requests


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_connect_context_token_disconnect(run_cli, secret_in_env, connection_file, emulator):
    app = secret_in_env
    connected = run_cli(*connect_args(app))
    assert connected.code == 0, connected.stderr
    assert connected.stdout.strip() == "Welcome To Microsoft Graph!"

    saved = json.loads(connection_file.read_text())
    assert stat.S_IMODE(connection_file.stat().st_mode) == 0o600
    assert saved["provider"] == "client-secret"
    assert saved["options"] == {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "client_secret": f"env:{SECRET_VARIABLE}",
    }
    assert saved["context_scope"] == "Process"
    assert saved["environment"]["authority_host"] == emulator.authority_host

    table = run_cli("context")
    assert table.code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith("ClientId              : ")  # Format-List padding
    assert f"AppName               : {app.display_name}" in lines
    assert "AuthType              : AppOnly" in lines
    assert "Scopes                : {Group.Read.All, User.Read.All}" in lines

    context = run_cli("context", "--output", "json").json()
    assert context["client_id"] == app.client_id
    assert context["tenant_id"] == app.tenant_id
    assert context["auth_type"] == "AppOnly"
    assert context["app_name"] == app.display_name
    assert sorted(context["scopes"]) == sorted(app.roles)
    assert context["context_scope"] == "Process"

    before = token_requests(emulator, app.tenant_id)
    raw = run_cli("token")
    assert raw.code == 0, raw.stderr
    assert token_requests(emulator, app.tenant_id) == before + 1  # one round trip per process
    claims = jwt_claims(raw.stdout.strip())
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["appid"] == app.client_id
    assert sorted(claims["roles"]) == sorted(app.roles)

    as_json = run_cli(
        "token", "--output", "json", "--scope", "https://graph.microsoft.com/.default"
    )
    assert as_json.code == 0, as_json.stderr
    data = as_json.json()
    assert data["token_type"] == "Bearer"
    assert data["scopes"] == ["https://graph.microsoft.com/.default"]
    assert data["expires_on"] > 0
    assert jwt_claims(data["access_token"])["tid"] == app.tenant_id

    gone = run_cli("disconnect")
    assert gone.code == 0
    assert "forgot" in gone.stdout and app.display_name in gone.stdout
    assert not connection_file.exists()
    again = run_cli("disconnect")
    assert again.code == 0 and "Not connected" in again.stdout
    after = run_cli("context")
    assert after.code == 2
    assert "not connected; run entra-auth connect" in after.error_line()


def test_connect_json_output_is_parseable(run_cli, secret_in_env):
    app = secret_in_env
    result = run_cli(*connect_args(app, "--output", "json"))
    assert result.code == 0, result.stderr
    assert result.json()["app_name"] == app.display_name
    assert "Welcome To Microsoft Graph!" in result.stderr  # the greeting stays off stdout

    quiet = run_cli(*connect_args(app, "--no-welcome"))
    assert quiet.code == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_environment_variable_keeps_the_secret_a_reference(
    run_cli, secret_app, emulator_env, connection_file
):
    env = {
        "AZURE_CLIENT_ID": secret_app.client_id,
        "AZURE_TENANT_ID": secret_app.tenant_id,
        "AZURE_CLIENT_SECRET": secret_app.secret,
    }
    result = run_cli("connect", "--environment-variable", "--no-welcome", env=env)
    assert result.code == 0, result.stderr
    text = connection_file.read_text()
    assert secret_app.secret not in text
    assert json.loads(text)["options"]["client_secret"] == "env:AZURE_CLIENT_SECRET"


def test_profile_from_the_config_file(run_cli, secret_in_env, isolated_environment):
    app = secret_in_env
    config = isolated_environment / ".config" / "entra-auth" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "[profiles.ci]\n"
        'provider = "client-secret"\n'
        f'client_id = "{app.client_id}"\n'
        f'tenant_id = "{app.tenant_id}"\n'
        f'client_secret = "env:{SECRET_VARIABLE}"\n'
    )
    result = run_cli("connect", "--profile", "ci", "--output", "json", "--no-welcome")
    assert result.code == 0, result.stderr
    assert result.json()["client_id"] == app.client_id


def test_cached_token_needs_no_request_and_no_msal(
    run_cli, secret_in_env, emulator, connection_file
):
    """CurrentUser keeps the token in the 0600 file cache: a new process answers from it
    without loading msal, requests or cryptography, and without asking Entra."""
    app = secret_in_env
    assert run_cli(*connect_args(app, "--context-scope", "currentuser", "--no-welcome")).code == 0
    before = token_requests(emulator, app.tenant_id)
    probe = (
        "import contextlib, io, json, sys\n"
        "from entra_auth_cli.app import run\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    code = run(['token'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'msal', 'requests', 'cryptography'})\n"
        "print(json.dumps({'code': code, 'heavy': heavy, 'token': out.getvalue().strip()}))\n"
    )
    import subprocess

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    result = json.loads(done.stdout)
    assert result["code"] == 0, done.stderr
    assert result["token"].count(".") == 2
    assert result["heavy"] == []
    assert token_requests(emulator, app.tenant_id) == before

    gone = run_cli("disconnect")
    assert "and 1 cached token" in gone.stdout
    assert list((connection_file.parent / "tokens").glob("*.json")) == []
