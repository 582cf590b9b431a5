"""entra-auth provider ``cert-name``: ``Connect-Entra -CertificateName`` on any OS.

Among the certificates in the stores whose subject matches, the newest valid one by NotBefore
wins, as in Graph PowerShell, so renewing a certificate is "add the new one to the store".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from entra_auth import (
    CLIENT_ID,
    SEND_CERTIFICATE_CHAIN,
    SIGNING_ALGORITHM,
    TENANT_ID,
    Option,
    Provider,
    ProviderSettings,
    TokenSource,
    hookimpl,
    parse_subject,
)

if TYPE_CHECKING:
    from entra_auth import DemoLab, DemoStep

__all__ = ["CertificateNameProvider"]


def _checked(value: Any) -> str:
    """Checked once when the sign-in is prepared; saved as the user wrote it."""
    return parse_subject(value).text


class CertificateNameProvider(Provider):
    name = "cert-name"
    summary = "The newest valid certificate of a subject in the stores (-CertificateName)."
    auth_type = "AppOnly"
    uses_certificate_stores = True
    options = (
        CLIENT_ID,
        TENANT_ID,
        Option(
            "certificate_name",
            "Certificate by subject: CN=name, a full DN (CN=name, O=org), or just name.",
            required=True,
            selects=True,
            metavar="SUBJECT",
            check=_checked,
        ),
        SEND_CERTIFICATE_CHAIN,
        SIGNING_ALGORITHM,
    )

    def create(self, settings: ProviderSettings) -> TokenSource:
        # The certificate machinery loads when a credential is built, not with the plugin.
        from entra_auth import certificate_token_source, find_certificate

        wanted = parse_subject(settings.require("certificate_name"))
        bundle = find_certificate(settings.certificate_stores(), subject=wanted)
        return certificate_token_source(settings, bundle)

    def demo_steps(self) -> Sequence[DemoStep]:
        from entra_auth import DemoStep  # the demo's types load only for the demo

        return (
            DemoStep("the newest valid of three certificates named CN=nightly-export-demo", _demo),
        )


def _demo(lab: DemoLab) -> dict[str, str]:
    now = datetime.now(UTC)
    folder = lab.private_folder("certs")
    lab.set_env("ENTRA_AUTH_CERT_PATH", str(folder))
    certs = [
        lab.new_certificate(
            "CN=nightly-export-demo",
            not_before=now - timedelta(days=start),
            not_after=now + timedelta(days=end),
        )
        for start, end in ((700, -300), (200, 165), (10, 355))  # expired, older, newest
    ]
    for name, cert in zip(("expired", "older", "newest"), certs, strict=True):
        cert.write_pem(folder / f"nightly-{name}.pem")
    app = lab.register_app(certificates=[c.certificate for c in certs])
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "certificate_name": "CN=nightly-export-demo",
    }


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(CertificateNameProvider())
