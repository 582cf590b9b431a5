"""``entra-auth connect`` and ``entra-auth disconnect``: sign in once, remember how.

``connect`` gets a token right away, as Connect-Entra does, so a wrong secret fails here and
not in the first script that needs a token. What it saves is the recipe (provider, options with
secret references, resolved environment) plus the context for ``entra-auth context``.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from .output import Output, echo, note, to_json

WELCOME = "Welcome To Microsoft Graph!"
CONTEXT_SCOPES = {"process": "Process", "currentuser": "CurrentUser"}

_METHOD = "Sign-in method (pick one)"
_APP = "App and identity"
_SESSION = "Session"


def connect(
    profile: Annotated[
        str | None,
        typer.Option(help="Start from this profile of the config file; flags override its values."),
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option(
            help="Application (client) ID; with --identity, a user-assigned identity's client ID.",
            rich_help_panel=_APP,
        ),
    ] = None,
    tenant_id: Annotated[
        str | None,
        typer.Option(help="Directory (tenant) ID or verified domain.", rich_help_panel=_APP),
    ] = None,
    certificate_thumbprint: Annotated[
        str | None,
        typer.Option(help="Certificate by SHA-1 (or SHA-256) thumbprint.", rich_help_panel=_METHOD),
    ] = None,
    certificate_name: Annotated[
        str | None,
        typer.Option(help="Certificate by subject name (CN=…).", rich_help_panel=_METHOD),
    ] = None,
    certificate: Annotated[
        str | None,
        typer.Option(
            metavar="PATH",
            help="Certificate file (PEM or PFX) with its key.",
            rich_help_panel=_METHOD,
        ),
    ] = None,
    certificate_password: Annotated[
        str | None,
        typer.Option(
            metavar="REF",
            help="Reference to the certificate file's password (env:NAME, file:PATH, prompt…).",
            rich_help_panel=_APP,
        ),
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            metavar="REF",
            help="Reference to the client secret: env:NAME, file:PATH, keyring:SERVICE/NAME, "
            "prompt or stdin. Never the secret itself.",
            rich_help_panel=_METHOD,
        ),
    ] = None,
    identity: Annotated[
        bool,
        typer.Option(
            "--identity",
            help="Use the managed identity of this Azure host.",
            rich_help_panel=_METHOD,
        ),
    ] = False,
    object_id: Annotated[
        str | None,
        typer.Option(
            help="With --identity: the user-assigned identity's object ID.", rich_help_panel=_APP
        ),
    ] = None,
    resource_id: Annotated[
        str | None,
        typer.Option(
            help="With --identity: the user-assigned identity's resource ID.", rich_help_panel=_APP
        ),
    ] = None,
    environment_variable: Annotated[
        bool,
        typer.Option(
            "--environment-variable",
            help="Read AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET or "
            "AZURE_CLIENT_CERTIFICATE_PATH, as azure-identity's EnvironmentCredential does.",
            rich_help_panel=_METHOD,
        ),
    ] = False,
    provider: Annotated[
        str | None,
        typer.Option(
            help="Sign in with this provider (see entra-auth providers); the other flags and "
            "--option become its options.",
            rich_help_panel=_METHOD,
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KEY=VALUE", help="A provider option; repeatable.", rich_help_panel=_METHOD
        ),
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option(
            help="Cloud: Global, China, USGov, USGovDoD or a custom one.", rich_help_panel=_SESSION
        ),
    ] = None,
    context_scope: Annotated[
        str | None,
        typer.Option(
            metavar="Process|CurrentUser",
            help="Process keeps tokens in memory only; CurrentUser may persist them.",
            rich_help_panel=_SESSION,
        ),
    ] = None,
    send_certificate_chain: Annotated[
        bool,
        typer.Option(
            "--send-certificate-chain",
            help="Send the certificate chain (x5c) for subject name + issuer sign-in.",
            rich_help_panel=_APP,
        ),
    ] = False,
    no_welcome: Annotated[
        bool,
        typer.Option(
            "--no-welcome", help="Do not print the welcome line.", rich_help_panel=_SESSION
        ),
    ] = False,
    output: Annotated[
        Output,
        typer.Option(
            case_sensitive=False, help="table: the welcome line; json: the context as JSON."
        ),
    ] = Output.table,
) -> None:
    """Sign in as an application (Connect-Entra) and remember the connection."""
    from entra_auth import UsageError, plugins
    from entra_auth import connect as entra_connect
    from entra_auth.config import load_config
    from entra_auth.connect import resolve_request, validate_options

    from . import state
    from .sign_in_methods import CHOOSE_A_METHOD, ConnectFlags, build_request, require_installed

    flags = ConnectFlags(
        client_id=client_id,
        tenant_id=tenant_id,
        certificate_thumbprint=certificate_thumbprint,
        certificate_name=certificate_name,
        certificate=certificate,
        certificate_password=certificate_password,
        client_secret=client_secret,
        identity=identity,
        object_id=object_id,
        resource_id=resource_id,
        environment_variable=environment_variable,
        send_certificate_chain=send_certificate_chain,
        provider=provider,
        option=option or (),
    )
    request = build_request(flags, environ=os.environ)
    scope: str | None = None
    if context_scope is not None:
        scope = CONTEXT_SCOPES.get(context_scope.lower())
        if scope is None:
            raise UsageError(
                f"--context-scope {context_scope!r} is not one of Process, CurrentUser"
            )
    config = load_config()
    if request.provider is None and config.selected_profile_name(profile) is None:
        raise UsageError(CHOOSE_A_METHOD)
    if request.provider is not None:
        require_installed(request.provider)
    # Without a method flag, --profile / ENTRA_AUTH_PROFILE / default_profile say how.
    resolved = resolve_request(
        config, plugins.get_host(), request.provider, profile, environment, scope, request.options
    )
    require_installed(resolved.provider)
    env = resolved.environment

    credential = entra_connect(
        resolved.provider,
        environment=env,
        context_scope=resolved.context_scope,
        config=config,
        **resolved.options,
    )
    try:
        context = credential.context.as_dict()
    finally:
        credential.close()
    # Saved as core normalises them, so the CurrentUser cache partition can be found again.
    entry = plugins.get_host().get_provider(resolved.provider)
    state.save(
        state.SavedConnection(
            provider=resolved.provider,
            options=validate_options(entry.provider, resolved.options),
            environment=env.as_dict(),
            context_scope=resolved.context_scope,
            context=context,
            profile=resolved.profile,
        )
    )
    if output is Output.json:
        echo(to_json(context))
        if not no_welcome:
            note(WELCOME)
    elif not no_welcome:
        echo(WELCOME)


def disconnect() -> None:
    """Forget the saved connection and its cached tokens (Disconnect-Entra). Safe to run when
    not connected."""
    from . import state

    forgotten = state.forget()
    if forgotten is None:
        echo("Not connected; nothing to forget.")
        return
    tokens = state.forget_cached_tokens(forgotten)
    cached = f" and {tokens} cached token{'s' if tokens != 1 else ''}" if tokens else ""
    echo(f"Disconnected: forgot the saved connection for {forgotten.describe()}{cached}.")
