"""The CLI reference is generated from the typer app and cannot drift; the config reference
names every key the config reader accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from entra_auth import config as core_config
from entra_auth_cli import docs_gen
from entra_auth_cli.app import app

DOCS = Path(__file__).resolve().parents[2] / "docs"


def commands(command, path=("entra-auth",)):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, (*path, name))


def test_cli_reference_is_up_to_date():
    assert (DOCS / "cli.md").read_text() == docs_gen.render(), (
        "docs/cli.md is out of date: run python -m entra_auth_cli.docs_gen --write docs/cli.md"
    )


def test_cli_reference_has_every_command_and_flag():
    text = (DOCS / "cli.md").read_text()
    for path, command in commands(typer.main.get_command(app)):
        heading = f"`{' '.join(path)}`\n"
        assert heading in text, heading
        section = text.split(heading, 1)[1].split("\n#", 1)[0]
        for param in command.params:
            for opt in param.opts if param.param_type_name == "option" else ():
                assert f"`{opt}`" in section, (path, opt)


def test_check_mode_fails_on_a_stale_page(tmp_path, capsys):
    stale = tmp_path / "cli.md"
    stale.write_text(docs_gen.render().replace("--client-secret", "--secret"))
    assert docs_gen.main(["--check", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert docs_gen.main(["--write", str(stale)]) == 0
    assert docs_gen.main(["--check", str(stale)]) == 0


@pytest.mark.parametrize(
    "term",
    [
        *core_config.TOP_LEVEL_KEYS,
        *core_config.PROFILE_META_KEYS,
        *core_config.ENVIRONMENT_KEYS,
        "ENTRA_AUTH_CONFIG",
        "ENTRA_AUTH_PROFILE",
        "AZURE_AUTHORITY_HOST",
        "XDG_CONFIG_HOME",
        "env:NAME",
        "file:PATH",
        "keyring:SERVICE/NAME",
        "`prompt`",
        "`stdin`",
        "0600",
        "config.toml.lock",
        "comments",
        *(env for env in ("Global", "China", "USGov", "USGovDoD")),
    ],
)
def test_config_reference_covers(term):
    assert term in (DOCS / "config.md").read_text()
