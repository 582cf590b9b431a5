"""Finding and loading plugins, guarded so one broken plugin never breaks the tool.

pluggy's own ``load_setuptools_entrypoints`` stops at the first plugin that fails to import;
like keyring, we load each entry point on its own, record why a plugin failed (distribution,
entry point, reason) and carry on. Every hook, the registration hooks included, is called
through pluggy (one plugin at a time through a subset hook caller, so a plugin that raises is
isolated and ``--debug`` tracing and hook wrappers see every call). Problems are collected once
per process: import failures, pluggy's whole validation message, hooks that are not in the
spec (a misspelled name), registrations of the wrong type, two providers with one name and two
option declarations that disagree.

The process-wide host is lazy: a plugin the discovery cache (``plugin_cache``) knows to do
nothing but register providers, without any problem, is imported only when one of its
providers is asked for, or when something needs every plugin (the full provider list, the CLI
flags, the problems). Whatever the cache says is checked when the plugin loads; a fact that no
longer holds loads everything, as a full host would have, and the next full listing rewrites
the cache.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import EntraAuthError, PluginError, UsageError
from .plugin_manager import PluginManager
from .records import Record, field

if TYPE_CHECKING:
    from .certificates.stores import CertificateStore
    from .providers import Option, Provider, TokenSource
    from .secret_references import SecretScheme
    from .sign_in import SignInRequest
    from .token_store import TokenCacheBackend
    from .tokens import TokenResult

log = logging.getLogger("entra_auth.plugins")

ENTRY_POINT_GROUP = "entra_auth"
DISABLE_ENV = "ENTRA_AUTH_DISABLE_PLUGINS"
CORE_DISTRIBUTION = "entra-auth"
BUILTIN_STORES_PLUGIN = "entra_auth.certificate_stores"
SECRET_SCHEMES_PLUGIN = "entra_auth.secret_references"
PROVIDERS_HOOK = "entra_auth_register_providers"


class PluginFailure(Record):
    """A problem with a plugin: shown by ``entra-auth plugins`` and logged under ``--debug``."""

    plugin: str
    distribution: str
    reason: str
    loaded: bool = False
    """True when the plugin is in use despite the problem (say, a misspelled hook name)."""

    def __str__(self) -> str:
        if self.loaded:
            return f"plugin {self.plugin!r} from {self.distribution}: {self.reason}"
        return f"plugin {self.plugin!r} from {self.distribution} was not loaded: {self.reason}"


class _Origin(Record):
    """Where plugin code came from, for messages: plugin name, distribution and version."""

    plugin: str
    distribution: str
    version: str

    @property
    def origin(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"plugin {self.plugin!r} ({self.distribution}{version})"


class ProviderEntry(_Origin):
    """A registered provider and where it came from."""

    provider: Provider = field(kw_only=True)


class CliOption(Record):
    """One flag of ``connect`` / ``profile add``: an option as every provider declaring it
    agrees it is, and which providers take it."""

    option: Option
    providers: tuple[str, ...]
    helps: tuple[tuple[str, str], ...]
    """(provider, help) for each provider whose help differs from the first."""

    @property
    def selects(self) -> str | None:
        """The provider this flag picks, when it is a selecting option."""
        return self.providers[0] if self.option.selects else None

    @property
    def help(self) -> str:
        extra = " ".join(f"[{name}: {text.rstrip('.')}.]" for name, text in self.helps)
        return f"{self.option.help} {extra}".strip()


class PluginHost(Record, frozen=False):
    """The plugin manager plus what the plugins registered, built once per process."""

    manager: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)
    distributions: dict[str, tuple[str, str]] = field(default_factory=dict)
    _providers: dict[str, ProviderEntry] | None = None
    _duplicates: dict[str, list[ProviderEntry]] = field(default_factory=dict)
    _stores: list[tuple[str, CertificateStore]] | None = None
    _schemes: dict[str, tuple[str, SecretScheme]] | None = None
    _token_caches: dict[str, tuple[str, TokenCacheBackend]] | None = None
    _cli_options: list[CliOption] | None = None
    _conflicts: list[str] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    disabled: list[dict[str, str]] = field(default_factory=list)
    """Entry points skipped because ``ENTRA_AUTH_DISABLE_PLUGINS`` names them."""
    secret_observers: list[Callable[[str], None]] = field(default_factory=list)
    """Called with every secret value resolved (the CLI's redactor masks them in output)."""
    discovery: dict[str, Any] | None = None
    """The discovery cache entry this host was built from (or wrote), when it is the default
    host of this installation: ``providers()`` adds what the CLI's fast path and a lazy host
    need to it."""
    # Laziness. A full host registers plugins in ``_order`` (core's, then the entry points in
    # discovery order, then extras); hooks are called in that order whenever plugins loaded,
    # so a lazy host answers exactly as a full one.
    _order: dict[str, int] = field(default_factory=dict)
    _entry_points: list[str] = field(default_factory=list)
    """Entry points this host loads (or tried to): the plugins the cache keeps facts about."""
    _deferred: dict[str, _EntryPoint] = field(default_factory=dict)
    """Entry points not imported yet, each known (``_facts``) to only register providers."""
    _facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    _verify: bool = False
    """True while the cache's facts are relied on: what loads later is checked against them."""
    _complete: bool = False
    """Every plugin loaded and asked for its providers: ``_providers`` is the whole list."""
    _asked_all: bool = False
    _newly_loaded: list[str] = field(default_factory=list)
    _registrations: list[tuple[tuple[int, int], int, ProviderEntry]] = field(default_factory=list)
    _sequence: Iterator[int] = field(default_factory=itertools.count)
    _load_failures: list[PluginFailure] = field(default_factory=list)
    _hook_name_failures: list[PluginFailure] = field(default_factory=list)
    _registration_failures: dict[str, list[PluginFailure]] = field(default_factory=dict)
    _conflict_plugins: set[str] = field(default_factory=set)
    _builtin_stores_pending: bool = False

    # -- providers -----------------------------------------------------------------------
    def providers(self) -> dict[str, ProviderEntry]:
        """Every registered provider by name (duplicates left out; see ``problems``)."""
        with self._lock:
            if not self._complete:
                self._load_deferred()
                self._collect_providers()
                self._complete = True
                if self.discovery is not None:
                    self._remember(self.discovery)
            assert self._providers is not None
            return self._providers

    def load_all(self) -> None:
        """Import every plugin now, for callers that read ``distributions`` or ``manager``
        themselves (``entra-auth plugins``)."""
        self._register_builtin_stores()
        self.providers()

    def get_provider(self, name: str) -> ProviderEntry:
        providers = self._providers_for(name)
        if name in self._duplicates:
            owners = " and ".join(e.origin for e in self._duplicates[name])
            raise PluginError(
                f"provider {name!r} is registered by both {owners}; uninstall one or disable it "
                f"with {DISABLE_ENV}=<plugin>"
            )
        entry = providers.get(name)
        if entry is None:
            raise UsageError(self._missing_provider(name))
        return entry

    def _providers_for(self, name: str) -> dict[str, ProviderEntry]:
        """The providers, complete as far as ``name`` goes: with deferred entry points, only
        those the cache says register ``name`` are loaded (all of them for a name the cache
        does not know, or when its facts turn out stale)."""
        with self._lock:
            if self._complete or not self._deferred:
                return self.providers()
            if not any(name in fact["providers"] for fact in self._facts.values()):
                return self.providers()
            self._load(
                [ep for n, ep in self._deferred.items() if name in self._facts[n]["providers"]]
            )
            self._collect_providers()
            assert self._providers is not None
            if self._deferred and (name in self._providers or name in self._duplicates):
                return self._providers
            return self.providers()

    def _missing_provider(self, name: str) -> str:
        known = ", ".join(sorted(self.providers())) or "none"
        message = f"unknown provider {name!r}; installed providers: {known}"
        related = [f for f in self.failures if not f.loaded and name in (f.plugin, f.distribution)]
        if related:
            return f"{message}; {related[0]}"
        blocked = disabled_plugins()
        if name in blocked:
            return f"{message}; it is disabled by {DISABLE_ENV}={','.join(sorted(blocked))}"
        return f"{message} (see 'entra-auth plugins')"

    def problems(self) -> list[str]:
        """Human-readable lines for every plugin problem, each once."""
        self.providers()
        self.certificate_stores()
        self.secret_schemes()
        self.token_caches()
        self.cli_options()
        lines = [str(f) for f in self.failures]
        for name, entries in sorted(self._duplicates.items()):
            owners = " and ".join(e.origin for e in entries)
            lines.append(f"provider {name!r} is registered by both {owners}")
        lines.extend(self._conflicts)
        return list(dict.fromkeys(lines))

    def _collect_providers(self) -> None:
        """Ask the plugins not asked yet for their providers: every registered plugin the first
        time (as a full host does), then those loaded since from deferred entry points. With
        the cache's facts relied on, what each plugin registered must be what they say."""
        from .providers import Provider

        only = set(self._newly_loaded) if self._asked_all else None
        self._newly_loaded.clear()
        if only is not None and not only:
            if self._providers is None:
                self._rebuild_providers()
            return
        hook = getattr(self.manager.hook, PROVIDERS_HOOK)
        ranks = {impl.plugin_name: self._rank(impl) for impl in hook.get_hookimpls()}
        fresh: list[tuple[tuple[int, int], int, ProviderEntry]] = []

        def collect(plugin_name: str, provider: object) -> None:
            if not isinstance(provider, Provider):
                raise PluginError(
                    f"register() takes an entra_auth.Provider instance, got {type(provider)!r}"
                )
            dist, version = self.distributions.get(plugin_name, ("unknown", ""))
            entry = ProviderEntry(plugin_name, dist, version, provider=provider)
            rank = ranks.get(plugin_name, (1, len(self._order)))
            fresh.append((rank, next(self._sequence), entry))

        failed = self._call_registration(PROVIDERS_HOOK, collect, only=only)
        self._asked_all = True
        asked = set(ranks) if only is None else only & set(ranks)
        if self._verify and not self._facts_hold(asked, fresh, failed):
            self._fall_back("a plugin registered other providers than the cache says")
            self._collect_providers()
            return
        self._registrations.extend(fresh)
        self._rebuild_providers()

    def _facts_hold(
        self,
        asked: set[str],
        fresh: list[tuple[tuple[int, int], int, ProviderEntry]],
        failed: list[PluginFailure],
    ) -> bool:
        for plugin in asked:
            fact = self._facts.get(plugin)
            if fact is None:
                continue
            names = [e.provider.name for _rank, _n, e in fresh if e.plugin == plugin]
            if names != fact["providers"]:
                return False
            if not fact["problem"] and any(f.plugin == plugin for f in failed):
                return False
        return True

    def _rebuild_providers(self) -> None:
        """``_providers`` and ``_duplicates`` from every registration so far, in a full host's
        order (whenever each plugin loaded)."""
        found: dict[str, ProviderEntry] = {}
        duplicates: dict[str, list[ProviderEntry]] = {}
        for entry in self._registered_in_order():
            name = entry.provider.name
            if name in duplicates:
                duplicates[name].append(entry)
            elif name in found:
                duplicates[name] = [found.pop(name), entry]
            else:
                found[name] = entry
        self._providers = found
        self._duplicates = duplicates
        # Flags merged from an older list would be stale (they are merged only from the whole
        # list, so this is a guard, not a path).
        self._cli_options = None
        self._conflicts = []
        self._conflict_plugins = set()

    def _registered_in_order(self) -> list[ProviderEntry]:
        """Every provider registration so far, in the order a full host makes them."""
        return [entry for _rank, _n, entry in sorted(self._registrations, key=lambda r: r[:2])]

    # -- deferred entry points -----------------------------------------------------------
    def _load_deferred(self) -> None:
        """Import every deferred entry point (before anything that needs every plugin)."""
        with self._lock:
            if self._deferred:
                self._load(list(self._deferred.values()))

    def _load(self, entry_points: list[_EntryPoint]) -> None:
        """Load deferred entry points as ``build_host`` loads any; one that fails, or does not
        implement just the hook the cache says, makes the host load everything."""
        with self._lock:
            stale = False
            for ep in entry_points:
                if self._deferred.pop(ep.name, None) is None:
                    continue
                loaded = _load_entry_point(self, ep)
                if not loaded or self._hooks_of(ep.name) != ([PROVIDERS_HOOK], []):
                    stale = True
            self._sort_distributions()
            if stale:
                self._fall_back("a deferred plugin is not what the cache says")

    def _fall_back(self, why: str) -> None:
        """The cache's facts did not hold: load every plugin and start the registrations over,
        so everything from here on is as a full host has it."""
        log.debug("plugin discovery cache is stale (%s): loading every plugin", why)
        self._verify = False
        for ep in list(self._deferred.values()):
            del self._deferred[ep.name]
            _load_entry_point(self, ep)
        self._sort_distributions()
        self._complete = self._asked_all = False
        self._newly_loaded.clear()
        self._registrations.clear()
        self._providers = None
        self._duplicates = {}
        self._stores = self._schemes = self._token_caches = None
        self._cli_options = None
        self._conflicts = []
        self._conflict_plugins = set()
        self._registration_failures = {}
        self._load_failures.sort(key=lambda f: self._order.get(f.plugin, len(self._order)))
        self.failures[:] = self._load_failures
        self._check_hook_names()

    def _register_builtin_stores(self) -> None:
        """Core's certificate stores, registered when stores are first needed (a secret or
        managed identity sign-in never needs them); their place, first in search order, was
        kept for them by ``build_host``."""
        with self._lock:
            if self._builtin_stores_pending:
                from .certificates import builtin_stores

                self._builtin_stores_pending = False
                self.manager.register(builtin_stores, name=BUILTIN_STORES_PLUGIN)

    def _sort_distributions(self) -> None:
        """``distributions`` in a full host's order, whenever each plugin loaded."""
        rows = sorted(
            self.distributions.items(), key=lambda kv: self._order.get(kv[0], len(self._order))
        )
        self.distributions.clear()
        self.distributions.update(rows)

    def _rank(self, impl: Any) -> tuple[int, int]:
        """Where a hook implementation runs among registration calls: tryfirst, plain, trylast,
        each in a full host's registration order."""
        group = 0 if impl.tryfirst else 2 if impl.trylast else 1
        return group, self._order.get(impl.plugin_name, len(self._order))

    def _hooks_of(self, plugin_name: str) -> tuple[list[str], list[str]]:
        """(hooks, hook wrappers) the plugin implements, each sorted."""
        plugin = self.manager.get_plugin(plugin_name)
        hooks: set[str] = set()
        wrappers: set[str] = set()
        for caller in self.manager.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin:
                    (wrappers if impl.hookwrapper or impl.wrapper else hooks).add(caller.name)
        return sorted(hooks), sorted(wrappers)

    def _remember(self, discovery: dict[str, Any]) -> None:
        """Record, in the discovery cache, what a later process needs: the facts a lazy host
        relies on (each entry point's hooks, providers and whether it had a problem), the
        providers (without duplicates), whether each one's cache partition depends only on its
        options, and the token cache options (what ``entra-auth token`` needs to answer from
        the file cache without loading plugins). Written when missing or changed."""
        from . import plugin_cache
        from .providers import Provider
        from .sign_in import declared_options

        facts = self._plugin_facts()
        if "providers" in discovery and discovery.get("plugins") == facts:
            return
        assert self._providers is not None
        discovery["plugins"] = facts
        discovery["providers"] = {
            name: {
                "static_partition": type(e.provider).cache_scope is Provider.cache_scope,
                "path_options": sorted(
                    o.name for o in declared_options(e, self) if o.type == "path"
                ),
            }
            for name, e in self._providers.items()
            if name not in self._duplicates
        }
        discovery["cache_options"] = sorted(o.name for o in self.token_cache_options())
        extra = {
            k: v for k, v in discovery.items() if k in ("providers", "cache_options", "plugins")
        }
        _write_cache(
            plugin_cache.cache_file(),
            plugin_cache.render(
                discovery["key"], discovery["entry_points"], discovery["core_version"], **extra
            ),
        )

    def _plugin_facts(self) -> dict[str, dict[str, Any]]:
        """Per entry point: the hooks it implements, the providers it registered and whether
        it had a problem (did not load, an unknown hook, its provider registration failed, a
        duplicate provider, an option conflict). Needs every plugin loaded. A plugin with any
        other hook is never deferred, so its problems with those hooks do not matter here."""
        self.cli_options()  # option conflicts are a problem
        troubled = {f.plugin for f in self._load_failures}
        troubled |= {f.plugin for f in self._hook_name_failures}
        troubled |= {f.plugin for f in self._registration_failures.get(PROVIDERS_HOOK, ())}
        troubled |= {e.plugin for entries in self._duplicates.values() for e in entries}
        troubled |= self._conflict_plugins
        registered = self._registered_in_order()
        facts: dict[str, dict[str, Any]] = {}
        for name in self._entry_points:
            hooks, wrappers = self._hooks_of(name) if self.manager.has_plugin(name) else ([], [])
            facts[name] = {
                "hooks": hooks,
                "wrappers": wrappers,
                "providers": [e.provider.name for e in registered if e.plugin == name],
                "problem": name in troubled,
            }
        return facts

    # -- the command line generated from the providers' options ----------------------------
    def cli_options(self) -> list[CliOption]:
        """Every flag the installed providers declare, merged: an option several providers
        declare alike is one flag; declarations that disagree are a problem naming both
        plugins (the later one loses its flag) rather than a crash."""
        with self._lock:
            if self._cli_options is None:
                self._cli_options = self._merge_options()
            return self._cli_options

    def _merge_options(self) -> list[CliOption]:
        by_flag: dict[str, CliOption] = {}
        owners: dict[str, ProviderEntry] = {}
        for name, entry in sorted(self.providers().items()):
            for option in entry.provider.options:
                flag = option.cli_flag
                if flag is None:
                    continue
                current = by_flag.get(flag)
                if current is None:
                    same_name = next(
                        (c for c in by_flag.values() if c.option.name == option.name), None
                    )
                    if same_name is not None and not _agree(same_name.option, option):
                        self._conflict(option, owners[str(same_name.option.cli_flag)], entry, flag)
                        continue
                    by_flag[flag] = CliOption(option, (name,), ())
                    owners[flag] = entry
                    continue
                if not _agree(current.option, option) or (option.selects or current.selects):
                    self._conflict(option, owners[flag], entry, flag)
                    continue
                helps = current.helps
                if option.help != current.option.help:
                    helps += ((name, option.help),)
                by_flag[flag] = CliOption(current.option, (*current.providers, name), helps)
        return list(by_flag.values())

    def _conflict(
        self, option: Option, first: ProviderEntry, second: ProviderEntry, flag: str
    ) -> None:
        what = "selects a provider" if option.selects else "is declared differently"
        self._conflict_plugins.update((first.plugin, second.plugin))
        self._conflicts.append(
            f"option {flag} {what} in provider {first.provider.name!r} ({first.origin}) and "
            f"provider {second.provider.name!r} ({second.origin}); {second.provider.name!r} "
            "keeps it only through --provider and --option"
        )

    def selecting_options(self) -> dict[str, str]:
        """Option name -> the provider it selects."""
        return {c.option.name: c.providers[0] for c in self.cli_options() if c.option.selects}

    def option_by_name(self, name: str) -> Option | None:
        for cli_option in self.cli_options():
            if cli_option.option.name == name:
                return cli_option.option
        return None

    # -- certificate stores --------------------------------------------------------------
    def certificate_stores(self) -> list[CertificateStore]:
        """The stores to search, in order (``ENTRA_AUTH_CERT_PATH`` folders as set now)."""
        return [store for _plugin, store in self._expanded_stores()]

    def _expanded_stores(self) -> list[tuple[str, CertificateStore]]:
        stores: list[tuple[str, CertificateStore]] = []
        for plugin, store in self._registered_stores():
            expand = getattr(store, "expand", None)
            if plugin == BUILTIN_STORES_PLUGIN and callable(expand):
                stores.extend((plugin, s) for s in expand())
            else:
                stores.append((plugin, store))
        return stores

    def _registered_stores(self) -> list[tuple[str, CertificateStore]]:
        with self._lock:
            if self._stores is None:
                self._register_builtin_stores()
                stores: list[tuple[str, CertificateStore]] = []

                def collect(plugin: str, store: Any) -> None:
                    if not (hasattr(store, "name") and callable(getattr(store, "candidates", 0))):
                        raise PluginError(
                            "register() takes a certificate store (an object with name and "
                            f"candidates()), got {type(store)!r}"
                        )
                    stores.append((plugin, store))

                self._call_registration("entra_auth_register_certificate_stores", collect)
                self._stores = stores
            return self._stores

    def certificate_store_options(self) -> list[Option]:
        """Options the registered stores read (a PIN reference, a vault URL): valid for every
        provider that uses certificate stores, given through ``--option`` or a profile."""
        from .records import replace

        options: list[Option] = []
        for _plugin, store in self._registered_stores():
            # Stores get no flags of their own: their options go through --option or a profile.
            options.extend(replace(o, flag="") for o in getattr(store, "options", ()) or ())
        return options

    def bound_certificate_stores(self, request: SignInRequest) -> list[CertificateStore]:
        """The stores for one sign-in: a store with ``bind(settings)`` gets the request's
        settings (its own options, secret resolution) and returns the store (or stores) to
        search."""
        bound: list[CertificateStore] = []
        for plugin, store in self._expanded_stores():
            bind = getattr(store, "bind", None)
            if not callable(bind):
                bound.append(store)
                continue
            with guarded(self._entry_for(plugin), "the certificate store's bind"):
                result = bind(request.settings())
            bound.extend(result if isinstance(result, list | tuple) else [result])
        return bound

    def store_plugins(self) -> list[tuple[str, CertificateStore]]:
        """(plugin, store) for every store to search, in order."""
        return self._expanded_stores()

    # -- shared token caches -------------------------------------------------------------
    def token_caches(self) -> dict[str, tuple[str, TokenCacheBackend]]:
        """URL scheme -> (plugin, backend); a scheme registered twice keeps its first owner."""
        with self._lock:
            if self._token_caches is None:
                caches: dict[str, tuple[str, TokenCacheBackend]] = {}

                def collect(plugin: str, backend: Any) -> None:
                    schemes = getattr(backend, "schemes", None)
                    if not (
                        isinstance(schemes, tuple | list)
                        and schemes
                        and all(isinstance(s, str) for s in schemes)
                        and callable(getattr(backend, "open", None))
                    ):
                        raise PluginError(
                            "register() takes a token cache backend (an object with schemes "
                            f"and open(url, settings, partition)), got {type(backend)!r}"
                        )
                    for scheme in schemes:
                        scheme = scheme.lower()
                        if scheme in caches:
                            owner = caches[scheme][0]
                            self.failures.append(
                                PluginFailure(
                                    plugin,
                                    self._distribution(plugin),
                                    f"token cache scheme {scheme!r} is already registered by "
                                    f"plugin {owner!r}; this registration is ignored",
                                    loaded=True,
                                )
                            )
                            continue
                        caches[scheme] = (plugin, backend)

                self._call_registration("entra_auth_register_token_caches", collect)
                self._token_caches = caches
            return self._token_caches

    def token_cache_backend(self, url: str) -> tuple[str, TokenCacheBackend]:
        """(plugin, backend) serving ``url``; a ``UsageError`` naming the installed schemes."""
        from .token_store import url_scheme

        scheme = url_scheme(url)
        found = self.token_caches().get(scheme)
        if found is None:
            known = ", ".join(f"{s}://" for s in sorted(self.token_caches())) or "none"
            raise UsageError(
                f"token_cache {url!r}: no installed plugin serves the {scheme or 'missing'!r} "
                f"scheme (installed: {known}; install the plugin that serves it)"
            )
        return found

    def token_cache_options(self) -> list[Option]:
        """Options the registered token cache backends read (a password or key reference):
        valid for every provider, given through ``--option`` or a profile."""
        from .records import replace

        options: list[Option] = []
        seen: set[int] = set()
        for _plugin, backend in self.token_caches().values():
            if id(backend) in seen:
                continue
            seen.add(id(backend))
            options.extend(replace(o, flag="") for o in getattr(backend, "options", ()) or ())
        return options

    def origin_of(self, plugin: str) -> _Origin:
        """Where ``plugin`` came from, for ``guarded``."""
        return self._entry_for(plugin)

    # -- secrets -------------------------------------------------------------------------
    def secret_schemes(self) -> dict[str, tuple[str, SecretScheme]]:
        """Scheme name -> (plugin, scheme), core's first; a later plugin cannot take over a
        scheme already registered (so no plugin can intercept ``env:`` or ``file:``)."""
        with self._lock:
            if self._schemes is None:
                from .secret_references import SecretScheme

                schemes: dict[str, tuple[str, SecretScheme]] = {}

                def collect(plugin: str, scheme: Any) -> None:
                    if not isinstance(scheme, SecretScheme):
                        raise PluginError(
                            f"register() takes an entra_auth.SecretScheme, got {type(scheme)!r}"
                        )
                    if scheme.name in schemes:
                        owner = schemes[scheme.name][0]
                        self.failures.append(
                            PluginFailure(
                                plugin,
                                self._distribution(plugin),
                                f"secret scheme {scheme.name!r} is already registered by "
                                f"plugin {owner!r}; this registration is ignored",
                                loaded=True,
                            )
                        )
                        return
                    schemes[scheme.name] = (plugin, scheme)

                self._call_registration("entra_auth_register_secret_schemes", collect)
                self._schemes = schemes
            return self._schemes

    def resolve_secret(self, reference: str) -> str:
        from .secret_references import resolve_with, scheme_of

        registered = self.secret_schemes().get(scheme_of(reference))
        if registered is not None:
            plugin, scheme = registered
            with guarded(self._entry_for(plugin), f"secret scheme {scheme.name!r}"):
                value = resolve_with(lambda reference: scheme.resolve(reference), reference)
        else:
            hook = self.manager.hook.entra_auth_resolve_secret
            with guarded(_Origin("a secret resolver", "a plugin", ""), "entra_auth_resolve_secret"):
                value = resolve_with(hook, reference)
        for observe in self.secret_observers:
            observe(value)
        return value

    # -- helpers -------------------------------------------------------------------------
    def _distribution(self, plugin: str) -> str:
        return self.distributions.get(plugin, ("unknown", ""))[0]

    def _entry_for(self, plugin: str) -> _Origin:
        dist, version = self.distributions.get(plugin, ("unknown", ""))
        return _Origin(plugin, dist, version)

    def _call_registration(
        self,
        hook_name: str,
        sink: Callable[[str, Any], None],
        *,
        only: set[str] | None = None,
    ) -> list[PluginFailure]:
        """Call one registration hook plugin by plugin (``only`` those named), through pluggy,
        each call guarded; the failures it added."""
        hook = getattr(self.manager.hook, hook_name)
        # get_hookimpls() lists trylast first and tryfirst last; within each group it keeps
        # registration order. Registration hooks run tryfirst, plain, trylast, each in a full
        # host's registration order (``_rank``), so core's built-in stores (registered first)
        # are searched first, and a plugin loaded late by a lazy host keeps its place.
        impls = sorted(hook.get_hookimpls(), key=self._rank)
        start = len(self.failures)
        for impl in impls:
            plugin_name = impl.plugin_name
            if only is not None and plugin_name not in only:
                continue
            others = [p for p in self.manager.get_plugins() if p is not impl.plugin]
            caller = self.manager.subset_hook_caller(hook_name, remove_plugins=others)

            def register(item: Any, _plugin: str = plugin_name) -> None:
                sink(_plugin, item)

            try:
                caller(register=register)
            except Exception as exc:
                failure = PluginFailure(
                    plugin_name,
                    self._distribution(plugin_name),
                    f"{hook_name} failed: {_reason(exc)}",
                )
                log.debug("%s", failure, exc_info=True)
                self.failures.append(failure)
        added = self.failures[start:]
        self._registration_failures.setdefault(hook_name, []).extend(added)
        return added

    def _check_hook_names(self) -> None:
        """``pm.check_pending()``, but every unknown hook reported (with a close match)."""
        known = [name for name in vars(hookspecs.CredentialProvider) if name.startswith("entra")]
        self._hook_name_failures = []
        for name, caller in sorted(vars(self.manager.hook).items()):
            if name.startswith("_") or caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if impl.optionalhook:
                    continue
                import difflib  # only a misspelled hook needs it

                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
                failure = PluginFailure(
                    impl.plugin_name,
                    self._distribution(impl.plugin_name),
                    f"implements {name!r}, which is not an entra-auth hook ({hint}); it is "
                    "never called",
                    loaded=True,
                )
                self.failures.append(failure)
                self._hook_name_failures.append(failure)


def _agree(first: Option, second: Option) -> bool:
    return (first.name, first.type, first.secret, first.cli_flag) == (
        second.name,
        second.type,
        second.secret,
        second.cli_flag,
    )


@contextlib.contextmanager
def guarded(entry: ProviderEntry | _Origin, hook: str) -> Iterator[None]:
    """Run plugin code; anything it raises that is not an ``EntraAuthError`` becomes a
    ``PluginError`` naming the plugin, its distribution and the hook (the original is kept as
    ``__cause__`` for ``--debug``)."""
    try:
        yield
    except EntraAuthError:
        raise
    except Exception as exc:
        raise PluginError(f"{entry.origin} failed in {hook}: {_reason(exc)}") from exc


class GuardedSource:
    """A provider's token source with its errors named: a plugin's own exception becomes a
    ``PluginError`` (exit 2), a network failure (``OSError``) an ``AuthenticationError``
    (exit 1), both naming the plugin."""

    def __init__(self, source: TokenSource, entry: ProviderEntry) -> None:
        self._source = source
        self._entry = entry

    def __repr__(self) -> str:
        return repr(self._source)

    @property
    def wrapped(self) -> TokenSource:
        return self._source

    def acquire(
        self,
        scopes: Sequence[str],
        *,
        claims: str | None = None,
        tenant_id: str | None = None,
        **kwargs: Any,
    ) -> TokenResult:
        from .errors import AuthenticationError

        try:
            # ``enable_cae`` reaches the provider's source only when the credential saw that
            # source take it (see EntraCredential._takes_cae).
            return self._source.acquire(scopes, claims=claims, tenant_id=tenant_id, **kwargs)
        except EntraAuthError:
            raise
        except OSError as exc:
            raise AuthenticationError(
                f"{self._entry.origin} could not reach the identity service: {_reason(exc)}"
            ) from exc
        except Exception as exc:
            raise PluginError(f"{self._entry.origin} failed in acquire: {_reason(exc)}") from exc

    def context(self) -> Mapping[str, Any]:
        with guarded(self._entry, "context"):
            return self._source.context()

    def close(self) -> None:
        with guarded(self._entry, "close"):
            self._source.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)


def create_source(request: SignInRequest) -> TokenSource:
    """``provider.create(settings)``, guarded, wrapped so later calls are guarded too."""
    from .providers import TokenSource

    entry = request.entry
    with guarded(entry, "create"):
        source = entry.provider.create(request.settings())
    if not isinstance(source, TokenSource):
        raise PluginError(
            f"{entry.origin} failed in create: it returned {type(source).__name__}, not a token "
            "source (an object with acquire, context and close)"
        )
    return GuardedSource(source, entry)


def _reason(exc: BaseException) -> str:
    """The exception as one line: pluggy's multi-line validation message is kept whole."""
    parts = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = "; ".join(parts)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def disabled_plugins(environ: Mapping[str, str] | None = None) -> set[str]:
    raw = (environ if environ is not None else os.environ).get(DISABLE_ENV, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


class _EntryPoint(Record):
    """An entry point as the discovery cache keeps it (``importlib.metadata`` is not loaded
    when the cache answers)."""

    name: str
    value: str
    dist_name: str
    dist_version: str

    def load(self) -> Any:
        import importlib

        module_name, _, attrs = self.value.partition(":")
        target: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            target = getattr(target, attr)
        return target


_core_version: str | None = None


def _entry_points() -> tuple[list[_EntryPoint], dict[str, Any]]:
    """The ``entra_auth`` entry points, from the discovery cache when it is current (see
    ``plugin_cache``), else from ``importlib.metadata`` (and the cache rewritten)."""
    global _core_version
    from . import plugin_cache
    from .files import read_trusted

    key = plugin_cache.environment_key()
    path = plugin_cache.cache_file()
    try:
        raw = read_trusted(
            path, limit=plugin_cache.LIMIT, what="plugin cache", private=True,
            follow_symlinks=False,
        )  # fmt: skip
        data = plugin_cache.parse(raw, key)
    except (OSError, EntraAuthError):
        data = None
    if data is not None:
        _core_version = data["core_version"]
        return [
            _EntryPoint(e["name"], e["value"], e["dist"], e["version"])
            for e in data["entry_points"]
        ], data
    from importlib import metadata

    found = [
        _EntryPoint(
            ep.name,
            ep.value,
            ep.dist.name if ep.dist else "unknown",
            ep.dist.version if ep.dist else "",
        )
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
    ]
    _core_version = _metadata_version()
    rows = [
        {"name": e.name, "value": e.value, "dist": e.dist_name, "version": e.dist_version}
        for e in found
    ]
    _write_cache(path, plugin_cache.render(key, rows, _core_version))
    return found, {"key": key, "entry_points": rows, "core_version": _core_version}


def _write_cache(path: Any, text: str) -> None:
    from .files import atomic_write_text, ensure_private_dir

    try:
        ensure_private_dir(path.parent)
        atomic_write_text(path, text, what="plugin cache")
    except (OSError, EntraAuthError) as exc:
        log.debug("plugin cache %s not written: %s", path, exc)


def _metadata_version() -> str:
    from importlib import metadata

    try:
        return metadata.version(CORE_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return ""


def build_host(
    extra_plugins: Iterable[tuple[str, object]] = (),
    *,
    load_entry_points: bool = True,
    lazy: bool = False,
) -> PluginHost:
    """A fresh plugin host: core's built-ins, then every installed entry point, then extras.

    ``lazy`` (the process-wide host) leaves unimported the entry points the discovery cache
    knows only register providers (``_deferrable``) until they are needed; the answers are the
    same as a full host's."""
    from . import secret_references

    extra_plugins = list(extra_plugins)
    discovered, discovery = _entry_points() if load_entry_points else ([], None)
    manager = PluginManager()
    manager.add_hookspecs(hookspecs.CredentialProvider)
    host = PluginHost(manager)
    if not extra_plugins:
        host.discovery = discovery
    facts = discovery.get("plugins") if lazy and discovery and not extra_plugins else None
    if isinstance(facts, dict):
        host._facts = facts
    blocked = disabled_plugins()
    manager.register(secret_references, name=SECRET_SCHEMES_PLUGIN)
    host.distributions[SECRET_SCHEMES_PLUGIN] = _own_distribution()
    host._order[SECRET_SCHEMES_PLUGIN] = 0
    _reserve_builtin_stores(host)
    if load_entry_points:
        names = [ep.name for ep in discovered]
        for ep in discovered:
            if ep.name in blocked or ep.dist_name in blocked:
                log.debug("plugin %s disabled by %s", ep.name, DISABLE_ENV)
                host.disabled.append(
                    {"plugin": ep.name, "distribution": ep.dist_name, "by": DISABLE_ENV}
                )
                continue
            if manager.has_plugin(ep.name):
                continue
            host._order.setdefault(ep.name, len(host._order))
            host._entry_points.append(ep.name)
            if names.count(ep.name) == 1 and _deferrable(host._facts.get(ep.name)):
                host._deferred[ep.name] = ep
                continue
            _load_entry_point(host, ep)
    host._verify = bool(host._deferred)
    for name, plugin in extra_plugins:
        if name in blocked:
            continue
        host._order.setdefault(name, len(host._order))
        try:
            manager.register(plugin, name=name)
        except Exception as exc:
            failure = PluginFailure(name, "in-process", _reason(exc))
            host.failures.append(failure)
            host._load_failures.append(failure)
            continue
        host.distributions[name] = ("in-process", "")
    host._check_hook_names()
    return host


def _deferrable(fact: Mapping[str, Any] | None) -> bool:
    """An entry point that implements nothing but provider registration, registered at least
    one provider and had no problem: nothing needs it until one of its providers does."""
    return bool(
        fact is not None
        and fact["hooks"] == [PROVIDERS_HOOK]
        and not fact["wrappers"]
        and fact["providers"]
        and not fact["problem"]
    )


def _load_entry_point(host: PluginHost, ep: _EntryPoint) -> bool:
    """Import one entry point and register it, guarded: a failure is recorded, not raised."""
    host.distributions[ep.name] = (ep.dist_name, ep.dist_version)
    try:
        plugin = ep.load()
        host.manager.register(plugin, name=ep.name)
    except Exception as exc:
        del host.distributions[ep.name]
        failure = PluginFailure(ep.name, ep.dist_name, _reason(exc))
        log.debug("%s", failure, exc_info=True)
        host.failures.append(failure)
        host._load_failures.append(failure)
        return False
    host._newly_loaded.append(ep.name)
    return True


def _reserve_builtin_stores(host: PluginHost) -> None:
    """Core's certificate stores: first in search order, registered on first use."""
    host.distributions[BUILTIN_STORES_PLUGIN] = _own_distribution()
    host._order.setdefault(BUILTIN_STORES_PLUGIN, len(host._order))
    host._builtin_stores_pending = True


def _own_distribution() -> tuple[str, str]:
    global _core_version
    if _core_version is None:
        _core_version = _metadata_version()
    return (CORE_DISTRIBUTION, _core_version)


_default_host: PluginHost | None = None
_default_lock = threading.Lock()


def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use."""
    global _default_host
    with _default_lock:
        if _default_host is None:
            _default_host = build_host(lazy=True)
        return _default_host


def set_host(host: PluginHost | None) -> None:
    """Replace the process-wide host (tests, embedding applications)."""
    global _default_host
    with _default_lock:
        _default_host = host
