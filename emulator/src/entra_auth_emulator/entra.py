"""The authority endpoints: tenant OIDC discovery (v1 and v2, and ``common``/``organizations``),
instance discovery, JWKS, the authorization endpoint msal needs named, and the token endpoint
(client credentials only, as app-only sign-in needs)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote_plus, urlsplit

from . import client_auth, errors
from .messages import Request, Response
from .tokens import v1_issuer

if TYPE_CHECKING:
    from .service import Service

MAX_FORM_FIELDS = 64


TENANTLESS = ("common", "organizations")


def _tenant_or_error(service: Service, tenant: str, *, error: str = "invalid_request") -> str:
    canonical = service.directory.canonical_tenant(tenant)
    if canonical is None:
        raise errors.unknown_tenant(tenant, error=error)
    return canonical


def openid_configuration(service: Service, tenant: str, *, v1: bool = False) -> dict[str, object]:
    """The tenant's OIDC document (``tenant`` is the id, or ``common``/``organizations`` whose
    documents carry Entra's ``{tenantid}`` placeholder). It advertises only endpoints the
    emulator serves: no device code, logout or userinfo endpoints."""
    base = f"{service.authority_host}/{tenant}"
    issuer_tenant = "{tenantid}" if tenant.lower() in TENANTLESS else tenant
    version = "" if v1 else "/v2.0"
    document: dict[str, object] = {
        "token_endpoint": f"{base}/oauth2{version}/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{base}/discovery{version}/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": v1_issuer(issuer_tenant) if v1 else service.issuer_for(issuer_tenant),
        "request_uri_parameter_supported": False,
        # msal requires an authorization endpoint; it answers every app with AADSTS500113.
        "authorization_endpoint": f"{base}/oauth2{version}/authorize",
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "nbf",
            "tid",
            "oid",
            "appid" if v1 else "azp",
            "roles",
            "idtyp",
        ],
        "tenant_region_scope": None if tenant.lower() in TENANTLESS else "EMU",
        "cloud_instance_name": "entra-auth-emulator",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }
    return document


def discovery(service: Service, request: Request, tenant: str, *, v1: bool = False) -> Response:
    if tenant.lower() in TENANTLESS:
        name = tenant.lower()
        return Response(200, openid_configuration(service, name, v1=v1), log={"tenant": name})
    canonical = _tenant_or_error(service, tenant, error="invalid_tenant")
    return Response(200, openid_configuration(service, canonical, v1=v1), log={"tenant": canonical})


def jwks(service: Service, request: Request, tenant: str) -> Response:
    issuer = None
    if tenant.lower() not in (*TENANTLESS, "consumers"):
        tenant = _tenant_or_error(service, tenant, error="invalid_tenant")
        issuer = service.issuer_for(tenant)
    return Response(200, service.issuer.jwks(issuer), log={"tenant": tenant})


def authorize(service: Service, request: Request, tenant: str) -> Response:
    """The authorization endpoint msal insists discovery names. Apps registered here have no
    reply address, so Entra's answer to any of them is AADSTS500113 (as JSON, not a page)."""
    canonical = _tenant_or_error(service, tenant)
    client_id = request.param("client_id")
    if not client_id:
        raise errors.missing_parameter("client_id")
    if service.directory.app(canonical, client_id) is None:
        raise errors.unknown_app(client_id, canonical)
    raise errors.no_reply_address(client_id)


def instance_discovery(service: Service, request: Request) -> Response:
    """What msal asks when instance discovery is left on: where the tenant's OIDC document is."""
    endpoint = request.param("authorization_endpoint") or ""
    parts = urlsplit(endpoint).path.split("/")
    tenant = unquote_plus(parts[1]) if len(parts) > 1 and parts[1] else "common"
    host = urlsplit(service.authority_host).netloc
    return Response(
        200,
        {
            "tenant_discovery_endpoint": (
                f"{service.authority_host}/{tenant}/v2.0/.well-known/openid-configuration"
            ),
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        },
    )


def _form(request: Request) -> dict[str, str]:
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if request.body and content_type != "application/x-www-form-urlencoded":
        raise errors.malformed_body()
    try:
        text = request.body.decode("utf-8")
        parsed = parse_qs(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            max_num_fields=MAX_FORM_FIELDS,
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError):
        raise errors.malformed_body() from None
    form: dict[str, str] = {}
    for key, values in parsed.items():
        if len(values) != 1:
            raise errors.EntraError(
                400, "invalid_request", 900144, f"The parameter '{key}' is duplicated."
            )
        form[key] = values[0]
    return form


def _basic_credentials(request: Request) -> tuple[str, str, str] | None:
    """client_secret_basic: base64 of form-urlencoded id and secret joined by a colon."""
    auth = request.header("authorization")
    if not auth:
        return None
    scheme, _, value = auth.partition(" ")
    if scheme.lower() != "basic":
        raise errors.EntraError(
            401, "invalid_client", 7000218, "Only the Basic authorization scheme is supported."
        )
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.EntraError(
            401, "invalid_client", 7000218, "The Basic authorization header is malformed."
        ) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise errors.EntraError(
            401, "invalid_client", 7000218, "The Basic authorization header is malformed."
        )
    return unquote_plus(client_id), unquote_plus(secret), secret


def _resource_of(scope: str) -> str:
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default") or scopes[0] == "/.default":
        raise errors.invalid_scope(scope)
    resource = scopes[0][: -len("/.default")]
    if not resource.strip():
        raise errors.invalid_scope(scope)
    return resource


def client_capabilities(claims: str | None) -> tuple[str, ...]:
    """The client capabilities (``CP1``...) a ``claims`` request parameter declares, as msal and
    azure-identity send them: ``{"access_token": {"xms_cc": {"values": ["CP1"]}}}``."""
    if not claims:
        return ()
    try:
        parsed = json.loads(claims)
        values = parsed["access_token"]["xms_cc"]["values"]
    except (ValueError, KeyError, TypeError):
        return ()
    if not isinstance(values, list):
        return ()
    return tuple(v for v in values if isinstance(v, str) and v)


def token(service: Service, request: Request, tenant: str, *, v1: bool = False) -> Response:
    """The token endpoint; refusals raise EntraError and carry Entra's status and code."""
    log: dict[str, object] = {}
    form = _form(request)
    grant_type = form.get("grant_type")
    if grant_type:
        log["grant_type"] = grant_type
    basic = _basic_credentials(request)
    client_id = form.get("client_id") or (basic[0] if basic else None)
    if client_id:
        log["client_id"] = client_id
    try:
        if tenant.lower() in TENANTLESS:
            raise errors.tenantless_authority(tenant)
        canonical = _tenant_or_error(service, tenant)
        log["tenant"] = canonical
        if not grant_type:
            raise errors.missing_parameter("grant_type")
        if grant_type != "client_credentials":
            raise errors.unsupported_grant(grant_type)
        if not client_id:
            raise errors.missing_parameter("client_id")
        if basic and basic[0].lower() != client_id.lower():
            raise errors.EntraError(
                401,
                "invalid_client",
                700021,
                "The client_id in the Basic authorization header does not match 'client_id'.",
            )
        app = service.directory.app(canonical, client_id)
        if app is None:
            raise errors.unknown_app(client_id, canonical)
        if not app.enabled:
            raise errors.app_disabled(app.client_id, app.display_name)
        if v1:
            requested = form.get("resource")
            if not requested:
                raise errors.missing_parameter("resource")
        else:
            scope = form.get("scope")
            if scope is None:
                raise errors.missing_parameter("scope")
            requested = _resource_of(scope)
        resource = service.directory.resource(canonical, requested)
        if resource is None:
            raise errors.unknown_resource(requested, canonical)

        secret = form.get("client_secret")
        secrets = [secret] if secret is not None else []
        if basic:
            if secret is not None:
                raise errors.both_credentials()
            secrets = [basic[1], basic[2]]
        assertion = form.get("client_assertion")
        if secrets and assertion is not None:
            raise errors.both_credentials()
        if secrets:
            log["credential"] = "secret"
            credential_type = client_auth.check_secret(app, *secrets)
        elif assertion is not None:
            log["credential"] = "certificate"
            credential_type = client_auth.check_assertion(
                app=app,
                assertion=assertion,
                assertion_type=form.get("client_assertion_type", ""),
                client_id=client_id,
                audiences=service.assertion_audiences(tenant, canonical),
                directory=service.directory,
                federation=service.federation,
                log=log,
            )
        else:
            raise errors.no_credential()
    except errors.EntraError as exc:
        exc.log.update(log)
        raise

    issued = service.issuer.issue(
        v2_issuer=service.issuer_for(canonical),
        tenant_id=canonical,
        principal=app,
        resource=resource,
        credential_type=credential_type,
        lifetime=service.lifetime_for(app),
        capabilities=client_capabilities(form.get("claims")),
    )
    body: dict[str, object] = {
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "ext_expires_in": issued.expires_in,
        "access_token": issued.access_token,
    }
    if v1:
        body = {
            "token_type": "Bearer",
            "expires_in": str(issued.expires_in),
            "ext_expires_in": str(issued.expires_in),
            "expires_on": str(issued.claims["exp"]),
            "not_before": str(issued.claims["nbf"]),
            "resource": requested,
            "access_token": issued.access_token,
        }
    return Response(200, body, log=log)
