"""Retries like the Azure SDK's, through the emulator's fault injection and its request log:
which answers are retried, how many times, how long is waited, and the error when retrying
cannot help. The fault matrix in docs/python-api.md is this module's output."""

from __future__ import annotations

import email.utils
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from fault_matrix import FAULTS, measure, render
from resource_server import Answer, ResourceServer

import entra_auth
from entra_auth.http import build_session
from entra_auth.http_retry import last_attempts

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"
START, END = "<!-- fault-matrix:start -->\n", "<!-- fault-matrix:end -->"


def connect(app, **kwargs):
    return entra_auth.connect(
        "client-secret",
        client_id=app.client_id,
        tenant_id=app.tenant_id,
        client_secret=entra_auth.Secret(app.secret),
        **kwargs,
    )


def token_requests(emulator, tenant: str) -> list[dict]:
    return [r for r in emulator.requests() if r["endpoint"] == "token" and tenant in r["path"]]


def test_fault_matrix_recovers_and_fails_in_one_line_as_the_docs_say(emulator, emulator_env):
    rows = measure(emulator)
    assert len(rows) == 2 * len(FAULTS)
    for row in rows:
        where = f"{row.endpoint} {row.fault}"
        assert row.transient_ok, where
        assert row.transient_requests == 2, where  # the fault, then the retry
        assert row.transient_seconds < row.wait_bound + 5, where  # generous: a shared machine
        assert row.persistent_requests == 4, where  # 1 + 3 retries, then the error
        error = row.error
        assert isinstance(error, entra_auth.AuthenticationError), where
        assert error.hint and "retried 3 times" in str(error), where
        assert "\n" not in str(error)
        if row.fault != "drop":
            assert error.status == row.fault, where
            assert error.aadsts_code is not None, where
    table = render(rows)
    text = DOC.read_text()
    if os.environ.get("ENTRA_AUTH_UPDATE_DOCS"):
        head, rest = text.split(START)
        DOC.write_text(head + START + table + END + rest.split(END, 1)[1])
        text = DOC.read_text()
    documented = text.split(START)[1].split(END)[0]
    assert documented == table, "run with ENTRA_AUTH_UPDATE_DOCS=1 to refresh the table"


@pytest.mark.parametrize("status", [400, 401])
def test_refusals_are_never_retried(emulator, emulator_env, secret_app, status):
    emulator.add_fault("token", path=f"/{secret_app.tenant_id}/*", status=status, count=5)
    with pytest.raises(entra_auth.AuthenticationError) as caught:
        connect(secret_app)
    assert len(token_requests(emulator, secret_app.tenant_id)) == 1
    assert "retried" not in str(caught.value)
    assert caught.value.aadsts_code == 90000
    emulator.reset()


def test_a_real_refusal_is_not_retried(emulator, emulator_env, secret_app):
    secret_app.secret = "wrong"
    with pytest.raises(entra_auth.AuthenticationError) as caught:
        connect(secret_app)
    assert caught.value.aadsts_code == 7000215 and caught.value.status == 401
    assert len(token_requests(emulator, secret_app.tenant_id)) == 1


def test_retry_after_past_the_cap_is_not_waited_for(emulator, emulator_env, secret_app):
    emulator.add_fault(
        "token", path=f"/{secret_app.tenant_id}/*", status=429, retry_after=120, count=5
    )
    started = time.monotonic()
    with pytest.raises(entra_auth.AuthenticationError) as caught:
        connect(secret_app)
    assert time.monotonic() - started < 30  # not 120
    assert "asked to wait 120 s" in str(caught.value)
    assert caught.value.status == 429 and caught.value.aadsts_code == 50196
    assert len(token_requests(emulator, secret_app.tenant_id)) == 1
    emulator.reset()


def test_retry_after_as_an_http_date(resource: ResourceServer):
    """Retry-After may be a date; the stand-in answers 503 until that moment has come."""
    ready_at = time.time() + 2
    when = email.utils.formatdate(ready_at, usegmt=True)

    def flaky(seen):
        if time.time() < ready_at - 1:  # a date has whole seconds: allow for the rounding
            return Answer.json({"error": "temporarily_unavailable"}, 503, **{"Retry-After": when})
        return Answer.json({"ok": True})

    resource.route("GET", "/flaky", flaky)
    session = build_session(ca_bundle=str(resource.ca_file))
    response = session.get(f"{resource.url}/flaky")
    assert response.json() == {"ok": True}
    assert len(resource.seen) == 2
    assert last_attempts().statuses == [503, 200]


def test_refused_connections_are_not_retried(monkeypatch, secret_app):
    import socket

    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", f"https://127.0.0.1:{port}")
        with pytest.raises(entra_auth.AuthenticationError, match="connection failed"):
            connect(secret_app)
    assert last_attempts().sent == 1


def test_the_cli_reports_a_5xx_in_one_line_never_unexpected(
    emulator, emulator_env, secret_app, cli_command
):
    emulator.add_fault(
        "token", path=f"/{secret_app.tenant_id}/*", status=503, retry_after=0, count=10
    )
    done = subprocess.run(
        [
            *cli_command,
            "connect",
            "--client-id",
            secret_app.client_id,
            "--tenant-id",
            secret_app.tenant_id,
            "--client-secret",
            "env:APP_SECRET",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**emulator_env, "APP_SECRET": secret_app.secret},
    )
    assert done.returncode == 1
    assert "unexpected" not in done.stderr.lower()
    assert re.search(r"HTTP 503.*AADSTS50030.*retried 3 times", done.stderr), done.stderr
    assert len(token_requests(emulator, secret_app.tenant_id)) == 4
    emulator.reset()


def test_a_tenant_segment_cannot_leak_between_apps(emulator, emulator_env, secret_app):
    """A fault for another tenant's path leaves this sign-in alone (the matrix relies on it)."""
    emulator.add_fault("token", path=f"/{uuid.uuid4()}/*", status=503, count=5)
    connect(secret_app).close()
    assert len(token_requests(emulator, secret_app.tenant_id)) == 1
    emulator.reset()
