"""Make keys and X.509 certificates with ``cryptography``: the emulator's CA and TLS certificate,
and app certificates for tests.

Tests across the workspace use these helpers to make the certificates an app signs in with
(registered with the emulator or issued by a trusted CA for subject name + issuer), so they are
public: :func:`make_ca`, :func:`make_leaf_cert`, :class:`CertifiedKey` and :func:`thumbprint`.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CertifiedKey",
    "PrivateKey",
    "load_certificates",
    "make_ca",
    "make_key",
    "make_leaf_cert",
    "thumbprint",
    "write_private_file",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KeyType = Literal["rsa", "ec"]


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only, atomically.

    Keys, PFX files and the ready file hold secrets; creating them 0600 from the start (rather than
    chmod after) leaves no window where another user can read them, and the rename means a reader
    never sees half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp: a fresh random name opened O_EXCL, so a symlink planted at a predictable temporary
    # name (the ready file often lives in /tmp) cannot redirect the write.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def make_key(key_type: KeyType = "rsa", *, bits: int = 2048) -> PrivateKey:
    """A fresh private key; RSA is what Entra accepts for client assertions, EC is for tests of
    code that must refuse it."""
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"key_type must be 'rsa' or 'ec', not {key_type!r}")


def _name(subject: str | x509.Name) -> x509.Name:
    if isinstance(subject, x509.Name):
        return subject
    if "=" not in subject:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    return x509.Name.from_rfc4514_string(subject)


def thumbprint(cert: x509.Certificate, algorithm: Literal["sha1", "sha256"] = "sha1") -> str:
    """Upper-case hex thumbprint, as the Azure portal and PowerShell show it."""
    digest = hashes.SHA1() if algorithm == "sha1" else hashes.SHA256()
    return cert.fingerprint(digest).hex().upper()


@dataclass(frozen=True)
class CertifiedKey:
    """A certificate with its private key (and the chain above it, leaf's issuer first)."""

    certificate: x509.Certificate
    private_key: PrivateKey
    chain: tuple[x509.Certificate, ...] = field(default=())

    @property
    def thumbprint(self) -> str:
        """SHA-1 hex thumbprint (what ``Connect-Entra -CertificateThumbprint`` takes)."""
        return thumbprint(self.certificate, "sha1")

    @property
    def thumbprint_sha256(self) -> str:
        return thumbprint(self.certificate, "sha256")

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def cert_pem(self, *, with_chain: bool = False) -> bytes:
        certs = [self.certificate, *(self.chain if with_chain else ())]
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)

    def key_pem(self, password: bytes | str | None = None) -> bytes:
        """PKCS#8 PEM, encrypted when a password is given."""
        encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
        if password:
            pw = password.encode() if isinstance(password, str) else password
            encryption = serialization.BestAvailableEncryption(pw)
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def pem(self, *, with_chain: bool = False) -> bytes:
        """Key and certificate in one PEM, the format azure-identity's CertificateCredential
        reads."""
        return self.key_pem() + self.cert_pem(with_chain=with_chain)

    def pfx(
        self,
        password: bytes | str | None = None,
        *,
        with_chain: bool = False,
        friendly_name: str | None = None,
    ) -> bytes:
        """PKCS#12 bytes, encrypted when a password is given."""
        encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
        if password:
            pw = password.encode() if isinstance(password, str) else password
            encryption = serialization.BestAvailableEncryption(pw)
        name = (friendly_name or self.subject).encode()
        cas = list(self.chain) if with_chain else None
        return pkcs12.serialize_key_and_certificates(
            name, self.private_key, self.certificate, cas, encryption
        )

    def write_pem(
        self, path: str | os.PathLike[str], *, include_key: bool = True, with_chain: bool = False
    ) -> Path:
        """Write a PEM file (0600 when it holds the key) and return its path."""
        path = Path(path)
        data = (
            self.pem(with_chain=with_chain) if include_key else self.cert_pem(with_chain=with_chain)
        )
        write_private_file(path, data)
        if not include_key:
            os.chmod(path, 0o644)
        return path

    def write_key(self, path: str | os.PathLike[str], password: bytes | str | None = None) -> Path:
        path = Path(path)
        write_private_file(path, self.key_pem(password))
        return path

    def write_pfx(
        self,
        path: str | os.PathLike[str],
        password: bytes | str | None = None,
        *,
        with_chain: bool = False,
    ) -> Path:
        path = Path(path)
        write_private_file(path, self.pfx(password, with_chain=with_chain))
        return path


def _validity(
    not_before: datetime | None, not_after: datetime | None, default_days: int
) -> tuple[datetime, datetime]:
    start = not_before or (datetime.now(UTC) - timedelta(minutes=5))
    end = not_after or (start + timedelta(days=default_days))
    return start, end


def _certificate_builder(
    name: x509.Name,
    key: PrivateKey,
    issuer: CertifiedKey | None,
    validity: tuple[datetime, datetime],
    *,
    ca: bool,
    path_length: int | None = None,
) -> x509.CertificateBuilder:
    """What every certificate here shares: names, key, serial, validity, basic constraints, a
    critical keyUsage and both key identifiers (strict verifiers such as Python 3.13's
    VERIFY_X509_STRICT and OpenSSL demand them)."""
    signer = issuer.private_key if issuer else key
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.certificate.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=not ca and isinstance(key, rsa.RSAPrivateKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    )


def _issued(
    builder: x509.CertificateBuilder, key: PrivateKey, issuer: CertifiedKey | None
) -> CertifiedKey:
    cert = builder.sign(issuer.private_key if issuer else key, hashes.SHA256())
    chain = (issuer.certificate, *issuer.chain) if issuer else ()
    return CertifiedKey(cert, key, chain)


def make_ca(
    subject: str | x509.Name = "CN=entra-auth test CA",
    *,
    issuer: CertifiedKey | None = None,
    key_type: KeyType = "rsa",
    key: PrivateKey | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    path_length: int | None = None,
) -> CertifiedKey:
    """A CA certificate: self-signed (a root) or, with ``issuer``, an intermediate."""
    key = key or make_key(key_type)
    validity = _validity(not_before, not_after, 3650)
    builder = _certificate_builder(
        _name(subject), key, issuer, validity, ca=True, path_length=path_length
    )
    return _issued(builder, key, issuer)


def make_leaf_cert(
    subject: str | x509.Name = "CN=entra-auth test app",
    *,
    issuer: CertifiedKey | None = None,
    key_type: KeyType = "rsa",
    key: PrivateKey | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    server: bool = False,
) -> CertifiedKey:
    """An end-entity certificate: self-signed (how most app registrations use certificates) or
    issued by ``issuer`` (subject name + issuer sign-in, TLS).

    ``not_before``/``not_after`` make expired or not-yet-valid certificates for tests;
    ``server=True`` adds the serverAuth usage TLS clients check.
    """
    key = key or make_key(key_type)
    validity = _validity(not_before, not_after, 365)
    builder = _certificate_builder(_name(subject), key, issuer, validity, ca=False)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return _issued(builder, key, issuer)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in PEM data (a bundle) or a single DER certificate."""
    if b"-----BEGIN" in data:
        return list(x509.load_pem_x509_certificates(data))
    return [x509.load_der_x509_certificate(data)]


def load_pem_private_key(data: bytes, password: bytes | None = None) -> PrivateKey:
    key = serialization.load_pem_private_key(data, password)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("only RSA and EC private keys are supported")
    return key


def server_identity_names(extra_hosts: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """DNS names and IP addresses the emulator's TLS certificate covers."""
    dns = ["localhost"]
    ips = ["127.0.0.1", "::1"]
    for host in extra_hosts:
        if not host or host in ("0.0.0.0", "::"):
            continue
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if host not in dns:
                dns.append(host)
        else:
            if str(ip) not in ips:
                ips.append(str(ip))
    return dns, ips
