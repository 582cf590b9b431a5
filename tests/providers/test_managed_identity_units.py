"""The pure decisions, checked without a network: which host the environment selects (msal's
order), how scopes become a resource, how Retry-After is read, how an identity is named."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests

from entra_auth import UsageError
from entra_auth.testing import ProviderConformance
from entra_auth_managed_identity.hosts import detect_host
from entra_auth_managed_identity.identity import Identity
from entra_auth_managed_identity.source import scope_to_resource
from entra_auth_managed_identity.transport import retry_after

SF = {"IDENTITY_ENDPOINT": "https://sf", "IDENTITY_HEADER": "h", "IDENTITY_SERVER_THUMBPRINT": "t"}


@pytest.mark.parametrize(
    ("environ", "source", "endpoint"),
    [
        (SF, "ServiceFabric", "https://sf"),
        ({**SF, "MSI_ENDPOINT": "http://ml", "MSI_SECRET": "s"}, "ServiceFabric", "https://sf"),
        ({"IDENTITY_ENDPOINT": "http://as", "IDENTITY_HEADER": "h"}, "AppService", "http://as"),
        (
            {"IDENTITY_ENDPOINT": "http://as", "IDENTITY_HEADER": "h", "IMDS_ENDPOINT": "x"},
            "AppService",
            "http://as",
        ),
        ({"MSI_ENDPOINT": "http://ml", "MSI_SECRET": "s"}, "MachineLearning", "http://ml"),
        (
            {"IDENTITY_ENDPOINT": "http://arc", "IMDS_ENDPOINT": "http://x"},
            "AzureArc",
            "http://arc",
        ),
        ({"MSI_ENDPOINT": "http://cs"}, "CloudShell", "http://cs"),
        (
            {"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://10.0.0.1:2579/"},
            "IMDS",
            "http://10.0.0.1:2579/metadata/identity/oauth2/token",
        ),
        ({}, "IMDS", "http://169.254.169.254/metadata/identity/oauth2/token"),
    ],
)
def test_host_precedence_follows_msal(environ: dict[str, str], source: str, endpoint: str) -> None:
    host = detect_host(environ)  # a dict, not os.environ: nothing is contacted
    assert (host.source, host.endpoint) == (source, endpoint)


def test_default_imds_cause_says_not_on_azure() -> None:
    assert "probably not an Azure VM" in detect_host({}).likely_cause()


@pytest.mark.parametrize(
    ("scopes", "resource"),
    [
        (["https://graph.microsoft.com/.default"], "https://graph.microsoft.com"),
        (["https://vault.azure.net/.default"], "https://vault.azure.net"),
        (["api://0a1b2c3d/.default"], "api://0a1b2c3d"),
        (["https://management.azure.com/"], "https://management.azure.com/"),
    ],
)
def test_scope_becomes_resource(scopes: list[str], resource: str) -> None:
    assert scope_to_resource(scopes) == resource


def test_several_scopes_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match="one resource"):
        scope_to_resource(
            ["https://graph.microsoft.com/.default", "https://vault.azure.net/.default"]
        )


def _response(value: str | None) -> requests.Response:
    response = requests.Response()
    if value is not None:
        response.headers["Retry-After"] = value
    return response


def test_retry_after_seconds_and_http_date() -> None:
    assert retry_after(_response("7")) == 7
    assert retry_after(_response(None)) is None
    assert retry_after(_response("soon")) is None
    in_three = email.utils.formatdate(time.time() + 3, usegmt=True)
    assert 1 <= (retry_after(_response(in_three)) or 0) <= 3


@pytest.mark.parametrize(
    ("options", "kind", "account"),
    [
        ({}, "SystemAssigned", "SystemAssigned"),
        ({"client_id": "c"}, "ClientId", "c"),
        ({"object_id": "o"}, "ObjectId", "o"),
        ({"resource_id": "/subscriptions/s/x"}, "ResourceId", "/subscriptions/s/x"),
    ],
)
def test_identity_from_options(options: dict[str, str], kind: str, account: str) -> None:
    identity = Identity.from_options(options)
    assert (identity.kind, identity.account) == (kind, account)


def test_resource_id_must_look_like_an_arm_id() -> None:
    with pytest.raises(UsageError, match="ARM resource id"):
        Identity.from_options({"resource_id": "uami-nightly"})


class TestManagedIdentityConformance(ProviderConformance):
    """Core's plugin-author kit applied to this provider (it makes no request in ``create``)."""

    provider_name = "managed-identity"
    valid_options = {"client_id": "33333333-3333-3333-3333-333333333333"}
