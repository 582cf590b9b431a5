"""The pure decisions, checked without a network: which host the environment selects (msal's
order), how scopes become a resource, how Retry-After is read, how an identity is named."""

from __future__ import annotations

import email.utils
import os
import re
import sys
import time
from pathlib import Path

import pytest
import requests

from entra_auth import UsageError
from entra_auth_managed_identity import hosts
from entra_auth_managed_identity.hosts import detect_host
from entra_auth_managed_identity.identity import Identity
from entra_auth_managed_identity.source import scope_to_resource
from entra_auth_managed_identity.transport import retry_after

SF = {
    "IDENTITY_ENDPOINT": "https://sf",
    "IDENTITY_HEADER": "h",
    "IDENTITY_SERVER_THUMBPRINT": "AB:" * 19 + "AB",
}
AGENT_ENDPOINT = "http://localhost:40342/metadata/identity/oauth2/token"
_MSAL_SOURCES = {
    "SERVICE_FABRIC": "ServiceFabric",
    "APP_SERVICE": "AppService",
    "MACHINE_LEARNING": "MachineLearning",
    "AZURE_ARC": "AzureArc",
    "DEFAULT_TO_VM": "IMDS",
}


@pytest.fixture
def no_arc_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Detection as on a machine without the Arc agent, even when this one has it: the agent's
    file outranks Cloud Shell and IMDS, for msal as for us."""
    import msal.managed_identity

    monkeypatch.setattr(hosts, "arc_agent", lambda: None)
    monkeypatch.setattr(msal.managed_identity, "_get_arc_endpoint", _msal_arc_without_agent)


def _msal_arc_without_agent() -> str | None:
    if "IDENTITY_ENDPOINT" in os.environ and "IMDS_ENDPOINT" in os.environ:
        return os.environ["IDENTITY_ENDPOINT"]
    return None


HOST_CASES = [
    (SF, "ServiceFabric", "https://sf"),
    ({**SF, "MSI_ENDPOINT": "http://ml", "MSI_SECRET": "s"}, "ServiceFabric", "https://sf"),
    ({"IDENTITY_ENDPOINT": "http://as", "IDENTITY_HEADER": "h"}, "AppService", "http://as"),
    (
        {"IDENTITY_ENDPOINT": "http://as", "IDENTITY_HEADER": "", "IMDS_ENDPOINT": "x"},
        "AppService",
        "http://as",
    ),
    ({"MSI_ENDPOINT": "http://ml", "MSI_SECRET": "s"}, "MachineLearning", "http://ml"),
    ({"MSI_ENDPOINT": "http://ml", "MSI_SECRET": ""}, "MachineLearning", "http://ml"),
    ({"IDENTITY_ENDPOINT": "http://arc", "IMDS_ENDPOINT": "http://x"}, "AzureArc", "http://arc"),
    ({"IDENTITY_ENDPOINT": "http://arc", "IMDS_ENDPOINT": ""}, "AzureArc", "http://arc"),
    ({"MSI_ENDPOINT": "http://cs"}, "CloudShell", "http://cs"),
    (
        {"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://10.0.0.1:2579/"},
        "IMDS",
        "http://10.0.0.1:2579/metadata/identity/oauth2/token",
    ),
    ({}, "IMDS", "http://169.254.169.254/metadata/identity/oauth2/token"),
]


@pytest.mark.usefixtures("no_arc_agent")
@pytest.mark.parametrize(("environ", "source", "endpoint"), HOST_CASES)
def test_host_precedence_follows_msal(
    environ: dict[str, str], source: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = detect_host(environ)  # a dict, not os.environ: nothing is contacted
    assert (host.source, host.endpoint) == (source, endpoint)

    # msal, reading the real environment, must pick the same host (Cloud Shell aside: msal
    # leaves it to the caller and would fall back to IMDS).
    import msal.managed_identity as mi

    for name in (*{k for case in HOST_CASES for k in case[0]}, "AZUREPS_HOST_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    msal_source = next(
        label
        for attr, label in _MSAL_SOURCES.items()
        if mi.get_managed_identity_source() is getattr(mi, attr)
    )
    assert msal_source == ("IMDS" if source == "CloudShell" else source)


def test_the_arc_agent_file_outranks_cloud_shell_and_imds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = tmp_path / "himds"
    agent.touch()
    monkeypatch.setitem(hosts._ARC_AGENT_FILES, sys.platform, str(agent))

    for environ in (
        {},
        {"MSI_ENDPOINT": "http://cs"},
        {"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://x"},
    ):
        host = detect_host(environ)
        assert (host.source, host.endpoint) == ("AzureArc", AGENT_ENDPOINT)
        assert str(agent) in host.chosen_by
    # ...but not the variables of App Service, Service Fabric or Azure ML.
    assert detect_host({"MSI_ENDPOINT": "http://ml", "MSI_SECRET": "s"}).source == "MachineLearning"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"AZURE_POD_IDENTITY_AUTHORITY_HOST": ""}, "AZURE_POD_IDENTITY_AUTHORITY_HOST=''"),
        ({"AZURE_POD_IDENTITY_AUTHORITY_HOST": "10.0.0.1:2579"}, "AZURE_POD_IDENTITY_AUTHORITY"),
        ({"IDENTITY_ENDPOINT": "", "IDENTITY_HEADER": "h"}, "IDENTITY_ENDPOINT=''"),
        ({"MSI_ENDPOINT": "ml", "MSI_SECRET": "s"}, "MSI_ENDPOINT='ml'"),
        ({**SF, "IDENTITY_ENDPOINT": "http://sf"}, "is not an https:// URL"),
        ({**SF, "IDENTITY_SERVER_THUMBPRINT": "zz"}, "IDENTITY_SERVER_THUMBPRINT='zz'"),
    ],
    ids=[
        "empty-pod-host",
        "pod-host-no-scheme",
        "empty-endpoint",
        "ml-no-scheme",
        "sf-http",
        "sf-tp",
    ],
)
def test_unusable_host_variables_are_bad_configuration(
    environ: dict[str, str], names: str, no_arc_agent: None
) -> None:
    """Never a quiet fall-through to 169.254.169.254, and never a request msal would garble."""
    with pytest.raises(UsageError, match=re.escape(names)) as caught:
        detect_host(environ)
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)


def test_service_fabric_thumbprint_is_normalised_as_msal_does(no_arc_agent: None) -> None:
    environ = {
        **SF,
        "IDENTITY_HEADER": "s3cr3t-header",
        "IDENTITY_SERVER_THUMBPRINT": " " + "Ab:" * 19 + "aB ",
    }
    host = detect_host(environ)
    assert host.server_thumbprint == "ab" * 20
    assert host.secret == "s3cr3t-header"
    assert "s3cr3t" not in repr(host)


def test_default_imds_cause_says_not_on_azure(no_arc_agent: None) -> None:
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


@pytest.mark.parametrize("kind", ["client_id", "object_id", "resource_id"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_id_is_refused_not_taken_for_system_assigned(kind: str, value: str) -> None:
    """`--client-id "$UAMI_CLIENT_ID"` with the variable unset must not sign in as another
    identity (the system-assigned one) without a word."""
    with pytest.raises(UsageError, match="is empty"):
        Identity.from_options({kind: value})


def test_absent_ids_mean_system_assigned() -> None:
    assert Identity.from_options({"client_id": None, "object_id": None}).kind == "SystemAssigned"


def test_resource_id_must_look_like_an_arm_id() -> None:
    with pytest.raises(UsageError, match="ARM resource id"):
        Identity.from_options({"resource_id": "uami-nightly"})


def test_the_suite_can_never_fall_through_to_the_real_imds() -> None:
    """The root conftest's autouse fixture is what keeps every test (and every CLI child that
    inherits ``os.environ``) off 169.254.169.254; if it stops doing that, fail loudly here."""
    from urllib.parse import urlsplit

    host = detect_host()
    if host.source != "IMDS":  # only the Arc agent on this machine may outrank it
        assert host.source == "AzureArc" and hosts.arc_agent(), host
        return
    assert host.chosen_by == "AZURE_POD_IDENTITY_AUTHORITY_HOST"
    assert urlsplit(host.endpoint).hostname in ("127.0.0.1", "localhost", "::1")
