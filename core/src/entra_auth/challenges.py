"""Reading a resource's ``WWW-Authenticate`` claims challenge (CAE, conditional access).

A resource that refuses a token for a reason a new token can fix answers 401 with
``Bearer … error="insufficient_claims", claims="<base64url JSON>"``; the client asks Entra for a
token with those claims and retries once, as azure-core's ``BearerTokenCredentialPolicy`` does.
"""

from __future__ import annotations

import base64
import json
import re

_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


def challenge_parameters(header: str) -> dict[str, str]:
    """The ``key=value`` parameters of a ``Bearer`` challenge (lower-case keys)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return {}
    return {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(rest)}


def claims_from_challenge(header: str | None) -> str | None:
    """The claims JSON a 401's ``WWW-Authenticate`` asks for, or None when it asks for none
    (or is not decodable: then a retry could not help)."""
    if not header:
        return None
    params = challenge_parameters(header)
    encoded = params.get("claims")
    if not encoded:
        return None
    try:
        decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        json.loads(decoded)
    except ValueError:
        return None
    return decoded
