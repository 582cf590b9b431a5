"""The latency relay the benchmarks put in front of the emulator: every byte arrives half a
round trip late each way, in order, and a close is passed on."""

from __future__ import annotations

import socket
import threading
import time

from entra_auth_emulator.latency import LatencyProxy


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_each_exchange_takes_a_round_trip_and_keeps_the_bytes_in_order():
    listener, thread = _echo_server()
    with (
        listener,
        LatencyProxy(listener.getsockname(), 0.1) as relay,
        socket.create_connection(("127.0.0.1", relay.port), timeout=10) as client,
    ):
        payload = bytes(range(256)) * 1000
        started = time.monotonic()
        client.sendall(payload)
        received = b""
        while len(received) < len(payload):
            received += client.recv(65536)
        taken = time.monotonic() - started
        assert received == payload
        assert 0.1 <= taken < 2.0
        client.shutdown(socket.SHUT_WR)  # passed on: the echo server ends, then the relay
        assert client.recv(1) == b""
    thread.join(5)
    assert not thread.is_alive()
