"""The click that typer parses with, under one set of names whatever typer is installed.

typer 0.26 and later carry their own copy of click as ``typer._click`` (0.29 trimmed it to the
pieces typer uses, and no longer depends on click); older typers use the ``click``
distribution. Exceptions and contexts must come from the one typer uses, or ``isinstance``
checks break, so the CLI imports click names only through this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typer._click.core import Context, Parameter
    from typer._click.exceptions import ClickException, NoSuchOption, UsageError
else:
    try:
        from typer._click.core import Context, Parameter
        from typer._click.exceptions import ClickException, NoSuchOption, UsageError
    except ImportError:  # pragma: no cover - typer before 0.26 uses the click distribution
        from click import ClickException, Context, NoSuchOption, Parameter, UsageError

__all__ = ["ClickException", "Context", "NoSuchOption", "Parameter", "UsageError"]
