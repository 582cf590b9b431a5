"""A local HTTPS stand-in for the resources SDK clients call (Graph, Key Vault, Blob): it
records what each request carried (method, path, Authorization) and answers from a route
table, so a test can check the token that really left the client.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from entra_auth_emulator.pki import CertifiedKey, make_ca, make_leaf_cert


@dataclass
class Seen:
    """One request the stand-in received."""

    method: str
    path: str
    authorization: str | None
    headers: dict[str, str]


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: object, status: int = 200, **headers: str) -> Answer:
        body = json.dumps(data).encode()
        return cls(status, body, {"Content-Type": "application/json", **headers})


Route = Callable[[Seen], Answer]


class ResourceServer:
    """An HTTPS server on 127.0.0.1 with a certificate from its own test CA."""

    def __init__(self, folder: Path) -> None:
        self.ca: CertifiedKey = make_ca("CN=entra-auth interop test CA")
        leaf = make_leaf_cert(
            "CN=127.0.0.1", issuer=self.ca, ip_addresses=["127.0.0.1"], server=True
        )
        cert_file = leaf.write_pem(folder / "resource-cert.pem", include_key=False, with_chain=True)
        key_file = leaf.write_key(folder / "resource-key.pem")
        self.ca_file = folder / "resource-ca.pem"
        self.ca_file.write_bytes(self.ca.cert_pem())
        self.routes: list[tuple[str, str, Route]] = []
        self.seen: list[Seen] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                seen = Seen(
                    self.command,
                    self.path,
                    self.headers.get("Authorization"),
                    {k.lower(): v for k, v in self.headers.items()},
                )
                server.seen.append(seen)
                answer = server.answer(seen)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> ResourceServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def route(self, method: str, path_prefix: str, handler: Route) -> None:
        """Answer ``method`` requests whose path starts with ``path_prefix`` (newest first)."""
        self.routes.insert(0, (method, path_prefix, handler))

    def answer(self, seen: Seen) -> Answer:
        for method, prefix, handler in self.routes:
            if seen.method == method and seen.path.startswith(prefix):
                return handler(seen)
        return Answer.json({"error": {"code": "NotFound", "message": seen.path}}, 404)

    def reset(self) -> None:
        self.routes.clear()
        self.seen.clear()
