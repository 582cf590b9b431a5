"""How assertions are signed: PS256 + x5t#S256 by default, RS256 + x5t where asked, x5c with
the chain for subject name + issuer, and a fresh short-lived jti per token request."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cert_helpers import claims_of, header_of, token_requests

import entra_auth
from entra_auth import AuthenticationError, UsageError
from entra_auth.certificates import CertificateAssertion, from_parts
from entra_auth.certificates import assertions as assertions_module
from entra_auth_emulator.pki import make_leaf_cert

GRAPH = "https://graph.microsoft.com/.default"


def sign(bundle: Any, emulator: Any, app: Any, **kwargs: Any) -> str:
    signer = CertificateAssertion(bundle, **kwargs)
    return signer(
        {"client_id": app.client_id, "token_endpoint": emulator.token_endpoint(app.tenant_id)}
    )


def post_assertion(emulator: Any, app: Any, assertion: str) -> requests.Response:
    """Send an assertion to the emulator's token endpoint as msal would."""
    return requests.post(
        emulator.token_endpoint(app.tenant_id),
        data={
            "grant_type": "client_credentials",
            "client_id": app.client_id,
            "scope": GRAPH,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
        verify=emulator.ca_bundle,
        timeout=10,
    )


@pytest.mark.parametrize(
    ("algorithm", "thumbprint_header", "digest_length"),
    [("PS256", "x5t#S256", 32), ("RS256", "x5t", 20)],
)
def test_assertion_headers_and_the_emulator_accepts_them(
    algorithm: str, thumbprint_header: str, digest_length: int, register_app, app_cert, emulator
) -> None:
    app = register_app(certificates=[app_cert])
    bundle = from_parts(app_cert.private_key, app_cert.certificate)
    assertion = sign(bundle, emulator, app, algorithm=algorithm)
    header = header_of(assertion)
    assert header["alg"] == algorithm
    other = {"x5t", "x5t#S256"} - {thumbprint_header}
    assert thumbprint_header in header and not other & set(header) and "x5c" not in header
    assert len(jwt.utils.base64url_decode(header[thumbprint_header])) == digest_length
    claims = jwt.decode(
        assertion,
        app_cert.certificate.public_key(),
        algorithms=[algorithm],
        audience=emulator.token_endpoint(app.tenant_id),
    )
    assert claims["iss"] == claims["sub"] == app.client_id
    assert 0 < claims["exp"] - claims["iat"] <= 300
    answer = post_assertion(emulator, app, assertion)
    assert answer.status_code == 200, answer.text
    assert claims_of(answer.json()["access_token"])["appidacr"] == "2"


def test_every_assertion_has_its_own_jti(app_cert, register_app, emulator) -> None:
    app = register_app(certificates=[app_cert])
    bundle = from_parts(app_cert.private_key, app_cert.certificate)
    jtis = {
        jwt.decode(sign(bundle, emulator, app), options={"verify_signature": False})["jti"]
        for _ in range(5)
    }
    assert len(jtis) == 5


@pytest.mark.parametrize(
    ("algorithm", "alg", "thumbprint_header"),
    [("PS256", "PS256", "x5t#S256"), ("RS256", "RS256", "x5t"), ("rs256", "RS256", "x5t")],
)
def test_connect_signs_with_the_asked_algorithm(
    algorithm: str,
    alg: str,
    thumbprint_header: str,
    register_app,
    app_cert,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The assertions msal actually posts (recorded on their way out) carry the asked ``alg``
    and the matching thumbprint header, and the emulator accepts them."""
    sent: list[str] = []
    real_call = CertificateAssertion.__call__

    def recording(self: CertificateAssertion, context: Any) -> str:
        sent.append(real_call(self, context))
        return sent[-1]

    monkeypatch.setattr(CertificateAssertion, "__call__", recording)
    app = register_app(certificates=[app_cert])
    path = app_cert.write_pem(tmp_path / "app.pem")
    cred = entra_auth.connect(
        "cert-object", **app.options(), certificate_path=str(path), signing_algorithm=algorithm
    )
    assert claims_of(cred.get_token(GRAPH).token)["appidacr"] == "2"
    assert len(sent) == 1
    header = header_of(sent[0])
    assert header["alg"] == alg
    assert set(header) & {"x5t", "x5t#S256", "x5c"} == {thumbprint_header}


def test_unknown_signing_algorithm(app_cert, tmp_path: Path) -> None:
    path = app_cert.write_pem(tmp_path / "app.pem")
    with pytest.raises(UsageError, match=r"PS256 .* or RS256") as raised:
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            certificate_path=str(path),
            signing_algorithm="ES256",
        )
    assert raised.value.exit_code == 2


def test_each_token_request_sends_a_fresh_assertion(
    register_app, app_cert, tmp_path: Path, emulator
) -> None:
    """The emulator refuses a replayed jti, so repeated requests that bypass the token cache
    (a claims challenge) only succeed if every request carries a new assertion."""
    app = register_app(certificates=[app_cert])
    cred = entra_auth.connect(
        "cert-object", **app.options(), certificate_path=str(app_cert.write_pem(tmp_path / "a.pem"))
    )
    challenge = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}'
    for _ in range(3):
        cred.get_token(GRAPH, claims=challenge)
    statuses = [r["status"] for r in token_requests(emulator, app.tenant_id)]
    assert statuses == [200] * 4


def test_subject_name_and_issuer_with_the_chain(
    register_app, issuing_chain, isolated_environment, tmp_path: Path, monkeypatch
) -> None:
    """SN+I: the app trusts the root CA and has no certificate registered; the leaf is found by
    subject and sent with its chain in x5c."""
    root, intermediate = issuing_chain
    leaf = make_leaf_cert("CN=sni-app.contoso.com", issuer=intermediate)
    app = register_app(trusted_issuers=[root], trusted_subjects=["CN=sni-app.contoso.com"])
    folder = tmp_path / "certs"
    leaf.write_pfx(folder / "sni.pfx", with_chain=True)
    monkeypatch.setenv("ENTRA_AUTH_CERT_PATH", str(folder))
    cred = entra_auth.connect(
        "cert-name",
        **app.options(),
        certificate_name="CN=sni-app.contoso.com",
        send_certificate_chain=True,
    )
    assert cred.context.certificate_thumbprint == leaf.thumbprint
    assert claims_of(cred.get_token(GRAPH).token)["appid"] == app.client_id


def test_subject_name_and_issuer_headers_carry_leaf_then_chain(issuing_chain) -> None:
    from cryptography import x509

    root, intermediate = issuing_chain
    leaf = make_leaf_cert("CN=sni-app.contoso.com", issuer=intermediate)
    bundle = from_parts(leaf.private_key, leaf.certificate, leaf.chain)
    headers = assertions_module.assertion_headers(bundle, algorithm="PS256", send_chain=True)
    sent = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in headers["x5c"]]
    assert sent == [leaf.certificate, intermediate.certificate, root.certificate]


def test_without_the_chain_sni_is_refused_by_entra(
    register_app, issuing_chain, tmp_path: Path
) -> None:
    root, intermediate = issuing_chain
    leaf = make_leaf_cert("CN=sni-app.contoso.com", issuer=intermediate)
    app = register_app(trusted_issuers=[root], trusted_subjects=["CN=sni-app.contoso.com"])
    pfx = leaf.write_pfx(tmp_path / "sni.pfx", with_chain=True)
    with pytest.raises(AuthenticationError) as raised:
        entra_auth.connect("cert-object", **app.options(), certificate_path=str(pfx))
    assert raised.value.exit_code == 1 and raised.value.aadsts_code == 700027


def test_older_msal_gets_its_own_certificate_dict(
    register_app, app_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an msal that does not pass context to assertion callables, msal signs itself."""
    monkeypatch.setattr(assertions_module, "_msal_passes_context", lambda: False)
    app = register_app(certificates=[app_cert])
    for algorithm in ("PS256", "RS256"):
        cred = entra_auth.connect(
            "cert-object",
            **app.options(),
            certificate_path=str(app_cert.write_pem(tmp_path / "app.pem")),
            signing_algorithm=algorithm,
        )
        assert claims_of(cred.get_token(GRAPH).token)["appidacr"] == "2"


def test_one_msal_app_per_credential(
    register_app, app_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator
) -> None:
    """Token requests that bypass the cache reuse the credential's one msal app (and its
    token cache and discovery), signing a fresh assertion each time."""
    import msal

    built: list[int] = []
    real_init = msal.ConfidentialClientApplication.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(msal.ConfidentialClientApplication, "__init__", counting_init)
    app = register_app(certificates=[app_cert])
    cred = entra_auth.connect(
        "cert-object", **app.options(), certificate_path=str(app_cert.write_pem(tmp_path / "a.pem"))
    )
    challenge = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}'
    for _ in range(3):
        cred.get_token(GRAPH, claims=challenge)
    assert len(token_requests(emulator, app.tenant_id)) == 4
    assert len(built) == 1
