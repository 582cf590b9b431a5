"""Signing client assertions with a certificate, as Entra ID expects them.

We sign the assertion ourselves and hand msal a ``client_assertion`` callable rather than msal's
``private_key``/``public_certificate`` dict, because the dict (msal 1.39) always sends ``x5c``
with the leaf only, cannot send the chain that subject name + issuer needs, and reuses one
assertion (one ``jti``) for nine minutes. Our callable signs a fresh assertion with a new
``jti`` for every token request, valid for five minutes, with exactly the headers asked for:

- PS256 with ``x5t#S256`` (the default; what Entra recommends and msal uses when it can),
- RS256 with ``x5t`` (SHA-1) where asked, for older verifiers such as AD FS,
- ``x5c`` (leaf first, then its chain) only with ``send_chain`` (subject name + issuer).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from ..errors import UsageError
from .bundle import CertificateBundle

SigningAlgorithm = Literal["PS256", "RS256"]
SIGNING_ALGORITHMS: tuple[SigningAlgorithm, ...] = ("PS256", "RS256")
ASSERTION_LIFETIME = 300
"""Seconds an assertion is valid. Entra allows up to ten minutes; it is used at once."""


def signing_algorithm(value: object) -> SigningAlgorithm:
    """Validate ``--signing-algorithm`` (case ignored)."""
    text = str(value or "PS256").strip().upper()
    for algorithm in SIGNING_ALGORITHMS:
        if text == algorithm:
            return algorithm
    raise UsageError(
        f"--signing-algorithm must be PS256 (default, with the SHA-256 thumbprint) or RS256 "
        f"(with the SHA-1 thumbprint), not {str(value)!r}"
    )


class CertificateAssertion:
    """msal's ``client_assertion`` callable: one fresh signed JWT per token request.

    msal passes ``context`` (``client_id``, ``token_endpoint`` from tenant discovery), so the
    audience is exactly the endpoint msal is about to post to."""

    def __init__(
        self,
        bundle: CertificateBundle,
        *,
        algorithm: SigningAlgorithm = "PS256",
        send_chain: bool = False,
        lifetime: int = ASSERTION_LIFETIME,
    ) -> None:
        self._bundle = bundle
        self.algorithm = algorithm
        self.lifetime = lifetime
        self.headers = assertion_headers(bundle, algorithm=algorithm, send_chain=send_chain)

    def __repr__(self) -> str:
        return f"CertificateAssertion({self._bundle.describe()}, {self.algorithm})"

    def __call__(self, context: Mapping[str, Any]) -> str:
        import jwt  # PyJWT, msal's own dependency

        now = int(time.time())
        client_id = str(context["client_id"])
        payload = {
            "aud": str(context["token_endpoint"]),
            "iss": client_id,
            "sub": client_id,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
        }
        return jwt.encode(
            payload, self._bundle.private_key, algorithm=self.algorithm, headers=self.headers
        )


def assertion_headers(
    bundle: CertificateBundle, *, algorithm: SigningAlgorithm, send_chain: bool
) -> dict[str, Any]:
    """The JOSE header fields that tell Entra which certificate signed (``alg`` is added by
    PyJWT)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding

    headers: dict[str, Any] = {"typ": "JWT"}
    if algorithm == "PS256":
        headers["x5t#S256"] = _b64url(bundle.certificate.fingerprint(hashes.SHA256()))
    else:
        headers["x5t"] = _b64url(bundle.certificate.fingerprint(hashes.SHA1()))
    if send_chain:
        headers["x5c"] = [
            base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")
            for cert in (bundle.certificate, *bundle.chain)
        ]
    return headers


def client_credential(
    bundle: CertificateBundle,
    *,
    algorithm: SigningAlgorithm = "PS256",
    send_chain: bool = False,
) -> dict[str, Any]:
    """The ``client_credential`` dict for ``msal.ConfidentialClientApplication``.

    With an msal that passes context to assertion callables, our own signer; with an older one,
    msal's certificate dict (which then also sends ``x5c`` with the leaf, and no chain)."""
    if _msal_passes_context():
        return {
            "client_assertion": CertificateAssertion(
                bundle, algorithm=algorithm, send_chain=send_chain
            )
        }
    return _legacy_msal_credential(bundle, algorithm=algorithm, send_chain=send_chain)


def _legacy_msal_credential(
    bundle: CertificateBundle, *, algorithm: SigningAlgorithm, send_chain: bool
) -> dict[str, Any]:
    from cryptography.hazmat.primitives.serialization import Encoding

    certs = (bundle.certificate, *(bundle.chain if send_chain else ()))
    pem = b"".join(c.public_bytes(Encoding.PEM) for c in certs).decode("ascii")
    credential: dict[str, Any] = {"private_key": bundle.private_key, "public_certificate": pem}
    if algorithm == "RS256":
        credential["thumbprint"] = bundle.thumbprint
        if not send_chain:
            del credential["public_certificate"]
    return credential


def _msal_passes_context() -> bool:
    try:
        from msal.oauth2cli.oauth2 import BaseClient
    except ImportError:
        return False
    return hasattr(BaseClient, "_invoke_assertion_callable")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
