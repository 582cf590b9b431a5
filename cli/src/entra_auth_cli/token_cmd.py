"""``entra-auth token``: an access token for scripts (``curl -H "Authorization: Bearer $(…)"``).

It signs in again from the saved recipe: one token request per process (msal's tenant
discovery aside), secrets resolved from their references at that moment.
"""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from .output import echo, to_json


class TokenOutput(enum.StrEnum):
    raw = "raw"
    json = "json"


def token(
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="Scope to request. Default: the environment's Graph "
            "'.default' scope (https://graph.microsoft.com/.default).",
        ),
    ] = None,
    output: Annotated[
        TokenOutput,
        typer.Option(case_sensitive=False, help="raw: the token alone; json: token and expiry."),
    ] = TokenOutput.raw,
) -> None:
    """Print an access token for the current connection."""
    from entra_auth import Environment, paths, prepare
    from entra_auth.config import Config
    from entra_auth.connect import open_credential
    from entra_auth.errors import SecretReferenceError

    from . import state
    from .prompted_secrets import not_kept_hint

    saved = state.load()
    env = Environment(**saved.environment)  # type: ignore[arg-type]  # saved as strings
    scopes = tuple(scope) if scope else (env.default_scope,)
    request = prepare(
        saved.provider,
        saved.options,
        environment=env,
        context_scope=saved.context_scope,
        use_profiles=False,
        # The saved connection is complete: a config edited since must not change it.
        config=Config(paths.config_file()),
    )
    credential = open_credential(
        request,
        scopes=scopes,
        fetch_token=False,
        # A token cached by CurrentUser is served without loading the provider (nor msal).
        defer_create=True,
    )
    try:
        info = credential.get_token_info(*scopes)
    except SecretReferenceError:
        hint = not_kept_hint(request)
        if hint is None:
            raise
        raise SecretReferenceError(hint) from None
    finally:
        credential.close()
    if output is TokenOutput.json:
        echo(
            to_json(
                {
                    "token_type": info.token_type,
                    "access_token": info.token,
                    "expires_on": info.expires_on,
                    "scopes": list(scopes),
                }
            )
        )
    else:
        echo(info.token)
