"""The saved connection's file format (``connection.json``), checked with the standard library's
lightest modules: the fast path reads the file through here on every ``entra-auth token``, and
``state``'s dataclass would cost it ``dataclasses`` and ``inspect`` (about a fifth of that
command's time). ``state.parse_connection`` wraps ``parse`` in a ``SavedConnection``.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing itself is not imported: the fast path reads this module

if TYPE_CHECKING:
    from typing import Any

FORMAT_VERSION = 1
FILE_NAME = "connection.json"
REQUIRED = ("provider", "options", "environment", "context_scope", "context")

_FIELDS: dict[str, type | tuple[type, ...]] = {
    "provider": str,
    "options": dict,
    "environment": dict,
    "context_scope": str,
    "context": dict,
    "profile": (str, type(None)),
    "kept_in_keyring": list,
    "partition": (str, type(None)),
    "connected_at": str,
}
_WORDS: dict[type | tuple[type, ...], str] = {
    str: "a string",
    dict: "an object",
    list: "a list",
    (str, type(None)): "a string or null",
}


def parse(raw: bytes) -> dict[str, Any]:
    """The fields of a saved connection (``version`` and those in ``_FIELDS``, each of its
    type), from the file's bytes; ``ValueError`` saying what is wrong with anything
    ``state.save`` could not have written. (Core's ``files.json_object`` does the same first
    step, but the fast path reads this file without importing ``entra_auth``.)"""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 at byte {exc.start}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"format version {data.get('version')!r}, expected {FORMAT_VERSION}")
    for name, kind in _FIELDS.items():
        if name in data and not isinstance(data[name], kind):
            raise ValueError(f"{name} is a JSON {_json_type(data[name])}, not {_WORDS[kind]}")
    for name in REQUIRED:
        if name not in data:
            raise ValueError(f"{name} is missing")
    if not all(isinstance(v, str) for v in data["environment"].values()):
        raise ValueError("environment holds a value that is not a string")
    if not all(isinstance(v, str) for v in data.get("kept_in_keyring", [])):
        raise ValueError("kept_in_keyring holds a value that is not a string")
    return {k: data[k] for k in ("version", *_FIELDS) if k in data}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {str: "string", int: "number", float: "number", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )
