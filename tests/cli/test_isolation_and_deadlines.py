"""Concurrent jobs in one home, connect proving the credential, the overall deadline, and
tokens served through an outage: real CLI processes against the emulator (the outage case
fakes only the token source, the boundary it is about)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from entra_auth.claims import token_claims

JOBS = 12


def _register(emulator: Any, count: int) -> list[tuple[str, str, str]]:
    apps = []
    for _ in range(count):
        tenant, client, secret = str(uuid.uuid4()), str(uuid.uuid4()), secrets.token_urlsafe(16)
        emulator.register_app(tenant_id=tenant, client_id=client, secrets=[secret], roles=["X"])
        apps.append((tenant, client, secret))
    return apps


def test_parallel_jobs_sharing_a_home_each_get_their_own_tokens(
    emulator: Any, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    apps = _register(emulator, JOBS)
    config = tmp_path / "home" / ".config" / "entra-auth" / "config.toml"
    config.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    config.write_text(
        "".join(
            f'[profiles.job{i}]\nprovider = "client-secret"\nclient_id = "{client}"\n'
            f'tenant_id = "{tenant}"\nclient_secret = "env:JOB_SECRET"\n'
            'context_scope = "CurrentUser"\n\n'
            for i, (tenant, client, _secret) in enumerate(apps)
        )
    )
    config.chmod(0o600)

    def job(i: int) -> tuple[str, str, str]:
        env = {**emulator_env, "JOB_SECRET": apps[i][2]}
        cli = [sys.executable, "-m", "entra_auth_cli"]
        # half the jobs name their profile on every command; the other half connect once
        # into a state folder of their own and then ask for tokens
        if i % 2:
            env["ENTRA_AUTH_STATE_DIR"] = str(tmp_path / f"job{i}")
            done = subprocess.run(
                [*cli, "connect", "--profile", f"job{i}", "--no-welcome"],
                env=env, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            command = [*cli, "token"]
        else:
            command = [*cli, "token", "--profile", f"job{i}"]
        tokens = [
            subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
            for _ in range(2)
        ]
        for done in tokens:
            assert done.returncode == 0, done.stderr
        claims = token_claims(tokens[-1].stdout.strip())
        return apps[i][1], str(claims.get("appid")), str(claims.get("tid"))

    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        results = list(pool.map(job, range(JOBS)))
    for i, (client, appid, tid) in enumerate(results):
        assert (appid, tid) == (client, apps[i][0]), f"job {i} got another job's token"
    shared = Path(emulator_env["XDG_STATE_HOME"]) / "entra-auth" / "connection.json"
    assert not shared.exists()  # nobody wrote the home's shared connection


def test_connect_proves_the_credential_even_with_a_cached_token(
    run_cli: Any, secret_app: Any, emulator_env: dict[str, str]
) -> None:  # emulator_env points the CLI at the emulator
    flags = ["--client-id", secret_app.client_id, "--tenant-id", secret_app.tenant_id]
    right = {"APP_SECRET": secret_app.secret}
    ok = run_cli(
        "connect", *flags, "--client-secret", "env:APP_SECRET",
        "--context-scope", "CurrentUser", env=right,
    )  # fmt: skip
    assert ok.code == 0, ok.stderr
    # the same reference, now holding a wrong secret, while a token for the app is cached
    wrong = run_cli(
        "connect", *flags, "--client-secret", "env:APP_SECRET",
        "--context-scope", "CurrentUser", env={"APP_SECRET": "not-the-secret"},
    )  # fmt: skip
    assert wrong.code == 1, wrong.output
    assert "AADSTS7000215" in wrong.error_line()
    assert "Welcome" not in wrong.stdout


def test_the_overall_deadline_ends_a_stalled_sign_in(
    run_cli: Any, secret_app: Any, emulator: Any, emulator_env: dict[str, str]
) -> None:
    emulator.add_fault(path=f"/{secret_app.tenant_id}/*", delay=20, count=3)
    started = time.monotonic()
    result = run_cli(
        "connect", "--client-id", secret_app.client_id, "--tenant-id", secret_app.tenant_id,
        "--client-secret", "env:APP_SECRET", "--timeout", "2",
        env={"APP_SECRET": secret_app.secret},
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert result.code == 1, result.output
    assert "gave up after 2 s waiting for a token from" in result.error_line()
    assert elapsed < 10
    assert "Traceback" not in result.stderr


def test_a_valid_cached_token_is_served_through_an_outage_but_not_a_refusal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from entra_auth import AuthenticationError, EntraContext, EntraCredential, TokenResult
    from entra_auth.token_store import FileTokenStore

    now = int(time.time())
    store = FileTokenStore(tmp_path / "tokens", "partition")
    scopes = ("https://graph.microsoft.com/.default",)
    # due for refresh, but valid for another hour
    store.save((scopes, None), TokenResult("cached-token", now + 3600, refresh_on=now - 1))

    class Failing:
        def __init__(self, error: AuthenticationError) -> None:
            self.error = error
            self.calls = 0

        def acquire(self, scopes: Any, *, claims: Any = None, tenant_id: Any = None) -> Any:
            self.calls += 1
            raise self.error

        def context(self) -> dict[str, str]:
            return {}

        def close(self) -> None:
            pass

    def credential(error: AuthenticationError) -> tuple[EntraCredential, Failing]:
        source = Failing(error)
        return EntraCredential(
            source, context=EntraContext(), default_scopes=scopes, store=store
        ), source

    outage, source = credential(AuthenticationError("HTTP 503 from Entra", status=503))
    with caplog.at_level("WARNING", logger="entra_auth"):
        assert outage.get_token(*scopes).token == "cached-token"
    assert source.calls == 1
    assert "serving a cached token" in caplog.text

    refusal, _ = credential(
        AuthenticationError("AADSTS7000215: bad secret", error_codes=(7000215,), status=401)
    )
    with pytest.raises(AuthenticationError, match="7000215"):
        refusal.get_token(*scopes)

    # a token about to expire is never served
    store.save((scopes, None), TokenResult("old-token", now + 60, refresh_on=now - 1))
    nearly, _ = credential(AuthenticationError("HTTP 503 from Entra", status=503))
    with pytest.raises(AuthenticationError, match="503"):
        nearly.get_token(*scopes)


def test_a_damaged_saved_environment_is_one_line_with_the_fix(
    run_cli: Any, connection_file: Path
) -> None:
    connection_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    connection_file.write_text(
        json.dumps(
            {
                "version": 1,
                "provider": "client-secret",
                "options": {},
                "environment": {"name": 5},
                "context_scope": "Process",
                "context": {},
            }
        )
    )
    os.chmod(connection_file, 0o600)
    result = run_cli("token")
    assert result.code == 2, result.output
    assert "entra-auth disconnect" in result.error_line()
    assert "Traceback" not in result.stderr
