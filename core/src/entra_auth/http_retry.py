"""Retries for discovery and token requests, shaped like azure-core's ``RetryPolicy``.

msal sends every request through the ``http_client`` it is given and retries nothing itself
(it only remembers a 429/5xx for its ``Retry-After``), so one 503 or one reset connection used
to fail a sign-in. The retry lives in the requests session msal uses, which covers every
provider built on core's session, discovery and token requests alike:

- retried: 408, 429, 500, 502, 503, 504, and a connection dropped or reset by the server;
- never retried: other statuses (400/401 are Entra's final word), refused connections (nothing
  listens there), TLS failures (configuration) and timeouts (the caller's time is the bound);
- at most 3 retries, exponential backoff with jitter (0.8 s, 1.6 s, 3.2 s), ``Retry-After``
  (seconds, HTTP date, or ``retry-after-ms``) honoured up to a cap, and a cap on the total wait.

What happened to the last request on this thread (attempts, time waited, last status) is kept
for error messages: "retried 3 times over 5.7 s".
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from .records import Record

if TYPE_CHECKING:
    import requests

log = logging.getLogger("entra_auth.http")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class RetryPolicy(Record):
    """How transient failures are retried (azure-core's defaults, with tighter caps).

    A ``Record`` rather than a frozen dataclass or a named tuple: as immutable, and built at
    import for a fraction of the cost on every process's start-up path."""

    statuses: frozenset[int] = RETRY_STATUSES
    max_retries: int = 3
    backoff_factor: float = 0.8
    """First backoff in seconds without ``Retry-After``; doubles with each retry."""
    backoff_max: float = 8.0
    max_retry_after: float = 60.0
    """A longer ``Retry-After`` is not waited for: the error says how long Entra asked."""
    total_cap: float = 60.0
    """Seconds of waiting between attempts, over all retries of one request."""

    def backoff(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (1-based), with +-20 % jitter."""
        base = self.backoff_factor * (2 ** (retry - 1))
        return min(self.backoff_max, base * random.uniform(0.8, 1.2))


DEFAULT_POLICY = RetryPolicy()
NO_RETRIES = RetryPolicy(max_retries=0)


class Attempts:
    """The story of one request: how many times it was sent, how long was waited between."""

    __slots__ = ("error_body", "gave_up", "sent", "status", "statuses", "waited")

    def __init__(self) -> None:
        self.sent = 0
        self.waited = 0.0
        self.status: int | None = None
        self.gave_up: str | None = None
        """Why retrying stopped early (a ``Retry-After`` past the cap, the total cap)."""
        self.statuses: list[int | None] = []
        self.error_body: dict[str, object] | None = None
        """The JSON error (Entra's shape, no secrets) of a final non-2xx answer, which msal
        replaces with a bare "HTTP Error: 503"."""

    def __repr__(self) -> str:
        return f"Attempts(sent={self.sent}, waited={self.waited:.2f}, statuses={self.statuses})"

    @property
    def retries(self) -> int:
        return max(0, self.sent - 1)

    def note(self) -> str | None:
        """ "retried 3 times over 5.7 s" (and why it stopped), or None when sent once."""
        parts = []
        if self.retries:
            times = "once" if self.retries == 1 else f"{self.retries} times"
            parts.append(f"retried {times} over {self.waited:.1f} s")
        if self.gave_up:
            parts.append(self.gave_up)
        return "; ".join(parts) or None


_no_retry: ContextVar[bool] = ContextVar("entra_auth_no_retry", default=False)
_local = threading.local()


@contextlib.contextmanager
def no_retries() -> Iterator[None]:
    """Send requests made inside this block once: a background refresh, whose caller still
    holds a valid token, should cost Entra one request, not four."""
    token = _no_retry.set(True)
    try:
        yield
    finally:
        _no_retry.reset(token)


def last_attempts() -> Attempts:
    """What the last request made on this thread went through."""
    found = getattr(_local, "attempts", None)
    return found if isinstance(found, Attempts) else Attempts()


def retry_after(response: requests.Response) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms``, ``Retry-After`` as seconds or an
    HTTP date), or None."""
    headers = response.headers
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value and value.strip().isdigit():
            return int(value.strip()) / 1000
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        import email.utils  # only for an HTTP-date Retry-After: off the import path

        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_dropped_connection(exc: BaseException) -> bool:
    """A connection the server closed or reset mid-request (worth a retry), as opposed to one
    refused, a TLS failure or a timeout (not worth one)."""
    import requests
    import urllib3.exceptions

    if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.Timeout):
        return False
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if id(item) in seen or not isinstance(item, BaseException):
            continue
        seen.add(id(item))
        if isinstance(item, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
            return False
        todo.extend(item.args)
        todo.extend((getattr(item, "reason", None), item.__cause__, item.__context__))
    return True


def send_with_retries(
    send: Callable[[], requests.Response],
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    describe: str = "request",
) -> requests.Response:
    """Call ``send`` until it gives a final answer under ``policy``; return that response
    (a retryable status when retries ran out) or raise the last connection error."""
    if _no_retry.get():
        policy = NO_RETRIES
    attempts = _local.attempts = Attempts()
    while True:
        attempts.sent += 1
        try:
            response = send()
        except Exception as exc:
            attempts.status = None
            attempts.statuses.append(None)
            if not is_dropped_connection(exc) or attempts.retries >= policy.max_retries:
                raise
            delay = policy.backoff(attempts.sent)
            if attempts.waited + delay > policy.total_cap:
                attempts.gave_up = f"stopped at the {policy.total_cap:.0f} s retry cap"
                raise
            log.debug("%s: connection dropped; retry %d in %.2f s", describe, attempts.sent, delay)
        else:
            attempts.status = response.status_code
            attempts.statuses.append(response.status_code)
            if response.status_code not in policy.statuses:
                _keep_error(attempts, response)
                return response
            if attempts.retries >= policy.max_retries:
                _keep_error(attempts, response)
                return response
            asked = retry_after(response)
            if asked is not None and asked > policy.max_retry_after:
                attempts.gave_up = (
                    f"Entra asked to wait {asked:.0f} s (Retry-After), past the "
                    f"{policy.max_retry_after:.0f} s this client waits"
                )
                _keep_error(attempts, response)
                return response
            delay = asked if asked is not None else policy.backoff(attempts.sent)
            if attempts.waited + delay > policy.total_cap:
                attempts.gave_up = f"stopped at the {policy.total_cap:.0f} s retry cap"
                _keep_error(attempts, response)
                return response
            log.debug(
                "%s: HTTP %s; retry %d in %.2f s",
                describe,
                response.status_code,
                attempts.sent,
                delay,
            )
            response.close()
        sleep(delay)
        attempts.waited += delay


def _keep_error(attempts: Attempts, response: requests.Response) -> None:
    """Remember a final error answer's JSON body (at most 64 KiB) for the error message."""
    if response.status_code < 400:
        return
    try:
        text = response.text[:65536]
        import json

        body = json.loads(text)
    except ValueError:
        return
    if isinstance(body, dict):
        attempts.error_body = body
