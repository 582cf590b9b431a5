"""Generate ``docs/cli.md`` from the typer application itself.

The reference is rendered from the same click command tree the CLI parses with, so every
command, flag, metavar, default and help line in the docs is the one users get;
``tests/cli/test_cli_docs.py`` regenerates it and fails when the committed page differs.

    python -m entra_auth_cli.docs_gen > docs/cli.md        # or: --write docs/cli.md
    python -m entra_auth_cli.docs_gen --check docs/cli.md  # exit 1 when out of date
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PROG = "entra-auth"
DEFAULT_PANEL = "Options"

PREAMBLE = """\
# CLI reference

<!-- Generated from the typer app by `python -m entra_auth_cli.docs_gen --write docs/cli.md`;
tests/cli/test_cli_docs.py fails when this page is out of date. Do not edit it by hand. -->

Every command of `entra-auth`, with every flag. Exit codes: 0 success, 1 sign-in refused or
failed at Entra ID or the identity endpoint, 2 bad usage, bad input or bad configuration. Errors
are one line on stderr; data goes to stdout. Secrets are always references (`env:NAME`,
`file:PATH`, `keyring:SERVICE/NAME`, `prompt`, `stdin`), never values; see
[the config reference](config.md) for profiles, environments and the files entra-auth writes.

`--output json` uses one key spelling everywhere: snake_case, as in the config file
(`app_name`, `auth_type`, `not_after`). Tables show PowerShell's names
(`AppName`, `AuthType`, `NotAfter`), as `Get-EntraContext` and
`Get-ChildItem Cert:` do. Two outputs keep a spelling that is not ours: `request` prints
Graph's JSON as Graph sent it, and `token --az-fields` prints az's field names.
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(param: Any) -> str:
    default = param.default
    if param.is_flag or default is None or default == () or default == []:
        return ""
    if callable(default):
        return ""
    if isinstance(default, enum.Enum):
        default = default.value
    return f"`{default}`"


def _value(param: Any, ctx: Any) -> str:
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        return ""
    return f"`{_cell(_metavar(param, ctx))}`"


def _metavar(param: Any, ctx: Any) -> str:
    """The value's placeholder as ``--help`` shows it: typer 0.29+ renders it itself
    (``display_type``); with click, >= 8.2 passes the context to ``make_metavar``, older ones
    take none."""
    import inspect

    make_metavar = getattr(param, "make_metavar", None)
    if make_metavar is None:
        if param.metavar is not None:
            return str(param.metavar)
        if param.param_type_name == "argument":
            return str(param.name or "").upper()
        return str(param.display_type(ctx) or "")
    if inspect.signature(make_metavar).parameters:
        return str(make_metavar(ctx))
    return str(make_metavar())


def _option_rows(command: Any, ctx: Any) -> dict[str, list[str]]:
    panels: dict[str, list[str]] = {}
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False) or param.param_type_name != "option":
            continue
        # Short names first (click keeps the help option's names in a set: any order).
        opts = sorted(param.opts, key=lambda opt: (opt.startswith("--"), opt))
        names = ", ".join(f"`{opt}`" for opt in [*opts, *param.secondary_opts])
        notes = []
        if param.required:
            notes.append("required")
        if getattr(param, "multiple", False):
            notes.append("repeatable")
        default = _default(param)
        if default:
            notes.append(f"default {default}")
        help_text = _cell(param.help or "")
        if notes:
            help_text = (
                f"{help_text} ({'; '.join(notes)})" if help_text else f"({'; '.join(notes)})"
            )
        panel = getattr(param, "rich_help_panel", None) or DEFAULT_PANEL
        panels.setdefault(panel, []).append(f"| {names} | {_value(param, ctx)} | {help_text} |")
    return panels


def _arguments(command: Any, ctx: Any) -> list[str]:
    rows = []
    for param in command.get_params(ctx):
        if param.param_type_name == "argument" and getattr(param, "help", None):
            help_text = _cell(getattr(param, "help", None) or "")
            rows.append(f"| `{_cell(_metavar(param, ctx))}` | {help_text} |")
    return rows


def _render(command: Any, ctx: Any, out: list[str], depth: int) -> None:
    path = ctx.command_path
    out.append(f"{'#' * min(depth, 4)} `{path}`\n")
    if command.help:
        out.append(command.help.strip() + "\n")
    pieces = " ".join(command.collect_usage_pieces(ctx))
    out.append(f"```\n{path} {pieces}\n```\n")
    arguments = _arguments(command, ctx)
    if arguments:
        out.append("| Argument | Description |\n|---|---|")
        out.extend(arguments)
        out.append("")
    panels = _option_rows(command, ctx)
    ordered = sorted(panels.items(), key=lambda item: item[0] != DEFAULT_PANEL)
    for panel, rows in ordered:
        if panel != DEFAULT_PANEL:
            out.append(f"*{panel}*\n")
        out.append("| Option | Value | Description |\n|---|---|---|")
        out.extend(rows)
        out.append("")
    if hasattr(command, "list_commands"):  # a group (click's, or typer's own)
        names = command.list_commands(ctx)
        out.append("| Command | Description |\n|---|---|")
        for name in names:
            sub = command.get_command(ctx, name)
            short = _cell(sub.get_short_help_str(limit=200)) if sub else ""
            out.append(f"| `{name}` | {short} |")
        out.append("")
        for name in names:
            sub = command.get_command(ctx, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            with sub.make_context(name, [], parent=ctx, resilient_parsing=True) as sub_ctx:
                _render(sub, sub_ctx, out, depth + 1)


def render() -> str:
    """The whole CLI reference as Markdown."""
    import typer.main

    from .app import app

    command = typer.main.get_command(app)
    out = [PREAMBLE]
    with command.make_context(PROG, [], resilient_parsing=True) as ctx:
        _render(command, ctx, out, 2)
    return "\n".join(out).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    text = render()
    if len(args) == 2 and args[0] == "--write":
        Path(args[1]).write_text(text, encoding="utf-8")
        return 0
    if len(args) == 2 and args[0] == "--check":
        current = Path(args[1]).read_text(encoding="utf-8")
        if current != text:
            sys.stderr.write(
                f"{args[1]} is out of date; run python -m entra_auth_cli.docs_gen --write "
                f"{args[1]}\n"
            )
            return 1
        return 0
    if args:
        sys.stderr.write("usage: python -m entra_auth_cli.docs_gen [--write|--check PATH]\n")
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
