"""The emulator's small Microsoft Graph over real HTTPS: the token checks and role checks with
Graph's 401/403 shapes, paging through @odata.nextLink, $select, $filter, members, creating
groups, service principals, the config's [[graph.users]]/[[graph.groups]], faults and reset."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from emulator_helpers import GRAPH_SCOPE, session_for

from entra_auth_emulator import ConfigError, Emulator, load_config

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def app_token(
    emu: Emulator,
    http: requests.Session,
    roles: list[str],
    *,
    scope: str = GRAPH_SCOPE,
    tenant: str | None = None,
    lifetime: int | None = None,
) -> tuple[str, str, str]:
    """(token, tenant, client id) of a fresh app with ``roles``."""
    tenant = tenant or str(uuid.uuid4())
    client_id = str(uuid.uuid4())
    emu.register_app(
        tenant, client_id, roles=roles, secrets=["pw"], display_name="Graph tester",
        token_lifetime=lifetime,
    )  # fmt: skip
    answer = http.post(
        emu.token_endpoint(tenant),
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": "pw",
            "scope": scope,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"], tenant, client_id


def get(http: requests.Session, url: str, token: str | None, **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(url, headers=headers, params=params, timeout=10)


def assert_graph_error(answer: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["innerError"]["request-id"] == answer.headers["request-id"]
    return error  # type: ignore[no-any-return]


def test_ready_info_and_attribute_name_the_graph_endpoint(emu: Emulator) -> None:
    assert emu.graph_endpoint == emu.authority_host
    assert emu.ready_info()["graph_endpoint"] == emu.graph_endpoint


def test_groups_page_through_next_link_with_select(emu: Emulator, http: requests.Session) -> None:
    token, _, _ = app_token(emu, http, ["Group.Read.All"])
    url = f"{emu.graph_endpoint}/v1.0/groups"
    first = get(http, url, token, **{"$top": "2", "$select": "id,displayName"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#groups(id,displayName)")
    assert [set(g) for g in body["value"]] == [{"id", "displayName"}] * 2
    link = body["@odata.nextLink"]
    assert link.startswith(f"{emu.graph_endpoint}/v1.0/groups?")
    second = get(http, link, token).json()
    assert "@odata.nextLink" not in second
    names = [g["displayName"] for g in body["value"] + second["value"]]
    assert names == ["All Company", "Finance", "Automation Admins"]
    # The whole collection in one page has the default properties.
    everything = get(http, url, token).json()["value"]
    assert {"id", "displayName", "mailNickname", "securityEnabled"} <= set(everything[0])


def test_query_options_are_checked(emu: Emulator, http: requests.Session) -> None:
    token, _, _ = app_token(emu, http, ["Group.Read.All"])
    url = f"{emu.graph_endpoint}/v1.0/groups"
    assert_graph_error(get(http, url, token, **{"$top": "0"}), 400, "Request_BadRequest")
    assert_graph_error(get(http, url, token, **{"$select": "nope"}), 400, "Request_BadRequest")
    assert_graph_error(
        get(http, url, token, **{"$skiptoken": "garbage"}), 400, "Request_BadRequest"
    )
    bad_filter = get(http, url, token, **{"$filter": "startswith(displayName,'F')"})
    assert_graph_error(bad_filter, 400, "Request_UnsupportedQuery")
    finance = get(http, url, token, **{"$filter": "displayName eq 'finance'"}).json()["value"]
    assert [g["displayName"] for g in finance] == ["Finance"]


def test_members_and_users(emu: Emulator, http: requests.Session) -> None:
    token, _, _ = app_token(emu, http, ["Group.Read.All", "User.Read.All"])
    groups = get(http, f"{emu.graph_endpoint}/v1.0/groups", token).json()["value"]
    finance = next(g for g in groups if g["displayName"] == "Finance")
    members = get(http, f"{emu.graph_endpoint}/v1.0/groups/{finance['id']}/members", token)
    assert members.status_code == 200, members.text
    assert [m["displayName"] for m in members.json()["value"]] == ["Adele Vance", "Megan Bowen"]
    assert {m["@odata.type"] for m in members.json()["value"]} == {"#microsoft.graph.user"}
    users = get(http, f"{emu.graph_endpoint}/v1.0/users", token).json()["value"]
    assert len(users) == 3
    upn = users[0]["userPrincipalName"]
    one = get(http, f"{emu.graph_endpoint}/v1.0/users/{upn}", token)
    assert one.json()["id"] == users[0]["id"]
    missing = get(http, f"{emu.graph_endpoint}/v1.0/groups/{uuid.uuid4()}", token)
    assert_graph_error(missing, 404, "Request_ResourceNotFound")
    unknown = get(http, f"{emu.graph_endpoint}/v1.0/widgets", token)
    assert_graph_error(unknown, 400, "BadRequest")


def test_token_checks_answer_401_in_graphs_shape(emu: Emulator, http: requests.Session) -> None:
    url = f"{emu.graph_endpoint}/v1.0/groups"
    empty = get(http, url, None)
    assert_graph_error(empty, 401, "InvalidAuthenticationToken")
    assert empty.json()["error"]["message"] == "Access token is empty."
    assert 'client_id="00000003-0000-0000-c000-000000000000"' in empty.headers["WWW-Authenticate"]
    # A token for another resource (ARM) is not a Graph token.
    arm, _, _ = app_token(
        emu, http, ["Group.Read.All"], scope="https://management.azure.com/.default"
    )
    wrong_aud = assert_graph_error(get(http, url, arm), 401, "InvalidAuthenticationToken")
    assert "Invalid audience" in wrong_aud["message"]
    # A token changed after signing.
    good, _, _ = app_token(emu, http, ["Group.Read.All"])
    header, payload, signature = good.split(".")
    claims = json.loads(_b64decode(payload))
    claims["roles"] = ["Directory.ReadWrite.All"]
    forged = f"{header}.{_b64encode(json.dumps(claims).encode())}.{signature}"
    tampered = assert_graph_error(get(http, url, forged), 401, "InvalidAuthenticationToken")
    assert "signature" in tampered["message"]
    # An expired token.
    short, _, _ = app_token(emu, http, ["Group.Read.All"], lifetime=1)
    time.sleep(1.2)
    expired = assert_graph_error(get(http, url, short), 401, "InvalidAuthenticationToken")
    assert "expired" in expired["message"]


def test_tokens_for_the_emulators_own_graph_endpoint_are_graph_tokens(
    emu: Emulator, http: requests.Session
) -> None:
    token, _, _ = app_token(emu, http, ["Group.Read.All"], scope=f"{emu.graph_endpoint}/.default")
    assert emu.verify_token(token)["aud"] == emu.graph_endpoint
    assert get(http, f"{emu.graph_endpoint}/v1.0/groups", token).status_code == 200


def test_roles_decide_with_403(emu: Emulator, http: requests.Session) -> None:
    users_only, _, _ = app_token(emu, http, ["User.Read.All"])
    denied = get(http, f"{emu.graph_endpoint}/v1.0/groups", users_only)
    error = assert_graph_error(denied, 403, "Authorization_RequestDenied")
    assert error["message"] == "Insufficient privileges to complete the operation."
    assert get(http, f"{emu.graph_endpoint}/v1.0/users", users_only).status_code == 200
    reader, _, _ = app_token(emu, http, ["Group.Read.All"])
    create = http.post(
        f"{emu.graph_endpoint}/v1.0/groups",
        headers={"Authorization": f"Bearer {reader}"},
        json={
            "displayName": "Nope",
            "mailNickname": "nope",
            "mailEnabled": False,
            "securityEnabled": True,
        },
        timeout=10,
    )
    assert_graph_error(create, 403, "Authorization_RequestDenied")
    org = get(http, f"{emu.graph_endpoint}/v1.0/organization", reader)
    assert_graph_error(org, 403, "Authorization_RequestDenied")
    entry = emu.requests()[-1]
    assert (entry["endpoint"], entry["status"]) == ("graph", 403)


def test_create_group_then_read_it_and_reset_forgets_it(
    emu: Emulator, http: requests.Session
) -> None:
    token, _, _ = app_token(emu, http, ["Group.ReadWrite.All", "User.Read.All"])
    auth = {"Authorization": f"Bearer {token}"}
    users = get(http, f"{emu.graph_endpoint}/v1.0/users", token).json()["value"]
    created = http.post(
        f"{emu.graph_endpoint}/v1.0/groups",
        headers=auth,
        json={
            "displayName": "Automation Operators",
            "mailNickname": "automation-operators",
            "mailEnabled": False,
            "securityEnabled": True,
            "members@odata.bind": [
                f"https://graph.microsoft.com/v1.0/directoryObjects/{users[1]['id']}"
            ],
        },
        timeout=10,
    )
    assert created.status_code == 201, created.text
    group = created.json()
    assert group["@odata.context"].endswith("/v1.0/$metadata#groups/$entity")
    assert group["displayName"] == "Automation Operators"
    assert created.headers["Location"].endswith(f"/v1.0/groups/{group['id']}")
    listed = get(http, f"{emu.graph_endpoint}/v1.0/groups", token).json()["value"]
    assert group["id"] in [g["id"] for g in listed]
    members = get(http, f"{emu.graph_endpoint}/v1.0/groups/{group['id']}/members", token)
    assert [m["id"] for m in members.json()["value"]] == [users[1]["id"]]
    for body, message in (
        ({"displayName": "x", "mailEnabled": False, "securityEnabled": True}, "mailNickname"),
        ({"displayName": "x", "mailNickname": "x", "mailEnabled": True, "securityEnabled": True},
         "mail-enabled"),
        ({"displayName": "x", "mailNickname": "x", "mailEnabled": False, "securityEnabled": True,
          "colour": "red"}, "colour"),
    ):  # fmt: skip
        refused = http.post(
            f"{emu.graph_endpoint}/v1.0/groups", headers=auth, json=body, timeout=10
        )
        assert refused.status_code == 400, refused.text
        assert message in refused.json()["error"]["message"]
    not_json = http.post(
        f"{emu.graph_endpoint}/v1.0/groups", headers=auth, data=b"{oops", timeout=10
    )
    assert_graph_error(not_json, 400, "BadRequest")
    emu.reset()
    after = get(http, f"{emu.graph_endpoint}/v1.0/groups", token).json()["value"]
    assert group["id"] not in [g["id"] for g in after]
    assert len(after) == 3


def test_service_principals_filter_by_app_id(emu: Emulator, http: requests.Session) -> None:
    token, _, client_id = app_token(emu, http, ["Application.Read.All"])
    url = f"{emu.graph_endpoint}/v1.0/servicePrincipals"
    mine = get(http, url, token, **{"$filter": f"appId eq '{client_id}'"}).json()["value"]
    assert [(sp["appId"], sp["displayName"]) for sp in mine] == [(client_id, "Graph tester")]
    graph = get(http, url, token, **{"$filter": f"appId eq '{GRAPH_APP_ID}'"}).json()["value"]
    roles = {role["value"]: role["id"] for role in graph[0]["appRoles"]}
    assert roles["Group.Read.All"] == "5b567255-7703-4780-807c-7be8301ae99b"
    # Other tenants' apps are not listed.
    _, _, other_client = app_token(emu, http, ["Application.Read.All"])
    assert get(http, url, token, **{"$filter": f"appId eq '{other_client}'"}).json()["value"] == []


def test_organization_names_the_tenant(emu: Emulator, http: requests.Session) -> None:
    tenant = str(uuid.uuid4())
    emu.register_tenant(tenant, domains=["fabrikam.onmicrosoft.com"], display_name="Fabrikam")
    token, _, _ = app_token(emu, http, ["Organization.Read.All"], tenant=tenant)
    org = get(http, f"{emu.graph_endpoint}/v1.0/organization", token).json()["value"][0]
    assert (org["id"], org["displayName"]) == (tenant, "Fabrikam")
    assert org["verifiedDomains"][0]["name"] == "fabrikam.onmicrosoft.com"


def test_injected_faults_answer_in_graphs_shape(emu: Emulator, http: requests.Session) -> None:
    token, _, _ = app_token(emu, http, ["Group.Read.All"])
    emu.add_fault("graph", status=429, retry_after=3)
    throttled = get(http, f"{emu.graph_endpoint}/v1.0/groups", token)
    assert_graph_error(throttled, 429, "TooManyRequests")
    assert throttled.headers["Retry-After"] == "3"
    assert get(http, f"{emu.graph_endpoint}/v1.0/groups", token).status_code == 200


def test_graph_data_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "emulator.toml"
    tenant, client_id = str(uuid.uuid4()), str(uuid.uuid4())
    config.write_text(
        f"""
[[apps]]
tenant_id = "{tenant}"
client_id = "{client_id}"
roles = ["Group.Read.All", "User.Read.All"]
secrets = ["pw"]

[[graph.users]]
display_name = "Pradeep Gupta"
user_principal_name = "PradeepG@contoso.onmicrosoft.com"

[[graph.groups]]
tenant_id = "{tenant}"
display_name = "Sales"
members = ["PradeepG@contoso.onmicrosoft.com"]
"""
    )
    with Emulator(config, state_dir=tmp_path / "state") as emu, session_for(emu) as http:
        answer = http.post(
            emu.token_endpoint(tenant),
            data={"grant_type": "client_credentials", "client_id": client_id,
                  "client_secret": "pw", "scope": GRAPH_SCOPE},
            timeout=10,
        )  # fmt: skip
        token = answer.json()["access_token"]
        groups = get(http, f"{emu.graph_endpoint}/v1.0/groups", token).json()["value"]
        assert [g["displayName"] for g in groups] == ["Sales"]
        members = get(http, f"{emu.graph_endpoint}/v1.0/groups/{groups[0]['id']}/members", token)
        assert [m["displayName"] for m in members.json()["value"]] == ["Pradeep Gupta"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[graph.groups]]\ndisplay_name = "Sales"\nmembers = ["nobody@x.example"]\n')
    with pytest.raises(ConfigError, match=r"nobody@x\.example"):
        load_config(bad)
    bad.write_text('[[graph.users]]\ndisplay_name = "A"\nuser_principal_name = "a@x"\ncolor = 1\n')
    with pytest.raises(ConfigError, match="unknown key 'color'"):
        load_config(bad)


def _b64decode(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).decode().rstrip("=")
