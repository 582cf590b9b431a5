"""The typer application: global options and the command table.

Commands live in their own modules and import what they need when they run; this module
imports only typer, so ``entra-auth --help`` starts fast and loads no HTTP or crypto library.
Help is plain click text (``rich_markup_mode=None``): rich, which typer depends on, is never
imported. Shell completion is typer's own (``--install-completion [SHELL]``,
``--show-completion [SHELL]``), with profile, environment and provider names completed.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Sequence
from typing import Annotated

import typer
from typer.core import TyperGroup

from . import (
    certificate_cmd,
    connect_cmd,
    context_cmd,
    demo,
    emulator_cmd,
    environment_cmd,
    plugins_cmd,
    profile_cmd,
    providers_cmd,
    request_cmd,
    token_cmd,
)
from ._click import Context
from .provider_flags import ProviderFlagsCommand


class TopLevelGroup(TyperGroup):
    """The command table; the help page it renders is kept for the fast path (``help_cache``),
    which prints it without importing typer."""

    def get_help(self, ctx: Context) -> str:
        page = super().get_help(ctx)
        if ctx.parent is None:
            from .help_cache import store

            store(page)
        return page


app = typer.Typer(
    cls=TopLevelGroup,
    name="entra-auth",
    help="Sign in to Microsoft Entra ID as an application, the way Connect-Entra does.",
    no_args_is_help=True,
    # typer's own completion flags guess the shell (shellingham) and take none; these name it.
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: rich (which typer brings along) would cost ~70 ms on every --help.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_debug = False


def _version(value: bool) -> None:
    if value:
        from importlib import metadata

        def version(dist: str) -> str:
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                return "unknown"

        typer.echo(f"entra-auth {version('entra-auth-cli')} (core {version('entra-auth')})")
        raise typer.Exit()


class Shell(enum.StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"
    pwsh = "pwsh"


COMPLETE_VARIABLE = "_ENTRA_AUTH_COMPLETE"


def _completion(ctx: typer.Context, param: typer.CallbackParam, value: Shell | None) -> None:
    """``--install-completion SHELL`` / ``--show-completion SHELL``: typer's scripts, for the
    shell named (typer's own flags guess it from the parent process)."""
    if value is None or ctx.resilient_parsing:
        return
    from typer import completion

    completion.completion_init()
    chosen = Shell(value).value
    if param.name == "install_completion":
        completion.install_callback(ctx, param, chosen)
    else:
        completion.show_callback(ctx, param, chosen)


@app.callback()
def main_options(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Tracebacks, and DEBUG logging with secrets and tokens redacted."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    install_completion: Annotated[
        Shell | None,
        typer.Option(
            "--install-completion",
            metavar="SHELL",
            callback=_completion,
            expose_value=False,
            is_eager=True,
            case_sensitive=False,
            help="Install completion for SHELL (bash, zsh, fish, powershell or pwsh).",
        ),
    ] = None,
    show_completion: Annotated[
        Shell | None,
        typer.Option(
            "--show-completion",
            metavar="SHELL",
            callback=_completion,
            expose_value=False,
            is_eager=True,
            case_sensitive=False,
            help="Print the completion script for SHELL, to copy it or customize the installation.",
        ),
    ] = None,
) -> None:
    """Sign in to Microsoft Entra ID as an application, the way Connect-Entra does."""
    global _debug
    if debug:
        _debug = True
        from .debug_logging import enable_debug

        enable_debug()


app.command("connect", cls=ProviderFlagsCommand)(connect_cmd.connect)
app.command("context")(context_cmd.context)
app.command("token")(token_cmd.token)
app.command("request")(request_cmd.request)
app.add_typer(certificate_cmd.certificate_app, name="certificate")
app.command("disconnect")(connect_cmd.disconnect)
app.add_typer(profile_cmd.profile_app, name="profile")
app.command("plugins")(plugins_cmd.plugins)
app.command("providers")(providers_cmd.providers)
app.add_typer(environment_cmd.environment_app, name="environment")
app.command(
    "emulator",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)(emulator_cmd.emulator)
app.command("demo")(demo.demo)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code, every failure reported by ``errors.report``."""
    global _debug
    args = list(sys.argv[1:] if argv is None else argv)
    _debug = "--debug" in args[: args.index("--")] if "--" in args else "--debug" in args
    if not _debug:
        from .debug_logging import show_warnings

        show_warnings()
    if COMPLETE_VARIABLE in os.environ:  # the shell asks for completions
        from typer.completion import completion_init

        completion_init()
    try:
        result = app(args=args, prog_name="entra-auth", standalone_mode=False)
    except SystemExit as exc:  # a command (the emulator) chose its own exit code
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:
        from .errors import report

        return report(exc, debug=_debug)
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
