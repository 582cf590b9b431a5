"""The provider conformance kit (``entra_auth.testing``) applied to all six built-in
providers, each signing in against the emulator with the options of its own first demo step,
exactly as a third-party provider's test suite would."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from entra_auth import DemoLab
from entra_auth.testing import ProviderConformance


def private_key_texts(folder: Path, passwords: Iterable[str | None]) -> list[str]:
    """The private keys of the certificate files a demo step wrote, as text a leak would show:
    each full 64-character line of their PEM forms, and the private exponent in decimal."""
    texts: list[str] = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".pfx", ".p12", ".pem", ".key"):
            continue
        data = path.read_bytes()
        key = None
        for password in passwords:
            secret = password.encode() if password else None
            try:
                if path.suffix.lower() in (".pfx", ".p12"):
                    key = pkcs12.load_key_and_certificates(data, secret)[0]
                elif b"PRIVATE KEY" in data:
                    key = serialization.load_pem_private_key(data, secret)
            except (ValueError, TypeError):
                continue
            break
        if not isinstance(key, rsa.RSAPrivateKey):
            continue
        texts.append(str(key.private_numbers().d))
        for form in (
            serialization.PrivateFormat.PKCS8,
            serialization.PrivateFormat.TraditionalOpenSSL,
        ):
            pem = key.private_bytes(
                serialization.Encoding.PEM, form, serialization.NoEncryption()
            ).decode()
            texts += [line for line in pem.splitlines() if len(line) == 64]
    return texts


class CertificateKeys(ProviderConformance):
    """For certificate providers the private key is the secret: look for it too."""

    def extra_secret_values(self, lab: DemoLab, options: Mapping[str, Any]) -> Iterable[str]:
        texts = private_key_texts(lab.workdir, (None, os.environ.get("ENTRA_AUTH_DEMO_PFX")))
        assert texts, f"found no private key under {lab.workdir} to look for"
        return texts


class TestClientSecretConformance(ProviderConformance):
    provider_name = "client-secret"


class TestManagedIdentityConformance(ProviderConformance):
    provider_name = "managed-identity"


class TestCertThumbprintConformance(CertificateKeys):
    provider_name = "cert-thumbprint"


class TestCertNameConformance(CertificateKeys):
    provider_name = "cert-name"


class TestCertObjectConformance(CertificateKeys):
    provider_name = "cert-object"


class TestWorkloadIdentityConformance(ProviderConformance):
    provider_name = "workload-identity"

    def extra_secret_values(self, lab: DemoLab, options: Mapping[str, Any]) -> Iterable[str]:
        # The federated token is a credential for as long as it is valid: never shown or logged.
        token = Path(options["federated_token_file"]).read_text().strip()
        return (token, token.rsplit(".", 1)[1])
