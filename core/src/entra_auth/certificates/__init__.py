"""Certificate machinery shared by every certificate provider, core's and third parties'.

- Find: :func:`find_certificate` over the registered :class:`CertificateStore` objects, by
  :func:`parse_thumbprint` or :func:`parse_subject`.
- Load: :func:`load_certificate_file` (PEM, PEM + ``.key``, PKCS#12), :func:`bundle_from_object`
  (cryptography objects); each file parsed once per process.
- Sign: :func:`certificate_token_source` (or :func:`client_credential` for msal directly).

Importing this package does not import cryptography; the functions do, when called.
"""

from __future__ import annotations

from .assertions import CertificateAssertion, client_credential, signing_algorithm
from .bundle import CertificateBundle
from .files import clear_cache, load_certificate_file, read_certificate_file
from .objects import bundle_from_object, from_parts
from .options import CERTIFICATE_PASSWORD, SEND_CERTIFICATE_CHAIN, SIGNING_ALGORITHM
from .selection import find_certificate
from .source import certificate_token_source
from .stores import CertificateStore, DotNetStore, FolderStore, StoredCertificate
from .subjects import parse_subject
from .thumbprints import Thumbprint, fingerprint, parse_thumbprint

__all__ = [
    "CERTIFICATE_PASSWORD",
    "SEND_CERTIFICATE_CHAIN",
    "SIGNING_ALGORITHM",
    "CertificateAssertion",
    "CertificateBundle",
    "CertificateStore",
    "DotNetStore",
    "FolderStore",
    "StoredCertificate",
    "Thumbprint",
    "bundle_from_object",
    "certificate_token_source",
    "clear_cache",
    "client_credential",
    "find_certificate",
    "fingerprint",
    "from_parts",
    "load_certificate_file",
    "parse_subject",
    "parse_thumbprint",
    "read_certificate_file",
    "signing_algorithm",
]
