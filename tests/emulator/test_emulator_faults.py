"""Injected faults through POST /_emulator/faults and Emulator.add_fault: status with
Retry-After, delay, dropped connections, counts; and the reset endpoint."""

from __future__ import annotations

import time

import msal
import pytest
import requests
from emulator_helpers import GRAPH, GRAPH_SCOPE, TENANT, cca, new_client_id, session_for

from entra_auth_emulator import Emulator


@pytest.fixture
def secret_client(emu: Emulator) -> str:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    return client_id


def token_form(client_id: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": "pw",
        "scope": GRAPH_SCOPE,
    }


def test_status_with_retry_after_for_count_requests(emu, http, secret_client) -> None:
    response = http.post(
        f"{emu.authority_host}/_emulator/faults",
        json={"endpoint": "token", "status": 503, "retry_after": 7, "count": 2},
        timeout=10,
    )
    assert response.status_code == 201
    assert response.json()["count"] == 2
    statuses = []
    for _ in range(3):
        answer = http.post(emu.token_endpoint(TENANT), data=token_form(secret_client), timeout=10)
        statuses.append(answer.status_code)
        if answer.status_code == 503:
            assert answer.headers["Retry-After"] == "7"
            assert answer.json()["error"] == "temporarily_unavailable"
            assert answer.json()["error_codes"]
    assert statuses == [503, 503, 200]
    log = emu.requests()
    assert [e.get("fault") is not None for e in log] == [True, True, False]


def test_msal_sees_the_fault_status(emu: Emulator, secret_client: str) -> None:
    emu.add_fault("token", status=429, retry_after=1)
    app = cca(emu, secret_client, "pw")
    result = app.acquire_token_for_client([GRAPH_SCOPE])
    assert "access_token" not in result
    assert result.get("error") == "temporarily_unavailable"
    time.sleep(1.1)  # msal throttles the same request until Retry-After has passed
    assert "access_token" in app.acquire_token_for_client([GRAPH_SCOPE])


def test_delay(emu: Emulator, http, secret_client: str) -> None:
    emu.add_fault("token", delay=0.4)
    started = time.monotonic()
    answer = http.post(emu.token_endpoint(TENANT), data=token_form(secret_client), timeout=10)
    assert answer.status_code == 200  # a delay alone still answers normally
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    http.post(emu.token_endpoint(TENANT), data=token_form(secret_client), timeout=10)
    assert time.monotonic() - started < 0.3


def test_delay_makes_client_timeout(emu: Emulator, http, secret_client: str) -> None:
    emu.add_fault("token", delay=1.0, status=500)
    with pytest.raises(requests.Timeout):
        http.post(emu.token_endpoint(TENANT), data=token_form(secret_client), timeout=0.3)
    # The emulator still answers (and logs) once the delay is over: wait for it, or the entry
    # lands in a later test's request log.
    deadline = time.monotonic() + 10
    while not emu.requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r["status"] for r in emu.requests()] == [500]


def test_drop_connection(emu: Emulator, secret_client: str) -> None:
    emu.add_fault("token", drop=True)
    with session_for(emu) as http, pytest.raises(requests.ConnectionError):
        http.post(emu.token_endpoint(TENANT), data=token_form(secret_client), timeout=10)
    with session_for(emu) as http:
        ok = http.post(emu.token_endpoint(TENANT), data=token_form(secret_client), timeout=10)
    assert ok.status_code == 200
    assert emu.requests()[0]["dropped"] is True


def test_discovery_fault_and_path_glob(emu: Emulator, http, secret_client: str) -> None:
    emu.add_fault(path=f"/{TENANT}/*/.well-known/*", status=500)
    with pytest.raises(msal.exceptions.MsalServiceError, match="500"):
        cca(emu, secret_client, "pw")  # msal raises on a 5xx during discovery
    assert "access_token" in cca(emu, secret_client, "pw").acquire_token_for_client([GRAPH_SCOPE])


def test_identity_endpoint_faults(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu.register_managed_identity(TENANT)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", emu.imds_endpoint)
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    emu.add_fault("imds", status=503, retry_after=0)
    http = requests.Session()
    http.trust_env = False
    client = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=http)
    failed = client.acquire_token_for_client(resource=GRAPH)
    assert "access_token" not in failed
    with requests.Session() as raw:
        raw.trust_env = False
        emu.add_fault("appservice", status=500)
        answer = raw.get(
            emu.identity_endpoint,
            params={"api-version": "2019-08-01", "resource": GRAPH},
            headers={"X-IDENTITY-HEADER": emu.identity_header},
            timeout=10,
        )
        assert answer.status_code == 500 and answer.json()["statusCode"] == 500


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"endpoint": "token"},
        {"endpoint": "nope", "status": 500},
        {"path": "no-slash", "status": 500},
        {"endpoint": "token", "status": 99},
        {"endpoint": "token", "status": 500, "drop": True},
        {"endpoint": "token", "status": 500, "colour": "red"},
        {"endpoint": "token", "delay": -1},
        {"endpoint": "token", "drop": "yes"},
        {"endpoint": "token", "status": 500, "count": 0},
        ["not", "an", "object"],
    ],
)
def test_bad_fault_specs_400(emu: Emulator, http, spec) -> None:
    response = http.post(f"{emu.authority_host}/_emulator/faults", json=spec, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    with pytest.raises(ValueError):
        emu.service.faults.add(spec)


def test_fault_body_not_json(emu: Emulator, http) -> None:
    response = http.post(f"{emu.authority_host}/_emulator/faults", data=b"{nope", timeout=10)
    assert response.status_code == 400


def test_list_clear_and_reset(emu: Emulator, http, secret_client: str) -> None:
    base = f"{emu.authority_host}/_emulator"
    http.post(f"{base}/faults", json={"endpoint": "jwks", "status": 500}, timeout=10)
    assert [f["endpoint"] for f in http.get(f"{base}/faults", timeout=10).json()] == ["jwks"]
    http.post(emu.token_endpoint(TENANT), data=token_form(secret_client), timeout=10)
    assert len(http.get(f"{base}/requests", timeout=10).json()) == 1
    assert http.post(f"{base}/reset", timeout=10).json() == {"reset": True}
    assert http.get(f"{base}/faults", timeout=10).json() == []
    assert http.get(f"{base}/requests", timeout=10).json() == []
    # Registrations survive a plain reset, and go with {"registrations": true}.
    assert (
        http.post(
            emu.token_endpoint(TENANT), data=token_form(secret_client), timeout=10
        ).status_code
        == 200
    )
    http.post(f"{base}/reset", json={"registrations": True}, timeout=10)
    answer = http.post(emu.token_endpoint(TENANT), data=token_form(secret_client), timeout=10)
    assert answer.status_code == 400  # the tenant is gone with the app


def test_test_endpoints_on_identity_listener(emu: Emulator) -> None:
    with requests.Session() as raw:
        raw.trust_env = False
        assert raw.get(f"{emu.imds_endpoint}/_emulator/requests", timeout=10).status_code == 200
        assert raw.get(f"{emu.imds_endpoint}/_emulator/nothing", timeout=10).status_code == 404
        assert raw.put(f"{emu.imds_endpoint}/_emulator/reset", timeout=10).status_code == 405
