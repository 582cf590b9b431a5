"""One HTTP session per credential, with timeouts that requests will not set session-wide, the
Azure-SDK-style retries of :mod:`.http_retry`, and its first connection opened ahead.

msal takes any object with requests' ``get``/``post`` shape; without timeouts a dead endpoint
would hang a script forever, without retries one 503 would fail a sign-in, and without the
connection opened ahead a new process would add two round trips to its first token.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

import requests
import requests.adapters
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.util import wait_for_read

from .http_retry import DEFAULT_POLICY, RetryPolicy, send_with_retries

log = logging.getLogger("entra_auth.http")


class TimeoutSession(requests.Session):
    """A ``requests.Session`` that applies a default (connect, read) timeout to every call and
    retries transient failures under ``retry``."""

    def __init__(self, timeout: tuple[float, float], retry: RetryPolicy = DEFAULT_POLICY) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.retry = retry
        self.mount("https://", _Adapter())
        self._preconnect: _Preconnect | None = None
        self._used = False

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self._used = True
        waited = self._take_preconnected()
        if kwargs.get("timeout") is None:
            connect, read = self.default_timeout
            # A connection being opened ahead that did not come: this request's own attempt
            # gets what is left of the connect timeout, so the two never wait twice as long.
            kwargs["timeout"] = (max(connect - waited, 0.5), read)
        if kwargs.get("verify") is None and self.verify is not True:
            # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's own
            # ``verify``; an environment's explicit CA bundle must win over a global variable.
            kwargs["verify"] = self.verify
        send = super().request
        return send_with_retries(
            lambda: send(method, url, *args, **kwargs),
            policy=self.retry,
            describe=_describe(method, url),
        )

    def preconnect(self, url: str) -> None:
        """Open the connection to ``url``'s host (TCP and TLS) on a background thread.

        A new process's first token waits for msal's import and the key's loading, then for a
        TCP and a TLS handshake: two round trips to Entra that need none of that work, so they
        can run during it (as browsers preconnect). Only before this session's first request
        (later ones reuse its kept-alive connection), and never through a proxy. Best effort:
        a failure here is left for the request itself to meet and report."""
        if self._used:
            return
        self._used = True
        self._preconnect = _Preconnect(self, url)

    def close(self) -> None:
        self._take_preconnected()
        super().close()

    def _take_preconnected(self) -> float:
        """Wait for the connection being opened ahead (the one to use), for what is left of
        the connect timeout; the seconds waited in vain (0 when it came or there was none)."""
        preconnect, self._preconnect = self._preconnect, None
        if preconnect is None:
            return 0.0
        started = time.monotonic()
        preconnect.thread.join(max(preconnect.started + self.default_timeout[0] - started, 0.0))
        return 0.0 if preconnect.opened else time.monotonic() - started


class _Preconnect:
    """A connection being opened ahead of a session's first request, into the pool that
    request will use."""

    def __init__(self, session: TimeoutSession, url: str) -> None:
        self.opened = False
        self.started = time.monotonic()
        self.thread = threading.Thread(
            target=self._run, args=(session, url), name="entra-auth-preconnect", daemon=True
        )
        self.thread.start()

    def _run(self, session: TimeoutSession, url: str) -> None:
        try:
            self._open(session, url)
        except Exception as exc:  # the request reports what is wrong, with its own context
            log.debug("preconnect to %s failed: %s", _describe("GET", url), exc)

    def _open(self, session: TimeoutSession, url: str) -> None:
        verify = None if session.verify is True else session.verify
        settings = session.merge_environment_settings(url, {}, None, verify, None)
        adapter = session.get_adapter(url)
        if requests.utils.select_proxy(url, settings["proxies"]) or not isinstance(
            adapter, _Adapter
        ):
            return
        # The pool ``send`` will pick for this URL: same TLS settings, same key.
        prepared = requests.PreparedRequest()
        prepared.prepare(method="GET", url=url)
        pool = adapter.get_connection_with_tls_context(
            prepared, settings["verify"], None, settings["cert"]
        )
        if not isinstance(pool, HTTPSConnectionPool):
            return
        adapter.cert_verify(pool, url, settings["verify"], settings["cert"])
        connection = pool._get_conn()
        try:
            if connection.is_closed:
                connection.timeout = session.default_timeout[0]
                connection.connect()
                self.opened = True
        except Exception:
            connection.close()
            raise
        finally:
            pool._put_conn(connection)


class _TicketTolerantConnection(HTTPSConnection):
    """urllib3 takes an idle connection with bytes to read for one the server dropped, and
    opens another. A TLS 1.3 server sends session tickets after the handshake, which a
    connection opened ahead has not read yet (nor one kept alive before a key update): records
    without application data are read here, and the connection stays."""

    @property
    def is_connected(self) -> bool:
        if self.sock is None:
            return False
        return not wait_for_read(self.sock, timeout=0.0) or _only_records(self.sock)


class _TicketTolerantPool(HTTPSConnectionPool):
    ConnectionCls = _TicketTolerantConnection


class _Adapter(requests.adapters.HTTPAdapter):
    """requests' adapter with the ticket-tolerant HTTPS pool (see ``_TicketTolerantConnection``)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        classes = dict(self.poolmanager.pool_classes_by_scheme)
        classes["https"] = _TicketTolerantPool
        self.poolmanager.pool_classes_by_scheme = classes


def _only_records(sock: Any) -> bool:
    """Read what a readable idle TLS socket holds: True when it was only records without
    application data; False at the end of the stream, or when the server sent data (a late
    error answer: the connection is not reusable either way)."""
    import ssl

    if not isinstance(sock, ssl.SSLSocket):
        return False
    timeout = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        while True:
            try:
                sock.recv(1)
            except ssl.SSLWantReadError:
                if not wait_for_read(sock, timeout=0.0):
                    return True
                continue
            except OSError:
                return False
            return False
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(timeout)


def build_session(
    *,
    ca_bundle: str | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    retry: RetryPolicy = DEFAULT_POLICY,
) -> TimeoutSession:
    """A session trusting ``ca_bundle`` when given, else ``REQUESTS_CA_BUNDLE`` / system CAs.

    The bundle decides whom the credential is sent to, so it is checked like every file
    entra-auth reads (``files.check_trusted_file``: it exists, is a regular file, and neither it
    nor its folder is writable by others); a bundle named by ``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE`` (a file, or a folder of hashed certificates) must exist. Each failure is
    a ``ConfigurationError`` naming the path, before any request."""
    session = TimeoutSession(timeout, retry)
    if ca_bundle:
        session.verify = os.path.expanduser(ca_bundle)
        check_ca_bundle(session.verify, "CA bundle")
    else:
        for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            named = os.environ.get(variable)
            if named:
                check_ca_bundle(named, f"CA bundle (from {variable})", folder_ok=True)
                break
    return session


def _describe(method: str | bytes, url: str | bytes) -> str:
    """``POST https://host/tenant/oauth2/v2.0/token`` for log lines: no query string."""
    if isinstance(method, bytes):
        method = method.decode("ascii", "replace")
    if isinstance(url, bytes):
        url = url.decode("ascii", "replace")
    return f"{method} {url.split('?')[0]}"


def check_ca_bundle(path: str, what: str, *, folder_ok: bool = False) -> None:
    """Refuse a CA bundle that is missing, not a regular file, or writable by others."""
    from .files import check_folder, check_trusted_file

    if folder_ok and os.path.isdir(path):
        check_folder(path, what)
        return
    check_trusted_file(path, what=what)
