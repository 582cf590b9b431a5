"""The Redis token cache plugin against a real ``redis-server`` and the real emulator: one
token request for a whole fleet of processes, tokens encrypted at rest, a lock whose TTL frees
a dead holder's entry, and Redis dying mid-run costing one warning and a local fallback."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from redis_helpers import RedisServer

import entra_auth
from entra_auth import UsageError

SCOPE = "https://graph.microsoft.com/.default"

WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import entra_auth

    cred = entra_auth.connect(
        "client-secret",
        options={
            "client_id": os.environ["APP_CLIENT_ID"],
            "tenant_id": os.environ["APP_TENANT_ID"],
            "client_secret": "env:APP_SECRET",
            "token_cache": os.environ["CACHE_URL"],
            "redis_encryption_key": "env:CACHE_KEY",
            "redis_timeout": "1",
        },
        context_scope=os.environ.get("CONTEXT_SCOPE", "Process"),
        fetch_token=False,
    )
    go = os.environ.get("GO_FILE")
    while go and not os.path.exists(go):
        time.sleep(0.005)
    print(cred.get_token(os.environ["SCOPE"]).token)
    """
)


def token_requests(emulator, app) -> int:  # type: ignore[no-untyped-def]
    return sum(
        1
        for r in emulator.requests()
        if f"/{app.tenant_id}/" in r.get("path", "") and r.get("path", "").endswith("/token")
    )


def worker_env(app, url: str, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = dict(os.environ)
    env.update(
        APP_CLIENT_ID=app.client_id,
        APP_TENANT_ID=app.tenant_id,
        APP_SECRET=app.secret,
        CACHE_URL=url,
        CACHE_KEY="fleet key material " + "x" * 16,
        SCOPE=SCOPE,
        **extra,
    )
    return env


def connect(app, url: str, **options: str) -> entra_auth.EntraCredential:  # type: ignore[no-untyped-def]
    return entra_auth.connect(
        "client-secret",
        options={
            "client_id": app.client_id,
            "tenant_id": app.tenant_id,
            "client_secret": "env:APP_SECRET",
            "token_cache": url,
            "redis_encryption_key": "env:CACHE_KEY",
            "redis_timeout": "1",
            **options,
        },
        fetch_token=False,
    )


@pytest.fixture
def fleet_env(secret_app, emulator_env, monkeypatch: pytest.MonkeyPatch, redis: RedisServer):  # type: ignore[no-untyped-def]
    env = worker_env(secret_app, redis.url)
    for name in ("APP_SECRET", "CACHE_KEY"):
        monkeypatch.setenv(name, env[name])
    return env


def test_eight_processes_on_one_cold_credential_make_one_token_request(
    secret_app, emulator, fleet_env, redis: RedisServer, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    before = token_requests(emulator, secret_app)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env={**fleet_env, "GO_FILE": str(go)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    time.sleep(1.0)  # every worker imported and waiting
    go.write_text("go")
    results = [w.communicate(timeout=90) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err for _, err in results]
    tokens = {out.strip() for out, _ in results}
    assert len(tokens) == 1 and "" not in tokens
    assert token_requests(emulator, secret_app) - before == 1
    assert all(err == "" for _, err in results), [err for _, err in results]


def test_tokens_are_encrypted_at_rest_and_expire_with_the_token(
    secret_app, emulator, fleet_env, redis: RedisServer
) -> None:
    cred = connect(secret_app, redis.url)
    token = cred.get_token(SCOPE)
    client = redis.client()
    keys = [k for k in client.keys("entra-auth:v1:token:*")]
    assert len(keys) == 1
    raw = client.get(keys[0])
    assert token.token.encode() not in raw
    assert token.token.split(".")[1].encode() not in raw  # not even the claims part
    assert b"access_token" not in raw
    ttl = client.ttl(keys[0])
    assert abs((time.time() + ttl) - token.expires_on) < 5
    # Another process with the same key reads it; one with another key cannot and fetches.
    same = subprocess.run(
        [sys.executable, "-c", WORKER], env=fleet_env, capture_output=True, text=True, timeout=60
    )
    assert same.returncode == 0 and same.stdout.strip() == token.token
    before = token_requests(emulator, secret_app)
    other = subprocess.run(
        [sys.executable, "-c", WORKER],
        env={**fleet_env, "CACHE_KEY": "x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 0, other.stderr
    assert "cannot be decrypted" in other.stderr
    assert token_requests(emulator, secret_app) == before + 1


def test_a_dead_holders_lock_blocks_no_longer_than_its_ttl(
    secret_app, emulator, fleet_env, redis: RedisServer
) -> None:
    cred = connect(secret_app, redis.url, redis_lock_ttl="2")
    store = cred._store.shared  # type: ignore[union-attr]
    lock_name = store.entry_key(((SCOPE,), None)).replace(":token:", ":lock:")
    redis.client().set(lock_name, "a holder that died", px=2000)
    started = time.monotonic()
    cred.get_token(SCOPE)
    waited = time.monotonic() - started
    assert 1.5 <= waited < 6, waited
    assert redis.client().get(lock_name) is None  # released by its owner


def test_redis_killed_mid_run_warns_once_and_falls_back_to_the_local_cache(
    secret_app, emulator, fleet_env, redis: RedisServer
) -> None:
    env = {**fleet_env, "CONTEXT_SCOPE": "CurrentUser"}
    first = subprocess.run(
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, timeout=60
    )
    assert first.returncode == 0 and first.stderr == "", first.stderr
    redis.kill()
    before = token_requests(emulator, secret_app)
    started = time.monotonic()
    second = subprocess.run(
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 15  # bounded timeouts, never a hang
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout  # the local CurrentUser copy served it
    warnings = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1, second.stderr
    assert "cannot be used" in warnings[0] and "local cache" in warnings[0]
    assert token_requests(emulator, secret_app) == before


def test_fallback_fail_fails_instead(secret_app, emulator, fleet_env, redis: RedisServer) -> None:
    port = redis.port
    redis.kill()
    cred = connect(secret_app, f"redis://127.0.0.1:{port}/0", token_cache_fallback="fail")
    with pytest.raises(entra_auth.AuthenticationError, match="token_cache_fallback is 'fail'"):
        cred.get_token(SCOPE)


def test_a_password_in_the_url_is_refused(secret_app, fleet_env) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="must not hold a password"):
        connect(secret_app, "redis://user:hunter2@127.0.0.1:1/0")


def test_an_unknown_scheme_names_the_installed_ones(secret_app, fleet_env) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match=r"redis://, rediss://"):
        connect(secret_app, "memcached://127.0.0.1:1")


def test_password_by_reference(secret_app, emulator, emulator_env, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from redis_helpers import redis_server

    password = secrets.token_urlsafe(16)
    with redis_server(tmp_path / "auth", "--requirepass", password) as server:
        monkeypatch.setenv("APP_SECRET", secret_app.secret)
        monkeypatch.setenv("CACHE_KEY", "k" * 32)
        monkeypatch.setenv("REDIS_PASSWORD", password)
        cred = connect(secret_app, server.url, redis_password="env:REDIS_PASSWORD")
        cred.get_token(SCOPE)
        import redis as redis_py

        authed = redis_py.Redis(host="127.0.0.1", port=server.port, password=password)
        assert len(authed.keys("entra-auth:v1:token:*")) == 1
        monkeypatch.setenv("REDIS_PASSWORD", "wrong")
        wrong = connect(secret_app, server.url, redis_password="env:REDIS_PASSWORD")
        with pytest.raises(entra_auth.ConfigurationError, match="refused the credentials"):
            wrong.get_token(SCOPE)
