"""Private keys: which kinds Entra can use, and ssh's rule about who may read the file.

Entra verifies client assertions signed with RS256 or PS256 only, so an EC or EdDSA key would
sign an assertion Entra rejects with a vague AADSTS error; we refuse it up front and say why.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CertificateError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


def key_kind(key: Any) -> str:
    """A short human name for a key's algorithm (``RSA 2048``, ``EC secp256r1``)."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPrivateKey | dsa.DSAPublicKey):
        return "DSA"
    return type(key).__name__


def is_rsa(key: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey)


def require_rsa(key: Any, where: str) -> RSAPrivateKey:
    """Return ``key`` if it is an RSA private key; otherwise refuse with the reason."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return key
    raise CertificateError(
        f"{where} has an {key_kind(key)} key; Entra ID accepts only RSA keys for certificate "
        "sign-in (RS256/PS256): create an RSA certificate (2048 bits or more) and upload it"
    )


def require_private_key_file(path: Path) -> None:
    """Refuse, as ssh does, a file holding a private key that group or others can read, write
    or run (mode & 077); checked when the key is about to be used, not for every file a store
    scan peeks at. POSIX only."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except (OSError, ValueError) as exc:
        raise CertificateError(f"private key file {path} cannot be checked: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CertificateError(
            f"private key file {path} is accessible by group or others (mode {mode:04o}); "
            f"a private key must be yours alone: run: chmod 600 {path}"
        )
