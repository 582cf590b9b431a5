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
