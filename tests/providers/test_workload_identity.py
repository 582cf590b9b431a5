"""The ``workload-identity`` provider against the emulator acting as the external OIDC issuer:
federated sign-in from Python and from the CLI (a token file, ``--environment-variable`` with
``AZURE_FEDERATED_TOKEN_FILE``, ``--federated-token REF``), the file re-read on every token
request, each federated mismatch with Entra's code (exit 1), and bad token files refused before
any request (exit 2) without their content in the message."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest

import entra_auth
from entra_auth import AuthenticationError, UsageError
from entra_auth_emulator import FederatedCredential

SUBJECT = "system:serviceaccount:automation:graph-reader"
ROTATED = "system:serviceaccount:automation:graph-reader-v2"
STRANGER = "system:serviceaccount:other:intruder"
GRAPH = "https://graph.microsoft.com/.default"
ARM = "https://management.azure.com/.default"
VAULT = "https://vault.azure.net/.default"


@dataclass
class FederatedApp:
    tenant_id: str
    client_id: str
    display_name: str

    def args(self) -> tuple[str, ...]:
        return ("--client-id", self.client_id, "--tenant-id", self.tenant_id)

    def options(self, **more: Any) -> dict[str, Any]:
        return {"client_id": self.client_id, "tenant_id": self.tenant_id, **more}


@pytest.fixture
def app(emulator: Any, emulator_env: dict[str, str]) -> FederatedApp:
    """A fresh tenant and app trusting the emulator's default issuer for SUBJECT and ROTATED."""
    registered = FederatedApp(
        str(uuid.uuid4()), str(uuid.uuid4()), f"Contoso Workload {uuid.uuid4().hex[:6]}"
    )
    issuer = emulator.oidc_issuer()
    emulator.register_app(
        registered.tenant_id,
        registered.client_id,
        display_name=registered.display_name,
        roles=["User.Read.All"],
        federated_credentials=[
            FederatedCredential(issuer, SUBJECT),
            FederatedCredential(issuer, ROTATED),
        ],
    )
    return registered


def write_token(path: Path, token: str) -> Path:
    """What the platform does: replace the file's content (kept 0600)."""
    path.write_text(token + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def token_file(emulator: Any, tmp_path: Path) -> Path:
    return write_token(tmp_path / "azure-identity-token", emulator.mint_federated_token(SUBJECT))


def token_requests(emulator: Any, tenant_id: str) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests()
        if r.get("endpoint") == "token" and f"/{tenant_id}/" in r.get("path", "")
    ]


def expired_token(emulator: Any, subject: str = SUBJECT) -> str:
    """A genuine token of the emulator's default issuer, expired an hour ago (past the five
    minutes of clock skew); minting cannot make one, so it is signed with the issuer's key."""
    kid, key = emulator.service.oidc_issuers._key("default")
    now = int(time.time())
    claims = {
        "iss": emulator.oidc_issuer(),
        "sub": subject,
        "aud": "api://AzureADTokenExchange",
        "iat": now - 7200,
        "nbf": now - 7200,
        "exp": now - 3600,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


# -- Python API -----------------------------------------------------------------------------


def test_python_api_signs_in_with_the_token_file(
    emulator: Any, app: FederatedApp, token_file: Path
) -> None:
    cred = entra_auth.connect(
        "workload-identity", options=app.options(federated_token_file=str(token_file))
    )
    try:
        token = cred.get_token(GRAPH).token
        claims = emulator.verify_token(token)
        assert claims["appid"] == app.client_id and claims["tid"] == app.tenant_id
        assert claims["appidacr"] == "2"  # a federated credential, as a certificate
        shown = cred.context.as_dict()
        assert shown["AuthType"] == "AppOnly"
        assert shown["ClientId"] == app.client_id and shown["TenantId"] == app.tenant_id
        assert shown["AppName"] == app.display_name
        assert shown["Scopes"] == ["User.Read.All"]
        assert shown["FederatedSubject"] == SUBJECT
        assert shown["FederatedIssuer"] == emulator.oidc_issuer()
        assert shown["FederatedTokenFile"] == str(token_file)
        federated = token_file.read_text().strip()
        for text in (json.dumps(shown), repr(cred), repr(cred._source)):
            assert federated not in text and federated.rsplit(".", 1)[1] not in text
        (entry,) = token_requests(emulator, app.tenant_id)
        assert entry["credential"] == "federated" and entry["status"] == 200
    finally:
        cred.close()


def test_python_api_takes_the_token_by_reference(
    emulator: Any, app: FederatedApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_FEDERATED_TOKEN", emulator.mint_federated_token(ROTATED))
    cred = entra_auth.connect(
        "workload-identity", options=app.options(federated_token="env:CI_FEDERATED_TOKEN")
    )
    try:
        assert emulator.verify_token(cred.get_token(GRAPH).token)["appid"] == app.client_id
        assert cred.context.as_dict()["FederatedSubject"] == ROTATED
        assert "FederatedTokenFile" not in cred.context.as_dict()
    finally:
        cred.close()


def test_the_file_is_read_again_for_every_token_request(
    emulator: Any, app: FederatedApp, token_file: Path
) -> None:
    cred = entra_auth.connect(
        "workload-identity", options=app.options(federated_token_file=str(token_file))
    )
    try:
        assert emulator.verify_token(cred.get_token(GRAPH).token)["appid"] == app.client_id
        # The platform rotates the file to a token for a subject the app does not trust: the
        # next request (another resource, so no cache answers it) sends it and is refused.
        write_token(token_file, emulator.mint_federated_token(STRANGER))
        with pytest.raises(AuthenticationError) as refused:
            cred.get_token(ARM)
        assert refused.value.aadsts_code == 700213
        assert STRANGER in str(refused.value)
        # Rotated again, to a token for the other trusted subject: accepted without reconnecting.
        write_token(token_file, emulator.mint_federated_token(ROTATED))
        assert emulator.verify_token(cred.get_token(VAULT).token)["appid"] == app.client_id
        # A token the file held earlier is still served from the cache, with no request.
        before = len(token_requests(emulator, app.tenant_id))
        cred.get_token(GRAPH)
        assert len(token_requests(emulator, app.tenant_id)) == before == 3
        # The file broken after connecting: the next request fails with the usage error,
        # before anything is sent.
        token_file.write_text("")
        with pytest.raises(UsageError, match="is empty"):
            cred.get_token(ARM)
        assert len(token_requests(emulator, app.tenant_id)) == before
    finally:
        cred.close()


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"federated_token_file": "TOKEN_FILE", "federated_token": "env:CI_FEDERATED_TOKEN"},
    ],
    ids=["neither", "both"],
)
def test_exactly_one_of_file_or_reference(
    emulator: Any, app: FederatedApp, token_file: Path, given: dict[str, str]
) -> None:
    options = {k: str(token_file) if v == "TOKEN_FILE" else v for k, v in given.items()}
    with pytest.raises(UsageError) as refused:
        entra_auth.connect("workload-identity", options=app.options(**options))
    message = str(refused.value)
    assert "exactly one of --federated-token-file PATH" in message
    assert "--federated-token REF" in message
    assert ("both were given" in message) == bool(given)
    assert token_requests(emulator, app.tenant_id) == []


# -- the command line -----------------------------------------------------------------------


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("entra-auth: error: "), lines[0]
        return lines[0]


Run = Callable[..., Ran]


@pytest.fixture
def run(cli_command: list[str], emulator_env: dict[str, str]) -> Run:
    """The CLI as a real subprocess, pointed at the emulator (authority and CA)."""

    def run(*args: str, env: dict[str, str] | None = None) -> Ran:
        completed = subprocess.run(
            [*cli_command, *args],
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            input="",
            timeout=60,
        )
        return Ran(completed.returncode, completed.stdout, completed.stderr)

    return run


@pytest.fixture
def connection_file(isolated_environment: Path) -> Path:
    return isolated_environment / ".local" / "state" / "entra-auth" / "connection.json"


def assert_not_shown(token: str, *results: Ran) -> None:
    signature = token.rsplit(".", 1)[1]
    for result in results:
        for text in (result.stdout, result.stderr):
            assert token not in text and signature not in text


def test_cli_connect_with_a_token_file_then_token_rereads_it(
    run: Run, emulator: Any, app: FederatedApp, token_file: Path, connection_file: Path
) -> None:
    connected = run(
        "connect", "--federated-token-file", str(token_file), *app.args(), "--output", "json"
    )
    assert connected.code == 0, connected.stderr
    shown = json.loads(connected.stdout)
    assert shown["auth_type"] == "AppOnly" and shown["app_name"] == app.display_name
    assert shown["federated_subject"] == SUBJECT
    assert shown["federated_issuer"] == emulator.oidc_issuer()
    saved = json.loads(connection_file.read_text())
    assert saved["provider"] == "workload-identity"
    assert saved["options"] == app.options(federated_token_file=str(token_file))
    context = run("context", "--output", "json")
    assert json.loads(context.stdout)["federated_subject"] == SUBJECT
    first = token_file.read_text().strip()

    # A later process signs in again from the file as it is now.
    write_token(token_file, emulator.mint_federated_token(STRANGER))
    refused = run("token", "--scope", ARM)
    assert refused.code == 1
    assert "AADSTS700213" in refused.error_line() and STRANGER in refused.error_line()
    write_token(token_file, emulator.mint_federated_token(ROTATED))
    fresh = run("token", "--scope", ARM)
    assert fresh.code == 0, fresh.stderr
    assert emulator.verify_token(fresh.stdout.strip())["appid"] == app.client_id
    assert_not_shown(first, connected, context, refused, fresh)
    assert_not_shown(token_file.read_text().strip(), refused, fresh)


def test_cli_environment_variable_reads_azure_federated_token_file(
    run: Run, emulator: Any, app: FederatedApp, token_file: Path, connection_file: Path
) -> None:
    env = {
        "AZURE_CLIENT_ID": app.client_id,
        "AZURE_TENANT_ID": app.tenant_id,
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
    }
    connected = run("connect", "--environment-variable", "--output", "json", env=env)
    assert connected.code == 0, connected.stderr
    assert json.loads(connected.stdout)["federated_subject"] == SUBJECT
    saved = json.loads(connection_file.read_text())
    assert saved["provider"] == "workload-identity"
    assert saved["options"] == app.options(federated_token_file=str(token_file))
    assert_not_shown(token_file.read_text().strip(), connected)


def test_cli_environment_variable_prefers_a_secret_then_a_certificate(
    run: Run, emulator: Any, app: FederatedApp, token_file: Path, connection_file: Path
) -> None:
    """As azure-identity's DefaultAzureCredential: EnvironmentCredential (secret, then
    certificate) before WorkloadIdentityCredential."""
    secret = uuid.uuid4().hex
    emulator.register_app(
        app.tenant_id,
        app.client_id,
        display_name=app.display_name,
        secrets=[secret],
        federated_credentials=[FederatedCredential(emulator.oidc_issuer(), SUBJECT)],
    )
    env = {
        "AZURE_CLIENT_ID": app.client_id,
        "AZURE_TENANT_ID": app.tenant_id,
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "AZURE_CLIENT_SECRET": secret,
    }
    with_secret = run("connect", "--environment-variable", "--no-welcome", env=env)
    assert with_secret.code == 0, with_secret.stderr
    assert json.loads(connection_file.read_text())["provider"] == "client-secret"
    del env["AZURE_CLIENT_SECRET"]
    missing_cert = str(token_file.parent / "no-such-cert.pem")
    with_cert = run(
        "connect",
        "--environment-variable",
        env={**env, "AZURE_CLIENT_CERTIFICATE_PATH": missing_cert},
    )
    assert with_cert.code == 2
    assert missing_cert in with_cert.error_line()  # cert-object was chosen, and says why not


def test_cli_federated_token_by_reference(
    run: Run, emulator: Any, app: FederatedApp, connection_file: Path
) -> None:
    federated = emulator.mint_federated_token(SUBJECT)
    connected = run(
        "connect", "--federated-token", "env:CI_FEDERATED_TOKEN", *app.args(), "--output", "json",
        env={"CI_FEDERATED_TOKEN": federated},
    )  # fmt: skip
    assert connected.code == 0, connected.stderr
    assert json.loads(connected.stdout)["federated_subject"] == SUBJECT
    saved = json.loads(connection_file.read_text())
    assert saved["options"] == app.options(federated_token="env:CI_FEDERATED_TOKEN")
    literal = run("connect", "--federated-token", federated, *app.args())
    assert literal.code == 2
    assert "takes a reference to the secret, not the secret itself" in literal.error_line()
    unset = run("connect", "--federated-token", "env:CI_FEDERATED_TOKEN", *app.args())
    assert unset.code == 2 and "CI_FEDERATED_TOKEN" in unset.error_line()
    garbled = run(
        "connect", "--federated-token", "env:CI_FEDERATED_TOKEN", *app.args(),
        env={"CI_FEDERATED_TOKEN": "not-a-jwt-" + federated.rsplit(".", 1)[1]},
    )  # fmt: skip
    assert garbled.code == 2
    assert "env:CI_FEDERATED_TOKEN does not hold a federated token" in garbled.error_line()
    assert_not_shown(federated, connected, literal, unset, garbled)


MISMATCHES = [
    pytest.param(
        lambda emu: emu.mint_federated_token(STRANGER),
        700213,
        "names the token's subject",
        id="subject",
    ),
    pytest.param(
        lambda emu: emu.mint_federated_token(SUBJECT, issuer="someone-else"),
        700211,
        "names the token's issuer",
        id="issuer",
    ),
    pytest.param(
        lambda emu: emu.mint_federated_token(SUBJECT, audience="api://AzureADTokenExchange2"),
        700212,
        "audience is not one the credential accepts",
        id="audience",
    ),
    pytest.param(expired_token, 700024, "outside its valid time range", id="expired"),
]


@pytest.mark.parametrize(("mint", "code", "hint"), MISMATCHES)
def test_cli_each_federated_mismatch_is_refused_with_its_code(
    run: Run,
    emulator: Any,
    app: FederatedApp,
    tmp_path: Path,
    connection_file: Path,
    mint: Callable[[Any], str],
    code: int,
    hint: str,
) -> None:
    federated = mint(emulator)
    path = write_token(tmp_path / "token", federated)
    refused = run("connect", "--federated-token-file", str(path), *app.args())
    assert refused.code == 1
    line = refused.error_line()
    assert f"AADSTS{code}" in line and "(hint: " in line and hint in line
    assert refused.stdout == ""
    assert not connection_file.exists()
    assert_not_shown(federated, refused)
    (entry,) = token_requests(emulator, app.tenant_id)
    assert entry["status"] == 401


CANARY = "Canary-Token-Content-7c1e"


def _jwt_of(payload: bytes) -> str:
    import base64

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(b'{"alg":"RS256"}')
    return f"{header}.{part(payload)}.{part(CANARY.encode())}"


def _make_fifo(path: Path) -> Path:
    os.mkfifo(path, 0o600)
    return path


def _world_writable(path: Path) -> Path:
    write_token(path, _jwt_of(b'{"iss":"https://issuer.example","sub":"s"}'))
    path.chmod(0o666)
    return path


BAD_FILES = [
    pytest.param(lambda p: write_token(p, ""), "is empty", id="empty"),
    pytest.param(
        lambda p: write_token(p, f"  {CANARY}  "), "does not hold a federated token", id="garbled"
    ),
    pytest.param(
        lambda p: write_token(p, _jwt_of(b"[" + CANARY.encode() + b"]")),
        "is not a base64url JSON object",
        id="payload-not-an-object",
    ),
    pytest.param(
        lambda p: write_token(p, _jwt_of(b'{"iss":"https://issuer.example"}')),
        "without the sub claim",
        id="no-subject",
    ),
    pytest.param(
        lambda p: (p.write_bytes(b"\xff\xfe" + CANARY.encode()), p)[1],
        "not ASCII",
        id="binary",
    ),
    pytest.param(
        lambda p: write_token(p, CANARY * 5000), "is larger than 65536 bytes", id="too-large"
    ),
    pytest.param(lambda p: (p.mkdir(), p)[1], "is not a regular file", id="directory"),
    pytest.param(_make_fifo, "is not a regular file", id="fifo"),
    pytest.param(lambda p: p, "No such file or directory", id="missing"),
    pytest.param(_world_writable, "is writable by anyone", id="world-writable"),
]


@pytest.mark.parametrize(("make", "expected"), BAD_FILES)
def test_cli_bad_token_files_exit_2_before_any_request(
    run: Run,
    emulator: Any,
    app: FederatedApp,
    tmp_path: Path,
    make: Callable[[Path], Path],
    expected: str,
) -> None:
    path = make(tmp_path / "azure-identity-token")
    started = time.monotonic()
    result = run("connect", "--federated-token-file", str(path), *app.args())
    assert result.code == 2, result.stderr
    line = result.error_line()
    assert expected in line and str(path) in line
    assert CANARY not in result.stderr + result.stdout
    assert token_requests(emulator, app.tenant_id) == []
    assert result.stdout == ""
    assert time.monotonic() - started < 20  # a FIFO without a writer must not block
