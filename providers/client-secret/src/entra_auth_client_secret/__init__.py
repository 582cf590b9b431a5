"""entra-auth provider ``client-secret``: sign in as an app with a client secret.

The secret is always a reference (``env:AZURE_CLIENT_SECRET``, ``file:…``, ``prompt``…),
resolved by core when the first token is needed, and handed to msal without being stored.
Built only on the public ``entra_auth`` namespace, like any third-party provider.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from entra_auth import (
    CLIENT_ID,
    TENANT_ID,
    ConfidentialClientSource,
    Option,
    Provider,
    ProviderSettings,
    TokenSource,
    hookimpl,
)

if TYPE_CHECKING:
    from entra_auth import DemoLab, DemoStep

__all__ = ["ClientSecretProvider"]


class ClientSecretProvider(Provider):
    name = "client-secret"
    summary = "An app registration's client secret, given by reference (env:, file:, prompt…)."
    auth_type = "AppOnly"
    environment_rank = 10  # EnvironmentCredential tries a secret first
    options = (
        CLIENT_ID,
        TENANT_ID,
        Option(
            "client_secret",
            "Reference to the client secret: env:NAME, file:PATH, keyring:SERVICE/NAME, "
            "prompt or stdin. Never the secret itself.",
            required=True,
            secret=True,
            selects=True,
            env="AZURE_CLIENT_SECRET",
        ),
    )

    def create(self, settings: ProviderSettings) -> TokenSource:
        # Resolve now so a missing variable or unreadable file fails before any request.
        secret = settings.secret("client_secret")
        assert secret is not None
        return ConfidentialClientSource(
            settings,
            client_id=settings.require("client_id"),
            tenant_id=settings.require("tenant_id"),
            client_credential=_deferred(secret),
        )

    def demo_steps(self) -> Sequence[DemoStep]:
        from entra_auth import DemoStep  # the demo's types load only for the demo

        return (
            DemoStep(
                "a client secret, passed by reference (env:ENTRA_AUTH_DEMO_SECRET)", _demo_secret
            ),
            DemoStep("a wrong client secret, refused by Entra", _demo_wrong_secret, refusal=True),
        )


def _deferred(secret: str) -> Callable[[], str]:
    """Keep the value inside a closure, out of any attribute a repr or debugger dump shows."""
    return lambda: secret


def _demo_secret(lab: DemoLab) -> dict[str, str]:
    secret = lab.new_secret()
    app = lab.register_app(secrets=[secret])
    lab.set_env("ENTRA_AUTH_DEMO_SECRET", secret)
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "client_secret": "env:ENTRA_AUTH_DEMO_SECRET",
    }


def _demo_wrong_secret(lab: DemoLab) -> dict[str, str]:
    app = lab.register_app(display_name="Contoso Refused (demo)", secrets=[lab.new_secret()])
    lab.set_env("ENTRA_AUTH_DEMO_WRONG_SECRET", lab.new_secret())
    return {
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "client_secret": "env:ENTRA_AUTH_DEMO_WRONG_SECRET",
    }


@hookimpl
def entra_auth_register_providers(register: Callable[[Provider], None]) -> None:
    register(ClientSecretProvider())
