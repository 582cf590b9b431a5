"""Read the claims of an access token, without verifying it: the token came straight from the
token endpoint over TLS, and the claims only fill the connection context.
"""

from __future__ import annotations

import base64
import json
from typing import Any


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT access token, or ``{}`` when it is not a JWT (some resources issue
    opaque tokens)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, UnicodeDecodeError):
        return {}
    return decoded if isinstance(decoded, dict) else {}
