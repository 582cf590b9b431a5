"""Checking the IDs and scopes that end up in Entra URLs and requests, before any request.

A tenant ID is put into the authority URL (``https://login…/{tenant}``), so ``x?x=1#f`` or
``../common`` must never get that far; a client ID Entra would refuse anyway is refused here with
a line that says what shape is expected.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import UsageError

# A domain label, as a whole-string pattern (``re.fullmatch``: ``$`` would let a trailing
# newline through), compiled on first use by ``re``'s own cache rather than at import. GUIDs
# and scopes, which every sign-in checks, are checked without ``re``: compiling their patterns
# cost a new process more than the checks themselves.
_LABEL = r"(?i)(?!-)[a-z0-9-]{1,63}(?<!-)"
MULTI_TENANT_NAMES = ("common", "organizations", "consumers")
_HEX = frozenset("0123456789abcdefABCDEF")
_GUID_GROUPS = [8, 4, 4, 4, 12]


def _is_guid(text: str) -> bool:
    """``8-4-4-4-12`` ASCII hex digits, nothing around them."""
    return (
        len(text) == 36
        and [len(group) for group in text.split("-")] == _GUID_GROUPS
        and _HEX.issuperset(text.replace("-", ""))
    )


def _is_scope(text: str) -> bool:
    """1 to 2048 printable ASCII characters other than space."""
    return 0 < len(text) <= 2048 and text.isascii() and text.isprintable() and " " not in text


def check_guid(value: Any, what: str) -> str:
    """A GUID (``22222222-2222-2222-2222-222222222222``), lower-cased."""
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not _is_guid(text):
        raise UsageError(
            f"{what} must be a GUID like 22222222-2222-2222-2222-222222222222, not {_shown(value)}"
        )
    return text.lower()


def check_client_id(value: Any) -> str:
    return check_guid(value, "--client-id")


def check_tenant_id(value: Any) -> str:
    """A tenant GUID or a verified domain (``contoso.onmicrosoft.com``). App-only sign-in
    needs one tenant, so ``common``, ``organizations`` and ``consumers`` are refused."""
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not text:
        raise UsageError(f"--tenant-id must be a tenant GUID or domain, not {_shown(value)}")
    if _is_guid(text):
        return text.lower()
    if text.lower() in MULTI_TENANT_NAMES:
        raise UsageError(
            f"--tenant-id {text} names no tenant; app-only sign-in needs the tenant's ID or a "
            "verified domain such as contoso.onmicrosoft.com"
        )
    labels = text.split(".")
    well_formed = all(re.fullmatch(_LABEL, label) for label in labels)
    if len(text) > 253 or len(labels) < 2 or not well_formed:
        raise UsageError(
            f"--tenant-id {_shown(text)} is neither a tenant GUID nor a domain name; give the "
            "directory (tenant) ID or a verified domain such as contoso.onmicrosoft.com"
        )
    return text.lower()


def check_scope(value: Any) -> str:
    """One scope: printable, no spaces (several scopes are several strings)."""
    if not isinstance(value, str) or not _is_scope(value):
        raise UsageError(
            f"scope {_shown(value)} is not a scope; give one such as "
            "https://graph.microsoft.com/.default (several scopes are separate strings)"
        )
    return value


def _shown(value: Any) -> str:
    """The value for a message: short and on one line."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
