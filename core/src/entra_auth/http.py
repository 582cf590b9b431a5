"""One HTTP session per credential, with timeouts that requests will not set session-wide.

msal takes any object with requests' ``get``/``post`` shape; without timeouts a dead endpoint
would hang a script forever.
"""

from __future__ import annotations

import os
from typing import Any

import requests


class TimeoutSession(requests.Session):
    """A ``requests.Session`` that applies a default (connect, read) timeout to every call."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        if kwargs.get("verify") is None and self.verify is not True:
            # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's own
            # ``verify``; an environment's explicit CA bundle must win over a global variable.
            kwargs["verify"] = self.verify
        return super().request(method, url, *args, **kwargs)


def build_session(
    *, ca_bundle: str | None = None, timeout: tuple[float, float] = (5.0, 30.0)
) -> TimeoutSession:
    """A session trusting ``ca_bundle`` when given, else ``REQUESTS_CA_BUNDLE`` / system CAs."""
    session = TimeoutSession(timeout)
    if ca_bundle:
        session.verify = os.path.expanduser(ca_bundle)
    return session
