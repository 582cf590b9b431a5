"""Reading the config file (``$ENTRA_AUTH_CONFIG`` or ``$XDG_CONFIG_HOME/entra-auth/config.toml``)
for ``connect --profile`` and custom ``--environment`` names.

Read-only for now: ``entra-auth profile`` and ``entra-auth environment`` (which write it, atomically
and under a lock) arrive with the config issue. Keeping the reader here means ``connect`` already
treats a profile as one more layer under the command-line flags.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entra_auth import Environment

PROFILE_ENV = "ENTRA_AUTH_PROFILE"


@dataclass(frozen=True)
class Config:
    path: Path
    default_profile: str | None = None
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    environments: Mapping[str, Environment] = field(default_factory=dict)

    def profile(self, name: str) -> Mapping[str, Any]:
        from entra_auth import ConfigurationError

        found = self.profiles.get(name)
        if found is None:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigurationError(f"no profile {name!r} in {self.path} (profiles: {known})")
        return found


def load_config() -> Config:
    """The config file, or an empty config when there is none; a ``ConfigurationError`` naming
    file, line and column when it is not valid TOML."""
    from entra_auth import ConfigurationError, Environment, paths
    from entra_auth.environments import validate_url

    path = paths.config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path)
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"config file {path} is not valid TOML: {exc}") from None

    profiles = data.get("profiles", {})
    environments_raw = data.get("environments", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise ConfigurationError(f"config file {path}: [profiles.NAME] must be tables")
    environments: dict[str, Environment] = {}
    for name, table in environments_raw.items():
        try:
            environments[name] = Environment(
                name,
                validate_url(str(table["authority_host"]), f"environment {name} authority_host"),
                validate_url(str(table["graph_endpoint"]), f"environment {name} graph_endpoint"),
                str(table["ca_bundle"]) if table.get("ca_bundle") else None,
            )
        except (KeyError, TypeError) as exc:
            raise ConfigurationError(
                f"config file {path}: [environments.{name}] needs authority_host and "
                f"graph_endpoint ({exc})"
            ) from None
    default = data.get("default_profile")
    return Config(path, str(default) if default else None, profiles, environments)
