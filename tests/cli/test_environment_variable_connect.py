"""``connect --environment-variable``: the AZURE_* variables read as azure-identity's
EnvironmentCredential reads them, a secret or a certificate (with its password and the
send-chain flag), against the emulator; secrets stay references to the variables."""

from __future__ import annotations

import json
import secrets
import uuid

import pytest

from entra_auth_emulator.pki import make_ca, make_leaf_cert


@pytest.fixture(scope="module")
def issued_cert():
    root = make_ca("CN=Contoso Root CA,O=Contoso")
    leaf = make_leaf_cert("CN=contoso-env-automation,O=Contoso", issuer=root)
    return root, leaf


def test_secret_variant(run_cli, secret_app, emulator_env, connection_file):
    env = {
        "AZURE_CLIENT_ID": secret_app.client_id,
        "AZURE_TENANT_ID": secret_app.tenant_id,
        "AZURE_CLIENT_SECRET": secret_app.secret,
    }
    result = run_cli("connect", "--environment-variable", "--output", "json", env=env)
    assert result.code == 0, result.stderr
    assert result.json()["app_name"] == secret_app.display_name
    saved = json.loads(connection_file.read_text())
    assert saved["provider"] == "client-secret"
    assert saved["options"] == {
        "client_id": secret_app.client_id,
        "tenant_id": secret_app.tenant_id,
        "client_secret": "env:AZURE_CLIENT_SECRET",
    }
    assert run_cli("token", env=env).code == 0  # a later process reads the variable again
    assert run_cli("token").code == 2  # and says so when it is gone


def test_certificate_variant_with_password_and_chain(
    run_cli, emulator, emulator_env, connection_file, tmp_path, issued_cert
):
    root, leaf = issued_cert
    tenant_id, client_id = str(uuid.uuid4()), str(uuid.uuid4())
    # Registered by subject name + issuer only: sign-in works only when x5c is sent.
    emulator.register_app(
        tenant_id=tenant_id,
        client_id=client_id,
        display_name="Contoso SN+I",
        roles=["User.Read.All"],
        trusted_issuers=[root.certificate],
        trusted_subjects=[leaf.certificate.subject.rfc4514_string()],
    )
    password = secrets.token_urlsafe(12)
    pem = tmp_path / "app.pem"
    pem.write_bytes(leaf.key_pem(password) + leaf.cert_pem(with_chain=True))
    pem.chmod(0o600)
    env = {
        "AZURE_CLIENT_ID": client_id,
        "AZURE_TENANT_ID": tenant_id,
        "AZURE_CLIENT_CERTIFICATE_PATH": str(pem),
        "AZURE_CLIENT_CERTIFICATE_PASSWORD": password,
    }
    unsent = run_cli("connect", "--environment-variable", "--no-welcome", env=env)
    assert unsent.code == 1  # no chain, and the certificate itself is not registered
    assert "AADSTS700027" in unsent.error_line()

    sent = run_cli(
        "connect", "--environment-variable", "--output", "json",
        env={**env, "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN": "True"},
    )  # fmt: skip
    assert sent.code == 0, sent.stderr
    assert sent.json()["app_name"] == "Contoso SN+I"
    saved = json.loads(connection_file.read_text())
    assert saved["provider"] == "cert-object"
    assert saved["options"] == {
        "client_id": client_id,
        "tenant_id": tenant_id,
        "certificate_path": str(pem),
        "certificate_password": "env:AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "send_certificate_chain": True,
    }
    assert password not in connection_file.read_text()


def test_a_secret_wins_over_a_certificate_and_nothing_set_is_refused(
    run_cli, secret_app, emulator_env, connection_file
):
    env = {
        "AZURE_CLIENT_ID": secret_app.client_id,
        "AZURE_TENANT_ID": secret_app.tenant_id,
        "AZURE_CLIENT_SECRET": secret_app.secret,
        "AZURE_CLIENT_CERTIFICATE_PATH": "/no/such/cert.pem",
    }
    assert run_cli("connect", "--environment-variable", "--no-welcome", env=env).code == 0
    assert json.loads(connection_file.read_text())["provider"] == "client-secret"

    missing = run_cli("connect", "--environment-variable", env={"AZURE_TENANT_ID": "t"})
    assert missing.code == 2
    assert "--environment-variable needs AZURE_CLIENT_ID set" in missing.error_line()
    neither = run_cli(
        "connect", "--environment-variable", env={"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"}
    )
    assert neither.code == 2
    # The variables are the providers' own declarations, not a list kept by the CLI.
    assert (
        "found none of AZURE_CLIENT_CERTIFICATE_PATH or AZURE_CLIENT_SECRET" in neither.error_line()
    )
