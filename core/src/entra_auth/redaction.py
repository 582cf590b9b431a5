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


SHORT = 4
"""Secrets shorter than this are masked where they stand as a value (see ``Redactor``)."""

# Where a value stands: after ``=`` or ``: ``, between quotes, as a hook result (``--> v``),
# or as a whole line; and up to a delimiter.
_SHORT_BEFORE = r"(?P<before>(?P<quote>['\"])|=|:\s|-->\s|^)"
_SHORT_AFTER = r"(?(quote)(?P=quote)|(?=[\s&,;)\]}'\"]|$))"


class Redactor:
    """Masks secret patterns and the known values of secrets resolved in this process.

    A value of 4 characters or more is masked wherever it appears. A shorter one (a secret of
    1-3 characters is weak, but it is still a secret) is masked wherever it stands as a value:
    quoted, after ``=`` or ``: ``, as a hook's result or a whole line, so that masking ``a``
    does not turn every word of the log into ``<redacted>``.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._short: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                short = sorted((v for v in self._values if len(v) < SHORT), key=len, reverse=True)
                self._short = (
                    re.compile(
                        _SHORT_BEFORE
                        + "(?:"
                        + "|".join(map(re.escape, short))
                        + ")"
                        + _SHORT_AFTER,
                        re.MULTILINE,
                    )
                    if short
                    else None
                )

    def __call__(self, text: str) -> str:
        with self._lock:
            values = sorted((v for v in self._values if len(v) >= SHORT), key=len, reverse=True)
            short = self._short
        for value in values:
            text = text.replace(value, REDACTED)
        if short is not None:
            text = short.sub(_mask_short, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def _mask_short(match: re.Match[str]) -> str:
    quote = match.group("quote") or ""
    return f"{match.group('before')}{REDACTED}{quote}"
