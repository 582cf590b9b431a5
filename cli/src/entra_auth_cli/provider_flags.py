"""The sign-in flags of ``connect`` and ``profile add``, generated from the installed providers.

The CLI declares no provider flag itself: each provider's ``Option`` declarations become typer
options at run time (declared as ``typer.Option`` on a generated signature and built by typer
itself, so they are the parameters typer would make, whatever its version), so
a third-party provider gets its own flags, help, metavars and docs exactly as a built-in one
does. An option several providers declare alike (an app's ID, say) is one flag; conflicting
declarations are left out and reported by ``entra-auth plugins`` (core's ``cli_options``).
Generated values reach the command through ``ctx.meta`` rather than its signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from typer.core import TyperCommand

from . import _click as click

if TYPE_CHECKING:
    from entra_auth.plugins import CliOption

METHOD_PANEL = "Sign-in method (pick one)"
OPTIONS_PANEL = "Provider options"
SESSION_PANEL = "Session"
META_KEY = "entra_auth.provider_flags"
_PREFIX = "provider_option__"


class ProviderFlagsCommand(TyperCommand):
    """A typer command whose provider flags come from the installed providers."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = list(super().get_params(ctx))
        help_option = self.get_help_option(ctx)
        own = [p for p in params if p is not help_option]
        taken = {opt for p in own for opt in (*p.opts, *p.secondary_opts)}
        generated = [p for p in _generated_params() if not set(p.opts) & taken]
        return own + generated + ([help_option] if help_option is not None else [])

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            hint = _unavailable_plugins()
            if not hint:
                raise
            raise click.UsageError(f"{exc.format_message()} ({hint})", ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        given: dict[str, Any] = {}
        for name in list(ctx.params):
            if name.startswith(_PREFIX):
                value = ctx.params.pop(name)
                if value is not None and value is not False:
                    given[name.removeprefix(_PREFIX)] = value
        ctx.meta[META_KEY] = given
        return super().invoke(ctx)


def given_flags(ctx: click.Context) -> dict[str, Any]:
    """The provider options given as flags on this command line, by option name."""
    return dict(ctx.meta.get(META_KEY, {}))


def _unavailable_plugins() -> str:
    """Why a sign-in flag may be missing: its plugin is disabled or failed to load."""
    from entra_auth import plugins

    host = plugins.get_host()
    parts = [f"{d['plugin']} ({d['distribution']}) is disabled by {d['by']}" for d in host.disabled]
    parts += [str(f) for f in host.failures if not f.loaded]
    if not parts:
        return ""
    return "sign-in flags come from installed plugins; " + "; ".join(parts)


_cache: list[click.Parameter] | None = None
_cache_host: object = None


def _generated_params() -> list[click.Parameter]:
    global _cache, _cache_host
    from entra_auth import plugins

    host = plugins.get_host()
    if _cache is None or _cache_host is not host:
        _cache = _params(host.cli_options())
        _cache_host = host
    return _cache


def _params(cli_options: Sequence[CliOption]) -> list[click.Parameter]:
    """typer's own parameters for these options: a signature of ``typer.Option``s, turned
    into a command by ``typer.main.get_command`` (typer's public bridge to click)."""
    import inspect

    import typer
    import typer.main

    parameters: list[inspect.Parameter] = []
    annotations: dict[str, Any] = {}
    # Sign-in methods first (one is picked), then the options they take.
    for cli_option in sorted(cli_options, key=lambda c: not c.option.selects):
        option = cli_option.option
        flag = option.cli_flag
        assert flag is not None
        panel = METHOD_PANEL if option.selects else OPTIONS_PANEL
        name = _PREFIX + option.name
        if option.type == "bool":
            default = typer.Option(False, flag, help=cli_option.help, rich_help_panel=panel)
            annotations[name] = bool
        else:
            default = typer.Option(
                None,
                flag,
                metavar=option.cli_metavar,
                help=cli_option.help,
                rich_help_panel=panel,
                show_default=False,
            )
            annotations[name] = str | None
        parameters.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotations[name]
            )
        )

    def generated(**_: Any) -> None:
        """Placeholder whose signature carries the generated options."""

    generated.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    generated.__annotations__ = annotations
    holder = typer.Typer(add_completion=False)
    holder.command()(generated)
    built = typer.main.get_command(holder).params
    return [param for param in built if (param.name or "").startswith(_PREFIX)]
