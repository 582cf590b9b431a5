"""Load and bad input: concurrent clients, keep-alive latency, malformed requests, stalled
peers. Every answer is JSON and nothing crashes or hangs."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from emulator_helpers import GRAPH_SCOPE, TENANT, new_client_id, session_for

from entra_auth_emulator import Emulator


@pytest.fixture
def secret_client(emu: Emulator) -> str:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["pw"])
    return client_id


def form(client_id: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": "pw",
        "scope": GRAPH_SCOPE,
    }


def test_fifty_concurrent_clients(emu: Emulator, secret_client: str) -> None:
    barrier = threading.Barrier(50)

    def client(i: int) -> list[str]:
        tokens = []
        with session_for(emu) as http:
            barrier.wait(timeout=10)
            oidc = http.get(
                f"{emu.authority(TENANT)}/v2.0/.well-known/openid-configuration", timeout=10
            )
            assert oidc.status_code == 200
            for _ in range(3):
                answer = http.post(
                    oidc.json()["token_endpoint"], data=form(secret_client), timeout=10
                )
                assert answer.status_code == 200, answer.text
                tokens.append(answer.json()["access_token"])
        return tokens

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(client, range(50)))
    tokens = [t for batch in results for t in batch]
    assert len(tokens) == 150 and len(set(tokens)) == 150
    assert all(emu.verify_token(t)["appid"] == secret_client for t in tokens)
    assert sum(1 for e in emu.requests() if e["endpoint"] == "token") == 150


def test_keep_alive_responses_are_not_delayed(emu: Emulator, http, secret_client: str) -> None:
    """Forty requests on one keep-alive connection; with Nagle's algorithm left on each would
    wait ~40 ms for a delayed ACK (1.6 s in all)."""
    http.post(emu.token_endpoint(TENANT), data=form(secret_client), timeout=10)  # connect
    started = time.monotonic()
    for _ in range(40):
        response = http.post(emu.token_endpoint(TENANT), data=form(secret_client), timeout=10)
        assert response.status_code == 200
    assert time.monotonic() - started < 1.0
    assert response.headers.get("Connection", "").lower() != "close"


def test_one_connection_serves_many_requests(emu: Emulator, secret_client: str) -> None:
    """Keep-alive for real: http.client reconnects silently when the server closes, so the
    proof is that its socket object never changes."""
    import http.client
    from urllib.parse import urlencode, urlsplit

    url = urlsplit(emu.authority_host)
    connection = http.client.HTTPSConnection(
        url.hostname or "",
        url.port,
        context=ssl.create_default_context(cafile=emu.ca_bundle),
        timeout=10,
    )
    body = urlencode(form(secret_client))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    sockets = set()
    try:
        for _ in range(10):
            connection.request("POST", urlsplit(emu.token_endpoint(TENANT)).path, body, headers)
            answer = connection.getresponse()
            assert answer.status == 200 and json.loads(answer.read())["access_token"]
            sockets.add(id(connection.sock))
    finally:
        connection.close()
    assert len(sockets) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"a=1&&=&b", "application/x-www-form-urlencoded"),
        (b"grant_type=client_credentials&grant_type=password", "application/x-www-form-urlencoded"),
        (b'{"grant_type": "client_credentials"}', "application/json"),
        (b"&".join(b"k%d=v" % i for i in range(500)), "application/x-www-form-urlencoded"),
    ],
    ids=["not-utf8", "bad-fields", "duplicate-param", "json", "too-many-fields"],
)
def test_malformed_form_bodies(emu: Emulator, http, body: bytes, content_type: str) -> None:
    response = http.post(
        emu.token_endpoint(TENANT), data=body, headers={"Content-Type": content_type}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("size", [2**20 + 1, 40 * 2**20], ids=["1MiB+1", "40MiB"])
def test_body_over_one_mib_413(emu: Emulator, http, size: int) -> None:
    """Past 16 MiB the client used to get a connection reset instead of the 413."""
    response = http.post(
        emu.token_endpoint(TENANT),
        data=b"a" * size,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
    # The server is still fine afterwards.
    assert http.get(emu.jwks_uri("common"), timeout=10).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/nope",
        f"/{TENANT}/oauth2/v2.0/devicecode",
        f"/{TENANT}/oauth2/v2.0/logout",
        "/metadata/identity/oauth2/token",
        "/%ff%fe",
        "/a/b/c/d/e",
    ],
)
def test_unknown_paths_404_json(emu: Emulator, http, path: str) -> None:
    response = http.get(emu.authority_host + path, timeout=10)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    with requests.Session() as raw:
        raw.trust_env = False
        answer = raw.get(emu.imds_endpoint + path, timeout=10)
        assert answer.status_code in (400, 404) and answer.json()


def test_oversized_body_announced_but_not_sent_413_at_once(emu: Emulator) -> None:
    """The 413 goes out before the body is read, so a client that waits for an answer before
    sending (or never sends) is not kept waiting for the idle timeout."""
    context = ssl.create_default_context(cafile=emu.ca_bundle)
    host, port = emu.authority_host.removeprefix("https://").rsplit(":", 1)
    with (
        socket.create_connection((host, int(port)), timeout=10) as tcp,
        context.wrap_socket(tcp, server_hostname=host) as tls,
    ):
        tls.sendall(
            b"POST /t/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n"
        )
        tls.settimeout(2)  # well under the 15 s idle timeout the old code waited out
        answer = b""
        while b"}" not in answer:
            answer += tls.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"413"
    assert json.loads(body)["error"] == "invalid_request"


def raw_exchange(emu: Emulator, data: bytes) -> tuple[int, dict]:
    """Send raw bytes over TLS and parse the status line and JSON body of the answer."""
    context = ssl.create_default_context(cafile=emu.ca_bundle)
    host, port = emu.authority_host.removeprefix("https://").rsplit(":", 1)
    with (
        socket.create_connection((host, int(port)), timeout=10) as tcp,
        context.wrap_socket(tcp, server_hostname=host) as tls,
    ):
        tls.sendall(data)
        received = b""
        while chunk := tls.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", 431),
        (b"POST /t/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
        (b"POST /t/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n", 400),
        (
            b"POST /t/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\n\r\n",
            411,
        ),
        # urlsplit raises on this; the connection used to be dropped without an answer.
        (b"GET http://[::1/x HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ],
    ids=[
        "garbage",
        "unknown-method",
        "long-header",
        "negative-length",
        "bad-length",
        "chunked",
        "broken-absolute-target",
    ],
)
def test_protocol_errors_answer_json(emu: Emulator, request_bytes: bytes, status: int) -> None:
    answer_status, body = raw_exchange(emu, request_bytes)
    assert answer_status == status
    assert body["error"] == "invalid_request"


def test_internal_error_is_a_500_json_not_a_crash(
    emu: Emulator, http, secret_client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(emu.service.directory, "app", broken)
    answer = http.post(emu.token_endpoint(TENANT), data=form(secret_client), timeout=10)
    assert answer.status_code == 500 and answer.json()["error"] == "server_error"
    monkeypatch.undo()
    assert http.post(emu.token_endpoint(TENANT), data=form(secret_client), timeout=10).ok


def test_stalled_peers_do_not_block_others_or_stop(tmp_path) -> None:
    """Connections that never finish the TLS handshake, never finish a body, or sit idle on
    keep-alive neither hold up other clients nor slow down stop()."""
    with Emulator(state_dir=tmp_path) as emu:
        emu.register_app(TENANT, "c1", secrets=["pw"])
        host, port = emu.authority_host.removeprefix("https://").rsplit(":", 1)
        silent = socket.create_connection((host, int(port)))  # no TLS handshake at all
        context = ssl.create_default_context(cafile=emu.ca_bundle)
        half = context.wrap_socket(
            socket.create_connection((host, int(port))), server_hostname=host
        )
        half.sendall(
            b"POST /x/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part"
        )
        idle = session_for(emu)
        assert idle.get(emu.jwks_uri("common"), timeout=5).ok  # now idle on keep-alive
        started = time.monotonic()
        with session_for(emu) as http:
            answer = http.post(emu.token_endpoint(TENANT), data=form("c1"), timeout=5)
        assert answer.status_code == 200
        assert time.monotonic() - started < 1.0
        started = time.monotonic()
        emu.stop()
        assert time.monotonic() - started < 1.0
        for sock in (silent, half):
            sock.close()
        idle.close()


def test_test_endpoints_refuse_other_machines(emu: Emulator) -> None:
    """Loopback only: the same request from a non-loopback address gets 403 and changes nothing."""
    from entra_auth_emulator.messages import Request

    emu.add_fault("token", status=500)
    for ip, expected in (("192.0.2.7", 403), ("::ffff:192.0.2.7", 403), ("::1", 200)):
        request = Request(
            method="POST",
            path="/_emulator/reset",
            query={},
            headers={},
            body=b"",
            client_ip=ip,
            listener="authority",
        )
        assert emu.service.handle(request).status == expected, ip
        assert bool(emu.service.faults.pending()) is (expected == 403)


def test_debug_logs_hold_no_query_strings_or_secrets(
    emu: Emulator, http, caplog: pytest.LogCaptureFixture
) -> None:
    client_id = new_client_id()
    emu.register_app(TENANT, client_id, secrets=["LOGGED-SECRET-1"])
    caplog.set_level("DEBUG", logger="entra_auth_emulator")
    http.post(
        emu.token_endpoint(TENANT) + "?client_secret=LOGGED-SECRET-2",
        data={**form(client_id), "client_secret": "LOGGED-SECRET-1"},
        timeout=10,
    )
    http.post(
        emu.token_endpoint(TENANT), data=form(client_id) | {"client_secret": "WRONG-3"}, timeout=10
    )
    with requests.Session() as raw:
        raw.trust_env = False
        raw.get(
            f"{emu.imds_endpoint}/metadata/identity/oauth2/token",
            params={"resource": "https://x", "client_id": "LOGGED-SELECTOR-4"},
            timeout=10,
        )
    deadline = time.monotonic() + 5  # the server threads log after answering
    while sum("->" in r.getMessage() for r in caplog.records) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/oauth2/v2.0/token" in text  # the requests were logged ...
    for secret in ("LOGGED-SECRET-1", "LOGGED-SECRET-2", "WRONG-3", "LOGGED-SELECTOR-4"):
        assert secret not in text  # ... without what they carried
    assert "LOGGED" not in json.dumps(emu.requests()) and "WRONG" not in json.dumps(emu.requests())
