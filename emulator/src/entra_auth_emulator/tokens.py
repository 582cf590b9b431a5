"""Access tokens: RS256 JWTs with the claims Graph tokens carry for apps, and the JWKS that
verifies them.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import jws
from .config import AppRegistration, ManagedIdentityRegistration


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    claims: dict[str, Any]
    expires_in: int


class InvalidToken(ValueError):
    """Raised by :meth:`TokenIssuer.verify` for a token the emulator did not sign."""


class TokenIssuer:
    """Signs access tokens with one RSA key whose certificate is published in the JWKS."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        self._key = key
        self._certificate = certificate
        self.kid = jws.b64url_encode(certificate.fingerprint(hashes.SHA1()))

    def jwks(self, issuer: str | None = None) -> dict[str, Any]:
        der = self._certificate.public_bytes(serialization.Encoding.DER)
        key: dict[str, Any] = {
            **jws.rsa_jwk(self._key.public_key()),
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "x5t": self.kid,
            "x5c": [base64.b64encode(der).decode("ascii")],
        }
        if issuer:
            key["issuer"] = issuer
        return {"keys": [key]}

    def _sign(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid, "x5t": self.kid}
        return jws.sign_rs256(header, claims, self._key)

    def issue(
        self,
        *,
        issuer: str,
        audience: str,
        tenant_id: str,
        principal: AppRegistration | ManagedIdentityRegistration,
        credential_type: str,
        lifetime: int,
    ) -> IssuedToken:
        """Mint an app-only token; ``credential_type`` is Entra's appidacr: "1" secret,
        "2" certificate, "0" managed identity."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "aio": str(uuid.uuid4()),
            "app_displayname": principal.display_name,
            "appid": principal.client_id,
            "appidacr": credential_type,
            "azp": principal.client_id,
            "azpacr": credential_type,
            "idp": issuer,
            "idtyp": "app",
            "oid": principal.object_id,
            "sub": principal.object_id,
            "tid": tenant_id,
            "uti": jws.b64url_encode(uuid.uuid4().bytes),
            "ver": "2.0",
        }
        if principal.roles:
            claims["roles"] = list(principal.roles)
        if isinstance(principal, ManagedIdentityRegistration) and principal.resource_id:
            claims["xms_mirid"] = principal.resource_id
        return IssuedToken(self._sign(claims), claims, lifetime)

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of a token this emulator signed (signature and expiry checked)."""
        try:
            parsed = jws.parse(token)
        except jws.MalformedJWS as exc:
            raise InvalidToken(str(exc)) from None
        if parsed.header.get("alg") != "RS256" or parsed.header.get("kid") != self.kid:
            raise InvalidToken("not signed by this emulator's key")
        if not jws.verify(parsed, self._key.public_key()):
            raise InvalidToken("bad signature")
        exp = parsed.payload.get("exp")
        if not isinstance(exp, int) or exp <= time.time():
            raise InvalidToken("expired")
        return parsed.payload
