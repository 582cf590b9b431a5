"""Listeners: standard-library threaded HTTP(S) servers that feed :class:`Service`.

Choices that matter for clients:
- HTTP/1.1 keep-alive with TCP_NODELAY on every accepted socket; without it each keep-alive
  response waits for the peer's delayed ACK (~40 ms).
- The TLS handshake runs in the connection's own thread, so a slow or hostile client cannot
  stall the accept loop.
- Idle connections time out, and :meth:`Listener.stop` shuts every open connection down, so
  stopping is quick and no thread stays pinned to a silent peer.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .messages import Listener as ListenerKind
from .messages import Request, Response
from .service import Service

log = logging.getLogger("entra_auth_emulator")

MAX_BODY = 1024 * 1024  # 1 MiB, the limit past which requests get 413
DRAIN_SECONDS = 5.0  # how long an oversized body is read and discarded after the 413
IDLE_TIMEOUT = 15.0  # seconds a keep-alive connection may sit idle (or stall mid-request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "entra-auth-emulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # StreamRequestHandler.setup sets TCP_NODELAY
    server: _Server

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    # Every method goes through one place; the routing decides what is allowed where.
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The default logs the whole request line, query string included; IMDS-style callers put
        # identity selectors there and careless ones put secrets, so log the path alone.
        # Unset when the request line was bad; split by hand, as urlsplit raises on some targets.
        path = getattr(self, "path", "").partition("?")[0]
        log.debug("%s: %s %s -> %s", self.address_string(), self.command, path, code)

    def log_message(self, format: str, *args: Any) -> None:
        # The request log in Service records requests; this only sees protocol-level noise
        # (bad request lines, timeouts), never bodies.
        log.debug("%s: %s", self.address_string(), format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors (bad request line, headers too long, unknown method) as JSON too."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            # An unparseable request line leaves the default 0.9, which would suppress the
            # status line and headers; answer as HTTP/1.1 so the client can read the error.
            self.request_version = "HTTP/1.1"
        body = json.dumps(
            {
                "error": "invalid_request",
                "error_description": message or self.responses.get(code, ("",))[0],
            }
        ).encode()
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 4xx (the connection then closes, since
        the unread rest of the body would be parsed as the next request)."""
        if self.headers.get("Transfer-Encoding"):
            self.send_error(411, "Chunked request bodies are not supported; send Content-Length")
            return None
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        try:
            length = int(length_header)
            if length < 0:
                raise ValueError
        except ValueError:
            self.send_error(400, "Invalid Content-Length")
            return None
        if length > MAX_BODY:
            # Answer first, then read and discard the body for a while: closing with unread
            # data makes the kernel send a reset, and a client still sending (requests does not
            # read before it has sent everything) would see that instead of the 413. A client
            # that stops sending, or sends forever, costs at most DRAIN_SECONDS.
            self.send_error(413, f"Request body larger than {MAX_BODY} bytes")
            deadline = time.monotonic() + DRAIN_SECONDS
            with contextlib.suppress(OSError):
                while length > 0 and (left := deadline - time.monotonic()) > 0:
                    self.connection.settimeout(left)
                    chunk = self.rfile.read1(min(length, 65536))
                    if not chunk:
                        break
                    length -= len(chunk)
            return None
        data = self.rfile.read(length)
        if len(data) != length:
            self.close_connection = True
            return None
        return data

    def _handle(self, *, head: bool = False) -> None:
        body = self._read_body()
        if body is None:
            return
        try:
            split = urlsplit(self.path)
        except ValueError:  # an absolute-form target with a broken host, "http://[::1/x"
            self.send_error(400, "Invalid request target")
            return
        try:
            query = parse_qs(split.query, keep_blank_values=True, max_num_fields=64)
        except ValueError:
            self.send_error(400, "Too many query parameters")
            return
        request = Request(
            method=self.command,
            path=split.path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client_ip=self.client_address[0],
            listener=self.server.kind,
        )
        response = self.server.service.handle(request)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(response, head=head)

    def _send(self, response: Response, *, head: bool) -> None:
        payload = response.encoded()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store, no-cache")
        self.send_header("Pragma", "no-cache")
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        *,
        service: Service,
        kind: ListenerKind,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.service = service
        self.kind = kind
        self.ssl_context = ssl_context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        host = address[0]
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(host).version == 6:
                self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), which can hang on a machine with
        # broken DNS; the name is not needed.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-handshake or mid-request is not the emulator's error.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            # socket.socket.shutdown, not SSLSocket.shutdown: the latter drops the SSL object
            # under a thread that may be reading from it.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(conn, socket.SHUT_RDWR)


class Listener:
    """One listening socket served by a background thread."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        service: Service,
        kind: ListenerKind,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._server = _Server((host, port), service=service, kind=kind, ssl_context=ssl_context)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def loopback(self) -> bool:
        """Bound to a loopback address, so no other machine can reach it."""
        try:
            address = ipaddress.ip_address(str(self._server.server_address[0]).split("%")[0])
        except ValueError:
            return False
        return address.is_loopback

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"entra-auth-emulator-{self._server.kind}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=2)
            self._thread = None
        self._server.close_connections()
        self._server.server_close()
