"""A loopback TCP relay that delivers every byte, in each direction, half a round trip late:
the emulator (or any local server) as if it were as far away as Entra is from most callers.

Holding the emulator's answers (a fault with a delay) puts a round trip on each request only;
through the relay the TLS handshake pays its round trip too, as on a real network, so what a
client does before its first request (how many handshakes and requests it needs, and whether
they wait for its imports) shows. TCP's own handshake is not delayed (the kernel completes it
before the relay accepts), so each new connection costs one round trip less than on a real
network. Used by the benchmarks and the tests; loopback only.
"""

from __future__ import annotations

import contextlib
import heapq
import socket
import threading
import time
from types import TracebackType
from typing import Self

_CHUNK = 65536


class LatencyProxy:
    """``127.0.0.1:<port>`` relayed to ``target`` with ``round_trip / 2`` seconds each way."""

    def __init__(self, target: tuple[str, int], round_trip: float) -> None:
        self.target = target
        self.one_way = round_trip / 2
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        threading.Thread(target=self._accept, name="latency-proxy", daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):  # Nagle's algorithm would add its own delays
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                _Link(source, sink, self.one_way).start()


class _Link:
    """One direction of one connection: chunks read now are written ``delay`` later, in
    order (a reader thread stamps them, a writer thread sleeps until each is due)."""

    def __init__(self, source: socket.socket, sink: socket.socket, delay: float) -> None:
        self.source, self.sink, self.delay = source, sink, delay
        self._queue: list[tuple[float, int, bytes]] = []
        self._ready = threading.Condition()
        self._count = 0

    def start(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._write, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = self.source.recv(_CHUNK)
            except OSError:
                data = b""
            with self._ready:
                self._count += 1
                heapq.heappush(self._queue, (time.monotonic() + self.delay, self._count, data))
                self._ready.notify()
            if not data:
                return

    def _write(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                due, _, data = self._queue[0]
                left = due - time.monotonic()
                if left > 0:
                    self._ready.wait(left)
                    continue
                heapq.heappop(self._queue)
            if not data:  # the other side closed: pass it on
                with contextlib.suppress(OSError):
                    self.sink.shutdown(socket.SHUT_WR)
                return
            try:
                self.sink.sendall(data)
            except OSError:
                return
