"""The emulator as an external OIDC issuer (as AKS or GitHub Actions are to Entra), so tests of
workload identity federation need nothing else: each named issuer has its own URL
(``<authority_host>/issuers/<name>``), discovery document, JWKS and RSA key, and the loopback-only
``POST /_emulator/federated-token`` mints a token for any subject and audience.

Keys live in memory: tokens minted before a restart no longer verify, which is also what a
rotated key looks like.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from . import jws
from .config import TOKEN_EXCHANGE_AUDIENCE

PREFIX = "/issuers/"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEFAULT_ISSUER = "default"
DEFAULT_LIFETIME = 3600
# Claims the mint request may not set through "claims": they come from its other fields.
_RESERVED = {"iss", "sub", "aud", "iat", "nbf", "exp"}


class IssuerError(ValueError):
    """A bad issuer name or mint request (the test endpoint answers 400 with this message)."""


class OidcIssuers:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._keys: dict[str, tuple[str, rsa.RSAPrivateKey]] = {}
        self._lock = threading.Lock()

    def url(self, name: str = DEFAULT_ISSUER) -> str:
        if not NAME.fullmatch(name):
            raise IssuerError("an issuer name is 1-64 letters, digits, '.', '_' or '-'")
        return f"{self.base_url}{PREFIX}{name}"

    def _key(self, name: str) -> tuple[str, rsa.RSAPrivateKey]:
        self.url(name)  # validates the name
        with self._lock:
            found = self._keys.get(name)
            if found is None:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                found = (uuid.uuid4().hex, key)
                self._keys[name] = found
            return found

    def discovery(self, name: str) -> dict[str, Any]:
        issuer = self.url(name)
        return {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self, name: str) -> dict[str, Any]:
        kid, key = self._key(name)
        jwk = {**jws.rsa_jwk(key.public_key()), "use": "sig", "alg": "RS256", "kid": kid}
        return {"keys": [jwk]}

    def mint(
        self,
        subject: str,
        *,
        issuer: str = DEFAULT_ISSUER,
        audience: str | list[str] = TOKEN_EXCHANGE_AUDIENCE,
        lifetime: int = DEFAULT_LIFETIME,
        claims: dict[str, Any] | None = None,
    ) -> str:
        """A token from issuer ``issuer`` about ``subject`` (what a platform writes to
        ``AZURE_FEDERATED_TOKEN_FILE``)."""
        if not isinstance(subject, str) or not subject:
            raise IssuerError("'subject' must be a non-empty string")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or not all(isinstance(a, str) and a for a in audiences):
            raise IssuerError("'audience' must be a non-empty string or a list of them")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or not 0 < lifetime <= 86400:
            raise IssuerError("'lifetime' must be seconds from 1 to 86400")
        if claims is not None and not isinstance(claims, dict):
            raise IssuerError("'claims' must be a JSON object")
        extra = dict(claims or {})
        if _RESERVED & set(extra):
            raise IssuerError(f"'claims' is an object without {', '.join(sorted(_RESERVED))}")
        kid, key = self._key(issuer)
        now = int(time.time())
        payload = {
            **extra,
            "iss": self.url(issuer),
            "sub": subject,
            "aud": audiences[0] if len(audiences) == 1 else audiences,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
        }
        return jws.sign_rs256({"typ": "JWT", "kid": kid}, payload, key)

    def mint_request(self, body: object) -> dict[str, Any]:
        """``POST /_emulator/federated-token``: {"subject", "issuer"?, "audience"?,
        "lifetime"?, "claims"?} -> {"token", "issuer", "expires_on"}."""
        if not isinstance(body, dict):
            raise IssuerError("the body must be a JSON object")
        unknown = sorted(set(body) - {"subject", "issuer", "audience", "lifetime", "claims"})
        if unknown:
            raise IssuerError(f"unknown key '{unknown[0]}'")
        issuer = body.get("issuer", DEFAULT_ISSUER)
        if not isinstance(issuer, str):
            raise IssuerError("'issuer' must be an issuer name")
        lifetime = body.get("lifetime", DEFAULT_LIFETIME)
        token = self.mint(
            body.get("subject"),  # type: ignore[arg-type]  # validated by mint
            issuer=issuer,
            audience=body.get("audience", TOKEN_EXCHANGE_AUDIENCE),
            lifetime=lifetime,
            claims=body.get("claims"),
        )
        return {
            "token": token,
            "issuer": self.url(issuer),
            "expires_on": jws.parse(token).payload["exp"],
        }
