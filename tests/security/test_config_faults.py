"""The config file and the parsed copy kept for large configs, against hostile and damaged
files (issue 14 items 1, 4, 5, 10): every case runs the real CLI and ends in exit 2 with one
line naming the path and the fix, or works as the file says; none hangs or says "unexpected".
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from fault_helpers import OTHER_UID, Run, config_file, fifo, private_file, sparse

PROFILE = """# my profiles
[profiles.ci]
provider = "client-secret"
client_id = "22222222-2222-2222-2222-222222222222"
tenant_id = "contoso.onmicrosoft.com"
client_secret = "env:AZURE_CLIENT_SECRET"
"""


def _config(home: Path, text: str = PROFILE, mode: int = 0o600) -> Path:
    return private_file(config_file(home), text, mode)


def test_a_fifo_as_entra_auth_config_fails_at_once(run_cli: Run, tmp_path: Path) -> None:
    pipe = fifo(tmp_path / "config.fifo")
    started = time.monotonic()
    result = run_cli("profile", "list", env={"ENTRA_AUTH_CONFIG": str(pipe)})
    assert time.monotonic() - started < 10
    assert result.code == 2
    assert f"config file {pipe} is a FIFO (named pipe), not a regular file" in result.error_line()


@pytest.mark.parametrize(
    ("mode", "fix"), [(0o666, "chmod go-w"), (0o620, "chmod go-w"), (0o602, "chmod go-w")]
)
def test_a_config_others_can_write_is_refused(
    run_cli: Run, home: Path, mode: int, fix: str
) -> None:
    path = _config(home, mode=mode)
    result = run_cli("profile", "list")
    assert result.code == 2
    line = result.error_line()
    assert f"config file {path} is writable by group or others (mode {mode:04o})" in line
    assert f"run: {fix} {path}" in line


def test_a_config_readable_by_others_is_fine(run_cli: Run, home: Path) -> None:
    """It holds references, not secrets: 0644 is what an editor leaves, and it is allowed."""
    _config(home, mode=0o644)
    result = run_cli("profile", "list")
    assert result.code == 0, result.stderr
    assert "ci" in result.stdout


def test_a_config_in_a_folder_others_can_write_is_refused(run_cli: Run, home: Path) -> None:
    path = _config(home)
    path.parent.chmod(0o777)
    result = run_cli("profile", "list")
    assert result.code == 2
    line = result.error_line()
    assert f"the folder {path.parent} that holds config file {path}" in line
    assert f"run: chmod go-w {path.parent}" in line


def test_a_config_in_a_sticky_shared_folder_is_accepted(run_cli: Run, tmp_path: Path) -> None:
    """Like /tmp: others may write the folder, but cannot replace or remove a file they do not
    own there."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    path = private_file(shared / "config.toml", PROFILE)
    result = run_cli("profile", "list", env={"ENTRA_AUTH_CONFIG": str(path)})
    assert result.code == 0, result.stderr


def test_a_config_owned_by_another_user_is_refused(run_cli: Run, home: Path) -> None:
    path = _config(home)
    os.chown(path, OTHER_UID, -1)
    result = run_cli("profile", "list")
    assert result.code == 2
    line = result.error_line()
    assert f"config file {path} is owned by uid {OTHER_UID}" in line
    assert f"run: chown root {path}" in line or "run: chown " in line


def test_a_config_folder_owned_by_another_user_is_refused(run_cli: Run, home: Path) -> None:
    path = _config(home)
    os.chown(path.parent, OTHER_UID, -1)
    result = run_cli("profile", "list")
    assert result.code == 2
    assert f"the folder {path.parent} that holds config file" in result.error_line()


def test_a_symlinked_config_to_the_users_own_file_is_read(
    run_cli: Run, home: Path, tmp_path: Path
) -> None:
    target = private_file(tmp_path / "dotfiles" / "entra-auth.toml", PROFILE)
    link = config_file(home)
    link.parent.mkdir(parents=True, mode=0o700)
    link.symlink_to(target)
    result = run_cli("profile", "list")
    assert result.code == 0, result.stderr
    assert "ci" in result.stdout


def test_a_symlinked_config_whose_target_others_can_write_is_refused(
    run_cli: Run, home: Path, tmp_path: Path
) -> None:
    target = private_file(tmp_path / "dotfiles" / "entra-auth.toml", PROFILE)
    target.parent.chmod(0o777)
    link = config_file(home)
    link.parent.mkdir(parents=True, mode=0o700)
    link.symlink_to(target)
    result = run_cli("profile", "list")
    assert result.code == 2
    assert f"the folder {target.parent} that holds config file {link}" in result.error_line()


def test_a_2_gb_config_is_refused_by_its_size(run_cli: Run, tmp_path: Path) -> None:
    big = sparse(tmp_path / "big.toml")
    result = run_cli("profile", "list", env={"ENTRA_AUTH_CONFIG": str(big)})
    assert result.code == 2
    assert f"config file {big} is larger than 16 MiB" in result.error_line()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfe[profiles", "is not UTF-8 text"),
        (b"[profiles.ci\nprovider=", "is not valid TOML"),
        (b"[profiles.ci]\nprovider = 5\n", 'needs provider = "<name>"'),
        (b"profiles = 3\n", "[profiles] must be a table of tables"),
        (b'[profiles.ci]\nprovider = "client-secret"\ncontext_scope = 1\n', "context_scope"),
        (b'default_profile = ["x"]\n', "default_profile must be a profile name"),
    ],
)
def test_damaged_config_bytes_name_the_file(
    run_cli: Run, home: Path, data: bytes, expected: str
) -> None:
    path = _config(home, "")
    path.write_bytes(data)
    result = run_cli("profile", "list")
    assert result.code == 2
    line = result.error_line()
    assert str(path) in line and expected in line


def test_a_config_folder_in_place_of_the_file_is_named(run_cli: Run, home: Path) -> None:
    path = config_file(home)
    path.mkdir(parents=True, mode=0o700)
    result = run_cli("profile", "list")
    assert result.code == 2
    assert f"config file {path} is a folder, not a regular file" in result.error_line()


def _big_config(tenant: str) -> str:
    return "".join(
        f'[profiles.p{i}]\nprovider = "client-secret"\n'
        f'client_id = "22222222-2222-2222-2222-{i:012d}"\n'
        f'tenant_id = "{tenant}.onmicrosoft.com"\nclient_secret = "env:S"\n\n'
        for i in range(1500)
    )


def _parsed_copy(home: Path) -> Path:
    return home / ".cache" / "entra-auth" / "config.parsed"


def test_a_forged_parsed_copy_cannot_change_what_the_config_says(run_cli: Run, home: Path) -> None:
    """A parsed copy is used only when it is private to the user (0600, in a folder others
    cannot write) and stamped with the SHA-256 of the config's current bytes."""
    path = _config(home, _big_config("contoso"))
    assert run_cli("profile", "show", "p7").code == 0
    copy = _parsed_copy(home)
    saved = json.loads(copy.read_text())
    saved["data"]["profiles"]["p7"]["tenant_id"] = "attacker.onmicrosoft.com"
    copy.write_text(json.dumps(saved))  # the stamp still matches the file...
    copy.chmod(0o666)  # ...but others could have written it
    shown = run_cli("profile", "show", "p7", "--output", "json")
    assert shown.code == 0, shown.stderr
    assert "attacker" not in shown.stdout and "contoso.onmicrosoft.com" in shown.stdout
    assert path.exists()


@pytest.mark.parametrize(
    "damage",
    ["bytes", "not-an-object", "wrong-stamp", "fifo", "symlink", "other-owner", "open-folder"],
)
def test_a_damaged_or_untrusted_parsed_copy_is_a_miss(
    run_cli: Run, home: Path, tmp_path: Path, damage: str
) -> None:
    _config(home, _big_config("contoso"))
    assert run_cli("profile", "list").code == 0
    copy = _parsed_copy(home)
    forged = json.loads(copy.read_text())
    forged["data"]["profiles"]["p7"]["tenant_id"] = "attacker.onmicrosoft.com"
    if damage == "bytes":
        copy.write_bytes(b"\x00\xff garbage")
    elif damage == "not-an-object":
        copy.write_text("[1, 2, 3]")
    elif damage == "wrong-stamp":
        forged["stamp"][1] = "0" * 64
        copy.write_text(json.dumps(forged))
    elif damage == "fifo":
        copy.unlink()
        os.mkfifo(copy, 0o600)
    elif damage == "symlink":
        elsewhere = private_file(tmp_path / "forged.json", json.dumps(forged))
        copy.unlink()
        copy.symlink_to(elsewhere)
    elif damage == "other-owner":
        copy.write_text(json.dumps(forged))
        os.chown(copy, OTHER_UID, -1)
    elif damage == "open-folder":
        copy.write_text(json.dumps(forged))
        copy.parent.chmod(0o777)
    shown = run_cli("profile", "show", "p7", "--output", "json")
    assert shown.code == 0, shown.stderr
    assert "attacker" not in shown.stdout and "contoso.onmicrosoft.com" in shown.stdout
    assert "Traceback" not in shown.stderr
