"""The generic sign-in flags ``connect`` and ``profile add`` share, and the one step from a
command line to core's ``prepare``.

A profile is a saved ``connect`` command line, so both commands accept the same flags: the
provider flags generated from the installed providers (``provider_flags``) and the few that
are not any provider's (``--provider``, ``--option``, ``--environment-variable``,
``--environment``, ``--context-scope``, ``--token-cache``,
``--token-cache-encryption``), declared once here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from .completion import environment_names, provider_names
from .provider_flags import METHOD_PANEL, SESSION_PANEL, given_flags

if TYPE_CHECKING:
    from entra_auth import SignInRequest
    from entra_auth.config import Config

EnvironmentVariable = Annotated[
    bool,
    typer.Option(
        "--environment-variable",
        help="Read the AZURE_* variables as azure-identity's EnvironmentCredential does "
        "(AZURE_CLIENT_ID, AZURE_TENANT_ID and the variable of a provider's sign-in option, "
        "e.g. AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH).",
        rich_help_panel=METHOD_PANEL,
    ),
]
ProviderName = Annotated[
    str | None,
    typer.Option(
        "--provider",
        metavar="NAME",
        autocompletion=provider_names,
        help="Sign in with this provider (see entra-auth plugins); the other flags and "
        "--option become its options.",
        rich_help_panel=METHOD_PANEL,
    ),
]
ProviderOptions = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        metavar="KEY=VALUE",
        help="A provider or certificate store option (see entra-auth providers --output json).",
        rich_help_panel=METHOD_PANEL,
    ),
]
EnvironmentName = Annotated[
    str | None,
    typer.Option(
        "--environment",
        metavar="NAME",
        autocompletion=environment_names,
        help="Cloud: Global, China, USGov, USGovDoD or a custom one (see entra-auth environment).",
        rich_help_panel=SESSION_PANEL,
    ),
]
ContextScope = Annotated[
    str | None,
    typer.Option(
        "--context-scope",
        metavar="Process|CurrentUser",
        help="Process keeps tokens in memory only; CurrentUser persists them in a 0600 cache "
        "shared by this user's processes.",
        rich_help_panel=SESSION_PANEL,
    ),
]

TokenCache = Annotated[
    str | None,
    typer.Option(
        "--token-cache",
        metavar="URL",
        help="Share tokens through the cache at this URL (an installed token cache plugin "
        "serves its scheme, see entra-auth plugins); its options go through --option, secrets "
        "by reference.",
        rich_help_panel=SESSION_PANEL,
    ),
]

TokenCacheEncryption = Annotated[
    str | None,
    typer.Option(
        "--token-cache-encryption",
        metavar="none|keyring",
        help="keyring: encrypt the CurrentUser token cache with a key kept in the OS keyring "
        "(a copy of the cache files is then useless); none (default, also for headless "
        "machines): plaintext 0600 files. Default: ENTRA_AUTH_CACHE_ENCRYPTION.",
        rich_help_panel=SESSION_PANEL,
    ),
]


def prepare_from_command_line(
    ctx: typer.Context,
    *,
    provider: str | None,
    option: Sequence[str] | None,
    environment_variable: bool,
    environment: str | None,
    context_scope: str | None,
    config: Config,
    profile: str | None = None,
    use_profiles: bool = True,
    token_cache: str | None = None,
    token_cache_encryption: str | None = None,
) -> SignInRequest:
    """Core's ``prepare`` with this command line's flags: the generated provider flags, then
    ``--option`` pairs (which may also name a certificate store's options)."""
    from entra_auth import prepare

    options = given_flags(ctx)
    options.update(parse_option_pairs(option or ()))
    if token_cache is not None:
        options["token_cache"] = token_cache
    if token_cache_encryption is not None:
        options["token_cache_encryption"] = token_cache_encryption
    return prepare(
        provider,
        options,
        profile=profile,
        environment=environment,
        context_scope=context_scope,
        from_environment=environment_variable,
        use_profiles=use_profiles,
        config=config,
    )


def parse_option_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """``--option KEY=VALUE`` pairs; keys may be spelled ``key_name`` or ``key-name``."""
    from entra_auth import UsageError

    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lstrip("-").replace("-", "_")
        if not sep or not key:
            raise UsageError(f"--option takes KEY=VALUE, got {pair.split('=')[0]!r} with no '='")
        parsed[key] = value
    return parsed
