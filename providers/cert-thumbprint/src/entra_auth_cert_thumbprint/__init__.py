"""entra-auth provider ``cert-thumbprint``: ``Connect-Entra -CertificateThumbprint`` on any OS.

The certificate is looked up in the registered certificate stores (``ENTRA_AUTH_CERT_PATH``,
the entra-auth store, the .NET CurrentUser\\My store, then plugins' stores) when the credential
is created, so a wrong or expired thumbprint fails before any network call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from entra_auth import Option, Provider, ProviderSettings, TokenSource, hookimpl
from entra_auth.certificates import (
    SEND_CERTIFICATE_CHAIN,
    SIGNING_ALGORITHM,
    certificate_token_source,
    find_certificate,
    parse_thumbprint,
)
from entra_auth.certificates.thumbprints import ACCEPTED_FORMS
from entra_auth.providers import CLIENT_ID, TENANT_ID


class CertificateThumbprintProvider(Provider):
    name = "cert-thumbprint"
    summary = "A certificate found by thumbprint in the stores (-CertificateThumbprint)."
    auth_type = "AppOnly"
    options = (
        CLIENT_ID,
        TENANT_ID,
        Option("certificate_thumbprint", f"Thumbprint: {ACCEPTED_FORMS}.", required=True),
        SEND_CERTIFICATE_CHAIN,
        SIGNING_ALGORITHM,
    )

    def validate(self, options: Mapping[str, Any]) -> None:
        parse_thumbprint(options["certificate_thumbprint"])

    def create(self, settings: ProviderSettings) -> TokenSource:
        wanted = parse_thumbprint(settings.require("certificate_thumbprint"))
        bundle = find_certificate(settings.certificate_stores(), thumbprint=wanted)
        return certificate_token_source(settings, bundle)


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(CertificateThumbprintProvider())
