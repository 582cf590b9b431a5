"""entra-auth provider ``file-assertion``: a signed client assertion read from a file.

Workload-identity style: something else (a sidecar, a CI runner, a vault agent) keeps a signed
JWT client assertion fresh in a file; this provider hands msal a ``client_assertion`` callable
that reads the file again on every token request, so a rotated assertion is used without a
restart. Written as a third-party package would be, against the public ``entra_auth``
namespace only.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from entra_auth import (
    CLIENT_ID,
    TENANT_ID,
    CertificateAssertion,
    ConfidentialClientSource,
    ConfigurationError,
    DemoLab,
    DemoStep,
    Option,
    Provider,
    ProviderSettings,
    TokenSource,
    bundle_from_object,
    hookimpl,
)

__all__ = ["ASSERTION_FILE", "FileAssertionProvider", "read_assertion"]

MAX_ASSERTION_BYTES = 64 * 1024
DEMO_ASSERTION_LIFETIME = 600
"""Seconds the demo's assertion stays valid: it is read again on every request of the demo."""
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")

ASSERTION_FILE = Option(
    "assertion_file",
    "File holding a signed client assertion (a JWT), read again on every token request.",
    required=True,
    type="path",
    flag="--assertion-file",
    env="ENTRA_AUTH_ASSERTION_FILE",
    selects=True,
)


class FileAssertionProvider(Provider):
    name = "file-assertion"
    summary = "A signed client assertion (JWT) read from a file on every token request."
    auth_type = "AppOnly"
    environment_rank = 30  # --environment-variable: after a secret (10) and a certificate (20)
    options = (CLIENT_ID, TENANT_ID, ASSERTION_FILE)

    def create(self, settings: ProviderSettings) -> TokenSource:
        path = Path(settings.require("assertion_file"))
        read_assertion(path)  # a missing or unsafe file fails here, before any request
        return ConfidentialClientSource(
            settings,
            client_id=settings.require("client_id"),
            tenant_id=settings.require("tenant_id"),
            client_credential={"client_assertion": _FileAssertion(path)},
            context={"AssertionFile": str(path)},
        )

    def demo_steps(self) -> Sequence[DemoStep]:
        return (DemoStep("a client assertion read from a file on every request", _demo),)


class _FileAssertion:
    """msal's ``client_assertion`` callable: the file's current content, per token request.

    It takes no argument, so msal calls it without its context (the file is already signed
    for its audience)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> str:
        return read_assertion(self.path)

    def __repr__(self) -> str:
        return f"_FileAssertion({str(self.path)!r})"


def read_assertion(path: Path) -> str:
    """The assertion in ``path``: a regular file of at most 64 KiB, owned by the user or root
    and not writable by group or others, holding one compact JWT. The content is never quoted
    in an error (it is a credential)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the assertion file {path}: {exc.strerror}; check --assertion-file"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigurationError(f"the assertion file {path} is not a regular file")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise ConfigurationError(
                f"the assertion file {path} is writable by group or others; run: chmod go-w {path}"
            )
        if hasattr(os, "getuid") and info.st_uid not in (0, os.getuid()):
            raise ConfigurationError(
                f"the assertion file {path} belongs to another user (uid {info.st_uid})"
            )
        if info.st_size > MAX_ASSERTION_BYTES:
            raise ConfigurationError(
                f"the assertion file {path} is larger than {MAX_ASSERTION_BYTES} bytes"
            )
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_ASSERTION_BYTES + 1)
    finally:
        os.close(fd)
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        text = ""
    if len(raw) > MAX_ASSERTION_BYTES or not _JWT.match(text):
        raise ConfigurationError(
            f"the assertion file {path} does not hold a signed JWT (header.payload.signature)"
        )
    return text


def _demo(lab: DemoLab) -> dict[str, str]:
    cert = lab.new_certificate("CN=contoso-file-assertion-demo")
    app = lab.register_app(display_name="Contoso Workload (demo)", certificates=[cert.certificate])
    sign = CertificateAssertion(
        bundle_from_object((cert.private_key, cert.certificate)),
        algorithm="PS256",
        lifetime=DEMO_ASSERTION_LIFETIME,
    )
    token_endpoint = f"{lab.environment.authority(app.tenant_id)}/oauth2/v2.0/token"
    assertion = sign({"client_id": app.client_id, "token_endpoint": token_endpoint})
    path = lab.private_folder("file-assertion") / "assertion.jwt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(assertion + "\n")
    return {"client_id": app.client_id, "tenant_id": app.tenant_id, "assertion_file": str(path)}


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(FileAssertionProvider())
