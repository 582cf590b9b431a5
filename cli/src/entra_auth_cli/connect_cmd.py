"""``entra-auth connect`` and ``entra-auth disconnect``: sign in once, remember how.

``connect`` gets a token right away, as Connect-Entra does, so a wrong secret fails here and
not in the first script that needs a token. What it saves is the recipe (provider, options with
secret references, resolved environment) plus the context for ``entra-auth context``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import connect_flags as flag
from .output import Output, echo, note, to_json

WELCOME = "Welcome To Microsoft Graph!"


def connect(
    profile: Annotated[
        str | None,
        typer.Option(help="Start from this profile of the config file; flags override its values."),
    ] = None,
    client_id: flag.ClientId = None,
    tenant_id: flag.TenantId = None,
    certificate_thumbprint: flag.CertificateThumbprint = None,
    certificate_name: flag.CertificateName = None,
    certificate: flag.CertificatePath = None,
    certificate_password: flag.CertificatePassword = None,
    client_secret: flag.ClientSecret = None,
    identity: flag.Identity = False,
    object_id: flag.ObjectId = None,
    resource_id: flag.ResourceId = None,
    environment_variable: flag.EnvironmentVariable = False,
    provider: flag.ProviderName = None,
    option: flag.ProviderOptions = None,
    environment: flag.EnvironmentName = None,
    context_scope: flag.ContextScope = None,
    send_certificate_chain: flag.SendCertificateChain = False,
    no_welcome: Annotated[
        bool,
        typer.Option(
            "--no-welcome",
            help="Do not print the welcome line.",
            rich_help_panel=flag.SESSION_PANEL,
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
    from entra_auth import connect as entra_connect
    from entra_auth.config import load_config
    from entra_auth.token_store import FileTokenStore, cache_folder, partition_key

    from . import state
    from .prompted_secrets import take_prompts
    from .sign_in_methods import checked_options, resolve_sign_in

    flags = flag.sign_in_flags(locals())
    config = load_config()
    resolved = resolve_sign_in(
        flags, config=config, profile=profile, environment=environment, context_scope=context_scope
    )
    env = resolved.environment
    # Checked before any prompt or request: a bad option must not cost the user a typed secret.
    checked_options(resolved.provider, resolved.options)
    prompted = take_prompts(resolved.provider, resolved.options)
    # Saved as core normalises them, so the CurrentUser cache partition can be found again.
    saved_options = checked_options(resolved.provider, prompted.saved_options)
    store = None
    if resolved.context_scope == "CurrentUser":
        # Keyed by what is saved (a keyring reference, not the typed value), so a later
        # 'entra-auth token' finds the token this sign-in caches.
        store = FileTokenStore(
            cache_folder(), partition_key(resolved.provider, env.authority_host, saved_options)
        )
    credential = entra_connect(
        resolved.provider,
        environment=env,
        context_scope=resolved.context_scope,
        config=config,
        store=store,
        **prompted.connect_options,
    )
    try:
        context = credential.context.as_dict()
    finally:
        credential.close()
    kept = prompted.keep()
    state.save(
        state.SavedConnection(
            provider=resolved.provider,
            options=checked_options(resolved.provider, prompted.saved_options),
            environment=env.as_dict(),
            context_scope=resolved.context_scope,
            context=context,
            profile=resolved.profile,
            kept_in_keyring=kept,
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
    from .prompted_secrets import forget_kept

    secrets = forget_kept(forgotten.kept_in_keyring)
    kept = (
        f" and {secrets} secret{'s' if secrets != 1 else ''} in the OS keyring" if secrets else ""
    )
    echo(f"Disconnected: forgot the saved connection for {forgotten.describe()}{cached}{kept}.")
