"""Core end to end: real msal over real HTTPS against the embedded emulator."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import entra_auth
from entra_auth import AuthenticationError, Environment, UsageError


def token_requests(emulator: Any, tenant_id: str) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests()
        if r["path"].startswith(f"/{tenant_id}/") and r["path"].endswith("/token")
    ]


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def connect_secret(app: Any, **kwargs: Any) -> entra_auth.EntraCredential:
    return entra_auth.connect(
        "client-secret",
        client_id=app.client_id,
        tenant_id=app.tenant_id,
        client_secret="env:APP_SECRET",
        **kwargs,
    )


@pytest.fixture
def app(secret_app: Any, emulator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("APP_SECRET", secret_app.secret)
    return secret_app


def test_connect_fills_the_context_from_the_token(app: Any) -> None:
    cred = connect_secret(app)
    ctx = cred.context
    assert ctx.auth_type == "AppOnly"
    assert ctx.client_id == app.client_id
    assert ctx.tenant_id == app.tenant_id
    assert ctx.app_name == app.display_name
    assert sorted(ctx.scopes) == sorted(app.roles)
    assert ctx.context_scope == "Process"
    token = cred.get_token("https://graph.microsoft.com/.default").token
    claims = claims_of(token)
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["appid"] == app.client_id and claims["idtyp"] == "app"
    assert app.secret not in repr(cred)


def test_wrong_secret_keeps_the_aadsts_code(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_SECRET", "not-the-secret")
    with pytest.raises(AuthenticationError) as caught:
        connect_secret(app)
    assert caught.value.aadsts_code == 7000215
    assert "AADSTS7000215" in str(caught.value) and "hint:" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)


def test_unknown_tenant_is_90002(app: Any) -> None:
    with pytest.raises(AuthenticationError) as caught:
        entra_auth.connect(
            "client-secret",
            client_id=app.client_id,
            tenant_id="nope.example",
            client_secret="env:APP_SECRET",
        )
    assert caught.value.aadsts_code == 90002
    assert "tenant was not found" in str(caught.value)


def test_unknown_app_is_700016(app: Any) -> None:
    with pytest.raises(AuthenticationError) as caught:
        entra_auth.connect(
            "client-secret",
            client_id="99999999-9999-9999-9999-999999999999",
            tenant_id=app.tenant_id,
            client_secret="env:APP_SECRET",
        )
    assert caught.value.aadsts_code == 700016


def test_unset_secret_variable_fails_before_any_request(secret_app: Any, emulator: Any) -> None:
    with pytest.raises(UsageError, match="APP_SECRET"):
        connect_secret(secret_app)
    assert token_requests(emulator, secret_app.tenant_id) == []


@pytest.mark.parametrize(
    "scope", ["https://graph.microsoft.com/.default offline_access", "", "https://x/.default\n"]
)
def test_a_scope_that_is_not_one_scope_is_refused_before_any_request(
    app: Any, emulator: Any, scope: str
) -> None:
    with pytest.raises(UsageError, match="is not a scope"):
        connect_secret(app, scopes=[scope])
    cred = connect_secret(app, fetch_token=False)
    with pytest.raises(UsageError, match="several scopes are separate strings"):
        cred.get_token(scope)
    assert token_requests(emulator, app.tenant_id) == []


def test_fifty_threads_on_a_cold_credential_make_one_request(app: Any, emulator: Any) -> None:
    cred = connect_secret(app, fetch_token=False)
    barrier = threading.Barrier(50)
    tokens: list[str] = []

    def worker() -> None:
        barrier.wait()
        tokens.append(cred.get_token("https://graph.microsoft.com/.default").token)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1 and len(tokens) == 50
    assert len(token_requests(emulator, app.tenant_id)) == 1


def test_current_user_scope_shares_tokens_between_credentials(app: Any, emulator: Any) -> None:
    first = connect_secret(app, context_scope="CurrentUser")
    token = first.get_token().token
    entra_auth.plugins.set_host(None)
    second = connect_secret(app, context_scope="CurrentUser", fetch_token=False, defer_create=True)
    assert second.get_token().token == token
    assert len(token_requests(emulator, app.tenant_id)) == 1


def test_environment_with_its_own_ca_bundle_needs_no_requests_ca_bundle(
    secret_app: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_SECRET", secret_app.secret)
    lab = Environment(
        "Lab", emulator.authority_host, "https://graph.microsoft.com", str(emulator.ca_bundle)
    )
    cred = connect_secret(secret_app, environment=lab)
    assert cred.context.environment == "Lab"
    assert cred.context.app_name == secret_app.display_name


def test_environment_ca_bundle_wins_over_a_global_requests_ca_bundle(
    secret_app: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import certifi

    monkeypatch.setenv("APP_SECRET", secret_app.secret)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # a bundle without the emulator CA
    lab = Environment(
        "Lab", emulator.authority_host, "https://graph.microsoft.com", str(emulator.ca_bundle)
    )
    assert connect_secret(secret_app, environment=lab).context.app_name == secret_app.display_name


def test_untrusted_emulator_ca_is_a_clear_tls_error(
    secret_app: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_SECRET", secret_app.secret)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", emulator.authority_host)
    with pytest.raises(AuthenticationError, match="TLS verification failed"):
        connect_secret(secret_app)


class _GraphLike(BaseHTTPRequestHandler):
    """A loopback resource that records the Authorization header it was sent."""

    seen: list[str] = []

    def do_GET(self) -> None:
        _GraphLike.seen.append(self.headers.get("Authorization", ""))
        body = b'{"value": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def resource_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GraphLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1.0/users"
    server.shutdown()
    server.server_close()


def test_azure_core_bearer_policy_uses_our_credential(app: Any, resource_url: str) -> None:
    from azure.core.pipeline import Pipeline
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core.rest import HttpRequest

    cred = connect_secret(app, fetch_token=False)
    policy = BearerTokenCredentialPolicy(cred, "https://graph.microsoft.com/.default")
    _GraphLike.seen.clear()
    with Pipeline(transport=RequestsTransport(), policies=[policy]) as pipeline:
        for _ in range(3):
            response = pipeline.run(HttpRequest("GET", resource_url), enforce_https=False)
            response = response.http_response
            assert response.status_code == 200
    assert len(_GraphLike.seen) == 3
    scheme, token = _GraphLike.seen[0].split(" ", 1)
    assert scheme == "Bearer"
    assert claims_of(token)["appid"] == app.client_id
    assert cred.requests_made == 1
