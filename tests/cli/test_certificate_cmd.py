"""``entra-auth certificate`` as a real subprocess: real keys and files in the isolated home,
and the admin path from ``certificate new`` to a sign-in against the emulator."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Run
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI runs in the test's working directory, where ``new`` writes NAME.cer/.pem."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def tool_store(home: Path) -> Path:
    return home / ".local" / "share" / "entra-auth" / "certs"


def dotnet_store(home: Path) -> Path:
    return home / ".dotnet" / "corefx" / "cryptography" / "x509stores" / "my"


def make_cert(subject: str, *, days: int = 30, start_days: int = -1) -> tuple[Any, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=start_days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert, key


def thumb(cert: Any) -> str:
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def test_new_makes_an_entra_ready_certificate(
    run_cli: Run, isolated_environment: Path, workdir: Path
) -> None:
    result = run_cli("certificate", "new", "--subject", "CN=contoso-automation")
    assert result.code == 0, result.output
    thumbprint = result.stdout.strip()
    assert len(thumbprint) == 40
    assert "Certificates & secrets" in result.stderr
    assert "contoso-automation.cer" in result.stderr
    der = (workdir / "contoso-automation.cer").read_bytes()
    cert = x509.load_der_x509_certificate(der)
    assert x509.load_pem_x509_certificate((workdir / "contoso-automation.pem").read_bytes()) == cert
    assert b"PRIVATE KEY" not in (workdir / "contoso-automation.pem").read_bytes()
    assert thumb(cert) == thumbprint
    assert cert.subject == cert.issuer
    assert cert.subject.rfc4514_string() == "CN=contoso-automation"
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert cert.public_key().key_size == 2048  # type: ignore[union-attr]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert 360 <= lifetime.days <= 370
    stored = tool_store(isolated_environment) / f"{thumbprint}.pem"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    key = serialization.load_pem_private_key(stored.read_bytes(), None)
    assert key.public_key() == cert.public_key()
    # Again in the same folder: the public files would be overwritten, so nothing happens.
    again = run_cli("certificate", "new", "--subject", "CN=contoso-automation")
    assert again.code == 2
    assert "contoso-automation.cer already exists" in again.error_line()
    assert len(list(tool_store(isolated_environment).iterdir())) == 1


def test_new_with_options_into_the_dotnet_store(
    run_cli: Run, isolated_environment: Path, workdir: Path
) -> None:
    result = run_cli(
        "certificate", "new", "--subject", "CN=Nightly Job, O=Contoso",
        "--months", "24", "--key-size", "3072", "--store", "dotnet",
    )  # fmt: skip
    assert result.code == 0, result.output
    thumbprint = result.stdout.strip()
    pfx = dotnet_store(isolated_environment) / f"{thumbprint}.pfx"
    key, cert, _ = pkcs12.load_key_and_certificates(pfx.read_bytes(), None)
    assert cert is not None and key is not None
    assert key.key_size == 3072  # type: ignore[union-attr]
    assert cert.subject.rfc4514_string() == "CN=Nightly Job,O=Contoso"
    assert 725 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 735
    assert (workdir / "Nightly-Job.cer").is_file()
    listed = run_cli("certificate", "list", "--output", "json")
    assert [(r["thumbprint"], r["store"]) for r in listed.json()] == [
        (thumbprint, ".NET CurrentUser\\My")
    ]


def test_list_shows_every_store_with_filters(
    run_cli: Run, isolated_environment: Path, workdir: Path, tmp_path: Path
) -> None:
    made = run_cli("certificate", "new", "--subject", "CN=contoso-automation")
    assert made.code == 0, made.output
    fresh = made.stdout.strip()
    extra = tmp_path / "extra-certs"
    extra.mkdir(mode=0o700)
    expired, expired_key = make_cert("old-automation", days=10, start_days=-20)
    (extra / "old.pem").write_bytes(
        expired_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + expired.public_bytes(serialization.Encoding.PEM)
    )
    public_only, _ = make_cert("public-only")
    (extra / "public.cer").write_bytes(public_only.public_bytes(serialization.Encoding.PEM))
    for path in extra.iterdir():
        path.chmod(0o600)
    env = {"ENTRA_AUTH_CERT_PATH": str(extra)}
    rows = run_cli("certificate", "list", "--output", "json", env=env).json()
    by_thumb = {r["thumbprint"]: r for r in rows}
    assert set(by_thumb) == {fresh, thumb(expired), thumb(public_only)}
    assert by_thumb[fresh]["has_private_key"] is True
    assert by_thumb[fresh]["store"] == "entra-auth store"
    assert by_thumb[thumb(public_only)]["has_private_key"] is False
    assert by_thumb[thumb(expired)]["store"] == "ENTRA_AUTH_CERT_PATH"
    assert by_thumb[thumb(expired)]["path"] == str(extra / "old.pem")
    assert by_thumb[thumb(expired)]["not_after"].endswith("Z")
    valid = run_cli("certificate", "list", "--valid-only", "--output", "json", env=env).json()
    assert [r["thumbprint"] for r in valid] == [fresh]
    named = run_cli("certificate", "list", "--subject", "CN=old-automation", "--output", "json",
                    env=env).json()  # fmt: skip
    assert [r["thumbprint"] for r in named] == [thumb(expired)]
    table = run_cli("certificate", "list", env=env)
    assert table.code == 0, table.output
    header = table.stdout.splitlines()[0].split()
    assert header == [
        "Thumbprint", "Subject", "NotBefore", "NotAfter", "HasPrivateKey", "Store", "Path"
    ]  # fmt: skip
    assert len(table.stdout.splitlines()) == 2 + 3


def test_show_export_and_the_admin_path_to_a_sign_in(
    run_cli: Run, emulator: Any, emulator_env: Any, workdir: Path
) -> None:
    made = run_cli("certificate", "new", "--subject", "CN=contoso-automation")
    assert made.code == 0, made.output
    thumbprint = made.stdout.strip()
    shown = run_cli("certificate", "show", thumbprint.lower(), "--output", "json")
    assert shown.code == 0, shown.output
    [details] = shown.json()
    assert details["thumbprint"] == thumbprint
    assert details["public_key"] == "RSA 2048"
    assert details["key_usage"] == ["DigitalSignature"]
    assert details["signature_algorithm"] == "SHA256"
    exported = run_cli("certificate", "export", thumbprint, "--format", "pem", "--out", "up.pem")
    assert exported.code == 0, exported.output
    pem = (workdir / "up.pem").read_bytes()
    assert b"PRIVATE KEY" not in pem
    assert thumb(x509.load_pem_x509_certificate(pem)) == thumbprint
    to_stdout = subprocess.run(
        [sys.executable, "-m", "entra_auth_cli", "certificate", "export", thumbprint, "--out", "-"],
        capture_output=True, env=dict(os.environ), check=True,
    )  # fmt: skip
    assert thumb(x509.load_der_x509_certificate(to_stdout.stdout)) == thumbprint
    # Upload the .cer to the app registration, then sign in by thumbprint.
    tenant, client_id = str(uuid.uuid4()), str(uuid.uuid4())
    emulator.register_app(
        tenant,
        client_id,
        roles=["Group.Read.All"],
        certificates=[workdir / "contoso-automation.cer"],
    )
    connected = run_cli(
        "connect", "--client-id", client_id, "--tenant-id", tenant,
        "--certificate-thumbprint", thumbprint,
    )  # fmt: skip
    assert connected.code == 0, connected.output
    assert "Welcome To Microsoft Graph!" in connected.output


def test_import_pfx_with_a_password_reference(
    run_cli: Run, isolated_environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = make_cert("imported-app")
    pfx = tmp_path / "app.pfx"
    pfx.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"app", key, cert, None, serialization.BestAvailableEncryption(b"pfx-pass")
        )
    )
    pfx.chmod(0o600)
    literal = run_cli("certificate", "import", str(pfx), "--password", "pfx-pass")
    assert literal.code == 2
    assert "pfx-pass" not in literal.stderr
    monkeypatch.setenv("PFX_PASSWORD", "pfx-pass")
    wrong = run_cli("certificate", "import", str(pfx), "--password", "env:PFX_PASSWORD",
                    env={"PFX_PASSWORD": "nope"})  # fmt: skip
    assert wrong.code == 2, wrong.output
    assert "password" in wrong.error_line()
    result = run_cli("certificate", "import", str(pfx), "--password", "env:PFX_PASSWORD")
    assert result.code == 0, result.output
    assert result.stdout.strip() == thumb(cert)
    stored = tool_store(isolated_environment) / f"{thumb(cert)}.pem"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    # Unencrypted in the store, so lookups need no password.
    assert serialization.load_pem_private_key(stored.read_bytes(), None).public_key() == (
        cert.public_key()
    )
    twice = run_cli("certificate", "import", str(pfx), "--password", "env:PFX_PASSWORD")
    assert twice.code == 2
    assert "already in the entra-auth store" in twice.error_line()
    public = tmp_path / "public.pem"
    public.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    public.chmod(0o600)
    no_key = run_cli("certificate", "import", str(public))
    assert no_key.code == 2
    assert "no usable private key" in no_key.error_line()


def test_remove_asks_and_leaves_read_only_stores_alone(
    run_cli: Run, isolated_environment: Path, workdir: Path, tmp_path: Path
) -> None:
    made = run_cli("certificate", "new", "--subject", "CN=contoso-automation")
    thumbprint = made.stdout.strip()
    stored = tool_store(isolated_environment) / f"{thumbprint}.pem"
    unconfirmed = run_cli("certificate", "remove", thumbprint)
    assert unconfirmed.code == 2
    assert "--yes" in unconfirmed.error_line()
    assert stored.exists()
    removed = run_cli("certificate", "remove", thumbprint, "--yes")
    assert removed.code == 0, removed.output
    assert not stored.exists()
    assert run_cli("certificate", "list", "--output", "json").json() == []
    extra = tmp_path / "mine"
    extra.mkdir(mode=0o700)
    cert, key = make_cert("someone-elses")
    pfx = extra / "theirs.pfx"
    pfx.write_bytes(
        pkcs12.serialize_key_and_certificates(None, key, cert, None, serialization.NoEncryption())
    )
    pfx.chmod(0o600)
    refused = run_cli(
        "certificate", "remove", thumb(cert), "--yes", env={"ENTRA_AUTH_CERT_PATH": str(extra)}
    )
    assert refused.code == 2
    assert "does not change" in refused.error_line()
    assert pfx.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "not-a-thumbprint"), "is not a thumbprint"),
        (("show", "AB" * 20), "no certificate with thumbprint"),
        (("new", "--subject", "contoso"), "is not a distinguished name"),
        (("new", "--subject", "O=Contoso"), "needs a common name"),
        (("new", "--subject", "CN=x", "--key-size", "1024"), "1024"),
        (("new", "--subject", "CN=x", "--months", "0"), "--months"),
        (("import", "/nonexistent/app.pfx"), "/nonexistent/app.pfx"),
        (("export", "AB" * 20), "no certificate with thumbprint"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    run_cli: Run, isolated_environment: Path, workdir: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_cli("certificate", *args)
    assert result.code == 2, result.output
    assert message in result.error_line()
    assert not tool_store(isolated_environment).exists() or not any(
        tool_store(isolated_environment).iterdir()
    )


def test_help_imports_no_cryptography(cli_command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *cli_command[1:], "certificate", "new", "--help"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "--subject" in done.stdout
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()}
    assert not {m for m in imported if m.split(".")[0] in ("cryptography", "requests", "msal")}
