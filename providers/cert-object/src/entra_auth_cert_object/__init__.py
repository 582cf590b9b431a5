"""entra-auth provider ``cert-object``: ``Connect-Entra -Certificate $Cert``.

From the command line the certificate is a file (``--certificate PATH``: PEM with the key in it
or in ``<name>.key`` beside it, or ``.pfx``/``.p12`` with ``--certificate-password REF``). From
Python, ``certificate=`` also takes cryptography objects, the equivalent of passing ``$Cert``::

    entra_auth.connect("cert-object", client_id=..., tenant_id=...,
                       certificate=pkcs12.load_pkcs12(data, password))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from entra_auth import Option, Provider, ProviderSettings, TokenSource, UsageError, hookimpl
from entra_auth.certificates import (
    CERTIFICATE_PASSWORD,
    SEND_CERTIFICATE_CHAIN,
    SIGNING_ALGORITHM,
    bundle_from_object,
    certificate_token_source,
    load_certificate_file,
)
from entra_auth.providers import CLIENT_ID, TENANT_ID


class CertificateObjectProvider(Provider):
    name = "cert-object"
    summary = "A certificate file (PEM or PKCS#12) or certificate objects (-Certificate)."
    auth_type = "AppOnly"
    options = (
        CLIENT_ID,
        TENANT_ID,
        Option(
            "certificate_path",
            "Certificate file: .pem/.crt with the private key in it or in <name>.key beside it, "
            "or .pfx/.p12.",
        ),
        CERTIFICATE_PASSWORD,
        Option(
            "certificate",
            "Python API: cryptography (private_key, certificate), a loaded PKCS#12, or a path.",
        ),
        SEND_CERTIFICATE_CHAIN,
        SIGNING_ALGORITHM,
    )

    def validate(self, options: Mapping[str, Any]) -> None:
        given = [name for name in ("certificate_path", "certificate") if options.get(name)]
        if len(given) != 1:
            raise UsageError(
                "provider 'cert-object' needs exactly one of --certificate PATH (a .pem, .pfx or "
                "p12 file) or, from Python, certificate=<cryptography objects>"
            )

    def create(self, settings: ProviderSettings) -> TokenSource:
        value = settings.get("certificate_path") or settings.get("certificate")
        if isinstance(value, str | os.PathLike):
            bundle = load_certificate_file(value, password=settings.secret("certificate_password"))
        else:
            bundle = bundle_from_object(value)
        return certificate_token_source(settings, bundle)


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(CertificateObjectProvider())
