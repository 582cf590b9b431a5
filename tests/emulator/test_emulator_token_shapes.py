"""Tokens as Entra issues them (issue 11 item 3): v1.0 for Graph, ARM, Key Vault and Storage,
v2.0 for resources configured so, each with only its version's claims; Graph's nonce header;
xms_cc for clients declaring CP1; xms_mirid for managed identities; JWKS without alg."""

from __future__ import annotations

import jwt
import pytest
import requests
from azure.identity import ClientSecretCredential
from emulator_helpers import GRAPH, GRAPH_SCOPE, TENANT, cca, new_client_id, session_for

from entra_auth_emulator import Emulator

V1_CLAIMS = {
    "aud", "iss", "iat", "nbf", "exp", "aio", "app_displayname", "appid", "appidacr", "idp",
    "idtyp", "oid", "rh", "roles", "sub", "tid", "uti", "ver", "xms_tcdt",
}  # fmt: skip
V2_CLAIMS = {
    "aud", "iss", "iat", "nbf", "exp", "aio", "azp", "azpacr", "idtyp", "oid", "rh", "roles",
    "sub", "tid", "uti", "ver", "xms_tcdt",
}  # fmt: skip


@pytest.mark.parametrize(
    "resource",
    [
        GRAPH,
        "https://management.azure.com",
        "https://management.core.windows.net/",
        "https://vault.azure.net",
        "https://storage.azure.com",
    ],
)
def test_microsoft_resources_get_v1_tokens(emu: Emulator, resource: str) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"], roles=["R.All"], display_name="v1 app")
    result = cca(emu, client_id, "pw").acquire_token_for_client([f"{resource}/.default"])
    claims = emu.verify_token(result["access_token"])
    assert set(claims) == V1_CLAIMS
    assert claims["ver"] == "1.0"
    assert claims["iss"] == claims["idp"] == f"https://sts.windows.net/{TENANT}/"
    assert claims["aud"] == resource
    assert claims["appid"] == client_id and claims["appidacr"] == "1"
    assert claims["app_displayname"] == "v1 app"
    assert claims["rh"] and claims["uti"] and isinstance(claims["xms_tcdt"], int)


def test_v2_resource_gets_v2_token(emu: Emulator) -> None:
    api = emu.register_resource("api://contoso-v2", access_token_accepted_version=2)
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"], roles=["Data.Read"])
    result = cca(emu, client_id, "pw").acquire_token_for_client(["api://contoso-v2/.default"])
    claims = emu.verify_token(result["access_token"])
    assert set(claims) == V2_CLAIMS
    assert claims["ver"] == "2.0" and claims["aud"] == api.app_id
    assert claims["iss"] == emu.issuer(TENANT)
    assert claims["azp"] == client_id and claims["azpacr"] == "1"
    # The tenant's v2 discovery document names exactly this issuer, and the JWKS verifies it.
    with session_for(emu) as http:
        oidc = http.get(
            f"{emu.authority(TENANT)}/v2.0/.well-known/openid-configuration", timeout=10
        ).json()
        jwks = http.get(oidc["jwks_uri"], timeout=10).json()
    assert all("alg" not in key for key in jwks["keys"])  # as Entra publishes its keys
    (key,) = jwks["keys"]
    verified = jwt.decode(
        result["access_token"],
        jwt.PyJWK(key, algorithm="RS256").key,
        algorithms=["RS256"],
        audience=api.app_id,
        issuer=oidc["issuer"],
    )
    assert verified["azp"] == client_id


def test_app_own_api_version_follows_its_setting(emu: Emulator) -> None:
    api_app = emu.register_app(TENANT, new_client_id(), access_token_accepted_version=2)
    caller = emu.register_app(TENANT, new_client_id(), secrets=["pw"])
    client = cca(emu, caller.client_id, "pw")
    by_uri = emu.verify_token(
        client.acquire_token_for_client([f"api://{api_app.client_id}/.default"])["access_token"]
    )
    assert by_uri["ver"] == "2.0" and by_uri["aud"] == api_app.client_id
    v1_app = emu.register_app(TENANT, new_client_id())
    by_id = emu.verify_token(
        client.acquire_token_for_client([f"{v1_app.client_id}/.default"])["access_token"]
    )
    assert by_id["ver"] == "1.0" and by_id["aud"] == v1_app.client_id


def test_graph_tokens_carry_a_nonce_and_do_not_validate_as_plain_jwts(
    emu: Emulator, http: requests.Session
) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    token = cca(emu, client_id, "pw").acquire_token_for_client([GRAPH_SCOPE])["access_token"]
    assert jwt.get_unverified_header(token)["nonce"]
    (key,) = http.get(emu.jwks_uri(TENANT), timeout=10).json()["keys"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token, jwt.PyJWK(key, algorithm="RS256").key, algorithms=["RS256"], audience=GRAPH
        )
    assert emu.verify_token(token)["aud"] == GRAPH  # the emulator (as Graph) can read it
    vault = cca(emu, client_id, "pw").acquire_token_for_client(
        ["https://vault.azure.net/.default"]
    )["access_token"]
    assert "nonce" not in jwt.get_unverified_header(vault)


def test_xms_cc_only_for_clients_that_declare_cp1(emu: Emulator) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    import msal

    capable = msal.ConfidentialClientApplication(
        client_id,
        client_credential="pw",
        authority=emu.authority(TENANT),
        instance_discovery=False,
        http_client=session_for(emu),
        client_capabilities=["CP1"],
    )
    result = capable.acquire_token_for_client([GRAPH_SCOPE])
    assert emu.verify_token(result["access_token"])["xms_cc"] == ["CP1"]
    plain = cca(emu, client_id, "pw").acquire_token_for_client([GRAPH_SCOPE])
    assert "xms_cc" not in emu.verify_token(plain["access_token"])
    # azure-identity sends CP1 when asked for a CAE token.
    credential = ClientSecretCredential(
        TENANT,
        client_id,
        "pw",
        authority=emu.authority_host,
        connection_verify=emu.ca_bundle,
        disable_instance_discovery=True,
    )
    cae = credential.get_token(GRAPH_SCOPE, enable_cae=True)
    assert emu.verify_token(cae.token)["xms_cc"] == ["CP1"]


def test_managed_identity_tokens_carry_xms_mirid(emu: Emulator) -> None:
    tenant = "mirid-tenant"
    system = emu.register_managed_identity(tenant)
    user = emu.register_managed_identity(
        tenant, "5a1e0c52-8f35-4a4e-bb3c-3c0f3c7f0b01", resource_id="/subscriptions/s/uami-1"
    )
    try:
        with requests.Session() as raw:
            raw.trust_env = False
            for selector, expected in (
                ({}, system.mirid),
                ({"client_id": user.client_id}, "/subscriptions/s/uami-1"),
            ):
                answer = raw.get(
                    f"{emu.imds_endpoint}/metadata/identity/oauth2/token",
                    params={"api-version": "2018-02-01", "resource": GRAPH, **selector},
                    headers={"Metadata": "true"},
                    timeout=10,
                )
                claims = emu.verify_token(answer.json()["access_token"])
                assert claims["xms_mirid"] == expected
                assert claims["ver"] == "1.0" and claims["appidacr"] == "2"
        assert "/virtualMachines/" in system.mirid
    finally:
        emu.reset(registrations=True)
