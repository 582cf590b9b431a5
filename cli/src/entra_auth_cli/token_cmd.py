"""``entra-auth token``: an access token for scripts (``curl -H "Authorization: Bearer $(…)"``).

It signs in again from the saved recipe, or from ``--profile NAME`` without touching the saved
connection: one token request per process (none with a CurrentUser-cached token), secrets
resolved from their references at that moment.
"""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from .output import echo, to_json
from .sessions import (
    DEFAULT_TIMEOUT,
    ProfileOption,
    TimeoutOption,
    chosen_profile,
    request_for,
    within,
)


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
    profile: ProfileOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Print an access token for the current connection (or a profile)."""
    from entra_auth.connect import open_credential
    from entra_auth.errors import SecretReferenceError

    from .prompted_secrets import not_kept_hint

    request = request_for(chosen_profile(profile))
    scopes = tuple(scope) if scope else (request.environment.default_scope,)
    credential = open_credential(
        request,
        scopes=scopes,
        fetch_token=False,
        # A token cached by CurrentUser is served without loading the provider (nor msal).
        defer_create=True,
    )
    try:
        info = within(
            timeout,
            f"a token from {request.environment.authority_host}",
            lambda: credential.get_token_info(*scopes),
        )
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
