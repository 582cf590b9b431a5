"""Our plugin manager reads a module's hooks from its ``__dict__``: it must find exactly what
pluggy's own lookup finds, in every installed plugin and in modules built to be awkward."""

from __future__ import annotations

import functools
import types

import pluggy

from entra_auth import hookimpl
from entra_auth.plugin_manager import PluginManager
from entra_auth.plugins import build_host


def _awkward_module() -> types.ModuleType:
    module = types.ModuleType("awkward")

    @hookimpl
    def entra_auth_register_providers(register):  # type: ignore[no-untyped-def]
        """A hook."""

    @hookimpl(tryfirst=True)
    def misspelled_hook(register):  # type: ignore[no-untyped-def]
        """Marked, under a name that is no hook: still found, so it can be reported."""

    def plain(register):  # type: ignore[no-untyped-def]
        """Not marked."""

    class Holder:
        @hookimpl
        def entra_auth_register_secret_schemes(self, register):  # type: ignore[no-untyped-def]
            """A method, found only on the class or an instance."""

    marked_static = staticmethod(hookimpl(lambda register: None))
    odd = plain
    odd.entra_auth_impl = "not a dict"  # type: ignore[attr-defined]
    module.__dict__.update(
        entra_auth_register_providers=entra_auth_register_providers,
        misspelled_hook=misspelled_hook,
        plain=plain,
        Holder=Holder,
        bound=Holder().entra_auth_register_secret_schemes,
        static=marked_static,
        partial=functools.partial(entra_auth_register_providers),
        number=3,
        text="entra_auth_register_providers",
    )
    return module


def _compare(plugin: object) -> int:
    ours, theirs = PluginManager(), pluggy.PluginManager("entra_auth")
    found = 0
    for name in dir(plugin):
        mine = ours.parse_hookimpl_opts(plugin, name)
        assert mine == theirs.parse_hookimpl_opts(plugin, name), name
        found += mine is not None
    return found


def test_awkward_modules_give_what_pluggy_gives() -> None:
    assert _compare(_awkward_module()) == 4  # two functions, the bound method, the staticmethod


def test_every_installed_plugin_gives_what_pluggy_gives() -> None:
    host = build_host()
    host.load_all()
    plugins = [p for p in host.manager.get_plugins() if isinstance(p, types.ModuleType)]
    assert len(plugins) >= 7  # core's two and the built-in providers
    assert sum(_compare(p) for p in plugins) >= len(plugins)
