"""entra-auth provider ``cert-thumbprint``: ``Connect-Entra -CertificateThumbprint`` on any OS.

The certificate is looked up in the registered certificate stores (``ENTRA_AUTH_CERT_PATH``,
the entra-auth store, the .NET CurrentUser\\My store, then plugins' stores) when the credential
is created, so a wrong or expired thumbprint fails before any network call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from entra_auth import (
    CLIENT_ID,
    SEND_CERTIFICATE_CHAIN,
    SIGNING_ALGORITHM,
    TENANT_ID,
    THUMBPRINT_FORMS,
    Option,
    Provider,
    ProviderSettings,
    TokenSource,
    hookimpl,
    parse_thumbprint,
)

if TYPE_CHECKING:
    from entra_auth import DemoLab, DemoStep

__all__ = ["CertificateThumbprintProvider"]


def _normalised(value: Any) -> str:
    """Checked once when the sign-in is prepared; saved as upper-case hex."""
    return parse_thumbprint(value).hex


class CertificateThumbprintProvider(Provider):
    name = "cert-thumbprint"
    summary = "A certificate found by thumbprint in the stores (-CertificateThumbprint)."
    auth_type = "AppOnly"
    uses_certificate_stores = True
    options = (
        CLIENT_ID,
        TENANT_ID,
        Option(
            "certificate_thumbprint",
            f"Certificate by thumbprint: {THUMBPRINT_FORMS}.",
            required=True,
            selects=True,
            metavar="HEX",
            check=_normalised,
        ),
        SEND_CERTIFICATE_CHAIN,
        SIGNING_ALGORITHM,
    )

    def create(self, settings: ProviderSettings) -> TokenSource:
        # The certificate machinery loads when a credential is built, not with the plugin.
        from entra_auth import certificate_token_source, find_certificate

        wanted = parse_thumbprint(settings.require("certificate_thumbprint"))
        bundle = find_certificate(settings.certificate_stores(), thumbprint=wanted)
        return certificate_token_source(settings, bundle)

    def demo_steps(self) -> Sequence[DemoStep]:
        from entra_auth import DemoStep  # the demo's types load only for the demo

        return (DemoStep("a certificate found by thumbprint in the stores", _demo),)


def _demo(lab: DemoLab) -> dict[str, str]:
    made = lab.certificate
    if made is not None:  # the admin's path: 'entra-auth certificate new', upload, connect
        app = lab.register_app(certificates=[made.certificate])
        return {
            "client_id": app.client_id,
            "tenant_id": app.tenant_id,
            "certificate_thumbprint": made.thumbprint,
        }
    cert = lab.new_certificate("CN=contoso-automation-demo,O=Contoso")
    folder = lab.private_folder("certs")
    lab.set_env("ENTRA_AUTH_CERT_PATH", str(folder))
    cert.write_pfx(folder / f"{cert.thumbprint}.pfx")
    app = lab.register_app(certificates=[cert.certificate])
    spaced = " ".join(cert.thumbprint[i : i + 2] for i in range(0, 40, 2))
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "certificate_thumbprint": spaced,
    }


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(CertificateThumbprintProvider())
