"""Installing throwaway plugin distributions into a folder on sys.path, exactly as a wheel
would leave them (module + .dist-info with METADATA and entry_points.txt)."""

from __future__ import annotations

import textwrap
from pathlib import Path


def install_distribution(
    site: Path, dist: str, module: str, source: str, entry_name: str | None = None
) -> None:
    """Write a module and its .dist-info (METADATA + entry_points.txt) into ``site``."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[entra_auth]\n{entry_name or dist} = {module}\n")


# A provider-only plugin named ``{name}`` and a plugin whose only hook is misspelled.
PROVIDER = """
import entra_auth
from entra_auth import Option, Provider


class P(Provider):
    name = "{name}"
    summary = "A third-party provider."
    options = (Option("vault_url", "Where the vault is.", required=True),)

    def create(self, settings):
        raise NotImplementedError


@entra_auth.hookimpl
def entra_auth_register_providers(register):
    register(P())
"""

TYPO = """
import entra_auth


@entra_auth.hookimpl
def entra_auth_register_provider(register):
    pass
"""


def provider(name: str, extra: str = "") -> str:
    """The source of a plugin registering one provider ``name`` (``extra`` appended)."""
    return PROVIDER.replace("{name}", name) + extra
