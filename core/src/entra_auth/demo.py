"""Demo steps: how a provider shows itself in ``entra-auth demo``, against the embedded emulator.

A provider (built-in or third-party) returns steps from ``Provider.demo_steps()``; the demo
runs each one against a fresh emulator in a private temp folder. A step gets a ``DemoLab`` (the
running emulator, a temp folder, helpers that undo every change when the demo ends) and returns
the options to connect with::

    class VaultSecretProvider(Provider):
        ...
        def demo_steps(self):
            return [DemoStep("a secret read from the vault", self._demo)]

        def _demo(self, lab):
            secret = lab.new_secret()
            app = lab.register_app(secrets=[secret])
            lab.set_env("DEMO_VAULT_SECRET", secret)          # undone when the demo ends
            return {"client_id": app.client_id, "tenant_id": app.tenant_id,
                    "vault_path": "env:DEMO_VAULT_SECRET"}

A step with ``refusal=True`` is expected to be refused by the emulator; the demo shows the
one-line error the user would see.

The walkthrough starts, when a provider uses the certificate stores, with ``entra-auth
certificate new``; the certificate it made is ``lab.certificate`` (else None), for a step that
signs in with a stored certificate as an admin would. Registering it with an app
(``lab.register_app(certificates=[lab.certificate.certificate])``) is the portal upload, and
the demo says so in a comment line (``lab.notes``; a step may add its own with ``lab.note``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .records import Record, field

if TYPE_CHECKING:
    from datetime import datetime

    from .environments import Environment

DEMO_ROLES = ("User.Read.All", "Group.Read.All")


def _new_id() -> str:
    """A fresh GUID for a demo tenant or app (uuid loads only when a demo runs)."""
    import uuid

    return str(uuid.uuid4())


class DemoApp(Record):
    """An app registered in the demo tenant."""

    tenant_id: str
    client_id: str
    display_name: str


class DemoCertificate(Record):
    """The certificate the walkthrough made with ``entra-auth certificate new``: its key is in
    the demo's entra-auth store, its public part in ``public_file`` (the ``.cer`` to upload)."""

    thumbprint: str
    """SHA-1, upper-case hex, as the portal and ``certificate list`` show it."""
    subject: str
    certificate: Any
    """The ``cryptography.x509.Certificate`` (public part only)."""
    public_file: Path


class DemoLab(Record, frozen=False):
    """What a demo step works with; everything it changes is undone when the demo ends."""

    emulator: Any
    """The running ``entra_auth_emulator.Emulator`` (``authority_host``, ``ca_bundle``,
    ``imds_endpoint``, ``identity_endpoint``, ``register_app``,
    ``register_managed_identity``…)."""
    workdir: Path
    """A private temporary folder, removed at the end."""
    environment: Environment
    """The emulator as an entra-auth environment (what every step signs in against)."""
    tenant_id: str = field(default_factory=lambda: _new_id())
    _saved_env: dict[str, str | None] = field(default_factory=dict)
    certificate: DemoCertificate | None = None
    """The certificate ``entra-auth certificate new`` made at the start of the walkthrough, in
    the store the tool searches; None when the demo did not make one."""
    notes: list[str] = field(default_factory=list)
    """Comment lines the demo prints before the current step's command (then clears)."""

    def register_app(
        self, *, display_name: str = "Contoso Automation (demo)", **registration: Any
    ) -> DemoApp:
        """Register a throwaway app in the demo tenant; ``registration`` goes to the emulator's
        ``register_app`` (``secrets=[…]``, ``certificates=[…]``, ``trusted_issuers=[…]`` with
        ``trusted_subjects=[…]``, or for workload identity federation
        ``federated_credentials=[FederatedCredential(lab.emulator.oidc_issuer(), subject)]``
        with a token from ``lab.emulator.mint_federated_token(subject)``)."""
        client_id = _new_id()
        registration.setdefault("roles", list(DEMO_ROLES))
        made = self.certificate
        if made is not None and any(
            c is made.certificate or c == made.certificate
            for c in registration.get("certificates") or ()
        ):
            self.note(
                f"Upload {made.public_file.name} in App registrations > Certificates & secrets "
                "(the demo registers it with the emulator)"
            )
        self.emulator.register_app(
            tenant_id=self.tenant_id,
            client_id=client_id,
            display_name=display_name,
            **registration,
        )
        return DemoApp(self.tenant_id, client_id, display_name)

    def new_certificate(
        self,
        subject: str,
        *,
        issuer: Any = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> Any:
        """A fresh RSA key and certificate (``entra_auth_emulator.pki.CertifiedKey``: has
        ``certificate``, ``thumbprint``, ``write_pem``, ``write_pfx``), self-signed or issued by
        ``issuer`` (from ``new_ca``)."""
        from entra_auth_emulator.pki import make_leaf_cert

        return make_leaf_cert(subject, issuer=issuer, not_before=not_before, not_after=not_after)

    def new_ca(self, subject: str, *, issuer: Any = None) -> Any:
        """A certificate authority for subject name + issuer steps (root, or issued by
        ``issuer``)."""
        from entra_auth_emulator.pki import make_ca

        return make_ca(subject, issuer=issuer)

    def private_folder(self, name: str) -> Path:
        """A 0700 folder inside the lab's temp folder."""
        folder = self.workdir / name
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def set_env(self, name: str, value: str) -> None:
        """Set a variable in this process only, restored (or removed) when the demo ends."""
        if name not in self._saved_env:
            self._saved_env[name] = os.environ.get(name)
        os.environ[name] = value

    def unset_env(self, name: str) -> None:
        """Remove a variable in this process only, restored when the demo ends."""
        if name not in self._saved_env:
            self._saved_env[name] = os.environ.get(name)
        os.environ.pop(name, None)

    def restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def note(self, text: str) -> None:
        """A comment line shown before this step's command (what a person would do by hand)."""
        self.notes.append(text)

    def describe(self) -> str:
        return f"tenant {self.tenant_id}"

    @staticmethod
    def new_secret() -> str:
        import secrets

        return secrets.token_urlsafe(32)


class DemoStep(Record):
    """One thing the demo shows for a provider: ``prepare`` registers what it needs in the
    emulator and returns the options to connect with."""

    title: str
    prepare: Callable[[DemoLab], Mapping[str, Any]]
    refusal: bool = False
