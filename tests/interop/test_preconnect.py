"""The first request's TCP and TLS handshakes run while msal loads (``TimeoutSession.preconnect``):
the request then uses that connection, never a second one, and nothing changes when it fails
or a proxy is in the way."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from urllib3.util import wait_for_read

from entra_auth.http import _only_records, build_session
from entra_auth_emulator.pki import make_ca, make_leaf_cert

POOL_LOG = "urllib3.connectionpool"


def connections_opened(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == POOL_LOG and "new HTTPS" in r.getMessage()]


FIRST_TOKEN = """
import logging, os, sys
logging.basicConfig(level=logging.DEBUG, format="%(threadName)s %(name)s %(message)s")
import entra_auth
credential = entra_auth.connect("client-secret", client_id=sys.argv[1], tenant_id=sys.argv[2],
    client_secret="env:PRECONNECT_SECRET")
print(credential.context.app_name)
"""


@pytest.mark.parametrize("discovery", ["cached", "fetched"])
def test_a_new_process_sends_its_first_request_on_the_connection_opened_ahead(
    emulator_env, secret_app, discovery
):
    argv = [sys.executable, "-c", FIRST_TOKEN, secret_app.client_id, secret_app.tenant_id]
    env = {**emulator_env, "PRECONNECT_SECRET": secret_app.secret}
    if discovery == "cached":  # the usual case: only the token request is left to send
        subprocess.run(argv, env=env, check=True, capture_output=True)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if POOL_LOG in line]
    opened = [line.split()[0] for line in lines if "Starting new HTTPS" in line]
    assert opened == ["entra-auth-preconnect"], lines
    assert not [line for line in lines if "dropped connection" in line], lines
    sent = [line for line in lines if "HTTP/1.1" in line]
    assert len(sent) == (1 if discovery == "cached" else 2), lines
    assert all(line.startswith("MainThread") for line in sent), lines


def test_a_session_that_sent_a_request_opens_nothing_ahead(
    emulator, emulator_env, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG, logger=POOL_LOG)
    session = build_session()
    assert session.get(f"{emulator.authority_host}/common/discovery/keys").ok
    session.preconnect(emulator.authority_host)
    assert session._preconnect is None
    assert len(connections_opened(caplog)) == 1


def test_nothing_is_opened_ahead_through_a_proxy(
    emulator, emulator_env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG, logger="urllib3")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = build_session()
    session.preconnect(emulator.authority_host)
    assert session._preconnect is not None
    session._preconnect.thread.join(10)
    assert not session._preconnect.thread.is_alive()
    assert not session._preconnect.opened
    assert not [r for r in caplog.records if "Starting new" in r.getMessage()]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[Callable[[str], ssl.SSLSocket]]:
    """Connect to a one-connection TLS 1.3 server that, after the handshake, either stays
    idle until the client closes (``idle``) or closes at once (``close``)."""
    ca = make_ca("CN=preconnect test CA")
    leaf = make_leaf_cert("CN=127.0.0.1", issuer=ca, ip_addresses=["127.0.0.1"], server=True)
    cert = leaf.write_pem(tmp_path / "cert.pem", include_key=False, with_chain=True)
    key = leaf.write_key(tmp_path / "key.pem")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cadata=ca.cert_pem().decode())
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    threads: list[threading.Thread] = []

    def serve(action: str) -> None:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # the tickets in one flight
        with server_context.wrap_socket(conn, server_side=True) as tls:
            if action == "idle":
                tls.settimeout(10)
                with contextlib.suppress(OSError):
                    tls.recv(1)

    def connect(action: str) -> ssl.SSLSocket:
        thread = threading.Thread(target=serve, args=(action,), daemon=True)
        thread.start()
        threads.append(thread)
        raw = socket.create_connection(listener.getsockname(), timeout=10)
        return client_context.wrap_socket(raw, server_hostname="127.0.0.1")

    yield connect
    for thread in threads:
        thread.join(10)
    listener.close()


def test_an_idle_connection_with_session_tickets_unread_is_alive(tls_server):
    with tls_server("idle") as sock:
        assert sock.version() == "TLSv1.3"
        assert wait_for_read(sock, 1.0)  # the tickets: urllib3 alone takes this for dropped
        assert _only_records(sock)
        assert not wait_for_read(sock, 0.1)
        assert sock.gettimeout() == 10


def test_a_connection_the_server_closed_is_dropped(tls_server):
    with tls_server("close") as sock:
        deadline = time.monotonic() + 5
        while _only_records(sock) and time.monotonic() < deadline:
            wait_for_read(sock, 0.1)  # the tickets come first, then the end of the stream
        assert not _only_records(sock)


def test_a_connection_that_never_comes_does_not_double_the_wait():
    """A listener that accepts and never answers TLS: the connection opened ahead times out,
    and the request's own attempt gets only what is left of the connect timeout."""
    import requests

    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                accepted.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    url = f"https://127.0.0.1:{listener.getsockname()[1]}/"
    session = build_session(timeout=(2.0, 5.0))
    started = time.monotonic()
    session.preconnect(url)
    with listener, pytest.raises(requests.exceptions.RequestException):
        session.get(url)
    taken = time.monotonic() - started
    assert 2.0 <= taken < 3.5  # one connect timeout and the 0.5 s floor, not two (4 s)
    assert len(accepted) == 2  # the preconnect's attempt, then the request's own
    for sock in accepted:
        sock.close()


FIRST_GRAPH_CALL = """
import logging, os, sys
logging.basicConfig(level=logging.DEBUG, format="%(threadName)s %(name)s %(message)s")
import entra_auth
from entra_auth.graph import GraphClient
environment = entra_auth.Environment("Emulator", *sys.argv[3:6])
credential = entra_auth.connect("client-secret", client_id=sys.argv[1], tenant_id=sys.argv[2],
    client_secret="env:PRECONNECT_SECRET", environment=environment, fetch_token=False)
with GraphClient(credential, environment=environment) as graph:
    print(graph.get("/v1.0/users").status)
"""


def test_a_first_graph_call_connects_to_graph_while_its_token_is_fetched(
    emulator, emulator_env, secret_app
):
    """Both connections (to Entra for the token, to Graph for the call) are opened ahead, and
    each request goes out on the one opened for it."""
    argv = [
        sys.executable, "-c", FIRST_GRAPH_CALL, secret_app.client_id, secret_app.tenant_id,
        emulator.authority_host, emulator.graph_endpoint, str(emulator.ca_bundle),
    ]  # fmt: skip
    env = {**emulator_env, "PRECONNECT_SECRET": secret_app.secret}
    subprocess.run(argv, env=env, check=True, capture_output=True)  # discovery cached
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "200", done.stderr
    lines = [line for line in done.stderr.splitlines() if POOL_LOG in line]
    opened = [line.split()[0] for line in lines if "Starting new HTTPS" in line]
    assert opened == ["entra-auth-preconnect", "entra-auth-preconnect"], lines
    assert not [line for line in lines if "dropped connection" in line], lines
    sent = [line for line in lines if "HTTP/1.1" in line]
    assert [("/token" in s, "/v1.0/users" in s) for s in sent] == [(True, False), (False, True)]
    assert all(line.startswith("MainThread") for line in sent), lines
