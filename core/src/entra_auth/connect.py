"""``entra_auth.connect``: the Python counterpart of ``Connect-Entra`` for app-only sign-in.

Everything that can be checked without the network is checked by ``sign_in.prepare`` (the one
pipeline the CLI uses too), so a bad call fails fast with one line; then the provider builds
its token source and, like Connect-Entra, a first token is fetched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .credential import EntraCredential, TokenStore
from .errors import UsageError
from .sign_in import CONTEXT_SCOPES, SignInRequest, prepare

if TYPE_CHECKING:
    from .config import Config
    from .environments import Environment
    from .plugins import PluginHost

__all__ = ["CONTEXT_SCOPES", "connect", "open_credential"]


def connect(
    provider: str | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    request: SignInRequest | None = None,
    profile: str | None = None,
    environment: str | Environment | None = None,
    context_scope: str | None = None,
    from_environment: bool = False,
    scopes: Iterable[str] | str | None = None,
    fetch_token: bool = True,
    defer_create: bool = False,
    store: TokenStore | None = None,
    config: Config | None = None,
    plugins: PluginHost | None = None,
    **provider_options: Any,
) -> EntraCredential:
    """Sign in as an application and return the credential.

    Name a ``provider`` with its ``options`` (a mapping; any name works there, ``environment``
    or ``scopes`` included), or a ``profile`` from the config file (options given here override
    the profile's); with neither, ``ENTRA_AUTH_PROFILE`` or the config's ``default_profile`` is
    used. ``from_environment=True`` reads ``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID`` and the
    variables providers declare, as azure-identity's EnvironmentCredential does. Options may
    also be passed as keywords when their names do not collide with this function's own.
    A prepared ``request`` (``entra_auth.prepare``) skips the preparation.

    Like ``Connect-Entra``, it gets a token right away (``fetch_token=False`` defers that to the
    first ``get_token``), so a wrong secret fails here and ``.context`` is filled.
    ``defer_create=True`` also defers the provider's own set-up (reading keys, resolving
    secrets) to the first request that misses the caches::

        cred = entra_auth.connect("client-secret", options={
            "client_id": ..., "tenant_id": ..., "client_secret": "env:AZURE_CLIENT_SECRET"})
        print(cred.context.app_name, cred.context.scopes)

    ``context_scope="CurrentUser"`` keeps tokens in a 0600 file cache shared by every process
    of this user; ``Process`` (the default) keeps them in memory only.
    """
    if request is None:
        if options is not None and not isinstance(options, Mapping):
            raise UsageError(f"options must be a mapping of names to values, not {options!r}")
        clash = sorted(set(options or {}) & set(provider_options))
        if clash:
            raise UsageError(
                f"option {clash[0]!r} was given both in options= and as a keyword; give it once"
            )
        request = prepare(
            provider,
            {**provider_options, **(options or {})},
            profile=profile,
            environment=environment,
            context_scope=context_scope,
            from_environment=from_environment,
            config=config,
            plugins=plugins,
        )
    elif provider_options or options:
        raise UsageError("give either a prepared request or options, not both")
    return open_credential(
        request, scopes=scopes, fetch_token=fetch_token, defer_create=defer_create, store=store
    )


def open_credential(
    request: SignInRequest,
    *,
    scopes: Iterable[str] | str | None = None,
    fetch_token: bool = True,
    defer_create: bool = False,
    store: TokenStore | None = None,
    prove: bool = False,
) -> EntraCredential:
    """The credential for a prepared request (what ``connect`` does after preparing).

    With ``fetch_token`` the first token never comes from the local file cache; ``prove``
    (an interactive ``entra-auth connect``) also refuses the shared fleet cache for it, so a
    wrong secret is refused whatever any cache holds."""
    import os

    from .context import EntraContext
    from .credential import ALLOWED_TENANTS_ENV, ALLOWED_TENANTS_OPTION
    from .plugins import create_source

    allowed_tenants = request.options.get(ALLOWED_TENANTS_OPTION)
    if allowed_tenants is None:
        allowed_tenants = os.environ.get(ALLOWED_TENANTS_ENV, "")
    local: TokenStore | None = store
    if local is None and request.context_scope == "CurrentUser":
        from .token_store import FileTokenStore, cache_folder, cache_key

        local = FileTokenStore(cache_folder(), request.partition, key=cache_key(request.options))
    if fetch_token and local is not None:
        # Connecting proves the credential: its first token comes from Entra, never from a
        # cache entry another sign-in (perhaps with another secret behind the same reference)
        # left there. A shared cache (token_cache) is the fleet's, trusted by its key.
        local = _ProvingStore(local)
    shared: TokenStore | None = None
    if store is None and request.options.get("token_cache"):  # token_store.TOKEN_CACHE_OPTION
        from .token_store import open_shared_store

        shared = open_shared_store(request, local)
    if prove and fetch_token and shared is not None:
        shared = _ProvingStore(shared)
    store = shared if shared is not None else local
    # Core's options and the cache's are not the provider's.
    provider_options = request.provider_options()
    if len(provider_options) != len(request.options):
        request = request.with_options(provider_options)
    env = request.environment
    base = EntraContext(
        client_id=request.options.get("client_id"),
        tenant_id=request.options.get("tenant_id"),
        auth_type=request.provider.auth_type,
        context_scope=request.context_scope,
        environment=env.name,
    )
    default_scopes = _scopes(scopes) or (env.default_scope,)
    credential = EntraCredential(
        (lambda: create_source(request)) if defer_create else create_source(request),
        context=base,
        default_scopes=default_scopes,
        store=store,
        additionally_allowed_tenants=allowed_tenants,
    )
    if fetch_token:
        try:
            credential.get_token(*default_scopes)
        except BaseException:
            credential.close()
            raise
    return credential


class _ProvingStore:
    """A token store that reads nothing until this credential has saved a token of its own."""

    def __init__(self, store: TokenStore) -> None:
        self._store = store
        self._proven = False

    def load(self, key: Any) -> Any:
        return self._store.load(key) if self._proven else None

    def save(self, key: Any, result: Any) -> None:
        self._store.save(key, result)
        self._proven = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _scopes(scopes: Iterable[str] | str | None) -> tuple[str, ...]:
    """A single scope string is one scope, never split into characters."""
    if scopes is None:
        return ()
    if isinstance(scopes, str):
        scopes = (scopes,)
    from .identifiers import check_scope

    return tuple(check_scope(scope) for scope in scopes)
