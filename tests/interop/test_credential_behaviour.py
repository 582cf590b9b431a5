"""The credential against the emulator: refresh backoff, CAE and claims, the tenant guard.
Requests are counted in the emulator's request log; request bodies are read from the real
requests session msal sends them on."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid

import pytest

import entra_auth

SCOPE = "https://vault.azure.net/.default"
CLAIMS = '{"access_token": {"nbf": {"essential": true, "value": "1700000000"}}}'


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


def sent_bodies(cred) -> list[dict[str, str]]:
    """Record the form bodies msal posts, from the credential's own session."""
    bodies: list[dict[str, str]] = []

    def record(response, **kwargs):
        if response.request.method == "POST":
            body = response.request.body
            text = body.decode() if isinstance(body, bytes) else str(body)
            bodies.append(dict(urllib.parse.parse_qsl(text)))

    cred._ensure_source()._http.hooks["response"].append(record)
    return bodies


def fresh_app(emulator, **kwargs):
    from types import SimpleNamespace

    app = SimpleNamespace(tenant_id=str(uuid.uuid4()), secret=uuid.uuid4().hex)
    app.client_id = emulator.register_app(app.tenant_id, secrets=[app.secret], **kwargs).client_id
    return app


# -- refresh that is kind to Entra -----------------------------------------------------------
def test_failed_background_refresh_waits_before_trying_again(emulator, emulator_env):
    # A 300 s token is due for refresh at once (five minutes before expiry) and usable 270 s.
    app = fresh_app(emulator, token_lifetime=300)
    cred = connect(app)
    first = cred.get_token()
    emulator.add_fault(
        "token", path=f"/{app.tenant_id}/*", status=503, retry_after=0, count=100_000
    )
    before = len(token_requests(emulator, app.tenant_id))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        assert cred.get_token().token == first.token  # the old token, still valid
        time.sleep(0.005)
    failed = len(token_requests(emulator, app.tenant_id)) - before
    assert 1 <= failed <= 2, failed
    emulator.reset()
    cred.close()


def test_once_the_token_expires_callers_get_the_error(emulator, emulator_env):
    app = fresh_app(emulator, token_lifetime=31)  # usable for 1 s (30 s expiry margin)
    cred = connect(app)
    emulator.add_fault("token", path=f"/{app.tenant_id}/*", status=503, retry_after=0, count=50)
    time.sleep(1.2)
    with pytest.raises(entra_auth.AuthenticationError) as caught:
        cred.get_token()
    assert caught.value.status == 503 and caught.value.aadsts_code == 50030
    emulator.reset()
    cred.close()


# -- CAE and claims --------------------------------------------------------------------------
def test_enable_cae_declares_cp1_in_its_own_cache_partition(emulator, emulator_env, secret_app):
    cred = connect(secret_app, fetch_token=False)
    bodies = sent_bodies(cred)
    plain = cred.get_token(SCOPE)
    cae = cred.get_token(SCOPE, enable_cae=True)
    assert cred.get_token(SCOPE, enable_cae=True) == cae  # cached in its partition
    assert cred.get_token(SCOPE) == plain
    assert plain.token != cae.token
    assert len(token_requests(emulator, secret_app.tenant_id)) == 2
    assert "claims" not in bodies[0]
    assert json.loads(bodies[1]["claims"]) == {"access_token": {"xms_cc": {"values": ["CP1"]}}}
    issued = emulator.verify_token(cae.token)
    if "xms_cc" in issued:  # the emulator learns xms_cc in a parallel change
        assert issued["xms_cc"] == ["CP1"]
    cred.close()


def test_a_claims_challenge_bypasses_the_cache_and_is_sent(emulator, emulator_env, secret_app):
    cred = connect(secret_app, fetch_token=False)
    bodies = sent_bodies(cred)
    old = cred.get_token(SCOPE, enable_cae=True)
    new = cred.get_token(SCOPE, enable_cae=True, claims=CLAIMS)
    assert new.token != old.token
    sent = json.loads(bodies[1]["claims"])
    assert sent["access_token"]["nbf"] == {"essential": True, "value": "1700000000"}
    assert sent["access_token"]["xms_cc"] == {"values": ["CP1"]}
    # The refused token is gone: later callers get the one that satisfies the claims.
    assert cred.get_token(SCOPE, enable_cae=True).token == new.token
    assert len(token_requests(emulator, secret_app.tenant_id)) == 2
    cred.close()


# -- tenant guard ----------------------------------------------------------------------------
def test_another_tenant_is_refused_without_a_request(emulator, emulator_env, secret_app):
    cred = connect(secret_app)
    emulator.reset()
    other = str(uuid.uuid4())
    with pytest.raises(entra_auth.TenantNotAllowedError, match=other) as caught:
        cred.get_token(SCOPE, tenant_id=other)
    assert caught.value.exit_code == 2
    with pytest.raises(entra_auth.TenantNotAllowedError):
        cred.get_token_info(SCOPE, options={"tenant_id": other})
    assert emulator.requests() == []
    # Its own tenant, however spelled, is the cached token.
    assert cred.get_token(tenant_id=secret_app.tenant_id.upper()) == cred.get_token()
    assert emulator.requests() == []
    cred.close()


def allowed_app_in(emulator, app) -> str:
    other = str(uuid.uuid4())
    emulator.register_app(other, app.client_id, secrets=[app.secret])
    return other


def test_additionally_allowed_tenants_option(emulator, emulator_env, secret_app):
    other = allowed_app_in(emulator, secret_app)
    cred = connect(secret_app, additionally_allowed_tenants=[other])
    token = cred.get_token(SCOPE, tenant_id=other)
    assert emulator.verify_token(token.token)["tid"] == other
    with pytest.raises(entra_auth.TenantNotAllowedError):
        cred.get_token(SCOPE, tenant_id=str(uuid.uuid4()))
    cred.close()


def test_wildcard_from_the_environment_variable(emulator, emulator_env, secret_app, monkeypatch):
    other = allowed_app_in(emulator, secret_app)
    monkeypatch.setenv(
        "AZURE_ADDITIONALLY_ALLOWED_TENANTS", "11111111-0000-0000-0000-000000000000;*"
    )
    cred = connect(secret_app)
    assert emulator.verify_token(cred.get_token(SCOPE, tenant_id=other).token)["tid"] == other
    cred.close()


def test_profile_key(emulator, emulator_env, secret_app, tmp_path, monkeypatch):
    other = allowed_app_in(emulator, secret_app)
    config = tmp_path / "config.toml"
    config.write_text(
        "[profiles.multi]\n"
        'provider = "client-secret"\n'
        f'client_id = "{secret_app.client_id}"\n'
        f'tenant_id = "{secret_app.tenant_id}"\n'
        'client_secret = "env:APP_SECRET"\n'
        f'additionally_allowed_tenants = ["{other}"]\n'
    )
    config.chmod(0o600)
    monkeypatch.setenv("ENTRA_AUTH_CONFIG", str(config))
    monkeypatch.setenv("APP_SECRET", secret_app.secret)
    cred = entra_auth.connect(profile="multi")
    assert emulator.verify_token(cred.get_token(SCOPE, tenant_id=other).token)["tid"] == other
    cred.close()
