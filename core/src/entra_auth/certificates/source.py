"""Turning a ``CertificateBundle`` into a token source: the last step every certificate
provider shares, so they differ only in how they find the certificate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .assertions import client_credential, signing_algorithm

if TYPE_CHECKING:
    from ..msal_confidential import ConfidentialClientSource
    from ..providers import ProviderSettings
    from .bundle import CertificateBundle


def certificate_token_source(
    settings: ProviderSettings, bundle: CertificateBundle
) -> ConfidentialClientSource:
    """A confidential-client token source signing with ``bundle``, honouring the shared
    ``signing_algorithm`` and ``send_certificate_chain`` options, with the certificate's
    thumbprint and subject in the context."""
    from ..msal_confidential import ConfidentialClientSource

    algorithm = signing_algorithm(settings.get("signing_algorithm", "PS256"))
    send_chain = bool(settings.get("send_certificate_chain", False))
    return ConfidentialClientSource(
        settings,
        client_id=settings.require("client_id"),
        tenant_id=settings.require("tenant_id"),
        client_credential=lambda: client_credential(
            bundle, algorithm=algorithm, send_chain=send_chain
        ),
        context=bundle.context(),
    )
