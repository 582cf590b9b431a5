"""Core's certificate stores, registered through the same hook a plugin uses, first in search
order (DESIGN.md "Certificate lookup"): ``ENTRA_AUTH_CERT_PATH`` folders, the entra-auth store,
then the .NET CurrentUser\\My store of PowerShell 7 on Linux and macOS.

Imported at every start of the tool (it is a plugin module), so it imports the stores
themselves only when the hook is called, the first time a certificate is looked up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl
from ..paths import data_dir

if TYPE_CHECKING:
    from .stores import CertificateStore, StoredCertificate

CERT_PATH_ENV = "ENTRA_AUTH_CERT_PATH"
TOOL_STORE_LABEL = "entra-auth store"


def tool_store_path() -> Path:
    """``$XDG_DATA_HOME/entra-auth/certs``: where to put certificates for entra-auth alone."""
    return data_dir() / "certs"


def builtin_stores() -> list[CertificateStore]:
    """The stores as ``ENTRA_AUTH_CERT_PATH`` says now (one per folder), then the fixed ones."""
    from .stores import DotNetStore, FolderStore

    stores: list[CertificateStore] = [
        FolderStore(Path(folder), CERT_PATH_ENV) for folder in cert_path_folders()
    ]
    stores.append(FolderStore(tool_store_path(), TOOL_STORE_LABEL, writable=True))
    stores.append(DotNetStore())
    return stores


def cert_path_folders() -> list[str]:
    return [f for f in os.environ.get(CERT_PATH_ENV, "").split(os.pathsep) if f.strip()]


class CertPathStores:
    """The ``ENTRA_AUTH_CERT_PATH`` folders, read each time the stores are listed rather than
    once per process (the host registers stores once): ``expand`` returns one folder store per
    folder named now."""

    name = CERT_PATH_ENV

    def candidates(self) -> Iterator[StoredCertificate]:
        from .stores import FolderStore

        for folder in cert_path_folders():
            yield from FolderStore(Path(folder), CERT_PATH_ENV).candidates()

    def expand(self) -> list[CertificateStore]:
        from .stores import FolderStore

        return [FolderStore(Path(f), CERT_PATH_ENV) for f in cert_path_folders()]


@hookimpl
def entra_auth_register_certificate_stores(register: Callable[[CertificateStore], None]) -> None:
    from .stores import DotNetStore, FolderStore

    register(CertPathStores())
    register(FolderStore(tool_store_path(), TOOL_STORE_LABEL, writable=True))
    register(DotNetStore())
