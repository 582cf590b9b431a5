"""Plugin discovery through real entry points: distributions written to a folder on sys.path,
found by importlib.metadata exactly as an installed wheel would be."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from plugin_helpers import install_distribution

import entra_auth
from entra_auth import PluginError, UsageError
from entra_auth.plugins import build_host

THIRD_PARTY = """
import time
import entra_auth
from entra_auth import Option, Provider, TokenResult


class StaticSource:
    def acquire(self, scopes, *, claims=None, tenant_id=None):
        return TokenResult("static-token", int(time.time()) + 3600)

    def context(self):
        return {"Account": "vault-user"}

    def close(self):
        pass


class VaultProvider(Provider):
    name = "{name}"
    summary = "A provider shipped by a third party."
    auth_type = "AppOnly"
    options = (Option("vault_url", "Where the vault is.", required=True),)

    def create(self, settings):
        return StaticSource()


@entra_auth.hookimpl
def entra_auth_register_providers(register):
    register(VaultProvider())


@entra_auth.hookimpl
def entra_auth_resolve_secret(reference):
    if reference.startswith("vault:"):
        return "from-the-vault-" + reference[6:]
    return None
"""


def test_installed_workspace_provider_is_found_by_entry_point() -> None:
    entry = build_host().get_provider("client-secret")
    assert entry.distribution == "entra-auth-client-secret"
    assert entry.version
    assert entry.provider.auth_type == "AppOnly"


def test_third_party_provider_and_secret_scheme_are_used(site: Path) -> None:
    install_distribution(site, "entra-vault", "tp_vault", THIRD_PARTY.replace("{name}", "vault"))
    host = build_host()
    entry = host.get_provider("vault")
    assert (entry.distribution, entry.version, entry.plugin) == (
        "entra-vault",
        "1.2.3",
        "entra-vault",
    )
    assert host.resolve_secret("vault:app") == "from-the-vault-app"
    cred = entra_auth.connect("vault", plugins=host, vault_url="https://vault.example")
    assert cred.get_token("x/.default").token == "static-token"
    assert cred.context.account == "vault-user"


def test_broken_plugin_is_reported_and_the_rest_keep_working(site: Path) -> None:
    install_distribution(site, "entra-broken", "tp_broken", "import does_not_exist_anywhere\n")
    host = build_host()
    assert "client-secret" in host.providers()
    [problem] = host.problems()
    assert "entra-broken" in problem
    assert "ModuleNotFoundError" in problem
    assert "does_not_exist_anywhere" in problem


def test_plugin_whose_hook_raises_is_reported(site: Path) -> None:
    source = """
    import entra_auth

    @entra_auth.hookimpl
    def entra_auth_register_providers(register):
        raise RuntimeError("vault agent not running")
    """
    install_distribution(site, "entra-flaky", "tp_flaky", source)
    host = build_host()
    assert "client-secret" in host.providers()
    assert any("vault agent not running" in p and "entra-flaky" in p for p in host.problems())


def test_disabled_plugins_are_not_loaded(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_distribution(site, "entra-vault", "tp_vault2", THIRD_PARTY.replace("{name}", "vault"))
    monkeypatch.setenv("ENTRA_AUTH_DISABLE_PLUGINS", "entra-vault, client-secret")
    host = build_host()
    assert "client-secret" not in host.providers() and "vault" not in host.providers()
    assert "tp_vault2" not in sys.modules
    with pytest.raises(UsageError, match="unknown provider 'vault'; installed providers: "):
        host.get_provider("vault")


def test_duplicate_provider_names_name_both_plugins(site: Path) -> None:
    install_distribution(
        site, "entra-impostor", "tp_impostor", THIRD_PARTY.replace("{name}", "client-secret")
    )
    host = build_host()
    with pytest.raises(PluginError) as caught:
        host.get_provider("client-secret")
    message = str(caught.value)
    assert "entra-impostor" in message and "entra-auth-client-secret" in message
    assert any("registered by both" in p for p in host.problems())


def test_register_rejects_things_that_are_not_providers(site: Path) -> None:
    source = """
    import entra_auth

    @entra_auth.hookimpl
    def entra_auth_register_providers(register):
        register("not a provider")
    """
    install_distribution(site, "entra-wrong", "tp_wrong", source)
    host = build_host()
    assert any("entra_auth.Provider instance" in p for p in host.problems())
