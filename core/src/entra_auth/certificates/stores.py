"""Certificate stores: places searched by thumbprint and by subject name.

A store is anything with a ``name`` (shown in "searched: …" messages) and ``candidates()``
yielding every certificate it holds, each with a way to load its private key. Core registers the
folders of ``ENTRA_AUTH_CERT_PATH``, its own store and the .NET CurrentUser\\My store
(``builtin_stores``); a plugin adds a vault or an HSM through the
``entra_auth_register_certificate_stores`` hook with an object of the same shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import CertificateError
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


@dataclass(frozen=True, eq=False)
class StoredCertificate:
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


class FolderStore:
    """A folder of ``.pem``/``.crt``/``.cer`` (with the key inside or in ``<name>.key``) and
    ``.pfx``/``.p12`` files without a password. Not recursive, so a folder of many
    unrelated files does not get walked."""

    suffixes: tuple[str, ...] = PEM_SUFFIXES + PKCS12_SUFFIXES

    def __init__(self, path: Path, label: str) -> None:
        self.path = Path(path).expanduser()
        self.label = label

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

    def __init__(self, path: Path | None = None, label: str = ".NET CurrentUser\\My") -> None:
        super().__init__(path or dotnet_store_path(), label)


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
