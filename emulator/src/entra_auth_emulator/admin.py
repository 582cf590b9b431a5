"""The admin HTTP API (Azurite style): add, list and remove tenants, apps, managed identities and
resources while the emulator runs. Loopback clients only (the caller checks), and every body is
validated by the same code as the config file's tables, so nothing the config would refuse gets
in this way. Certificates are PEM text here: a path would name a file on the emulator's side.

    GET    /_emulator/apps                      list (secrets never shown, only their expiry)
    POST   /_emulator/apps                      add or replace: one [[apps]] table as JSON
    DELETE /_emulator/apps/<tenant>/<client_id>
    (and the same for tenants/<tenant_id>, managed-identities/<client_id>, resources/<app_id>)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from cryptography.hazmat.primitives import hashes

from . import config
from .config import (
    AppRegistration,
    ManagedIdentityRegistration,
    ResourceRegistration,
    TenantRegistration,
)
from .errors import ConfigError
from .messages import Request, Response

if TYPE_CHECKING:
    from .service import Service

APPS = "/_emulator/apps"
TENANTS = "/_emulator/tenants"
MANAGED_IDENTITIES = "/_emulator/managed-identities"
RESOURCES = "/_emulator/resources"
PREFIXES = (APPS, TENANTS, MANAGED_IDENTITIES, RESOURCES)


def app_summary(app: AppRegistration) -> dict[str, Any]:
    return {
        "tenant_id": app.tenant_id,
        "client_id": app.client_id,
        "display_name": app.display_name,
        "object_id": app.object_id,
        "roles": list(app.roles),
        "enabled": app.enabled,
        "secrets": [{"expires": s.expires.isoformat() if s.expires else None} for s in app.secrets],
        "certificates": [c.fingerprint(hashes.SHA1()).hex().upper() for c in app.certificates],
        "trusted_issuers": [
            c.fingerprint(hashes.SHA1()).hex().upper() for c in app.trusted_issuers
        ],
        "trusted_subjects": list(app.trusted_subjects),
        "federated_credentials": [
            {
                "name": f.name,
                "issuer": f.issuer,
                "subject": f.subject,
                "audiences": list(f.audiences),
            }
            for f in app.federated_credentials
        ],
        "token_lifetime": app.token_lifetime,
        "access_token_accepted_version": app.access_token_accepted_version,
    }


def identity_summary(mi: ManagedIdentityRegistration) -> dict[str, Any]:
    return {
        "tenant_id": mi.tenant_id,
        "client_id": mi.client_id,
        "object_id": mi.object_id,
        "resource_id": mi.resource_id,
        "display_name": mi.display_name,
        "roles": list(mi.roles),
        "user_assigned": mi.user_assigned,
        "token_lifetime": mi.token_lifetime,
    }


def tenant_summary(tenant: TenantRegistration) -> dict[str, Any]:
    return {
        "tenant_id": tenant.tenant_id,
        "domains": list(tenant.domains),
        "display_name": tenant.display_name,
    }


def resource_summary(resource: ResourceRegistration) -> dict[str, Any]:
    return {
        "identifier_uris": list(resource.identifier_uris),
        "app_id": resource.app_id,
        "display_name": resource.display_name,
        "access_token_accepted_version": resource.access_token_accepted_version,
    }


def _error(status: int, error: str, message: str) -> Response:
    return Response(status, {"error": error, "error_description": message})


def _add(service: Service, collection: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Validate one entry as its config table and register it; ConfigError when invalid."""
    directory = service.directory
    where = collection.rsplit("/", 1)[1]
    if collection == APPS:
        app = config.parse_app(entry, base=None, where=where)
        directory.put_app(app)
        return app_summary(app)
    if collection == TENANTS:
        tenant = config.parse_tenant(entry, where)
        directory.put_tenant(tenant)
        return tenant_summary(tenant)
    if collection == MANAGED_IDENTITIES:
        mi = config.parse_managed_identity(entry, where)
        directory.put_managed_identity(mi)
        return identity_summary(mi)
    resource = config.parse_resource(entry, where)
    directory.put_resource(resource)
    return resource_summary(resource)


def _list(service: Service, collection: str) -> list[dict[str, Any]]:
    directory = service.directory
    if collection == APPS:
        return [app_summary(a) for a in directory.apps()]
    if collection == TENANTS:
        return [tenant_summary(t) for t in directory.tenants()]
    if collection == MANAGED_IDENTITIES:
        return [identity_summary(m) for m in directory.managed_identities()]
    return [resource_summary(r) for r in directory.registered_resources()]


def _remove(service: Service, collection: str, keys: list[str]) -> bool | None:
    """True when removed, False when not found, None when the path has the wrong key count."""
    directory = service.directory
    removers: dict[str, tuple[int, Callable[..., bool]]] = {
        APPS: (2, directory.remove_app),
        TENANTS: (1, directory.remove_tenant),
        MANAGED_IDENTITIES: (1, directory.remove_managed_identity),
        RESOURCES: (1, directory.remove_resource),
    }
    count, remover = removers[collection]
    if len(keys) != count or not all(keys):
        return None
    return remover(*keys)


def handle(service: Service, request: Request) -> Response:
    path, method = request.path, request.method
    collection = next(p for p in PREFIXES if path == p or path.startswith(p + "/"))
    keys = [unquote(k) for k in path[len(collection) :].strip("/").split("/") if k]
    if not keys and method == "GET":
        return Response(200, _list(service, collection))
    if not keys and method == "POST":
        try:
            entry = json.loads(request.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return _error(400, "invalid_request", "the body must be a JSON object")
        if not isinstance(entry, dict):
            return _error(400, "invalid_request", "the body must be a JSON object")
        try:
            return Response(201, _add(service, collection, entry))
        except ConfigError as exc:
            return _error(400, "invalid_request", str(exc))
    if keys and method == "DELETE":
        removed = _remove(service, collection, keys)
        if removed is None:
            return _error(404, "not_found", f"No emulator endpoint at {path}.")
        if not removed:
            return _error(404, "not_found", f"Nothing registered at {path}.")
        return Response(200, {"removed": True})
    return _error(405, "method_not_allowed", f"{method} {path}")
