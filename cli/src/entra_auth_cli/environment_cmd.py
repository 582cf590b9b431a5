"""``entra-auth environment``: the clouds to sign in to, Get-MgEnvironment style.

The four built-ins (Global, China, USGov, USGovDoD) are fixed, as in Graph PowerShell; custom
ones (a lab, a private cloud, the emulator) live in the config file's ``[environments.NAME]``
tables, each with an optional CA bundle that TLS trusts for that environment alone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from .completion import custom_environment_names
from .output import Output, data_json, echo, format_table, warn
from .profile_cmd import OutputOption, check_name

environment_app = typer.Typer(
    name="environment",
    help="Clouds to sign in to: the built-ins and custom ones (list, add, remove).",
    no_args_is_help=True,
)

EnvironmentArgument = Annotated[str, typer.Argument(metavar="NAME", help="The environment's name.")]
CustomEnvironment = Annotated[
    str,
    typer.Argument(
        metavar="NAME", autocompletion=custom_environment_names, help="The environment's name."
    ),
]


@environment_app.command("list")
def list_environments(output: OutputOption = Output.table) -> None:
    """List the built-in environments and those of the config file."""
    from entra_auth.config import load_config
    from entra_auth.environments import BUILTIN_ENVIRONMENTS

    config = load_config()
    rows: list[dict[str, Any]] = []
    for env in [*BUILTIN_ENVIRONMENTS.values(), *config.environments.values()]:
        rows.append(
            {
                **env.as_dict(),
                "ca_bundle": env.ca_bundle,
                "source": "built-in" if env.builtin else "config",
            }
        )
    if output is Output.json:
        echo(data_json({"config_file": str(config.path), "environments": rows}))
    else:
        columns = [
            ("name", "NAME"),
            ("authority_host", "AUTHORITY HOST"),
            ("graph_endpoint", "GRAPH ENDPOINT"),
            ("ca_bundle", "CA BUNDLE"),
            ("source", "SOURCE"),
        ]
        echo(format_table(rows, columns))
    override = os.environ.get("AZURE_AUTHORITY_HOST", "").strip()
    if override:
        warn(f"AZURE_AUTHORITY_HOST={override} overrides the authority host of every environment")


@environment_app.command("add")
def add_environment(
    name: EnvironmentArgument,
    authority_host: Annotated[
        str,
        typer.Option("--authority-host", metavar="URL", help="Where to sign in (https://login.…)."),
    ],
    graph_endpoint: Annotated[
        str,
        typer.Option(
            "--graph-endpoint",
            metavar="URL",
            help="The Graph this cloud's tokens are for; the default scope is URL/.default.",
        ),
    ],
    ca_bundle: Annotated[
        str | None,
        typer.Option(
            "--ca-bundle",
            metavar="PATH",
            help="PEM file of the CAs TLS trusts for this environment (instead of "
            "REQUESTS_CA_BUNDLE and the system store).",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a custom environment of the same name.")
    ] = False,
) -> None:
    """Add a custom environment to the config file."""
    from entra_auth import UsageError
    from entra_auth.environments import validate_url

    from .config_edit import editing_config

    check_name(name, "environment")
    _refuse_builtin(name, "add")
    table: dict[str, Any] = {
        "authority_host": validate_url(authority_host, "--authority-host"),
        "graph_endpoint": validate_url(graph_endpoint, "--graph-endpoint"),
    }
    if ca_bundle is not None:
        table["ca_bundle"] = str(_check_ca_bundle(ca_bundle))
    with editing_config() as (config, document):
        if name in config.environments and not replace:
            raise UsageError(
                f"environment {name!r} already exists in {config.path}; add --replace to "
                "overwrite it, or choose another name"
            )
        document.set_table("environments", name, table)
    verb = "Replaced" if name in config.environments else "Added"
    echo(f"{verb} environment {name!r} in {config.path}.")


@environment_app.command("remove")
def remove_environment(name: CustomEnvironment) -> None:
    """Remove a custom environment (not while a profile uses it)."""
    from entra_auth import UsageError

    from .config_edit import editing_config

    _refuse_builtin(name, "remove")
    with editing_config() as (config, document):
        if name not in config.environments:
            known = ", ".join(config.environments) or "none"
            raise UsageError(
                f"no custom environment {name!r} in {config.path}; custom environments: {known}"
            )
        users = [
            p.name
            for p in config.profiles.values()
            if (p.environment or "").lower() == name.lower()
        ]
        if users:
            raise UsageError(
                f"environment {name!r} is used by profile{'s' if len(users) > 1 else ''} "
                f"{', '.join(users)}; change or remove {'them' if len(users) > 1 else 'it'} first"
            )
        document.remove_table("environments", name)
    echo(f"Removed environment {name!r} from {config.path}.")


def _refuse_builtin(name: str, verb: str) -> None:
    """Built-ins are Microsoft's clouds as Graph PowerShell knows them; a config file cannot
    redefine them (names match case-insensitively, as ``--environment`` does)."""
    from entra_auth import UsageError
    from entra_auth.environments import BUILTIN_ENVIRONMENTS

    for builtin in BUILTIN_ENVIRONMENTS:
        if builtin.lower() == name.lower():
            what = "redefined; choose another name" if verb == "add" else "removed"
            raise UsageError(f"{builtin} is a built-in environment and cannot be {what}")


def _check_ca_bundle(text: str) -> Path:
    """An absolute path to a readable PEM bundle, so a later process in another folder, or a
    typo, does not turn into a TLS failure at sign-in."""
    from entra_auth import UsageError

    path = Path(text).expanduser().absolute()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--ca-bundle {path}: {exc.strerror or exc}") from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise UsageError(
            f"--ca-bundle {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        )
    return path
