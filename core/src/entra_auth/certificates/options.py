"""Options every certificate provider shares, declared once so the CLI flags and config keys
(``--certificate-password``, ``--send-certificate-chain``, ``--signing-algorithm``) mean the
same thing for every certificate provider, including third-party ones."""

from __future__ import annotations

from typing import Any

from ..providers import Option


def _algorithm(value: Any) -> str:
    from .assertions import signing_algorithm

    return signing_algorithm(value)


CERTIFICATE_PASSWORD = Option(
    "certificate_password",
    "Reference to the password of the .pfx/.p12 file or encrypted PEM key: env:NAME, "
    "file:PATH, keyring:SERVICE/NAME, prompt or stdin.",
    secret=True,
    env="AZURE_CLIENT_CERTIFICATE_PASSWORD",
)
SEND_CERTIFICATE_CHAIN = Option(
    "send_certificate_chain",
    "Send the certificate chain (x5c) for subject name + issuer sign-in.",
    type="bool",
    env="AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
)
SIGNING_ALGORITHM = Option(
    "signing_algorithm",
    "PS256 (default, identifies the certificate by SHA-256 thumbprint) or RS256 (SHA-1).",
    metavar="PS256|RS256",
    check=_algorithm,
)
