"""Finding and loading plugins, guarded so one broken plugin never breaks the tool.

pluggy's own ``load_setuptools_entrypoints`` stops at the first plugin that fails to import;
like keyring, we load each entry point on its own, record why a plugin failed (distribution,
entry point, reason) and carry on.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import PluginError, UsageError

if TYPE_CHECKING:
    from .certificates.stores import CertificateStore
    from .providers import Provider

log = logging.getLogger("entra_auth.plugins")

ENTRY_POINT_GROUP = "entra_auth"
DISABLE_ENV = "ENTRA_AUTH_DISABLE_PLUGINS"


@dataclass(frozen=True)
class PluginFailure:
    """Why a plugin is not in use: shown by ``entra-auth providers`` and in ``--debug``."""

    plugin: str
    distribution: str
    reason: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} from {self.distribution} was not loaded: {self.reason}"


@dataclass(frozen=True)
class ProviderEntry:
    """A registered provider and where it came from."""

    provider: Provider
    plugin: str
    distribution: str
    version: str


@dataclass
class PluginHost:
    """The plugin manager plus what the plugins registered, built once per process."""

    manager: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)
    distributions: dict[str, tuple[str, str]] = field(default_factory=dict)
    _providers: dict[str, ProviderEntry] | None = None
    _duplicates: dict[str, list[ProviderEntry]] = field(default_factory=dict)
    _stores: list[CertificateStore] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- providers -----------------------------------------------------------------------
    def providers(self) -> dict[str, ProviderEntry]:
        """Every registered provider by name (duplicates left out; see ``problems``)."""
        with self._lock:
            if self._providers is None:
                self._providers = self._collect_providers()
            return self._providers

    def get_provider(self, name: str) -> ProviderEntry:
        providers = self.providers()
        if name in self._duplicates:
            owners = " and ".join(
                f"{e.plugin!r} ({e.distribution})" for e in self._duplicates[name]
            )
            raise PluginError(
                f"provider {name!r} is registered by both {owners}; uninstall one or disable it "
                f"with {DISABLE_ENV}=<plugin>"
            )
        entry = providers.get(name)
        if entry is None:
            known = ", ".join(sorted(providers)) or "none"
            raise UsageError(
                f"unknown provider {name!r}; installed providers: {known} "
                "(see 'entra-auth providers')"
            )
        return entry

    def problems(self) -> list[str]:
        """Human-readable lines for every plugin failure and provider name clash."""
        self.providers()
        lines = [str(f) for f in self.failures]
        for name, entries in sorted(self._duplicates.items()):
            owners = " and ".join(f"{e.plugin!r} ({e.distribution})" for e in entries)
            lines.append(f"provider {name!r} is registered by both {owners}")
        return lines

    def _collect_providers(self) -> dict[str, ProviderEntry]:
        from .providers import Provider

        found: dict[str, ProviderEntry] = {}

        def collect(plugin_name: str, provider: object) -> None:
            if not isinstance(provider, Provider):
                raise PluginError(
                    f"register() takes an entra_auth.Provider instance, got {type(provider)!r}"
                )
            dist, version = self.distributions.get(plugin_name, ("unknown", ""))
            entry = ProviderEntry(provider, plugin_name, dist, version)
            if provider.name in self._duplicates:
                self._duplicates[provider.name].append(entry)
            elif provider.name in found:
                self._duplicates[provider.name] = [found.pop(provider.name), entry]
            else:
                found[provider.name] = entry

        self._call_each("entra_auth_register_providers", collect)
        return found

    # -- certificate stores --------------------------------------------------------------
    def certificate_stores(self) -> list[CertificateStore]:
        with self._lock:
            if self._stores is None:
                stores: list[CertificateStore] = []
                self._call_each(
                    "entra_auth_register_certificate_stores",
                    lambda _plugin, store: stores.append(store),
                )
                self._stores = stores
            return self._stores

    # -- secrets -------------------------------------------------------------------------
    def resolve_secret(self, reference: str) -> str:
        from .secret_references import resolve_with

        return resolve_with(self.manager.hook.entra_auth_resolve_secret, reference)

    # -- helpers -------------------------------------------------------------------------
    def _call_each(self, hook_name: str, sink: Callable[[str, Any], None]) -> None:
        """Call one registration hook plugin by plugin, each call guarded."""
        hook = getattr(self.manager.hook, hook_name)
        # get_hookimpls() lists trylast first and tryfirst last; within each group it keeps
        # registration order. Registration hooks run tryfirst, plain, trylast, each in
        # registration order, so core's built-in stores (registered first) are searched first.
        impls = sorted(
            hook.get_hookimpls(), key=lambda i: 0 if i.tryfirst else 2 if i.trylast else 1
        )
        for impl in impls:
            plugin_name = impl.plugin_name

            def register(item: Any, _plugin: str = plugin_name) -> None:
                sink(_plugin, item)

            try:
                impl.function(register=register)
            except Exception as exc:
                dist = self.distributions.get(plugin_name, ("unknown", ""))[0]
                failure = PluginFailure(plugin_name, dist, f"{hook_name} failed: {_reason(exc)}")
                log.warning("%s", failure)
                self.failures.append(failure)


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def disabled_plugins(environ: dict[str, str] | os._Environ[str] | None = None) -> set[str]:
    raw = (environ if environ is not None else os.environ).get(DISABLE_ENV, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def _entry_points() -> Iterable[metadata.EntryPoint]:
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def build_host(
    extra_plugins: Iterable[tuple[str, object]] = (),
    *,
    load_entry_points: bool = True,
) -> PluginHost:
    """A fresh plugin host: core's built-ins, then every installed entry point, then extras."""
    from . import secret_references

    manager = pluggy.PluginManager("entra_auth")
    manager.add_hookspecs(hookspecs.CredentialProvider)
    host = PluginHost(manager)
    blocked = disabled_plugins()
    manager.register(secret_references, name="entra_auth.secret_references")
    host.distributions["entra_auth.secret_references"] = _own_distribution()
    _register_builtin_stores(host)
    if load_entry_points:
        for ep in _entry_points():
            dist_name = ep.dist.name if ep.dist else "unknown"
            dist_version = ep.dist.version if ep.dist else ""
            if ep.name in blocked or dist_name in blocked:
                log.debug("plugin %s disabled by %s", ep.name, DISABLE_ENV)
                continue
            if manager.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
                manager.register(plugin, name=ep.name)
            except Exception as exc:
                failure = PluginFailure(ep.name, dist_name, _reason(exc))
                log.warning("%s", failure)
                host.failures.append(failure)
                continue
            host.distributions[ep.name] = (dist_name, dist_version)
    for name, plugin in extra_plugins:
        if name in blocked:
            continue
        try:
            manager.register(plugin, name=name)
        except Exception as exc:
            host.failures.append(PluginFailure(name, "in-process", _reason(exc)))
            continue
        host.distributions[name] = ("in-process", "")
    return host


def _register_builtin_stores(host: PluginHost) -> None:
    """Core's certificate stores, first in search order. Absent until certificates land."""
    try:
        from .certificates import builtin_stores
    except ImportError:
        return
    host.manager.register(builtin_stores, name="entra_auth.certificate_stores")
    host.distributions["entra_auth.certificate_stores"] = _own_distribution()


def _own_distribution() -> tuple[str, str]:
    try:
        return ("entra-auth", metadata.version("entra-auth"))
    except metadata.PackageNotFoundError:
        return ("entra-auth", "")


_default_host: PluginHost | None = None
_default_lock = threading.Lock()


def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use."""
    global _default_host
    with _default_lock:
        if _default_host is None:
            _default_host = build_host()
        return _default_host


def set_host(host: PluginHost | None) -> None:
    """Replace the process-wide host (tests, embedding applications)."""
    global _default_host
    with _default_lock:
        _default_host = host
