"""``entra-auth emulator``: the emulator's own command line, reached through this one.

Options pass through untouched, so ``entra-auth emulator --port 0 --ready-file f`` behaves
exactly like ``entra-auth-emulator --port 0 --ready-file f``.
"""

from __future__ import annotations

import typer

EMULATOR_DISTRIBUTION = "entra-auth-emulator"


def emulator(ctx: typer.Context) -> None:
    """Run the local Entra ID emulator (options as entra-auth-emulator --help lists them)."""
    from entra_auth import UsageError

    try:
        from entra_auth_emulator.__main__ import main as emulator_main
    except ImportError:
        raise UsageError(
            f"the emulator is not installed; install {EMULATOR_DISTRIBUTION} "
            "(pip install 'entra-auth-cli[demo]')"
        ) from None
    code = emulator_main(list(ctx.args), prog="entra-auth emulator")
    raise typer.Exit(int(code or 0))
