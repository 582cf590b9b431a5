"""``providers``, ``emulator`` and ``demo``: what is installed, and the README's first command."""

from __future__ import annotations

import time
from importlib import metadata


def test_providers_lists_client_secret_with_its_distribution(run_cli):
    table = run_cli("providers")
    assert table.code == 0
    header, _rule, *rows = table.stdout.splitlines()
    assert header.split()[:2] == ["NAME", "AUTH"]
    row = next(r for r in rows if r.startswith("client-secret "))
    assert "entra-auth-client-secret" in row
    assert metadata.version("entra-auth-client-secret") in row

    data = run_cli("providers", "--output", "json").json()
    entry = next(p for p in data["providers"] if p["name"] == "client-secret")
    assert entry["distribution"] == "entra-auth-client-secret"
    assert entry["version"] == metadata.version("entra-auth-client-secret")
    assert entry["auth_type"] == "AppOnly"
    secret_option = next(o for o in entry["options"] if o["name"] == "client_secret")
    assert secret_option["secret"] is True
    assert data["problems"] == []


def test_disabled_plugin_is_gone_from_the_list(run_cli):
    data = run_cli(
        "providers", "--output", "json", env={"ENTRA_AUTH_DISABLE_PLUGINS": "client-secret"}
    ).json()
    assert "client-secret" not in {p["name"] for p in data["providers"]}


def test_emulator_command_passes_options_through(run_cli):
    result = run_cli("emulator", "--help")
    assert result.code == 0
    assert "--ready-file" in result.stdout


def test_demo_signs_in_and_leaves_the_user_alone(run_cli, connection_file, isolated_environment):
    started = time.monotonic()
    result = run_cli("demo")
    elapsed = time.monotonic() - started
    assert result.code == 0, result.output
    assert elapsed < 10
    out = result.stdout
    assert "== client-secret:" in out
    assert "AuthType              : AppOnly" in out
    assert "app_displayname" in out and "roles" in out
    assert "AADSTS7000215" in out  # the refusal it demonstrates
    assert "signed in with: " in out and "client-secret" in out.rsplit("signed in with: ", 1)[1]
    assert ".ey" not in out  # claims, never the token
    assert not connection_file.exists()
    assert not (isolated_environment / ".config" / "entra-auth").exists()


ALL_BUILT_IN = (
    "client-secret,cert-thumbprint,cert-name,cert-object,managed-identity,workload-identity"
)


def test_without_providers_providers_and_demo_say_what_to_install(run_cli):
    env = {"ENTRA_AUTH_DISABLE_PLUGINS": ALL_BUILT_IN}
    listed = run_cli("providers", env=env)
    assert listed.code == 0
    assert "No providers are installed" in listed.stdout
    assert "pip install 'entra-auth-cli[all]'" in listed.stdout

    demo = run_cli("demo", env=env)
    assert demo.code == 2, demo.output
    line = demo.error_line()
    assert "the demo had nothing to show" in line
    assert "pip install 'entra-auth-cli[all]'" in line
