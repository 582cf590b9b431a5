"""Compact JWS (JWT) parsing, RS256/PS256 verification and RS256 signing with ``cryptography``.

Deliberately small and strict: the emulator's job is to refuse what Entra refuses, so it does not
lean on a general JWT library's leniency (or its defaults) for the checks that matter.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SUPPORTED_ALGORITHMS = ("RS256", "PS256")


class MalformedJWS(ValueError):
    """The token is not a compact JWS with JSON header and payload."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding (msal pads its x5t headers, JWS segments are
    unpadded)."""
    stripped = text.rstrip("=")
    if any(c not in _B64URL_ALPHABET for c in stripped):
        raise MalformedJWS("not base64url")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedJWS("not base64url") from exc


_B64URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class CompactJWS:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse(token: str | bytes, *, max_length: int = 64 * 1024) -> CompactJWS:
    """Split and decode a compact JWS without trusting anything in it yet."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedJWS("not ASCII") from exc
    if len(token) > max_length:
        raise MalformedJWS("too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedJWS("a JWS has three dot-separated parts")
    header_b64, payload_b64, signature_b64 = parts
    try:
        header = _strict_json(b64url_decode(header_b64))
        payload = _strict_json(b64url_decode(payload_b64))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        raise MalformedJWS("header or payload is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise MalformedJWS("header and payload must be JSON objects")
    return CompactJWS(
        header=header,
        payload=payload,
        signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
        signature=b64url_decode(signature_b64),
    )


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _strict_json(data: bytes) -> Any:
    """RFC 8259 JSON only. Python's parser also takes NaN and Infinity, and a NaN ``exp`` would
    pass every time comparison (and the jti replay check, which keys its expiry on ``exp``)."""
    return json.loads(data, parse_constant=_reject_constant)


def verify(jws: CompactJWS, public_key: object) -> bool:
    """True when the signature is a valid RS256 or PS256 signature by ``public_key``.

    PS256 uses a salt as long as the digest (RFC 7518 section 3.5), which is what PyJWT (and so
    msal) produce.
    """
    alg = jws.header.get("alg")
    if not isinstance(public_key, rsa.RSAPublicKey) or alg not in SUPPORTED_ALGORITHMS:
        return False
    pad: padding.AsymmetricPadding
    if alg == "RS256":
        pad = padding.PKCS1v15()
    else:
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    try:
        public_key.verify(jws.signature, jws.signing_input, pad, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign_rs256(header: dict[str, Any], payload: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    header = {**header, "alg": "RS256"}
    signing_input = (
        b64url_encode(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url_encode(signature)}"


def rsa_jwk(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    """The JWK members of an RSA public key (``kty``, ``n``, ``e``)."""
    numbers = public_key.public_numbers()

    def uint(value: int) -> str:
        return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    return {"kty": "RSA", "n": uint(numbers.n), "e": uint(numbers.e)}
