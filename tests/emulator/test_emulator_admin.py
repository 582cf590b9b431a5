"""Azurite-style operation (issue 11 items 8 and 9): the loopback-only admin HTTP API with the
config file's validation, ``--log-requests``, ``--token-lifetime`` and ``--arc-key-dir``; an app
added through the API is one a separately running product CLI then signs in to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from emulator_helpers import GRAPH_SCOPE, TENANT, cca, new_client_id, session_for
from test_emulator_cli import start, stop, wait_ready

from entra_auth_emulator import Emulator
from entra_auth_emulator.messages import Request
from entra_auth_emulator.pki import make_leaf_cert

DOMAIN_TENANT = "7d3c1b2a-5e4f-4a6b-8c9d-0e1f2a3b4c5d"
SECRET = "ADMIN-API-secret-value-1"


def test_admin_api_adds_what_a_running_cli_signs_in_to(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    arc_dir = tmp_path / "arc-keys"
    process = start(
        [
            "--port", "0", "--state-dir", str(tmp_path / "state"), "--ready-file", str(ready),
            "--log-requests", "--token-lifetime", "900", "--arc-key-dir", str(arc_dir),
        ]
    )  # fmt: skip
    try:
        info = wait_ready(ready, process)
        admin = requests.Session()
        admin.trust_env = False
        admin.verify = info["ca_bundle"]
        base = info["authority_host"] + "/_emulator"
        tenant = admin.post(
            f"{base}/tenants",
            json={"tenant_id": DOMAIN_TENANT, "domains": ["admin-api.onmicrosoft.com"]},
            timeout=10,
        )
        assert tenant.status_code == 201, tenant.text
        app = admin.post(
            f"{base}/apps",
            json={
                "tenant_id": DOMAIN_TENANT,
                "client_id": "6a0e2d1c-3b4a-4c5d-9e8f-7a6b5c4d3e2f",
                "display_name": "Added at runtime",
                "roles": ["User.Read.All"],
                "secrets": [SECRET],
            },
            timeout=10,
        )
        assert app.status_code == 201, app.text
        assert SECRET not in app.text  # secrets are never shown back
        environ = {
            **os.environ,
            "AZURE_AUTHORITY_HOST": info["authority_host"],
            "REQUESTS_CA_BUNDLE": info["ca_bundle"],
            "APP_SECRET": SECRET,
        }

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "entra_auth_cli", *args],
                env=environ,
                capture_output=True,
                text=True,
                timeout=60,
            )

        connected = cli(
            "connect", "--client-id", "6a0e2d1c-3b4a-4c5d-9e8f-7a6b5c4d3e2f",
            "--tenant-id", "admin-api.onmicrosoft.com", "--client-secret", "env:APP_SECRET",
            "--no-welcome", "--output", "json",
        )  # fmt: skip
        assert connected.returncode == 0, connected.stderr
        context = json.loads(connected.stdout)
        assert context["tenant_id"] == DOMAIN_TENANT and context["app_name"] == "Added at runtime"
        typo = cli("token", "--scope", "https://graph.microsoft.con/.default")
        assert typo.returncode == 1, typo
        assert "AADSTS500011" in typo.stderr
        assert "check its spelling" in typo.stderr  # the product's hint for the code
        token = cli("token", "--output", "json")
        assert token.returncode == 0, token.stderr
        # --token-lifetime applies to apps without their own lifetime.
        with session_for_info(info) as http:
            answer = http.post(
                f"{info['authority_host']}/{DOMAIN_TENANT}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "6a0e2d1c-3b4a-4c5d-9e8f-7a6b5c4d3e2f",
                    "client_secret": SECRET,
                    "scope": GRAPH_SCOPE,
                },
                timeout=10,
            )
            assert answer.json()["expires_in"] == 900
            # The Arc challenge file goes to --arc-key-dir.
            challenge = http.get(
                f"{info['imds_endpoint']}/arc/metadata/identity/oauth2/token",
                params={"api-version": "2020-06-01", "resource": "https://management.azure.com"},
                headers={"Metadata": "true"},
                timeout=10,
            )
            realm = challenge.headers["WWW-Authenticate"].split("realm=", 1)[1]
            assert Path(realm).parent == arc_dir and Path(realm).is_file()
    finally:
        stop(process)
        out, err = process.communicate(timeout=5)
    lines = [line for line in out.splitlines() if " /" in line and "ms" in line]
    assert any(
        f"POST /{DOMAIN_TENANT}/oauth2/v2.0/token 200 token" in line
        and "client_id=6a0e2d1c-3b4a-4c5d-9e8f-7a6b5c4d3e2f" in line
        for line in lines
    ), out
    assert any(" 400 token " in line for line in lines), out  # the typo'd resource
    assert SECRET not in out + err
    assert "eyJ" not in out + err  # no token (nor assertion) is ever printed


class session_for_info:
    """A requests session trusting the CA named in a ready file, for plain HTTP too."""

    def __init__(self, info: dict) -> None:
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = info["ca_bundle"]

    def __enter__(self) -> requests.Session:
        return self.session

    def __exit__(self, *exc: object) -> None:
        self.session.close()


def test_admin_api_validates_as_the_config_file(emu: Emulator, http: requests.Session) -> None:
    base = f"{emu.authority_host}/_emulator"
    cases = [
        ({"tenant_id": TENANT, "client_id": "x", "secret": ["typo"]}, "unknown key 'secret'"),
        ({"tenant_id": TENANT}, "missing required key 'client_id'"),
        ({"tenant_id": TENANT, "client_id": "x", "certificates": ["/etc/passwd"]}, "PEM text"),
        (
            {"tenant_id": TENANT, "client_id": "x", "trusted_issuers": [make_pem()]},
            "trusted_subjects",
        ),
        (
            {"tenant_id": TENANT, "client_id": "x", "secrets": [{"value": "v", "expires": "soon"}]},
            "'expires'",
        ),
        (
            {
                "tenant_id": TENANT,
                "client_id": "x",
                "federated_credentials": [{"issuer": "http://plain", "subject": "s"}],
            },
            "https",
        ),
    ]
    for body, message in cases:
        response = http.post(f"{base}/apps", json=body, timeout=10)
        assert response.status_code == 400, body
        assert message in response.json()["error_description"], response.json()
    assert http.post(f"{base}/apps", data="[1]", timeout=10).status_code == 400
    bad_resource = http.post(
        f"{base}/resources",
        json={"identifier_uris": ["api://x"], "access_token_accepted_version": 3},
        timeout=10,
    )
    assert bad_resource.status_code == 400


def test_admin_api_round_trip(emu: Emulator, http: requests.Session) -> None:
    base = f"{emu.authority_host}/_emulator"
    emu.register_app(TENANT, new_client_id())  # keeps the tenant once the app below is gone
    client_id = new_client_id()
    cert = make_leaf_cert("CN=admin-api app")
    added = http.post(
        f"{base}/apps",
        json={
            "tenant_id": TENANT,
            "client_id": client_id,
            "certificates": [cert.cert_pem().decode()],
            "secrets": [{"value": "pw", "expires": "2099-01-01T00:00:00Z"}],
            "federated_credentials": [
                {"issuer": emu.oidc_issuer(), "subject": "repo:contoso/app:ref:refs/heads/main"}
            ],
        },
        timeout=10,
    ).json()
    assert added["certificates"] == [cert.thumbprint.upper()]
    assert added["secrets"] == [{"expires": "2099-01-01T00:00:00+00:00"}]
    assert added["federated_credentials"][0]["audiences"] == ["api://AzureADTokenExchange"]
    listed = http.get(f"{base}/apps", timeout=10).json()
    assert any(a["client_id"] == client_id for a in listed)
    assert "pw" not in json.dumps(listed)
    assert "access_token" in cca(emu, client_id, "pw").acquire_token_for_client([GRAPH_SCOPE])
    resource = http.post(
        f"{base}/resources", json={"identifier_uris": ["api://admin-api"]}, timeout=10
    ).json()
    assert cca(emu, client_id, "pw").acquire_token_for_client(["api://admin-api/.default"])[
        "access_token"
    ]
    assert http.delete(f"{base}/resources/{resource['app_id']}", timeout=10).json() == {
        "removed": True
    }
    assert http.delete(f"{base}/apps/{TENANT}/{client_id}", timeout=10).status_code == 200
    assert http.delete(f"{base}/apps/{TENANT}/{client_id}", timeout=10).status_code == 404
    gone = cca(emu, client_id, "pw").acquire_token_for_client([GRAPH_SCOPE])
    assert gone["error_codes"] == [700016]
    mi = http.post(
        f"{base}/managed-identities",
        json={"tenant_id": "admin-mi", "client_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"},
        timeout=10,
    )
    assert mi.status_code == 201 and mi.json()["user_assigned"] is True
    assert http.delete(
        f"{base}/managed-identities/1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", timeout=10
    ).ok
    assert http.delete(f"{base}/tenants/admin-mi", timeout=10).status_code == 404


@pytest.mark.parametrize("path", ["/_emulator/apps", "/_emulator/federated-token"])
def test_admin_api_refuses_other_machines(emu: Emulator, path: str) -> None:
    body = json.dumps({"tenant_id": "remote", "client_id": "x", "subject": "s"}).encode()
    request = Request(
        method="POST",
        path=path,
        query={},
        headers={"content-type": "application/json"},
        body=body,
        client_ip="192.0.2.7",
        listener="authority",
    )
    assert emu.service.handle(request).status == 403
    assert emu.service.directory.app("remote", "x") is None


def make_pem() -> str:
    return make_leaf_cert("CN=some CA").cert_pem().decode()


def test_emulator_python_api_arc_key_dir(tmp_path: Path) -> None:
    with Emulator(state_dir=tmp_path / "state", arc_key_dir=tmp_path / "keys") as emu:
        assert emu.azure_hosts.arc_token_dir == tmp_path / "keys"
        with session_for(emu) as http:
            http.trust_env = False
            answer = http.get(
                emu.azure_hosts.arc_identity_endpoint,
                params={"api-version": "2020-06-01", "resource": "https://vault.azure.net"},
                headers={"Metadata": "true"},
                timeout=10,
            )
        realm = Path(answer.headers["WWW-Authenticate"].split("realm=", 1)[1])
        assert realm.parent == tmp_path / "keys"
