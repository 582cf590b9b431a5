"""Start-up cost: help and the offline commands load no HTTP or crypto library, and the
console entry points work."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("msal", "requests", "cryptography", "urllib3", "entra_auth_emulator")

PROBE = (
    "import contextlib, io, json, sys\n"
    "from entra_auth_cli.app import run\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
    "    code = run(sys.argv[1:])\n"
    f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
    "print(json.dumps({'code': code, 'heavy': heavy}))\n"
)


def probe(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--help",), 0),
        (("connect", "--help"), 0),
        (("context",), 2),
        (("disconnect",), 0),
        (("profile", "list"), 0),
        (("environment", "list"), 0),
        (("profile", "add", "vm", "--identity"), 0),
    ],
)
def test_light_commands_import_no_heavy_module(args, code):
    assert probe(*args) == {"code": code, "heavy": []}


def test_help_lists_every_command(run_cli):
    result = run_cli("--help")
    assert result.code == 0
    for command in (
        "connect", "context", "token", "disconnect", "profile", "providers", "environment",
        "emulator", "demo",
    ):  # fmt: skip
        assert command in result.stdout


def test_version(run_cli):
    result = run_cli("--version")
    assert result.code == 0
    assert result.stdout.startswith("entra-auth 0.")
