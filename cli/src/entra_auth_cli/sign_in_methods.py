"""Turning ``connect``'s flags (and a profile) into a provider name and its options.

The flags mirror Connect-Entra's parameter sets: each sign-in method flag picks a provider
(``--client-secret`` -> ``client-secret``, ``--certificate-thumbprint`` -> ``cert-thumbprint``…)
and every value flag becomes the provider option of the same name. Core then validates the
options against the provider's declaration, so an option a provider does not take is refused
with the list of those it does, and this module never has to know each provider's rules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entra_auth.config import Config
    from entra_auth.connect import ResolvedRequest

PROVIDER_DISTRIBUTIONS: dict[str, str] = {
    "client-secret": "entra-auth-client-secret",
    "cert-thumbprint": "entra-auth-cert-thumbprint",
    "cert-name": "entra-auth-cert-name",
    "cert-object": "entra-auth-cert-object",
    "managed-identity": "entra-auth-managed-identity",
}
"""Where the providers named by connect's own flags come from, for 'install X' hints."""

# (flag, ConnectFlags attribute, provider it picks; None: decided by the variables that are set)
METHOD_FLAGS: tuple[tuple[str, str, str | None], ...] = (
    ("--client-secret", "client_secret", "client-secret"),
    ("--certificate-thumbprint", "certificate_thumbprint", "cert-thumbprint"),
    ("--certificate-name", "certificate_name", "cert-name"),
    ("--certificate", "certificate", "cert-object"),
    ("--identity", "identity", "managed-identity"),
    ("--environment-variable", "environment_variable", None),
)

# ConnectFlags attribute -> provider option name
OPTION_FLAGS: dict[str, str] = {
    "client_id": "client_id",
    "tenant_id": "tenant_id",
    "client_secret": "client_secret",
    "certificate_thumbprint": "certificate_thumbprint",
    "certificate_name": "certificate_name",
    "certificate": "certificate_path",
    "certificate_password": "certificate_password",
    "send_certificate_chain": "send_certificate_chain",
    "object_id": "object_id",
    "resource_id": "resource_id",
}

CONTEXT_SCOPES = {"process": "Process", "currentuser": "CurrentUser"}

CHOOSE_A_METHOD = (
    "choose how to sign in: --client-secret REF, --certificate-thumbprint HEX, "
    "--certificate-name SUBJECT, --certificate PATH, --identity, --environment-variable, "
    "--provider NAME or --profile NAME"
)


@dataclass
class ConnectFlags:
    """connect's sign-in flags as given (None / False when absent)."""

    client_id: str | None = None
    tenant_id: str | None = None
    certificate_thumbprint: str | None = None
    certificate_name: str | None = None
    certificate: str | None = None
    certificate_password: str | None = None
    client_secret: str | None = None
    identity: bool = False
    object_id: str | None = None
    resource_id: str | None = None
    environment_variable: bool = False
    send_certificate_chain: bool = False
    provider: str | None = None
    option: Sequence[str] = ()

    def methods(self) -> list[str]:
        return [flag for flag, attr, _ in METHOD_FLAGS if getattr(self, attr)]


@dataclass
class ConnectRequest:
    """What the flags ask for; ``provider`` is None when only a profile can say."""

    provider: str | None
    options: dict[str, Any] = field(default_factory=dict)


def build_request(flags: ConnectFlags, *, environ: Mapping[str, str]) -> ConnectRequest:
    """Provider and options from the flags; ``UsageError`` for a combination that cannot
    work, before anything is loaded or sent. Merging with a profile is core's job
    (``entra_auth.connect.resolve_request``): flags win over the profile's values."""
    from entra_auth import UsageError

    methods = flags.methods()
    if len(methods) > 1:
        raise UsageError(
            f"choose one sign-in method: {' and '.join(methods)} were both given"
            if len(methods) == 2
            else f"choose one sign-in method: {', '.join(methods)} were all given"
        )
    if flags.provider and methods and methods[0] in ("--identity", "--environment-variable"):
        raise UsageError(f"choose one sign-in method: --provider and {methods[0]} were both given")
    if flags.object_id and flags.resource_id:
        raise UsageError("--object-id and --resource-id both name the identity; give one")

    options: dict[str, Any] = {}
    provider: str | None = None
    if flags.environment_variable:
        provider, options = from_azure_environment(environ, flags)
    elif methods:
        provider = next(p for f, _, p in METHOD_FLAGS if f == methods[0])
    if flags.provider:
        provider = flags.provider
    for attr, option in OPTION_FLAGS.items():
        value = getattr(flags, attr)
        if value is None or value is False:
            continue
        options[option] = value
    if "certificate_path" in options:
        # Saved for later processes, which may run from another folder.
        options["certificate_path"] = str(Path(options["certificate_path"]).expanduser().absolute())
    options.update(parse_option_pairs(flags.option))
    options = {key: value for key, value in options.items() if value is not None}
    return ConnectRequest(provider, options)


def parse_context_scope(value: str | None) -> str | None:
    """``--context-scope`` in any case, as PowerShell accepts it; None when not given."""
    from entra_auth import UsageError

    if value is None:
        return None
    scope = CONTEXT_SCOPES.get(value.lower())
    if scope is None:
        raise UsageError(f"--context-scope {value!r} is not one of Process, CurrentUser")
    return scope


def resolve_sign_in(
    flags: ConnectFlags,
    *,
    config: Config,
    profile: str | None = None,
    environment: str | None = None,
    context_scope: str | None = None,
    use_profiles: bool = True,
) -> ResolvedRequest:
    """The one path from sign-in flags to a checked request, for ``connect`` and ``profile
    add`` alike: provider installed, environment known, flags merged over the profile (only when
    ``use_profiles``: a new profile never inherits the default one). Options are checked against
    the provider's declaration by ``checked_options``."""
    from entra_auth import UsageError, plugins
    from entra_auth.connect import resolve_request

    request = build_request(flags, environ=os.environ)
    scope = parse_context_scope(context_scope)
    chosen_profile = profile if use_profiles else None
    if request.provider is None and (
        not use_profiles or config.selected_profile_name(chosen_profile) is None
    ):
        raise UsageError(CHOOSE_A_METHOD)
    if request.provider is not None:
        require_installed(request.provider)
    # Without a method flag, --profile / ENTRA_AUTH_PROFILE / default_profile say how.
    resolved = resolve_request(
        config,
        plugins.get_host(),
        request.provider,
        chosen_profile,
        environment,
        scope,
        request.options,
    )
    require_installed(resolved.provider)
    return resolved


def checked_options(provider: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` as core normalises them after checking them against ``provider``'s
    declaration: undeclared, missing required and literal secrets are refused here."""
    from entra_auth import plugins
    from entra_auth.connect import validate_options

    return validate_options(plugins.get_host().get_provider(provider).provider, options)


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


def from_azure_environment(
    environ: Mapping[str, str], flags: ConnectFlags
) -> tuple[str, dict[str, Any]]:
    """``--environment-variable``: the ``AZURE_*`` variables, read as azure-identity's
    EnvironmentCredential reads them (a secret wins over a certificate). Secrets stay
    references to the variables; their values are never copied anywhere."""
    from entra_auth import UsageError

    def present(name: str) -> bool:
        return bool(environ.get(name, "").strip())

    missing = [
        name
        for name, flag_value in (
            ("AZURE_CLIENT_ID", flags.client_id),
            ("AZURE_TENANT_ID", flags.tenant_id),
        )
        if not present(name) and not flag_value
    ]
    if missing:
        raise UsageError(f"--environment-variable needs {' and '.join(missing)} set")
    options: dict[str, Any] = {
        "client_id": environ.get("AZURE_CLIENT_ID", "").strip() or None,
        "tenant_id": environ.get("AZURE_TENANT_ID", "").strip() or None,
    }
    if present("AZURE_CLIENT_SECRET"):
        return "client-secret", {**options, "client_secret": "env:AZURE_CLIENT_SECRET"}
    if present("AZURE_CLIENT_CERTIFICATE_PATH"):
        options["certificate_path"] = environ["AZURE_CLIENT_CERTIFICATE_PATH"].strip()
        if present("AZURE_CLIENT_CERTIFICATE_PASSWORD"):
            options["certificate_password"] = "env:AZURE_CLIENT_CERTIFICATE_PASSWORD"
        chain = environ.get("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "").strip().lower()
        if chain in ("1", "true", "yes"):
            options["send_certificate_chain"] = True
        return "cert-object", options
    raise UsageError(
        "--environment-variable found neither AZURE_CLIENT_SECRET nor "
        "AZURE_CLIENT_CERTIFICATE_PATH; set one of them (with AZURE_CLIENT_ID and AZURE_TENANT_ID)"
    )


def require_installed(provider: str) -> None:
    """Fail with what to install (or why the installed plugin is not in use) when ``provider``
    is missing, rather than core's generic 'unknown provider'."""
    from entra_auth import PluginError, UsageError, plugins

    host = plugins.get_host()
    try:
        host.get_provider(provider)
        return
    except PluginError:
        raise
    except UsageError:
        distribution = PROVIDER_DISTRIBUTIONS.get(provider)
        if distribution is None:
            raise
    for failure in host.failures:
        if failure.distribution == distribution or failure.plugin == provider:
            raise UsageError(f"the {provider} provider is installed but not usable: {failure}")
    blocked = plugins.disabled_plugins()
    if provider in blocked or distribution in blocked:
        blocked_text = ",".join(sorted(blocked))
        raise UsageError(
            f"the {provider} provider ({distribution}) is disabled by "
            f"{plugins.DISABLE_ENV}={blocked_text}"
        )
    raise UsageError(
        f"the {provider} provider is not installed; install the {distribution} distribution "
        f"(pip install {distribution})"
    )
