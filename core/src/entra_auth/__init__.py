"""entra-auth: app-only sign-in to Microsoft Entra ID, as ``Connect-Entra`` does it.

The public API is small on purpose: ``connect`` returns an ``EntraCredential`` (usable by any
Azure SDK client), and plugins implement the hooks of ``hookspecs.CredentialProvider`` with
``hookimpl``. Nothing here imports msal, requests or cryptography until a token is needed.
"""

from __future__ import annotations

from .connect import connect
from .context import EntraContext
from .credential import EntraCredential
from .environments import BUILTIN_ENVIRONMENTS, Environment
from .errors import (
    AuthenticationError,
    CertificateError,
    ConfigurationError,
    EntraAuthError,
    IdentityEndpointUnavailable,
    PluginError,
    SecretReferenceError,
    UsageError,
)
from .hookspecs import hookimpl
from .providers import Option, Provider, ProviderSettings, TokenSource
from .secret_references import Secret
from .tokens import AccessToken, AccessTokenInfo, TokenResult

__all__ = [
    "BUILTIN_ENVIRONMENTS",
    "AccessToken",
    "AccessTokenInfo",
    "AuthenticationError",
    "CertificateError",
    "ConfigurationError",
    "EntraAuthError",
    "EntraContext",
    "EntraCredential",
    "Environment",
    "IdentityEndpointUnavailable",
    "Option",
    "PluginError",
    "Provider",
    "ProviderSettings",
    "Secret",
    "SecretReferenceError",
    "TokenResult",
    "TokenSource",
    "UsageError",
    "connect",
    "hookimpl",
]
