"""entra-auth provider ``managed-identity``: sign in as the Azure resource this code runs on.

``--identity`` alone is the system-assigned identity; ``--client-id``, ``--object-id`` or
``--resource-id`` names a user-assigned one. The host (IMDS, App Service, Arc, Service Fabric,
Cloud Shell, Azure ML) is read from the environment as msal and azure-identity read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from entra_auth import (
    Option,
    Provider,
    ProviderSettings,
    TokenSource,
    UsageError,
    hookimpl,
)

from .hosts import Host, detect_host
from .identity import Identity, check_client_id, check_object_id, check_resource_id

if TYPE_CHECKING:
    from entra_auth import DemoStep

__all__ = ["ManagedIdentityProvider", "create_source"]


class ManagedIdentityProvider(Provider):
    name = "managed-identity"
    summary = "The Azure managed identity of this VM, App Service, Arc server or other host."
    auth_type = "ManagedIdentity"
    options = (
        Option(
            "identity",
            "Use the managed identity of this Azure host (with --client-id, --object-id or "
            "--resource-id: a user-assigned one).",
            type="bool",
            selects=True,
        ),
        Option(
            "client_id",
            "Client (application) id of a user-assigned identity; leave out for the "
            "system-assigned identity.",
            metavar="GUID",
            check=check_client_id,
        ),
        Option(
            "object_id",
            "Object (principal) id of a user-assigned identity.",
            metavar="GUID",
            check=check_object_id,
        ),
        Option(
            "resource_id",
            "ARM resource id of a user-assigned identity.",
            metavar="ID",
            check=check_resource_id,
        ),
    )

    def validate(self, options: Mapping[str, Any]) -> None:
        Identity.from_options(options)

    def create(self, settings: ProviderSettings) -> TokenSource:
        return create_source(Identity.from_options(settings.options), detect_host())

    def cache_scope(self, options: Mapping[str, Any]) -> Mapping[str, str]:
        """Tokens belong to the endpoint that issued them: switching hosts (IMDS to App
        Service, another IMDS address) must not serve the previous host's token."""
        host = detect_host()
        return {"identity_endpoint": f"{host.source} {host.endpoint}"}

    def demo_steps(self) -> Sequence[DemoStep]:
        from .demo import DEMO_STEPS

        return DEMO_STEPS


def create_source(identity: Identity, host: Host) -> TokenSource:
    """The token source for ``identity`` on ``host``; refuses, before any request, what the
    host cannot do."""
    from .source import ManagedIdentityTokenSource

    if identity.user_assigned and not host.supports_user_assigned:
        raise UsageError(
            f"{host.source} does not let the caller choose a user-assigned identity (it was "
            f"selected by {host.chosen_by}); drop --client-id/--object-id/--resource-id"
            + (
                " and configure the identity on the cluster's application manifest"
                if host.source == "ServiceFabric"
                else ""
            )
        )
    return ManagedIdentityTokenSource(identity, host)


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(ManagedIdentityProvider())
