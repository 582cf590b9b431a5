"""``entra-auth request`` as a real subprocess against the emulator's Graph over HTTPS, and the
Python API behind it (``entra_auth.graph.GraphClient``)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import SECRET_VARIABLE, Run, connect_args


@pytest.fixture
def graph_app(emulator: Any, secret_in_env: Any) -> Any:
    """The session app, allowed to create groups too."""
    emulator.register_app(
        tenant_id=secret_in_env.tenant_id,
        client_id=secret_in_env.client_id,
        display_name=secret_in_env.display_name,
        roles=["Group.ReadWrite.All", "User.Read.All"],
        secrets=[secret_in_env.secret],
    )
    return secret_in_env


@pytest.fixture
def connected(run_cli: Run, emulator: Any, secret_in_env: Any) -> Any:
    """Connected through an environment whose Graph endpoint is the emulator's."""
    added = run_cli(
        "environment", "add", "Emulator",
        "--authority-host", emulator.authority_host,
        "--graph-endpoint", emulator.graph_endpoint,
        "--ca-bundle", emulator.ca_bundle,
    )  # fmt: skip
    assert added.code == 0, added.output
    result = run_cli(*connect_args(secret_in_env, "--environment", "Emulator", "--no-welcome"))
    assert result.code == 0, result.output
    return secret_in_env


def graph_requests(emulator: Any, path: str) -> list[dict[str, Any]]:
    return [e for e in emulator.requests() if e.get("endpoint") == "graph" and e["path"] == path]


def test_relative_url_goes_to_the_environments_graph(
    run_cli: Run, emulator: Any, connected: Any
) -> None:
    result = run_cli("request", "/v1.0/groups")
    assert result.code == 0, result.output
    body = result.json()
    assert [g["displayName"] for g in body["value"]] == [
        "All Company", "Finance", "Automation Admins"
    ]  # fmt: skip
    entry = graph_requests(emulator, "/v1.0/groups")[-1]
    assert (entry["method"], entry["status"], entry["tenant"]) == ("GET", 200, connected.tenant_id)
    # The method may be given, in any case.
    again = run_cli("request", "get", "/v1.0/users", "--output", "json")
    assert again.code == 0, again.output
    assert len(again.json()["value"]) == 3


def test_all_pages_follows_next_link(run_cli: Run, emulator: Any, connected: Any) -> None:
    one = run_cli("request", "/v1.0/groups?$top=1")
    assert one.code == 0, one.output
    assert len(one.json()["value"]) == 1
    assert (
        "$skiptoken" in one.json()["@odata.nextLink"]
        or "%24skiptoken" in (one.json()["@odata.nextLink"])
    )
    before = len(graph_requests(emulator, "/v1.0/groups"))
    every = run_cli("request", "/v1.0/groups?$top=1&$select=displayName", "--all-pages")
    assert every.code == 0, every.output
    body = every.json()
    assert "@odata.nextLink" not in body
    assert body["value"] == [
        {"displayName": "All Company"}, {"displayName": "Finance"},
        {"displayName": "Automation Admins"},
    ]  # fmt: skip
    assert len(graph_requests(emulator, "/v1.0/groups")) - before == 3


def test_table_output_looks_like_get_mggroup(run_cli: Run, connected: Any) -> None:
    result = run_cli("request", "/v1.0/groups", "--output", "table")
    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["DisplayName", "Id"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].startswith("All Company ")
    assert len(lines) == 5
    single = run_cli("request", "/v1.0/organization", "--output", "table")
    assert single.code == 1  # the session app may not read the organization
    raw = run_cli("request", "/v1.0/users?$top=1", "--output", "raw")
    assert raw.code == 0, raw.output
    assert json.loads(raw.stdout)["value"][0]["displayName"] == "Adele Vance"
    assert "\n  " not in raw.stdout.strip()  # as Graph sent it, not re-indented


def test_post_with_body_from_a_file(
    run_cli: Run, emulator: Any, graph_app: Any, connected: Any, tmp_path: Path
) -> None:
    body = tmp_path / "group.json"
    body.write_text(
        json.dumps(
            {
                "displayName": "Automation Operators",
                "mailNickname": "automation-operators",
                "mailEnabled": False,
                "securityEnabled": True,
            }
        )
    )
    created = run_cli("request", "POST", "/v1.0/groups", "--body", f"@{body}")
    assert created.code == 0, created.output
    group = created.json()
    assert group["displayName"] == "Automation Operators"
    shown = run_cli("request", f"/v1.0/groups/{group['id']}", "--output", "table")
    assert shown.code == 0, shown.output
    assert "DisplayName" in shown.stdout and "Automation Operators" in shown.stdout
    inline = run_cli(
        "request", "POST", "/v1.0/groups",
        "--body", '{"displayName": "x", "mailEnabled": false, "securityEnabled": true}',
        "--header", "client-request-id:my-trace-1",
    )  # fmt: skip
    assert inline.code == 1
    line = inline.error_line()
    assert "HTTP 400 Request_BadRequest" in line
    assert "A value is required for property 'mailNickname'" in line


def test_graph_refusal_is_one_line_with_code_and_message_exit_1(
    run_cli: Run, connected: Any
) -> None:
    result = run_cli(
        "request", "POST", "/v1.0/groups",
        "--body", '{"displayName": "x", "mailNickname": "x", "mailEnabled": false, '
        '"securityEnabled": true}',
    )  # fmt: skip
    assert result.code == 1
    line = result.error_line()
    assert "POST /v1.0/groups: HTTP 403 Authorization_RequestDenied: Insufficient privileges" in (
        line
    )
    assert "request-id" in line
    assert result.stdout == ""


def test_throttling_honours_retry_after(run_cli: Run, emulator: Any, connected: Any) -> None:
    emulator.add_fault("graph", path="/v1.0/users", status=429, retry_after=1)
    started = time.monotonic()
    result = run_cli("request", "/v1.0/users")
    assert result.code == 0, result.output
    assert time.monotonic() - started >= 1.0
    statuses = [e["status"] for e in graph_requests(emulator, "/v1.0/users")[-2:]]
    assert statuses == [429, 200]


def test_a_retry_after_past_the_bound_fails_at_once(
    run_cli: Run, emulator: Any, connected: Any
) -> None:
    emulator.add_fault("graph", path="/v1.0/users", status=503, retry_after=3600)
    started = time.monotonic()
    result = run_cli("request", "/v1.0/users")
    assert time.monotonic() - started < 20
    assert result.code == 1
    line = result.error_line()
    assert "HTTP 503 ServiceUnavailable" in line
    assert "3600 s" in line


def test_absolute_url_gets_a_token_for_its_own_host(
    run_cli: Run, emulator: Any, secret_in_env: Any
) -> None:
    # Connected to the Global environment (authority from AZURE_AUTHORITY_HOST): the emulator's
    # Graph is another host, so the token is asked for <its origin>/.default.
    result = run_cli(*connect_args(secret_in_env, "--no-welcome"))
    assert result.code == 0, result.output
    url = f"{emulator.graph_endpoint}/v1.0/users?$top=2"
    answer = run_cli("request", url)
    assert answer.code == 0, answer.output
    assert len(answer.json()["value"]) == 2


def test_next_link_to_another_host_is_not_followed(
    run_cli: Run, emulator: Any, secret_in_env: Any
) -> None:
    # localhost and 127.0.0.1 are the same emulator but not the same host: its nextLinks name
    # 127.0.0.1, so a request to localhost must not send the token there.
    result = run_cli(*connect_args(secret_in_env, "--no-welcome"))
    assert result.code == 0, result.output
    localhost = emulator.graph_endpoint.replace("127.0.0.1", "localhost")
    before = len(graph_requests(emulator, "/v1.0/groups"))
    answer = run_cli("request", f"{localhost}/v1.0/groups?$top=1", "--all-pages")
    assert answer.code == 1
    assert "refusing to follow @odata.nextLink to another host" in answer.error_line()
    assert len(graph_requests(emulator, "/v1.0/groups")) - before == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("http://127.0.0.1:1/v1.0/groups",), "only https:// URLs get a token"),
        (("https://user:pw@graph.microsoft.com/v1.0/groups",), "user name or password"),
        (("FETCH", "/v1.0/groups"), "not an HTTP method"),
        (("POST", "/v1.0/groups", "--body", "{not json"), "--body is not JSON"),
        (("/v1.0/groups", "--header", "no-colon"), "is not NAME:VALUE"),
        (("/v1.0/groups", "--header", "Authorization:Bearer x"), "set by entra-auth"),
        (("POST", "/v1.0/groups", "--body", "@/nonexistent/body.json"), "/nonexistent/body.json"),
        (("a", "b", "c"), "give [METHOD] URL"),
    ],
)
def test_bad_input_exits_2_before_any_request(
    run_cli: Run, emulator: Any, connected: Any, args: tuple[str, ...], message: str
) -> None:
    before = len(emulator.requests())
    result = run_cli("request", *args)
    assert result.code == 2, result.output
    assert message in result.error_line()
    assert "pw@" not in result.stderr
    assert len(emulator.requests()) == before


def test_without_a_connection_exit_2(run_cli: Run, emulator_env: Any) -> None:
    result = run_cli("request", "/v1.0/groups")
    assert result.code == 2
    assert "connect" in result.error_line()


def test_profile_and_timeout_options(run_cli: Run, emulator: Any, graph_app: Any) -> None:
    for args in (
        ("environment", "add", "Emulator", "--authority-host", emulator.authority_host,
         "--graph-endpoint", emulator.graph_endpoint, "--ca-bundle", emulator.ca_bundle),
        ("profile", "add", "graph", "--client-id", graph_app.client_id, "--tenant-id",
         graph_app.tenant_id, "--client-secret", f"env:{SECRET_VARIABLE}",
         "--environment", "Emulator"),
    ):  # fmt: skip
        done = run_cli(*args)
        assert done.code == 0, done.output
    result = run_cli("request", "/v1.0/users?$top=1", "--profile", "graph")
    assert result.code == 0, result.output
    assert result.json()["value"][0]["displayName"] == "Adele Vance"
    emulator.add_fault("graph", path="/v1.0/users", delay=4)
    slow = run_cli("request", "/v1.0/users", "--profile", "graph", "--timeout", "1")
    assert slow.code == 1
    assert "gave up after 1 s" in slow.error_line()


# -- the Python API ---------------------------------------------------------------------------


def test_python_api_pages_creates_and_raises_graph_errors(
    emulator: Any, emulator_env: Any, graph_app: Any
) -> None:
    import entra_auth
    from entra_auth import Environment
    from entra_auth.graph import GraphClient, GraphError

    environment = Environment(
        "Emulator", emulator.authority_host, emulator.graph_endpoint, emulator.ca_bundle
    )
    credential = entra_auth.connect(
        "client-secret",
        options={
            "client_id": graph_app.client_id,
            "tenant_id": graph_app.tenant_id,
            "client_secret": f"env:{SECRET_VARIABLE}",
        },
        environment=environment,
    )
    with GraphClient(credential, environment=environment) as graph:
        everything = graph.get("/v1.0/groups?$top=2", all_pages=True)
        assert everything.pages == 2
        assert len(everything.json["value"]) == 3
        pages = list(graph.pages("/v1.0/users?$top=2"))
        assert [len(p["value"]) for p in pages] == [2, 1]
        nickname = f"ops-{uuid.uuid4().hex[:8]}"
        created = graph.post(
            "/v1.0/groups",
            body={
                "displayName": "Ops",
                "mailNickname": nickname,
                "mailEnabled": False,
                "securityEnabled": True,
            },
        )
        assert created.status == 201
        assert created.json["mailNickname"] == nickname
        with pytest.raises(GraphError) as refused:
            graph.get("/v1.0/organization")
        assert refused.value.status == 403
        assert refused.value.code == "Authorization_RequestDenied"
        assert refused.value.exit_code == 1
        with pytest.raises(entra_auth.UsageError):
            graph.get("http://example.com/v1.0/groups")
