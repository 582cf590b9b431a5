"""azure-identity's credentials as a second, independent real client."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential
from emulator_helpers import GRAPH, GRAPH_SCOPE, TENANT, new_client_id

from entra_auth_emulator import Emulator
from entra_auth_emulator.pki import CertifiedKey, make_leaf_cert


def options(emu: Emulator) -> dict[str, object]:
    return {
        "authority": emu.authority_host,
        "disable_instance_discovery": True,
        "connection_verify": emu.ca_bundle,
    }


def test_client_secret_credential(emu: Emulator) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["azure-secret"], roles=["Mail.Send"])
    credential = ClientSecretCredential(TENANT, client_id, "azure-secret", **options(emu))
    token = credential.get_token(GRAPH_SCOPE)
    claims = emu.verify_token(token.token)
    assert claims["appid"] == client_id and claims["aud"] == GRAPH
    assert claims["roles"] == ["Mail.Send"]
    assert token.expires_on == claims["exp"]


def test_client_secret_credential_wrong_secret(emu: Emulator) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["azure-secret"])
    credential = ClientSecretCredential(TENANT, client_id, "nope", **options(emu))
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        credential.get_token(GRAPH_SCOPE)


@pytest.mark.parametrize("form", ["pem", "pfx"])
def test_certificate_credential(
    emu: Emulator, tmp_path: Path, app_cert: CertifiedKey, form: str
) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[app_cert])
    if form == "pem":
        path, password = app_cert.write_pem(tmp_path / "app.pem"), None
    else:
        path, password = app_cert.write_pfx(tmp_path / "app.pfx", "pw"), "pw"
    credential = CertificateCredential(
        TENANT, client_id, str(path), password=password, **options(emu)
    )
    assert emu.verify_token(credential.get_token(GRAPH_SCOPE).token)["appidacr"] == "2"


def test_certificate_credential_subject_name_issuer(
    emu: Emulator, tmp_path: Path, issuing_ca: CertifiedKey
) -> None:
    leaf = make_leaf_cert("CN=azure-identity-sni", issuer=issuing_ca)
    client_id = new_client_id()
    emu.register_app(
        TENANT, client_id, trusted_issuers=[issuing_ca], trusted_subjects=["CN=azure-identity-sni"]
    )
    path = leaf.write_pem(tmp_path / "sni.pem", with_chain=True)
    with_chain = CertificateCredential(
        TENANT, client_id, str(path), send_certificate_chain=True, **options(emu)
    )
    assert emu.verify_token(with_chain.get_token(GRAPH_SCOPE).token)["appid"] == client_id
    without_chain = CertificateCredential(TENANT, client_id, str(path), **options(emu))
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        without_chain.get_token(GRAPH_SCOPE)


def test_certificate_credential_unregistered(
    emu: Emulator, tmp_path: Path, app_cert: CertifiedKey, other_cert: CertifiedKey
) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, certificates=[app_cert])
    path = other_cert.write_pem(tmp_path / "other.pem")
    credential = CertificateCredential(TENANT, client_id, str(path), **options(emu))
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        credential.get_token(GRAPH_SCOPE)
