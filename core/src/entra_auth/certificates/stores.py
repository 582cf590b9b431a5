"""Certificate stores: places searched by thumbprint and by subject name.

A store is anything with a ``name`` (shown in "searched: …" messages) and ``candidates()``
yielding every certificate it holds, each with a way to load its private key. Core registers the
folders of ``ENTRA_AUTH_CERT_PATH``, its own store and the .NET CurrentUser\\My store
(``builtin_stores``); a plugin adds a vault or an HSM through the
``entra_auth_register_certificate_stores`` hook with an object of the same shape.

Writing is optional: a store that can take certificates has ``writable = True`` and the
:class:`WritableCertificateStore` methods ``add`` and ``remove`` (the entra-auth store and the
.NET CurrentUser\\My store do; ``ENTRA_AUTH_CERT_PATH`` folders are the user's own and stay
read-only). :func:`is_writable` is how callers ask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import CertificateError
from ..records import Record, field
from .files import (
    KEY_SUFFIX,
    PEM_SUFFIXES,
    PKCS12_SUFFIXES,
    load_certificate_file,
    peek_certificate_file,
)

if TYPE_CHECKING:
    from cryptography import x509

    from .bundle import CertificateBundle
    from .thumbprints import Thumbprint


class StoredCertificate(Record, eq=False):
    """One certificate a store holds, as selection sees it.

    ``certificate`` is None when the entry could not be read at all; ``load`` is None when there
    is no usable private key, and ``problem`` then says why (shown as "passed over: …").
    """

    location: str
    certificate: x509.Certificate | None = None
    load: Callable[[], CertificateBundle] | None = field(default=None, repr=False)
    problem: str | None = None


@runtime_checkable
class CertificateStore(Protocol):
    """What ``entra_auth_register_certificate_stores`` registers.

    ``name`` says where the store is, for messages (``.NET CurrentUser\\My
    (~/.dotnet/corefx/cryptography/x509stores/my)``). ``candidates`` yields every certificate,
    cheaply: loading a private key belongs in ``StoredCertificate.load``, called only for the
    one certificate selected. A store that cannot be reached yields a single
    ``StoredCertificate`` with ``problem`` set rather than raising.
    """

    @property
    def name(self) -> str: ...

    def candidates(self) -> Iterable[StoredCertificate]: ...


@runtime_checkable
class WritableCertificateStore(CertificateStore, Protocol):
    """A store that can also add and remove certificates (``certificate new``/``import``/
    ``remove``); ``writable`` says whether this instance may be changed."""

    writable: bool

    def add(
        self,
        certificate: x509.Certificate,
        private_key: Any,
        chain: tuple[x509.Certificate, ...] = (),
    ) -> str:
        """Store the certificate with its (unencrypted, RSA) key; return where it went."""
        ...

    def remove(self, thumbprint: Thumbprint) -> list[str]:
        """Remove every copy of the certificate; return what was removed."""
        ...


def is_writable(store: object) -> bool:
    """Whether ``store`` takes ``add``/``remove`` (plugin stores without them are read-only)."""
    return (
        getattr(store, "writable", False) is True
        and callable(getattr(store, "add", None))
        and callable(getattr(store, "remove", None))
    )


class FolderStore:
    """A folder of ``.pem``/``.crt``/``.cer`` (with the key inside or in ``<name>.key``) and
    ``.pfx``/``.p12`` files without a password. Not recursive, so a folder of many
    unrelated files does not get walked."""

    suffixes: tuple[str, ...] = PEM_SUFFIXES + PKCS12_SUFFIXES
    file_suffix = ".pem"

    def __init__(self, path: Path, label: str, *, writable: bool = False) -> None:
        self.path = Path(path).expanduser()
        self.label = label
        self.writable = writable

    # -- writing (only when ``writable``) -------------------------------------------------

    def add(
        self,
        certificate: x509.Certificate,
        private_key: Any,
        chain: tuple[x509.Certificate, ...] = (),
    ) -> str:
        """Write ``<THUMBPRINT><suffix>`` (atomic, 0600, in a 0700 folder): the key and the
        certificate, so lookups by thumbprint and subject find it."""
        from ..files import atomic_write_bytes, ensure_private_dir
        from .thumbprints import fingerprint

        self._check_writable()
        thumbprint = fingerprint(certificate)
        for entry in self.candidates():
            if entry.certificate is not None and fingerprint(entry.certificate) == thumbprint:
                raise CertificateError(
                    f"the certificate {thumbprint} is already in the {self.label} "
                    f"({entry.location})"
                )
        ensure_private_dir(self.path)
        target = self.path / f"{thumbprint}{self.file_suffix}"
        atomic_write_bytes(
            target, self._encode(certificate, private_key, chain), what="certificate file"
        )
        return str(target)

    def remove(self, thumbprint: Thumbprint) -> list[str]:
        """Delete every file holding the certificate (with its ``.key`` companion)."""
        self._check_writable()
        removed: list[str] = []
        for entry in self.candidates():
            if entry.certificate is None or not thumbprint.matches(entry.certificate):
                continue
            path = Path(entry.location)
            companion = path.with_suffix(KEY_SUFFIX)
            path.unlink()
            removed.append(str(path))
            if path.suffix.lower() in PEM_SUFFIXES and companion.is_file():
                companion.unlink()
                removed.append(str(companion))
        return removed

    def _check_writable(self) -> None:
        if not self.writable:
            raise CertificateError(
                f"the {self.label} folder {self.path} is read-only for entra-auth; manage its "
                "files yourself"
            )

    def _encode(
        self, certificate: x509.Certificate, private_key: Any, chain: tuple[x509.Certificate, ...]
    ) -> bytes:
        from cryptography.hazmat.primitives import serialization

        key = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        certs = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (certificate, *chain))
        return key + certs

    @property
    def name(self) -> str:
        if self.path.is_dir():
            return f"{self.label} {self.path}"
        state = "not a folder" if self.path.exists() else "missing"
        return f"{self.label} {self.path} ({state})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, {self.label!r})"

    def files(self) -> list[Path]:
        try:
            entries = sorted(self.path.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []
        except PermissionError:
            raise CertificateError(f"{self.name} cannot be listed: permission denied") from None
        except (OSError, ValueError) as exc:
            raise CertificateError(f"{self.name} cannot be listed: {exc}") from None
        return [
            p
            for p in entries
            if p.suffix.lower() in self.suffixes
            and p.suffix.lower() != KEY_SUFFIX
            and not p.name.startswith(".")
            and p.is_file()
        ]

    def candidates(self) -> Iterator[StoredCertificate]:
        """Every certificate file of the folder; one problem entry, and no certificate from it,
        when the folder belongs to another user or others can write it (they could plant a
        certificate there)."""
        from ..files import check_folder

        try:
            check_folder(self.path, f"the {self.label} certificates", error=CertificateError)
            files = self.files()
        except CertificateError as exc:
            yield StoredCertificate(str(self.path), problem=str(exc))
            return
        for path in files:
            yield _from_file(path)


class DotNetStore(FolderStore):
    """The CurrentUser\\My store as .NET (and so PowerShell 7) writes it on Linux and macOS:
    one ``<SHA-1 THUMBPRINT>.pfx`` per certificate (``.1.pfx``, ``.2.pfx``… when names clash),
    PKCS#12 without a password, in ``~/.dotnet/corefx/cryptography/x509stores/my``."""

    suffixes = (".pfx",)
    file_suffix = ".pfx"

    def __init__(
        self,
        path: Path | None = None,
        label: str = ".NET CurrentUser\\My",
        *,
        writable: bool = True,
    ) -> None:
        super().__init__(path or dotnet_store_path(), label, writable=writable)

    def _encode(
        self, certificate: x509.Certificate, private_key: Any, chain: tuple[x509.Certificate, ...]
    ) -> bytes:
        """PKCS#12 without a password, as .NET's X509Store writes CurrentUser\\My."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        return pkcs12.serialize_key_and_certificates(
            None, private_key, certificate, list(chain) or None, serialization.NoEncryption()
        )


def dotnet_store_path(store: str = "my") -> Path:
    """Where .NET keeps a CurrentUser store on Linux and macOS (lower-case store name)."""
    return Path.home() / ".dotnet" / "corefx" / "cryptography" / "x509stores" / store.lower()


def _from_file(path: Path) -> StoredCertificate:
    try:
        peeked = peek_certificate_file(path)
    except CertificateError as exc:
        return StoredCertificate(str(path), problem=_reason(str(exc), path))
    leaf = peeked.leaf
    if peeked.private_key is None and not peeked.key_deferred:
        problem = peeked.key_problem
        if problem and "encrypted" in problem:
            # A lookup has no password to give: say what to do instead.
            problem = (
                "its private key is encrypted; keys in a store must not be "
                "(or use --certificate PATH with --certificate-password)"
            )
        return StoredCertificate(str(path), leaf, problem=problem)
    return StoredCertificate(str(path), leaf, load=lambda: _load(path, leaf))


def _load(path: Path, expected: x509.Certificate) -> CertificateBundle:
    """Parse the key of the selected file, and make sure it belongs to the certificate the
    selection saw (a peek guesses the leaf without the key)."""
    bundle = load_certificate_file(path)
    if bundle.certificate != expected:
        raise CertificateError(
            f"its private key belongs to {bundle.subject} [{bundle.thumbprint}], another "
            "certificate in the file"
        )
    return bundle


def _reason(message: str, path: Path) -> str:
    """Messages from file loading name the file; in a store listing the location already does."""
    for prefix in (f"certificate file {path} ", f"private key file {path} "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message
