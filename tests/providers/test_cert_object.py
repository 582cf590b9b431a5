"""cert-object: a certificate file (PEM, PEM + .key, PKCS#12) or cryptography objects, through
``entra_auth.connect`` with real msal over HTTPS against the emulator."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from cert_helpers import claims_of, token_requests
from cryptography.hazmat.primitives.serialization import pkcs12

import entra_auth
from entra_auth import AuthenticationError, CertificateError, UsageError
from entra_auth.certificates import CertificateBundle
from entra_auth_emulator.pki import make_leaf_cert


def connect(app: Any, **options: Any) -> entra_auth.EntraCredential:
    return entra_auth.connect("cert-object", **app.options(), **options)


def test_pem_with_key_and_certificate_in_one_file(register_app, app_cert, tmp_path: Path) -> None:
    app = register_app(certificates=[app_cert])
    path = app_cert.write_pem(tmp_path / "app.pem")
    cred = connect(app, certificate_path=str(path))
    ctx = cred.context.as_dict()
    assert ctx["AuthType"] == "AppOnly"
    assert ctx["CertificateThumbprint"] == app_cert.thumbprint
    assert ctx["CertificateName"] == "CN=contoso-automation, O=Contoso"
    assert ctx["AppName"] == app.display_name
    claims = claims_of(cred.get_token("https://graph.microsoft.com/.default").token)
    assert claims["appid"] == app.client_id
    assert claims["appidacr"] == "2"  # Entra's "signed in with a certificate"


def test_pem_certificate_with_key_in_a_file_beside_it(
    register_app, app_cert, tmp_path: Path
) -> None:
    app = register_app(certificates=[app_cert])
    cert = app_cert.write_pem(tmp_path / "app.crt", include_key=False)
    app_cert.write_key(tmp_path / "app.key")
    cred = connect(app, certificate_path=str(cert))
    assert cred.context.certificate_thumbprint == app_cert.thumbprint


def test_encrypted_pem_key_with_password_reference(
    register_app, app_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = register_app(certificates=[app_cert])
    cert = app_cert.write_pem(tmp_path / "app.pem", include_key=False)
    app_cert.write_key(tmp_path / "app.key", password="pem pass")
    monkeypatch.setenv("KEY_PASSWORD", "pem pass")
    cred = connect(app, certificate_path=str(cert), certificate_password="env:KEY_PASSWORD")
    assert cred.context.certificate_thumbprint == app_cert.thumbprint


def test_wrong_password_for_an_encrypted_pem_key(
    app_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = app_cert.write_pem(tmp_path / "app.crt", include_key=False)
    app_cert.write_key(tmp_path / "app.key", password="right pem pass")
    monkeypatch.setenv("KEY_PASSWORD", "wrong pem pass")
    with pytest.raises(CertificateError) as raised:
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            certificate_path=str(cert),
            certificate_password="env:KEY_PASSWORD",
        )
    message = str(raised.value)
    assert raised.value.exit_code == 2 and "\n" not in message
    assert f"does not decrypt the private key in {tmp_path / 'app.key'}" in message
    assert "pem pass" not in message


def test_pfx_with_password_by_reference(
    register_app, app_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = register_app(certificates=[app_cert])
    pfx = app_cert.write_pfx(tmp_path / "app.pfx", password="Pa55-w0rd")
    monkeypatch.setenv("PFX_PASSWORD", "Pa55-w0rd")
    cred = connect(app, certificate_path=str(pfx), certificate_password="env:PFX_PASSWORD")
    assert cred.context.certificate_thumbprint == app_cert.thumbprint


def test_wrong_pfx_password_is_refused_without_echoing_it(
    app_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator_env
) -> None:
    pfx = app_cert.write_pfx(tmp_path / "app.pfx", password="right-one")
    monkeypatch.setenv("PFX_PASSWORD", "wrong-one")
    with pytest.raises(CertificateError) as raised:
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            certificate_path=str(pfx),
            certificate_password="env:PFX_PASSWORD",
        )
    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert "does not open" in message and str(pfx) in message
    assert "wrong-one" not in message and "\n" not in message


def test_pfx_password_missing(app_cert, tmp_path: Path) -> None:
    pfx = app_cert.write_pfx(tmp_path / "app.pfx", password="secret")
    with pytest.raises(CertificateError, match="password-protected"):
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            certificate_path=str(pfx),
        )


def test_password_must_be_a_reference(app_cert, tmp_path: Path) -> None:
    pfx = app_cert.write_pfx(tmp_path / "app.pfx", password="Tr0ub4dor-literal")
    with pytest.raises(UsageError) as raised:
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            certificate_path=str(pfx),
            certificate_password="Tr0ub4dor-literal",
        )
    message = str(raised.value)
    assert raised.value.exit_code == 2 and "\n" not in message
    assert "env:NAME" in message and "Tr0ub4dor" not in message


def test_python_objects_key_and_certificate(register_app, app_cert) -> None:
    app = register_app(certificates=[app_cert])
    cred = connect(app, certificate=(app_cert.private_key, app_cert.certificate))
    assert cred.context.certificate_thumbprint == app_cert.thumbprint


def test_python_loaded_pkcs12(register_app, app_cert) -> None:
    """The Python counterpart of ``-Certificate $Cert``: a PKCS#12 already loaded."""
    app = register_app(certificates=[app_cert])
    loaded = pkcs12.load_pkcs12(app_cert.pfx(b"pw"), b"pw")
    cred = connect(app, certificate=loaded)
    assert cred.context.certificate_name == "CN=contoso-automation, O=Contoso"
    as_tuple = pkcs12.load_key_and_certificates(app_cert.pfx(b"pw"), b"pw")
    assert connect(app, certificate=as_tuple).context.certificate_thumbprint == (
        app_cert.thumbprint
    )


def test_python_objects_with_the_chain_as_a_tuple(register_app, issuing_chain) -> None:
    root, intermediate = issuing_chain
    leaf = make_leaf_cert("CN=tuple-chain.contoso.com", issuer=intermediate)
    app = register_app(trusted_issuers=[root], trusted_subjects=["CN=tuple-chain.contoso.com"])
    chain = (intermediate.certificate, root.certificate)
    cred = connect(
        app, certificate=(leaf.private_key, leaf.certificate, chain), send_certificate_chain=True
    )
    assert claims_of(cred.get_token("https://graph.microsoft.com/.default").token)["appid"] == (
        app.client_id
    )


def test_bundle_repr_never_shows_the_key(app_cert) -> None:
    bundle = CertificateBundle(app_cert.certificate, app_cert.private_key)  # type: ignore[arg-type]
    assert "private_key" not in repr(bundle) and "RSAPrivateKey" not in repr(bundle)


@pytest.mark.parametrize("how", ["file", "object"])
def test_ec_key_is_refused_with_the_reason(how: str, tmp_path: Path) -> None:
    ec = make_leaf_cert("CN=ec-app", key_type="ec")
    given: dict[str, Any] = (
        {"certificate_path": str(ec.write_pem(tmp_path / "ec.pem"))}
        if how == "file"
        else {"certificate": (ec.private_key, ec.certificate)}
    )
    with pytest.raises(CertificateError) as raised:
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            **given,
        )
    assert raised.value.exit_code == 2
    assert "EC secp256r1 key" in str(raised.value) and "only RSA" in str(raised.value)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(CertificateError, match=r"nope\.pem does not exist") as raised:
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            certificate_path=str(missing),
        )
    assert raised.value.exit_code == 2


def test_unreadable_file(tmp_path: Path) -> None:
    folder = tmp_path / "app.pem"
    folder.mkdir()
    with pytest.raises(CertificateError, match="is a folder"):
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            certificate_path=str(folder),
        )


def test_certificate_without_private_key(app_cert, tmp_path: Path) -> None:
    cert = app_cert.write_pem(tmp_path / "public.cer", include_key=False)
    with pytest.raises(CertificateError) as raised:
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            certificate_path=str(cert),
        )
    assert str(raised.value) == (
        f"certificate file {cert} has no private key; put the key in the same file or in "
        "public.key beside it, or give a .pfx that holds it"
    )


@pytest.mark.parametrize("name", ["notes.pem", "app.pfx", "script.py"])
def test_a_file_that_is_no_certificate_says_so(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text("just some text\n")
    with pytest.raises(CertificateError) as raised:
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            certificate_path=str(path),
        )
    assert "is neither PEM nor PKCS#12" in str(raised.value)
    assert "password" not in str(raised.value)


def test_certificate_not_registered_on_the_app(register_app, app_cert, other_cert, tmp_path):
    app = register_app(certificates=[app_cert])
    path = other_cert.write_pem(tmp_path / "other.pem")
    with pytest.raises(AuthenticationError) as raised:
        connect(app, certificate_path=str(path))
    message = str(raised.value)
    assert raised.value.exit_code == 1
    assert raised.value.aadsts_code == 700027
    assert "AADSTS700027" in message and "Certificates & secrets" in message
    assert f"certificate used: CN=someone-else, thumbprint {other_cert.thumbprint}" in message
    assert "\n" not in message


def test_group_readable_key_file_is_refused_like_ssh(
    register_app, app_cert, tmp_path: Path
) -> None:
    app = register_app(certificates=[app_cert])
    path = app_cert.write_pem(tmp_path / "app.pem")
    path.chmod(0o644)
    with pytest.raises(CertificateError) as raised:
        connect(app, certificate_path=str(path))
    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert "accessible by group or others (mode 0644)" in message
    assert f"chmod 600 {path}" in message and "\n" not in message


def test_private_key_file_0600_gives_no_warning(
    register_app, app_cert, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = register_app(certificates=[app_cert])
    path = app_cert.write_pem(tmp_path / "app.pem")  # written 0600
    with caplog.at_level(logging.WARNING, logger="entra_auth.certificates"):
        connect(app, certificate_path=str(path))
    assert not [r for r in caplog.records if r.name == "entra_auth.certificates"]


def test_key_is_parsed_once_per_process(
    register_app, app_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator
) -> None:
    """Two credentials over one PEM and one PFX, several token requests: one parse each."""
    from cryptography.hazmat.primitives import serialization

    calls = {"pem": 0, "pfx": 0}
    real_pem = serialization.load_pem_private_key
    real_pfx = pkcs12.load_key_and_certificates

    def counting_pem(*args: Any, **kwargs: Any) -> Any:
        calls["pem"] += 1
        return real_pem(*args, **kwargs)

    def counting_pfx(*args: Any, **kwargs: Any) -> Any:
        calls["pfx"] += 1
        return real_pfx(*args, **kwargs)

    monkeypatch.setattr(serialization, "load_pem_private_key", counting_pem)
    monkeypatch.setattr(pkcs12, "load_key_and_certificates", counting_pfx)
    app = register_app(certificates=[app_cert])
    pem = app_cert.write_pem(tmp_path / "app.pem")
    pfx = app_cert.write_pfx(tmp_path / "app.pfx")
    for _ in range(2):
        for path in (pem, pfx):
            cred = connect(app, certificate_path=str(path))
            cred.get_token("https://vault.azure.net/.default")
            cred.close()
    assert len(token_requests(emulator, app.tenant_id)) >= 4
    assert calls == {"pem": 1, "pfx": 1}


def test_a_renewed_file_is_parsed_again(app_cert, tmp_path: Path) -> None:
    from entra_auth.certificates import load_certificate_file

    path = app_cert.write_pem(tmp_path / "app.pem")
    first = load_certificate_file(path)
    renewed = make_leaf_cert("CN=contoso-automation,O=Contoso")
    renewed.write_pem(path)
    second = load_certificate_file(path)
    assert first.thumbprint == app_cert.thumbprint
    assert second.thumbprint == renewed.thumbprint


def test_exactly_one_of_path_or_object(app_cert) -> None:
    with pytest.raises(UsageError, match="exactly one of --certificate PATH"):
        entra_auth.connect(
            "cert-object",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
        )
