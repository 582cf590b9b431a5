"""Store scans look at every certificate but parse, and warn about, only the key they use: a
folder of many certificates costs one key parse, and an unrelated world-readable key is none
of this sign-in's business."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from cert_helpers import days

import entra_auth
from entra_auth import CertificateError
from entra_auth_emulator.pki import make_leaf_cert


def test_a_scan_parses_and_warns_about_only_the_selected_key(
    register_app,
    app_cert,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    isolated_environment,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from cryptography.hazmat.primitives import serialization

    parsed: list[int] = []
    real = serialization.load_pem_private_key

    def counting(*args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(serialization, "load_pem_private_key", counting)
    folder = tmp_path / "certs"
    folder.mkdir()
    monkeypatch.setenv("ENTRA_AUTH_CERT_PATH", str(folder))
    for n in range(5):
        unrelated = make_leaf_cert(f"CN=unrelated-{n}", not_before=days(-1), not_after=days(9))
        unrelated.write_pem(folder / f"unrelated-{n}.pem").chmod(0o644)
    app_cert.write_pem(folder / "app.pem")  # 0600
    app = register_app(certificates=[app_cert])
    with caplog.at_level(logging.WARNING, logger="entra_auth.certificates"):
        cred = entra_auth.connect(
            "cert-thumbprint", **app.options(), certificate_thumbprint=app_cert.thumbprint
        )
    assert cred.context.certificate_thumbprint == app_cert.thumbprint
    assert len(parsed) == 1
    assert [r for r in caplog.records if r.name == "entra_auth.certificates"] == []


def test_a_pem_listing_its_ca_first_is_found_by_the_leaf(
    register_app, issuing_chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The leaf is guessed without the key during a scan (the certificate that is not a CA),
    so a file written CA first is still found by the leaf's thumbprint."""
    _, intermediate = issuing_chain
    leaf = make_leaf_cert("CN=ca-first.contoso.com", issuer=intermediate)
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "ca-first.pem").write_bytes(
        intermediate.cert_pem() + leaf.cert_pem() + leaf.key_pem()
    )
    (folder / "ca-first.pem").chmod(0o600)  # a key file: private, or it is refused
    monkeypatch.setenv("ENTRA_AUTH_CERT_PATH", str(folder))
    app = register_app(certificates=[leaf])
    cred = entra_auth.connect(
        "cert-thumbprint", **app.options(), certificate_thumbprint=leaf.thumbprint
    )
    assert cred.context.certificate_name == "CN=ca-first.contoso.com"


def test_a_key_that_belongs_to_another_certificate_in_the_file_is_passed_over(
    register_app, app_cert, other_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "mixed.pem").write_bytes(
        app_cert.cert_pem() + other_cert.cert_pem() + other_cert.key_pem()
    )
    (folder / "mixed.pem").chmod(0o600)  # a key file: private, or it is refused
    monkeypatch.setenv("ENTRA_AUTH_CERT_PATH", str(folder))
    app = register_app(certificates=[app_cert])
    with pytest.raises(CertificateError) as raised:
        entra_auth.connect(
            "cert-thumbprint", **app.options(), certificate_thumbprint=app_cert.thumbprint
        )
    assert (
        f"mixed.pem: its private key belongs to CN=someone-else [{other_cert.thumbprint}]"
        in str(raised.value)
    )


def test_a_cert_path_entry_that_is_a_file_is_named_as_such(
    register_app, app_cert, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = app_cert.write_pem(tmp_path / "app.pem")
    monkeypatch.setenv("ENTRA_AUTH_CERT_PATH", str(path))  # a file, where folders belong
    app = register_app(certificates=[app_cert])
    with pytest.raises(CertificateError) as raised:
        entra_auth.connect(
            "cert-thumbprint", **app.options(), certificate_thumbprint=app_cert.thumbprint
        )
    assert f"ENTRA_AUTH_CERT_PATH {path} (not a folder)" in str(raised.value)
