"""The managed-identity steps of ``entra-auth demo``: IMDS answered by the emulator."""

from __future__ import annotations

import uuid
from typing import Any

from entra_auth import DemoLab, DemoStep

DEMO_ROLES = ["User.Read.All", "Group.Read.All"]

# Variables that would send the demo to a real identity endpoint instead of the emulator's.
_HOST_VARIABLES = (
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
)


def _use_emulator(lab: DemoLab) -> None:
    """Route managed identity requests to the emulator's IMDS, never to 169.254.169.254.

    On a machine with the Azure Arc agent installed, msal asks the agent (localhost:40342)
    rather than IMDS whatever AZURE_POD_IDENTITY_AUTHORITY_HOST says; there the demo uses the
    emulator's App Service endpoint, whose variables outrank the agent, so the demo never signs
    in as the machine's real identity (the context then shows ManagedIdentitySource AppService).
    """
    from .hosts import arc_agent

    for name in _HOST_VARIABLES:
        lab.unset_env(name)
    lab.set_env("AZURE_POD_IDENTITY_AUTHORITY_HOST", lab.emulator.imds_endpoint)
    if arc_agent():
        lab.set_env("IDENTITY_ENDPOINT", lab.emulator.identity_endpoint)
        lab.set_env("IDENTITY_HEADER", lab.emulator.identity_header)


def _system(lab: DemoLab) -> dict[str, Any]:
    _use_emulator(lab)
    lab.emulator.register_managed_identity(
        lab.tenant_id, display_name="vm-automation (demo)", roles=DEMO_ROLES
    )
    return {"identity": True}


def _user(lab: DemoLab) -> dict[str, Any]:
    _use_emulator(lab)
    client_id = str(uuid.uuid4())
    lab.emulator.register_managed_identity(
        lab.tenant_id,
        client_id,
        resource_id=(
            f"/subscriptions/{uuid.uuid4()}/resourceGroups/demo/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/nightly-export-demo"
        ),
        display_name="nightly-export (demo)",
        roles=DEMO_ROLES,
    )
    return {"identity": True, "client_id": client_id}


def _unknown(lab: DemoLab) -> dict[str, Any]:
    _use_emulator(lab)
    return {"identity": True, "client_id": str(uuid.uuid4())}


DEMO_STEPS = (
    DemoStep("the VM's system-assigned managed identity (IMDS)", _system),
    DemoStep("a user-assigned managed identity by client id (IMDS)", _user),
    DemoStep("a user-assigned identity not assigned to this VM, refused", _unknown, refusal=True),
)
