"""``entra-auth plugins`` and ``providers`` after a lazy start: the process-wide host imports a
provider-only plugin only when needed, yet these listings are exactly a full host's (real
distributions on sys.path, the real discovery cache, the CLI as a subprocess)."""

from __future__ import annotations

import sys
from pathlib import Path

from plugin_helpers import TYPO, install_distribution, provider

from entra_auth.plugins import build_host, get_host

VAULT = provider("vault")


def test_plugin_rows_of_a_lazy_host_are_a_full_hosts(site: Path) -> None:
    from entra_auth_cli.plugins_cmd import plugin_rows

    install_distribution(site, "entra-vault", "tp_lazy_vault", VAULT)
    install_distribution(site, "entra-typo", "tp_lazy_typo", TYPO)
    full = build_host()
    expected = (plugin_rows(full), full.problems())
    del sys.modules["tp_lazy_vault"]
    host = get_host()
    assert "tp_lazy_vault" not in sys.modules  # deferred: the cache knows what it does
    assert (plugin_rows(host), host.problems()) == expected
    assert any(row["providers"] == ["vault"] for row in expected[0])


def test_the_plugins_and_providers_commands_answer_alike_from_a_warm_cache(
    site: Path,
    run_cli,  # type: ignore[no-untyped-def]
) -> None:
    install_distribution(site, "entra-vault", "tp_lazy_vault2", VAULT)
    install_distribution(site, "entra-typo", "tp_lazy_typo2", TYPO)
    env = {"PYTHONPATH": str(site)}
    for command in (("plugins", "--output", "json"), ("providers",), ("plugins",)):
        first = run_cli(*command, env=env)  # the first run of all writes the cache
        second = run_cli(*command, env=env)
        assert first.code == second.code == 0, first.output
        assert (first.stdout, first.stderr) == (second.stdout, second.stderr), command
    assert "entra-vault" in second.stdout and "entra-typo" in second.stderr
