"""Managed identity endpoints: Azure VM IMDS and the App Service / Functions identity endpoint.

Their request and response shapes differ from Entra's (query strings, string-valued numbers,
their own error bodies), and clients such as msal parse each shape separately, so each is
reproduced as the real service answers.
"""

from __future__ import annotations

import hmac
import uuid
from typing import TYPE_CHECKING

from . import errors
from .config import ManagedIdentityRegistration
from .messages import Request, Response
from .resources import ResolvedResource

if TYPE_CHECKING:
    from .service import Service

MI_CREDENTIAL = "2"  # managed identities authenticate with a certificate behind the scenes


def _selector(request: Request, names: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The identity selector from the query; an error text when more than one is given."""
    chosen = {}
    for param, kind in names.items():
        value = request.param(param)
        if value:
            chosen[kind] = value
    if len(chosen) > 1:
        return chosen, "Multiple identity selectors given; use one of " + ", ".join(names)
    return chosen, None


def select_identity(
    service: Service, request: Request, names: dict[str, str], log: dict[str, object]
) -> tuple[ManagedIdentityRegistration | None, str | None]:
    """The identity a request names (the system-assigned one when it names none), logged.

    ``(None, problem)`` when selectors conflict; ``(None, None)`` when no such identity exists,
    since each host words "not found" its own way."""
    chosen, problem = _selector(request, names)
    log["identity"] = next(iter(chosen), "system")
    if problem:
        return None, problem
    mi = service.directory.managed_identity(**chosen)
    if mi is not None:
        log["client_id"] = mi.client_id
    return mi, None


def resolve(
    service: Service, mi: ManagedIdentityRegistration, resource: str
) -> ResolvedResource | None:
    """The resource in the identity's tenant, or None: every host then refuses in its own way."""
    return service.directory.resource(mi.tenant_id, resource)


def unknown_resource_text(resource: str, tenant: str) -> str:
    """What IMDS says for a resource that does not exist (Microsoft's IMDS error table:
    400 ``invalid_resource``, AADSTS50001)."""
    return (
        f"AADSTS50001: The application named {resource} was not found in the tenant named "
        f"{tenant}. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You might have "
        "sent your authentication request to the wrong tenant."
    )


def _issue(
    service: Service, mi: ManagedIdentityRegistration, resource: ResolvedResource
) -> tuple[str, dict[str, object], int]:
    tenant = mi.tenant_id
    issued = service.issuer.issue(
        v2_issuer=service.issuer_for(tenant),
        tenant_id=tenant,
        principal=mi,
        resource=resource,
        credential_type=MI_CREDENTIAL,
        lifetime=service.lifetime_for(mi),
    )
    return issued.access_token, issued.claims, issued.expires_in


def _resource(request: Request) -> str | None:
    resource = request.param("resource")
    if resource and resource.endswith("/.default"):
        resource = resource[: -len("/.default")]
    return resource or None


def imds(service: Service, request: Request) -> Response:
    """``GET /metadata/identity/oauth2/token`` as the Azure Instance Metadata Service answers."""

    def refuse(status: int, error: str, description: str) -> Response:
        return Response(status, {"error": error, "error_description": description}, log=log)

    log: dict[str, object] = {}
    if request.method != "GET":
        return refuse(405, "invalid_request", "Only GET is supported")
    if (request.header("metadata") or "").lower() != "true":
        return refuse(400, "invalid_request", "Required metadata header not specified")
    if request.header("x-forwarded-for"):
        return refuse(400, "invalid_request", "Request is not allowed through a proxy")
    if not request.param("api-version"):
        return refuse(400, "invalid_request", "Required query variable 'api-version' is missing")
    resource = _resource(request)
    if not resource:
        return refuse(400, "invalid_request", "Required audience parameter not specified")
    mi, problem = select_identity(
        service,
        request,
        {
            "client_id": "client_id",
            "object_id": "object_id",
            "msi_res_id": "resource_id",
            "mi_res_id": "resource_id",
        },
        log,
    )
    if problem:
        return refuse(400, "invalid_request", problem)
    if mi is None:
        return refuse(400, "invalid_request", "Identity not found")
    resolved = resolve(service, mi, resource)
    if resolved is None:
        return refuse(400, "invalid_resource", unknown_resource_text(resource, mi.tenant_id))
    access_token, claims, lifetime = _issue(service, mi, resolved)
    return Response(
        200,
        {
            "access_token": access_token,
            "client_id": mi.client_id,
            "expires_in": str(lifetime),
            "expires_on": str(claims["exp"]),
            "ext_expires_in": str(lifetime),
            "not_before": str(claims["nbf"]),
            "resource": resource,
            "token_type": "Bearer",
        },
        log=log,
    )


def app_service(service: Service, request: Request) -> Response:
    """The ``IDENTITY_ENDPOINT`` of App Service, Functions and Automation (api 2019-08-01)."""
    correlation_id = str(uuid.uuid4())

    def refuse(status: int, message: str) -> Response:
        return Response(
            status,
            {"statusCode": status, "message": message, "correlationId": correlation_id},
            log=log,
        )

    log: dict[str, object] = {}
    if request.method != "GET":
        return refuse(405, "Only GET is supported")
    header = request.header("x-identity-header") or ""
    if not hmac.compare_digest(header.encode(), service.identity_header.encode()):
        return refuse(401, "The X-IDENTITY-HEADER header is missing or does not match.")
    if not request.param("api-version"):
        return refuse(400, "The api-version query parameter is required.")
    resource = _resource(request)
    if not resource:
        return refuse(400, "The resource query parameter is required.")
    mi, problem = select_identity(
        service,
        request,
        {
            "client_id": "client_id",
            "object_id": "object_id",
            "principal_id": "object_id",
            "mi_res_id": "resource_id",
            "msi_res_id": "resource_id",
        },
        log,
    )
    if problem:
        return refuse(400, problem)
    if mi is None:
        return refuse(400, "Unable to load the proper Managed Identity.")
    resolved = resolve(service, mi, resource)
    if resolved is None:
        # Not documented by Microsoft: App Service's error shape carrying Entra's refusal.
        return refuse(400, str(errors.unknown_resource(resource, mi.tenant_id)))
    access_token, claims, lifetime = _issue(service, mi, resolved)
    return Response(
        200,
        {
            "access_token": access_token,
            "expires_in": str(lifetime),
            "expires_on": str(claims["exp"]),
            "not_before": str(claims["nbf"]),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": mi.client_id,
        },
        log=log,
    )
