"""Helpers shared by the emulator's tests (a uniquely named module: the test folders have no
__init__.py, so module names must not clash across the workspace's tests)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import msal
import requests
from cryptography.hazmat.primitives import hashes

from entra_auth_emulator import Emulator
from entra_auth_emulator.pki import CertifiedKey

TENANT = "6c1f0a4e-5a3b-4d3e-9c55-2f0b7e1d9a10"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH = "https://graph.microsoft.com"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def session_for(emu: Emulator) -> requests.Session:
    """A requests session trusting the emulator's CA.

    trust_env is off because requests lets REQUESTS_CA_BUNDLE override Session.verify, and
    because no proxy should ever see loopback test traffic."""
    session = requests.Session()
    session.trust_env = False
    session.verify = emu.ca_bundle
    return session


def new_client_id() -> str:
    return str(uuid.uuid4())


def cca(
    emu: Emulator,
    client_id: str,
    credential: Any,
    *,
    tenant: str = TENANT,
) -> msal.ConfidentialClientApplication:
    """An unmodified msal client against the emulator, as the issue pins it."""
    return msal.ConfidentialClientApplication(
        client_id,
        authority=emu.authority(tenant),
        client_credential=credential,
        instance_discovery=False,
        http_client=session_for(emu),
    )


def assert_entra_error(body: dict[str, Any], code: int, error: str | None = None) -> None:
    """Entra's error JSON, field by field."""
    assert body["error_codes"] == [code], body
    assert body["error_description"].startswith(f"AADSTS{code}: "), body
    if error is not None:
        assert body["error"] == error
    for name in ("timestamp", "trace_id", "correlation_id"):
        assert body[name], name
    assert f"Trace ID: {body['trace_id']}" in body["error_description"]
    assert f"Correlation ID: {body['correlation_id']}" in body["error_description"]
    assert f"Timestamp: {body['timestamp']}" in body["error_description"]


def x5t(cert: CertifiedKey, algorithm: str = "sha1") -> str:
    digest = hashes.SHA1() if algorithm == "sha1" else hashes.SHA256()
    return base64.urlsafe_b64encode(cert.certificate.fingerprint(digest)).decode().rstrip("=")


def make_assertion(
    emu: Emulator,
    client_id: str,
    signer: CertifiedKey,
    *,
    header_cert: CertifiedKey | None = None,
    tenant: str = TENANT,
    algorithm: str = "RS256",
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A client assertion made with PyJWT (independent of the emulator's own JWS code)."""
    now = int(time.time())
    payload = {
        "aud": emu.token_endpoint(tenant),
        "iss": client_id,
        "sub": client_id,
        "jti": str(uuid.uuid4()),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    header = {"x5t": x5t(header_cert or signer)} if headers is None else headers
    return jwt.encode(payload, signer.private_key, algorithm=algorithm, headers=header)


def sign_raw(signer: CertifiedKey, header: dict[str, Any], payload_json: str) -> str:
    """An RS256 JWS over exactly ``payload_json``: for payloads PyJWT would not write (NaN,
    400-digit numbers), so the emulator's parser, not the client's, is what is tested."""
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload_json.encode())}"
    assert isinstance(signer.private_key, rsa.RSAPrivateKey)
    signature = signer.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"
