"""The command line as a real subprocess: ready file, a token, SIGTERM/SIGINT within 2 s,
CA reuse across restarts, and one-line exit-2 errors for bad configs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import msal
import pytest
import requests

from entra_auth_emulator.pki import make_leaf_cert

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"


def write_config(folder: Path, body: str | None = None) -> Path:
    cert = make_leaf_cert("CN=cli app")
    cert.write_pem(folder / "app-cert.pem", include_key=False)
    config = folder / "emulator.toml"
    config.write_text(
        body
        if body is not None
        else f"""
[[apps]]
tenant_id = "{TENANT}"
client_id = "{CLIENT}"
display_name = "Contoso Automation"
roles = ["Group.Read.All", "User.Read.All"]
secrets = ["cli-secret"]
certificates = ["app-cert.pem"]

[[managed_identities]]
tenant_id = "{TENANT}"
display_name = "vm-automation"
roles = ["User.Read.All"]
"""
    )
    return config


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "entra_auth_emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_ready(path: Path, process: subprocess.Popen[str], timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        if process.poll() is not None:
            raise AssertionError(f"emulator exited early: {process.communicate()}")
        time.sleep(0.02)
    process.kill()
    raise AssertionError("no ready file")


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> float:
    started = time.monotonic()
    process.send_signal(sig)
    process.wait(timeout=5)
    return time.monotonic() - started


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_start_token_stop_restart(tmp_path: Path, sig: int) -> None:
    config = write_config(tmp_path)
    state, ready = tmp_path / "state", tmp_path / "run" / "ready.json"
    process = start(
        [
            "--port",
            "0",
            "--config",
            str(config),
            "--state-dir",
            str(state),
            "--ready-file",
            str(ready),
        ]
    )
    try:
        info = wait_ready(ready, process)
        assert set(info) == {
            "authority_host",
            "ca_bundle",
            "imds_endpoint",
            "identity_endpoint",
            "identity_header",
            "graph_endpoint",
            "oidc_issuer",
            "pid",
        }
        assert info["pid"] == process.pid
        assert info["authority_host"].startswith("https://127.0.0.1:")
        assert info["imds_endpoint"].startswith("http://127.0.0.1:")
        assert ready.stat().st_mode & 0o777 == 0o600
        for key in ("ca-key.pem", "tls-key.pem", "token-signing-key.pem"):
            assert (state / key).stat().st_mode & 0o777 == 0o600, key
        session = requests.Session()
        session.trust_env, session.verify = False, info["ca_bundle"]
        app = msal.ConfidentialClientApplication(
            CLIENT,
            authority=f"{info['authority_host']}/{TENANT}",
            client_credential="cli-secret",
            instance_discovery=False,
            http_client=session,
        )
        result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
        assert "access_token" in result, result
        imds = requests.get(
            f"{info['imds_endpoint']}/metadata/identity/oauth2/token",
            params={"api-version": "2018-02-01", "resource": "https://graph.microsoft.com"},
            headers={"Metadata": "true"},
            timeout=10,
        )
        assert imds.status_code == 200
        ca_before = Path(info["ca_bundle"]).read_bytes()
    finally:
        elapsed = stop(process, sig)
    assert elapsed < 2.0
    assert process.returncode == 0
    out, err = process.communicate()
    assert "authority_host" in out and "Traceback" not in err
    assert "cli-secret" not in out + err
    assert not ready.exists()  # removed on a clean exit

    process = start(
        ["--config", str(config), "--state-dir", str(state), "--ready-file", str(ready)]
    )
    try:
        info = wait_ready(ready, process)
        assert Path(info["ca_bundle"]).read_bytes() == ca_before  # the same CA, reused
    finally:
        assert stop(process) < 2.0
    assert process.returncode == 0


def test_default_state_dir_is_xdg(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "xdg")}
    ready = tmp_path / "ready.json"
    process = start(["--ready-file", str(ready)], env=env)
    try:
        info = wait_ready(ready, process)
    finally:
        stop(process)
    assert Path(info["ca_bundle"]) == tmp_path / "xdg" / "entra-auth-emulator" / "ca.pem"


BAD_CONFIGS = {
    "invalid-toml": ('[[apps]]\ntenant_id = "t"\nclient_id = \n', "line 3"),
    "missing-certificate": (
        '[[apps]]\ntenant_id = "t"\nclient_id = "c"\ncertificates = ["nope.pem"]\n',
        "nope.pem",
    ),
    "duplicate-client-id": (
        '[[apps]]\ntenant_id = "t"\nclient_id = "c"\n[[apps]]\ntenant_id = "t"\nclient_id = "C"\n',
        "duplicate client_id",
    ),
    "unknown-key": ('[[apps]]\ntenant_id = "t"\nclient_id = "c"\nsecret = "x"\n', "'secret'"),
    "unknown-top-level": ('[app]\ntenant_id = "t"\n', "'app'"),
    "missing-tenant": ('[[apps]]\nclient_id = "c"\n', "tenant_id"),
    "roles-not-list": ('[[apps]]\ntenant_id = "t"\nclient_id = "c"\nroles = "x"\n', "roles"),
}


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_config_exits_2_with_one_line(tmp_path: Path, name: str) -> None:
    body, expected = BAD_CONFIGS[name]
    config = tmp_path / "bad.toml"
    config.write_text(body)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "entra_auth_emulator",
            "--config",
            str(config),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0] and str(config) in lines[0]


def test_missing_config_file_and_bad_usage(tmp_path: Path) -> None:
    from entra_auth_emulator.__main__ import main

    assert main(["--config", str(tmp_path / "absent.toml"), "--state-dir", str(tmp_path)]) == 2
    assert main(["--port", "not-a-number"]) == 2
    assert main(["--port", "70000"]) == 2


def test_help_via_console_script() -> None:
    script = Path(sys.executable).with_name("entra-auth-emulator")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    for option in ("--host", "--port", "--config", "--state-dir", "--ready-file"):
        assert option in result.stdout


def test_port_in_use_exits_1(tmp_path: Path) -> None:
    import socket

    from entra_auth_emulator.__main__ import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--port", str(port), "--state-dir", str(tmp_path)]) == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_while_starting_is_a_clean_exit(tmp_path: Path, sig: int) -> None:
    """A signal during start-up (the CA and keys are being made) used to be a KeyboardInterrupt
    traceback (SIGINT) or death by signal (SIGTERM); it must be exit 0 like any other stop."""
    state, ready = tmp_path / "state", tmp_path / "ready.json"
    process = start(["--state-dir", str(state), "--ready-file", str(ready)])
    deadline = time.monotonic() + 15
    # The lock file appears once main() is past installing its handlers and into start().
    while not (state / ".lock").exists() and time.monotonic() < deadline:
        time.sleep(0.002)
    assert stop(process, sig) < 2.0
    out, err = process.communicate()
    assert process.returncode == 0, err
    assert err == "" and "Traceback" not in out
    assert not ready.exists()


def one_line_exit_2(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "entra_auth_emulator", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_unwritable_ready_file_exits_2_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = one_line_exit_2(
        "--state-dir", str(tmp_path / "state"), "--ready-file", str(blocker / "ready.json")
    )
    assert "ready file" in line and str(blocker / "ready.json") in line


def test_state_dir_that_is_a_file_exits_2_with_one_line(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "state"
    not_a_folder.write_text("")
    line = one_line_exit_2("--state-dir", str(not_a_folder))
    assert f"state dir {not_a_folder}: not a folder" in line


@pytest.mark.parametrize("args", [["--bogus"], ["--port", "x"], ["--port"]])
def test_bad_usage_is_one_line(args: list[str]) -> None:
    assert "(see --help)" in one_line_exit_2(*args)


def test_help_via_python_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "entra_auth_emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and result.stdout.startswith("usage: entra-auth-emulator")
    for option in ("--host", "--port", "--config", "--state-dir", "--ready-file"):
        assert option in result.stdout
