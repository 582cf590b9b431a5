"""Unmodified msal ManagedIdentityClient through IMDS and the App Service endpoint:
system-assigned and user-assigned by client id, object id and resource id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import msal
import pytest
import requests
from emulator_helpers import GRAPH, TENANT

from entra_auth_emulator import Emulator

MI_TENANT = "0d3c2b1a-0000-4000-8000-00000000a11c"


def plain_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy for loopback
    return session


@pytest.fixture
def identities(emu: Emulator) -> dict[str, msal.ManagedIdentity]:
    """A system-assigned and a user-assigned identity (fresh ids per test)."""
    suffix = uuid.uuid4().hex[:8]
    system = emu.register_managed_identity(
        MI_TENANT, display_name=f"vm-automation-{suffix}", roles=["User.Read.All"]
    )
    user = emu.register_managed_identity(
        MI_TENANT,
        str(uuid.uuid4()),
        object_id=str(uuid.uuid4()),
        resource_id=(
            f"/subscriptions/{uuid.uuid4()}/resourceGroups/rg/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/uami-{suffix}"
        ),
        display_name=f"uami-{suffix}",
        roles=["Group.Read.All"],
    )
    return {"system": system, "user": user}  # type: ignore[dict-item]


@pytest.fixture(params=["imds", "appservice"])
def via(request: pytest.FixtureRequest, emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point msal at one of the two endpoints through the environment, as on Azure."""
    for name in (
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "IDENTITY_SERVER_THUMBPRINT",
        "IMDS_ENDPOINT",
        "MSI_ENDPOINT",
        "MSI_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    if request.param == "imds":
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", emu.imds_endpoint)
    else:
        monkeypatch.setenv("IDENTITY_ENDPOINT", emu.identity_endpoint)
        monkeypatch.setenv("IDENTITY_HEADER", emu.identity_header)
    return request.param


SELECTORS: dict[str, Callable[[Any], msal.ManagedIdentity]] = {
    "system": lambda mi: msal.SystemAssignedManagedIdentity(),
    "client_id": lambda mi: msal.UserAssignedManagedIdentity(client_id=mi.client_id),
    "object_id": lambda mi: msal.UserAssignedManagedIdentity(object_id=mi.object_id),
    "resource_id": lambda mi: msal.UserAssignedManagedIdentity(resource_id=mi.resource_id),
}


@pytest.mark.parametrize("selector", list(SELECTORS))
def test_msal_managed_identity(emu: Emulator, identities, via: str, selector: str) -> None:
    expected = identities["system" if selector == "system" else "user"]
    client = msal.ManagedIdentityClient(SELECTORS[selector](expected), http_client=plain_session())
    result = client.acquire_token_for_client(resource=GRAPH)
    assert "access_token" in result, result
    assert 3500 < result["expires_in"] <= 3599
    claims = emu.verify_token(result["access_token"])
    assert claims["aud"] == GRAPH
    assert claims["appid"] == expected.client_id
    assert claims["oid"] == expected.object_id
    assert claims["tid"] == MI_TENANT
    assert claims["idtyp"] == "app"
    assert claims["roles"] == list(expected.roles)
    assert claims["app_displayname"] == expected.display_name
    (entry,) = [r for r in emu.requests() if r["endpoint"] == via]
    assert entry["status"] == 200 and entry["client_id"] == expected.client_id


def test_imds_response_shape(emu: Emulator, identities) -> None:
    with plain_session() as http:
        response = http.get(
            f"{emu.imds_endpoint}/metadata/identity/oauth2/token",
            params={"api-version": "2018-02-01", "resource": GRAPH},
            headers={"Metadata": "true"},
            timeout=10,
        )
    assert response.status_code == 200
    body = response.json()
    for name in (
        "expires_in",
        "expires_on",
        "ext_expires_in",
        "not_before",
        "resource",
        "token_type",
        "client_id",
    ):
        assert isinstance(body[name], str), name
    claims = emu.verify_token(body["access_token"])
    assert int(body["expires_on"]) == claims["exp"]
    assert int(body["expires_in"]) == claims["exp"] - claims["iat"]
    assert body["resource"] == GRAPH and body["token_type"] == "Bearer"


def test_app_service_response_shape(emu: Emulator, identities) -> None:
    user = identities["user"]
    with plain_session() as http:
        response = http.get(
            emu.identity_endpoint,
            params={
                "api-version": "2019-08-01",
                "resource": "https://vault.azure.net",
                "mi_res_id": user.resource_id,
            },
            headers={"X-IDENTITY-HEADER": emu.identity_header},
            timeout=10,
        )
    assert response.status_code == 200
    body = response.json()
    assert body["client_id"] == user.client_id
    assert body["resource"] == "https://vault.azure.net" and body["token_type"] == "Bearer"
    assert isinstance(body["expires_on"], str) and isinstance(body["expires_in"], str)
    claims = emu.verify_token(body["access_token"])
    assert int(body["expires_on"]) == claims["exp"]
    assert claims["xms_mirid"] == user.resource_id


def test_imds_without_metadata_header_400(emu: Emulator, identities) -> None:
    with plain_session() as http:
        response = http.get(
            f"{emu.imds_endpoint}/metadata/identity/oauth2/token",
            params={"api-version": "2018-02-01", "resource": GRAPH},
            timeout=10,
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "metadata" in response.json()["error_description"].lower()


@pytest.mark.parametrize("header", [None, "wrong"])
def test_app_service_wrong_header_401(emu: Emulator, identities, header: str | None) -> None:
    headers = {"X-IDENTITY-HEADER": header} if header else {}
    with plain_session() as http:
        response = http.get(
            emu.identity_endpoint,
            params={"api-version": "2019-08-01", "resource": GRAPH},
            headers=headers,
            timeout=10,
        )
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401


def test_unknown_identity_400(emu: Emulator, identities, via: str) -> None:
    client = msal.ManagedIdentityClient(
        msal.UserAssignedManagedIdentity(client_id=str(uuid.uuid4())),
        http_client=plain_session(),
    )
    result = client.acquire_token_for_client(resource=GRAPH)
    assert "access_token" not in result and result["error"]
    last = emu.requests()[-1]
    assert last["endpoint"] == via and last["status"] == 400


def test_no_system_identity_registered_400(emu: Emulator) -> None:
    """After a registrations reset, the system-assigned identity (made by other tests) is gone."""
    emu.reset(registrations=True)
    emu.register_app(TENANT, str(uuid.uuid4()), secrets=["x"])
    with plain_session() as http:
        response = http.get(
            f"{emu.imds_endpoint}/metadata/identity/oauth2/token",
            params={"api-version": "2018-02-01", "resource": GRAPH},
            headers={"Metadata": "true"},
            timeout=10,
        )
    assert response.status_code == 400
    assert response.json()["error_description"] == "Identity not found"


def test_multiple_selectors_400(emu: Emulator, identities) -> None:
    user = identities["user"]
    with plain_session() as http:
        response = http.get(
            f"{emu.imds_endpoint}/metadata/identity/oauth2/token",
            params={
                "api-version": "2018-02-01",
                "resource": GRAPH,
                "client_id": user.client_id,
                "object_id": user.object_id,
            },
            headers={"Metadata": "true"},
            timeout=10,
        )
    assert response.status_code == 400


def test_missing_resource_and_api_version_400(emu: Emulator, identities) -> None:
    with plain_session() as http:
        for params in ({"api-version": "2018-02-01"}, {"resource": GRAPH}):
            response = http.get(
                f"{emu.imds_endpoint}/metadata/identity/oauth2/token",
                params=params,
                headers={"Metadata": "true"},
                timeout=10,
            )
            assert response.status_code == 400, params
