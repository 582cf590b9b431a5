"""Core's ``plugin_cache`` module without the ``entra_auth`` package: the CLI's fast path
needs the plugin discovery cache's key and file, and importing ``entra_auth`` would load pluggy
and most of core (``plugin_cache`` imports only the standard library)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported: the fast path uses this module
if TYPE_CHECKING:
    from types import ModuleType


def plugin_cache_module() -> ModuleType | None:
    """``entra_auth.plugin_cache``, loaded by file location; None when core is not
    installed."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("entra_auth")
    if spec is None or not spec.submodule_search_locations:
        return None
    location = os.path.join(next(iter(spec.submodule_search_locations)), "plugin_cache.py")
    module_spec = importlib.util.spec_from_file_location("_entra_auth_plugin_cache", location)
    if module_spec is None or module_spec.loader is None:
        return None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module
