"""``--debug``: DEBUG logging and hook tracing, with every secret, assertion and token redacted.

Redaction happens in the formatter, on the final text, so nothing can slip past it: not a log
argument, not an exception's traceback, not a pluggy trace line. Two nets catch secrets:
patterns (the OAuth credential fields, ``Authorization: Bearer …``, anything shaped like a
JWT) and the exact values of secrets resolved in this process, which core reports as it resolves
them (so even a secret with no telltale shape is masked; one shorter than 4 characters where it
stands as a value). The hook trace's line for a secret resolver's result is also masked by
position.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Generator
from typing import Any


class _LazyRedactor:
    """Core's ``Redactor``, built on first use: importing it loads the ``entra_auth`` package,
    which ``entra-auth --help`` and other commands that never print a secret need not pay."""

    _real: Any = None

    def _get(self) -> Any:
        if self._real is None:
            from entra_auth.redaction import Redactor

            type(self)._real = Redactor()
        return self._real

    def add(self, value: str) -> None:
        self._get().add(value)

    def __call__(self, text: str) -> str:
        return str(self._get()(text))


redactor = _LazyRedactor()
"""The process-wide redactor: the debug log and error reporting both go through it."""


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redactor(super().format(record))


def _watcher_plugin() -> object:
    from entra_auth import hookimpl

    class SecretWatcher:
        @hookimpl(wrapper=True)
        def entra_auth_resolve_secret(
            self, reference: str
        ) -> Generator[None, str | None, str | None]:
            value = yield
            if isinstance(value, str):
                redactor.add(value)
            return value

    return SecretWatcher()


_SECRET_RESULT = re.compile(
    r"(finish entra_auth_resolve_secret --> )(?!None \[)(.*?)( \[hook\])$", re.M
)


def mask_secret_results(message: str) -> str:
    """The hook trace prints each hook's result; a secret resolver's result is the secret, so
    it is masked by position, whatever its length (the redactor masks it by value too)."""
    from entra_auth.redaction import REDACTED

    return _SECRET_RESULT.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", message)


def show_warnings() -> None:
    """Without ``--debug``, core's warnings (a token cache that cannot be used, a plugin that
    failed to load) still reach stderr, one redacted line each: never a silent fallback."""
    logger = logging.getLogger("entra_auth")
    if any(getattr(h, "entra_auth_warnings", False) for h in logger.handlers):
        return  # run() called again in this process (tests, embedding)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(RedactingFormatter("entra-auth: warning: %(message)s"))
    handler.entra_auth_warnings = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)


def enable_debug() -> None:
    """Turn on DEBUG logging to stderr (redacted) and trace every hook call."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter(
            "%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s", "%H:%M:%S"
        )
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.captureWarnings(True)

    from entra_auth import plugins

    host = plugins.get_host()
    host.manager.register(_watcher_plugin(), name="entra-auth-cli.redaction")
    host.secret_observers.append(redactor.add)  # secrets resolved by a registered scheme
    hooks_log = logging.getLogger("entra_auth.hooks")
    host.manager.trace.root.setwriter(
        lambda message: hooks_log.debug("%s", mask_secret_results(message.rstrip()))
    )
    host.manager.enable_tracing()
