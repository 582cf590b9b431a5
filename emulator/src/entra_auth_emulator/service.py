"""Routing, fault injection, the request log and the test endpoints: everything between a parsed
request and a response, independent of sockets and TLS."""

from __future__ import annotations

import collections
import functools
import ipaddress
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import admin, entra, errors, graph, managed_identity
from .config import DEFAULT_TOKEN_LIFETIME, AppRegistration, ManagedIdentityRegistration
from .directory import Directory
from .faults import FaultInjector, FaultSpecError
from .federation import FederatedVerifier, OidcKeys
from .graph_data import GraphData
from .issuers import IssuerError, OidcIssuers
from .messages import Request, Response
from .tokens import TokenIssuer

if TYPE_CHECKING:
    from .azure_hosts import AzureHosts

log = logging.getLogger("entra_auth_emulator")

IMDS_PATH = "/metadata/identity/oauth2/token"
APP_SERVICE_PATH = "/msi/token"
REQUEST_LOG_SIZE = 10_000

Handler = Callable[[], Response]

_TENANT = r"/(?P<tenant>[^/]+)"
_AUTHORITY_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(_TENANT + r"/v2\.0/\.well-known/openid-configuration"), "discovery"),
    (re.compile(_TENANT + r"/\.well-known/openid-configuration"), "discovery_v1"),
    (re.compile(_TENANT + r"/discovery/(?:v2\.0/)?keys"), "jwks"),
    (re.compile(_TENANT + r"/discovery/instance"), "instance_discovery"),
    (re.compile(_TENANT + r"/oauth2/v2\.0/token"), "token"),
    (re.compile(_TENANT + r"/oauth2/token"), "token_v1"),
    (re.compile(_TENANT + r"/oauth2/(?:v2\.0/)?authorize"), "authorize"),
]
_ISSUER_ROUTE = re.compile(
    r"/issuers/(?P<name>[^/]+)/(?P<what>\.well-known/openid-configuration|jwks)"
)
_SLASHES = re.compile(r"/{2,}")


def _is_loopback(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def _not_found(path: str) -> Response:
    return Response(
        404, {"error": "not_found", "error_description": f"No emulator endpoint at {path}."}
    )


class Service:
    """The emulator's behaviour; :mod:`server` feeds it requests from its listeners."""

    def __init__(
        self,
        *,
        directory: Directory,
        issuer: TokenIssuer,
        identity_header: str,
        authority_host: str = "",
        token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
        extra_ca: str | None = None,
    ) -> None:
        self.directory = directory
        self.issuer = issuer
        self.identity_header = identity_header
        self.authority_host = authority_host
        self.token_lifetime = token_lifetime
        self.faults = FaultInjector()
        self.federation = FederatedVerifier(OidcKeys(extra_ca))
        self.oidc_issuers = OidcIssuers(authority_host)
        # The small Graph (graph.py) is served on the authority's port under /v1.0 and /beta.
        self.graph_data = GraphData(directory.config_graph)
        # Called with each request-log entry (``--log-requests`` prints them).
        self.on_request: Callable[[dict[str, Any]], None] | None = None
        # Set by Emulator.start once the ports (which these hosts' URLs name) are known.
        self.azure_hosts: AzureHosts | None = None
        self._log: collections.deque[dict[str, Any]] = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self._log_lock = threading.Lock()

    # -- URLs and lifetimes ---------------------------------------------------------------

    def set_authority_host(self, authority_host: str) -> None:
        self.authority_host = authority_host
        self.oidc_issuers.base_url = authority_host
        self.directory.graph_aliases = (authority_host,)

    @property
    def graph_endpoint(self) -> str:
        """Where the small Graph answers: the authority's origin (``/v1.0/...``)."""
        return self.authority_host

    def lifetime_for(self, principal: AppRegistration | ManagedIdentityRegistration) -> int:
        """The principal's own token lifetime, else the emulator's (``--token-lifetime``)."""
        return principal.token_lifetime or self.token_lifetime

    def issuer_for(self, tenant: str) -> str:
        """Entra v2 issuer: ``<authority_host>/<tenant>/v2.0``."""
        return f"{self.authority_host}/{tenant}/v2.0"

    def assertion_audiences(self, *tenants: str) -> list[str]:
        """What an assertion's ``aud`` may be: the token endpoint (v2 or v1) for the tenant as
        the client spelled it or as registered, or the tenant's issuer."""
        audiences = []
        for tenant in dict.fromkeys(tenants):
            base = f"{self.authority_host}/{tenant}"
            audiences += [f"{base}/oauth2/v2.0/token", f"{base}/oauth2/token", f"{base}/v2.0"]
        return audiences

    # -- request log ---------------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def reset(self, *, registrations: bool = False) -> None:
        """Forget the request log, pending faults and used assertion ids (and, on request,
        runtime registrations)."""
        self.clear_requests()
        self.faults.clear()
        self.directory.forget_used_assertions()
        self.federation.keys.clear()
        self.graph_data.reset()
        if registrations:
            self.directory.reset_registrations()

    # -- dispatch ------------------------------------------------------------------------

    def route(self, request: Request) -> tuple[str, Handler]:
        """Pick the endpoint (its name is what faults and the log use) and its handler."""
        path = request.path
        hosts = self.azure_hosts  # Arc, Service Fabric, Cloud Shell, Azure ML
        found = hosts.route(self, request) if hosts is not None else None
        if found is not None:
            return found
        if request.listener == "identity":
            if path == IMDS_PATH:
                return "imds", lambda: managed_identity.imds(self, request)
            if path == APP_SERVICE_PATH:
                return "appservice", lambda: managed_identity.app_service(self, request)
            return "unknown", lambda: _not_found(path)
        # Entra serves "/common//v2.0/..." (msal's default discovery path for an authority
        # ending in "/") as if the slashes were one.
        path = _SLASHES.sub("/", path)
        if graph.is_graph_path(path):
            return "graph", lambda: graph.handle(self, request)
        issuer_match = _ISSUER_ROUTE.fullmatch(path)
        if issuer_match is not None:
            return "issuer", functools.partial(
                self._issuer_document, issuer_match["name"], issuer_match["what"]
            )
        for pattern, name in _AUTHORITY_ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            tenant = unquote(match["tenant"])
            if name in ("discovery", "discovery_v1"):
                v1 = name == "discovery_v1"
                return "discovery", functools.partial(entra.discovery, self, request, tenant, v1=v1)
            if name == "authorize":
                return name, functools.partial(entra.authorize, self, request, tenant)
            if name == "jwks":
                return name, functools.partial(entra.jwks, self, request, tenant)
            if name == "instance_discovery":
                return name, functools.partial(entra.instance_discovery, self, request)
            if request.method != "POST":
                return "token", _only_post
            v1 = name == "token_v1"
            return "token", functools.partial(entra.token, self, request, tenant, v1=v1)
        return "unknown", lambda: _not_found(path)

    def _issuer_document(self, name: str, what: str) -> Response:
        """The emulator's test OIDC issuers: discovery document or JWKS."""
        try:
            issuers = self.oidc_issuers
            body = issuers.jwks(name) if what == "jwks" else issuers.discovery(name)
        except IssuerError:
            return _not_found(f"/issuers/{name}")
        return Response(200, body, log={"issuer": name})

    def handle(self, request: Request) -> Response:
        """Answer one request; never raises (a bug becomes a 500 JSON answer, not a crash)."""
        if request.path.startswith("/_emulator/"):
            return self._test_endpoint(request)
        started = time.monotonic()
        endpoint, handler = self.route(request)
        correlation_id = request.header("client-request-id")
        fault = self.faults.take(endpoint, request.path)
        fault_id = None
        response: Response | None = None
        if fault is not None:
            fault_id = fault.id
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                response = Response(0, drop=True)
            elif fault.status is not None:
                response = self._fault_response(request, fault.status, correlation_id)
                if fault.retry_after is not None:
                    response.headers["Retry-After"] = str(fault.retry_after)
        if response is None:
            try:
                response = handler()
            except errors.EntraError as exc:
                response = self._error_response(exc, correlation_id)
            except Exception:
                log.exception("internal error answering %s %s", request.method, request.path)
                response = self._error_response(
                    errors.EntraError(500, "server_error", 90000, "Internal emulator error."),
                    correlation_id,
                )
        if correlation_id:
            response.headers.setdefault("client-request-id", correlation_id)
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "listener": request.listener,
            "endpoint": endpoint,
            "method": request.method,
            "path": request.path,
            "status": response.status if not response.drop else None,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        }
        entry.update(response.log)
        if fault_id is not None:
            entry["fault"] = fault_id
        if response.drop:
            entry["dropped"] = True
        with self._log_lock:
            self._log.append(entry)
        if self.on_request is not None:
            self.on_request(entry)
        log.debug("%s %s -> %s", request.method, request.path, entry["status"])
        return response

    def _error_response(self, exc: errors.EntraError, correlation_id: str | None) -> Response:
        body = exc.body(correlation_id=correlation_id, error_uri_base=self.authority_host)
        headers = {"x-ms-request-id": body["trace_id"], **exc.headers}
        return Response(exc.status, body, headers=headers, log=dict(exc.log))

    def _fault_response(
        self, request: Request, status: int, correlation_id: str | None
    ) -> Response:
        if request.listener == "authority" and graph.is_graph_path(request.path):
            return graph.fault_response(request, status)
        response = self._error_response(errors.server_fault(status), correlation_id)
        if request.listener == "identity":
            # Identity endpoints have their own error shapes; give both readers what they need.
            response.body = {
                "error": response.body["error"],
                "error_description": "Emulated fault",
                "statusCode": status,
                "message": "Emulated fault",
            }
        return response

    # -- test endpoints ----------------------------------------------------------------------

    def _test_endpoint(self, request: Request) -> Response:
        if not _is_loopback(request.client_ip):
            return Response(
                403,
                {"error": "forbidden", "error_description": "Test endpoints are loopback-only."},
            )
        path, method = request.path, request.method
        if path == "/_emulator/requests":
            if method == "GET":
                return Response(200, self.requests())
            if method == "DELETE":
                self.clear_requests()
                return Response(200, {"cleared": True})
        elif path == "/_emulator/faults":
            if method == "GET":
                return Response(200, self.faults.pending())
            if method == "DELETE":
                self.faults.clear()
                return Response(200, {"cleared": True})
            if method == "POST":
                try:
                    spec = json.loads(request.body or b"null")
                    fault = self.faults.add(spec)
                except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                    return _bad_request("the body must be a JSON object")
                except FaultSpecError as exc:
                    return _bad_request(str(exc))
                return Response(201, fault.as_dict())
        elif path.startswith(admin.PREFIXES):
            return admin.handle(self, request)
        elif path == "/_emulator/federated-token":
            if method == "POST":
                try:
                    minted = self.oidc_issuers.mint_request(json.loads(request.body or b"null"))
                except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                    return _bad_request("the body must be a JSON object")
                except IssuerError as exc:
                    return _bad_request(str(exc))
                return Response(200, minted)
        elif path == "/_emulator/reset":
            if method == "POST":
                try:
                    options = json.loads(request.body) if request.body.strip() else {}
                except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                    return _bad_request("the body must be empty or a JSON object")
                if not isinstance(options, dict) or set(options) - {"registrations"}:
                    return _bad_request('the only option is {"registrations": true}')
                self.reset(registrations=bool(options.get("registrations", False)))
                return Response(200, {"reset": True})
        else:
            return _not_found(path)
        return Response(
            405, {"error": "method_not_allowed", "error_description": f"{method} {path}"}
        )


def _bad_request(message: str) -> Response:
    return Response(400, {"error": "invalid_request", "error_description": message})


def _only_post() -> Response:
    raise errors.EntraError(
        405, "invalid_request", 900561, "The endpoint only accepts POST requests."
    )
