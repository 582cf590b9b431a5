"""Shell completion (typer's scripts, for a shell named on the command line; profile,
environment and provider names completed), ``--version`` and ``--debug``'s place on the command
line."""

from __future__ import annotations

import pytest


def complete(run_cli, words: str, cword: int, env: dict[str, str] | None = None) -> list[str]:
    result = run_cli(
        env={
            "_ENTRA_AUTH_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
            **(env or {}),
        }
    )
    assert result.code == 0, result.stderr
    return result.stdout.split()


def test_bash_completes_commands_subcommands_and_flags(run_cli):
    assert complete(run_cli, "entra-auth pro", 1) == ["providers", "profile"]
    assert complete(run_cli, "entra-auth profile ", 2) == ["list", "show", "add", "remove", "use"]
    assert complete(run_cli, "entra-auth environment ", 2) == ["list", "add", "remove"]
    assert complete(run_cli, "entra-auth profile add ci --client-s", 4) == ["--client-secret"]
    assert complete(run_cli, "entra-auth connect --context-s", 2) == ["--context-scope"]


def test_bash_completes_profile_environment_and_provider_names(run_cli, isolated_environment):
    assert run_cli("profile", "add", "prod", "--identity").code == 0
    assert run_cli("profile", "add", "ci", "--identity").code == 0
    added = run_cli(
        "environment", "add", "Lab", "--authority-host", "https://login.lab.example",
        "--graph-endpoint", "https://graph.lab.example",
    )  # fmt: skip
    assert added.code == 0, added.stderr

    assert complete(run_cli, "entra-auth connect --profile ", 3) == ["ci", "prod"]
    assert complete(run_cli, "entra-auth token --profile p", 3) == ["prod"]
    assert complete(run_cli, "entra-auth context --profile ", 3) == ["ci", "prod"]
    assert complete(run_cli, "entra-auth profile use ", 3) == ["ci", "prod"]
    assert complete(run_cli, "entra-auth profile remove c", 3) == ["ci"]
    assert complete(run_cli, "entra-auth connect --environment ", 3) == [
        "China", "Global", "Lab", "USGov", "USGovDoD",
    ]  # fmt: skip
    assert complete(run_cli, "entra-auth connect --environment US", 3) == ["USGov", "USGovDoD"]
    assert complete(run_cli, "entra-auth environment remove ", 3) == ["Lab"]
    assert complete(run_cli, "entra-auth connect --provider cert-", 3) == [
        "cert-name", "cert-object", "cert-thumbprint",
    ]  # fmt: skip
    assert complete(run_cli, "entra-auth --show-completion ", 2) == [
        "bash", "zsh", "fish", "powershell", "pwsh",
    ]  # fmt: skip


def test_completion_of_names_survives_a_broken_config(run_cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[profiles.prod\n")  # not TOML
    config.chmod(0o600)
    env = {"ENTRA_AUTH_CONFIG": str(config)}
    assert complete(run_cli, "entra-auth connect --profile ", 3, env) == []
    assert "Global" in complete(run_cli, "entra-auth connect --environment ", 3, env)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_the_script(run_cli, shell):
    result = run_cli("--show-completion", shell)
    assert result.code == 0, result.stderr
    assert "_ENTRA_AUTH_COMPLETE" in result.stdout


def test_install_completion_writes_to_the_users_shell_files(run_cli, isolated_environment):
    result = run_cli("--install-completion", "bash")
    assert result.code == 0, result.stderr
    script = isolated_environment / ".bash_completions" / "entra-auth.sh"
    assert "_ENTRA_AUTH_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (isolated_environment / ".bashrc").read_text()


def test_version_names_the_cli_and_core(run_cli):
    result = run_cli("--version")
    assert result.code == 0
    assert result.stdout.startswith("entra-auth 0.") and "(core 0." in result.stdout


def test_debug_is_a_global_flag(run_cli):
    result = run_cli("--debug", "profile", "add", "vm", "--identity")
    assert result.code == 0, result.stderr
    assert "DEBUG entra_auth" in result.stderr  # plugin loading, traced
    assert "Added profile 'vm'" in result.stdout
