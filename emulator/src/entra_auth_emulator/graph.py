"""A small Microsoft Graph on the emulator's HTTPS port, enough for app-only automation scripts:

- ``GET /v1.0/organization``
- ``GET /v1.0/users`` and ``/v1.0/users/{id | userPrincipalName}``
- ``GET /v1.0/groups``, ``/v1.0/groups/{id}``, ``/v1.0/groups/{id}/members``; ``POST /v1.0/groups``
- ``GET /v1.0/servicePrincipals?$filter=appId eq '...'``

(``/beta/`` serves the same.) Collections take ``$top`` (paging through ``@odata.nextLink``),
``$select`` and ``$filter=<property> eq '<value>'``.

Every request is checked as Graph checks it: a bearer token signed by the emulator, not expired,
``aud`` Graph (``https://graph.microsoft.com``, any national cloud's Graph, Graph's app id, or
the emulator's own Graph endpoint), a v1 issuer for its tenant, a tenant the emulator knows,
and the app roles the call needs. Refusals have Graph's JSON error shape
(``{"error": {"code", "message", "innerError"}}``): 401 ``InvalidAuthenticationToken``, 403
``Authorization_RequestDenied``, 400 ``BadRequest``/``Request_BadRequest``, 404
``Request_ResourceNotFound``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

from . import resources
from .graph_data import TenantGraph
from .messages import Request, Response
from .tokens import InvalidToken, v1_issuer

if TYPE_CHECKING:
    from .service import Service

VERSIONS = ("v1.0", "beta")
PREFIXES = tuple(f"/{v}/" for v in VERSIONS) + tuple(f"/{v}" for v in VERSIONS)
DEFAULT_PAGE = 100
MAX_PAGE = 999
CLOCK_SKEW = 300
GRAPH_OWNER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

# What each call needs, as Graph's permission tables list them for applications.
READ_DIRECTORY = {"Directory.Read.All", "Directory.ReadWrite.All"}
NEEDS: dict[str, set[str]] = {
    "organization": {"Organization.Read.All", "Organization.ReadWrite.All"} | READ_DIRECTORY,
    "users": {"User.Read.All", "User.ReadWrite.All"} | READ_DIRECTORY,
    "groups": {"Group.Read.All", "Group.ReadWrite.All"} | READ_DIRECTORY,
    "members": {"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All"} | READ_DIRECTORY,
    "create_group": {"Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"},
    "service_principals": {"Application.Read.All", "Application.ReadWrite.All"} | READ_DIRECTORY,
}
# Graph's own app roles (ids as in every tenant), for servicePrincipals?$filter=appId eq Graph.
GRAPH_APP_ROLES = {
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
    "Group.Create": "bf7b1a76-6e77-406b-b258-bf5c7720e98f",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
    "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09",
    "GroupMember.Read.All": "98830695-27a2-44f7-8c18-0c3ebc9698f6",
    "Organization.Read.All": "498476ce-e0fe-48b0-b801-37ba7e2685c6",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "User.ReadWrite.All": "741f803b-c850-494e-b5df-cde7c675a1ca",
}
_FILTER = re.compile(r"^\s*(?P<prop>[A-Za-z]+)\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*$")
_NICKNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
GROUP_WRITABLE = {
    "displayName",
    "description",
    "mailNickname",
    "mailEnabled",
    "securityEnabled",
    "groupTypes",
    "visibility",
    "members@odata.bind",
    "owners@odata.bind",
}


class GraphError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def is_graph_path(path: str) -> bool:
    return path.startswith(PREFIXES) and path.split("/")[1] in VERSIONS


def error_response(
    status: int,
    code: str,
    message: str,
    request: Request,
    headers: Mapping[str, str] | None = None,
    log: Mapping[str, Any] | None = None,
) -> Response:
    """Graph's error body, with the request ids Graph puts in it and in headers."""
    request_id = str(uuid.uuid4())
    client_request_id = request.header("client-request-id") or request_id
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }
    sent = {"request-id": request_id, "client-request-id": client_request_id, **(headers or {})}
    return Response(status, body, headers=sent, log=dict(log or {}))


def fault_response(request: Request, status: int) -> Response:
    """An injected fault, as Graph words it (429 TooManyRequests, 503 ServiceUnavailable)."""
    if status == 429:
        return error_response(429, "TooManyRequests", "Too many requests (emulated).", request)
    if status >= 500:
        return error_response(
            status, "ServiceUnavailable", "Service unavailable (emulated fault).", request
        )
    return error_response(status, "BadRequest", "Emulated fault.", request)


def handle(service: Service, request: Request) -> Response:
    """Answer one Graph request (never raises a GraphError: it becomes Graph's JSON)."""
    log: dict[str, Any] = {}
    try:
        claims = _check_token(service, request)
        log = {"tenant": claims["tid"], "client_id": claims.get("appid") or claims.get("azp")}
        with service.graph_data.lock:
            response = _route(service, request, claims, log)
        response.log.update(log)
        return response
    except GraphError as exc:
        return error_response(exc.status, exc.code, exc.message, request, exc.headers, log)


# -- the token ----------------------------------------------------------------------------


def _unauthorized(service: Service, message: str) -> GraphError:
    challenge = (
        f'Bearer realm="", authorization_uri="{service.authority_host}/common/oauth2/authorize", '
        f'client_id="{resources.GRAPH_APP_ID}"'
    )
    return GraphError(401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": challenge})


def graph_audiences(service: Service) -> set[str]:
    graph = next(r for r in resources.BUILT_IN if r.app_id == resources.GRAPH_APP_ID)
    names = {*graph.identifier_uris, graph.app_id, *service.directory.graph_aliases}
    return {resources.comparable(n) for n in names}


def _check_token(service: Service, request: Request) -> dict[str, Any]:
    scheme, _, token = (request.header("authorization") or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized(service, "Access token is empty.")
    try:
        claims = service.issuer.verify(token)
    except InvalidToken as exc:
        if str(exc) == "expired":
            raise _unauthorized(
                service, "Lifetime validation failed, the token is expired."
            ) from None
        if str(exc) == "bad signature" or "key" in str(exc):
            raise _unauthorized(
                service, "Access token validation failure. Invalid signature."
            ) from None
        raise _unauthorized(service, "IDX14100: JWT is not well formed.") from None
    nbf = claims.get("nbf")
    if isinstance(nbf, int) and nbf > time.time() + CLOCK_SKEW:
        raise _unauthorized(service, "Lifetime validation failed, the token is not yet valid.")
    aud = claims.get("aud")
    if not isinstance(aud, str) or resources.comparable(aud) not in graph_audiences(service):
        raise _unauthorized(service, "Access token validation failure. Invalid audience.")
    tid = claims.get("tid")
    if not isinstance(tid, str) or service.directory.canonical_tenant(tid) is None:
        raise _unauthorized(service, "Access token validation failure. Invalid tenant.")
    if claims.get("iss") not in (v1_issuer(tid), service.issuer_for(tid)):
        raise _unauthorized(service, "Access token validation failure. Invalid issuer.")
    return claims


def _require(claims: Mapping[str, Any], need: str) -> None:
    roles = claims.get("roles")
    held = set(roles) if isinstance(roles, list) else set()
    if not held & NEEDS[need]:
        raise GraphError(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )


# -- routing ------------------------------------------------------------------------------


def _route(
    service: Service, request: Request, claims: dict[str, Any], log: dict[str, Any]
) -> Response:
    parts = [unquote(p) for p in request.path.split("/")[2:] if p]
    version = request.path.split("/")[1]
    base = f"{service.graph_endpoint}/{version}"
    tenant_id = service.directory.canonical_tenant(claims["tid"]) or claims["tid"]
    method = request.method
    if not parts:
        raise GraphError(400, "BadRequest", "Invalid version.")
    segment = parts[0].lower()
    tenant = _tenant_graph(service, tenant_id)

    def only(*allowed: str) -> None:
        if method not in allowed:
            raise GraphError(
                405,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request uri.",
            )

    if segment == "organization" and len(parts) == 1:
        only("GET")
        _require(claims, "organization")
        return _collection(request, base, "organization", [_organization(service, tenant_id)])
    if segment == "users" and len(parts) <= 2:
        only("GET")
        _require(claims, "users")
        if len(parts) == 1:
            return _collection(request, base, "users", list(tenant.users))
        user = tenant.user(parts[1])
        if user is None:
            raise _not_found(parts[1])
        return _entity(request, base, "users", user)
    if segment == "groups" and len(parts) == 1:
        if method == "POST":
            _require(claims, "create_group")
            return _create_group(request, base, tenant)
        only("GET", "POST")
        _require(claims, "groups")
        return _collection(request, base, "groups", list(tenant.groups))
    if segment == "groups" and len(parts) in (2, 3):
        only("GET")
        group = tenant.group(parts[1])
        if len(parts) == 3:
            if parts[2].lower() != "members":
                raise GraphError(
                    400, "BadRequest", f"Resource not found for the segment '{parts[2]}'."
                )
            _require(claims, "members")
            if group is None:
                raise _not_found(parts[1])
            return _collection(request, base, "directoryObjects", tenant.group_members(group["id"]))
        _require(claims, "groups")
        if group is None:
            raise _not_found(parts[1])
        return _entity(request, base, "groups", group)
    if segment == "serviceprincipals" and len(parts) == 1:
        only("GET")
        _require(claims, "service_principals")
        return _collection(
            request, base, "servicePrincipals", _service_principals(service, tenant_id)
        )
    raise GraphError(400, "BadRequest", f"Resource not found for the segment '{parts[0]}'.")


def _not_found(key: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def _tenant_graph(service: Service, tenant_id: str) -> TenantGraph:
    domain = next(
        (
            t.domains[0]
            for t in service.directory.tenants()
            if t.tenant_id.lower() == tenant_id.lower() and t.domains
        ),
        "contoso.onmicrosoft.com",
    )
    return service.graph_data.tenant(tenant_id, domain)


def _organization(service: Service, tenant_id: str) -> dict[str, Any]:
    declared = next(
        (t for t in service.directory.tenants() if t.tenant_id.lower() == tenant_id.lower()), None
    )
    domains = list(declared.domains) if declared and declared.domains else []
    if not domains:
        domains = ["contoso.onmicrosoft.com"]
    return {
        "id": tenant_id,
        "displayName": (declared.display_name if declared else "") or "Contoso",
        "tenantType": "AAD",
        "countryLetterCode": "US",
        "createdDateTime": "2015-06-01T00:00:00Z",
        "verifiedDomains": [
            {
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": i == 0,
                "isInitial": name.endswith(".onmicrosoft.com"),
                "name": name,
                "type": "Managed",
            }
            for i, name in enumerate(domains)
        ],
    }


def _service_principals(service: Service, tenant_id: str) -> list[dict[str, Any]]:
    wanted = tenant_id.lower()
    found: list[dict[str, Any]] = []
    for app in service.directory.apps():
        if app.tenant_id.lower() != wanted:
            continue
        found.append(
            _service_principal(
                app.object_id, app.client_id, app.display_name, tenant_id, "Application",
                enabled=app.enabled,
            )
        )  # fmt: skip
    for mi in service.directory.managed_identities():
        if mi.tenant_id.lower() == wanted:
            sp = _service_principal(
                mi.object_id, mi.client_id, mi.display_name, tenant_id, "ManagedIdentity"
            )
            sp["alternativeNames"] = ["isExplicit=" + str(mi.user_assigned), mi.mirid]
            found.append(sp)
    graph = _service_principal(
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"graph-sp/{wanted}")),
        resources.GRAPH_APP_ID,
        "Microsoft Graph",
        GRAPH_OWNER_TENANT,
        "Application",
    )
    graph["appRoles"] = [
        {
            "allowedMemberTypes": ["Application"],
            "description": f"Allows the app to use {value} without a signed-in user.",
            "displayName": value,
            "id": role_id,
            "isEnabled": True,
            "origin": "Application",
            "value": value,
        }
        for value, role_id in sorted(GRAPH_APP_ROLES.items())
    ]
    found.append(graph)
    return found


def _service_principal(
    object_id: str, app_id: str, name: str, owner: str, kind: str, *, enabled: bool = True
) -> dict[str, Any]:
    return {
        "id": object_id,
        "accountEnabled": enabled,
        "appDisplayName": name,
        "appId": app_id,
        "appOwnerOrganizationId": owner,
        "appRoles": [],
        "displayName": name,
        "servicePrincipalNames": [app_id],
        "servicePrincipalType": kind,
    }


# -- query options ------------------------------------------------------------------------


def _select(
    request: Request, items: list[dict[str, Any]], kind: str
) -> tuple[list[str] | None, list[dict[str, Any]]]:
    raw = request.param("$select")
    if raw is None:
        return None, items
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        raise GraphError(400, "BadRequest", "Invalid $select: give property names.")
    known: dict[str, str] = {}
    for item in items:
        for key in item:
            if not key.startswith("@"):
                known.setdefault(key.lower(), key)
    chosen = []
    for name in names:
        if items and name.lower() not in known:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{name}' on type 'microsoft.graph.{kind}'.",
            )
        chosen.append(known.get(name.lower(), name))
    selected = [
        {k: v for k, v in item.items() if k in chosen or k == "@odata.type"} for item in items
    ]
    return chosen, selected


def _filter(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    raw = request.param("$filter")
    if raw is None:
        return items
    match = _FILTER.match(raw)
    if match is None:
        raise GraphError(400, "Request_UnsupportedQuery", "Unsupported Query.")
    prop, value = match["prop"], match["value"].replace("''", "'")
    keys = {k.lower(): k for item in items for k in item}
    if items and prop.lower() not in keys:
        raise GraphError(
            400, "Request_BadRequest", f"Property '{prop}' does not exist as a declared property."
        )
    key = keys.get(prop.lower(), prop)
    return [i for i in items if str(i.get(key, "")).lower() == value.lower()]


def _page_size(request: Request) -> int:
    raw = request.param("$top")
    if raw is None:
        return DEFAULT_PAGE
    try:
        top = int(raw)
    except ValueError:
        top = 0
    if not 1 <= top <= MAX_PAGE:
        raise GraphError(
            400,
            "Request_BadRequest",
            f"Invalid page size specified: '{raw}'. Must be between 1 and {MAX_PAGE} inclusive.",
        )
    return top


def _offset(request: Request) -> int:
    raw = request.param("$skiptoken")
    if raw is None:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        if not decoded.startswith("offset:"):
            raise ValueError(decoded)
        offset = int(decoded.removeprefix("offset:"))
        if offset < 0:
            raise ValueError(decoded)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise GraphError(
            400, "Request_BadRequest", "The specified page token value has expired or is invalid."
        ) from None
    return offset


def _context(base: str, kind: str, selected: Iterable[str] | None, *, entity: bool = False) -> str:
    fields = f"({','.join(selected)})" if selected else ""
    return f"{base}/$metadata#{kind}{fields}" + ("/$entity" if entity else "")


def _collection(request: Request, base: str, kind: str, items: list[dict[str, Any]]) -> Response:
    singular = {"users": "user", "groups": "group", "servicePrincipals": "servicePrincipal"}
    items = _filter(request, items)
    top, offset = _page_size(request), _offset(request)
    selected, shown = _select(request, items[offset : offset + top], singular.get(kind, kind))
    body: dict[str, Any] = {"@odata.context": _context(base, kind, selected), "value": shown}
    if offset + top < len(items):
        params = {k: v[0] for k, v in request.query.items() if k != "$skiptoken" and v}
        params["$skiptoken"] = (
            base64.urlsafe_b64encode(f"offset:{offset + top}".encode()).decode().rstrip("=")
        )
        body["@odata.nextLink"] = f"{base.rsplit('/', 1)[0]}{request.path}?{urlencode(params)}"
    return Response(200, body)


def _entity(request: Request, base: str, kind: str, item: dict[str, Any]) -> Response:
    singular = {"users": "user", "groups": "group"}
    selected, shown = _select(request, [item], singular.get(kind, kind))
    return Response(
        200, {"@odata.context": _context(base, kind, selected, entity=True), **shown[0]}
    )


def _create_group(request: Request, base: str, tenant: TenantGraph) -> Response:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise GraphError(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and "
            "payload is of valid JSON format.",
        )
    for key in body:
        if key not in GROUP_WRITABLE:
            raise GraphError(
                400,
                "BadRequest",
                f"Property '{key}' does not exist on type 'microsoft.graph.group'. Make sure to "
                "only use property names that are defined by the type or mark the type as open "
                "type.",
            )
    checks: list[tuple[str, Callable[[Any], bool]]] = [
        ("displayName", lambda v: isinstance(v, str) and bool(v.strip()) and len(v) <= 256),
        ("mailEnabled", lambda v: isinstance(v, bool)),
        ("mailNickname", lambda v: isinstance(v, str) and bool(_NICKNAME.match(v))),
        ("securityEnabled", lambda v: isinstance(v, bool)),
    ]
    for key, valid in checks:
        if key not in body:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"A value is required for property '{key}' of resource 'Group'.",
            )
        if not valid(body[key]):
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Invalid value specified for property '{key}' of resource 'Group'.",
            )
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise GraphError(
            400,
            "Request_BadRequest",
            "Invalid value specified for property 'description' of resource 'Group'.",
        )
    group_types = body.get("groupTypes", [])
    if not isinstance(group_types, list) or not all(isinstance(t, str) for t in group_types):
        raise GraphError(
            400,
            "Request_BadRequest",
            "Invalid value specified for property 'groupTypes' of resource 'Group'.",
        )
    if body["mailEnabled"] and "Unified" not in group_types:
        raise GraphError(
            400,
            "Request_BadRequest",
            "The service does not currently support writes of mail-enabled groups. Please "
            "ensure that the mail-enablement property is unset or is set to false.",
        )
    links = body.get("members@odata.bind", [])
    if not isinstance(links, list) or not all(isinstance(link, str) for link in links):
        raise GraphError(
            400, "Request_BadRequest", "Invalid value specified for 'members@odata.bind'."
        )
    member_ids = []
    for link in links:
        key = link.rstrip("/").rsplit("/", 1)[-1]
        user = tenant.user(key)
        if user is None:
            raise _not_found(key)
        member_ids.append(user["id"])
    group = tenant.add_group(body, member_ids)
    if group_types:
        group["groupTypes"] = list(group_types)
    return Response(
        201,
        {"@odata.context": _context(base, "groups", None, entity=True), **group},
        headers={"Location": f"{base}/groups/{group['id']}"},
    )
