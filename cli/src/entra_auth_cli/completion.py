"""Shell completion of names: profiles, environments and providers.

typer calls these while the shell asks for completions (``_ENTRA_AUTH_COMPLETE`` set). They
read the config file and the plugin registry, and never fail: a broken config or plugin gives
no suggestions rather than an error in the middle of the user's command line.
"""

from __future__ import annotations

from collections.abc import Iterable


def _matching(names: Iterable[str], incomplete: str) -> list[str]:
    wanted = incomplete.lower()
    return sorted({name for name in names if name.lower().startswith(wanted)})


def profile_names(incomplete: str) -> list[str]:
    """The config file's profiles."""
    try:
        from entra_auth.config import load_config

        return _matching(load_config().profiles, incomplete)
    except Exception:
        return []


def environment_names(incomplete: str) -> list[str]:
    """The built-in environments and the config file's custom ones."""
    try:
        from entra_auth.environments import BUILTIN_ENVIRONMENTS

        names = set(BUILTIN_ENVIRONMENTS)
    except Exception:
        names = set()
    return _matching(names | set(custom_environment_names("")), incomplete)


def custom_environment_names(incomplete: str) -> list[str]:
    """The config file's environments (the ones ``environment remove`` can remove)."""
    try:
        from entra_auth.config import load_config

        return _matching(load_config().environments, incomplete)
    except Exception:
        return []


def provider_names(incomplete: str) -> list[str]:
    """The installed providers."""
    try:
        from entra_auth import plugins

        return _matching(plugins.get_host().providers(), incomplete)
    except Exception:
        return []
