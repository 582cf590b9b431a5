"""``--debug``: DEBUG logging and hook tracing, with every secret, assertion and token redacted.

Redaction happens in the formatter, on the final text, so nothing can slip past it: not a log
argument, not an exception's traceback, not a pluggy trace line. Two nets catch secrets:
patterns (``client_secret=…``, ``Authorization: Bearer …``, anything shaped like a JWT) and the
exact values of secrets resolved in this process, which a hook wrapper records as core resolves
them (so even a secret with no telltale shape is masked).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Generator

REDACTED = "<redacted>"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # key=value / "key": "value" for the fields that carry credentials
    (
        re.compile(
            r"(?i)\b(client_secret|client_assertion|assertion|access_token|refresh_token|id_token"
            r"|password|passphrase|secret)(\\?[\"']?\s*[:=]\s*\\?[\"']?)([^\"'&\s,;}\\]+)"
        ),
        rf"\1\2{REDACTED}",
    ),
    # HTTP Authorization headers, in any quoting
    (
        re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer|basic)\s+[^\"'\s,}]+"),
        rf"\1\2 {REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{16,}"), rf"\1 {REDACTED}"),
    # anything shaped like a JWS (tokens, client assertions)
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
)


class Redactor:
    """Masks secret patterns and the known values of secrets resolved in this process."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if value and len(value) >= 4:  # masking "a" everywhere would only destroy the log
            with self._lock:
                self._values.add(value)

    def __call__(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            text = text.replace(value, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


redactor = Redactor()
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
    hooks_log = logging.getLogger("entra_auth.hooks")
    host.manager.trace.root.setwriter(lambda message: hooks_log.debug("%s", message.rstrip()))
    host.manager.enable_tracing()
