"""``entra_auth.graph``: call Microsoft Graph (or any API Entra protects) with a credential, the
way ``Invoke-MgGraphRequest`` and ``az rest`` do, without a Graph SDK::

    cred = entra_auth.connect(profile="prod")
    graph = entra_auth.graph.GraphClient(cred)
    groups = graph.get("/v1.0/groups", all_pages=True).json["value"]
    graph.post("/v1.0/groups", body={"displayName": "Finance", "mailNickname": "finance",
                                     "mailEnabled": False, "securityEnabled": True})

- A relative URL (``/v1.0/groups``) goes to the Graph endpoint of the credential's environment
  and gets a Graph token; an absolute URL (``https`` only, no user name or password) gets a
  token for its own resource, ``<scheme>://<host>/.default``.
- ``all_pages=True`` follows ``@odata.nextLink`` (on the same host only: a link elsewhere
  would receive the token) and returns one body whose ``value`` holds every item.
- 429, 503 and 504 are retried up to 3 times, waiting what ``Retry-After`` asks (at most
  ``RetryPolicy.max_retry_after`` seconds: a longer wait is an error that says so), as the
  Graph SDKs' retry handler does; a 401 carrying a claims challenge is answered once.
- A refusal raises :class:`GraphError` with Graph's error code and message (exit code 1 in
  the CLI).
"""

from __future__ import annotations

import json as jsonlib
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from .errors import EntraAuthError, UsageError
from .http_retry import RetryPolicy
from .records import Record, field

if TYPE_CHECKING:
    import requests

    from .credential import EntraCredential
    from .environments import Environment

__all__ = ["GraphClient", "GraphError", "GraphResponse"]

DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
GRAPH_RETRY = RetryPolicy(
    statuses=frozenset({429, 503, 504}), max_retries=3, max_retry_after=60.0, total_cap=90.0
)
"""What the Graph SDKs' retry handler retries, with the same bounded waits as sign-in."""
MAX_PAGES = 1000
"""``all_pages`` stops with an error past this many pages rather than loop forever."""
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_RESERVED_HEADERS = {"authorization", "host", "content-length"}


class GraphError(EntraAuthError):
    """Graph (or the API called) refused the request, or could not be reached.

    ``status`` is the HTTP status (None when there was no answer), ``code`` and
    ``graph_message`` Graph's ``error.code`` and ``error.message``, ``request_id`` the
    ``request-id`` to quote to Microsoft support, ``body`` the parsed error body.
    """

    exit_code: ClassVar[int] = 1

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        graph_message: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.graph_message = graph_message
        self.request_id = request_id
        self.body = body


class GraphResponse(Record, frozen=False):
    """An answer: ``status``, ``headers``, the raw ``content``, and ``json`` (None when empty).
    With ``all_pages``, ``pages`` says how many pages were merged into ``json["value"]``."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str
    pages: int = 1
    _json: Any = field(default=None, repr=False)

    @property
    def json(self) -> Any:
        if self._json is None and self.content.strip():
            try:
                self._json = jsonlib.loads(self.content)
            except ValueError:
                return None
        return self._json

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class GraphClient:
    """Requests to Graph (and other Entra-protected APIs) with tokens from ``credential``.

    ``environment`` (or ``graph_endpoint``) says where relative URLs go; without either, the
    credential's default scope names it (``https://graph.microsoft.com/.default`` ->
    ``https://graph.microsoft.com``). ``ca_bundle`` defaults to the environment's.
    """

    def __init__(
        self,
        credential: EntraCredential,
        *,
        environment: Environment | None = None,
        graph_endpoint: str | None = None,
        ca_bundle: str | None = None,
        timeout: tuple[float, float] = (5.0, 60.0),
        retry: RetryPolicy = GRAPH_RETRY,
    ) -> None:
        from .environments import validate_url

        self.credential = credential
        if graph_endpoint is None and environment is not None:
            graph_endpoint = environment.graph_endpoint
        if graph_endpoint is None:
            graph_endpoint = _endpoint_from_scopes(credential.default_scopes)
        self.graph_endpoint = validate_url(graph_endpoint, "the Graph endpoint")
        if ca_bundle is None and environment is not None:
            ca_bundle = environment.ca_bundle
        self._ca_bundle = ca_bundle
        self._timeout = timeout
        self._retry = retry
        self._session: requests.Session | None = None

    @property
    def graph_scope(self) -> str:
        return f"{self.graph_endpoint}/.default"

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- URLs -----------------------------------------------------------------------------

    def resolve(self, url: str) -> tuple[str, str]:
        """``(absolute URL, scope)`` for ``url``; ``UsageError`` for a URL that must not get a
        token (not https, a user name or password in it, a fragment, control characters)."""
        if not isinstance(url, str) or not url.strip():
            raise UsageError("give a URL: a Graph path such as /v1.0/groups, or https://…")
        url = url.strip()
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
            raise UsageError("the URL contains control characters; percent-encode them")
        if "://" not in url:
            if url.startswith("//"):
                raise UsageError(
                    f"{url!r} is neither a Graph path (/v1.0/…) nor a full https:// URL"
                )
            path = url if url.startswith("/") else "/" + url
            if "#" in path:
                raise UsageError("the URL must not have a #fragment")
            return self.graph_endpoint + path, self.graph_scope
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises for a bad port
        except ValueError:
            raise UsageError(f"{_safe(url)!r} is not a valid URL (bad host or port)") from None
        if parts.scheme.lower() != "https" or not parts.hostname:
            raise UsageError(f"{_safe(url)!r}: only https:// URLs get a token")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise UsageError("the URL must not carry a user name or password (user@host)")
        if parts.fragment or url.endswith("#"):
            raise UsageError("the URL must not have a #fragment")
        if _origin(url) == _origin(self.graph_endpoint):
            return url, self.graph_scope
        return url, f"{parts.scheme.lower()}://{parts.netloc.lower()}/.default"

    # -- requests ---------------------------------------------------------------------------

    def get(self, url: str, **kwargs: Any) -> GraphResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> GraphResponse:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> GraphResponse:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> GraphResponse:
        return self.request("DELETE", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        all_pages: bool = False,
    ) -> GraphResponse:
        """Send one request (and, with ``all_pages``, follow ``@odata.nextLink``).

        ``body`` is sent as JSON; ``content`` as is (JSON unless ``headers`` set another
        ``Content-Type``). Non-2xx answers raise :class:`GraphError`."""
        method = _method(method)
        if body is not None and content is not None:
            raise UsageError("give either body (sent as JSON) or content, not both")
        if body is not None:
            content = jsonlib.dumps(body)
        payload = content.encode("utf-8") if isinstance(content, str) else content
        sent_headers = _headers(headers)
        if payload is not None and not any(k.lower() == "content-type" for k in sent_headers):
            sent_headers["Content-Type"] = "application/json"
        absolute, scope = self.resolve(url)
        response = self._send(method, absolute, scope, sent_headers, payload)
        if not all_pages:
            return response
        if method != "GET":
            raise UsageError("all_pages follows @odata.nextLink of GET requests only")
        return self._all_pages(response, scope, sent_headers)

    def pages(self, url: str, *, headers: Mapping[str, str] | None = None) -> Iterator[Any]:
        """Each page's body of a GET collection, following ``@odata.nextLink`` lazily."""
        absolute, scope = self.resolve(url)
        sent = _headers(headers)
        response = self._send("GET", absolute, scope, sent, None)
        yield response.json
        for page in self._next_pages(response, scope, sent):
            yield page.json

    def _next_pages(
        self, first: GraphResponse, scope: str, headers: dict[str, str]
    ) -> Iterator[GraphResponse]:
        current, count = first, 1
        while True:
            data = current.json
            link = data.get("@odata.nextLink") if isinstance(data, dict) else None
            if not link:
                return
            if not isinstance(link, str) or _origin(link) != _origin(first.url):
                raise GraphError(
                    f"refusing to follow @odata.nextLink to another host ({_origin_text(link)}; "
                    f"the request went to {_origin(first.url)}): it would receive the token",
                    status=current.status,
                )
            count += 1
            if count > MAX_PAGES:
                raise GraphError(f"stopped after {MAX_PAGES} pages of {_path(first.url)}")
            current = self._send("GET", link, scope, headers, None)
            yield current

    def _all_pages(
        self, first: GraphResponse, scope: str, headers: dict[str, str]
    ) -> GraphResponse:
        data = first.json
        if not isinstance(data, dict) or not isinstance(data.get("value"), list):
            return first  # not a collection: nothing to page
        merged = dict(data)
        items = list(data["value"])
        pages = 1
        for page in self._next_pages(first, scope, headers):
            pages += 1
            value = page.json.get("value") if isinstance(page.json, dict) else None
            if isinstance(value, list):
                items.extend(value)
        merged.pop("@odata.nextLink", None)
        merged["value"] = items
        return GraphResponse(
            first.status,
            first.headers,
            jsonlib.dumps(merged).encode(),
            first.url,
            pages,
            merged,
        )

    def _http(self) -> requests.Session:
        if self._session is None:
            from .http import build_session

            self._session = build_session(
                ca_bundle=self._ca_bundle, timeout=self._timeout, retry=self._retry
            )
        return self._session

    def _open_ahead(self, url: str) -> None:
        """Open the connection to ``url``'s host while the token is fetched. A first token
        costs msal's import and a request to Entra; the TCP and TLS handshakes with Graph need
        neither, so they run meanwhile (``TimeoutSession.preconnect``: only before the
        session's first request, never through a proxy, a failure left to the request)."""
        preconnect = getattr(self._http(), "preconnect", None)
        if preconnect is not None:
            preconnect(url)

    def _send(
        self,
        method: str,
        url: str,
        scope: str,
        headers: dict[str, str],
        payload: bytes | None,
    ) -> GraphResponse:
        import requests

        from .challenges import claims_from_challenge
        from .http_retry import last_attempts

        self._open_ahead(url)
        claims: str | None = None
        for _ in range(2):
            token = self.credential.get_token(scope, claims=claims).token
            sent = {
                "Accept": "application/json",
                "client-request-id": str(uuid.uuid4()),
                **headers,
                "Authorization": f"Bearer {token}",
            }
            try:
                answer = self._http().request(method, url, headers=sent, data=payload)
            except requests.exceptions.SSLError as exc:
                raise GraphError(
                    f"{method} {_path(url)}: TLS to {_origin(url)} failed ({_reason(exc)}); "
                    "trust its CA with the environment's ca_bundle or REQUESTS_CA_BUNDLE"
                ) from None
            except requests.exceptions.RequestException as exc:
                note = last_attempts().note()
                raise GraphError(
                    f"{method} {_path(url)}: cannot reach {_origin(url)} ({_reason(exc)})"
                    + (f"; {note}" if note else "")
                ) from None
            if answer.status_code == 401 and claims is None:
                claims = claims_from_challenge(answer.headers.get("WWW-Authenticate"))
                if claims is not None:
                    answer.close()
                    continue
            break
        response = GraphResponse(
            answer.status_code, dict(answer.headers), answer.content, answer.url or url
        )
        if answer.status_code >= 400:
            raise _graph_error(method, url, response, last_attempts().note())
        return response


def _graph_error(method: str, url: str, response: GraphResponse, note: str | None) -> GraphError:
    """``GET /v1.0/groups: 403 Authorization_RequestDenied: Insufficient privileges…``."""
    data = response.json
    error = data.get("error") if isinstance(data, dict) else None
    code = message = request_id = None
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), str) else None
        message = error.get("message") if isinstance(error.get("message"), str) else None
        inner = error.get("innerError")
        if isinstance(inner, dict) and isinstance(inner.get("request-id"), str):
            request_id = inner["request-id"]
    elif isinstance(error, str):  # OAuth-style APIs: {"error": ..., "error_description": ...}
        code = error
        described = data.get("error_description") if isinstance(data, dict) else None
        message = described if isinstance(described, str) else None
    request_id = request_id or response.headers.get("request-id")
    if message is None and code is None:
        snippet = " ".join(response.text.split())[:200]
        message = snippet or "no error details in the answer"
    text = f"{method} {_path(url)}: HTTP {response.status}"
    if code:
        text += f" {code}"
    if message:
        text += f": {' '.join(message.split())}"
    if request_id:
        text += f" (request-id {request_id})"
    if note:
        text += f"; {note}"
    return GraphError(
        text,
        status=response.status,
        code=code,
        graph_message=message,
        request_id=request_id,
        body=data,
    )


def _method(method: str) -> str:
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise UsageError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    return method.upper()


def _headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise UsageError(f"{name!r} is not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise UsageError(f"the {name} header is set by entra-auth; leave it out")
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise UsageError(f"the value of header {name} must be one line of text")
        checked[name] = value.strip()
    return checked


def _endpoint_from_scopes(scopes: tuple[str, ...]) -> str:
    for scope in scopes:
        if scope.endswith("/.default") and scope.startswith("https://"):
            return scope.removesuffix("/.default")
    return DEFAULT_GRAPH_ENDPOINT


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    default = {"https": 443, "http": 80}.get(scheme)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def _origin_text(url: object) -> str:
    return _origin(url) or "an unreadable URL" if isinstance(url, str) else "not a URL"


def _path(url: str) -> str:
    """The path of ``url`` for messages (no query string: it may hold identifiers)."""
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return "?"


def _safe(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, tail = rest.partition("/")
    return f"{scheme}://{host.rpartition('@')[2]}{slash}{tail.partition('?')[0]}"


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Caused by ", "Max retries exceeded"):
        if marker in text:
            text = text.split(marker, 1)[-1]
    return " ".join(text.split())[:200] or type(exc).__name__
