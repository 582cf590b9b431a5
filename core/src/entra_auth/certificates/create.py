"""Making and exporting certificates, as ``New-SelfSignedCertificate`` and ``Export-Certificate``
do for an app registration: a self-signed RSA certificate Entra accepts (SHA-256 signature,
key usage digitalSignature, client-authentication EKU), and its public part as DER ``.cer``
(what the portal's "Upload certificate" takes) or PEM. Private keys are never exported here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from ..errors import CertificateError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

KEY_SIZES = (2048, 3072, 4096)
MAX_MONTHS = 120
PublicFormat = Literal["cer", "pem"]
_ATTRIBUTES = {"CN", "O", "OU", "L", "ST", "C", "DC", "E", "EMAILADDRESS"}


def subject_name(text: str) -> x509.Name:
    """``CN=contoso-automation`` or ``CN=app, O=Contoso`` (as PowerShell writes subjects, most
    specific first) as an X.509 name; ``CertificateError`` when it is not one."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    oids = {
        "CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "L": NameOID.LOCALITY_NAME,
        "ST": NameOID.STATE_OR_PROVINCE_NAME, "C": NameOID.COUNTRY_NAME,
        "DC": NameOID.DOMAIN_COMPONENT, "E": NameOID.EMAIL_ADDRESS,
        "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    }  # fmt: skip
    raw = str(text).strip()
    parts = [p.strip() for p in re.split(r"(?<!\\),", raw) if p.strip()]
    attributes = []
    for part in parts:
        attr, sep, value = part.partition("=")
        attr, value = attr.strip().upper(), value.strip().replace("\\,", ",")
        if not sep or attr not in _ATTRIBUTES or not value:
            raise CertificateError(
                f"the subject {raw!r} is not a distinguished name; write CN=name or "
                f"CN=name, O=organization (attributes: {', '.join(sorted(_ATTRIBUTES - {'E'}))})"
            )
        if attr == "C" and len(value) != 2:
            raise CertificateError(f"C={value} must be a two-letter country code")
        attributes.append(x509.NameAttribute(oids[attr], value))
    if not any(a.oid == NameOID.COMMON_NAME for a in attributes):
        raise CertificateError(f"the subject {raw!r} needs a common name: CN=name")
    # X.509 stores the least specific attribute first; PowerShell shows the most specific first.
    return x509.Name(list(reversed(attributes)))


def file_stem(name: x509.Name) -> str:
    """The common name as a file name: ``CN=Contoso Automation`` -> ``Contoso-Automation``."""
    from cryptography.x509.oid import NameOID

    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    text = str(common[0].value) if common else "certificate"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return stem or "certificate"


def new_self_signed(
    subject: str, *, months: int = 12, key_size: int = 2048, now: datetime | None = None
) -> tuple[x509.Certificate, RSAPrivateKey]:
    """A self-signed certificate and its new RSA key, valid from now for ``months`` months."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID

    if key_size not in KEY_SIZES:
        raise CertificateError(f"the key size must be one of {', '.join(map(str, KEY_SIZES))}")
    if not 1 <= months <= MAX_MONTHS:
        raise CertificateError(f"--months must be between 1 and {MAX_MONTHS}")
    name = subject_name(subject)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    start = (now or datetime.now(UTC)).replace(microsecond=0) - timedelta(minutes=5)
    days = round(months * 365.25 / 12)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def public_bytes(certificate: x509.Certificate, form: PublicFormat = "cer") -> bytes:
    """The certificate alone (never a key): DER for ``cer``, PEM for ``pem``."""
    from cryptography.hazmat.primitives import serialization

    encoding = serialization.Encoding.DER if form == "cer" else serialization.Encoding.PEM
    return certificate.public_bytes(encoding)
