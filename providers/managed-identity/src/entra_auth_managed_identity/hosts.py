"""Which Azure host we are on, read from the environment the way msal and azure-identity do.

The host is decided once, when the provider is set up, so the context can say which source
answered and an error can name the endpoint that was tried and why it was the one chosen.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

IMDS_DEFAULT_HOST = "http://169.254.169.254"
IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token"
ARC_DEFAULT_ENDPOINT = "http://localhost:40342/metadata/identity/oauth2/token"
_ARC_AGENT_FILES = {
    "linux": "/opt/azcmagent/bin/himds",
    "win32": os.path.expandvars(r"${ProgramFiles}\AzureConnectedMachineAgent\himds.exe"),
}

# The names the context shows as ManagedIdentitySource.
IMDS = "IMDS"
APP_SERVICE = "AppService"
AZURE_ARC = "AzureArc"
SERVICE_FABRIC = "ServiceFabric"
CLOUD_SHELL = "CloudShell"
MACHINE_LEARNING = "MachineLearning"
SOURCES = (IMDS, APP_SERVICE, AZURE_ARC, SERVICE_FABRIC, CLOUD_SHELL, MACHINE_LEARNING)


@dataclass(frozen=True)
class Host:
    """The identity endpoint this process would ask, and the evidence for choosing it."""

    source: str
    endpoint: str
    chosen_by: str
    """The environment variables (or file) that selected this host, for error messages."""
    supports_user_assigned: bool = True

    def likely_cause(self) -> str:
        """What an unanswered endpoint most often means on this host."""
        if self.source == IMDS:
            cause = (
                "this machine is probably not an Azure VM, VM scale set or AKS node with a "
                "managed identity (off Azure, sign in with a certificate or a client secret)"
            )
            if self.chosen_by != "default":
                cause += "; AZURE_POD_IDENTITY_AUTHORITY_HOST points there: is that endpoint up?"
            return cause
        return (
            f"{self.chosen_by} say this is {_HOST_NAMES[self.source]}, but nothing answers "
            "there; check that the managed identity is enabled and the variables are current"
        )


_HOST_NAMES = {
    IMDS: "an Azure VM",
    APP_SERVICE: "App Service or Functions",
    AZURE_ARC: "an Azure Arc-enabled server",
    SERVICE_FABRIC: "a Service Fabric application",
    CLOUD_SHELL: "Azure Cloud Shell",
    MACHINE_LEARNING: "Azure Machine Learning",
}


def detect_host(environ: Mapping[str, str] | None = None) -> Host:
    """The host, in msal's order of precedence (Service Fabric, App Service, Azure ML, Arc,
    Cloud Shell, then IMDS), so we always ask the endpoint msal itself will ask."""
    env = os.environ if environ is None else environ
    identity_endpoint = env.get("IDENTITY_ENDPOINT")
    if identity_endpoint and "IDENTITY_HEADER" in env and "IDENTITY_SERVER_THUMBPRINT" in env:
        return Host(
            SERVICE_FABRIC,
            identity_endpoint,
            "IDENTITY_ENDPOINT, IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT",
            supports_user_assigned=False,
        )
    if identity_endpoint and "IDENTITY_HEADER" in env:
        return Host(APP_SERVICE, identity_endpoint, "IDENTITY_ENDPOINT and IDENTITY_HEADER")
    msi_endpoint = env.get("MSI_ENDPOINT")
    if msi_endpoint and "MSI_SECRET" in env:
        return Host(MACHINE_LEARNING, msi_endpoint, "MSI_ENDPOINT and MSI_SECRET")
    if identity_endpoint and "IMDS_ENDPOINT" in env:
        return Host(AZURE_ARC, identity_endpoint, "IDENTITY_ENDPOINT and IMDS_ENDPOINT")
    agent = _ARC_AGENT_FILES.get(sys.platform)
    if agent and os.path.exists(agent):
        return Host(AZURE_ARC, ARC_DEFAULT_ENDPOINT, f"the Arc agent at {agent}")
    if msi_endpoint:
        # azure-identity's rule; msal only looks at AZUREPS_HOST_ENVIRONMENT and leaves the
        # request itself to the caller, which is why Cloud Shell is requested here, not by msal.
        return Host(CLOUD_SHELL, msi_endpoint, "MSI_ENDPOINT", supports_user_assigned=False)
    pod_host = env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
    if pod_host:
        return Host(
            IMDS,
            pod_host.strip().rstrip("/") + IMDS_TOKEN_PATH,
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        )
    return Host(IMDS, IMDS_DEFAULT_HOST + IMDS_TOKEN_PATH, "default")
