"""The one sign-in pipeline: (profile, options, environment, context scope) -> a ``SignInRequest``.

Every entry point goes through ``prepare`` exactly once: ``entra_auth.connect``, the CLI's
``connect`` and ``profile add``, and later ``token`` processes replaying a saved connection. It
chooses the provider (named, picked by a selecting option, read from the environment, or taken
from a profile), merges the profile under the explicit options, coerces and checks every option
against the provider's declaration, keeps secrets as references and resolves the environment.
What comes out is complete: the CLI may prompt against it, save it, and connect with it, and
nothing is validated again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .records import Record, field, replace

if TYPE_CHECKING:
    from .config import Config
    from .environments import Environment
    from .plugins import PluginHost, ProviderEntry
    from .providers import Option, Provider, ProviderSettings
    from .secret_references import Secret

CONTEXT_SCOPES = ("Process", "CurrentUser")
CORE_OPTIONS = (
    "additionally_allowed_tenants",
    "token_cache",
    "token_cache_fallback",
    "token_cache_encryption",
)
"""Options core reads itself, whatever the provider (profile keys too)."""


class SignInRequest(Record):
    """A checked sign-in: which provider, with which options, against which cloud.

    ``options`` are validated and normalised; secret options are still references (what may be
    saved). ``secret_values`` holds values the caller already has (a prompted secret), used for
    this sign-in only and never saved."""

    entry: ProviderEntry
    options: Mapping[str, Any]
    environment: Environment
    context_scope: str = "Process"
    profile: str | None = None
    selected_by: str = "provider"
    """How the provider was chosen: ``provider``, ``option NAME``, ``environment`` or
    ``profile``."""
    secret_values: Mapping[str, Secret] = field(default_factory=dict, repr=False)
    host: PluginHost | None = field(default=None, repr=False, compare=False)

    @property
    def provider(self) -> Provider:
        return self.entry.provider

    @property
    def provider_name(self) -> str:
        return self.entry.provider.name

    @cached_property
    def declared(self) -> tuple[Option, ...]:
        """The provider's options, plus its certificate stores' when it uses stores."""
        return declared_options(self.entry, self.host)

    @cached_property
    def partition(self) -> str:
        """The token cache partition: provider, authority and the options that say who signs
        in (secret references included, values never)."""
        from .plugins import guarded
        from .token_store import partition_key

        own = self.provider_options()
        with guarded(self.entry, "cache_scope"):
            scope = dict(self.provider.cache_scope(own))
        options = {**own, **{f"cache_scope.{k}": v for k, v in scope.items()}}
        return partition_key(self.provider_name, self.environment.authority_host, options)

    def provider_options(self) -> dict[str, Any]:
        """The options without core's own (allowed tenants, token cache) and the token cache
        backends': what the provider gets and what names the cache partition, so the same
        sign-in shares its tokens whichever cache holds them."""
        skip = set(CORE_OPTIONS)
        if self.host is not None or self.options.get("token_cache"):
            skip |= {o.name for o in self._host().token_cache_options()}
        return {k: v for k, v in self.options.items() if k not in skip}

    def secret_options(self) -> list[Option]:
        return [o for o in self.declared if o.secret and self.options.get(o.name) is not None]

    def with_options(self, options: Mapping[str, Any]) -> SignInRequest:
        """The same request with options replaced (say, a prompt reference replaced by the
        keyring reference it was stored under); the caller vouches they were checked."""
        return replace(self, options=dict(options))

    def with_secret_values(self, values: Mapping[str, Secret]) -> SignInRequest:
        return replace(self, secret_values={**self.secret_values, **values})

    def settings(self) -> ProviderSettings:
        """What the provider's ``create`` gets."""
        from .providers import ProviderSettings

        host = self._host()
        return ProviderSettings(
            provider=self.provider_name,
            options=self.options,
            environment=self.environment,
            resolve_secret=self._resolve_secret,
            certificate_stores=lambda: host.bound_certificate_stores(self),
            declared=self.declared,
            context_scope=self.context_scope,
        )

    def account_hint(self) -> str | None:
        """Who signs in, for prompts and keyring entry names (the app's client ID)."""
        value = self.options.get("client_id")
        return str(value) if value else None

    def _resolve_secret(self, reference: Any) -> str:
        from .secret_references import Secret

        if isinstance(reference, Secret):
            return reference.get_secret_value()
        for name, value in self.secret_values.items():
            if self.options.get(name) == reference:
                return value.get_secret_value()
        return self._host().resolve_secret(str(reference))

    def _host(self) -> PluginHost:
        from .plugins import get_host

        return self.host or get_host()


def declared_options(entry: ProviderEntry, host: PluginHost | None) -> tuple[Option, ...]:
    options = tuple(entry.provider.options)
    if host is not None and host.token_caches():
        names = {o.name for o in options}
        for cache_option in host.token_cache_options():
            if cache_option.name not in names:
                options += (cache_option,)
                names.add(cache_option.name)
    if entry.provider.uses_certificate_stores and host is not None:
        names = {o.name for o in options}
        for store_option in host.certificate_store_options():
            if store_option.name not in names:
                options += (store_option,)
                names.add(store_option.name)
    return options


def prepare(
    provider: str | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    profile: str | None = None,
    environment: str | Environment | None = None,
    context_scope: str | None = None,
    from_environment: bool = False,
    use_profiles: bool = True,
    config: Config | None = None,
    plugins: PluginHost | None = None,
    environ: Mapping[str, str] | None = None,
) -> SignInRequest:
    """Turn what the caller gave into one checked ``SignInRequest``; ``UsageError`` (or a
    subclass) for anything that cannot work, before any secret is read or request sent.

    The provider is, in this order: ``provider``; with ``from_environment``, the
    lowest-``environment_rank`` provider whose selecting option's variable is set (as
    ``--environment-variable`` and azure-identity's EnvironmentCredential do); the provider of
    a selecting option in ``options``; the profile's (``profile``, else ``ENTRA_AUTH_PROFILE``,
    else ``default_profile``). Explicit options win over the profile's and the environment's.
    """
    from .config import PROFILE_ENV, load_config
    from .environments import Environment, resolve_environment
    from .plugins import get_host

    host = plugins or get_host()
    cfg = config if config is not None else load_config()
    env_vars = os.environ if environ is None else environ
    explicit = _explicit(options or {})
    selected_by = "provider"

    if context_scope is not None:
        context_scope = parse_context_scope(context_scope)
    chosen: list[tuple[str, str]] = []
    if explicit and (provider is None or from_environment):
        # Only an option that may choose the provider needs every provider's selecting
        # options (and so every plugin loaded); a named provider needs its own plugin alone.
        selecting = host.selecting_options()
        chosen = [(name, selecting[name]) for name in explicit if name in selecting]
    if from_environment:
        if chosen:
            raise UsageError(
                "choose one sign-in method: --environment-variable and "
                f"{_label(host, chosen[0][0])} were both given"
            )
        if provider is None:
            provider = _provider_from_environment(host, env_vars, explicit)
            selected_by = "environment"
    elif provider is None and chosen:
        providers = {p for _, p in chosen}
        if len(providers) > 1:
            labels = [_label(host, name) for name, _ in chosen]
            joined = " and ".join(labels) if len(labels) == 2 else ", ".join(labels)
            raise UsageError(
                f"choose one sign-in method: {joined} were "
                f"{'both' if len(labels) == 2 else 'all'} given"
            )
        provider = chosen[0][1]
        selected_by = f"option {chosen[0][0]}"

    merged: dict[str, Any] = {}
    chosen_env: str | Environment | None = environment
    scope = context_scope
    profile_name = None
    if use_profiles:
        profile_name = profile or (None if provider else cfg.selected_profile_name())
    if profile_name:
        saved = cfg.profile(profile_name)
        if provider and provider != saved.provider:
            # Another sign-in method than the profile's: keep only what still applies.
            entry = host.get_provider(provider)
            declared = {o.name for o in declared_options(entry, host)}
            merged.update({k: v for k, v in saved.options.items() if k in declared})
        else:
            merged.update(saved.options)
            if provider is None:
                selected_by = "profile"
        provider = provider or saved.provider
        chosen_env = chosen_env or saved.environment
        scope = scope or saved.context_scope
    if not provider:
        selecting = host.selecting_options()
        flags = ", ".join(
            f"{_label(host, name)}" for name in sorted(selecting, key=lambda n: _label(host, n))
        )
        raise UsageError(
            f"choose how to sign in: give one of {flags or 'no sign-in options (none installed)'}, "
            f"name a provider, read the AZURE_* environment variables, or use a profile "
            f"(--profile NAME, {PROFILE_ENV} or default_profile in {cfg.path})"
        )
    entry = host.get_provider(provider)
    where = f"{cfg.path} [profiles.{profile_name}]:" if profile_name else ""
    if from_environment:
        from_env, missing = _from_environment(entry, host, env_vars)
        merged.update(from_env)
        unset = [variable for name, variable in missing if explicit.get(name) is None]
        if unset:
            raise UsageError(f"--environment-variable needs {' and '.join(unset)} set")
    merged.update(explicit)
    scope = parse_context_scope(scope or "Process")
    env = (
        chosen_env
        if isinstance(chosen_env, Environment)
        else resolve_environment(chosen_env, cfg.environments)
    )
    checked = validate_options(entry, merged, host=host, where=where)
    return SignInRequest(
        entry,
        checked,
        env,
        scope,
        profile_name,
        selected_by=selected_by,
        host=host,
    )


def validate_options(
    entry: ProviderEntry,
    options: Mapping[str, Any],
    *,
    host: PluginHost | None = None,
    where: str = "",
) -> dict[str, Any]:
    """Options checked against the provider's declaration, once: undeclared names, types,
    required options, secret references, each option's own ``check`` and the provider's
    ``validate``. Unset (None) values are dropped."""
    from .plugins import guarded
    from .secret_references import check_reference

    provider = entry.provider
    declared = {o.name: o for o in declared_options(entry, host)}
    given = {key.replace("-", "_"): value for key, value in options.items() if value is not None}
    core_options = {k: given.pop(k) for k in CORE_OPTIONS if k in given}
    _check_token_cache(core_options, host)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        accepted = ", ".join(o.label for o in declared.values()) or "none"
        named = ", ".join(
            "--" + name.replace("_", "-") if not where else repr(name) for name in unknown
        )
        raise UsageError(
            f"{where + ' ' if where else ''}provider {provider.name!r} does not take {named}; "
            f"it takes: {accepted}"
        )
    prefix = where or "option"
    for option in declared.values():
        value = given.get(option.name)
        if value is not None:
            value = option.coerce(value, where=prefix)
        if option.required and (value is None or value == ""):
            raise UsageError(
                f"{where + ' ' if where else ''}provider {provider.name!r} needs {option.label} "
                f"({option.help.rstrip('.')})"
            )
        if value is None:
            continue
        if option.selects and option.type == "bool":
            # A switch such as --identity has done its job by choosing the provider; keeping
            # it would only make saved profiles and cache partitions differ for one sign-in.
            given.pop(option.name, None)
            continue
        if option.secret:
            value = check_reference(value, option.name, label=option.label)
        elif option.check is not None and not (option.type == "bool" and value is False):
            with guarded(entry, f"the check of option {option.name!r}"):
                value = option.check(value)
        given[option.name] = value
    with guarded(entry, "validate"):
        provider.validate(given)
    return {**given, **core_options}


def _check_token_cache(core_options: dict[str, Any], host: PluginHost | None) -> None:
    """``token_cache`` names a URL an installed backend serves, with no password in it."""
    if not core_options:
        return
    from .token_store import (
        ENCRYPTION_OPTION,
        TOKEN_CACHE_FALLBACK_OPTION,
        TOKEN_CACHE_OPTION,
        check_encryption,
        check_fallback,
    )

    if ENCRYPTION_OPTION in core_options:
        core_options[ENCRYPTION_OPTION] = check_encryption(core_options[ENCRYPTION_OPTION])
    if TOKEN_CACHE_FALLBACK_OPTION in core_options:
        core_options[TOKEN_CACHE_FALLBACK_OPTION] = check_fallback(
            core_options[TOKEN_CACHE_FALLBACK_OPTION]
        )
    url = core_options.get(TOKEN_CACHE_OPTION)
    if url is None:
        return
    if not isinstance(url, str) or not url.strip():
        raise UsageError(f"token_cache must be a URL, got {url!r}")
    from urllib.parse import urlsplit

    try:
        password = urlsplit(url).password
    except ValueError as exc:
        raise UsageError(f"token_cache is not a valid URL: {exc}") from None
    if password is not None:
        raise UsageError(
            "token_cache must not hold a password: give it by reference through the cache's "
            "password option, a secret reference (see entra-auth plugins)"
        )
    if host is not None:
        host.token_cache_backend(url)
    core_options[TOKEN_CACHE_OPTION] = url.strip()


def parse_context_scope(value: str) -> str:
    """``Process`` or ``CurrentUser`` in any case, as PowerShell accepts them."""
    by_lower = {scope.lower(): scope for scope in CONTEXT_SCOPES}
    if not isinstance(value, str) or value.lower() not in by_lower:
        raise UsageError(f"--context-scope {value!r} is not one of {', '.join(CONTEXT_SCOPES)}")
    return by_lower[value.lower()]


def _explicit(options: Mapping[str, Any]) -> dict[str, Any]:
    explicit: dict[str, Any] = {}
    for key, value in options.items():
        if not isinstance(key, str):
            raise UsageError(f"option names are strings, not {type(key).__name__}")
        if value is not None:
            explicit[key.replace("-", "_")] = value
    return explicit


def _label(host: PluginHost, name: str) -> str:
    option = host.option_by_name(name)
    return option.label if option is not None else "--" + name.replace("_", "-")


def _provider_from_environment(
    host: PluginHost, environ: Mapping[str, str], explicit: Mapping[str, Any]
) -> str:
    """The provider ``--environment-variable`` means, by ``environment_rank``."""
    candidates: list[tuple[int, str]] = []
    wanted: list[str] = []
    shared: set[tuple[str, str]] | None = None  # required (option, variable) every one reads
    for name, entry in host.providers().items():
        rank = entry.provider.environment_rank
        if rank is None:
            continue
        required = {(o.name, o.env) for o in entry.provider.options if o.required and o.env}
        shared = required if shared is None else shared & required
        for option in entry.provider.options:
            if option.selects and option.env:
                wanted.append(option.env)
                if environ.get(option.env, "").strip():
                    candidates.append((rank, name))
    unset = sorted(
        variable
        for name, variable in shared or ()
        if not environ.get(variable, "").strip() and explicit.get(name) is None
    )
    if unset:
        raise UsageError(f"--environment-variable needs {' and '.join(unset)} set")
    if not candidates:
        listed = " or ".join(sorted(set(wanted))) or "a variable a provider reads"
        raise UsageError(
            f"--environment-variable found none of {listed}; set one of them (with "
            "AZURE_CLIENT_ID and AZURE_TENANT_ID)"
        )
    return min(candidates)[1]


def _from_environment(
    entry: ProviderEntry, host: PluginHost, environ: Mapping[str, str]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The chosen provider's options read from their ``env`` variables (a secret stays a
    reference to its variable, so its value is never copied anywhere), and the required
    options whose variable is unset."""
    values: dict[str, Any] = {}
    missing: list[tuple[str, str]] = []
    for option in declared_options(entry, host):
        if not option.env:
            continue
        raw = environ.get(option.env, "").strip()
        if raw:
            values[option.name] = f"env:{option.env}" if option.secret else raw
        elif option.required:
            missing.append((option.name, option.env))
    return values, missing
