"""Which Azure host we are on, read from the environment the way msal and azure-identity do.

The host is decided once, when the provider is set up, so the context can say which source
answered and an error can name the endpoint that was tried and why it was the one chosen. The
tests are strict to msal (a variable that is *set*, even empty, counts) because msal reads the
same variables again when it sends the request: if the two disagreed, an error message would
name an endpoint that was never asked. A variable that selects a host but cannot work (empty,
not a URL, a thumbprint that is not one) is refused here, before any request, as bad
configuration.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from entra_auth import UsageError

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


class Host(NamedTuple):
    """The identity endpoint this process would ask, and the evidence for choosing it. (A named
    tuple, not a dataclass: this module is imported by every managed identity sign-in, and a
    dataclass costs about a millisecond to define.)"""

    source: str
    endpoint: str
    chosen_by: str
    """The environment variables (or file) that selected this host, for error messages."""
    supports_user_assigned: bool = True
    secret: str | None = None
    """Service Fabric's ``IDENTITY_HEADER``, sent as its ``Secret`` header."""
    server_thumbprint: str | None = None
    """Service Fabric's endpoint certificate, SHA-1, lower-case hex: the only one trusted."""

    def __repr__(self) -> str:
        pairs = zip(self._fields, self, strict=True)
        shown = ", ".join(f"{k}={v!r}" for k, v in pairs if k != "secret")
        return f"Host({shown})"

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


def arc_agent() -> str | None:
    """The Arc agent's file when it is installed here (msal then uses the agent's endpoint even
    without IDENTITY_ENDPOINT); a function so tests on an Arc machine can say "not installed"."""
    agent = _ARC_AGENT_FILES.get(sys.platform)
    return agent if agent and os.path.exists(agent) else None


def detect_host(environ: Mapping[str, str] | None = None) -> Host:
    """The host, in msal's order of precedence (Service Fabric, App Service, Azure ML, Arc,
    Cloud Shell, then IMDS), so we always ask the endpoint msal itself will ask.

    :raises UsageError: the variables select a host but cannot work as given.
    """
    env = os.environ if environ is None else environ
    if "IDENTITY_ENDPOINT" in env and "IDENTITY_HEADER" in env:
        if "IDENTITY_SERVER_THUMBPRINT" in env:
            endpoint = _url(env, "IDENTITY_ENDPOINT", schemes=("https",))
            return Host(
                SERVICE_FABRIC,
                endpoint,
                "IDENTITY_ENDPOINT, IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT",
                supports_user_assigned=False,
                secret=env["IDENTITY_HEADER"],
                server_thumbprint=_sha1_thumbprint(env["IDENTITY_SERVER_THUMBPRINT"]),
            )
        endpoint = _url(env, "IDENTITY_ENDPOINT")
        return Host(APP_SERVICE, endpoint, "IDENTITY_ENDPOINT and IDENTITY_HEADER")
    if "MSI_ENDPOINT" in env and "MSI_SECRET" in env:
        return Host(MACHINE_LEARNING, _url(env, "MSI_ENDPOINT"), "MSI_ENDPOINT and MSI_SECRET")
    if "IDENTITY_ENDPOINT" in env and "IMDS_ENDPOINT" in env:
        endpoint = _url(env, "IDENTITY_ENDPOINT")
        return Host(AZURE_ARC, endpoint, "IDENTITY_ENDPOINT and IMDS_ENDPOINT")
    agent = arc_agent()
    if agent:
        return Host(AZURE_ARC, ARC_DEFAULT_ENDPOINT, f"the Arc agent at {agent}")
    if "MSI_ENDPOINT" in env:
        # azure-identity's rule; msal only looks at AZUREPS_HOST_ENVIRONMENT and leaves the
        # request itself to the caller, which is why Cloud Shell is requested here, not by msal.
        endpoint = _url(env, "MSI_ENDPOINT")
        return Host(CLOUD_SHELL, endpoint, "MSI_ENDPOINT", supports_user_assigned=False)
    if "AZURE_POD_IDENTITY_AUTHORITY_HOST" in env:
        # msal's own arithmetic (strip slashes, append the path): an empty value must not
        # quietly become 169.254.169.254 here while msal asks for a relative URL.
        base = _url(env, "AZURE_POD_IDENTITY_AUTHORITY_HOST").strip("/")
        return Host(IMDS, base + IMDS_TOKEN_PATH, "AZURE_POD_IDENTITY_AUTHORITY_HOST")
    return Host(IMDS, IMDS_DEFAULT_HOST + IMDS_TOKEN_PATH, "default")


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    value = env[name]
    parts = urlsplit(value)
    if value != value.strip() or parts.scheme.lower() not in schemes or not parts.hostname:
        wanted = " or ".join(f"{scheme}://" for scheme in schemes)
        raise UsageError(
            f"{name}={value!r} is not an {wanted} URL; it selects the managed identity "
            "endpoint, so fix or unset it"
        )
    return value


def _sha1_thumbprint(value: str) -> str:
    """msal's normalisation: spaces and colons dropped, 40 hex digits, lower case."""
    normalized = "".join(c for c in value if c not in " \t\r\n:").lower()
    if len(normalized) != 40 or any(c not in "0123456789abcdef" for c in normalized):
        raise UsageError(
            f"IDENTITY_SERVER_THUMBPRINT={value!r} is not a SHA-1 certificate thumbprint "
            "(40 hex digits); Service Fabric sets it for the application, check its manifest"
        )
    return normalized
