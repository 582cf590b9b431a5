"""``entra_auth.connect``: the Python counterpart of ``Connect-Entra`` for app-only sign-in.

Everything that can be checked without the network is checked here, in this order, so a bad
call fails fast with one line: the provider exists, every option is declared, required options
are present, secrets are references, the environment is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .config import PROFILE_ENV, Config, load_config
from .context import EntraContext
from .credential import EntraCredential, TokenStore
from .environments import Environment, resolve_environment
from .errors import UsageError
from .plugins import PluginHost, get_host
from .providers import Provider, ProviderSettings
from .secret_references import Secret, check_reference
from .token_store import FileTokenStore, cache_folder, partition_key

CONTEXT_SCOPES = ("Process", "CurrentUser")


def validate_options(provider: Provider, options: Mapping[str, Any]) -> dict[str, Any]:
    """Options checked against the provider's declaration; unset (None) values dropped."""
    declared = {option.name: option for option in provider.options}
    given = {key.replace("-", "_"): value for key, value in options.items() if value is not None}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        accepted = ", ".join(o.cli_flag for o in provider.options) or "none"
        flags = ", ".join("--" + name.replace("_", "-") for name in unknown)
        raise UsageError(f"provider {provider.name!r} does not take {flags}; it takes: {accepted}")
    for option in provider.options:
        value = given.get(option.name)
        if option.required and (value is None or value == ""):
            raise UsageError(
                f"provider {provider.name!r} needs {option.cli_flag} ({option.help.rstrip('.')})"
            )
        if option.secret and value is not None:
            given[option.name] = check_reference(value, option.name)
        if option.flag and value is not None and not isinstance(value, bool):
            given[option.name] = str(value).strip().lower() in ("1", "true", "yes", "on")
    provider.validate(given)
    return given


def connect(
    provider: str | None = None,
    *,
    profile: str | None = None,
    environment: str | Environment | None = None,
    context_scope: str | None = None,
    scopes: Iterable[str] | None = None,
    fetch_token: bool = True,
    defer_create: bool = False,
    store: TokenStore | None = None,
    config: Config | None = None,
    plugins: PluginHost | None = None,
    **options: Any,
) -> EntraCredential:
    """Sign in as an application and return the credential.

    Name a ``provider`` with its options, or a ``profile`` from the config file (options given
    here override the profile's); with neither, ``ENTRA_AUTH_PROFILE`` or the config's
    ``default_profile`` is used. Like ``Connect-Entra``, it gets a token right away
    (``fetch_token=False`` defers that to the first ``get_token``), so a wrong secret fails
    here and ``.context`` is filled. ``defer_create=True`` also defers the provider's own
    set-up (reading keys, resolving secrets) to the first request that misses the caches::

        cred = entra_auth.connect("client-secret", client_id=..., tenant_id=...,
                                  client_secret="env:AZURE_CLIENT_SECRET")
        print(cred.context.app_name, cred.context.scopes)

    ``context_scope="CurrentUser"`` keeps tokens in a 0600 file cache shared by every process
    of this user; ``Process`` (the default) keeps them in memory only.
    """
    host = plugins or get_host()
    cfg = config if config is not None else load_config()
    resolved = resolve_request(cfg, host, provider, profile, environment, context_scope, options)
    entry = host.get_provider(resolved.provider)
    validated = validate_options(entry.provider, resolved.options)
    env = resolved.environment
    settings = ProviderSettings(
        provider=entry.provider.name,
        options=validated,
        environment=env,
        resolve_secret=lambda ref: _resolve(host, ref),
        certificate_stores=host.certificate_stores,
    )
    base = EntraContext(
        client_id=validated.get("client_id"),
        tenant_id=validated.get("tenant_id"),
        auth_type=entry.provider.auth_type,
        context_scope=resolved.context_scope,
        environment=env.name,
    )
    if store is None and resolved.context_scope == "CurrentUser":
        store = FileTokenStore(
            cache_folder(),
            partition_key(entry.provider.name, env.authority_host, validated),
        )
    default_scopes = tuple(scopes) if scopes else (env.default_scope,)
    chosen = entry.provider
    credential = EntraCredential(
        (lambda: chosen.create(settings)) if defer_create else chosen.create(settings),
        context=base,
        default_scopes=default_scopes,
        store=store,
    )
    if fetch_token:
        try:
            credential.get_token(*default_scopes)
        except BaseException:
            credential.close()
            raise
    return credential


@dataclass(frozen=True)
class ResolvedRequest:
    """What to connect with once profile, flags and environment variables are merged."""

    provider: str
    options: dict[str, Any]
    environment: Environment
    context_scope: str
    profile: str | None


def resolve_request(
    cfg: Config,
    host: PluginHost,
    provider: str | None,
    profile: str | None,
    environment: str | Environment | None,
    context_scope: str | None,
    options: Mapping[str, Any],
) -> ResolvedRequest:
    """Merge a profile with explicit arguments; explicit ones win."""
    explicit = {k: v for k, v in options.items() if v is not None}
    profile_name = profile or (None if provider else cfg.selected_profile_name())
    merged: dict[str, Any] = {}
    chosen_env: str | Environment | None = environment
    scope = context_scope
    if profile_name:
        chosen = cfg.profile(profile_name)
        if provider and provider != chosen.provider:
            # Another sign-in method than the profile's: keep only what still applies.
            declared = {o.name for o in host.get_provider(provider).provider.options}
            merged.update({k: v for k, v in chosen.options.items() if k in declared})
        else:
            merged.update(chosen.options)
        provider = provider or chosen.provider
        chosen_env = chosen_env or chosen.environment
        scope = scope or chosen.context_scope
    if not provider:
        raise UsageError(
            "say how to sign in: name a provider (see 'entra-auth providers') or a profile "
            f"(--profile NAME, {PROFILE_ENV} or default_profile in {cfg.path})"
        )
    merged.update(explicit)
    scope = scope or "Process"
    if scope not in CONTEXT_SCOPES:
        raise UsageError(f"context scope {scope!r} is not one of {', '.join(CONTEXT_SCOPES)}")
    env = (
        chosen_env
        if isinstance(chosen_env, Environment)
        else resolve_environment(chosen_env, cfg.environments)
    )
    return ResolvedRequest(provider, merged, env, scope, profile_name)


def _resolve(host: PluginHost, reference: object) -> str:
    if isinstance(reference, Secret):
        return reference.get_secret_value()
    return host.resolve_secret(str(reference))
