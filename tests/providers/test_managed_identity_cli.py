"""``entra-auth connect --identity`` as a real subprocess: exit codes, the one error line, the
saved context, and the fail-fast timings including interpreter start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from mi_helpers import (
    Identities,
    identity_requests,
    not_on_an_arc_machine,
    register_identities,
    silent_listener,
    use_host,
)

pytestmark = not_on_an_arc_machine


@pytest.fixture
def identities(emulator: Any) -> Identities:
    emulator.reset()
    return register_identities(emulator)


def run(cli_command: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli_command, *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # monkeypatched per test: the host variables reach the child
        timeout=60,
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("flags", "account", "id_type"),
    [
        ((), "SystemAssigned", "SystemAssigned"),
        (("--client-id", "{user_client_id}"), "{user_client_id}", "ClientId"),
        (("--object-id", "{user_object_id}"), "{user_object_id}", "ObjectId"),
        (("--resource-id", "{user_resource_id}"), "{user_resource_id}", "ResourceId"),
    ],
    ids=["system", "client-id", "object-id", "resource-id"],
)
def test_connect_identity_then_context(
    flags: tuple[str, ...],
    account: str,
    id_type: str,
    identities: Identities,
    emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    cli_command: list[str],
) -> None:
    use_host(monkeypatch, emulator, "IMDS")
    values = vars(identities)
    flags = tuple(flag.format(**values) for flag in flags)

    connected = run(cli_command, "connect", "--identity", *flags)
    assert connected.returncode == 0, connected.stderr
    assert "Welcome To Microsoft Graph!" in connected.stdout

    shown = run(cli_command, "context", "--output", "json")
    assert shown.returncode == 0, shown.stderr
    context = json.loads(shown.stdout)
    assert context["auth_type"] == "ManagedIdentity"
    assert context["account"] == account.format(**values)
    assert context["managed_identity_source"] == "IMDS"
    assert context["managed_identity_id_type"] == id_type
    assert context["tenant_id"] == identities.tenant_id
    expected = identities.system_client_id if not flags else identities.user_client_id
    assert context["client_id"] == expected


def test_connect_identity_on_app_service(
    identities: Identities, emulator: Any, monkeypatch: pytest.MonkeyPatch, cli_command: list[str]
) -> None:
    use_host(monkeypatch, emulator, "AppService")

    assert run(cli_command, "connect", "--identity", "--no-welcome").returncode == 0
    context = json.loads(run(cli_command, "context", "--output", "json").stdout)
    assert context["managed_identity_source"] == "AppService"


def test_unknown_identity_exits_1_with_one_line(
    identities: Identities, emulator: Any, monkeypatch: pytest.MonkeyPatch, cli_command: list[str]
) -> None:
    use_host(monkeypatch, emulator, "IMDS")
    unknown = "0badc0de-0000-4000-8000-000000000000"

    result = run(cli_command, "connect", "--identity", "--client-id", unknown)

    assert result.returncode == 1
    line = error_line(result)
    assert "Identity not found" in line
    assert f"client id {unknown} is not assigned" in line


def test_two_identity_ids_exit_2(cli_command: list[str]) -> None:
    result = run(
        cli_command,
        "connect",
        "--identity",
        "--client-id",
        "11111111-1111-1111-1111-111111111111",
        "--object-id",
        "22222222-2222-2222-2222-222222222222",
    )

    assert result.returncode == 2
    error_line(result)


def test_empty_client_id_exits_2_instead_of_using_the_system_identity(
    identities: Identities, emulator: Any, monkeypatch: pytest.MonkeyPatch, cli_command: list[str]
) -> None:
    use_host(monkeypatch, emulator, "IMDS")

    result = run(cli_command, "connect", "--identity", "--client-id", "")

    assert result.returncode == 2
    assert "--client-id is empty" in error_line(result)
    assert identity_requests(emulator, "IMDS") == []


def test_off_azure_refused_port_exits_1_fast(cli_command: list[str]) -> None:
    endpoint = os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"]  # a closed loopback port

    started = time.monotonic()
    result = run(cli_command, "connect", "--identity")
    elapsed = time.monotonic() - started

    assert result.returncode == 1
    line = error_line(result)
    assert f"no managed identity endpoint answered at {endpoint}/metadata/" in line
    assert "probably not an Azure VM" in line
    assert elapsed < 4  # 3 s budget plus interpreter start-up, loosely


def test_off_azure_silent_listener_exits_1_within_10_seconds(
    monkeypatch: pytest.MonkeyPatch, cli_command: list[str]
) -> None:
    with silent_listener(accept=False) as url:
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", url)
        started = time.monotonic()
        result = run(cli_command, "connect", "--identity")
        elapsed = time.monotonic() - started

    assert result.returncode == 1
    assert "no answer within" in error_line(result)
    assert elapsed < 11  # 10 s budget plus interpreter start-up, loosely


def test_arc_key_file_outside_the_agent_folder_exits_1_naming_the_file(
    identities: Identities, emulator: Any, monkeypatch: pytest.MonkeyPatch, cli_command: list[str]
) -> None:
    """An unpatched CLI process: msal looks for the key in the real agent's folder
    (/var/opt/azcmagent/tokens), where the emulator's challenge file is not."""
    use_host(monkeypatch, emulator, "AzureArc")  # the in-process patch does not reach the child

    result = run(cli_command, "connect", "--identity")

    assert result.returncode == 1
    line = error_line(result)
    assert line.startswith(
        "entra-auth: error: cannot read the Azure Arc challenge file /var/opt/azcmagent/tokens/"
    )
    assert "no such file here" in line
    assert [r["status"] for r in identity_requests(emulator, "AzureArc")] == [401]


# The child process, with the one thing an Arc machine has and this one lacks: the agent's key
# folder at the emulator's. Everything else is the real console entry point.
_ARC_CHILD = (
    "import sys, msal.managed_identity as m; "
    "m._supported_arc_platforms_and_their_prefixes[sys.platform] = sys.argv.pop(1); "
    "from entra_auth_cli.app import main; sys.argv[0] = 'entra-auth'; main()"
)


@pytest.mark.parametrize(
    ("flags", "account"),
    [((), "SystemAssigned"), (("--resource-id", "{user_resource_id}"), "{user_resource_id}")],
    ids=["system", "resource-id"],
)
def test_connect_identity_on_arc_in_a_cli_process(
    flags: tuple[str, ...],
    account: str,
    identities: Identities,
    emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_host(monkeypatch, emulator, "AzureArc")
    values = vars(identities)
    flags = tuple(flag.format(**values) for flag in flags)
    child = [sys.executable, "-c", _ARC_CHILD, str(emulator.azure_hosts.arc_token_dir)]

    connected = run(child, "connect", "--identity", "--no-welcome", *flags)
    assert connected.returncode == 0, connected.stderr

    context = json.loads(run(child, "context", "--output", "json").stdout)
    assert context["managed_identity_source"] == "AzureArc"
    assert context["account"] == account.format(**values)
    assert [r["status"] for r in identity_requests(emulator, "AzureArc")] == [401, 200]


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"AZURE_POD_IDENTITY_AUTHORITY_HOST": ""}, "AZURE_POD_IDENTITY_AUTHORITY_HOST=''"),
        (
            {
                "IDENTITY_ENDPOINT": "http://x",
                "IDENTITY_HEADER": "h",
                "IDENTITY_SERVER_THUMBPRINT": "t",
            },
            "is not an https:// URL",
        ),
    ],
    ids=["empty-pod-host", "service-fabric-over-http"],
)
def test_unusable_host_variables_exit_2_before_any_request(
    variables: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch, cli_command: list[str]
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    result = run(cli_command, "connect", "--identity")

    assert result.returncode == 2
    assert named in error_line(result)


def test_demo_on_an_arc_machine_never_asks_the_agent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the agent installed, msal would ask localhost:40342 however IMDS is pointed; the demo
    must then use the emulator's App Service endpoint, whose variables outrank the agent."""
    import msal.managed_identity

    from entra_auth_cli.demo import demo
    from entra_auth_managed_identity import hosts

    monkeypatch.setattr(hosts, "arc_agent", lambda: "/opt/azcmagent/bin/himds")
    # msal's view of the same machine, as a loopback port nothing listens on.
    monkeypatch.setattr(
        msal.managed_identity,
        "_get_arc_endpoint",
        lambda: os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] + "/agent",
    )

    demo()

    out = capsys.readouterr().out
    managed = out[out.index("== managed-identity") :]
    assert managed.count("ManagedIdentitySource : AppService") == 2
    assert "IMDS\n" not in managed.replace("(IMDS)\n", "")
    assert "Refused, as it should be (exit code 1)" in managed
    assert "AppService identity endpoint" in managed


def test_a_cached_token_is_never_served_for_another_identity_endpoint(
    cli_command: list[str], identities: Identities, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CurrentUser cache partition includes the endpoint kind and address: after the host
    changes (IMDS -> App Service) the next token comes from the new endpoint."""
    use_host(monkeypatch, emulator, "IMDS")
    connected = run(cli_command, "connect", "--identity", "--context-scope", "CurrentUser")
    assert connected.returncode == 0, connected.stderr
    again = run(cli_command, "token")
    assert again.returncode == 0 and len(identity_requests(emulator, "IMDS")) == 1
    use_host(monkeypatch, emulator, "AppService")
    moved = run(cli_command, "token")
    assert moved.returncode == 0, moved.stderr
    assert len(identity_requests(emulator, "AppService")) == 1
    assert len(identity_requests(emulator, "IMDS")) == 1
