"""Unmodified msal ConfidentialClientApplication signs in against the emulator over HTTPS with
every credential form the issue names, and the tokens verify against the published JWKS."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote_plus

import jwt
import pytest
import requests
from emulator_helpers import GRAPH, GRAPH_SCOPE, TENANT, cca, new_client_id, session_for

from entra_auth_emulator import Emulator
from entra_auth_emulator.pki import CertifiedKey, make_leaf_cert

VAULT = "https://vault.azure.net"


def verify_with_jwks(emu: Emulator, http: requests.Session, token: str, audience: str) -> dict:
    """Verify like a resource server (Key Vault, a v1.0 resource) would: the tenant's v1 OIDC
    document -> jwks_uri -> key by kid, issuer ``https://sts.windows.net/<tid>/``."""
    oidc = http.get(f"{emu.authority(TENANT)}/.well-known/openid-configuration", timeout=10).json()
    jwks = http.get(oidc["jwks_uri"], timeout=10).json()
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [k for k in jwks["keys"] if k["kid"] == kid]
    return jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=oidc["issuer"],
    )


def test_client_secret(emu: Emulator, http: requests.Session) -> None:
    client_id = new_client_id()
    emu.register_app(
        TENANT,
        client_id,
        display_name="Contoso Automation",
        roles=["Group.Read.All", "User.Read.All"],
        secrets=["first", "s3cr3t~value"],
    )
    result = cca(emu, client_id, "s3cr3t~value").acquire_token_for_client([f"{VAULT}/.default"])
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    claims = verify_with_jwks(emu, http, result["access_token"], VAULT)
    assert claims["iss"] == f"https://sts.windows.net/{TENANT}/"
    assert claims["tid"] == TENANT
    assert claims["appid"] == client_id
    assert claims["app_displayname"] == "Contoso Automation"
    assert claims["roles"] == ["Group.Read.All", "User.Read.All"]
    assert claims["idtyp"] == "app"
    assert claims["oid"] and claims["oid"] != client_id
    assert claims["iat"] <= claims["nbf"] + 1
    assert claims["exp"] - claims["iat"] == result["expires_in"] == 3599
    assert claims["appidacr"] == "1"


def test_token_response_shape_and_jwks_document(emu: Emulator, post_token) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"], token_lifetime=1200)
    response = post_token(client_id=client_id, client_secret="pw")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert body["expires_in"] == body["ext_expires_in"] == 1200
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    claims = emu.verify_token(body["access_token"])
    assert claims["exp"] - claims["iat"] == 1200
    assert "roles" not in claims  # an app without roles gets none, as in Entra


@pytest.mark.parametrize("encode", [True, False], ids=["rfc6749-encoded", "raw"])
def test_client_secret_basic(emu: Emulator, http: requests.Session, encode: bool) -> None:
    client_id = new_client_id()
    secret = "a:b c+d%2F"
    emu.register_app(TENANT, client_id, secrets=[secret])
    sent = quote_plus(secret) if encode else secret
    response = http.post(
        emu.token_endpoint(TENANT),
        data={"grant_type": "client_credentials", "scope": GRAPH_SCOPE},
        auth=requests.auth.HTTPBasicAuth(client_id, sent),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert emu.verify_token(response.json()["access_token"])["appid"] == client_id
    wrong = http.post(
        emu.token_endpoint(TENANT),
        data={"grant_type": "client_credentials", "scope": GRAPH_SCOPE},
        auth=requests.auth.HTTPBasicAuth(client_id, sent + "x"),
        timeout=10,
    )
    assert wrong.status_code == 401


def test_thumbprint_rs256_x5t(emu: Emulator, app_cert: CertifiedKey) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[app_cert], roles=["User.Read.All"])
    app = cca(
        emu,
        client_id,
        {
            "private_key": app_cert.key_pem().decode(),
            "thumbprint": app_cert.thumbprint,
        },
    )
    result = app.acquire_token_for_client([GRAPH_SCOPE])
    assert "access_token" in result, result
    claims = emu.verify_token(result["access_token"])
    assert claims["appidacr"] == "2" and claims["roles"] == ["User.Read.All"]
    (entry,) = [r for r in emu.requests() if r["endpoint"] == "token"]
    assert entry["credential"] == "certificate" and entry["client_id"] == client_id


def test_public_certificate_ps256_x5t_s256(emu: Emulator, app_cert: CertifiedKey) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[app_cert.cert_pem()])
    app = cca(
        emu,
        client_id,
        {
            "private_key": app_cert.key_pem().decode(),
            "public_certificate": app_cert.cert_pem().decode(),
        },
    )
    result = app.acquire_token_for_client([GRAPH_SCOPE])
    assert "access_token" in result, result
    emu.register_resource("api://contoso-api")
    # msal reuses its assertion (same jti) for another resource; Entra accepts that.
    again = app.acquire_token_for_client(["api://contoso-api/.default"])
    assert emu.verify_token(again["access_token"])["aud"] == "api://contoso-api"


def test_assertion_algorithms_msal_chose(emu: Emulator, app_cert: CertifiedKey) -> None:
    """Pin what msal sends, so a change in msal shows up here and not as a mystery elsewhere."""
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[app_cert])
    seen: list[dict] = []

    class Spy(requests.Session):
        def post(self, url, data=None, **kwargs):  # type: ignore[no-untyped-def, override]
            if data and "client_assertion" in data:
                seen.append(jwt.get_unverified_header(data["client_assertion"]))
            return super().post(url, data=data, **kwargs)

    for credential in (
        {"private_key": app_cert.key_pem().decode(), "thumbprint": app_cert.thumbprint},
        {
            "private_key": app_cert.key_pem().decode(),
            "public_certificate": app_cert.cert_pem().decode(),
        },
    ):
        spy = Spy()
        spy.trust_env, spy.verify = False, emu.ca_bundle
        import msal

        msal.ConfidentialClientApplication(
            client_id,
            authority=emu.authority(TENANT),
            client_credential=credential,
            instance_discovery=False,
            http_client=spy,
        ).acquire_token_for_client([GRAPH_SCOPE])
    rs256, ps256 = seen
    assert rs256["alg"] == "RS256" and "x5t" in rs256 and "x5c" not in rs256
    assert ps256["alg"] == "PS256" and "x5t#S256" in ps256 and "x5c" in ps256


def test_pfx_path_with_passphrase(emu: Emulator, tmp_path: Path, app_cert: CertifiedKey) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[app_cert.certificate])
    pfx = app_cert.write_pfx(tmp_path / "app.pfx", "pfx-pass")
    assert pfx.stat().st_mode & 0o777 == 0o600
    app = cca(emu, client_id, {"private_key_pfx_path": str(pfx), "passphrase": "pfx-pass"})
    result = app.acquire_token_for_client([GRAPH_SCOPE])
    assert "access_token" in result, result


@pytest.mark.parametrize("with_intermediate", [False, True])
def test_subject_name_issuer_x5c(
    emu: Emulator, issuing_ca: CertifiedKey, with_intermediate: bool
) -> None:
    """SN+I: the certificate is not registered; its x5c chain leads to a trusted issuer."""
    from entra_auth_emulator.pki import make_ca

    issuer = (
        make_ca("CN=Contoso Intermediate", issuer=issuing_ca) if with_intermediate else (issuing_ca)
    )
    leaf = make_leaf_cert("CN=automation.contoso.com", issuer=issuer)
    client_id = new_client_id()
    emu.register_app(
        TENANT,
        client_id,
        trusted_issuers=[issuing_ca.cert_pem()],
        trusted_subjects=["CN=automation.contoso.com"],
    )
    app = cca(
        emu,
        client_id,
        {
            "private_key": leaf.key_pem().decode(),
            "thumbprint": leaf.thumbprint,
            "public_certificate": leaf.cert_pem(with_chain=True).decode(),
        },
    )
    result = app.acquire_token_for_client([GRAPH_SCOPE])
    assert "access_token" in result, result


def test_pfx_subject_name_issuer(emu: Emulator, tmp_path: Path, issuing_ca: CertifiedKey) -> None:
    leaf = make_leaf_cert("CN=pfx-sni", issuer=issuing_ca)
    client_id = new_client_id()
    emu.register_app(
        TENANT, client_id, trusted_issuers=[issuing_ca.certificate], trusted_subjects=["CN=pfx-sni"]
    )
    pfx = leaf.write_pfx(tmp_path / "sni.pfx", "pw")
    app = cca(
        emu,
        client_id,
        {
            "private_key_pfx_path": str(pfx),
            "passphrase": "pw",
            "public_certificate": True,
        },
    )
    assert "access_token" in app.acquire_token_for_client([GRAPH_SCOPE])


def test_discovery_document_names_endpoints(emu: Emulator, http: requests.Session) -> None:
    emu.register_app(TENANT, new_client_id(), secrets=["x"])
    oidc = http.get(
        f"{emu.authority(TENANT)}/v2.0/.well-known/openid-configuration", timeout=10
    ).json()
    assert oidc["token_endpoint"] == emu.token_endpoint(TENANT)
    assert oidc["jwks_uri"] == emu.jwks_uri(TENANT)
    assert oidc["issuer"] == emu.issuer(TENANT)
    assert "private_key_jwt" in oidc["token_endpoint_auth_methods_supported"]
    instance = http.get(
        f"{emu.authority_host}/common/discovery/instance",
        params={
            "authorization_endpoint": f"{emu.authority(TENANT)}/oauth2/v2.0/authorize",
            "api-version": "1.1",
        },
        timeout=10,
    ).json()
    assert instance["tenant_discovery_endpoint"] == (
        f"{emu.authority(TENANT)}/v2.0/.well-known/openid-configuration"
    )


def test_instance_discovery_left_on(emu: Emulator) -> None:
    """msal with instance discovery on asks the endpoint we name and still signs in."""
    import msal

    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    app = msal.ConfidentialClientApplication(
        client_id,
        authority=emu.authority(TENANT),
        client_credential="pw",
        instance_discovery=f"{emu.authority_host}/common/discovery/instance",
        http_client=session_for(emu),
    )
    assert "access_token" in app.acquire_token_for_client([GRAPH_SCOPE])
    assert "instance_discovery" in {r["endpoint"] for r in emu.requests()}


def test_guid_resource_and_v1_endpoint(emu: Emulator, post_token, http) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    api = "3f9b0c3a-1f87-4c1a-a0f4-7b1f2b2e1c00"
    emu.register_resource("api://guid-resource-test", app_id=api)
    response = post_token(client_id=client_id, client_secret="pw", scope=f"{api}/.default")
    assert emu.verify_token(response.json()["access_token"])["aud"] == api
    v1 = http.post(
        f"{emu.authority(TENANT)}/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": "pw",
            "resource": GRAPH,
        },
        timeout=10,
    ).json()
    assert v1["resource"] == GRAPH and isinstance(v1["expires_in"], str)
    assert emu.verify_token(v1["access_token"])["aud"] == GRAPH


def test_request_log_never_holds_secrets(emu: Emulator, post_token, http) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["TOPSECRET-value"])
    post_token(client_id=client_id, client_secret="TOPSECRET-value")
    post_token(client_id=client_id, client_secret="TOPSECRET-wrong")
    log = http.get(f"{emu.authority_host}/_emulator/requests", timeout=10).json()
    assert [e["status"] for e in log] == [200, 401]
    assert {e["method"] for e in log} == {"POST"}
    assert log[0]["path"] == f"/{TENANT}/oauth2/v2.0/token"
    assert "TOPSECRET" not in json.dumps(log)
