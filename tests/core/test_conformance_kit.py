"""The plugin authors' conformance kits applied to core's own plugins: the ``env`` and ``file``
secret schemes and the three built-in certificate stores (the five built-in providers run the
provider kit in tests/providers/test_conformance_builtin.py)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from entra_auth.certificates.builtin_stores import CERT_PATH_ENV, tool_store_path
from entra_auth.certificates.stores import dotnet_store_path
from entra_auth.testing import CertificateStoreConformance, SecretSchemeConformance
from entra_auth_emulator.pki import CertifiedKey, make_leaf_cert


class TestEnvScheme(SecretSchemeConformance):
    scheme = "env"

    def stored_secret(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
        value = secrets.token_urlsafe(24)
        monkeypatch.setenv("CONFORMANCE_ENV_SECRET", value)
        return "env:CONFORMANCE_ENV_SECRET", value

    def missing_reference(self) -> str:
        return "env:CONFORMANCE_NO_SUCH_VARIABLE"


class TestFileScheme(SecretSchemeConformance):
    scheme = "file"

    def stored_secret(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
        value = secrets.token_urlsafe(24)
        path = tmp_path / "app-secret"
        path.write_text(value + "\n")
        path.chmod(0o600)
        return f"file:{path}", value

    def missing_reference(self) -> str:
        return "file:/nonexistent/conformance/app-secret"


def _fresh(label: str) -> tuple[CertifiedKey, str]:
    subject = f"CN=store-conformance-{label}-{secrets.token_hex(4)}"
    return make_leaf_cert(subject), subject


class TestEntraAuthStore(CertificateStoreConformance):
    store_name = "entra-auth store"

    def store_certificate(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
        cert, subject = _fresh("tool")
        folder = tool_store_path()
        folder.mkdir(parents=True, exist_ok=True)
        cert.write_pfx(folder / f"{cert.thumbprint}.pfx")
        return cert.thumbprint, subject


class TestCertPathStore(CertificateStoreConformance):
    store_name = CERT_PATH_ENV

    def store_certificate(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
        cert, subject = _fresh("path")
        folder = tmp_path / "cert-path"
        folder.mkdir()
        monkeypatch.setenv(CERT_PATH_ENV, str(folder))
        cert.write_pem(folder / "app.pem")
        return cert.thumbprint, subject


class TestDotNetStore(CertificateStoreConformance):
    store_name = ".NET CurrentUser\\My"

    def store_certificate(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
        cert, subject = _fresh("dotnet")
        folder = dotnet_store_path()
        folder.mkdir(parents=True, exist_ok=True)
        cert.write_pfx(folder / f"{cert.thumbprint}.pfx")
        return cert.thumbprint, subject
