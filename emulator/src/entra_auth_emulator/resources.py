"""The resources tokens may be requested for: Microsoft's first-party APIs every tenant has, the
``api://<client_id>`` (and bare client id) of registered apps, and ``[[resources]]`` from the
config or the admin API.

Entra refuses a token for anything else (AADSTS500011), so a typo in a scope fails here as it
would there instead of quietly getting a token for a resource that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import ResourceRegistration

# Microsoft's first-party resources (app ids as in every tenant) and their identifier URIs.
# All of them issue v1.0 tokens (their accessTokenAcceptedVersion is null).
BUILT_IN: tuple[ResourceRegistration, ...] = (
    ResourceRegistration(
        identifier_uris=(
            "https://graph.microsoft.com",
            "https://graph.microsoft.us",
            "https://dod-graph.microsoft.us",
            "https://microsoftgraph.chinacloudapi.cn",
            "https://canary.graph.microsoft.com",
        ),
        app_id="00000003-0000-0000-c000-000000000000",
        display_name="Microsoft Graph",
    ),
    ResourceRegistration(
        identifier_uris=(
            "https://management.azure.com",
            "https://management.core.windows.net",
            "https://management.usgovcloudapi.net",
            "https://management.chinacloudapi.cn",
        ),
        app_id="797f4846-ba00-4fd7-ba43-dac1f8f63013",
        display_name="Windows Azure Service Management API",
    ),
    ResourceRegistration(
        identifier_uris=(
            "https://vault.azure.net",
            "https://vault.usgovcloudapi.net",
            "https://vault.azure.cn",
        ),
        app_id="cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
        display_name="Azure Key Vault",
    ),
    ResourceRegistration(
        identifier_uris=("https://storage.azure.com",),
        app_id="e406a681-f3d4-42a8-90b6-c2b029497af1",
        display_name="Azure Storage",
    ),
)

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


@dataclass(frozen=True)
class ResolvedResource:
    """A resource as one token request named it."""

    requested: str  # the resource as the client spelled it (the v1 ``aud``)
    app_id: str  # the resource's application id (the v2 ``aud``)
    display_name: str
    version: int  # the access token version it accepts: 1 or 2

    @property
    def is_graph(self) -> bool:
        return self.app_id == GRAPH_APP_ID


def comparable(identifier: str) -> str:
    """Identifier URIs compare case-insensitively and without one trailing slash
    (``https://management.core.windows.net/`` is the same resource without it)."""
    lowered = identifier.strip().lower()
    return lowered[:-1] if lowered.endswith("/") and not lowered.endswith("//") else lowered


def index(resources: tuple[ResourceRegistration, ...]) -> dict[str, ResourceRegistration]:
    """Every identifier URI and app id of ``resources``, comparable form -> registration."""
    found: dict[str, ResourceRegistration] = {}
    for resource in resources:
        for name in (*resource.identifier_uris, resource.app_id):
            found[comparable(name)] = resource
    return found
