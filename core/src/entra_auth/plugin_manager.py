"""pluggy's ``PluginManager`` with a quicker look at plugin modules.

Registering a plugin makes pluggy look at every name the plugin has through
``inspect.getattr_static``, so that a property is never run: about 15 µs a name, 2-3 ms for the
four modules a sign-in registers (core's secret schemes and certificate stores, a provider, the
Redis cache). A module has no properties: its hooks are the functions in its ``__dict__``, read
directly here. pytest overrides the same method for the same reason; classes and instances go
through pluggy's own lookup.
"""

from __future__ import annotations

import types
from typing import Any

import pluggy

_PROJECT = "entra_auth"
_MARKER = _PROJECT + "_impl"
_BOUND_OR_WRAPPED = (staticmethod, classmethod, types.MethodType)


class PluginManager(pluggy.PluginManager):
    def __init__(self) -> None:
        super().__init__(_PROJECT)

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if type(plugin) is types.ModuleType:
            value = plugin.__dict__.get(name)
            if type(value) is types.FunctionType:
                opts = getattr(value, _MARKER, None)
                return opts if isinstance(opts, dict) else None
            if not isinstance(value, _BOUND_OR_WRAPPED):
                return None  # not callable as a hook: pluggy would skip it too
        return super().parse_hookimpl_opts(plugin, name)
