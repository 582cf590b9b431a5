"""entra-auth: app-only sign-in to Microsoft Entra ID, as ``Connect-Entra`` does it.

This namespace is the whole public API, for applications and plugin authors alike: what
``__all__`` lists (and ``entra_auth.testing``) is supported and versioned; every other module
is private and may change in any release. ``connect`` returns an ``EntraCredential`` (usable by
any Azure SDK client); plugins implement the hooks of ``hookspecs.CredentialProvider`` with
``hookimpl`` and build on ``Provider``, ``Option``, ``ConfidentialClientSource`` and the
certificate helpers. Nothing here imports msal, requests or cryptography until a token is
needed: the heavier names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .connect import connect
from .context import EntraContext
from .credential import EntraCredential
from .environments import BUILTIN_ENVIRONMENTS, Environment
from .errors import (
    ArgumentTypeError,
    ArgumentValueError,
    AuthenticationError,
    CertificateError,
    ConfigurationError,
    EntraAuthError,
    IdentityEndpointUnavailable,
    PluginError,
    SecretReferenceError,
    TenantNotAllowedError,
    UsageError,
)
from .hookspecs import hookimpl
from .providers import CLIENT_ID, TENANT_ID, Option, Provider, ProviderSettings, TokenSource
from .secret_references import Secret, SecretScheme
from .sign_in import SignInRequest, prepare
from .tokens import AccessToken, AccessTokenInfo, TokenResult

if TYPE_CHECKING:
    from .aio import AsyncEntraCredential, connect_async
    from .certificates import (
        CERTIFICATE_PASSWORD,
        SEND_CERTIFICATE_CHAIN,
        SIGNING_ALGORITHM,
        CertificateAssertion,
        CertificateBundle,
        CertificateStore,
        FolderStore,
        StoredCertificate,
        Thumbprint,
        bundle_from_object,
        certificate_token_source,
        client_credential,
        find_certificate,
        load_certificate_file,
        parse_subject,
        parse_thumbprint,
    )
    from .certificates.thumbprints import ACCEPTED_FORMS as THUMBPRINT_FORMS
    from .demo import DemoApp, DemoLab, DemoStep
    from .http_retry import is_dropped_connection
    from .msal_confidential import ConfidentialClientSource
    from .msal_results import no_token_cache, token_result

API_VERSION = "0.2"
"""The plugin API's version: providers depend on ``entra-auth>=0.2,<1``."""

# Loaded on first use, so importing entra_auth stays cheap (no cryptography, no msal).
_LAZY = {
    "CERTIFICATE_PASSWORD": "certificates",
    "SEND_CERTIFICATE_CHAIN": "certificates",
    "SIGNING_ALGORITHM": "certificates",
    "CertificateAssertion": "certificates",
    "CertificateBundle": "certificates",
    "CertificateStore": "certificates",
    "FolderStore": "certificates",
    "StoredCertificate": "certificates",
    "Thumbprint": "certificates",
    "bundle_from_object": "certificates",
    "certificate_token_source": "certificates",
    "client_credential": "certificates",
    "find_certificate": "certificates",
    "load_certificate_file": "certificates",
    "parse_subject": "certificates",
    "parse_thumbprint": "certificates",
    "THUMBPRINT_FORMS": "certificates.thumbprints:ACCEPTED_FORMS",
    "DemoApp": "demo",
    "DemoLab": "demo",
    "DemoStep": "demo",
    "ConfidentialClientSource": "msal_confidential",
    "token_result": "msal_results",
    "no_token_cache": "msal_results",
    "is_dropped_connection": "http_retry",
    # The async API loads asyncio (~40 ms): only for code that uses it.
    "AsyncEntraCredential": "aio",
    "connect_async": "aio",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module_name, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(f".{module_name}", __name__), attribute or name)
    globals()[name] = value
    return value


__all__ = [
    "API_VERSION",
    "BUILTIN_ENVIRONMENTS",
    "CERTIFICATE_PASSWORD",
    "CLIENT_ID",
    "SEND_CERTIFICATE_CHAIN",
    "SIGNING_ALGORITHM",
    "TENANT_ID",
    "THUMBPRINT_FORMS",
    "AccessToken",
    "AccessTokenInfo",
    "ArgumentTypeError",
    "ArgumentValueError",
    "AsyncEntraCredential",
    "AuthenticationError",
    "CertificateAssertion",
    "CertificateBundle",
    "CertificateError",
    "CertificateStore",
    "ConfidentialClientSource",
    "ConfigurationError",
    "DemoApp",
    "DemoLab",
    "DemoStep",
    "EntraAuthError",
    "EntraContext",
    "EntraCredential",
    "Environment",
    "FolderStore",
    "IdentityEndpointUnavailable",
    "Option",
    "PluginError",
    "Provider",
    "ProviderSettings",
    "Secret",
    "SecretReferenceError",
    "SecretScheme",
    "SignInRequest",
    "StoredCertificate",
    "TenantNotAllowedError",
    "Thumbprint",
    "TokenResult",
    "TokenSource",
    "UsageError",
    "bundle_from_object",
    "certificate_token_source",
    "client_credential",
    "connect",
    "connect_async",
    "find_certificate",
    "hookimpl",
    "is_dropped_connection",
    "load_certificate_file",
    "no_token_cache",
    "parse_subject",
    "parse_thumbprint",
    "prepare",
    "token_result",
]
