"""The fast path of ``entra-auth token`` and ``entra-auth context`` against the full CLI: the
same cases run through both (real subprocesses over the same home and emulator) must give the
same stdout, stderr and exit code; where the fast path answers it imports none of the heavy
modules, and wherever it cannot be sure it lets the full CLI answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import connect_args

HEAVY = (
    "typer", "click", "pluggy", "msal", "requests", "cryptography", "importlib.metadata",
)  # fmt: skip
# Standard library modules that cost the fast path a third of its time when it used them (the
# saved connection's dataclass, paths as Path objects, annotations from typing).
STDLIB_AVOIDED = ("dataclasses", "inspect", "pathlib", "typing", "datetime")

# Runs the console script's entry point (fast path first) or the typer app alone, and records
# which modules were imported.
RUNNER = """
import atexit, json, os, sys
def _record():
    with open(os.environ["MODULES_FILE"], "w") as f:
        json.dump(sorted(sys.modules), f)
atexit.register(_record)
sys.argv = ["entra-auth", *sys.argv[1:]]
if os.environ["WHICH"] == "fast":
    from entra_auth_cli.__main__ import main
else:
    from entra_auth_cli.app import main
main()
"""


def run(which: str, args: tuple[str, ...], tmp_path: Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    modules = tmp_path / f"modules-{which}.json"
    environ = {**os.environ, "WHICH": which, "MODULES_FILE": str(modules), **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *args], env=environ, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    loaded = set(json.loads(modules.read_text())) if modules.exists() else set()
    return (done.returncode, done.stdout, done.stderr), loaded


def heavy(loaded: set[str]) -> list[str]:
    return [m for m in HEAVY if m in loaded]


def both(args: tuple[str, ...], tmp_path: Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    full, _ = run("full", args, tmp_path, env)
    fast, loaded = run("fast", args, tmp_path, env)
    assert fast == full, (args, fast, full)
    return fast, loaded


def both_after(setup, args: tuple[str, ...], tmp_path: Path, *, fetched: bool = False):  # type: ignore[no-untyped-def]
    """Like ``both`` for a case the full CLI repairs or removes: set it up before each run
    (``fetched``: each run gets a new token, so only the exit code and stderr can match)."""
    setup()
    fast, loaded = run("fast", args, tmp_path)
    setup()
    full, _ = run("full", args, tmp_path)
    if fetched:
        assert (fast[0], fast[2]) == (full[0], full[2]) and fast[1] and full[1]
    else:
        assert fast == full, (args, fast, full)
    return fast, loaded


CASES = [
    ("token",),
    ("token", "--output", "json"),
    ("token", "--output=json"),
    ("token", "--scope", "https://graph.microsoft.com/.default"),
    ("context",),
    ("context", "--output", "json"),
    ("context", "--output=json"),
]
FALL_THROUGH = [
    ("token", "--output", "JSON"),
    ("token", "--output", "xml"),
    ("token", "--timeout", "30"),
    ("token", "--scope"),
    ("context", "--output", "raw"),
    ("context", "--bogus"),
    ("token", "--help"),
]


@pytest.fixture
def connected(run_cli, secret_in_env, tmp_path: Path):  # type: ignore[no-untyped-def]
    done = run_cli(*connect_args(secret_in_env, "--context-scope", "CurrentUser", "--no-welcome"))
    assert done.code == 0, done.stderr
    return secret_in_env


def test_the_fast_path_answers_as_the_full_cli_without_heavy_imports(connected, tmp_path):  # type: ignore[no-untyped-def]
    run("full", ("token",), tmp_path)  # writes the plugin discovery cache
    for args in CASES:
        result, loaded = both(args, tmp_path)
        assert result[0] == 0 and result[1], (args, result)
        assert heavy(loaded) == [], (args, heavy(loaded))
        assert "entra_auth" not in loaded and "entra_auth_cli.app" not in loaded
        assert [m for m in STDLIB_AVOIDED if m in loaded] == [], args


def test_other_cases_fall_through_to_the_full_cli_with_the_same_answer(connected, tmp_path):  # type: ignore[no-untyped-def]
    run("full", ("token",), tmp_path)
    for args in FALL_THROUGH:
        result, loaded = both(args, tmp_path)
        assert "typer" in loaded, args  # the full CLI answered
    # A miss is fetched by the full CLI; the next process is answered from the cache.
    miss = ("token", "--scope", "https://management.azure.com/.default")
    result, loaded = run("fast", miss, tmp_path)
    assert result[0] == 0 and "msal" in loaded
    result, loaded = both(miss, tmp_path)
    assert result[0] == 0 and heavy(loaded) == []
    # --profile and ENTRA_AUTH_PROFILE: the profile's own sign-in, never the saved connection
    for args, env in [
        (("token", "--profile", "nope"), None),
        (("token",), {"ENTRA_AUTH_PROFILE": "nope"}),
        (("context",), {"ENTRA_AUTH_PROFILE": "nope"}),
    ]:
        result, loaded = both(args, tmp_path, env)
        assert result[0] == 2 and "typer" in loaded


def test_no_connection_damaged_or_exposed_files_are_the_full_clis_to_report(
    run_cli, secret_in_env, connection_file: Path, isolated_environment: Path, tmp_path: Path
) -> None:
    for args in CASES:  # not connected
        result, loaded = both(args, tmp_path)
        assert result[0] == 2 and "not connected" in result[2] and "typer" in loaded
    done = run_cli(*connect_args(secret_in_env, "--context-scope", "CurrentUser", "--no-welcome"))
    assert done.code == 0
    run("full", ("token",), tmp_path)
    tokens = connection_file.parent / "tokens"
    entry = next(tokens.iterdir())
    token = entry.read_text()

    def exposed() -> None:  # readable by others: the full CLI repairs it with a warning
        entry.write_text(token)
        entry.chmod(0o644)

    result, loaded = both_after(exposed, ("token",), tmp_path)
    assert "warning" in result[2] and "typer" in loaded

    def damaged() -> None:  # removed with a warning and fetched again, by the full CLI
        entry.write_text("{not json")
        entry.chmod(0o600)

    result, loaded = both_after(damaged, ("token",), tmp_path, fetched=True)
    assert result[0] == 0 and "damaged" in result[2] and "typer" in loaded
    assert result[1].strip() != token
    # A damaged saved connection.
    original = connection_file.read_text()
    connection_file.write_text(original.replace('"version": 1', '"version": 7'))
    result, loaded = both(("context",), tmp_path)
    assert result[0] == 2 and "damaged" in result[2] and "typer" in loaded
    # Writable by others.
    connection_file.write_text(original)
    connection_file.chmod(0o666)
    result, loaded = both(("context",), tmp_path)
    assert result[0] == 2 and "typer" in loaded
    connection_file.chmod(0o600)
    # A stale plugin discovery cache (a distribution installed since): the full CLI answers
    # and rewrites it; then the fast path answers again.
    site = tmp_path / "site"
    (site / "newdist-1.0.dist-info").mkdir(parents=True)
    env = {"PYTHONPATH": str(site)}
    _, loaded = run("fast", ("token",), tmp_path, env)
    assert "pluggy" in loaded
    _, loaded = run("fast", ("token",), tmp_path, env)
    assert "pluggy" not in loaded


def test_a_process_scoped_connection_is_answered_by_the_full_cli(run_cli, secret_in_env, tmp_path):  # type: ignore[no-untyped-def]
    assert run_cli(*connect_args(secret_in_env, "--no-welcome")).code == 0
    run("full", ("token",), tmp_path)
    result, loaded = both_after(lambda: None, ("token",), tmp_path, fetched=True)
    assert result[0] == 0 and "msal" in loaded  # Process scope: a token request every time


def test_an_encrypted_cache_is_answered_by_the_full_cli(run_cli, secret_in_env, tmp_path):  # type: ignore[no-untyped-def]
    """Sealed entries need the OS keyring's key: the fast path never reads them, whether
    the connection asks for encryption or ENTRA_AUTH_CACHE_ENCRYPTION does."""
    keyring_env = {
        "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
        "ENTRA_AUTH_TEST_KEYRING": str(tmp_path / "os-keyring.json"),
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])
        ),
    }
    args = ("--context-scope", "CurrentUser", "--token-cache-encryption", "keyring")
    done = run_cli(*connect_args(secret_in_env, *args, "--no-welcome"), env=keyring_env)
    assert done.code == 0, done.stderr
    run("full", ("token",), tmp_path, keyring_env)
    for case in CASES[:4]:
        result, loaded = both(case, tmp_path, keyring_env)
        assert result[0] == 0 and result[1] and result[2] == "", (case, result)
        assert "typer" in loaded and "msal" not in loaded, case  # full CLI, from the cache
    # A plaintext connection under ENTRA_AUTH_CACHE_ENCRYPTION=keyring: the full CLI too
    done = run_cli(*connect_args(secret_in_env, "--context-scope", "CurrentUser", "--no-welcome"))
    assert done.code == 0, done.stderr
    sealed = {**keyring_env, "ENTRA_AUTH_CACHE_ENCRYPTION": "keyring"}
    run("full", ("token",), tmp_path, sealed)
    result, loaded = both(("token",), tmp_path, sealed)
    assert result[0] == 0 and result[1] and "typer" in loaded and "msal" not in loaded


def test_the_fast_path_reads_every_field_the_saved_connection_has() -> None:
    """``saved_format`` checks the file without the dataclass; the two must name the same
    fields, or a field added to one would be dropped (or refused) by the other."""
    from entra_auth_cli import saved_format, state

    fields = set(state.SavedConnection.__dataclass_fields__)
    assert fields == {"version", *saved_format._FIELDS}
    assert set(saved_format.REQUIRED) <= fields


def help_file() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "entra-auth" / "help.json"


def test_help_is_the_page_the_full_cli_stored_for_this_installation_and_width(tmp_path):  # type: ignore[no-untyped-def]
    """The full CLI stores the top-level page it rendered; the fast path prints it, byte for
    byte, without typer, for the same key and terminal width only."""
    pages = {}
    for columns in (None, "60", "200"):
        env = {"COLUMNS": columns} if columns else {}
        for args in (("--help",), ("-h",)):
            full, _ = run("full", args, tmp_path, env)
            pages[columns] = full
            fast, loaded = run("fast", args, tmp_path, env)
            assert fast == full and full[0] == 0 and "Commands:" in full[1], (args, columns)
            assert heavy(loaded) == [] and "typer" not in loaded, (args, columns)
    assert help_file().stat().st_mode & 0o777 == 0o600
    # A width never seen: the full CLI answers (and stores that page too).
    full, _ = run("full", ("--help",), tmp_path, {"COLUMNS": "50"})
    help_file().unlink()
    run("full", ("--help",), tmp_path, {"COLUMNS": "200"})  # only the 200-column page kept
    fast, loaded = run("fast", ("--help",), tmp_path, {"COLUMNS": "50"})
    assert fast == full and "typer" in loaded
    # Another installation (a distribution added to sys.path): the full CLI answers.
    site = tmp_path / "site"
    (site / "newdist-1.0.dist-info").mkdir(parents=True)
    stale, loaded = run("fast", ("--help",), tmp_path, {"PYTHONPATH": str(site)})
    assert stale == pages[None] and "typer" in loaded
    assert pages["60"][1] != pages[None][1]  # the width matters: 60 columns wrap elsewhere
    _, loaded = run("fast", ("--help",), tmp_path, {"PYTHONPATH": str(site)})
    assert "typer" not in loaded  # stored again for that installation


def test_a_help_page_file_not_as_written_is_not_printed(tmp_path):  # type: ignore[no-untyped-def]
    full, _ = run("full", ("--help",), tmp_path)
    stored = json.loads(help_file().read_text())
    forged = {**stored, "pages": {k: "forged page" for k in stored["pages"]}}
    for mode in (0o644, 0o620):  # readable or writable by others: never read
        help_file().write_text(json.dumps(forged))
        help_file().chmod(mode)
        fast, loaded = run("fast", ("--help",), tmp_path)
        assert fast == full and "typer" in loaded, oct(mode)
    help_file().unlink()
    help_file().symlink_to(tmp_path / "elsewhere.json")
    (tmp_path / "elsewhere.json").write_text(json.dumps(forged))
    (tmp_path / "elsewhere.json").chmod(0o600)
    fast, loaded = run("fast", ("--help",), tmp_path)
    assert fast == full and "typer" in loaded
    for damaged in ("{not json", json.dumps({**stored, "version": 9}), "[]"):
        help_file().unlink()
        help_file().write_text(damaged)
        help_file().chmod(0o600)
        fast, loaded = run("fast", ("--help",), tmp_path)
        assert fast == full and "typer" in loaded, damaged
    _, loaded = run("fast", ("--help",), tmp_path)  # the full CLI wrote it anew
    assert "typer" not in loaded


def test_help_is_the_same_page_whatever_the_profile_and_kept_without_loading_core(tmp_path):  # type: ignore[no-untyped-def]
    """ENTRA_AUTH_PROFILE does not change the top-level page, so the fast path still answers;
    a full CLI that renders a page already kept does not import core to write it again."""
    full, _ = run("full", ("--help",), tmp_path)
    stored = help_file().stat().st_mtime_ns
    again, loaded = run("full", ("--help",), tmp_path)
    assert again == full and "entra_auth" not in loaded
    assert help_file().stat().st_mtime_ns == stored
    fast, loaded = run("fast", ("--help",), tmp_path, {"ENTRA_AUTH_PROFILE": "nope"})
    assert fast == full and "typer" not in loaded
