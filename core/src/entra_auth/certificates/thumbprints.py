"""Thumbprints as admins type them and as Entra compares them.

People paste thumbprints from the Azure portal (upper-case hex), from ``Get-ChildItem
Cert:\\...`` (upper-case hex), from ``openssl x509 -fingerprint`` (colon-separated) or from the
Windows certificate dialog (space-separated, sometimes with an invisible left-to-right mark), so
all of those forms are accepted; anything else is refused before a single file is read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from ..errors import CertificateError
from ..records import Record

if TYPE_CHECKING:
    from cryptography import x509

Algorithm = Literal["sha1", "sha256"]
ACCEPTED_FORMS = (
    "40 hex digits (SHA-1, as the Azure portal and PowerShell show it) or 64 hex digits "
    "(SHA-256); spaces, colons and case are ignored"
)
# Separators people paste, plus the invisible marks the Windows certificate dialog copies.
_IGNORED = re.compile(r"[\s:\u200e\u200f\ufeff-]")
_HEX = re.compile(r"^[0-9A-F]+$")
_LENGTHS: dict[int, Algorithm] = {40: "sha1", 64: "sha256"}


class Thumbprint(Record):
    """A normalized thumbprint: upper-case hex and the digest it was made with."""

    hex: str
    algorithm: Algorithm

    def __str__(self) -> str:
        return self.hex

    def matches(self, certificate: x509.Certificate) -> bool:
        return fingerprint(certificate, self.algorithm) == self.hex


def parse_thumbprint(text: str) -> Thumbprint:
    """Normalize ``text`` or raise ``CertificateError`` naming the accepted forms.

    The message repeats the input only by length: a mistyped thumbprint is not secret, but a
    pasted secret by mistake might be."""
    cleaned = _IGNORED.sub("", str(text)).upper()
    algorithm = _LENGTHS.get(len(cleaned))
    if algorithm is None or not _HEX.match(cleaned):
        what = f"{len(cleaned)} characters" if _HEX.match(cleaned or "X") else "non-hex characters"
        raise CertificateError(
            f"--certificate-thumbprint is not a thumbprint ({what}); give {ACCEPTED_FORMS}"
        )
    return Thumbprint(cleaned, algorithm)


def fingerprint(certificate: x509.Certificate, algorithm: Algorithm = "sha1") -> str:
    """Upper-case hex digest of the DER certificate, as PowerShell's ``Thumbprint`` shows."""
    from cryptography.hazmat.primitives import hashes

    digest = hashes.SHA1() if algorithm == "sha1" else hashes.SHA256()
    return certificate.fingerprint(digest).hex().upper()
