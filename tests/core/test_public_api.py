"""The public API is what ``__all__`` says (DESIGN.md "Plugin API"); changing it is a decision."""

from __future__ import annotations

import subprocess
import sys

import entra_auth
import entra_auth.aio
import entra_auth.httpx_auth
import entra_auth.requests_auth


def test_entra_auth_all_is_pinned() -> None:
    assert sorted(entra_auth.__all__) == sorted(
        [
            "API_VERSION",
            "AccessToken",
            "AccessTokenInfo",
            "AsyncEntraCredential",
            "AuthenticationError",
            "BUILTIN_ENVIRONMENTS",
            "CERTIFICATE_PASSWORD",
            "CLIENT_ID",
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
            "SEND_CERTIFICATE_CHAIN",
            "SIGNING_ALGORITHM",
            "Secret",
            "SecretReferenceError",
            "SecretScheme",
            "SignInRequest",
            "StoredCertificate",
            "TENANT_ID",
            "THUMBPRINT_FORMS",
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
            "load_certificate_file",
            "parse_subject",
            "parse_thumbprint",
            "prepare",
            "token_result",
        ]
    )
    for name in entra_auth.__all__:
        assert getattr(entra_auth, name) is not None


def test_helper_modules_all_are_pinned() -> None:
    assert entra_auth.aio.__all__ == ["AsyncEntraCredential", "connect_async"]
    assert entra_auth.requests_auth.__all__ == ["BearerAuth"]
    assert entra_auth.httpx_auth.__all__ == ["HttpxBearerAuth"]
    assert entra_auth.connect_async is entra_auth.aio.connect_async


def test_importing_entra_auth_loads_no_asyncio_or_azure_core() -> None:
    code = (
        "import sys, entra_auth\n"
        "print(sorted(m for m in ('asyncio', 'azure.core', 'httpx') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
