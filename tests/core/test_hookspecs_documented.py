"""Like datasette's test_docs: a hook that is not documented where it is declared fails."""

from __future__ import annotations

import inspect

import pytest

from entra_auth import hookspecs

HOOKS = [
    name
    for name, _ in inspect.getmembers(hookspecs.CredentialProvider, inspect.isfunction)
    if name.startswith("entra_auth_")
]


def test_the_pinned_hooks_exist() -> None:
    assert sorted(HOOKS) == [
        "entra_auth_register_certificate_stores",
        "entra_auth_register_providers",
        "entra_auth_register_secret_schemes",
        "entra_auth_register_token_caches",
        "entra_auth_resolve_secret",
    ]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_every_parameter_and_return(hook: str) -> None:
    function = getattr(hookspecs.CredentialProvider, hook)
    doc = inspect.getdoc(function) or ""
    assert len(doc.splitlines()[0]) > 10
    for parameter in list(inspect.signature(function).parameters)[1:]:
        assert f":param {parameter}:" in doc
        assert parameter in function.__annotations__
    assert ":return:" in doc
    assert "Called" in doc  # says when it is called
