"""``entra-auth profile``: the config file stays valid TOML a person can read, concurrent
writers lose nothing, and every refusal leaves the file exactly as it was."""

from __future__ import annotations

import os
import subprocess
import tomllib

import pytest
from cli_helpers import SECRET_VARIABLE, config_path, file_mode

HAND_WRITTEN = """\
# Contoso automation: edited by hand and by entra-auth
default_profile = "prod"

# production tenant, certificate in the .NET store
[profiles.prod]
provider = "cert-thumbprint"
client_id = "00000000-0000-0000-0000-000000000001"
tenant_id = "contoso.onmicrosoft.com"
certificate_thumbprint = "3A1F00000000000000000000000000000000AB12"  # rotated yearly

[environments.Lab]
authority_host = "https://login.lab.example"
graph_endpoint = "https://graph.lab.example"
"""


@pytest.fixture
def config(isolated_environment):
    path = config_path(isolated_environment)
    path.parent.mkdir(parents=True)
    return path


def test_round_trip_is_readable_by_tomllib_and_by_a_person(run_cli, config):
    assert run_cli(
        "profile", "add", "ci",
        "--client-id", "11111111-aaaa-bbbb-cccc-000000000001",
        "--tenant-id", "contoso.onmicrosoft.com",
        "--client-secret", "env:AZURE_CLIENT_SECRET",
    ).code == 0  # fmt: skip
    added = run_cli(
        "profile", "add", "vm",
        "--identity", "--object-id", "0b0b0b0b-0000-0000-0000-000000000002",
        "--environment", "usgov", "--context-scope", "currentuser",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    assert "Added profile 'vm'" in added.stdout
    used = run_cli("profile", "use", "ci")
    assert used.code == 0, used.stderr

    assert config.read_text() == (
        'default_profile = "ci"\n'
        "\n"
        "[profiles.ci]\n"
        'provider = "client-secret"\n'
        'client_id = "11111111-aaaa-bbbb-cccc-000000000001"\n'
        'tenant_id = "contoso.onmicrosoft.com"\n'
        'client_secret = "env:AZURE_CLIENT_SECRET"\n'
        "\n"
        "[profiles.vm]\n"
        'provider = "managed-identity"\n'
        'object_id = "0b0b0b0b-0000-0000-0000-000000000002"\n'
        'environment = "USGov"\n'  # the canonical spelling, as Get-MgEnvironment lists it
        'context_scope = "CurrentUser"\n'
    )
    data = tomllib.loads(config.read_text())
    assert list(data["profiles"]) == ["ci", "vm"]
    assert file_mode(config) == 0o600

    listed = run_cli("profile", "list", "--output", "json")
    assert listed.code == 0, listed.stderr
    rows = listed.json()["profiles"]
    assert [(r["name"], r["default"], r["provider"]) for r in rows] == [
        ("ci", True, "client-secret"),
        ("vm", False, "managed-identity"),
    ]
    table = run_cli("profile", "list")
    assert table.stdout.splitlines()[0].split() == [
        "DEFAULT", "NAME", "PROVIDER", "APP", "TENANT", "ENVIRONMENT", "CONTEXT", "SCOPE",
    ]  # fmt: skip
    assert table.stdout.splitlines()[2].split()[:3] == ["*", "ci", "client-secret"]

    shown = run_cli("profile", "show", "vm", "--output", "json").json()
    assert shown == {
        "name": "vm",
        "default": False,
        "provider": "managed-identity",
        "object_id": "0b0b0b0b-0000-0000-0000-000000000002",
        "environment": "USGov",
        "context_scope": "CurrentUser",
    }
    assert "provider      : managed-identity" in run_cli("profile", "show", "vm").stdout

    removed = run_cli("profile", "remove", "ci")
    assert removed.code == 0 and "no default profile now" in removed.stdout
    assert tomllib.loads(config.read_text()) == {"profiles": {"vm": data["profiles"]["vm"]}}


def test_a_saved_profile_signs_in_and_flags_override_it(
    run_cli, secret_in_env, connection_file, emulator
):
    app = secret_in_env
    added = run_cli(
        "profile", "add", "ci", "--client-id", app.client_id, "--tenant-id", app.tenant_id,
        "--client-secret", f"env:{SECRET_VARIABLE}",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    run_cli("profile", "use", "ci")

    by_default = run_cli("connect", "--no-welcome", "--output", "json")  # default_profile
    assert by_default.code == 0, by_default.stderr
    assert by_default.json()["app_name"] == app.display_name
    assert by_default.json()["context_scope"] == "Process"

    overridden = run_cli(
        "connect", "--profile", "ci", "--context-scope", "CurrentUser", "--output", "json"
    )
    assert overridden.code == 0, overridden.stderr
    assert overridden.json()["context_scope"] == "CurrentUser"

    wrong = run_cli("connect", "--tenant-id", "fabrikam.example", env={"ENTRA_AUTH_PROFILE": "ci"})
    assert wrong.code == 1  # the flag won over the profile's tenant, and Entra refused it
    assert "90002" in wrong.error_line()


def test_sixteen_concurrent_adds_lose_nothing(config, cli_command):
    config.write_text(HAND_WRITTEN)
    env = {**os.environ, "X_SECRET": "unused"}
    processes = [
        subprocess.Popen(
            [
                *cli_command,
                "profile",
                "add",
                f"p{i:02d}",
                "--client-id",
                f"00000000-0000-0000-0000-{i:012d}",
                "--tenant-id",
                f"tenant-{i}.example",
                "--client-secret",
                "env:X_SECRET",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(16)
    ]
    results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in processes]
    for process in processes:
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
    assert [code for code, _ in results] == [0] * 16, results
    data = tomllib.loads(config.read_text())
    assert sorted(data["profiles"]) == sorted(["prod"] + [f"p{i:02d}" for i in range(16)])
    for i in range(16):
        assert data["profiles"][f"p{i:02d}"]["client_id"] == f"00000000-0000-0000-0000-{i:012d}"
    text = config.read_text()
    assert text.startswith(HAND_WRITTEN.split("\n[environments.Lab]")[0])  # comments kept
    assert "# rotated yearly" in text
    assert data["environments"]["Lab"]["authority_host"] == "https://login.lab.example"
    assert file_mode(config) == 0o600


def test_edits_keep_comments_and_the_order_of_untouched_entries(run_cli, config):
    config.write_text(HAND_WRITTEN)
    assert run_cli("profile", "add", "vm", "--identity").code == 0
    assert run_cli("profile", "use", "vm").code == 0
    assert run_cli("profile", "add", "prod", "--identity", "--replace").code == 0
    text = config.read_text()
    assert text == (
        "# Contoso automation: edited by hand and by entra-auth\n"
        'default_profile = "vm"\n'
        "\n"
        "# production tenant, certificate in the .NET store\n"  # kept with its table
        "[profiles.prod]\n"
        'provider = "managed-identity"\n'
        "\n"
        "[profiles.vm]\n"
        'provider = "managed-identity"\n'
        "\n"
        "[environments.Lab]\n"
        'authority_host = "https://login.lab.example"\n'
        'graph_endpoint = "https://graph.lab.example"\n'
    )
    assert run_cli("profile", "remove", "prod").code == 0
    assert "# production tenant" not in config.read_text()  # a table's comment goes with it
    assert config.read_text().startswith("# Contoso automation")


APP = "22222222-2222-2222-2222-222222222222"

REFUSALS = [
    pytest.param(
        ("profile", "add", "x", "--client-id", APP, "--tenant-id", "contoso.example",
         "--client-secret", "hunter2-literal-value"),
        "takes a reference to the secret, not the secret itself",
        id="literal-secret",
    ),
    pytest.param(
        ("profile", "add", "x", "--provider", "no-such-provider"),
        "unknown provider 'no-such-provider'; installed providers: cert-name, cert-object, "
        "cert-thumbprint, client-secret, managed-identity",
        id="unknown-provider",
    ),
    pytest.param(
        ("profile", "add", "x", "--client-id", APP, "--tenant-id", "contoso.example",
         "--client-secret", "env:X", "--object-id", "o"),
        "does not take --object-id; it takes: --client-id, --tenant-id, --client-secret",
        id="undeclared-option",
    ),
    pytest.param(
        ("profile", "add", "x", "--client-id", APP, "--client-secret", "env:X"),
        "needs --tenant-id",
        id="missing-required",
    ),
    pytest.param(
        ("profile", "add", "x", "--identity", "--environment", "Mars"),
        "unknown environment 'Mars'; known: China, Global, Lab, USGov, USGovDoD",
        id="unknown-environment",
    ),
    pytest.param(
        ("profile", "add", "x", "--identity", "--context-scope", "Forever"),
        "--context-scope 'Forever' is not one of Process, CurrentUser",
        id="bad-context-scope",
    ),
    pytest.param(("profile", "add", "x"), "choose how to sign in", id="no-method"),
    pytest.param(
        ("profile", "add", "prod", "--identity"), "already exists", id="existing-profile"
    ),
    pytest.param(
        ("profile", "add", "bad name", "--identity"), "may use only letters", id="bad-name"
    ),
    pytest.param(("profile", "remove", "nope"), "no profile 'nope'", id="remove-unknown"),
    pytest.param(("profile", "use", "nope"), "profiles: prod", id="use-unknown"),
    pytest.param(("profile", "show", "nope"), "no profile 'nope'", id="show-unknown"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "expected"), REFUSALS)
def test_each_refusal_leaves_the_file_byte_identical(run_cli, config, args, expected):
    config.write_text(HAND_WRITTEN)
    os.chmod(config, 0o600)
    before = config.read_bytes()
    stat_before = config.stat()
    result = run_cli(*args)
    assert result.code == 2, result.output
    assert expected in result.error_line()
    assert "hunter2-literal-value" not in result.output
    assert config.read_bytes() == before
    assert config.stat().st_mtime_ns == stat_before.st_mtime_ns  # not even rewritten


def test_invalid_toml_is_exit_2_with_file_line_and_column(run_cli, config):
    broken = '[profiles.ci]\nprovider = "client-secret"\nclient_id = \n'
    config.write_text(broken)
    for args in (
        ("profile", "add", "x", "--identity"),
        ("profile", "list"),
        ("environment", "list"),
        ("connect", "--profile", "ci"),
    ):
        result = run_cli(*args)
        assert result.code == 2, (args, result.output)
        line = result.error_line()
        assert str(config) in line and "not valid TOML" in line
        assert "line 3, column 13" in line
    assert config.read_text() == broken


def test_a_literal_secret_in_the_file_is_refused_and_never_shown(run_cli, config):
    config.write_text(
        "[profiles.ci]\n"
        'provider = "client-secret"\n'
        'client_id = "22222222-2222-2222-2222-222222222222"\n'
        'tenant_id = "contoso.example"\n'
        'client_secret = "s3cr3t-in-the-file"\n'
    )
    connected = run_cli("connect", "--profile", "ci")
    assert connected.code == 2
    assert "--client-secret takes a reference" in connected.error_line()
    shown = run_cli("profile", "show", "ci", "--output", "json")
    assert shown.code == 0
    assert shown.json()["client_secret"].startswith("<literal secret refused")
    assert "holds a literal client_secret" in shown.stderr
    for result in (connected, shown, run_cli("profile", "list")):
        assert "s3cr3t-in-the-file" not in result.output
