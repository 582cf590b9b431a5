"""entra-auth provider ``client-secret``: sign in as an app with a client secret.

The secret is always a reference (``env:AZURE_CLIENT_SECRET``, ``file:…``, ``prompt``…),
resolved by core when the first token is needed, and handed to msal without being stored.
"""

from __future__ import annotations

from collections.abc import Callable

from entra_auth import Option, Provider, ProviderSettings, TokenSource, hookimpl
from entra_auth.providers import CLIENT_ID, TENANT_ID


class ClientSecretProvider(Provider):
    name = "client-secret"
    summary = "An app registration's client secret, given by reference (env:, file:, prompt…)."
    auth_type = "AppOnly"
    options = (
        CLIENT_ID,
        TENANT_ID,
        Option(
            "client_secret",
            "Reference to the client secret: env:NAME, file:PATH, keyring:SERVICE/NAME, "
            "prompt or stdin.",
            required=True,
            secret=True,
        ),
    )

    def create(self, settings: ProviderSettings) -> TokenSource:
        from entra_auth.msal_confidential import ConfidentialClientSource

        # Resolve now so a missing variable or unreadable file fails before any request.
        secret = settings.secret("client_secret")
        assert secret is not None
        return ConfidentialClientSource(
            settings,
            client_id=settings.require("client_id"),
            tenant_id=settings.require("tenant_id"),
            client_credential=_deferred(secret),
        )


def _deferred(secret: str) -> Callable[[], str]:
    """Keep the value inside a closure, out of any attribute a repr or debugger dump shows."""
    return lambda: secret


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(ClientSecretProvider())
