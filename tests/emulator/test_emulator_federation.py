"""Workload identity federation end to end (issue 11 item 6): the emulator is the external OIDC
issuer (its own discovery, JWKS and mint endpoint) and verifies the exchanged token as Entra
does; azure-identity's ClientAssertionCredential and WorkloadIdentityCredential and raw msal sign
in with it, and each mismatch gets Entra's code."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientAssertionCredential, WorkloadIdentityCredential
from emulator_helpers import GRAPH_SCOPE, TENANT, assert_entra_error, cca, new_client_id

from entra_auth_emulator import Emulator, FederatedCredential

SUBJECT = "system:serviceaccount:automation:graph-reader"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def options(emu: Emulator) -> dict[str, object]:
    return {
        "authority": emu.authority_host,
        "disable_instance_discovery": True,
        "connection_verify": emu.ca_bundle,
    }


@pytest.fixture
def federated_app(emu: Emulator) -> str:
    client_id = new_client_id()
    emu.register_app(
        TENANT,
        client_id,
        roles=["User.Read.All"],
        federated_credentials=[FederatedCredential(emu.oidc_issuer(), SUBJECT)],
    )
    return client_id


def exchange(post_token, client_id: str, assertion: str) -> requests.Response:  # type: ignore[no-untyped-def]
    return post_token(
        client_id=client_id, client_assertion_type=JWT_BEARER, client_assertion=assertion
    )


def test_issuer_documents_and_mint_endpoint(emu: Emulator, http: requests.Session) -> None:
    issuer = emu.oidc_issuer("github")
    oidc = http.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    assert oidc["issuer"] == issuer
    jwks = http.get(oidc["jwks_uri"], timeout=10).json()
    minted = http.post(
        f"{emu.authority_host}/_emulator/federated-token",
        json={"issuer": "github", "subject": "repo:contoso/app:ref:refs/heads/main"},
        timeout=10,
    )
    assert minted.status_code == 200, minted.text
    token = minted.json()["token"]
    (key,) = jwks["keys"]
    claims = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience="api://AzureADTokenExchange",
        issuer=issuer,
    )
    assert claims["sub"] == "repo:contoso/app:ref:refs/heads/main"
    assert minted.json()["expires_on"] == claims["exp"]
    bad = http.post(
        f"{emu.authority_host}/_emulator/federated-token", json={"subject": ""}, timeout=10
    )
    assert bad.status_code == 400 and "subject" in bad.json()["error_description"]
    # A different issuer name is a different key.
    other = http.get(f"{emu.oidc_issuer('aks')}/jwks", timeout=10).json()
    assert other["keys"][0]["kid"] != key["kid"]


def test_client_assertion_credential(emu: Emulator, federated_app: str) -> None:
    calls: list[int] = []

    def platform_token() -> str:
        calls.append(1)
        return emu.mint_federated_token(SUBJECT)

    credential = ClientAssertionCredential(TENANT, federated_app, platform_token, **options(emu))
    claims = emu.verify_token(credential.get_token(GRAPH_SCOPE).token)
    assert claims["appid"] == federated_app and claims["roles"] == ["User.Read.All"]
    assert claims["appidacr"] == "2" and calls == [1]
    (entry,) = [r for r in emu.requests() if r["endpoint"] == "token"]
    assert entry["credential"] == "federated" and entry["status"] == 200


def test_workload_identity_credential_reads_the_token_file(
    emu: Emulator, federated_app: str, tmp_path: Path
) -> None:
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(emu.mint_federated_token(SUBJECT))
    credential = WorkloadIdentityCredential(
        tenant_id=TENANT, client_id=federated_app, token_file_path=str(token_file), **options(emu)
    )
    assert emu.verify_token(credential.get_token(GRAPH_SCOPE).token)["appid"] == federated_app
    token_file.write_text(emu.mint_federated_token("system:serviceaccount:other:sa"))
    fresh = WorkloadIdentityCredential(
        tenant_id=TENANT, client_id=federated_app, token_file_path=str(token_file), **options(emu)
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700213"):
        fresh.get_token(GRAPH_SCOPE)


def test_raw_msal_with_a_client_assertion(emu: Emulator, federated_app: str) -> None:
    app = cca(emu, federated_app, {"client_assertion": lambda: emu.mint_federated_token(SUBJECT)})
    first = app.acquire_token_for_client([GRAPH_SCOPE])
    assert emu.verify_token(first["access_token"])["appid"] == federated_app
    # The same token again (a platform rotates the file only every so often) is accepted.
    token = emu.mint_federated_token(SUBJECT)
    for _ in range(2):
        result = cca(emu, federated_app, {"client_assertion": token}).acquire_token_for_client(
            [GRAPH_SCOPE]
        )
        assert "access_token" in result, result


def test_no_federated_credentials_70021(emu: Emulator, post_token) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    response = exchange(post_token, client_id, emu.mint_federated_token(SUBJECT))
    assert response.status_code == 401
    assert_entra_error(response.json(), 70021, "invalid_client")
    assert SUBJECT in response.json()["error_description"]


@pytest.mark.parametrize(
    ("mint", "code"),
    [
        ({"issuer": "someone-else"}, 700211),
        ({"subject": SUBJECT.upper()}, 700213),  # matching is case-sensitive
        ({"audience": "api://AzureADTokenExchange2"}, 700212),
    ],
    ids=["issuer", "subject", "audience"],
)
def test_each_mismatch(
    emu: Emulator, post_token, federated_app: str, mint: dict, code: int
) -> None:
    mint = {"subject": SUBJECT, **mint}
    token = emu.mint_federated_token(mint.pop("subject"), **mint)
    response = exchange(post_token, federated_app, token)
    assert response.status_code == 401
    assert_entra_error(response.json(), code, "invalid_client")


def test_expired_token_700024(emu: Emulator, post_token, federated_app: str) -> None:
    response = exchange(post_token, federated_app, _expired_token(emu))
    assert response.status_code == 401
    assert_entra_error(response.json(), 700024, "invalid_client")


def _expired_token(emu: Emulator) -> str:
    """A genuine token from the issuer whose exp is past the five minutes of skew: signed with
    the issuer's own key (fetched the way a test cannot: through the emulator's internals)."""
    issuers = emu.service.oidc_issuers
    kid, key = issuers._key("default")
    now = int(time.time())
    payload = {
        "iss": emu.oidc_issuer(),
        "sub": SUBJECT,
        "aud": "api://AzureADTokenExchange",
        "iat": now - 7200,
        "nbf": now - 7200,
        "exp": now - 3600,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def test_signature_by_another_key_700027(emu: Emulator, post_token, federated_app: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    genuine = jwt.get_unverified_header(emu.mint_federated_token(SUBJECT))
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": emu.oidc_issuer(),
            "sub": SUBJECT,
            "aud": "api://AzureADTokenExchange",
            "iat": now,
            "exp": now + 600,
            "jti": str(uuid.uuid4()),
        },
        forger,
        algorithm="RS256",
        headers={"kid": genuine["kid"]},
    )
    response = exchange(post_token, federated_app, forged)
    assert response.status_code == 401
    assert_entra_error(response.json(), 700027)


def test_unreachable_issuer_50166(emu: Emulator, post_token) -> None:
    """An issuer whose discovery document cannot be fetched (nothing listens there)."""
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago, and is closed now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    issuer = f"https://127.0.0.1:{port}/gone"
    client_id = new_client_id()
    emu.register_app(
        TENANT, client_id, federated_credentials=[FederatedCredential(issuer, SUBJECT)]
    )
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": issuer, "sub": SUBJECT, "aud": "api://AzureADTokenExchange"}
    token = jwt.encode({**claims, "exp": int(time.time()) + 600}, key, algorithm="RS256")
    response = exchange(post_token, client_id, token)
    assert response.status_code == 401
    assert_entra_error(response.json(), 50166)
