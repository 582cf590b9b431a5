"""``entra_auth.connect``: the Python counterpart of ``Connect-Entra`` for app-only sign-in.

Everything that can be checked without the network is checked here, in this order, so a bad
call fails fast with one line: the provider exists, every option is declared, required options
are present, secrets are references, the environment is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .context import EntraContext
from .credential import EntraCredential, TokenStore
from .environments import Environment, resolve_environment
from .errors import UsageError
from .plugins import PluginHost, get_host
from .providers import Provider, ProviderSettings
from .secret_references import Secret, check_reference

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
    provider: str,
    *,
    environment: str | Environment | None = None,
    custom_environments: Mapping[str, Environment] | None = None,
    context_scope: str = "Process",
    scopes: Iterable[str] | None = None,
    fetch_token: bool = True,
    defer_create: bool = False,
    store: TokenStore | None = None,
    plugins: PluginHost | None = None,
    **options: Any,
) -> EntraCredential:
    """Sign in as an application with ``provider`` and return the credential.

    Like ``Connect-Entra``, it gets a token right away (``fetch_token=False`` defers that to
    the first ``get_token``), so a wrong secret fails here and ``.context`` is filled.
    ``defer_create=True`` also defers the provider's own set-up (reading keys, resolving
    secrets) to the first token request that misses the caches::

        cred = entra_auth.connect("client-secret", client_id=..., tenant_id=...,
                                  client_secret="env:AZURE_CLIENT_SECRET")
        print(cred.context.app_name, cred.context.scopes)
    """
    host = plugins or get_host()
    entry = host.get_provider(provider)
    if context_scope not in CONTEXT_SCOPES:
        raise UsageError(
            f"context scope {context_scope!r} is not one of {', '.join(CONTEXT_SCOPES)}"
        )
    env = (
        environment
        if isinstance(environment, Environment)
        else resolve_environment(environment, custom_environments)
    )
    settings = ProviderSettings(
        provider=entry.provider.name,
        options=validate_options(entry.provider, options),
        environment=env,
        resolve_secret=lambda ref: _resolve(host, ref),
        certificate_stores=host.certificate_stores,
    )
    base = EntraContext(
        client_id=settings.options.get("client_id"),
        tenant_id=settings.options.get("tenant_id"),
        auth_type=entry.provider.auth_type,
        context_scope=context_scope,
        environment=env.name,
    )
    default_scopes = tuple(scopes) if scopes else (env.default_scope,)
    provider = entry.provider
    credential = EntraCredential(
        (lambda: provider.create(settings)) if defer_create else provider.create(settings),
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


def _resolve(host: PluginHost, reference: object) -> str:
    if isinstance(reference, Secret):
        return reference.get_secret_value()
    return host.resolve_secret(str(reference))
