"""The in-process cache of EntraCredential, with a counting token source standing in for the
identity service (the boundary); the real service is exercised in test_connect_emulator.py."""

from __future__ import annotations

import threading
import time

import pytest
from counting_source import CountingSource

from entra_auth import AccessToken, AccessTokenInfo, AuthenticationError, EntraContext
from entra_auth.credential import EntraCredential
from entra_auth.tokens import TokenResult


def make(source: CountingSource) -> EntraCredential:
    return EntraCredential(
        source,
        context=EntraContext(auth_type="AppOnly"),
        default_scopes=("https://graph.microsoft.com/.default",),
    )


def test_warm_token_comes_from_cache_without_a_request() -> None:
    source = CountingSource()
    cred = make(source)
    first = cred.get_token("https://graph.microsoft.com/.default")
    for _ in range(100):
        assert cred.get_token("https://graph.microsoft.com/.default") == first
    assert isinstance(first, AccessToken)
    assert len(source.calls) == 1


def test_get_token_info_has_refresh_on_and_type() -> None:
    source = CountingSource(lifetime=3600)
    info = make(source).get_token_info("api://x/.default")
    assert isinstance(info, AccessTokenInfo)
    assert info.token_type == "Bearer"
    assert info.refresh_on == info.expires_on - 300
    assert "token-1" not in repr(info)


def test_no_scopes_means_the_environment_graph_scope() -> None:
    source = CountingSource()
    make(source).get_token()
    assert source.calls[0][0] == ("https://graph.microsoft.com/.default",)


def test_scopes_are_cached_separately() -> None:
    source = CountingSource()
    cred = make(source)
    a = cred.get_token("https://graph.microsoft.com/.default")
    b = cred.get_token("https://vault.azure.net/.default")
    assert a.token != b.token
    assert len(source.calls) == 2


def test_claims_challenge_bypasses_the_cache() -> None:
    source = CountingSource()
    cred = make(source)
    cred.get_token("s/.default")
    cred.get_token("s/.default", claims='{"access_token":{"nbf":{"essential":true}}}')
    cred.get_token("s/.default", claims='{"access_token":{"nbf":{"essential":true}}}')
    assert len(source.calls) == 3
    assert source.calls[1][1] is not None


def test_tenant_id_is_passed_and_cached_per_tenant() -> None:
    source = CountingSource()
    cred = make(source)
    cred.get_token("s/.default", tenant_id="other")
    cred.get_token("s/.default", tenant_id="other")
    assert [c[2] for c in source.calls] == ["other"]


def test_expired_token_is_fetched_again_in_the_foreground() -> None:
    source = CountingSource(lifetime=10)  # inside the expiry margin at once
    cred = make(source)
    assert cred.get_token("s/.default").token == "token-1"
    assert cred.get_token("s/.default").token == "token-2"


def test_past_refresh_on_the_cached_token_is_served_while_one_refresh_runs() -> None:
    source = CountingSource(lifetime=3600, refresh_in=-1, delay=0.2)
    cred = make(source)
    first = cred.get_token("s/.default")  # cold: blocks for the first token
    started = time.perf_counter()
    again = [cred.get_token("s/.default") for _ in range(20)]
    elapsed = time.perf_counter() - started
    assert all(token == first for token in again)  # served from cache, not blocked
    assert elapsed < 0.15
    deadline = time.time() + 5
    while len(source.calls) < 2 and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert len(source.calls) == 2  # one background refresh, not twenty


def test_single_flight_on_a_cold_credential() -> None:
    source = CountingSource(delay=0.2)
    cred = make(source)
    barrier = threading.Barrier(50)
    results: list[str] = []

    def worker() -> None:
        barrier.wait()
        results.append(cred.get_token("s/.default").token)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(source.calls) == 1
    assert results == ["token-1"] * 50


def test_a_failed_flight_fails_every_waiter_and_the_next_call_retries() -> None:
    source = CountingSource(delay=0.1)
    source.fail_next = 1
    cred = make(source)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            cred.get_token("s/.default")
        except AuthenticationError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 5
    assert cred.get_token("s/.default").token == "token-2"


def test_context_is_filled_from_the_token_claims() -> None:
    import base64
    import json

    claims = {
        "appid": "app-1",
        "tid": "tenant-1",
        "roles": ["User.Read.All"],
        "app_displayname": "Contoso",
    }
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    class JwtSource(CountingSource):
        def acquire(self, scopes, *, claims=None, tenant_id=None):  # type: ignore[no-untyped-def]
            return TokenResult(f"e30.{body}.sig", int(time.time()) + 3600)

    cred = make(JwtSource())
    assert cred.context.app_name is None
    cred.get_token()
    ctx = cred.context
    assert (ctx.client_id, ctx.tenant_id, ctx.scopes, ctx.app_name) == (
        "app-1",
        "tenant-1",
        ("User.Read.All",),
        "Contoso",
    )
    assert ctx.as_dict()["Scopes"] == ["User.Read.All"]
    assert list(ctx.as_dict())[:4] == ["ClientId", "TenantId", "CertificateThumbprint", "Scopes"]


@pytest.mark.parametrize("lifetime", [3600, 86400])
def test_refresh_on_defaults_to_five_minutes_before_expiry(lifetime: int) -> None:
    info = make(CountingSource(lifetime=lifetime)).get_token_info("s/.default")
    assert info.expires_on - info.refresh_on == 300
