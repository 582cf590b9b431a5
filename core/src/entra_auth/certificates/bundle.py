"""``CertificateBundle``: a certificate, its RSA private key and the chain above it.

This is what every certificate provider hands to the signing code, whether it came from a PEM
file, a PKCS#12 file, a store, a vault or Python objects, so third-party providers only have to
produce one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..records import Record, field
from .thumbprints import fingerprint

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


class CertificateBundle(Record, eq=False):
    """A usable client certificate. The repr names the certificate, never the key."""

    certificate: x509.Certificate
    private_key: RSAPrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...] = ()
    source: str = "in-memory certificate"
    """Where it came from (a path, ``.NET CurrentUser\\My``…), shown in messages."""
    store: str | None = None
    """The certificate store that found it, when it came from a lookup (shown in the
    context as ``CertificateStore``)."""

    @property
    def thumbprint(self) -> str:
        """Upper-case SHA-1 hex, the ``CertificateThumbprint`` PowerShell shows."""
        return fingerprint(self.certificate, "sha1")

    @property
    def thumbprint_sha256(self) -> str:
        return fingerprint(self.certificate, "sha256")

    @property
    def subject(self) -> str:
        """The subject as PowerShell shows it (``CN=app, O=Contoso``)."""
        from .subjects import display_name

        return display_name(self.certificate.subject)

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def context(self) -> Mapping[str, Any]:
        """The fields ``Get-EntraContext`` shows for a certificate sign-in."""
        fields = {"CertificateThumbprint": self.thumbprint, "CertificateName": self.subject}
        if self.store:
            fields["CertificateStore"] = self.store
        return fields

    def describe(self) -> str:
        return f"{self.subject} (thumbprint {self.thumbprint}) from {self.source}"
