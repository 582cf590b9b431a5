"""The lazy plugin host: with a current discovery cache, a plugin that only registers providers
is imported when one of its providers is asked for, and every answer that needs all plugins
(the provider list, the flags, the problems) is exactly a full host's. Plugins are real
distributions on sys.path, found through their entry points; the cache is the real file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from plugin_helpers import TYPO, install_distribution, provider

from entra_auth import PluginError, UsageError, plugin_cache
from entra_auth.plugins import PluginHost, build_host, get_host
from entra_auth.sign_in import prepare

SCHEME = """

@entra_auth.hookimpl
def entra_auth_resolve_secret(reference):
    return "from-" + reference if reference.startswith("vault:") else None
"""

RAISES_AFTER_ONE = """
import entra_auth
from entra_auth import Option, Provider


class Half(Provider):
    name = "half"
    summary = "Registered before the hook raised."
    options = (Option("vault_url", "Where the vault is."),)

    def create(self, settings):
        raise NotImplementedError


@entra_auth.hookimpl
def entra_auth_register_providers(register):
    register(Half())
    raise RuntimeError("vault agent not running")
"""

CLASH = """
import entra_auth
from entra_auth import Option, Provider


class Clash(Provider):
    name = "clash"
    summary = "Declares --client-id as a number."
    options = (Option("client_id", "A number.", type="int"),)

    def create(self, settings):
        raise NotImplementedError


@entra_auth.hookimpl
def entra_auth_register_providers(register):
    register(Clash())
"""


def forget() -> None:
    """Drop the throwaway plugin modules, so the next host imports them afresh."""
    for name in [m for m in sys.modules if m.startswith("tp_")]:
        del sys.modules[name]


def loaded(module: str) -> bool:
    return module in sys.modules


def warm() -> dict[str, Any]:
    """A full host lists every provider, which records the facts; the cache entry."""
    build_host().providers()
    forget()
    return json.loads(plugin_cache.cache_file().read_text())


def snapshot(host: PluginHost) -> dict[str, Any]:
    """Everything a full listing shows, in order."""
    return {
        "providers": [
            (name, e.plugin, e.distribution, e.version, type(e.provider).__name__)
            for name, e in host.providers().items()
        ],
        "problems": host.problems(),
        "failures": [str(f) for f in host.failures],
        "distributions": list(host.distributions.items()),
        "flags": [(c.option.name, c.providers, c.helps) for c in host.cli_options()],
        "selecting": host.selecting_options(),
        "schemes": list(host.secret_schemes()),
        "stores": [(plugin, str(store.name)) for plugin, store in host.store_plugins()],
        "caches": list(host.token_caches()),
        "disabled": host.disabled,
    }


@pytest.fixture
def mixed_site(site: Path) -> Path:
    """Third-party plugins of every kind: provider-only, provider plus a secret resolver, one
    that does not import, one with a misspelled hook, one whose registration raises."""
    install_distribution(site, "entra-vault-a", "tp_vault_a", provider("vault-a"))
    install_distribution(site, "entra-mixed", "tp_mixed", provider("mixed", SCHEME))
    install_distribution(site, "entra-broken", "tp_broken", "import does_not_exist_anywhere\n")
    install_distribution(site, "entra-typo", "tp_typo", TYPO)
    install_distribution(site, "entra-half", "tp_half", RAISES_AFTER_ONE)
    return site


TWO_PROVIDERS = """
import entra_auth
from entra_auth import Option, Provider


class A(Provider):
    name = "vault-a"
    summary = "A third-party provider."
    options = (Option("vault_url", "Where the vault is.", required=True),)

    def create(self, settings):
        raise NotImplementedError


class X(A):
    name = "vault-x"


@entra_auth.hookimpl
def entra_auth_register_providers(register):
    register(A())
    register(X())
"""

SCHEME_REGISTRATION = """

@entra_auth.hookimpl
def entra_auth_register_secret_schemes(register):
    register(entra_auth.SecretScheme("vault2", "A vault.", lambda r: "v2-" + r, "vault2:PATH"))
"""


def test_a_provider_only_plugin_is_imported_when_its_provider_is_asked_for(
    mixed_site: Path,
) -> None:
    facts = warm()["plugins"]
    assert facts["entra-vault-a"] == {
        "hooks": ["entra_auth_register_providers"],
        "wrappers": [],
        "providers": ["vault-a"],
        "problem": False,
    }
    host = get_host()
    assert not loaded("tp_vault_a")
    assert loaded("tp_mixed") and loaded("tp_typo") and loaded("tp_half")
    assert host.get_provider("client-secret").plugin == "client-secret"
    assert host.resolve_secret("vault:x") == "from-vault:x"
    assert not loaded("tp_vault_a")
    entry = host.get_provider("vault-a")
    assert (entry.plugin, entry.distribution, entry.version) == (
        "entra-vault-a",
        "entra-vault-a",
        "1.2.3",
    )
    assert loaded("tp_vault_a")


@pytest.mark.parametrize(
    "first", [None, "client-secret", "vault-a", "mixed", "half", "nope", "problems"]
)
def test_every_full_answer_after_a_lazy_start_is_a_full_hosts(
    mixed_site: Path, first: str | None
) -> None:
    def start(host: PluginHost) -> None:
        if first == "problems":
            host.problems()
        elif first is not None:
            try:
                host.get_provider(first)
            except UsageError:
                assert first == "nope"

    warm()
    full = build_host()
    start(full)
    expected = snapshot(full)
    forget()
    lazy = build_host(lazy=True)
    assert not loaded("tp_vault_a")
    start(lazy)
    assert snapshot(lazy) == expected
    assert expected["providers"] and expected["problems"]


def test_prepare_with_a_named_provider_loads_only_that_provider(site: Path) -> None:
    install_distribution(site, "entra-vault-a", "tp_vault_a", provider("vault-a"))
    install_distribution(site, "entra-vault-b", "tp_vault_b", provider("vault-b"))
    warm()
    host = get_host()
    request = prepare("vault-a", {"vault_url": "https://vault.example"}, plugins=host)
    assert request.provider_name == "vault-a"
    assert loaded("tp_vault_a") and not loaded("tp_vault_b")
    # Choosing by a selecting option needs every provider: the same choice a full host makes.
    options = {
        "client_id": "11111111-1111-1111-1111-111111111111",
        "tenant_id": "contoso.example",
        "client_secret": "env:X",
    }
    chosen = prepare(None, options, plugins=host)
    assert (chosen.provider_name, chosen.selected_by) == ("client-secret", "option client_secret")
    assert loaded("tp_vault_b")


def test_prepare_from_a_profile_loads_only_its_provider(site: Path, tmp_path: Path) -> None:
    from entra_auth.config import load_config

    install_distribution(site, "entra-vault-a", "tp_vault_a", provider("vault-a"))
    install_distribution(site, "entra-vault-b", "tp_vault_b", provider("vault-b"))
    warm()
    path = tmp_path / "config.toml"
    path.write_text('[profiles.v]\nprovider = "vault-a"\nvault_url = "https://vault.example"\n')
    request = prepare(profile="v", config=load_config(path), plugins=get_host())
    assert (request.provider_name, request.selected_by) == ("vault-a", "profile")
    assert loaded("tp_vault_a") and not loaded("tp_vault_b")


def test_a_fact_that_no_longer_holds_loads_everything(site: Path) -> None:
    install_distribution(site, "entra-stale", "tp_stale", provider("vault-a"))
    install_distribution(site, "entra-other", "tp_other", provider("vault-c"))
    warm()
    # The module changes but not its distribution (an editable install): the cache's key is
    # the same, its facts are not.
    (site / "tp_stale.py").write_text(textwrap.dedent(provider("vault-b", SCHEME)))
    host = get_host()
    assert not loaded("tp_stale") and not loaded("tp_other")
    with pytest.raises(UsageError, match="unknown provider 'vault-a'; installed providers: ") as e:
        host.get_provider("vault-a")
    assert "vault-b" in str(e.value) and "vault-c" in str(e.value)
    assert loaded("tp_other")  # everything loaded, as a full host
    assert host.get_provider("vault-b").plugin == "entra-stale"
    assert host.resolve_secret("vault:x") == "from-vault:x"  # a hook the cache did not know
    lazy = snapshot(host)
    forget()
    assert lazy == snapshot(build_host())
    # The cache now says what the plugin does.
    facts = json.loads(plugin_cache.cache_file().read_text())["plugins"]
    assert facts["entra-stale"]["providers"] == ["vault-b"]
    assert facts["entra-stale"]["hooks"] == [
        "entra_auth_register_providers",
        "entra_auth_resolve_secret",
    ]


def test_a_plugin_that_registers_more_than_the_cache_says_loads_everything(site: Path) -> None:
    install_distribution(site, "entra-stale", "tp_stale4", provider("vault-a"))
    install_distribution(site, "entra-other", "tp_other", provider("vault-c"))
    warm()
    (site / "tp_stale4.py").write_text(textwrap.dedent(TWO_PROVIDERS))
    host = get_host()
    assert host.get_provider("vault-a").plugin == "entra-stale"
    assert loaded("tp_other")  # the cache was wrong about one plugin: trust it no further
    facts = json.loads(plugin_cache.cache_file().read_text())["plugins"]
    assert facts["entra-stale"]["providers"] == ["vault-a", "vault-x"]
    lazy = snapshot(host)
    forget()
    assert lazy == snapshot(build_host())


def test_a_plugin_that_implements_another_hook_than_the_cache_says_loads_everything(
    site: Path,
) -> None:
    install_distribution(site, "entra-stale", "tp_stale5", provider("vault-a"))
    install_distribution(site, "entra-other", "tp_other", provider("vault-c"))
    warm()
    (site / "tp_stale5.py").write_text(textwrap.dedent(provider("vault-a", SCHEME_REGISTRATION)))
    host = get_host()
    assert host.resolve_secret("env:HOME")  # the secret schemes, before the plugin loaded
    assert host.get_provider("vault-a").plugin == "entra-stale"
    assert loaded("tp_other")
    assert host.resolve_secret("vault2:x") == "v2-vault2:x"  # its scheme is registered after all
    lazy = snapshot(host)
    forget()
    assert lazy == snapshot(build_host())


def test_an_unrecorded_provider_name_loads_everything(site: Path) -> None:
    install_distribution(site, "entra-stale", "tp_stale2", provider("vault-a"))
    warm()
    (site / "tp_stale2.py").write_text(textwrap.dedent(provider("vault-b")))
    host = get_host()
    assert host.get_provider("vault-b").plugin == "entra-stale"
    assert "vault-a" not in host.providers()


def test_a_stale_plugin_that_no_longer_loads_is_reported(site: Path) -> None:
    install_distribution(site, "entra-stale", "tp_stale3", provider("vault-a"))
    warm()
    (site / "tp_stale3.py").write_text("import does_not_exist_anywhere\n")
    host = get_host()
    with pytest.raises(UsageError) as lazy_error:
        host.get_provider("vault-a")
    lazy = snapshot(host)
    forget()
    full = build_host()
    with pytest.raises(UsageError) as full_error:
        full.get_provider("vault-a")
    assert str(lazy_error.value) == str(full_error.value)
    assert lazy == snapshot(full)
    [problem] = lazy["problems"]
    assert "entra-stale" in problem and "ModuleNotFoundError" in problem


def test_a_new_distribution_is_found(site: Path) -> None:
    install_distribution(site, "entra-vault-a", "tp_vault_a", provider("vault-a"))
    warm()
    install_distribution(site, "entra-vault-b", "tp_vault_b", provider("vault-b"))
    host = get_host()
    assert host.get_provider("vault-b").distribution == "entra-vault-b"
    facts = json.loads(plugin_cache.cache_file().read_text())["plugins"]
    assert facts["entra-vault-b"]["providers"] == ["vault-b"]


def test_a_plugin_with_a_problem_is_never_deferred(site: Path) -> None:
    install_distribution(site, "entra-half", "tp_half", RAISES_AFTER_ONE)
    install_distribution(site, "entra-clash", "tp_clash", CLASH)
    facts = warm()["plugins"]
    # cert-name: the first provider (by name) declaring --client-id, which clash contradicts
    for name in ("entra-half", "entra-clash", "cert-name"):
        assert facts[name]["problem"] is True, name
    host = get_host()
    assert loaded("tp_half") and loaded("tp_clash")
    assert host.get_provider("half").plugin == "entra-half"
    problems = host.problems()
    assert any("vault agent not running" in p and "entra-half" in p for p in problems)
    assert any(p.startswith("option --client-id ") and "'clash'" in p for p in problems)
    lazy = snapshot(host)
    forget()
    assert lazy == snapshot(build_host())


def test_duplicates_across_two_distributions_are_reported(site: Path) -> None:
    install_distribution(site, "entra-twin-one", "tp_twin1", provider("twin"))
    install_distribution(site, "entra-twin-two", "tp_twin2", provider("twin"))
    install_distribution(site, "entra-impostor", "tp_impostor", provider("client-secret"))
    warm()
    host = get_host()
    assert loaded("tp_twin1") and loaded("tp_twin2") and loaded("tp_impostor")
    with pytest.raises(PluginError) as caught:
        host.get_provider("twin")
    assert "entra-twin-one" in str(caught.value) and "entra-twin-two" in str(caught.value)
    with pytest.raises(PluginError) as caught:
        host.get_provider("client-secret")
    assert "entra-impostor" in str(caught.value)
    assert "entra-auth-client-secret" in str(caught.value)
    problems = host.problems()
    assert sum("is registered by both" in p for p in problems) == 2


def test_a_disabled_plugin_stays_unloaded(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_distribution(site, "entra-vault-a", "tp_vault_a", provider("vault-a"))
    monkeypatch.setenv("ENTRA_AUTH_DISABLE_PLUGINS", "entra-vault-a")
    warm()
    host = get_host()
    with pytest.raises(UsageError, match="disabled by ENTRA_AUTH_DISABLE_PLUGINS"):
        host.get_provider("entra-vault-a")
    assert not loaded("tp_vault_a")


MALFORMED: list[Any] = [
    [],
    {"entra-vault-a": []},
    {"entra-vault-a": {"hooks": ["x"], "wrappers": [], "providers": ["vault-a"]}},
    {"entra-vault-a": {"hooks": "x", "wrappers": [], "providers": [], "problem": False}},
    {"entra-vault-a": {"hooks": [1], "wrappers": [], "providers": [], "problem": False}},
    {"entra-vault-a": {"hooks": [], "wrappers": [], "providers": "vault-a", "problem": False}},
    {"entra-vault-a": {"hooks": [], "wrappers": None, "providers": [], "problem": False}},
    {"entra-vault-a": {"hooks": [], "wrappers": [], "providers": [], "problem": 0}},
    {"entra-vault-a": {"hooks": [], "wrappers": [], "providers": [], "problem": None}},
    {"entra-vault-a": {"hooks": [], "wrappers": [], "providers": [], "problem": False, "x": 1}},
]


@pytest.mark.parametrize("facts", MALFORMED)
def test_malformed_facts_are_not_read(facts: Any) -> None:
    key = plugin_cache.environment_key()
    good = {"hooks": [], "wrappers": [], "providers": [], "problem": False}
    assert plugin_cache.parse(plugin_cache.render(key, [], "1").encode(), key) is not None
    valid = plugin_cache.render(key, [], "1", plugins={"p": good}).encode()
    assert plugin_cache.parse(valid, key) is not None
    raw = plugin_cache.render(key, [], "1", plugins=facts).encode()
    assert plugin_cache.parse(raw, key) is None


def _age(path: Path) -> None:
    """Give ``path`` an old modification time, so a change made now shows whatever the
    file system's clock tick (a coarse clock can give two quick changes one time)."""
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))


def test_the_discovery_key_changes_when_a_distribution_comes_or_goes(site: Path) -> None:
    install_distribution(site, "entra-vault-a", "tp_vault_a", provider("vault-a"))
    _age(site)
    before = plugin_cache.environment_key()
    assert plugin_cache.environment_key() == before  # stable while nothing changes
    install_distribution(site, "entra-vault-b", "tp_vault_b", provider("vault-b"))
    added = plugin_cache.environment_key()
    assert added != before
    shutil.rmtree(site / "entra_vault_a-1.2.3.dist-info")
    assert plugin_cache.environment_key() not in (before, added)


def test_the_discovery_key_changes_when_a_distribution_is_reinstalled(site: Path) -> None:
    """An installer replaces a .dist-info folder of the same name (same version, new entry
    points: an editable workspace member re-synced); its parent folder's time changes."""
    install_distribution(site, "entra-vault-a", "tp_vault_a", provider("vault-a"))
    _age(site)
    before = plugin_cache.environment_key()
    info = site / "entra_vault_a-1.2.3.dist-info"
    info.rename(site / "old.tmp")
    install_distribution(site, "entra-vault-a", "tp_vault_a", provider("vault-a"), "renamed")
    shutil.rmtree(site / "old.tmp")
    assert plugin_cache.environment_key() != before


def test_the_discovery_key_changes_when_an_egg_info_is_rewritten_in_place(site: Path) -> None:
    """``setup.py develop`` rewrites entry_points.txt inside an existing .egg-info."""
    egg = site / "entra_vault_legacy.egg-info"
    egg.mkdir()
    points = egg / "entry_points.txt"
    points.write_text("[entra_auth]\nlegacy = tp_legacy\n")
    for path in (points, egg, site):
        _age(path)
    before = plugin_cache.environment_key()
    points.write_text("[entra_auth]\nlegacy = tp_legacy_two\n")
    assert plugin_cache.environment_key() != before


def test_files_coming_and_going_beside_no_distribution_keep_the_key(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script's own folder is on sys.path; the logs it writes must not cost every run a
    full plugin load, nor a script in another folder. The first distribution there counts."""
    before = plugin_cache.environment_key()
    (site / "run.log").write_text("written by the script")
    (site / "helper.py").write_text("")
    assert plugin_cache.environment_key() == before
    elsewhere = tmp_path / "other-scripts"
    elsewhere.mkdir()
    swapped = [str(elsewhere) if entry == str(site) else entry for entry in sys.path]
    with monkeypatch.context() as patch:
        patch.setattr(sys, "path", swapped)
        assert plugin_cache.environment_key() == before
    (site / "entra_new-1.0.dist-info").mkdir()
    assert plugin_cache.environment_key() != before


def test_a_cache_with_malformed_facts_is_rebuilt(site: Path) -> None:
    install_distribution(site, "entra-vault-a", "tp_vault_a", provider("vault-a"))
    data = warm()
    data["plugins"]["entra-vault-a"]["problem"] = 0  # falsy, but not a boolean
    path = plugin_cache.cache_file()
    path.write_text(json.dumps(data))
    host = get_host()
    assert loaded("tp_vault_a")  # not deferred on a fact that was not read
    host.providers()  # a full listing writes the facts again
    rewritten = json.loads(path.read_text())
    assert rewritten["plugins"]["entra-vault-a"]["problem"] is False


# -- a new process --------------------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import json, os, sys
    import entra_auth
    cred = entra_auth.connect(
        "client-secret", fetch_token=False, client_id=os.environ["APP_CLIENT_ID"],
        tenant_id=os.environ["APP_TENANT_ID"], client_secret="env:APP_SECRET")
    assert cred.get_token("https://graph.microsoft.com/.default").token
    watched = ("difflib", "entra_auth.certificates", "entra_auth.token_store")
    print(json.dumps(sorted(m for m in sys.modules
                            if m.startswith(("entra_auth_", "tp_")) or m in watched)))
    """
)


def test_a_new_process_imports_only_the_provider_it_uses(secret_app, emulator_env, site):  # type: ignore[no-untyped-def]
    install_distribution(site, "entra-vault-a", "tp_vault_a", provider("vault-a"))
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "APP_CLIENT_ID": secret_app.client_id,
        "APP_TENANT_ID": secret_app.tenant_id,
        "APP_SECRET": secret_app.secret,
    }

    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        modules: list[str] = json.loads(done.stdout)
        return modules

    first = run()  # no cache yet: every plugin is loaded, and the facts are written
    assert {"entra_auth_cert_name", "entra_auth_managed_identity", "tp_vault_a"} <= set(first)
    second = run()  # the cache is current: only client-secret's plugin is imported
    assert "entra_auth_client_secret" in second
    for module in (
        "entra_auth_cert_name",
        "entra_auth_cert_object",
        "entra_auth_cert_thumbprint",
        "entra_auth_workload_identity",
        "entra_auth_managed_identity",
        "tp_vault_a",
        "difflib",
        # Nor what a secret sign-in in Process scope never uses: the certificate stores and
        # the token cache files.
        "entra_auth.certificates",
        "entra_auth.token_store",
    ):
        assert module not in second, (module, second)
