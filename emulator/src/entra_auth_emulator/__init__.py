"""entra-auth-emulator: a local HTTPS Microsoft Entra ID token service (app-only sign-in) and
managed identity endpoints that really verify app credentials.

The public names are loaded on first use, so importing this package (as the pytest plugin does
in every test session) costs nothing until an emulator is actually wanted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AppRegistration",
    "ClientSecret",
    "ConfigError",
    "Emulator",
    "EmulatorConfig",
    "EmulatorError",
    "FederatedCredential",
    "ManagedIdentityRegistration",
    "ResourceRegistration",
    "TenantRegistration",
    "load_config",
    "main",
]

_LAZY = {
    "AppRegistration": "config",
    "ClientSecret": "config",
    "FederatedCredential": "config",
    "ResourceRegistration": "config",
    "TenantRegistration": "config",
    "EmulatorConfig": "config",
    "ManagedIdentityRegistration": "config",
    "load_config": "config",
    "ConfigError": "errors",
    "EmulatorError": "errors",
    "Emulator": "emulator",
    "main": "__main__",
}

if TYPE_CHECKING:
    from .__main__ import main
    from .config import (
        AppRegistration,
        ClientSecret,
        EmulatorConfig,
        FederatedCredential,
        ManagedIdentityRegistration,
        ResourceRegistration,
        TenantRegistration,
        load_config,
    )
    from .emulator import Emulator
    from .errors import ConfigError, EmulatorError


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'entra_auth_emulator' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
