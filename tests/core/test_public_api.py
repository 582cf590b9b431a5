"""The plugin API is declared and pinned: what ``entra_auth`` exports, that the built-in
providers use nothing else, and that the CLI knows no provider by name."""

from __future__ import annotations

import re
from pathlib import Path

import entra_auth
import entra_auth.aio
import entra_auth.graph
import entra_auth.httpx_auth
import entra_auth.requests_auth
from entra_auth.plugins import build_host

ROOT = Path(__file__).resolve().parents[2]

PINNED = [
    "API_VERSION",
    "ArgumentTypeError",
    "ArgumentValueError",
    "BUILTIN_ENVIRONMENTS",
    "CERTIFICATE_PASSWORD",
    "CLIENT_ID",
    "SEND_CERTIFICATE_CHAIN",
    "SIGNING_ALGORITHM",
    "TENANT_ID",
    "THUMBPRINT_FORMS",
    "AccessToken",
    "AccessTokenInfo",
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


def test_the_public_namespace_is_pinned() -> None:
    assert sorted(entra_auth.__all__) == sorted(PINNED)
    for name in entra_auth.__all__:
        assert getattr(entra_auth, name) is not None, name


def test_helper_modules_all_are_pinned() -> None:
    assert entra_auth.aio.__all__ == ["AsyncEntraCredential", "connect_async"]
    assert entra_auth.requests_auth.__all__ == ["BearerAuth"]
    assert entra_auth.httpx_auth.__all__ == ["HttpxBearerAuth"]
    assert entra_auth.graph.__all__ == ["GraphClient", "GraphError", "GraphResponse"]
    assert entra_auth.connect_async is entra_auth.aio.connect_async


def test_importing_entra_auth_loads_no_heavy_library() -> None:
    import subprocess
    import sys

    heavy = ("msal", "cryptography", "requests", "asyncio", "azure.core", "httpx")
    code = f"import sys, entra_auth; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_built_in_providers_import_only_the_public_namespace() -> None:
    private = re.compile(r"^\s*(?:from|import)\s+entra_auth\.(?!testing\b)([\w.]+)", re.M)
    seen = 0
    for path in (ROOT / "providers").glob("*/src/**/*.py"):
        seen += 1
        found = private.findall(path.read_text())
        assert not found, f"{path.relative_to(ROOT)} imports private entra_auth.{found[0]}"
    assert seen >= 5


def test_providers_and_cli_depend_on_a_bounded_core() -> None:
    import tomllib

    files = [*(ROOT / "providers").glob("*/pyproject.toml"), ROOT / "cli" / "pyproject.toml"]
    assert len(files) >= 6
    for file in files:
        deps = tomllib.loads(file.read_text())["project"]["dependencies"]
        core = [d for d in deps if re.match(r"entra-auth\b(?!-)", d)]
        assert core == ["entra-auth>=0.2,<1"], f"{file.relative_to(ROOT)}: {core}"


def test_the_cli_names_no_provider_and_no_provider_option() -> None:
    """Flags, selection, demo steps and messages all come from the providers' declarations:
    nothing under cli/src may name one (multi-word option names and every flag)."""
    host = build_host()
    words: set[str] = set()
    for name, entry in host.providers().items():
        words.add(name)
        for option in entry.provider.options:
            if option.cli_flag:
                words.add(option.cli_flag)
            if "_" in option.name:
                words.add(option.name)
    assert {"client-secret", "--client-secret", "--identity", "tenant_id"} <= words
    pattern = re.compile(
        "|".join(
            rf"(?<![\w-]){re.escape(w)}(?![\w-])" for w in sorted(words, key=len, reverse=True)
        )
    )
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {match.group(0)}"
        for path in sorted((ROOT / "cli" / "src").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for match in pattern.finditer(line)
    ]
    assert hits == []
