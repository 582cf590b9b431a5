"""Helpers for the certificate provider tests (imported by the tests and their conftest)."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from entra_auth_emulator.pki import CertifiedKey


@dataclass
class CertApp:
    """An app registered in the emulator that signs in with a certificate."""

    tenant_id: str
    client_id: str
    display_name: str
    roles: list[str] = field(default_factory=lambda: ["Group.Read.All", "User.Read.All"])

    def options(self) -> dict[str, str]:
        return {"client_id": self.client_id, "tenant_id": self.tenant_id}

    def cli_ids(self) -> list[str]:
        return ["--client-id", self.client_id, "--tenant-id", self.tenant_id]


RegisterApp = Any


def days(n: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=n)


def write_dotnet_store(home: Path, cert: CertifiedKey, *, with_key: bool = True) -> Path:
    """Add ``cert`` to CurrentUser\\My the way .NET's OpenSslDirectoryBasedStoreProvider does:
    folder 0700, ``<THUMBPRINT>.pfx`` (``.1.pfx``… when taken) created 0600, PKCS#12 exported
    without a password."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, pkcs12

    store = home / ".dotnet" / "corefx" / "cryptography" / "x509stores" / "my"
    store.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(store, 0o700)
    name = store / f"{cert.thumbprint}.pfx"
    ordinal = 0
    while name.exists():
        ordinal += 1
        name = store / f"{cert.thumbprint}.{ordinal}.pfx"
    data = pkcs12.serialize_key_and_certificates(
        None, cert.private_key if with_key else None, cert.certificate, None, NoEncryption()
    )
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return name


def tool_store(home: Path) -> Path:
    """``$XDG_DATA_HOME/entra-auth/certs`` as the isolated environment sets it."""
    path = home / ".local" / "share" / "entra-auth" / "certs"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header_of(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def token_requests(emulator: Any, tenant_id: str) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests()
        if r["path"].startswith(f"/{tenant_id}/") and r["path"].endswith("/token")
    ]
