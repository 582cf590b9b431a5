"""Rendering for people (PowerShell ``Format-List`` style) and for scripts (JSON on stdout).

The list style matches what ``Get-EntraContext | Format-List`` prints, so admins moving from
PowerShell read the same shape.
"""

from __future__ import annotations

import enum
import json
import re
import sys
from collections.abc import Mapping

TYPE_CHECKING = False  # typing is not imported: the fast path prints through this module
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


class Output(enum.StrEnum):
    table = "table"
    json = "json"


def format_value(value: Any) -> str:
    """PowerShell's rendering: arrays as ``{a, b}``, null as empty, booleans as True/False."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list | tuple | set):
        return "{" + ", ".join(format_value(v) for v in value) + "}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def format_list(data: Mapping[str, Any]) -> str:
    """``Key   : Value`` lines with keys padded to the longest one, as ``Format-List`` does."""
    if not data:
        return ""
    width = max(len(str(key)) for key in data)
    return "\n".join(
        f"{key!s:<{width}} : {format_value(value)}".rstrip() for key, value in data.items()
    )


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A plain column table (``Format-Table`` style): a header, a dashed rule, the rows."""
    headers = [title for _, title in columns]
    cells = [[format_value(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return " ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def to_json(data: Any) -> str:
    """JSON exactly as given: Graph's answers (``request``) and az's token fields keep their
    own key spelling."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def data_json(data: Any) -> str:
    """entra-auth's own JSON output: every key in snake_case, whatever command made it.

    Tables show PowerShell's names (``ClientId``, ``NotAfter``) as Get-EntraContext and
    ``Get-ChildItem Cert:`` do; JSON is for scripts, so it uses one spelling throughout, the
    config file's (``app_name``, ``not_after``)."""
    return to_json(snake_keys(data))


def token_json(token_type: str, token: str, expires_on: int, scopes: Sequence[str]) -> str:
    """``token --output json``: one shape, whether the fast path or the full CLI answers."""
    return data_json(
        {
            "token_type": token_type,
            "access_token": token,
            "expires_on": expires_on,
            "scopes": list(scopes),
        }
    )


_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {_snake(str(k)): snake_keys(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [snake_keys(v) for v in data]
    return data


def _snake(key: str) -> str:
    return _WORD_BREAK.sub("_", key).replace("-", "_").lower()


def echo(text: str = "") -> None:
    """Data goes to stdout (for pipes and scripts)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def note(text: str) -> None:
    """Messages for the person at the terminal go to stderr, keeping stdout clean for data."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def warn(text: str) -> None:
    note(f"entra-auth: warning: {text}")
