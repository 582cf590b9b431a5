"""``entra-auth environment``: Get-MgEnvironment's built-ins, custom clouds in the config file,
and a custom environment's own CA bundle trusted without REQUESTS_CA_BUNDLE."""

from __future__ import annotations

import json

import pytest
from cli_helpers import SECRET_VARIABLE, config_path, connect_args, file_mode, token_requests

BUILTINS = [
    ("Global", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
    ("China", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
    ("USGov", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
    ("USGovDoD", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
]


def test_builtins_are_listed_as_get_mgenvironment_lists_them(run_cli):
    result = run_cli("environment", "list", "--output", "json")
    assert result.code == 0, result.stderr
    rows = result.json()["environments"]
    assert [(r["name"], r["authority_host"], r["graph_endpoint"]) for r in rows] == BUILTINS
    assert {r["source"] for r in rows} == {"built-in"}
    table = run_cli("environment", "list").stdout.splitlines()
    assert table[0].split() == ["NAME", "AUTHORITY", "HOST", "GRAPH", "ENDPOINT", "CA", "BUNDLE",
                                "SOURCE"]  # fmt: skip
    assert table[2].split() == [*BUILTINS[0][:3], "built-in"]


def test_add_list_remove(run_cli, isolated_environment, emulator):
    config = config_path(isolated_environment)
    added = run_cli(
        "environment", "add", "Lab",
        "--authority-host", "https://login.lab.example/",
        "--graph-endpoint", "https://graph.lab.example",
        "--ca-bundle", str(emulator.ca_bundle),
    )  # fmt: skip
    assert added.code == 0, added.stderr
    assert config.read_text() == (
        "[environments.Lab]\n"
        'authority_host = "https://login.lab.example"\n'
        'graph_endpoint = "https://graph.lab.example"\n'
        f'ca_bundle = "{emulator.ca_bundle}"\n'
    )
    assert file_mode(config) == 0o600 and file_mode(config.parent) == 0o700
    rows = run_cli("environment", "list", "--output", "json").json()["environments"]
    assert rows[-1] == {
        "name": "Lab",
        "authority_host": "https://login.lab.example",
        "graph_endpoint": "https://graph.lab.example",
        "ca_bundle": str(emulator.ca_bundle),
        "source": "config",
    }
    assert run_cli("profile", "add", "lab", "--identity", "--environment", "lab").code == 0
    in_use = run_cli("environment", "remove", "Lab")
    assert in_use.code == 2 and "used by profile lab" in in_use.error_line()
    assert run_cli("profile", "remove", "lab").code == 0
    removed = run_cli("environment", "remove", "Lab")
    assert removed.code == 0, removed.stderr
    assert config.read_text() == ""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("add", "usgov", "--authority-host", "https://a.example", "--graph-endpoint",
          "https://g.example"), "USGov is a built-in environment and cannot be redefined"),
        (("remove", "Global"), "Global is a built-in environment and cannot be removed"),
        (("remove", "Nowhere"), "no custom environment 'Nowhere'"),
        (("add", "Lab", "--authority-host", "https://a.example", "--graph-endpoint",
          "https://g.example"), "environment 'Lab' already exists"),
        (("add", "X", "--authority-host", "http://login.example", "--graph-endpoint",
          "https://g.example"), "must use https"),
        (("add", "X", "--authority-host", "login", "--graph-endpoint", "https://g.example"),
         "is not a URL"),
        (("add", "X", "--authority-host", "https://a.example", "--graph-endpoint",
          "https://g.example", "--ca-bundle", "/no/such/ca.pem"), "No such file"),
        (("add", "X", "--authority-host", "https://a.example"), "--graph-endpoint"),
    ],
    ids=["builtin-add", "builtin-remove", "unknown", "exists", "http", "not-url", "no-bundle",
         "missing-flag"],
)  # fmt: skip
def test_refusals_leave_the_file_byte_identical(run_cli, isolated_environment, args, expected):
    config = config_path(isolated_environment)
    config.parent.mkdir(parents=True)
    config.write_text(
        "# lab\n[environments.Lab]\n"
        'authority_host = "https://login.lab.example"\ngraph_endpoint = "https://g.example"\n'
    )
    before = config.read_bytes()
    result = run_cli("environment", *args)
    assert result.code == 2, result.output
    assert expected in result.error_line()
    assert config.read_bytes() == before


def test_a_custom_environment_trusts_its_own_ca_bundle(
    run_cli, secret_in_env, emulator, connection_file
):
    """No REQUESTS_CA_BUNDLE and no AZURE_AUTHORITY_HOST: the environment alone says where to
    sign in and which CA to trust, for connect and for a later token process."""
    app = secret_in_env
    bare = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AZURE_AUTHORITY_HOST")
    added = run_cli(
        "environment", "add", "Emu",
        "--authority-host", emulator.authority_host,
        "--graph-endpoint", "https://graph.microsoft.com",
        "--ca-bundle", str(emulator.ca_bundle),
        unset=bare,
    )  # fmt: skip
    assert added.code == 0, added.stderr

    without_ca = run_cli(
        "environment", "add", "EmuNoCA",
        "--authority-host", emulator.authority_host,
        "--graph-endpoint", "https://graph.microsoft.com",
        unset=bare,
    )  # fmt: skip
    assert without_ca.code == 0, without_ca.stderr
    untrusted = run_cli(*connect_args(app, "--environment", "EmuNoCA"), unset=bare)
    assert untrusted.code == 1  # the system CAs do not know the emulator's
    assert "TLS verification failed" in untrusted.error_line()

    before = token_requests(emulator, app.tenant_id)
    connected = run_cli(*connect_args(app, "--environment", "Emu", "--no-welcome"), unset=bare)
    assert connected.code == 0, connected.stderr
    saved = json.loads(connection_file.read_text())
    assert saved["environment"]["name"] == "Emu"
    assert saved["environment"]["ca_bundle"] == str(emulator.ca_bundle)
    token = run_cli("token", unset=bare)
    assert token.code == 0, token.stderr
    assert token_requests(emulator, app.tenant_id) == before + 2
    assert SECRET_VARIABLE not in token.stdout
