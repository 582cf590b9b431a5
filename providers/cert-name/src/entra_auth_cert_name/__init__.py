"""entra-auth provider ``cert-name``: ``Connect-Entra -CertificateName`` on any OS.

Among the certificates in the stores whose subject matches, the newest valid one by NotBefore
wins, as in Graph PowerShell, so renewing a certificate is "add the new one to the store".
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
    parse_subject,
)
from entra_auth.providers import CLIENT_ID, TENANT_ID


class CertificateNameProvider(Provider):
    name = "cert-name"
    summary = "The newest valid certificate of a subject in the stores (-CertificateName)."
    auth_type = "AppOnly"
    options = (
        CLIENT_ID,
        TENANT_ID,
        Option(
            "certificate_name",
            "Subject of the certificate: CN=name, a full DN (CN=name, O=org), or just name.",
            required=True,
        ),
        SEND_CERTIFICATE_CHAIN,
        SIGNING_ALGORITHM,
    )

    def validate(self, options: Mapping[str, Any]) -> None:
        parse_subject(options["certificate_name"])

    def create(self, settings: ProviderSettings) -> TokenSource:
        wanted = parse_subject(settings.require("certificate_name"))
        bundle = find_certificate(settings.certificate_stores(), subject=wanted)
        return certificate_token_source(settings, bundle)


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(CertificateNameProvider())
