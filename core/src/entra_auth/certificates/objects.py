"""Certificates handed over as Python objects: the Python counterpart of ``-Certificate $Cert``.

Accepted shapes are the ones ``cryptography`` hands out, so callers pass what they already have:
a ``CertificateBundle``; ``pkcs12.load_pkcs12(...)``'s result; the ``(key, cert, extra_certs)``
tuple of ``pkcs12.load_key_and_certificates``; or a ``(key, cert)`` / ``(cert, key)`` pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import CertificateError
from .bundle import CertificateBundle
from .keys import require_rsa

ACCEPTED = (
    "a CertificateBundle, a loaded PKCS#12 (pkcs12.load_pkcs12 or load_key_and_certificates), "
    "or a (private_key, certificate) pair of cryptography objects"
)


def bundle_from_object(value: Any, *, source: str = "in-memory certificate") -> CertificateBundle:
    """Turn any accepted shape into a checked ``CertificateBundle`` (RSA, key matches)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    if isinstance(value, CertificateBundle):
        return from_parts(value.private_key, value.certificate, value.chain, source=value.source)
    if isinstance(value, pkcs12.PKCS12KeyAndCertificates):
        if value.cert is None:
            raise CertificateError(f"the PKCS#12 object given as {source} holds no certificate")
        extra = tuple(c.certificate for c in value.additional_certs)
        return from_parts(value.key, value.cert.certificate, extra, source=source)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes) and value:
        certs = [v for v in value if isinstance(v, x509.Certificate)]
        keys = [
            v for v in value if v is not None and not isinstance(v, x509.Certificate | list | tuple)
        ]
        chain: tuple[x509.Certificate, ...] = next(
            (tuple(v) for v in value if isinstance(v, list | tuple)), ()
        )
        if len(certs) == 1 and len(keys) == 1:
            return from_parts(keys[0], certs[0], chain, source=source)
    raise CertificateError(f"the certificate option takes {ACCEPTED}; got {type(value).__name__}")


def from_parts(
    private_key: Any,
    certificate: Any,
    chain: Sequence[Any] = (),
    *,
    source: str = "in-memory certificate",
) -> CertificateBundle:
    """A bundle from a key and certificate object, refusing non-RSA keys and mismatches."""
    from cryptography import x509

    if private_key is None:
        raise CertificateError(f"{source} has no private key; a certificate sign-in needs one")
    if not isinstance(certificate, x509.Certificate):
        raise CertificateError(f"{source}: expected a cryptography x509.Certificate")
    key = require_rsa(private_key, source)
    if certificate.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
        raise CertificateError(f"{source}: the private key does not belong to the certificate")
    return CertificateBundle(certificate, key, tuple(chain), source)
