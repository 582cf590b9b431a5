"""The saved connection and the token cache against hostile and damaged files (issue 14 items
1, 4, 5, 10), through the real CLI: a refusal is exit 2 with one line naming the path and the
fix; a damaged token cache entry repairs itself with one warning and a fresh token."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from fault_helpers import OTHER_UID, App, Run, fifo, sparse, state_dir


def _token_requests(emulator, tenant_id: str) -> int:  # type: ignore[no-untyped-def]
    return sum(
        1
        for entry in emulator.requests()
        if entry.get("endpoint") == "token" and f"/{tenant_id}/" in entry.get("path", "")
    )


@pytest.fixture
def connected(run_cli: Run, app: App, home: Path) -> App:
    result = run_cli(*app.connect_args("--context-scope", "CurrentUser", "--no-welcome"))
    assert result.code == 0, result.stderr
    return app


def _connection(home: Path) -> Path:
    return state_dir(home) / "connection.json"


def _entries(home: Path) -> list[Path]:
    return sorted((state_dir(home) / "tokens").glob("*.json"))


# -- the saved connection ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("fifo", "is a FIFO (named pipe), not a regular file"),
        ("folder", "is a folder, not a regular file"),
        ("0666", "is writable by group or others (mode 0666)"),
        ("other-owner", f"is owned by uid {OTHER_UID}"),
        ("open-folder", "is writable by group or others (mode 0777)"),
        ("2gb", "is larger than 1 MiB"),
        ("bad-utf8", "is damaged (not UTF-8"),
        ("bad-json", "is damaged (not JSON"),
        ("array", "is damaged (a JSON list, not an object)"),
        ("wrong-type", "is damaged (options is a JSON string, not an object)"),
        ("old-version", "is damaged (format version 0, expected 1)"),
        ("missing-key", "is damaged (provider is missing)"),
    ],
)
def test_a_bad_connection_file_is_one_line_and_disconnect_always_works(
    run_cli: Run, connected: App, home: Path, damage: str, expected: str
) -> None:
    path = _connection(home)
    saved = json.loads(path.read_text())
    if damage == "fifo":
        path.unlink()
        fifo(path)
    elif damage == "folder":
        path.unlink()
        path.mkdir()
    elif damage == "0666":
        path.chmod(0o666)
    elif damage == "other-owner":
        os.chown(path, OTHER_UID, -1)
    elif damage == "open-folder":
        path.parent.chmod(0o777)
    elif damage == "2gb":
        path.unlink()
        sparse(path)
    elif damage == "bad-utf8":
        path.write_bytes(b'{"version": 1, "provider": "\xff"}')
    elif damage == "bad-json":
        path.write_text('{"version": 1,')
    elif damage == "array":
        path.write_text("[1]")
    elif damage == "wrong-type":
        path.write_text(json.dumps({**saved, "options": "x"}))
    elif damage == "old-version":
        path.write_text(json.dumps({**saved, "version": 0}))
    elif damage == "missing-key":
        path.write_text(json.dumps({k: v for k, v in saved.items() if k != "provider"}))
    started = time.monotonic()
    result = run_cli("context")
    assert time.monotonic() - started < 10
    assert result.code == 2, result.stderr
    line = result.error_line()
    assert str(path) in line and expected in line
    assert "entra-auth disconnect" in line

    gone = run_cli("disconnect")
    assert gone.code == 0, gone.stderr
    assert not path.exists() and not path.is_symlink()
    assert run_cli("context").code == 2  # not connected now, said plainly
    path.parent.chmod(0o700)


def test_disconnect_removes_a_symlink_planted_as_the_connection_not_its_target(
    run_cli: Run, connected: App, home: Path, tmp_path: Path
) -> None:
    path = _connection(home)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    path.unlink()
    path.symlink_to(precious)
    result = run_cli("disconnect")
    assert result.code == 0, result.stderr
    assert not path.is_symlink() and precious.read_text() == "keep me"


def test_a_state_folder_others_can_write_is_refused_when_saving(
    run_cli: Run, app: App, home: Path
) -> None:
    folder = state_dir(home)
    folder.mkdir(parents=True, mode=0o700)
    folder.chmod(0o777)
    result = run_cli(*app.connect_args("--no-welcome"))
    assert result.code == 2
    line = result.error_line()
    assert f"the folder {folder} that holds the saved connection" in line
    assert f"chmod go-w {folder}" in line
    assert not (folder / "connection.json").exists()


# -- the token cache -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("bad-utf8", "is damaged (not UTF-8 at byte"),
        ("bad-json", "is damaged (not JSON"),
        ("huge-number", "is damaged (expires_on is out of range)"),
        ("inf", "is damaged (expires_on is out of range)"),
        ("wrong-type", "is damaged (access_token is not a token)"),
        ("bool-time", "is damaged (expires_on is not a number)"),
        ("deep", "is damaged (nested too deeply)"),
        ("fifo", "is a FIFO (named pipe), not a regular file"),
        ("symlink", "is a symbolic link"),
        ("0666", "is accessible by group or others (mode 0666)"),
        ("other-owner", f"is owned by uid {OTHER_UID}"),
        ("2gb", "is larger than 1 MiB"),
    ],
)
def test_a_damaged_token_cache_entry_is_dropped_with_one_warning(
    run_cli: Run, connected: App, home: Path, emulator, tmp_path: Path, damage: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    [entry] = _entries(home)
    saved = json.loads(entry.read_text())
    if damage == "bad-utf8":
        entry.write_bytes(b'{"version": 1, "access_token": "\xc3\x28"}')
    elif damage == "bad-json":
        entry.write_text('{"version": 1, "access_token"')
    elif damage == "huge-number":
        entry.write_text(json.dumps({**saved, "expires_on": 10**400}))
    elif damage == "inf":
        entry.write_text(json.dumps(saved).replace(str(saved["expires_on"]), "1e400"))
    elif damage == "wrong-type":
        entry.write_text(json.dumps({**saved, "access_token": ["x"]}))
    elif damage == "bool-time":
        entry.write_text(json.dumps({**saved, "expires_on": True}))
    elif damage == "deep":
        entry.write_text("[" * 100_000 + "]" * 100_000)
    elif damage == "fifo":
        entry.unlink()
        fifo(entry)
    elif damage == "symlink":
        elsewhere = tmp_path / "planted.json"
        elsewhere.write_text(json.dumps({**saved, "access_token": "planted"}))
        entry.unlink()
        entry.symlink_to(elsewhere)
    elif damage == "0666":
        entry.chmod(0o666)
    elif damage == "other-owner":
        os.chown(entry, OTHER_UID, -1)
    elif damage == "2gb":
        entry.unlink()
        sparse(entry)
    before = _token_requests(emulator, connected.tenant_id)
    result = run_cli("token")
    assert result.code == 0, result.stderr
    assert result.stdout.strip().count(".") == 2 and "planted" not in result.stdout
    [warning] = result.stderr.splitlines()
    assert warning.startswith("entra-auth: warning: ")
    assert str(entry) in warning and expected in warning and "Traceback" not in result.stderr
    assert _token_requests(emulator, connected.tenant_id) == before + 1  # fetched again
    [fresh] = _entries(home)
    assert fresh.is_file() and not fresh.is_symlink()
    assert fresh.stat().st_mode & 0o777 == 0o600 and fresh.stat().st_uid == os.geteuid()
    again = run_cli("token")  # repaired: no warning, no request
    assert again.code == 0 and again.stderr == ""
    assert _token_requests(emulator, connected.tenant_id) == before + 1


def test_a_token_cache_entry_readable_by_others_is_repaired_to_0600(
    run_cli: Run, connected: App, home: Path, emulator
) -> None:  # type: ignore[no-untyped-def]
    [entry] = _entries(home)
    entry.chmod(0o644)
    before = _token_requests(emulator, connected.tenant_id)
    result = run_cli("token")
    assert result.code == 0, result.stderr
    [warning] = result.stderr.splitlines()
    assert f"{entry} was readable by group or others (mode 0644); set it to 0600" in warning
    assert entry.stat().st_mode & 0o777 == 0o600
    assert _token_requests(emulator, connected.tenant_id) == before  # still the cached token


def test_a_token_cache_folder_others_can_write_is_refused(
    run_cli: Run, connected: App, home: Path
) -> None:
    folder = state_dir(home) / "tokens"
    folder.chmod(0o777)
    result = run_cli("token")
    assert result.code == 2
    line = result.error_line()
    assert f"the folder {folder} that holds the token cache" in line
    assert f"chmod go-w {folder}" in line
