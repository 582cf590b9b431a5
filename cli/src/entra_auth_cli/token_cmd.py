"""``entra-auth token``: an access token for scripts (``curl -H "Authorization: Bearer $(…)"``).

It signs in again from the saved recipe, or from ``--profile NAME`` without touching the saved
connection: one token request per process (none with a CurrentUser-cached token), secrets
resolved from their references at that moment. A token is for one resource: ``--scope`` takes
one scope or several of the same resource (Entra refuses a mix, AADSTS70011), ``--resource
URL`` is az's way of saying ``URL/.default``, ``--tenant`` asks another tenant (allowed by the
credential's ``additionally_allowed_tenants``). ``--output json`` prints entra-auth's
snake_case fields; ``--az-fields`` prints ``az account get-access-token``'s instead.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Annotated

import typer

from .output import echo, to_json, token_json
from .sessions import (
    DEFAULT_TIMEOUT,
    ProfileOption,
    TimeoutOption,
    chosen_profile,
    request_for,
    within,
)


class TokenOutput(enum.StrEnum):
    raw = "raw"
    json = "json"


def resource_of(scope: str, graph_endpoint: str) -> str:
    """The resource a scope is for: everything before its last ``/`` (``https://x/.default``
    and ``api://id/Read`` -> ``https://x``, ``api://id``); a bare permission (``User.Read``)
    is Microsoft Graph's, as Entra reads it."""
    head, sep, _ = scope.rstrip().rpartition("/")
    if not sep or "://" not in scope:
        return graph_endpoint.rstrip("/").lower()
    return head.rstrip("/").lower()


def choose_scopes(
    scopes: Sequence[str] | None, resource: str | None, default: str, graph_endpoint: str
) -> tuple[str, ...]:
    """The scopes to ask for; ``UsageError`` for a mix of resources or both flags."""
    from entra_auth import UsageError

    if resource is not None and scopes:
        raise UsageError("give --scope or --resource, not both")
    if resource is not None:
        if "://" not in resource or not resource.strip().rstrip("/"):
            raise UsageError(f"--resource {resource!r} is not a URL (e.g. https://vault.azure.net)")
        return (resource.strip().rstrip("/") + "/.default",)
    if not scopes:
        return (default,)
    resources = list(dict.fromkeys(resource_of(s, graph_endpoint) for s in scopes))
    if len(resources) > 1:
        raise UsageError(
            f"the scopes are for {len(resources)} resources ({', '.join(resources)}); a token "
            "is for one resource: run entra-auth token once per resource"
        )
    return tuple(dict.fromkeys(scopes))


def token(
    scope: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SCOPE",
            help="Scope to request; repeat it for several scopes of the same resource. "
            "Default: the environment's Graph '.default' scope "
            "(https://graph.microsoft.com/.default).",
        ),
    ] = None,
    resource: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="The resource to get a token for, as az takes it: the same as --scope "
            "URL/.default.",
        ),
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(
            metavar="ID",
            help="Ask this tenant for the token; it must be the connection's own or in its "
            "additionally_allowed_tenants.",
        ),
    ] = None,
    output: Annotated[
        TokenOutput,
        typer.Option(case_sensitive=False, help="raw: the token alone; json: token and expiry."),
    ] = TokenOutput.raw,
    az_fields: Annotated[
        bool,
        typer.Option(
            "--az-fields",
            help="With --output json: az account get-access-token's fields (accessToken, "
            "expiresOn, expires_on, tenant, tokenType) instead of entra-auth's.",
        ),
    ] = False,
    profile: ProfileOption = None,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
) -> None:
    """Print an access token for the current connection (or a profile)."""
    from entra_auth import UsageError
    from entra_auth.connect import open_credential
    from entra_auth.credential import token_request_options
    from entra_auth.errors import SecretReferenceError

    from .prompted_secrets import not_kept_hint
    from .status import waiting

    if az_fields and output is not TokenOutput.json:
        raise UsageError("--az-fields goes with --output json")
    request = request_for(chosen_profile(profile))
    scopes = choose_scopes(
        scope, resource, request.environment.default_scope, request.environment.graph_endpoint
    )
    credential = open_credential(
        request,
        scopes=scopes,
        fetch_token=False,
        # A token cached by CurrentUser is served without loading the provider (nor msal).
        defer_create=True,
    )
    options = token_request_options(tenant=tenant)
    try:
        with waiting(f"Getting a token from {request.environment.authority_host}"):
            info = within(
                timeout,
                f"a token from {request.environment.authority_host}",
                lambda: credential.get_token_info(*scopes, options=options),
            )
        token_tenant = tenant or credential.context.as_dict().get("TenantId")
    except SecretReferenceError:
        hint = not_kept_hint(request)
        if hint is None:
            raise
        raise SecretReferenceError(hint) from None
    finally:
        credential.close()
    if output is TokenOutput.json and az_fields:
        echo(to_json(az_token_fields(info.token, info.expires_on, info.token_type, token_tenant)))
    elif output is TokenOutput.json:
        echo(token_json(info.token_type, info.token, info.expires_on, scopes))
    else:
        echo(info.token)


def az_token_fields(
    token: str, expires_on: int, token_type: str, tenant: str | None
) -> dict[str, object]:
    """``az account get-access-token --output json``'s shape: ``expiresOn`` in local time
    (``YYYY-MM-DD HH:MM:SS.ffffff``), ``expires_on`` in POSIX seconds."""
    from datetime import datetime

    local = datetime.fromtimestamp(expires_on).strftime("%Y-%m-%d %H:%M:%S.%f")
    return {
        "accessToken": token,
        "expiresOn": local,
        "expires_on": int(expires_on),
        "tenant": tenant,
        "tokenType": token_type,
    }
