"""Like datasette's test_docs: every hook, and every public name, is documented."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import entra_auth
from entra_auth import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs"
HOOKS = [
    name
    for name, _ in inspect.getmembers(hookspecs.CredentialProvider, inspect.isfunction)
    if name.startswith("entra_auth_")
]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_in_the_plugin_guide(hook: str) -> None:
    assert f"### `{hook}(" in (DOCS / "plugins.md").read_text()


@pytest.mark.parametrize("name", entra_auth.__all__)
def test_every_public_name_has_a_docstring(name: str) -> None:
    obj = getattr(entra_auth, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert inspect.getdoc(obj), f"entra_auth.{name} needs a docstring"


def test_mkdocs_nav_and_docs_folder_agree() -> None:
    import re

    nav = set(re.findall(r":\s*(\S+\.md)\s*$", (DOCS.parent / "mkdocs.yml").read_text(), re.M))
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert nav == pages, f"only in nav: {nav - pages}; only in docs/: {pages - nav}"


def test_relative_links_in_docs_resolve() -> None:
    import re

    broken = []
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"\]\(([^)#:\s]+\.md)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).resolve().exists():
                broken.append(f"{page.relative_to(DOCS)} -> {target}")
    assert broken == []
