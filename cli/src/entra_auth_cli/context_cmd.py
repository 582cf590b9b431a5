"""``entra-auth context``: Get-EntraContext, from the saved connection without the network (and
without importing msal), or from ``--profile NAME`` through the token cache."""

from __future__ import annotations

from typing import Annotated

import typer

from .output import Output, data_json, echo, format_list
from .sessions import (
    DEFAULT_TIMEOUT,
    ProfileOption,
    TimeoutOption,
    chosen_profile,
    request_for,
    within,
)


def context(
    output: Annotated[
        Output, typer.Option(case_sensitive=False, help="table or json.")
    ] = Output.table,
    profile: ProfileOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Show the current connection (Get-EntraContext); with --profile, that profile's, signed
    in through the token cache."""
    from . import state

    chosen = chosen_profile(profile)
    if chosen is None:
        shown = state.load().context
    else:
        from entra_auth.connect import open_credential

        request = request_for(chosen)
        credential = open_credential(request, fetch_token=False)
        from .status import waiting

        try:
            with waiting(f"Getting a token from {request.environment.authority_host}"):
                within(
                    timeout,
                    f"a token from {request.environment.authority_host}",
                    lambda: credential.get_token_info(*credential.default_scopes),
                )
            shown = credential.context.as_dict()
        finally:
            credential.close()
    echo(data_json(shown) if output is Output.json else format_list(shown))
