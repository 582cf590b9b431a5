"""The demo's steps, one or more per provider: how to sign in with it against the emulator.

A provider issue adds its step here with a few lines::

    @demo_step("cert-thumbprint", "a certificate found by thumbprint")
    def _cert_thumbprint(lab: DemoLab) -> dict[str, Any]:
        app = lab.register_app(certificates=[...])      # any emulator registration arguments
        lab.set_env("ENTRA_AUTH_CERT_PATH", str(folder))  # restored when the demo ends
        return {"client_id": app.client_id, "tenant_id": app.tenant_id,
                "certificate_thumbprint": thumbprint}

The function gets the lab (the running emulator, a private temp folder, helpers) and returns the
options for ``entra_auth.connect(provider, **options)``. Steps of providers that are not
installed are skipped with a note naming the distribution to install. A step declared with
``refusal=True`` is expected to be refused; the demo shows the one-line error.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entra_auth import Environment

DEMO_ROLES = ("User.Read.All", "Group.Read.All")


@dataclass(frozen=True)
class DemoApp:
    tenant_id: str
    client_id: str
    display_name: str


@dataclass
class DemoLab:
    """What a step works with; everything it changes is undone when the demo ends."""

    emulator: Any
    """The running ``entra_auth_emulator.Emulator`` (authority_host, ca_bundle, imds_endpoint…)."""
    workdir: Path
    """A private temporary folder, removed at the end."""
    environment: Environment
    """The emulator as an entra-auth environment (what every step signs in against)."""
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _saved_env: dict[str, str | None] = field(default_factory=dict)

    def register_app(
        self, *, display_name: str = "Contoso Automation (demo)", **registration: Any
    ) -> DemoApp:
        """Register a throwaway app in the demo tenant; ``registration`` goes to the emulator's
        ``register_app`` (``secrets=[…]``, ``certificates=[…]``, ``trusted_issuers=[…]``)."""
        client_id = str(uuid.uuid4())
        registration.setdefault("roles", list(DEMO_ROLES))
        self.emulator.register_app(
            tenant_id=self.tenant_id,
            client_id=client_id,
            display_name=display_name,
            **registration,
        )
        return DemoApp(self.tenant_id, client_id, display_name)

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

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)


StepFunction = Callable[[DemoLab], dict[str, Any]]


@dataclass(frozen=True)
class DemoStep:
    provider: str
    title: str
    prepare: StepFunction
    refusal: bool = False


DEMO_STEPS: list[DemoStep] = []


def demo_step(
    provider: str, title: str, *, refusal: bool = False
) -> Callable[[StepFunction], StepFunction]:
    """Register a demo step for ``provider`` (runs in registration order)."""

    def register(function: StepFunction) -> StepFunction:
        DEMO_STEPS.append(DemoStep(provider, title, function, refusal))
        return function

    return register


def steps_for(providers: Sequence[str]) -> Iterator[DemoStep]:
    for step in DEMO_STEPS:
        if step.provider in providers:
            yield step


# -- client-secret --------------------------------------------------------------------------------


@demo_step("client-secret", "a client secret, passed by reference (env:ENTRA_AUTH_DEMO_SECRET)")
def _client_secret(lab: DemoLab) -> dict[str, Any]:
    secret = lab.new_secret()
    app = lab.register_app(secrets=[secret])
    lab.set_env("ENTRA_AUTH_DEMO_SECRET", secret)
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "client_secret": "env:ENTRA_AUTH_DEMO_SECRET",
    }


@demo_step("client-secret", "a wrong client secret, refused by Entra", refusal=True)
def _wrong_secret(lab: DemoLab) -> dict[str, Any]:
    app = lab.register_app(display_name="Contoso Refused (demo)", secrets=[lab.new_secret()])
    lab.set_env("ENTRA_AUTH_DEMO_WRONG_SECRET", lab.new_secret())
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "client_secret": "env:ENTRA_AUTH_DEMO_WRONG_SECRET",
    }


# -- certificates: cert-thumbprint, cert-name, cert-object ---------------------------------------


def _demo_cert_folder(lab: DemoLab) -> Path:
    """One folder for every certificate step, on ENTRA_AUTH_CERT_PATH: the stores are listed
    once per process, so every step must use the same one. The user's own stores are only
    read, never written."""
    folder = lab.workdir / "certs"
    folder.mkdir(mode=0o700, exist_ok=True)
    lab.set_env("ENTRA_AUTH_CERT_PATH", str(folder))
    return folder


@demo_step("cert-thumbprint", "a certificate found by thumbprint (ENTRA_AUTH_CERT_PATH)")
def _cert_thumbprint(lab: DemoLab) -> dict[str, Any]:
    from entra_auth_emulator.pki import make_leaf_cert

    cert = make_leaf_cert("CN=contoso-automation-demo,O=Contoso")
    cert.write_pfx(_demo_cert_folder(lab) / f"{cert.thumbprint}.pfx")
    app = lab.register_app(certificates=[cert.certificate])
    spaced = " ".join(cert.thumbprint[i : i + 2] for i in range(0, 40, 2))
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "certificate_thumbprint": spaced,
    }


@demo_step("cert-name", "the newest valid of three certificates named CN=nightly-export-demo")
def _cert_name(lab: DemoLab) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    from entra_auth_emulator.pki import make_leaf_cert

    now = datetime.now(UTC)
    folder = _demo_cert_folder(lab)
    certs = [
        make_leaf_cert(
            "CN=nightly-export-demo",
            not_before=now - timedelta(days=start),
            not_after=now + timedelta(days=end),
        )
        for start, end in ((700, -300), (200, 165), (10, 355))  # expired, older, newest
    ]
    for name, cert in zip(("expired", "older", "newest"), certs, strict=True):
        cert.write_pem(folder / f"nightly-{name}.pem")
    app = lab.register_app(certificates=[c.certificate for c in certs])
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "certificate_name": "CN=nightly-export-demo",
    }


@demo_step("cert-object", "a .pfx file with its password by reference (env:ENTRA_AUTH_DEMO_PFX)")
def _cert_object(lab: DemoLab) -> dict[str, Any]:
    from entra_auth_emulator.pki import make_leaf_cert

    cert = make_leaf_cert("CN=contoso-pfx-demo")
    password = lab.new_secret()
    path = cert.write_pfx(lab.workdir / "contoso-pfx-demo.pfx", password)
    lab.set_env("ENTRA_AUTH_DEMO_PFX", password)
    app = lab.register_app(certificates=[cert.certificate])
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "certificate_path": str(path),
        "certificate_password": "env:ENTRA_AUTH_DEMO_PFX",
    }


@demo_step("cert-object", "subject name + issuer: a CA-issued certificate sent with its chain")
def _cert_sni(lab: DemoLab) -> dict[str, Any]:
    from entra_auth_emulator.pki import make_ca, make_leaf_cert

    root = make_ca("CN=Contoso Demo Root CA,O=Contoso")
    issuing = make_ca("CN=Contoso Demo Issuing CA,O=Contoso", issuer=root)
    leaf = make_leaf_cert("CN=sni-demo.contoso.com", issuer=issuing)
    path = leaf.write_pem(lab.workdir / "sni-demo.pem", with_chain=True)
    app = lab.register_app(trusted_issuers=[root.certificate])  # no certificate uploaded
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "certificate_path": str(path),
        "send_certificate_chain": True,
    }


@demo_step("cert-object", "a certificate not uploaded to the app, refused by Entra", refusal=True)
def _cert_unregistered(lab: DemoLab) -> dict[str, Any]:
    from entra_auth_emulator.pki import make_leaf_cert

    uploaded, used = make_leaf_cert("CN=uploaded-demo"), make_leaf_cert("CN=not-uploaded-demo")
    app = lab.register_app(
        display_name="Contoso Refused (demo)", certificates=[uploaded.certificate]
    )
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "certificate_path": str(used.write_pem(lab.workdir / "not-uploaded-demo.pem")),
    }


# -- managed-identity -----------------------------------------------------------------------------

# Variables that would send the demo to a real identity endpoint instead of the emulator's.
_HOST_VARIABLES = (
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
)


def _demo_imds(lab: DemoLab) -> None:
    """Route managed identity requests to the emulator's IMDS, never to 169.254.169.254.

    On a machine with the Azure Arc agent installed, msal asks the agent (localhost:40342)
    rather than IMDS whatever AZURE_POD_IDENTITY_AUTHORITY_HOST says; there the demo uses the
    emulator's App Service endpoint, whose variables outrank the agent, so the demo never signs
    in as the machine's real identity (the context then shows ManagedIdentitySource AppService).
    """
    from entra_auth_managed_identity.hosts import arc_agent

    for name in _HOST_VARIABLES:
        lab.unset_env(name)
    lab.set_env("AZURE_POD_IDENTITY_AUTHORITY_HOST", lab.emulator.imds_endpoint)
    if arc_agent():
        lab.set_env("IDENTITY_ENDPOINT", lab.emulator.identity_endpoint)
        lab.set_env("IDENTITY_HEADER", lab.emulator.identity_header)


@demo_step("managed-identity", "the VM's system-assigned managed identity (IMDS)")
def _mi_system(lab: DemoLab) -> dict[str, Any]:
    _demo_imds(lab)
    lab.emulator.register_managed_identity(
        lab.tenant_id, display_name="vm-automation (demo)", roles=list(DEMO_ROLES)
    )
    return {}


@demo_step("managed-identity", "a user-assigned managed identity by client id (IMDS)")
def _mi_user(lab: DemoLab) -> dict[str, Any]:
    _demo_imds(lab)
    client_id = str(uuid.uuid4())
    lab.emulator.register_managed_identity(
        lab.tenant_id,
        client_id,
        resource_id=(
            f"/subscriptions/{uuid.uuid4()}/resourceGroups/demo/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/nightly-export-demo"
        ),
        display_name="nightly-export (demo)",
        roles=["User.Read.All"],
    )
    return {"client_id": client_id}


@demo_step(
    "managed-identity", "a user-assigned identity not assigned to this VM, refused", refusal=True
)
def _mi_unknown(lab: DemoLab) -> dict[str, Any]:
    _demo_imds(lab)
    return {"client_id": str(uuid.uuid4())}
