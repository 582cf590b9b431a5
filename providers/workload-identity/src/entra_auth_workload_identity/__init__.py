"""entra-auth provider ``workload-identity``: sign in as an app with a federated token.

Workload identity federation: the app trusts an external OIDC issuer (AKS, GitHub Actions, any
issuer with a discovery document) for one subject, and accepts that issuer's token as its client
assertion, so no secret or certificate is kept anywhere. The platform writes the token to a file
(``AZURE_FEDERATED_TOKEN_FILE`` on AKS) and rotates it, so the file is read again on **every**
token request, as azure-identity's ``WorkloadIdentityCredential`` does. ``--federated-token REF``
takes the token itself by reference instead, as az's ``--federated-token``.

Built only on the public ``entra_auth`` namespace, like any third-party provider.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from entra_auth import (
    CLIENT_ID,
    TENANT_ID,
    ConfidentialClientSource,
    Option,
    Provider,
    ProviderSettings,
    TokenSource,
    UsageError,
    hookimpl,
)

if TYPE_CHECKING:
    from entra_auth import DemoLab, DemoStep

__all__ = [
    "FEDERATED_TOKEN",
    "FEDERATED_TOKEN_FILE",
    "MAX_TOKEN_BYTES",
    "FederatedToken",
    "WorkloadIdentityProvider",
    "parse_federated_token",
    "read_token_file",
]

MAX_TOKEN_BYTES = 64 * 1024
"""A federated token file larger than this is refused unread (tokens are a few KiB)."""
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_FILE_FLAG = "--federated-token-file"
_TOKEN_FLAG = "--federated-token"

FEDERATED_TOKEN_FILE = Option(
    "federated_token_file",
    "File holding the federated token (a JWT from the platform's OIDC issuer), read again on "
    "every token request.",
    type="path",
    flag=_FILE_FLAG,
    env="AZURE_FEDERATED_TOKEN_FILE",
    selects=True,
)
FEDERATED_TOKEN = Option(
    "federated_token",
    "Reference to the federated token itself (env:NAME, file:PATH, stdin…), as az's "
    "--federated-token. Never the token.",
    secret=True,
    flag=_TOKEN_FLAG,
    selects=True,
)


class WorkloadIdentityProvider(Provider):
    name = "workload-identity"
    summary = "A federated token from an OIDC issuer (AKS, GitHub Actions), read from a file."
    auth_type = "AppOnly"
    # --environment-variable: after a secret (10) and a certificate (20), as azure-identity's
    # DefaultAzureCredential tries EnvironmentCredential before WorkloadIdentityCredential.
    environment_rank = 30
    options = (CLIENT_ID, TENANT_ID, FEDERATED_TOKEN_FILE, FEDERATED_TOKEN)

    def validate(self, options: Mapping[str, Any]) -> None:
        given = [name for name in ("federated_token_file", "federated_token") if options.get(name)]
        if len(given) != 1:
            both = " (both were given)" if given else ""
            raise UsageError(
                f"provider 'workload-identity' needs exactly one of {_FILE_FLAG} PATH (the "
                f"token file the platform keeps fresh, AZURE_FEDERATED_TOKEN_FILE) or "
                f"{_TOKEN_FLAG} REF (a reference to the token){both}"
            )

    def create(self, settings: ProviderSettings) -> TokenSource:
        path = settings.get("federated_token_file")
        context: dict[str, Any] = {}
        assertion: Callable[[], str]
        if path:
            # Read now so a missing, unsafe, empty or garbled file fails before any request;
            # msal calls the assertion again for every token request, re-reading the file.
            token = read_token_file(Path(path))
            assertion = _TokenFile(Path(path))
            context["FederatedTokenFile"] = str(path)
        else:
            reference = settings.require("federated_token")
            value = settings.secret("federated_token")
            token = parse_federated_token(
                value or "", source=f"the federated token given by {_TOKEN_FLAG} {reference}"
            )
            assertion = _fixed(token.value)
        context["FederatedIssuer"] = token.issuer
        context["FederatedSubject"] = token.subject
        return ConfidentialClientSource(
            settings,
            client_id=settings.require("client_id"),
            tenant_id=settings.require("tenant_id"),
            client_credential={"client_assertion": assertion},
            context=context,
        )

    def demo_steps(self) -> Sequence[DemoStep]:
        from entra_auth import DemoStep  # the demo's types load only for the demo

        return (
            DemoStep(
                "a federated token from the emulator's OIDC issuer, in a file (as on AKS)",
                _demo_token_file,
            ),
            DemoStep(
                "a federated token for a subject the app does not trust, refused by Entra",
                _demo_wrong_subject,
                refusal=True,
            ),
        )


class FederatedToken(NamedTuple):
    """A federated token as read (not verified: Entra verifies it): the compact JWT and the
    claims the context shows. The repr never shows the token."""

    value: str
    issuer: str
    subject: str

    def __repr__(self) -> str:
        return f"FederatedToken(issuer={self.issuer!r}, subject={self.subject!r})"


class _TokenFile:
    """msal's ``client_assertion`` callable: the file's current token, per token request."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> str:
        return read_token_file(self.path).value

    def __repr__(self) -> str:
        return f"_TokenFile({str(self.path)!r})"


def _fixed(value: str) -> Callable[[], str]:
    """Keep the token inside a closure, out of any attribute a repr or debugger dump shows."""
    return lambda: value


def read_token_file(path: Path) -> FederatedToken:
    """The federated token in ``path``: a regular file (symbolic links followed, as Kubernetes
    projects the token through them) of at most 64 KiB, not writable by others, holding one
    compact JWT with ``iss`` and ``sub`` claims. ``UsageError`` otherwise; the content is never
    quoted (it is a credential)."""
    where = f"the federated token file {path}"
    fix = f"check {_FILE_FLAG} (or AZURE_FEDERATED_TOKEN_FILE)"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UsageError(f"cannot read {where}: {exc.strerror}; {fix}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{where} is not a regular file; {fix}")
        if info.st_mode & stat.S_IWOTH:
            raise UsageError(
                f"{where} is writable by anyone, so anyone could choose who this process signs "
                f"in as; run: chmod o-w {path}"
            )
        if info.st_size > MAX_TOKEN_BYTES:
            raise UsageError(f"{where} is larger than {MAX_TOKEN_BYTES} bytes; {fix}")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_TOKEN_BYTES:
            chunk = os.read(fd, MAX_TOKEN_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UsageError(f"cannot read {where}: {exc.strerror}; {fix}") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > MAX_TOKEN_BYTES:  # it grew between fstat and read
        raise UsageError(f"{where} is larger than {MAX_TOKEN_BYTES} bytes; {fix}")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(
            f"{where} does not hold a federated token (a JWT: header.payload.signature); it "
            "holds bytes that are not ASCII"
        ) from None
    return parse_federated_token(text, source=where)


def parse_federated_token(text: str, *, source: str) -> FederatedToken:
    """``text`` (surrounding white space ignored) as a compact JWT whose payload names an
    issuer and a subject; ``UsageError`` naming ``source`` (never the text) otherwise. The
    signature is not checked: that is Entra's job, and the token's issuer's."""
    value = text.strip()
    if not value:
        raise UsageError(f"{source} is empty; the platform has not written a token yet?")
    if not _JWT.match(value):
        raise UsageError(
            f"{source} does not hold a federated token (a JWT: header.payload.signature, base64url)"
        )
    header_part, payload_part, _ = value.split(".")
    header = _json_segment(header_part)
    claims = _json_segment(payload_part)
    if header is None or claims is None:
        raise UsageError(
            f"{source} does not hold a federated token: its header or payload is not a "
            "base64url JSON object"
        )
    missing = [
        name for name in ("iss", "sub") if not isinstance(claims.get(name), str) or not claims[name]
    ]
    if missing:
        raise UsageError(
            f"{source} holds a JWT without the {' and '.join(missing)} claim"
            f"{'s' if len(missing) > 1 else ''} a federated token has"
        )
    return FederatedToken(value, issuer=claims["iss"], subject=claims["sub"])


def _json_segment(segment: str) -> dict[str, Any] | None:
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        parsed = json.loads(decoded)
    except (binascii.Error, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


# -- demo ----------------------------------------------------------------------------------

DEMO_SUBJECT = "system:serviceaccount:automation:graph-reader"


def _write_private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    return path


def _demo_token_file(lab: DemoLab) -> dict[str, str]:
    from entra_auth_emulator import FederatedCredential

    issuer = lab.emulator.oidc_issuer()
    app = lab.register_app(
        display_name="Contoso Workload (demo)",
        federated_credentials=[FederatedCredential(issuer, DEMO_SUBJECT)],
    )
    folder = lab.private_folder("workload-identity")
    path = _write_private(
        folder / "azure-identity-token", lab.emulator.mint_federated_token(DEMO_SUBJECT)
    )
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "federated_token_file": str(path),
    }


def _demo_wrong_subject(lab: DemoLab) -> dict[str, str]:
    from entra_auth_emulator import FederatedCredential

    issuer = lab.emulator.oidc_issuer()
    app = lab.register_app(
        display_name="Contoso Refused (demo)",
        federated_credentials=[FederatedCredential(issuer, DEMO_SUBJECT)],
    )
    folder = lab.private_folder("workload-identity-refused")
    token = lab.emulator.mint_federated_token("system:serviceaccount:other:intruder")
    path = _write_private(folder / "azure-identity-token", token)
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "federated_token_file": str(path),
    }


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(WorkloadIdentityProvider())
