"""Writes keep what the user made and fail by name (issue 14 items 5, 8, 10): a symlinked
config is edited through its link, keeping the target's mode, comments and order; a read-only
folder and a full disk end in exit 2 naming the path, with the old file intact."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest
from fault_helpers import Run, config_file, no_root_bypass, private_file, state_dir

DOTFILE = """# my entra-auth profiles, kept in git
default_profile = "ci"

# the CI app
[profiles.ci]
provider = "client-secret"
client_id = "22222222-2222-2222-2222-222222222222"
tenant_id = "contoso.onmicrosoft.com"
client_secret = "env:AZURE_CLIENT_SECRET"
"""

ADD = (
    "profile",
    "add",
    "lab",
    "--client-id",
    "33333333-3333-3333-3333-333333333333",
    "--tenant-id",
    "contoso.onmicrosoft.com",
    "--client-secret",
    "env:LAB_SECRET",
)


def _linked_config(home: Path, tmp_path: Path, mode: int = 0o640) -> tuple[Path, Path]:
    target = private_file(tmp_path / "dotfiles" / "entra-auth.toml", DOTFILE, mode)
    link = config_file(home)
    link.parent.mkdir(parents=True, mode=0o700)
    link.symlink_to(target)
    return link, target


@pytest.mark.parametrize(
    "change",
    [
        ADD,
        ("profile", "remove", "ci"),
        (
            "environment",
            "add",
            "Lab",
            "--authority-host",
            "https://login.lab.example",
            "--graph-endpoint",
            "https://graph.lab.example",
        ),
    ],
)
def test_edits_of_a_symlinked_config_write_through_to_its_target(
    run_cli: Run, home: Path, tmp_path: Path, change: tuple[str, ...]
) -> None:
    link, target = _linked_config(home, tmp_path)
    result = run_cli(*change)
    assert result.code == 0, result.stderr
    assert link.is_symlink() and Path(os.readlink(link)) == target
    assert target.stat().st_mode & 0o777 == 0o640  # the user's mode, kept
    text = target.read_text()
    assert text.startswith("# my entra-auth profiles, kept in git\n")
    assert text != DOTFILE
    assert not [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_new_config_is_0600_in_a_0700_folder(run_cli: Run, home: Path) -> None:
    assert run_cli(*ADD).code == 0
    path = config_file(home)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700


def test_a_read_only_config_folder_is_named_and_the_file_kept(run_cli: Run, home: Path) -> None:
    path = private_file(config_file(home), DOTFILE)
    path.parent.chmod(0o500)
    try:
        result = run_cli(*ADD, prefix=no_root_bypass())
    finally:
        path.parent.chmod(0o700)
    assert result.code == 2
    line = result.error_line()
    assert str(path.parent) in line and "ermission denied" in line
    assert path.read_text() == DOTFILE


def test_a_read_only_state_folder_is_named_when_connecting(run_cli: Run, app, home: Path) -> None:  # type: ignore[no-untyped-def]
    folder = state_dir(home)
    folder.mkdir(parents=True, mode=0o500)
    try:
        result = run_cli(*app.connect_args("--no-welcome"), prefix=no_root_bypass())
    finally:
        folder.chmod(0o700)
    assert result.code == 2
    line = result.error_line()
    assert f"cannot write saved connection {folder / 'connection.json'}" in line
    assert "ermission denied" in line


def _small_tmpfs(where: Path) -> bool:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", str(where)],
        capture_output=True,
    )
    return done.returncode == 0


@pytest.fixture
def full_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 16 KiB tmpfs when this machine lets us mount one; else None (the test then limits
    the file size the CLI may write with RLIMIT_FSIZE, which fails a write with EFBIG as a
    full disk fails it with ENOSPC)."""
    where = tmp_path / "small"
    mounted = os.geteuid() == 0 and _small_tmpfs(where)
    yield where if mounted else None
    if mounted:
        subprocess.run(["umount", str(where)], check=False)


def test_a_full_disk_when_editing_the_config_is_named_and_the_file_kept(
    run_cli: Run, home: Path, full_disk: Path | None
) -> None:
    if full_disk is not None:
        path = private_file(full_disk / "config.toml", DOTFILE)
        fd = os.open(full_disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:  # fill the rest of the tmpfs
            while os.write(fd, b"\0" * 1024):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        env = {"ENTRA_AUTH_CONFIG": str(path)}
        preexec = None
    else:
        path = private_file(config_file(home), DOTFILE)
        env = {}

        def preexec() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (len(DOTFILE) + 64, len(DOTFILE) + 64))

    result = run_cli(*ADD, env=env, preexec_fn=preexec)
    assert result.code == 2, result.stderr
    line = result.error_line()
    assert "cannot write config file" in line and str(path.parent) in line
    assert path.read_text() == DOTFILE
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
