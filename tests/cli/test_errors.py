"""Refusals and bad usage: exit 1 when Entra says no, exit 2 when the command line is wrong,
always one line on stderr, and never the secret."""

from __future__ import annotations

import json
import uuid

import pytest
from cli_helpers import SECRET_VARIABLE, connect_args


def test_wrong_secret_is_exit_1_with_the_aadsts_code(run_cli, secret_app, emulator_env):
    result = run_cli(*connect_args(secret_app), env={SECRET_VARIABLE: "not-the-right-secret"})
    assert result.code == 1
    line = result.error_line()
    assert "AADSTS7000215" in line
    assert "hint:" in line
    assert result.stdout == ""


def test_unknown_tenant_is_exit_1_with_90002(run_cli, secret_in_env):
    app = secret_in_env
    args = list(connect_args(app))
    args[args.index(app.tenant_id)] = str(uuid.uuid4())
    result = run_cli(*args)
    assert result.code == 1
    assert "90002" in result.error_line()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("connect", "--tenant-id", "contoso", "--client-secret", f"env:{SECRET_VARIABLE}"),
            "needs --client-id",
        ),
        (
            (
                "connect",
                "--client-id",
                "22222222-2222-2222-2222-222222222222",
                "--tenant-id",
                "contoso.example",
                "--client-secret",
                "env:NOT_SET_X",
            ),
            "NOT_SET_X",
        ),
        (
            ("connect", "--client-secret", "env:X", "--certificate-thumbprint", "AB12"),
            "--client-secret and --certificate-thumbprint were both given",
        ),
        (("connect", "--client-id", "a"), "choose how to sign in"),
        (("connect", "--client-secret", "env:X", "--frobnicate"), "No such option"),
        (("connect", "--provider", "no-such-provider"), "unknown provider 'no-such-provider'"),
        (
            ("connect", "--client-secret", "env:X", "--context-scope", "Forever"),
            "--context-scope 'Forever' is not one of Process, CurrentUser",
        ),
        (("token",), "not connected"),
    ],
    ids=[
        "missing-client-id",
        "unset-variable",
        "two-methods",
        "no-method",
        "unknown-flag",
        "unknown-provider",
        "bad-context-scope",
        "token-not-connected",
    ],
)
def test_bad_usage_is_exit_2_in_one_line(run_cli, emulator_env, args, expected):
    result = run_cli(*args)
    assert result.code == 2, result.output
    assert expected in result.error_line()
    assert "Traceback" not in result.stderr


def test_provider_that_is_not_available_names_its_distribution(run_cli):
    result = run_cli(
        "connect",
        "--certificate-thumbprint",
        "AB12",
        env={"ENTRA_AUTH_DISABLE_PLUGINS": "cert-thumbprint"},
    )
    assert result.code == 2
    line = result.error_line()
    assert "ENTRA_AUTH_DISABLE_PLUGINS" in line and "entra-auth-cert-thumbprint" in line


def test_literal_secret_is_refused_without_echoing_it(run_cli, connection_file):
    literal = "hunter2value"
    result = run_cli(
        "connect",
        "--client-id",
        "22222222-2222-2222-2222-222222222222",
        "--tenant-id",
        "contoso.example",
        "--client-secret",
        literal,
    )
    assert result.code == 2
    line = result.error_line()
    assert "reference" in line and "env:" in line
    assert literal not in result.output
    assert not connection_file.exists()


def test_secret_never_appears_in_any_output_even_with_debug(
    run_cli, secret_in_env, connection_file
):
    app = secret_in_env
    results = [
        run_cli("--debug", *connect_args(app)),
        run_cli("--debug", "context", "--output", "json"),
        run_cli("--debug", "token", "--output", "json"),
        run_cli("--debug", *connect_args(app), env={SECRET_VARIABLE: app.secret[::-1]}),
    ]
    assert [r.code for r in results] == [0, 0, 0, 1]
    for result in results:
        assert app.secret not in result.output, result.args
        assert app.secret[::-1] not in result.output, result.args
    assert "DEBUG" in results[0].stderr  # --debug really logged something
    assert "Traceback" in results[3].stderr  # and shows the traceback of a failure
    token = json.loads(results[2].stdout)["access_token"]
    assert token not in results[2].stderr  # printed on stdout as asked, never logged
    assert app.secret not in connection_file.read_text()
