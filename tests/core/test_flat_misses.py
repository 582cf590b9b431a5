"""Flat misses (issue 13, item 3): msal's own token cache under core's holds nothing for app
credentials, so a miss never searches the tokens a credential already holds; real msal against
the embedded emulator."""

from __future__ import annotations

from typing import Any

import msal
import pytest

import entra_auth
from entra_auth.msal_confidential import ConfidentialClientSource
from entra_auth.msal_results import no_token_cache

GRAPH = "https://graph.microsoft.com/.default"
CLAIMS = '{"access_token":{"nbf":{"essential":true}}}'
RESOURCES = ("https://vault.azure.net/.default", "https://management.azure.com/.default")


@pytest.fixture
def app(secret_app: Any, emulator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("APP_SECRET", secret_app.secret)
    return secret_app


def inner_source(credential: entra_auth.EntraCredential) -> ConfidentialClientSource:
    source = credential._ensure_source()
    inner = getattr(source, "wrapped", source)
    assert isinstance(inner, ConfidentialClientSource)
    return inner


def held_by_msal(source: ConfidentialClientSource) -> int:
    at = msal.TokenCache.CredentialType.ACCESS_TOKEN
    total = 0
    for app in source._apps.values():
        # search() with no query walks everything msal holds (the linear path of a miss)
        total += len(list(app.token_cache.search(at)))
        total += len(app.token_cache._cache.get(at, {}))
    return total


def token_posts(emulator: Any, tenant_id: str) -> int:
    return sum(
        1
        for r in emulator.requests()
        if r["path"].startswith(f"/{tenant_id}/") and r["path"].endswith("/token")
    )


def test_msal_holds_no_token_while_core_serves_every_one(app: Any, emulator: Any) -> None:
    with entra_auth.connect(
        "client-secret",
        client_id=app.client_id,
        tenant_id=app.tenant_id,
        client_secret="env:APP_SECRET",
    ) as credential:
        first = {scope: credential.get_token(scope).token for scope in (GRAPH, *RESOURCES)}
        cae = credential.get_token(GRAPH, enable_cae=True).token
        asked = token_posts(emulator, app.tenant_id)
        again = {scope: credential.get_token(scope).token for scope in (GRAPH, *RESOURCES)}
        assert credential.get_token(GRAPH, enable_cae=True).token == cae
        source = inner_source(credential)

        assert again == first  # core's cache answers: no request, same tokens
        assert token_posts(emulator, app.tenant_id) == asked
        assert len(source._apps) == 2  # plain and CAE
        assert held_by_msal(source) == 0

        # A claims challenge still reaches the service (msal never answers it from a cache)
        # and replaces the cached token.
        challenged = credential.get_token(GRAPH, claims=CLAIMS)
        assert token_posts(emulator, app.tenant_id) == asked + 1
        assert credential.get_token(GRAPH).token == challenged.token
        assert held_by_msal(source) == 0


def test_the_empty_cache_is_an_msal_token_cache_that_stores_nothing() -> None:
    cache = no_token_cache()
    assert isinstance(cache, msal.TokenCache)
    cache.add(
        {
            "client_id": "c",
            "scope": ["s"],
            "token_endpoint": "https://login.example/t/oauth2/v2.0/token",
            "response": {"access_token": "x", "expires_in": 3600, "token_type": "Bearer"},
            "params": {},
            "data": {},
        }
    )
    assert list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)) == []
    assert type(no_token_cache()) is type(cache)  # one class per process
