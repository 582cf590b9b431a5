"""Certificate machinery shared by every certificate provider, core's and third parties'.

- Find: :func:`find_certificate` over the registered :class:`CertificateStore` objects, by
  :func:`parse_thumbprint` or :func:`parse_subject`.
- Load: :func:`load_certificate_file` (PEM, PEM + ``.key``, PKCS#12), :func:`bundle_from_object`
  (cryptography objects); each file parsed once per process.
- Sign: :func:`certificate_token_source` (or :func:`client_credential` for msal directly).

Importing this package does not import cryptography; the functions do, when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Every CLI process imports ``builtin_stores`` from here when it builds the plugin host, so the
# public names load on first use rather than with the package (about 20 ms saved per command).
_LAZY = {
    "CertificateAssertion": "assertions",
    "client_credential": "assertions",
    "signing_algorithm": "assertions",
    "CertificateBundle": "bundle",
    "clear_cache": "files",
    "load_certificate_file": "files",
    "read_certificate_file": "files",
    "bundle_from_object": "objects",
    "from_parts": "objects",
    "CERTIFICATE_PASSWORD": "options",
    "SEND_CERTIFICATE_CHAIN": "options",
    "SIGNING_ALGORITHM": "options",
    "find_certificate": "selection",
    "certificate_token_source": "source",
    "CertificateStore": "stores",
    "DotNetStore": "stores",
    "FolderStore": "stores",
    "StoredCertificate": "stores",
    "parse_subject": "subjects",
    "Thumbprint": "thumbprints",
    "fingerprint": "thumbprints",
    "parse_thumbprint": "thumbprints",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


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
