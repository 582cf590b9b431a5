"""The textual config edits behind ``profile``/``environment``: only the touched table changes,
tricky layouts are handled or rewritten whole (never corrupted), and the CLI says when
comments had to go."""

from __future__ import annotations

import tomllib

from cli_helpers import config_path

from entra_auth_cli.config_edit import ConfigText


def edit(text: str) -> ConfigText:
    return ConfigText(text, tomllib.loads(text))


def test_a_header_inside_a_multiline_string_is_not_a_table():
    text = (
        "[profiles.a]\n"
        'provider = "x"\n'
        'note = """\n'
        "[profiles.b]\n"
        '"""\n'
        "\n"
        "[profiles.c]\n"
        'provider = "y"\n'
    )
    document = edit(text)
    document.remove_table("profiles", "c")
    document.set_table("profiles", "a", {"provider": "z"})
    result = document.render()
    assert not document.rewritten
    assert result == '[profiles.a]\nprovider = "z"\n'


def test_quoted_names_and_subtables_travel_with_their_table():
    text = (
        '[profiles."with.dot"]  # quoted\n'
        'provider = "x"\n'
        '[profiles."with.dot".extra]\n'
        "k = 1\n"
        "\n"
        "[profiles.next]\n"
        'provider = "y"\n'
    )
    document = edit(text)
    document.remove_table("profiles", "with.dot")
    assert document.render() == '[profiles.next]\nprovider = "y"\n'
    assert not document.rewritten


def test_default_profile_goes_before_the_first_table_and_is_replaced_in_place():
    document = edit('# top\n\n[profiles.a]\nprovider = "x"\n')
    document.set_top_level("default_profile", "a")
    assert document.render() == '# top\n\ndefault_profile = "a"\n\n[profiles.a]\nprovider = "x"\n'
    document.set_top_level("default_profile", "b")
    assert document.render().count("default_profile") == 1
    document.remove_top_level("default_profile")
    assert document.render() == '# top\n\n[profiles.a]\nprovider = "x"\n'


def test_a_layout_that_cannot_be_edited_in_place_is_rewritten_whole(run_cli, isolated_environment):
    config = config_path(isolated_environment)
    config.parent.mkdir(parents=True)
    config.write_text('# mine\nprofiles = { a = { provider = "managed-identity" } }\n')
    result = run_cli("profile", "add", "b", "--identity")
    assert result.code == 0, result.stderr
    assert "comments were dropped" in result.stderr
    data = tomllib.loads(config.read_text())
    assert list(data["profiles"]) == ["a", "b"]
    assert data["profiles"]["a"] == {"provider": "managed-identity"}
