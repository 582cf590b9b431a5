"""The state directory: the emulator's CA, its TLS certificate and its token-signing key.

Kept across restarts so a CA bundle that users (or their shell profile) point
``REQUESTS_CA_BUNDLE`` at stays valid, and tokens minted before a restart still verify.
Private keys are written 0600; a damaged or expiring file is replaced rather than trusted.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent first starts are unlikely there
    fcntl = None  # type: ignore[assignment]

from .pki import (
    CertifiedKey,
    load_pem_private_key,
    make_ca,
    make_leaf_cert,
    server_identity_names,
    write_private_file,
)

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
TLS_CERT = "tls.pem"
TLS_KEY = "tls-key.pem"
SIGNING_CERT = "token-signing.pem"
SIGNING_KEY = "token-signing-key.pem"
RENEW_BEFORE = timedelta(days=7)


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/entra-auth-emulator`` (``~/.local/state/entra-auth-emulator``)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "entra-auth-emulator"


@dataclass(frozen=True)
class StateMaterial:
    ca_bundle: Path
    tls_cert: Path
    tls_key: Path
    signing: CertifiedKey


def _load(cert_path: Path, key_path: Path) -> CertifiedKey | None:
    """A stored certificate and key, or None if missing, unreadable, mismatched or expiring."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = load_pem_private_key(key_path.read_bytes())
    except (OSError, ValueError):
        return None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(
        serialization.Encoding.PEM, public
    ) != key.public_key().public_bytes(serialization.Encoding.PEM, public):
        return None
    if cert.not_valid_after_utc - RENEW_BEFORE < datetime.now(UTC):
        return None
    return CertifiedKey(cert, key)


def _save(item: CertifiedKey, cert_path: Path, key_path: Path) -> None:
    write_private_file(key_path, item.key_pem())
    write_private_file(cert_path, item.cert_pem())
    os.chmod(cert_path, 0o644)


def _covers(cert: x509.Certificate, dns: list[str], ips: list[str]) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have_dns = set(san.get_values_for_type(x509.DNSName))
    have_ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return set(dns) <= have_dns and set(ips) <= have_ips


def ensure_state(state_dir: Path, host: str) -> StateMaterial:
    """Load the CA, TLS certificate and signing key from ``state_dir``, making what is missing.

    The TLS certificate covers 127.0.0.1, ::1, localhost and ``host``; it is re-issued (by the
    same CA) when ``host`` is not covered, so the CA bundle stays the same.
    """
    if state_dir.exists() and not state_dir.is_dir():
        # mkdir would say "File exists", which reads as if nothing were wrong.
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(state_dir))
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _locked(state_dir / ".lock"):
        return _ensure_state(state_dir, host)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise emulators starting at once on one state dir (they would race to make a CA)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _ensure_state(state_dir: Path, host: str) -> StateMaterial:
    ca = _load(state_dir / CA_CERT, state_dir / CA_KEY)
    new_ca = ca is None
    if ca is None:
        ca = make_ca("CN=entra-auth-emulator local CA,O=entra-auth", path_length=0)
        _save(ca, state_dir / CA_CERT, state_dir / CA_KEY)

    dns, ips = server_identity_names([host])
    tls = None if new_ca else _load(state_dir / TLS_CERT, state_dir / TLS_KEY)
    if tls is not None and (
        not _covers(tls.certificate, dns, ips) or tls.certificate.issuer != ca.certificate.subject
    ):
        tls = None
    if tls is None:
        tls = make_leaf_cert(
            "CN=entra-auth-emulator",
            issuer=ca,
            dns_names=dns,
            ip_addresses=ips,
            server=True,
            not_after=datetime.now(UTC) + timedelta(days=825),
        )
        _save(tls, state_dir / TLS_CERT, state_dir / TLS_KEY)

    signing = _load(state_dir / SIGNING_CERT, state_dir / SIGNING_KEY)
    if signing is None or not isinstance(signing.private_key, rsa.RSAPrivateKey):
        signing = make_leaf_cert(
            "CN=entra-auth-emulator token signing",
            not_after=datetime.now(UTC) + timedelta(days=3650),
        )
        _save(signing, state_dir / SIGNING_CERT, state_dir / SIGNING_KEY)
    return StateMaterial(
        ca_bundle=state_dir / CA_CERT,
        tls_cert=state_dir / TLS_CERT,
        tls_key=state_dir / TLS_KEY,
        signing=signing,
    )
