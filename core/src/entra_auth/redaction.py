"""Masking secrets, assertions and tokens in any text the tool shows (logs, errors, traces).

Two nets: patterns (the OAuth fields that carry credentials, ``Authorization`` headers,
anything shaped like a JWS) and the exact values of secrets resolved in this process, so even a
secret with no telltale shape is masked.
"""

from __future__ import annotations

import re
import threading

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
