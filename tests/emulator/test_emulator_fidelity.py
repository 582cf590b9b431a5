"""Where the emulator used to differ from Entra (issue 11 items 1, 2, 4, 5): msal's reused
assertions, unknown resources, SN+I subjects, hex x5t, small keys, sub != iss, secret expiry,
disabled apps, domain tenants, common/organizations and msal's double-slash discovery path."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import msal
import pytest
import requests
from emulator_helpers import (
    GRAPH_SCOPE,
    TENANT,
    assert_entra_error,
    cca,
    make_assertion,
    new_client_id,
    session_for,
)

from entra_auth_emulator import ClientSecret, Emulator, EmulatorConfig
from entra_auth_emulator.client_auth import normalize_audience
from entra_auth_emulator.emulator import https_url
from entra_auth_emulator.pki import CertifiedKey, make_leaf_cert

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def token_requests(emu: Emulator) -> list[dict]:
    return [r for r in emu.requests() if r["endpoint"] == "token"]


# -- item 1: assertion reuse -------------------------------------------------------------


def test_msal_certificate_flow_with_60s_tokens_gets_a_second_token(
    emu: Emulator, app_cert: CertifiedKey
) -> None:
    """msal never serves a token with under five minutes left from its cache, and reuses its
    signed assertion: with 60 s tokens the second call is a real request with the same jti."""
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[app_cert], token_lifetime=60)
    app = cca(
        emu,
        client_id,
        {"private_key": app_cert.key_pem().decode(), "thumbprint": app_cert.thumbprint},
    )
    first = app.acquire_token_for_client([GRAPH_SCOPE])
    second = app.acquire_token_for_client([GRAPH_SCOPE])
    assert first["expires_in"] == 60 and "access_token" in second, second
    assert second["token_source"] == "identity_provider"
    # Only this app's requests: a client of an earlier test may still be refreshing in the
    # background on the shared emulator.
    mine = [r for r in token_requests(emu) if r.get("client_id") == client_id]
    assert [r["status"] for r in mine] == [200, 200]


def test_strict_jti_refuses_reuse(tmp_path, app_cert: CertifiedKey) -> None:
    with Emulator(EmulatorConfig(strict_jti=True), state_dir=tmp_path) as strict:
        client_id = new_client_id()
        strict.register_app(TENANT, client_id, certificates=[app_cert])
        assertion = make_assertion(strict, client_id, app_cert)
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "scope": GRAPH_SCOPE,
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
        }
        with session_for(strict) as http:
            assert http.post(strict.token_endpoint(TENANT), data=form, timeout=10).ok
            again = http.post(strict.token_endpoint(TENANT), data=form, timeout=10)
        assert again.status_code == 401
        assert_entra_error(again.json(), 700027)
        assert "strict_jti" in again.json()["error_description"]


# -- item 2: resources -------------------------------------------------------------------


def test_unknown_resource_500011(emu: Emulator, post_token) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    result = cca(emu, client_id, "pw").acquire_token_for_client(
        ["https://graph.microsoft.con/.default"]
    )
    assert result["error"] == "invalid_resource" and result["error_codes"] == [500011]
    assert "https://graph.microsoft.con" in result["error_description"]
    response = post_token(client_id=client_id, client_secret="pw", scope="api://nothing/.default")
    assert response.status_code == 400
    assert_entra_error(response.json(), 500011, "invalid_resource")


def test_configured_resources(tmp_path) -> None:
    config = tmp_path / "emulator.toml"
    config.write_text(
        f"""
[[apps]]
tenant_id = "{TENANT}"
client_id = "c-resources"
secrets = ["pw"]

[[resources]]
identifier_uris = ["https://api.contoso.com", "api://contoso"]
app_id = "0b0c8f3e-7c4b-4b9e-9a55-1d9f2b7c6a11"
access_token_accepted_version = 2
"""
    )
    with Emulator(config, state_dir=tmp_path / "state") as emu:
        client = cca(emu, "c-resources", "pw")
        for scope in ("https://api.contoso.com/.default", "api://contoso/.default"):
            claims = emu.verify_token(client.acquire_token_for_client([scope])["access_token"])
            assert claims["aud"] == "0b0c8f3e-7c4b-4b9e-9a55-1d9f2b7c6a11"


def test_managed_identity_hosts_refuse_unknown_resources(emu: Emulator) -> None:
    emu.register_managed_identity("mi-resources", "3e5b3a0a-0c43-4b55-9f3a-6a4f3b1d2c01")
    with requests.Session() as raw:
        raw.trust_env = False
        imds = raw.get(
            f"{emu.imds_endpoint}/metadata/identity/oauth2/token",
            params={
                "api-version": "2018-02-01",
                "resource": "not a resource",
                "client_id": "3e5b3a0a-0c43-4b55-9f3a-6a4f3b1d2c01",
            },
            headers={"Metadata": "true"},
            timeout=10,
        )
        assert imds.status_code == 400
        assert imds.json()["error"] == "invalid_resource"
        assert imds.json()["error_description"].startswith("AADSTS50001: ")
        app_service = raw.get(
            emu.identity_endpoint,
            params={
                "api-version": "2019-08-01",
                "resource": "https://vault.azure.nett",
                "client_id": "3e5b3a0a-0c43-4b55-9f3a-6a4f3b1d2c01",
            },
            headers={"X-IDENTITY-HEADER": emu.identity_header},
            timeout=10,
        )
        assert app_service.status_code == 400
        assert app_service.json()["statusCode"] == 400
        assert "AADSTS500011" in app_service.json()["message"]


# -- item 4: verification gaps -----------------------------------------------------------


def test_subject_name_issuer_requires_a_trusted_subject(
    emu: Emulator, issuing_ca: CertifiedKey
) -> None:
    client_id = new_client_id()
    emu.register_app(
        TENANT, client_id, trusted_issuers=[issuing_ca], trusted_subjects=["CN=the-trusted-one"]
    )

    def sign_in(leaf: CertifiedKey) -> dict:
        return cca(
            emu,
            client_id,
            {
                "private_key": leaf.key_pem().decode(),
                "thumbprint": leaf.thumbprint,
                "public_certificate": leaf.cert_pem().decode(),
            },
        ).acquire_token_for_client([GRAPH_SCOPE])

    wrong = sign_in(make_leaf_cert("CN=someone-else", issuer=issuing_ca))
    assert wrong["error_codes"] == [700030], wrong
    assert "CN=someone-else" in wrong["error_description"]
    assert "access_token" in sign_in(make_leaf_cert("CN=the-trusted-one", issuer=issuing_ca))


def test_hex_x5t_refused(emu: Emulator, post_token, app_cert: CertifiedKey) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[app_cert])
    assertion = make_assertion(emu, client_id, app_cert, headers={"x5t": app_cert.thumbprint})
    response = post_token(
        client_id=client_id, client_assertion_type=JWT_BEARER, client_assertion=assertion
    )
    assert response.status_code == 401
    assert_entra_error(response.json(), 700027)


def test_rsa_keys_under_2048_bits_refused(emu: Emulator) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    small = CertifiedKey(_self_signed(key, "CN=small key"), key)
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[small])
    with warnings.catch_warnings():  # PyJWT (inside msal) warns about the short key; Entra refuses
        warnings.simplefilter("ignore")
        result = cca(
            emu,
            client_id,
            {"private_key": small.key_pem().decode(), "thumbprint": small.thumbprint},
        ).acquire_token_for_client([GRAPH_SCOPE])
    assert result["error_codes"] == [700027]
    assert "1024" in result["error_description"]


def _self_signed(key, subject: str):  # type: ignore[no-untyped-def]
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject.removeprefix("CN="))])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def test_secret_expiry_7000222(emu: Emulator) -> None:
    client_id = new_client_id()
    past = datetime.now(UTC) - timedelta(days=1)
    emu.register_app(
        TENANT, client_id, secrets=[ClientSecret("old-one", expires=past), "current-one"]
    )
    expired = cca(emu, client_id, "old-one").acquire_token_for_client([GRAPH_SCOPE])
    assert expired["error_codes"] == [7000222], expired
    assert "access_token" in cca(emu, client_id, "current-one").acquire_token_for_client(
        [GRAPH_SCOPE]
    )
    assert cca(emu, client_id, "wrong").acquire_token_for_client([GRAPH_SCOPE])["error_codes"] == [
        7000215
    ]


def test_disabled_app_7000112(emu: Emulator) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"], enabled=False, display_name="Old Job")
    result = cca(emu, client_id, "pw").acquire_token_for_client([GRAPH_SCOPE])
    assert result["error"] == "unauthorized_client" and result["error_codes"] == [7000112]
    assert f"Application '{client_id}'(Old Job) is disabled." in result["error_description"]


# -- item 5: tenants and URLs ----------------------------------------------------------------


def test_verified_domain_resolves_to_the_tenant(emu: Emulator, http: requests.Session) -> None:
    tenant_id = "0e8d7b6a-0b55-4c2c-9a57-4f7e2d5a1b22"
    emu.register_tenant(tenant_id, domains=["contoso-emu.onmicrosoft.com", "contoso-emu.com"])
    client_id = new_client_id()
    emu.register_app(tenant_id, client_id, secrets=["pw"])
    oidc = http.get(
        f"{emu.authority_host}/contoso-emu.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        timeout=10,
    ).json()
    assert oidc["token_endpoint"] == emu.token_endpoint(tenant_id)
    assert oidc["issuer"] == emu.issuer(tenant_id)
    for domain in ("contoso-emu.onmicrosoft.com", "CONTOSO-EMU.COM"):
        result = cca(emu, client_id, "pw", tenant=domain).acquire_token_for_client([GRAPH_SCOPE])
        assert emu.verify_token(result["access_token"])["tid"] == tenant_id
    unknown = http.get(
        f"{emu.authority_host}/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        timeout=10,
    )
    assert_entra_error(unknown.json(), 90002, "invalid_tenant")


@pytest.mark.parametrize("tenant", ["common", "organizations"])
def test_common_and_organizations(emu: Emulator, http: requests.Session, tenant: str) -> None:
    oidc = http.get(
        f"{emu.authority_host}/{tenant}/v2.0/.well-known/openid-configuration", timeout=10
    )
    assert oidc.status_code == 200
    assert oidc.json()["issuer"] == f"{emu.authority_host}/{{tenantid}}/v2.0"
    assert oidc.json()["token_endpoint"] == emu.token_endpoint(tenant)
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    with pytest.warns(DeprecationWarning):  # msal itself warns against it
        result = cca(emu, client_id, "pw", tenant=tenant).acquire_token_for_client([GRAPH_SCOPE])
    assert result["error_codes"] == [50059], result


def test_msal_default_discovery_with_double_slash(emu: Emulator) -> None:
    """An authority ending in "/" makes msal ask for "/<tenant>//v2.0/..."; Entra serves it."""
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    app = msal.ConfidentialClientApplication(
        client_id,
        client_credential="pw",
        authority=emu.authority(TENANT) + "/",
        instance_discovery=False,
        http_client=session_for(emu),
    )
    assert "access_token" in app.acquire_token_for_client([GRAPH_SCOPE])
    with session_for(emu) as http:
        double = http.get(
            f"{emu.authority_host}/common//v2.0/.well-known/openid-configuration", timeout=10
        )
    assert double.status_code == 200


def test_discovery_advertises_only_what_is_served(emu: Emulator, http: requests.Session) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    for path in ("/v2.0/.well-known/openid-configuration", "/.well-known/openid-configuration"):
        oidc = http.get(f"{emu.authority(TENANT)}{path}", timeout=10).json()
        endpoints = {k: v for k, v in oidc.items() if k.endswith(("_endpoint", "_uri"))}
        assert set(endpoints) == {"token_endpoint", "jwks_uri", "authorization_endpoint"}
        assert http.get(oidc["jwks_uri"], timeout=10).status_code == 200
        authorize = http.get(
            oidc["authorization_endpoint"], params={"client_id": client_id}, timeout=10
        )
        assert_entra_error(authorize.json(), 500113)
        token = http.post(
            oidc["token_endpoint"],
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": "pw",
                "scope": GRAPH_SCOPE,
                "resource": "https://graph.microsoft.com",
            },
            timeout=10,
        )
        assert token.status_code == 200, token.text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "https://login.example:443/t/oauth2/v2.0/token",
            "https://login.example/t/oauth2/v2.0/token",
        ),
        ("https://login.example/t/oauth2/v2.0/token/", "https://login.example/t/oauth2/v2.0/token"),
        ("https://LOGIN.example:8443/t", "https://login.example:8443/t"),
    ],
)
def test_audience_default_port_is_optional(given: str, expected: str) -> None:
    assert normalize_audience(given) == normalize_audience(expected) == expected


def test_default_port_is_not_written() -> None:
    assert https_url("login.example", 443) == "https://login.example"
    assert https_url("127.0.0.1", 8443) == "https://127.0.0.1:8443"
