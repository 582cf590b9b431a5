"""``entra-auth context``: Get-EntraContext, from the saved connection, without the network
(and without importing msal)."""

from __future__ import annotations

from typing import Annotated

import typer

from .output import Output, echo, format_list, to_json


def context(
    output: Annotated[
        Output, typer.Option(case_sensitive=False, help="table or json.")
    ] = Output.table,
) -> None:
    """Show the current connection (Get-EntraContext)."""
    from . import state

    saved = state.load()
    echo(to_json(saved.context) if output is Output.json else format_list(saved.context))
