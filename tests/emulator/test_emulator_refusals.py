"""Each refusal Entra gives for a bad credential, with its AADSTS code, error and HTTP status."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography.hazmat.primitives.serialization import Encoding
from emulator_helpers import (
    GRAPH_SCOPE,
    JWT_BEARER,
    TENANT,
    assert_entra_error,
    cca,
    make_assertion,
    new_client_id,
    session_for,
    sign_raw,
    x5t,
)

from entra_auth_emulator import Emulator
from entra_auth_emulator.pki import CertifiedKey, make_leaf_cert


def post_assertion(post_token, client_id: str, assertion: str, **form: str) -> requests.Response:
    return post_token(
        client_id=client_id, client_assertion=assertion, client_assertion_type=JWT_BEARER, **form
    )


@pytest.fixture
def cert_app(emu: Emulator, app_cert: CertifiedKey) -> str:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[app_cert])
    return client_id


def test_wrong_secret_7000215_with_401(emu: Emulator, post_token) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["right"])
    response = post_token(client_id=client_id, client_secret="wrong")
    assert response.status_code == 401
    assert_entra_error(response.json(), 7000215, "invalid_client")
    result = cca(emu, client_id, "wrong").acquire_token_for_client([GRAPH_SCOPE])
    assert result["error_codes"] == [7000215]


def test_correlation_id_echoes_client_request_id(emu: Emulator, http) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["right"])
    correlation = str(uuid.uuid4())
    response = http.post(
        emu.token_endpoint(TENANT),
        data={
            "grant_type": "client_credentials",
            "scope": GRAPH_SCOPE,
            "client_id": client_id,
            "client_secret": "nope",
        },
        headers={"client-request-id": correlation},
        timeout=10,
    )
    assert response.json()["correlation_id"] == correlation
    assert response.headers["client-request-id"] == correlation


def test_unregistered_certificate_700027(
    emu: Emulator, post_token, cert_app: str, other_cert: CertifiedKey
) -> None:
    response = post_assertion(post_token, cert_app, make_assertion(emu, cert_app, other_cert))
    assert response.status_code == 401
    body = response.json()
    assert_entra_error(body, 700027, "invalid_client")
    assert other_cert.thumbprint in body["error_description"]
    # And through msal, as a user would meet it.
    result = cca(
        emu,
        cert_app,
        {
            "private_key": other_cert.key_pem().decode(),
            "thumbprint": other_cert.thumbprint,
        },
    ).acquire_token_for_client([GRAPH_SCOPE])
    assert result["error_codes"] == [700027]


def test_right_x5t_signed_by_another_key_700027(
    emu: Emulator, post_token, cert_app: str, app_cert: CertifiedKey, other_cert: CertifiedKey
) -> None:
    forged = make_assertion(emu, cert_app, other_cert, header_cert=app_cert)
    response = post_assertion(post_token, cert_app, forged)
    assert response.status_code == 401
    assert_entra_error(response.json(), 700027)
    # Same through msal: the registered thumbprint, the wrong private key.
    result = cca(
        emu,
        cert_app,
        {
            "private_key": other_cert.key_pem().decode(),
            "thumbprint": app_cert.thumbprint,
        },
    ).acquire_token_for_client([GRAPH_SCOPE])
    assert result["error_codes"] == [700027]


def test_tampered_payload_700027(emu: Emulator, post_token, cert_app, app_cert) -> None:
    header, _payload, signature = make_assertion(emu, cert_app, app_cert).split(".")
    other_payload = make_assertion(emu, cert_app, app_cert).split(".")[1]
    response = post_assertion(post_token, cert_app, f"{header}.{other_payload}.{signature}")
    assert_entra_error(response.json(), 700027)


def test_subject_name_issuer_without_x5c_700027(
    emu: Emulator, post_token, issuing_ca: CertifiedKey
) -> None:
    leaf = make_leaf_cert("CN=sni-no-x5c", issuer=issuing_ca)
    client_id = new_client_id()
    emu.register_app(
        TENANT, client_id, trusted_issuers=[issuing_ca], trusted_subjects=["CN=sni-no-x5c"]
    )
    response = post_assertion(post_token, client_id, make_assertion(emu, client_id, leaf))
    assert response.status_code == 401
    assert_entra_error(response.json(), 700027)
    result = cca(
        emu,
        client_id,
        {
            "private_key": leaf.key_pem().decode(),
            "thumbprint": leaf.thumbprint,
        },
    ).acquire_token_for_client([GRAPH_SCOPE])
    assert result["error_codes"] == [700027]


def test_x5c_from_untrusted_issuer_700027(emu: Emulator, issuing_ca: CertifiedKey) -> None:
    from entra_auth_emulator.pki import make_ca

    rogue_ca = make_ca("CN=Contoso Issuing CA,O=Contoso")  # same name, different key
    leaf = make_leaf_cert("CN=rogue", issuer=rogue_ca)
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, trusted_issuers=[issuing_ca], trusted_subjects=["CN=rogue"])
    result = cca(
        emu,
        client_id,
        {
            "private_key": leaf.key_pem().decode(),
            "thumbprint": leaf.thumbprint,
            "public_certificate": leaf.cert_pem(with_chain=True).decode(),
        },
    ).acquire_token_for_client([GRAPH_SCOPE])
    assert result["error_codes"] == [700027]


def test_x5c_leaf_expired_700027(emu: Emulator, issuing_ca: CertifiedKey) -> None:
    past = datetime.now(UTC) - timedelta(days=30)
    leaf = make_leaf_cert(
        "CN=expired-sni", issuer=issuing_ca, not_before=past, not_after=past + timedelta(days=1)
    )
    client_id = new_client_id()
    emu.register_app(
        TENANT, client_id, trusted_issuers=[issuing_ca], trusted_subjects=["CN=expired-sni"]
    )
    result = cca(
        emu,
        client_id,
        {
            "private_key": leaf.key_pem().decode(),
            "thumbprint": leaf.thumbprint,
            "public_certificate": leaf.cert_pem().decode(),
        },
    ).acquire_token_for_client([GRAPH_SCOPE])
    assert result["error_codes"] == [700027]


def test_registered_certificate_expired_700027(emu: Emulator, post_token) -> None:
    past = datetime.now(UTC) - timedelta(days=30)
    old = make_leaf_cert("CN=old", not_before=past, not_after=past + timedelta(days=1))
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[old])
    response = post_assertion(post_token, client_id, make_assertion(emu, client_id, old))
    assert_entra_error(response.json(), 700027)
    assert "expired" in response.json()["error_description"]


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 4000},
        {"nbf": int(time.time()) + 3600, "exp": int(time.time()) + 4000},
        {"exp": None},
    ],
    ids=["expired", "not-yet-valid", "no-exp"],
)
def test_assertion_time_range_700024(emu, post_token, cert_app, app_cert, claims) -> None:
    response = post_assertion(
        post_token, cert_app, make_assertion(emu, cert_app, app_cert, **claims)
    )
    assert response.status_code == 401
    assert_entra_error(response.json(), 700024, "invalid_client")


def test_clock_skew_tolerated(emu, post_token, cert_app, app_cert) -> None:
    now = int(time.time())
    assertion = make_assertion(emu, cert_app, app_cert, nbf=now + 120, exp=now + 600)
    assert post_assertion(post_token, cert_app, assertion).status_code == 200


def test_wrong_audience_700023(emu, post_token, cert_app, app_cert) -> None:
    for aud in (
        "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        emu.token_endpoint("another-tenant"),
    ):
        assertion = make_assertion(emu, cert_app, app_cert, aud=aud)
        response = post_assertion(post_token, cert_app, assertion)
        assert response.status_code == 401
        assert_entra_error(response.json(), 700023, "invalid_client")


@pytest.mark.parametrize(
    "claims",
    [{"iss": "someone-else"}, {"iss": "x", "sub": "x"}],
    ids=["iss-differs", "both-not-client-id"],
)
def test_iss_not_client_id_700021(emu, post_token, cert_app, app_cert, claims) -> None:
    response = post_assertion(
        post_token, cert_app, make_assertion(emu, cert_app, app_cert, **claims)
    )
    assert response.status_code == 401
    assert_entra_error(response.json(), 700021, "invalid_client")


@pytest.mark.parametrize(
    "claims", [{"sub": "someone-else"}, {"sub": None}], ids=["differs", "none"]
)
def test_sub_not_iss_50048(emu, post_token, cert_app, app_cert, claims) -> None:
    response = post_assertion(
        post_token, cert_app, make_assertion(emu, cert_app, app_cert, **claims)
    )
    assert response.status_code == 401
    assert_entra_error(response.json(), 50048, "invalid_client")


def test_reused_assertion_accepted_until_it_expires(emu, post_token, cert_app, app_cert) -> None:
    """Entra accepts one assertion again until its exp (msal reuses its own for minutes);
    only a wrong one is refused."""
    assertion = make_assertion(emu, cert_app, app_cert)
    assert post_assertion(post_token, cert_app, assertion).status_code == 200
    assert post_assertion(post_token, cert_app, assertion).status_code == 200
    emu.register_resource("api://other")
    assert post_assertion(post_token, cert_app, assertion, scope="api://other/.default").ok
    tampered = assertion[:-4] + ("AAAA" if not assertion.endswith("AAAA") else "BBBB")
    assert_entra_error(post_assertion(post_token, cert_app, tampered).json(), 700027)


def test_unsupported_algorithms_and_garbage(emu, post_token, cert_app, app_cert) -> None:
    import jwt

    hs = jwt.encode(
        {"iss": cert_app, "sub": cert_app},
        "k" * 32,
        algorithm="HS256",
        headers={"x5t": x5t(app_cert)},
    )
    none = make_assertion(emu, cert_app, app_cert).rsplit(".", 1)[0] + "."
    for assertion in (hs, none, "garbage", "a.b.c", "....", "eyJ9.eyJ9.AA", "é" * 10, "x" * 70000):
        response = post_assertion(post_token, cert_app, assertion)
        assert response.status_code in (400, 401), assertion[:20]
        assert response.json()["error_codes"], assertion[:20]


def test_wrong_assertion_type(emu, post_token, cert_app, app_cert) -> None:
    response = post_token(
        client_id=cert_app,
        client_assertion=make_assertion(emu, cert_app, app_cert),
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
    )
    assert response.status_code == 400
    assert_entra_error(response.json(), 900144, "invalid_request")


def test_unknown_app_700016(emu: Emulator, post_token) -> None:
    emu.register_app(TENANT, new_client_id(), secrets=["x"])
    unknown = new_client_id()
    response = post_token(client_id=unknown, client_secret="x")
    assert response.status_code == 400
    assert_entra_error(response.json(), 700016, "unauthorized_client")
    assert unknown in response.json()["error_description"]
    assert cca(emu, unknown, "x").acquire_token_for_client([GRAPH_SCOPE])["error_codes"] == [700016]


def test_unknown_tenant_90002_on_token_and_discovery(emu: Emulator, post_token, http) -> None:
    tenant = str(uuid.uuid4())
    response = post_token(tenant, client_id=new_client_id(), client_secret="x")
    assert response.status_code == 400
    assert_entra_error(response.json(), 90002, "invalid_request")
    discovery = http.get(
        f"{emu.authority(tenant)}/v2.0/.well-known/openid-configuration", timeout=10
    )
    assert discovery.status_code == 400
    assert_entra_error(discovery.json(), 90002)
    # msal fails while building the client; the emulator's 90002 body is in the error chain.
    with pytest.raises(ValueError) as info:
        cca(emu, new_client_id(), "x", tenant=tenant)
    chain = f"{info.value} {info.value.__context__}"
    assert "AADSTS90002" in chain and tenant in chain


@pytest.mark.parametrize(
    "scope",
    [
        "https://graph.microsoft.com/User.Read.All",
        "https://graph.microsoft.com/.default https://vault.azure.net/.default",
        "/.default",
        ".default",
        "",
    ],
)
def test_bad_scope_70011(emu: Emulator, post_token, scope: str) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["x"])
    response = post_token(client_id=client_id, client_secret="x", scope=scope)
    assert response.status_code == 400
    assert_entra_error(response.json(), 70011, "invalid_scope")


def test_bad_scope_through_msal(emu: Emulator) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["x"])
    result = cca(emu, client_id, "x").acquire_token_for_client(
        ["https://graph.microsoft.com/User.Read.All"]
    )
    assert result["error"] == "invalid_scope" and result["error_codes"] == [70011]


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"grant_type": "password"}, 400, 70003),
        ({"grant_type": ""}, 400, 900144),
        ({"client_id": ""}, 400, 900144),
        ({"scope": None}, 400, 900144),
        ({"client_secret": None}, 401, 7000218),
    ],
    ids=["unsupported-grant", "no-grant", "no-client-id", "no-scope", "no-credential"],
)
def test_missing_or_wrong_parameters(emu, http, form, status, code) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["x"])
    data = {
        "grant_type": "client_credentials",
        "scope": GRAPH_SCOPE,
        "client_id": client_id,
        "client_secret": "x",
    }
    data.update(form)
    data = {k: v for k, v in data.items() if v is not None}
    response = http.post(emu.token_endpoint(TENANT), data=data, timeout=10)
    assert response.status_code == status
    assert_entra_error(response.json(), code)


def test_secret_and_assertion_together_refused(emu, post_token, app_cert) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["x"], certificates=[app_cert])
    response = post_token(
        client_id=client_id,
        client_secret="x",
        client_assertion=make_assertion(emu, client_id, app_cert),
        client_assertion_type=JWT_BEARER,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_get_on_token_endpoint_405(emu: Emulator) -> None:
    with session_for(emu) as http:
        response = http.get(emu.token_endpoint(TENANT), timeout=10)
    assert response.status_code == 405
    assert_entra_error(response.json(), 900561)


@pytest.mark.parametrize(
    ("exp", "nbf"),
    [
        ("NaN", None),
        ("Infinity", None),
        ("-Infinity", None),
        ("1e400", None),
        ("1" + "0" * 400, None),
        ("1" + "0" * 5000, None),
        ("-1e300", None),
        (None, "NaN"),
        (None, "1e300"),
        (None, '"soon"'),
    ],
    ids=[
        "exp-nan",
        "exp-inf",
        "exp-minus-inf",
        "exp-1e400",
        "exp-400-digits",
        "exp-5000-digits",
        "exp-minus-1e300",
        "nbf-nan",
        "nbf-1e300",
        "nbf-string",
    ],
)
def test_unusable_time_claims_refused_not_crashed(
    emu, post_token, cert_app, app_cert, exp: str | None, nbf: str | None
) -> None:
    """A NaN exp passed every comparison (and made the jti replayable forever); numbers past a
    float's range crashed the check into a 500. Each must be a plain refusal, twice."""
    now = int(time.time())
    payload = (
        f'{{"iss": "{cert_app}", "sub": "{cert_app}", "aud": "{emu.token_endpoint(TENANT)}", '
        f'"jti": "{uuid.uuid4()}", "exp": {exp or now + 600}'
        + (f', "nbf": {nbf}' if nbf else "")
        + "}"
    )
    assertion = sign_raw(app_cert, {"alg": "RS256", "x5t": x5t(app_cert)}, payload)
    for _ in range(2):
        response = post_assertion(post_token, cert_app, assertion)
        assert response.status_code == 401, response.text
        assert response.json()["error_codes"][0] in (700024, 700027)


def test_alg_none_refused(emu, post_token, cert_app, app_cert) -> None:
    signed = make_assertion(emu, cert_app, app_cert)
    _, payload, _ = signed.split(".")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "x5t": x5t(app_cert)}).encode())
    for signature in ("", signed.split(".")[2]):
        unsigned = f"{header.decode().rstrip('=')}.{payload}.{signature}"
        response = post_assertion(post_token, cert_app, unsigned)
        assert response.status_code == 401
        assert_entra_error(response.json(), 700027)
        assert "'none'" in response.json()["error_description"]


def test_sha1_thumbprint_in_x5t_s256_refused(emu, post_token, cert_app, app_cert) -> None:
    """x5t#S256 must carry the SHA-256 thumbprint; the SHA-1 one there is a client bug that
    Entra would not accept either, so the emulator must not."""
    wrong = make_assertion(emu, cert_app, app_cert, headers={"x5t#S256": x5t(app_cert)})
    response = post_assertion(post_token, cert_app, wrong)
    assert response.status_code == 401
    assert_entra_error(response.json(), 700027)
    right = make_assertion(emu, cert_app, app_cert, headers={"x5t#S256": x5t(app_cert, "sha256")})
    assert post_assertion(post_token, cert_app, right).status_code == 200


def test_x5c_through_a_leaf_that_is_not_a_ca_700027(
    emu: Emulator, post_token, issuing_ca: CertifiedKey
) -> None:
    """The holder of one leaf the trusted CA issued must not be able to mint more: a chain that
    runs through a certificate without basicConstraints CA is refused."""
    leaf = make_leaf_cert("CN=genuine leaf", issuer=issuing_ca)
    minted = make_leaf_cert("CN=minted by a leaf", issuer=leaf)
    client_id = new_client_id()
    emu.register_app(
        TENANT,
        client_id,
        trusted_issuers=[issuing_ca],
        trusted_subjects=["CN=minted by a leaf", "CN=genuine leaf"],
    )
    chain = [
        base64.b64encode(c.public_bytes(Encoding.DER)).decode()
        for c in (minted.certificate, leaf.certificate)
    ]
    forged = make_assertion(emu, client_id, minted, headers={"x5t": x5t(minted), "x5c": chain})
    response = post_assertion(post_token, client_id, forged)
    assert response.status_code == 401
    assert_entra_error(response.json(), 700027)
    assert "trusted issuer" in response.json()["error_description"]
    # The genuine leaf, with the same kind of header, signs in: only the chain made the difference.
    genuine = make_assertion(
        emu,
        client_id,
        leaf,
        headers={
            "x5t": x5t(leaf),
            "x5c": [base64.b64encode(leaf.certificate.public_bytes(Encoding.DER)).decode()],
        },
    )
    assert post_assertion(post_token, client_id, genuine).status_code == 200
