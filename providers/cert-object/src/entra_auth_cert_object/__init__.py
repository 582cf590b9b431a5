"""entra-auth provider ``cert-object``: ``Connect-Entra -Certificate $Cert``.

From the command line the certificate is a file (``--certificate PATH``: PEM with the key in it
or in ``<name>.key`` beside it, or ``.pfx``/``.p12`` with ``--certificate-password REF``). From
Python, ``certificate=`` also takes cryptography objects, the equivalent of passing ``$Cert``::

    entra_auth.connect("cert-object", client_id=..., tenant_id=...,
                       certificate=pkcs12.load_pkcs12(data, password))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from entra_auth import (
    CERTIFICATE_PASSWORD,
    CLIENT_ID,
    SEND_CERTIFICATE_CHAIN,
    SIGNING_ALGORITHM,
    TENANT_ID,
    Option,
    Provider,
    ProviderSettings,
    TokenSource,
    UsageError,
    hookimpl,
)

if TYPE_CHECKING:
    from entra_auth import DemoLab, DemoStep

__all__ = ["CertificateObjectProvider"]


class CertificateObjectProvider(Provider):
    name = "cert-object"
    summary = "A certificate file (PEM or PKCS#12) or certificate objects (-Certificate)."
    auth_type = "AppOnly"
    environment_rank = 20  # EnvironmentCredential: after a secret
    options = (
        CLIENT_ID,
        TENANT_ID,
        Option(
            "certificate_path",
            "Certificate file: .pem/.crt with the private key in it or in <name>.key beside it, "
            "or .pfx/.p12.",
            type="path",
            flag="--certificate",
            selects=True,
            env="AZURE_CLIENT_CERTIFICATE_PATH",
        ),
        CERTIFICATE_PASSWORD,
        Option(
            "certificate",
            "Python API: cryptography (private_key, certificate), a loaded PKCS#12, or a path.",
            type="object",
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
        # The certificate machinery loads when a credential is built, not with the plugin.
        from entra_auth import bundle_from_object, certificate_token_source, load_certificate_file

        value = settings.get("certificate_path") or settings.get("certificate")
        if isinstance(value, str | os.PathLike):
            bundle = load_certificate_file(value, password=settings.secret("certificate_password"))
        else:
            bundle = bundle_from_object(value)
        return certificate_token_source(settings, bundle)

    def demo_steps(self) -> Sequence[DemoStep]:
        from entra_auth import DemoStep  # the demo's types load only for the demo

        return (
            DemoStep(
                "a .pfx file with its password by reference (env:ENTRA_AUTH_DEMO_PFX)", _demo_pfx
            ),
            DemoStep(
                "subject name + issuer: a CA-issued certificate sent with its chain", _demo_sni
            ),
            DemoStep(
                "a certificate not uploaded to the app, refused by Entra",
                _demo_unregistered,
                refusal=True,
            ),
        )


def _demo_pfx(lab: DemoLab) -> dict[str, str]:
    cert = lab.new_certificate("CN=contoso-pfx-demo")
    password = lab.new_secret()
    path = cert.write_pfx(lab.workdir / "contoso-pfx-demo.pfx", password)
    lab.set_env("ENTRA_AUTH_DEMO_PFX", password)
    app = lab.register_app(certificates=[cert.certificate])
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "certificate_path": str(path),
        "certificate_password": "env:ENTRA_AUTH_DEMO_PFX",
    }


def _demo_sni(lab: DemoLab) -> dict[str, Any]:
    root = lab.new_ca("CN=Contoso Demo Root CA,O=Contoso")
    issuing = lab.new_ca("CN=Contoso Demo Issuing CA,O=Contoso", issuer=root)
    leaf = lab.new_certificate("CN=sni-demo.contoso.com", issuer=issuing)
    path = leaf.write_pem(lab.workdir / "sni-demo.pem", with_chain=True)
    app = lab.register_app(  # no certificate uploaded: trusted by subject name + issuer
        trusted_issuers=[root.certificate], trusted_subjects=["CN=sni-demo.contoso.com"]
    )
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "certificate_path": str(path),
        "send_certificate_chain": True,
    }


def _demo_unregistered(lab: DemoLab) -> dict[str, str]:
    uploaded = lab.new_certificate("CN=uploaded-demo")
    used = lab.new_certificate("CN=not-uploaded-demo")
    app = lab.register_app(
        display_name="Contoso Refused (demo)", certificates=[uploaded.certificate]
    )
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "certificate_path": str(used.write_pem(lab.workdir / "not-uploaded-demo.pem")),
    }


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(CertificateObjectProvider())
