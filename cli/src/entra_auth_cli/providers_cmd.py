"""``entra-auth providers``: what is installed, from which distribution, and what is broken.

Plugin failures and name clashes are warnings, not errors: one broken plugin must not hide
the working ones, but the user needs to see why a provider they installed is missing.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .output import Output, data_json, echo, format_table, warn


def providers(
    output: Annotated[
        Output, typer.Option(case_sensitive=False, help="table or json.")
    ] = Output.table,
) -> None:
    """List the installed credential providers."""
    from entra_auth import plugins

    host = plugins.get_host()
    rows: list[dict[str, Any]] = []
    for name, entry in sorted(host.providers().items()):
        provider = entry.provider
        rows.append(
            {
                "name": name,
                "summary": provider.summary,
                "auth_type": provider.auth_type,
                "distribution": entry.distribution,
                "version": entry.version,
                "plugin": entry.plugin,
                "demo_steps": len(provider.demo_steps()),
                "options": [
                    {
                        "name": o.name,
                        "flag": o.cli_flag,
                        "type": o.type,
                        "help": o.help,
                        "required": o.required,
                        "secret": o.secret,
                        "selects": o.selects,
                        "env": o.env,
                    }
                    for o in provider.options
                ],
            }
        )
    problems = host.problems()
    if output is Output.json:
        echo(data_json({"providers": rows, "problems": problems}))
    else:
        columns = [
            ("name", "NAME"),
            ("auth_type", "AUTH TYPE"),
            ("distribution", "DISTRIBUTION"),
            ("version", "VERSION"),
            ("summary", "SUMMARY"),
        ]
        echo(
            format_table(rows, columns)
            if rows
            else "No providers are installed; install them all with pip install "
            "'entra-auth-cli[all]', or one, e.g. pip install entra-auth-client-secret (see "
            "'entra-auth plugins')."
        )
    for problem in problems:
        warn(problem)
