"""``--token-cache-encryption keyring``: the ``CurrentUser`` cache sealed with AES-256-GCM
under a key kept in the OS keyring. Real files, real emulator sign-ins through the CLI as a
subprocess; the keyring is replaced only at its OS boundary (``file_keyring``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_helpers import connect_args, file_mode, token_requests

HERE = Path(__file__).resolve().parent
KEY_ENTRY = "entra-auth/token-cache-key"
GRAPH = "https://graph.microsoft.com/.default"
ARM = "https://management.azure.com/.default"


@pytest.fixture
def keyring_env(tmp_path: Path, emulator_env: object) -> dict[str, str]:
    return {
        "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
        "ENTRA_AUTH_TEST_KEYRING": str(tmp_path / "os-keyring.json"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }


def entries(connection_file: Path) -> list[Path]:
    return sorted((connection_file.parent / "tokens").glob("*.json"))


def connect_encrypted(run_cli, app, env: dict[str, str]):  # type: ignore[no-untyped-def]
    args = ("--context-scope", "CurrentUser", "--token-cache-encryption", "keyring")
    done = run_cli(*connect_args(app, *args, "--no-welcome"), env=env)
    assert done.code == 0, done.stderr
    assert done.stderr == ""
    return done


def test_encrypted_entries_hold_no_token_and_serve_a_new_process(
    run_cli, secret_in_env, keyring_env, connection_file: Path, emulator, tmp_path: Path
) -> None:
    app = secret_in_env
    connect_encrypted(run_cli, app, keyring_env)
    stored = json.loads((tmp_path / "os-keyring.json").read_text())
    assert list(stored) == [KEY_ENTRY] and len(stored[KEY_ENTRY]) == 44  # 32 bytes, base64
    seen = token_requests(emulator, app.tenant_id)
    first = run_cli("token", "--output", "json", env=keyring_env)
    second = run_cli("token", env=keyring_env)
    assert first.code == 0 and second.code == 0, first.stderr + second.stderr
    assert first.stderr == second.stderr == ""
    token = first.json()["access_token"]
    assert second.stdout.strip() == token
    assert token_requests(emulator, app.tenant_id) == seen  # served from the sealed cache
    [entry] = entries(connection_file)
    assert file_mode(entry) == 0o600
    text = entry.read_text()
    assert token not in text and token.split(".")[1] not in text
    assert json.loads(text)["sealed"] == "AES-256-GCM"
    assert json.loads(connection_file.read_text())["options"]["token_cache_encryption"] == (
        "keyring"
    )


def test_a_lost_key_drops_entries_with_one_warning_and_fetches_again(
    run_cli, secret_in_env, keyring_env, connection_file: Path, emulator, tmp_path: Path
) -> None:
    app = secret_in_env
    connect_encrypted(run_cli, app, keyring_env)
    keyring_file = tmp_path / "os-keyring.json"
    old_key = json.loads(keyring_file.read_text())[KEY_ENTRY]
    keyring_file.write_text("{}")  # the key is gone (another machine, a reset keyring)
    seen = token_requests(emulator, app.tenant_id)
    again = run_cli("token", env=keyring_env)
    assert again.code == 0 and again.stdout.strip()
    [warning] = again.stderr.splitlines()
    assert warning.startswith("entra-auth: warning: token cache entry ")
    assert "cannot be decrypted with the key in the OS keyring" in warning
    assert warning.endswith("removed it, a new token will be fetched")
    assert token_requests(emulator, app.tenant_id) == seen + 1
    new_key = json.loads(keyring_file.read_text())[KEY_ENTRY]
    assert new_key != old_key
    quiet = run_cli("token", env=keyring_env)  # sealed with the new key now
    assert quiet.code == 0 and quiet.stderr == ""
    assert quiet.stdout == again.stdout
    assert token_requests(emulator, app.tenant_id) == seen + 1


def test_an_entry_moved_to_another_file_name_is_not_opened(
    run_cli, secret_in_env, keyring_env, connection_file: Path, emulator
) -> None:
    app = secret_in_env
    connect_encrypted(run_cli, app, keyring_env)
    assert run_cli("token", "--scope", ARM, env=keyring_env).code == 0
    first, second = entries(connection_file)
    second.write_bytes(first.read_bytes())  # same key, wrong name: the associated data differs
    seen = token_requests(emulator, app.tenant_id)
    outputs = [run_cli("token", "--scope", scope, env=keyring_env) for scope in (GRAPH, ARM)]
    warnings = [line for done in outputs for line in done.stderr.splitlines()]
    assert all(done.code == 0 for done in outputs)
    assert len(warnings) == 1 and "cannot be decrypted" in warnings[0]
    assert token_requests(emulator, app.tenant_id) == seen + 1


def test_without_a_usable_keyring_encryption_is_one_error_line(
    run_cli, secret_in_env, connection_file: Path, emulator
) -> None:
    app = secret_in_env
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    for extra, env in [
        (("--token-cache-encryption", "keyring"), no_keyring),
        ((), {**no_keyring, "ENTRA_AUTH_CACHE_ENCRYPTION": "keyring"}),
    ]:
        seen = token_requests(emulator, app.tenant_id)
        args = connect_args(app, "--context-scope", "CurrentUser", *extra, "--no-welcome")
        done = run_cli(*args, env=env)
        assert done.code == 2, done.stderr
        line = done.error_line()
        assert "token_cache_encryption is 'keyring' but there is no usable OS keyring" in line
        assert 'token_cache_encryption = "none"' in line and "--context-scope Process" in line
        assert token_requests(emulator, app.tenant_id) == seen  # refused before any request
        assert not connection_file.exists() and not (connection_file.parent / "tokens").exists()
    # the headless default: plaintext 0600 entries, no keyring needed
    plain = run_cli(*connect_args(app, "--context-scope", "CurrentUser", "--no-welcome"),
                    env=no_keyring)  # fmt: skip
    assert plain.code == 0 and plain.stderr == ""
    [entry] = entries(connection_file)
    assert "access_token" in json.loads(entry.read_text())


def test_a_bad_mode_is_refused_naming_the_choices(run_cli, secret_in_env) -> None:
    done = run_cli(*connect_args(secret_in_env, "--token-cache-encryption", "aes", "--no-welcome"))
    assert done.code == 2
    assert "token_cache_encryption 'aes' is not one of none, keyring" in done.error_line()
    env = {"ENTRA_AUTH_CACHE_ENCRYPTION": "yes"}
    args = connect_args(secret_in_env, "--context-scope", "CurrentUser", "--no-welcome")
    done = run_cli(*args, env=env)
    assert done.code == 2
    assert "ENTRA_AUTH_CACHE_ENCRYPTION 'yes' is not one of none, keyring" in done.error_line()


def test_switching_modes_never_reads_the_other_kind_of_entry(
    run_cli, secret_in_env, keyring_env, connection_file: Path, emulator
) -> None:
    """Plaintext entries are not read (and are removed) with encryption on; sealed ones are a
    miss (and overwritten) with it off."""
    app = secret_in_env
    done = run_cli(*connect_args(app, "--context-scope", "CurrentUser", "--no-welcome"))
    assert done.code == 0
    [entry] = entries(connection_file)
    plain_token = json.loads(entry.read_text())["access_token"]
    sealed_env = {**keyring_env, "ENTRA_AUTH_CACHE_ENCRYPTION": "keyring"}
    seen = token_requests(emulator, app.tenant_id)
    sealed = run_cli("token", env=sealed_env)
    assert sealed.code == 0 and sealed.stderr == ""
    assert token_requests(emulator, app.tenant_id) == seen + 1  # the plaintext one not read
    assert plain_token not in entry.read_text() and "sealed" in json.loads(entry.read_text())
    assert sealed.stdout.strip() not in entry.read_text()
    again = run_cli("token", env=sealed_env)
    assert again.stdout == sealed.stdout and token_requests(emulator, app.tenant_id) == seen + 1
    plain = run_cli("token", env=keyring_env)  # encryption off again
    assert plain.code == 0 and plain.stderr == ""
    assert token_requests(emulator, app.tenant_id) == seen + 2
    assert json.loads(entry.read_text())["access_token"] == plain.stdout.strip()
