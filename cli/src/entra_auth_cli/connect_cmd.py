"""``entra-auth connect`` and ``entra-auth disconnect``: sign in once, remember how.

``connect`` gets a token right away, as Connect-Entra does, so a wrong secret fails here and
not in the first script that needs a token. What it saves is the recipe (provider, options with
secret references, resolved environment) plus the context for ``entra-auth context``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import connect_flags as flag
from .completion import profile_names
from .output import Output, data_json, echo, note
from .provider_flags import SESSION_PANEL
from .sessions import DEFAULT_TIMEOUT, TimeoutOption, within

WELCOME = "Welcome To Microsoft Graph!"


def connect(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            autocompletion=profile_names,
            help="Start from this profile of the config file; flags override its values.",
        ),
    ] = None,
    environment_variable: flag.EnvironmentVariable = False,
    provider: flag.ProviderName = None,
    option: flag.ProviderOptions = None,
    environment: flag.EnvironmentName = None,
    context_scope: flag.ContextScope = None,
    token_cache: flag.TokenCache = None,
    token_cache_encryption: flag.TokenCacheEncryption = None,
    no_welcome: Annotated[
        bool,
        typer.Option(
            "--no-welcome",
            help="Do not print the welcome line.",
            rich_help_panel=SESSION_PANEL,
        ),
    ] = False,
    output: Annotated[
        Output,
        typer.Option(
            case_sensitive=False, help="table: the welcome line; json: the context as JSON."
        ),
    ] = Output.table,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Sign in as an application (Connect-Entra) and remember the connection.

    The sign-in flags come from the installed providers: give one sign-in method's flag (or
    --provider, --environment-variable or a profile) with the options it needs."""
    from entra_auth.config import load_config
    from entra_auth.connect import open_credential

    from . import state
    from .prompted_secrets import refuse_unreplayable, take_prompts
    from .status import waiting

    # One pipeline: flags, profile and environment become one checked request before any
    # prompt or request, so a bad option never costs the user a typed secret.
    request = flag.prepare_from_command_line(
        ctx,
        provider=provider,
        option=option,
        environment_variable=environment_variable,
        environment=environment,
        context_scope=context_scope,
        token_cache=token_cache,
        token_cache_encryption=token_cache_encryption,
        config=load_config(),
        profile=profile,
    )
    refuse_unreplayable(request)  # before anything is typed
    prompted = take_prompts(request)  # before the deadline: typing takes the time it takes
    with waiting(f"Signing in at {request.environment.authority_host}"):
        credential = within(
            timeout,
            f"a token from {request.environment.authority_host}",
            lambda: open_credential(prompted.request, prove=True),
        )
    try:
        context = credential.context.as_dict()
    finally:
        credential.close()
    kept = prompted.keep()
    state.save(
        state.SavedConnection(
            provider=request.provider_name,
            options=prompted.saved_options,
            environment=request.environment.as_dict(),
            context_scope=request.context_scope,
            context=context,
            profile=request.profile,
            kept_in_keyring=kept,
            partition=prompted.request.partition,
        )
    )
    if output is Output.json:
        echo(data_json(context))
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
