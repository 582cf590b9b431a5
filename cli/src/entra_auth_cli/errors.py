"""How failures leave the process: one line on stderr and the exit code DESIGN.md pins.

0 success; 1 sign-in refused or failed at Entra or the identity endpoint
(``AuthenticationError``) and unexpected internal errors; 2 bad usage, input or configuration
(``UsageError`` and its kin, command-line parsing errors, and any ``OSError`` that names a
file: a path the checks did not anticipate is still the user's to fix, not a crash).
Unexpected errors exit 1 rather than 2 because the user's input was not shown to be at fault;
the line says to rerun with ``--debug`` for the traceback.
"""

from __future__ import annotations

import sys
import traceback

PREFIX = "entra-auth: error: "
EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def one_line(text: str) -> str:
    """Multi-line messages folded onto one line, so scripts can grep and log them."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _click_exception_type() -> type[BaseException]:
    from ._click import ClickException

    return ClickException


def report(exc: BaseException, *, debug: bool) -> int:
    """Print ``exc`` as one line on stderr (after a redacted traceback with ``--debug``) and
    return the exit code for it."""
    from .debug_logging import redactor

    if debug:
        sys.stderr.write(redactor("".join(traceback.format_exception(exc))))
    if isinstance(exc, KeyboardInterrupt):
        sys.stderr.write("entra-auth: interrupted\n")
        return EXIT_INTERRUPTED

    click_exception = _click_exception_type()
    if isinstance(exc, click_exception):
        message = one_line(exc.format_message())  # type: ignore[attr-defined]
        code = int(getattr(exc, "exit_code", EXIT_USAGE))
        if not message:  # bare 'entra-auth': the help was already printed
            return code
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            message += f" (see '{ctx.command_path} --help')"
    else:
        from entra_auth import EntraAuthError

        if isinstance(exc, EntraAuthError):
            message = one_line(str(exc)) or type(exc).__name__
            code = int(exc.exit_code)
        elif isinstance(exc, OSError) and exc.filename is not None:
            # A file or folder the checks did not anticipate: still the user's environment
            # (exit 2), named, never "unexpected".
            message = f"cannot use {exc.filename}: {exc.strerror or exc}"
            if exc.filename2 is not None:
                message = f"cannot use {exc.filename} -> {exc.filename2}: {exc.strerror or exc}"
            code = EXIT_USAGE
        else:
            detail = one_line(str(exc))
            message = f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else "")
            if not debug:
                message += " (run with --debug for details)"
            code = EXIT_REFUSED
    sys.stderr.write(PREFIX + redactor(message) + "\n")
    sys.stderr.flush()
    return code
