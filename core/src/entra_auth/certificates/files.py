"""Reading certificate files: PEM (key and certificate in one file or two) and PKCS#12.

Each file is parsed once per process: the result is cached by path, inode, size, mtime and a
digest of the password, so a long-running process that signs an assertion every hour, or a
store scan repeated for several credentials, does not pay for RSA key parsing again, and a
renewed file on disk is picked up. Store scans only peek (:func:`peek_certificate_file`): the
PEM key of a certificate nobody asked for is never parsed, nor warned about.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CertificateError
from ..records import Record, field
from .bundle import CertificateBundle
from .keys import is_rsa, require_private_key_file, require_rsa

if TYPE_CHECKING:
    from cryptography import x509

PEM_SUFFIXES = (".pem", ".crt", ".cer", ".cert")
PKCS12_SUFFIXES = (".pfx", ".p12")
KEY_SUFFIX = ".key"
_PEM_KEY_MARKERS = (b"PRIVATE KEY-----",)
_ENCRYPTED_MARKERS = (b"ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")


class ParsedFile(Record, eq=False):
    """What one certificate file holds. ``key_problem`` says why there is no usable key;
    ``key_deferred`` marks a peek that saw a key but did not parse it."""

    path: Path
    certificates: tuple[x509.Certificate, ...]
    private_key: Any = field(default=None, repr=False)
    key_path: Path | None = None
    key_problem: str | None = None
    key_deferred: bool = False

    @property
    def leaf(self) -> x509.Certificate:
        """The certificate that belongs to the private key; without a parsed key, the first
        one that is not a CA (files list the leaf first, but not all of them do)."""
        if self.private_key is not None:
            public = self.private_key.public_key()
            for cert in self.certificates:
                if _same_public_key(cert.public_key(), public):
                    return cert
        return next((c for c in self.certificates if not _is_ca(c)), self.certificates[0])

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        leaf = self.leaf
        return tuple(c for c in self.certificates if c is not leaf)

    def bundle(self, source: str | None = None) -> CertificateBundle:
        """The usable certificate, or ``CertificateError`` saying why it is not usable."""
        where = f"certificate file {self.path}"
        if self.private_key is None:
            if self.key_problem is None or self.key_problem.startswith("has no private key"):
                raise CertificateError(
                    f"{where} {self.key_problem or 'has no private key'}; put the key in the same "
                    f"file or in {self.path.with_suffix(KEY_SUFFIX).name} beside it, or give a "
                    ".pfx that holds it"
                )
            raise CertificateError(f"{where} {self.key_problem}")
        key = require_rsa(self.private_key, where)
        leaf = self.leaf
        if not _same_public_key(leaf.public_key(), key.public_key()):
            raise CertificateError(
                f"{where}: the private key does not belong to any certificate in it "
                f"({self.key_path or self.path}); pair the key with its own certificate"
            )
        # Checked here, when the key is about to be used, not for every file a scan reads.
        require_private_key_file(self.key_path or self.path)
        return CertificateBundle(leaf, key, self.chain, source or str(self.path))


_cache: dict[tuple[Any, ...], ParsedFile] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every parsed file (tests; a process that rotates keys in place)."""
    with _cache_lock:
        _cache.clear()


def load_certificate_file(
    path: str | os.PathLike[str],
    *,
    password: str | bytes | None = None,
    key_path: str | os.PathLike[str] | None = None,
) -> CertificateBundle:
    """Load a client certificate with its RSA key from ``.pem``/``.crt`` (+ ``.key``) or
    ``.pfx``/``.p12``; raise ``CertificateError`` (exit 2) with the reason otherwise."""
    return read_certificate_file(path, password=password, key_path=key_path).bundle()


def read_certificate_file(
    path: str | os.PathLike[str],
    *,
    password: str | bytes | None = None,
    key_path: str | os.PathLike[str] | None = None,
) -> ParsedFile:
    """Parse a certificate file (cached). Unreadable or undecryptable files raise
    ``CertificateError``; a file without a usable key returns with ``key_problem`` set, so
    store scans can still show the certificate and why it was passed over."""
    file = Path(path).expanduser()
    explicit_key = Path(key_path).expanduser() if key_path is not None else None
    data = _read(file, "certificate file")
    pw = password.encode("utf-8") if isinstance(password, str) else password
    is_pem = b"-----BEGIN" in data
    sibling = explicit_key or (_sibling_key(file) if is_pem else None)
    cache_key = (
        _identity(file),
        _identity(sibling) if sibling else None,
        hashlib.sha256(pw).digest() if pw is not None else None,
    )
    with _cache_lock:
        cached = _cache.get(cache_key)
    if cached is not None:
        return cached
    parsed = _parse_pem(file, data, pw, sibling) if is_pem else _parse_pkcs12(file, data, pw)
    with _cache_lock:
        _cache[cache_key] = parsed
    return parsed


def peek_certificate_file(path: str | os.PathLike[str]) -> ParsedFile:
    """The certificates of a file and whether a usable-looking key is there, for store scans.

    A PEM key is not parsed (``key_deferred``): a store may hold dozens of certificates and
    only the one selected is loaded, with :func:`load_certificate_file`. PKCS#12 keeps keys
    and certificates in one protected blob, so a ``.pfx`` is read in full (and cached)."""
    file = Path(path).expanduser()
    data = _read(file, "certificate file")
    if b"-----BEGIN" not in data:
        return read_certificate_file(file)
    certs = _pem_certificates(file, data)
    key_data, key_file = data, file
    if not any(marker in data for marker in _PEM_KEY_MARKERS):
        sibling = _sibling_key(file)
        if sibling is None:
            return ParsedFile(file, certs, key_problem="has no private key")
        key_data, key_file = _read(sibling, "private key file"), sibling
    if any(marker in key_data for marker in _ENCRYPTED_MARKERS):
        return ParsedFile(file, certs, key_problem=f"has an encrypted private key ({key_file})")
    return ParsedFile(
        file, certs, key_path=key_file if key_file != file else None, key_deferred=True
    )


def _identity(path: Path) -> tuple[str, int, int, int]:
    try:
        st = path.stat()
        return (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
    except (OSError, RuntimeError, ValueError) as exc:
        raise CertificateError(f"certificate file {path} cannot be read: {exc}") from None


def _read(path: Path, what: str) -> bytes:
    """The file's bytes through ``files.read_trusted``: a regular file (a FIFO fails at once
    instead of hanging), the user's or root's, not writable by others, at most 1 MiB (a 2 GB
    file given by mistake is refused by its size, not read)."""
    from ..files import SECRET_LIMIT, read_trusted

    try:
        return read_trusted(path, limit=SECRET_LIMIT, what=what, error=CertificateError)
    except FileNotFoundError:
        raise CertificateError(f"{what} {path} does not exist") from None


def _sibling_key(file: Path) -> Path | None:
    """``app.pem`` or ``app.crt`` next to ``app.key``: the usual two-file layout."""
    candidate = file.with_suffix(KEY_SUFFIX)
    return candidate if candidate != file and candidate.is_file() else None


def _pem_certificates(file: Path, data: bytes) -> tuple[x509.Certificate, ...]:
    from cryptography import x509

    try:
        certs = tuple(x509.load_pem_x509_certificates(data))
    except ValueError:
        certs = ()
    if not certs:
        raise CertificateError(
            f"certificate file {file} holds no PEM certificate; give the certificate (with its "
            "key in the same file or in a .key file beside it) or a .pfx/.p12 file"
        )
    return certs


def _parse_pem(file: Path, data: bytes, pw: bytes | None, sibling: Path | None) -> ParsedFile:
    certs = _pem_certificates(file, data)
    key_data, key_file = data, file
    if not any(marker in data for marker in _PEM_KEY_MARKERS):
        if sibling is None:
            return ParsedFile(file, certs, key_problem="has no private key")
        key_data, key_file = _read(sibling, "private key file"), sibling
    key, problem = _parse_pem_key(key_data, key_file, pw)
    return ParsedFile(file, certs, key, key_file if key_file != file else None, problem)


def _parse_pem_key(data: bytes, key_file: Path, pw: bytes | None) -> tuple[Any, str | None]:
    from cryptography.hazmat.primitives import serialization

    encrypted = any(marker in data for marker in _ENCRYPTED_MARKERS)
    if encrypted and pw is None:
        return None, (
            f"has an encrypted private key ({key_file}); give its password with "
            "--certificate-password REF"
        )
    try:
        key = serialization.load_pem_private_key(data, pw if encrypted else None)
    except (ValueError, TypeError) as exc:
        if encrypted:
            raise CertificateError(
                f"the password given by --certificate-password does not decrypt the private "
                f"key in {key_file}"
            ) from None
        raise CertificateError(f"private key in {key_file} cannot be read: {exc}") from None
    except Exception as exc:  # cryptography's UnsupportedAlgorithm for exotic keys
        raise CertificateError(f"private key in {key_file} cannot be used: {exc}") from None
    return key, None


def _parse_pkcs12(file: Path, data: bytes, pw: bytes | None) -> ParsedFile:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    # No password given: try none, then the empty one (both mean "unprotected" to .NET and
    # OpenSSL, which write one or the other).
    attempts = [pw] if pw is not None else [None, b""]
    last: Exception | None = None
    for attempt in attempts:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, attempt)
            break
        except (ValueError, TypeError) as exc:
            last = exc
    else:
        if _looks_like_der_certificate(data):
            der = (x509.load_der_x509_certificate(data),)
            return ParsedFile(file, der, key_problem="has no private key (a DER certificate)")
        if not data.startswith(b"\x30"):  # every PKCS#12 file is a DER SEQUENCE
            raise CertificateError(
                f"certificate file {file} is neither PEM nor PKCS#12 (.pfx/.p12); give a .pem "
                "with the certificate and its key, or a .pfx"
            ) from None
        if pw is None:
            raise CertificateError(
                f"certificate file {file} is password-protected or not a PKCS#12 file; give "
                "its password with --certificate-password REF"
            ) from None
        raise CertificateError(
            f"the password given by --certificate-password does not open {file} (or it is not "
            f"a PKCS#12 file: {_short(last)})"
        ) from None
    certs: tuple[x509.Certificate, ...] = tuple(c for c in (cert, *extra) if c is not None)
    if not certs:
        raise CertificateError(f"certificate file {file} holds no certificate")
    problem = None if key is not None else "has no private key"
    return ParsedFile(file, certs, key, None, problem)


def _looks_like_der_certificate(data: bytes) -> bool:
    from cryptography import x509

    try:
        x509.load_der_x509_certificate(data)
    except ValueError:
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    from cryptography import x509

    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _same_public_key(a: Any, b: Any) -> bool:
    if is_rsa(a) and is_rsa(b):
        return bool(a.public_numbers() == b.public_numbers())
    try:
        return bool(a == b)
    except TypeError:
        return False


def _short(exc: Exception | None) -> str:
    text = str(exc or "").splitlines()[0] if exc and str(exc) else type(exc).__name__
    return text[:120]
