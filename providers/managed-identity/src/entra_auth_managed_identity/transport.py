"""The HTTP client handed to msal: short timeouts and a bounded retry of transient answers.

msal's ``ManagedIdentityClient`` leaves retries to its ``http_client`` and sets no timeout, so a
plain session either hangs on a silent endpoint or fails on the first 503. azure-identity's
answer is many retries with long backoff, which is why it takes ~13 s to fail off Azure. Here:

- A refused or unreachable endpoint is not retried: nothing will be there a second later.
- A connect timeout is short (nothing on a link-local or loopback address takes long to
  accept), and a read timeout is bounded so a listener that never answers fails in under 10 s.
- 408, 410, 429 and 5xx answers, and connections dropped mid-request, are retried a few
  times, waiting what ``Retry-After`` asks (within a cap) or an exponential backoff, inside a
  total budget.

Service Fabric is requested on this session too, not through msal: msal derives a fresh
``requests.Session`` for it (to pin the endpoint's certificate) and a session has no place for a
timeout, so that request could hang forever. Pinning is urllib3's own ``assert_fingerprint``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import requests
from requests.adapters import HTTPAdapter

from entra_auth import is_dropped_connection

log = logging.getLogger("entra_auth.managed_identity")

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 6.0


TRANSIENT_STATUSES = frozenset({408, 410, 429, *range(500, 600)})


class RetryPolicy(NamedTuple):
    """How transient identity-endpoint answers are retried."""

    statuses: frozenset[int] = TRANSIENT_STATUSES
    max_attempts: int = 4
    backoff: float = 0.5
    """First backoff in seconds when no Retry-After is given; doubles each attempt."""
    max_delay: float = 10.0
    """The longest single wait; a longer Retry-After ends the retries instead."""
    budget: float = 20.0
    """Total seconds spent waiting between attempts for one request."""

    def delay(self, attempt: int, response: requests.Response) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        asked = retry_after(response)
        if asked is not None:
            return asked
        base = self.backoff * (2 ** (attempt - 1))
        return min(self.max_delay, base * (1 + random.uniform(0, 0.25)))


NO_RETRY = RetryPolicy(max_attempts=1)
DEFAULT_RETRY = RetryPolicy()


def retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or None when absent."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class IdentitySession(requests.Session):
    """A session with identity-endpoint timeouts and retries; ``last_response`` and
    ``attempts`` let an error message say what the endpoint last answered."""

    def __init__(
        self,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        # Identity endpoints are link-local or loopback: a proxy from HTTP(S)_PROXY must never
        # see them (IMDS refuses proxied requests), and .netrc must not add credentials.
        self.trust_env = False
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry
        self._sleep = sleep
        self.last_response: requests.Response | None = None
        self.attempts = 0
        self.failed_after: float | None = None
        # msal copies hooks into the session it derives for Service Fabric; this keeps
        # last_response right there too.
        self.hooks["response"].append(self._remember)

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_response = response

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self.attempts = attempt
            started = time.monotonic()
            try:
                response = super().request(method, url, *args, **kwargs)
            except requests.exceptions.RequestException as exc:
                # urllib3 reports a TLS handshake that stalls past the connect timeout as a
                # *read* timeout; the error message says how long was really waited.
                self.failed_after = time.monotonic() - started
                # A connection the endpoint dropped or reset mid-request is retried as the
                # Azure SDK does; a refused one or a timeout is not (fail fast off Azure).
                delay = self.retry.backoff * (2 ** (attempt - 1))
                if (
                    not is_dropped_connection(exc)
                    or attempt >= self.retry.max_attempts
                    or waited + delay > self.retry.budget
                ):
                    raise
                log.debug("identity endpoint dropped the connection; retry %d", attempt)
                self._sleep(delay)
                waited += delay
                continue
            self.last_response = response
            if response.status_code not in self.retry.statuses:
                return response
            if attempt >= self.retry.max_attempts:
                return response
            delay = self.retry.delay(attempt, response)
            if delay > self.retry.max_delay or waited + delay > self.retry.budget:
                log.debug("not retrying: the endpoint asked to wait %.1f s", delay)
                return response
            log.debug(
                "identity endpoint answered %s; retry %d in %.2f s",
                response.status_code,
                attempt,
                delay,
            )
            response.close()
            self._sleep(delay)
            waited += delay


class PinnedCertificateAdapter(HTTPAdapter):
    """Trusts exactly one server certificate, by SHA-1 fingerprint, and no CA.

    A Service Fabric cluster's identity endpoint presents the cluster's own certificate, which
    no CA vouches for; its thumbprint (``IDENTITY_SERVER_THUMBPRINT``) is the trust anchor. The
    check runs in the TLS handshake, before the ``Secret`` header is sent."""

    def __init__(self, sha1_fingerprint: str) -> None:
        self._fingerprint = sha1_fingerprint
        super().__init__()

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["assert_fingerprint"] = self._fingerprint
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # A forwarding proxy would present its own certificate; never route the secret there.
        raise requests.exceptions.SSLError(
            "refusing to reach a pinned identity endpoint through a proxy"
        )

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        kwargs["verify"] = False  # the fingerprint, checked by urllib3, replaces the CA check
        return super().send(request, *args, **kwargs)
