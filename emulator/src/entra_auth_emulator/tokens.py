"""Access tokens as Entra issues them for apps, and the JWKS that verifies them.

The token's shape follows the resource, not the endpoint the client called:
- v1.0 (Graph, ARM, Key Vault, Storage, and any resource whose accessTokenAcceptedVersion is 1):
  ``ver`` 1.0, ``iss`` ``https://sts.windows.net/<tid>/``, ``aud`` the resource as requested,
  ``appid``/``appidacr``, ``app_displayname``, ``idp``.
- v2.0 (resources configured with version 2): ``ver`` 2.0, ``iss`` the tenant's v2 issuer,
  ``aud`` the resource's app id, ``azp``/``azpacr``.
Graph tokens carry a ``nonce`` header and are signed over its SHA-256, as Entra's are, so code
that validates Graph tokens as plain JWTs fails here as it does against Entra (Graph tokens are
for Graph to read, not for clients).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import jws
from .config import AppRegistration, ManagedIdentityRegistration
from .resources import ResolvedResource

V1_ISSUER = "https://sts.windows.net/{tenant}/"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    claims: dict[str, Any]
    expires_in: int


class InvalidToken(ValueError):
    """Raised by :meth:`TokenIssuer.verify` for a token the emulator did not sign."""


def v1_issuer(tenant_id: str) -> str:
    return V1_ISSUER.format(tenant=tenant_id)


def _tenant_created(tenant_id: str) -> int:
    """``xms_tcdt``: when the tenant was created; stable per tenant, some time in 2015-2021."""
    digest = hashlib.sha256(tenant_id.lower().encode()).digest()
    return 1_420_070_400 + int.from_bytes(digest[:4], "big") % 200_000_000


def _encode_segment(value: dict[str, Any]) -> str:
    return jws.b64url_encode(json.dumps(value, separators=(",", ":")).encode())


class TokenIssuer:
    """Signs access tokens with one RSA key whose certificate is published in the JWKS."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        self._key = key
        self._certificate = certificate
        self.kid = jws.b64url_encode(certificate.fingerprint(hashes.SHA1()))

    def jwks(self, issuer: str | None = None) -> dict[str, Any]:
        """The keys as Entra publishes them: no ``alg`` member (clients take RS256 from the
        token header), the certificate in ``x5c``, and the tenant's ``issuer``."""
        der = self._certificate.public_bytes(serialization.Encoding.DER)
        key: dict[str, Any] = {
            **jws.rsa_jwk(self._key.public_key()),
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "x5c": [base64.b64encode(der).decode("ascii")],
        }
        if issuer:
            key["issuer"] = issuer
        return {"keys": [key]}

    def _sign(self, claims: dict[str, Any], *, nonce: bool) -> str:
        header: dict[str, Any] = {"typ": "JWT", "alg": "RS256", "kid": self.kid, "x5t": self.kid}
        if not nonce:
            return jws.sign_rs256(header, claims, self._key)
        value = jws.b64url_encode(secrets.token_bytes(32))
        signed_header = {**header, "nonce": _hashed_nonce(value)}
        signing_input = f"{_encode_segment(signed_header)}.{_encode_segment(claims)}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        sent_header = {**header, "nonce": value}
        return (
            f"{_encode_segment(sent_header)}.{_encode_segment(claims)}."
            f"{jws.b64url_encode(signature)}"
        )

    def issue(
        self,
        *,
        v2_issuer: str,
        tenant_id: str,
        principal: AppRegistration | ManagedIdentityRegistration,
        resource: ResolvedResource,
        credential_type: str,
        lifetime: int,
        capabilities: tuple[str, ...] = (),
    ) -> IssuedToken:
        """Mint an app-only token; ``credential_type`` is Entra's appidacr/azpacr: "1" secret,
        "2" certificate, federated credential or managed identity."""
        now = int(time.time())
        claims: dict[str, Any]
        if resource.version == 2:
            claims = {"aud": resource.app_id, "iss": v2_issuer}
        else:
            claims = {"aud": resource.requested, "iss": v1_issuer(tenant_id)}
        claims.update(
            {
                "iat": now,
                "nbf": now,
                "exp": now + lifetime,
                "aio": jws.b64url_encode(secrets.token_bytes(48)),
            }
        )
        if resource.version == 2:
            claims.update({"azp": principal.client_id, "azpacr": credential_type})
        else:
            claims.update(
                {
                    "app_displayname": principal.display_name,
                    "appid": principal.client_id,
                    "appidacr": credential_type,
                    "idp": v1_issuer(tenant_id),
                }
            )
        claims.update(
            {
                "idtyp": "app",
                "oid": principal.object_id,
                "rh": f"1.{jws.b64url_encode(secrets.token_bytes(40))}.",
            }
        )
        if principal.roles:
            claims["roles"] = list(principal.roles)
        claims.update(
            {
                "sub": principal.object_id,
                "tid": tenant_id,
                "uti": jws.b64url_encode(uuid.uuid4().bytes),
                "ver": "2.0" if resource.version == 2 else "1.0",
            }
        )
        if capabilities:
            claims["xms_cc"] = list(capabilities)
        if isinstance(principal, ManagedIdentityRegistration):
            claims["xms_mirid"] = principal.mirid
        claims["xms_tcdt"] = _tenant_created(tenant_id)
        return IssuedToken(self._sign(claims, nonce=resource.is_graph), claims, lifetime)

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of a token this emulator signed (signature and expiry checked); Graph tokens'
        ``nonce`` headers are undone first, as Graph itself does."""
        try:
            parsed = jws.parse(token)
        except jws.MalformedJWS as exc:
            raise InvalidToken(str(exc)) from None
        if parsed.header.get("alg") != "RS256" or parsed.header.get("kid") != self.kid:
            raise InvalidToken("not signed by this emulator's key")
        nonce = parsed.header.get("nonce")
        if isinstance(nonce, str):
            header = {**parsed.header, "nonce": _hashed_nonce(nonce)}
            payload_b64 = token.split(".")[1]
            parsed = jws.CompactJWS(
                header=parsed.header,
                payload=parsed.payload,
                signing_input=f"{_encode_segment(header)}.{payload_b64}".encode(),
                signature=parsed.signature,
            )
        if not jws.verify(parsed, self._key.public_key()):
            raise InvalidToken("bad signature")
        exp = parsed.payload.get("exp")
        if not isinstance(exp, int) or exp <= time.time():
            raise InvalidToken("expired")
        return parsed.payload


def _hashed_nonce(nonce: str) -> str:
    return jws.b64url_encode(hashlib.sha256(nonce.encode("ascii")).digest())
