"""Flat misses for managed identity (issue 13, item 3): msal's token cache under core's holds
nothing, so a miss never walks the resources a credential already holds; a claims challenge
still reaches the identity endpoint. Real msal against the emulator's IMDS."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import msal
import pytest
from mi_helpers import GRAPH, Identities, not_on_an_arc_machine, register_identities, use_host

from entra_auth_managed_identity.hosts import detect_host
from entra_auth_managed_identity.identity import Identity
from entra_auth_managed_identity.source import ManagedIdentityTokenSource

pytestmark = not_on_an_arc_machine
RESOURCES = (GRAPH, "https://vault.azure.net", "https://management.azure.com")
CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}'


@pytest.fixture
def identities(emulator: Any) -> Identities:
    emulator.reset()
    return register_identities(emulator)


def test_msal_holds_no_token_and_a_claims_challenge_is_asked_again(
    emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, "IMDS")
    source = ManagedIdentityTokenSource(Identity.from_options({}), detect_host())
    sent: list[dict[str, list[str]]] = []
    source._session.hooks["response"].append(
        lambda response, *args, **kwargs: sent.append(parse_qs(urlsplit(response.url).query))
    )

    tokens = [source.acquire([f"{resource}/.default"]).token for resource in RESOURCES]
    renewed = source.acquire([f"{GRAPH}/.default"], claims=CLAIMS).token

    assert [query["resource"] for query in sent] == [[r] for r in (*RESOURCES, GRAPH)]
    assert [emulator.verify_token(t)["aud"] for t in tokens] == list(RESOURCES)
    assert emulator.verify_token(renewed)["aud"] == GRAPH
    held = source._msal()._token_cache
    assert list(held.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)) == []
    source.close()
