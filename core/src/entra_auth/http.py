"""One HTTP session per credential, with timeouts that requests will not set session-wide and
the Azure-SDK-style retries of :mod:`.http_retry`.

msal takes any object with requests' ``get``/``post`` shape; without timeouts a dead endpoint
would hang a script forever, and without retries one 503 would fail a sign-in.
"""

from __future__ import annotations

import os
from typing import Any

import requests

from .http_retry import DEFAULT_POLICY, RetryPolicy, send_with_retries


class TimeoutSession(requests.Session):
    """A ``requests.Session`` that applies a default (connect, read) timeout to every call and
    retries transient failures under ``retry``."""

    def __init__(self, timeout: tuple[float, float], retry: RetryPolicy = DEFAULT_POLICY) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.retry = retry

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
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
