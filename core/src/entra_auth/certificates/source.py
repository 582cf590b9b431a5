"""Turning a ``CertificateBundle`` into a token source: the last step every certificate
provider shares, so they differ only in how they find the certificate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import AuthenticationError
from ..msal_confidential import ConfidentialClientSource
from .assertions import client_credential, signing_algorithm

if TYPE_CHECKING:
    from ..providers import ProviderSettings
    from ..tokens import TokenResult
    from .bundle import CertificateBundle

UNREGISTERED_CERTIFICATE = 700027


class CertificateClientSource(ConfidentialClientSource):
    """A confidential client that signs with a certificate.

    When Entra answers AADSTS700027 it names the key by the thumbprint in the assertion
    (SHA-256 with PS256), while the portal lists SHA-1 thumbprints; the error then also names
    the certificate as the portal shows it, so the admin knows which one to upload. A
    CA-issued certificate sent without its chain gets the same answer from an app that trusts
    subject name + issuer, so then the error also says to send the chain."""

    def __init__(
        self,
        settings: ProviderSettings,
        bundle: CertificateBundle,
        *,
        send_chain: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(settings, **kwargs)
        self._described = f"{bundle.subject}, thumbprint {bundle.thumbprint}"
        if bundle.chain and not send_chain:
            self._described += (
                "; if the app trusts it by subject name + issuer, add --send-certificate-chain"
            )

    def acquire(
        self,
        scopes: Sequence[str],
        *,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
    ) -> TokenResult:
        try:
            return super().acquire(
                scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae
            )
        except AuthenticationError as exc:
            if exc.aadsts_code != UNREGISTERED_CERTIFICATE:
                raise
            raise AuthenticationError(
                f"{exc} [certificate used: {self._described}]",
                error=exc.error,
                error_codes=exc.error_codes,
                correlation_id=exc.correlation_id,
                status=exc.status,
                hint=exc.hint,
            ) from None


def check_dates(bundle: CertificateBundle) -> None:
    from datetime import UTC, datetime

    from ..errors import CertificateError

    now = datetime.now(UTC)
    shown = f"{bundle.subject} [{bundle.thumbprint}] from {bundle.source}"
    if bundle.not_after < now:
        raise CertificateError(
            f"the certificate {shown} expired on {bundle.not_after:%Y-%m-%d %H:%M} UTC; renew "
            "it and upload the new certificate to the app registration"
        )
    if bundle.not_before > now:
        raise CertificateError(
            f"the certificate {shown} is not valid until {bundle.not_before:%Y-%m-%d %H:%M} UTC; "
            "check this machine's clock, or wait"
        )


def certificate_token_source(
    settings: ProviderSettings, bundle: CertificateBundle
) -> ConfidentialClientSource:
    """A confidential-client token source signing with ``bundle``, honouring the shared
    ``signing_algorithm`` and ``send_certificate_chain`` options, with the certificate's
    thumbprint and subject in the context. A certificate outside its validity dates is refused
    here, with its dates, rather than sent to Entra."""
    check_dates(bundle)
    algorithm = signing_algorithm(settings.get("signing_algorithm", "PS256"))
    send_chain = bool(settings.get("send_certificate_chain", False))
    return CertificateClientSource(
        settings,
        bundle,
        send_chain=send_chain,
        client_id=settings.require("client_id"),
        tenant_id=settings.require("tenant_id"),
        client_credential=lambda: client_credential(
            bundle, algorithm=algorithm, send_chain=send_chain
        ),
        context=bundle.context(),
    )
