"""Every Azure host against the emulator: the environment selects the host, the identity is the
one asked for, and the context says which identity and which host answered."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from mi_helpers import (
    GRAPH,
    HOSTS,
    USER_ASSIGNED_HOSTS,
    Identities,
    identity_requests,
    not_on_an_arc_machine,
    register_identities,
    use_host,
)

import entra_auth
from entra_auth import AuthenticationError, UsageError

pytestmark = not_on_an_arc_machine


@pytest.fixture
def identities(emulator: Any) -> Identities:
    emulator.reset()
    return register_identities(emulator)


@pytest.mark.parametrize("host", HOSTS)
def test_system_assigned_identity_on_each_host(
    host: str, emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, host)

    with entra_auth.connect("managed-identity") as credential:
        context = credential.context.as_dict()
        token = credential.get_token(f"{GRAPH}/.default").token

    assert context["AuthType"] == "ManagedIdentity"
    assert context["Account"] == "SystemAssigned"
    assert context["ManagedIdentitySource"] == host
    assert context["ManagedIdentityIdType"] == "SystemAssigned"
    assert context["ClientId"] == identities.system_client_id
    assert context["TenantId"] == identities.tenant_id
    assert context["AppName"] == identities.system_name
    assert context["Scopes"] == ["User.Read.All"]
    claims = emulator.verify_token(token)
    assert claims["aud"] == GRAPH  # the scope became the resource
    calls = identity_requests(emulator, host)
    assert calls and calls[-1]["status"] == 200
    assert calls[-1]["client_id"] == identities.system_client_id


@pytest.mark.parametrize("kind", ["client_id", "object_id", "resource_id"])
@pytest.mark.parametrize("host", USER_ASSIGNED_HOSTS)
def test_user_assigned_identity_by_each_id_kind(
    host: str, kind: str, emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, host)
    option = identities.user_option(kind)

    with entra_auth.connect("managed-identity", **option) as credential:
        context = credential.context.as_dict()

    assert context["ClientId"] == identities.user_client_id
    assert context["AppName"] == identities.user_name
    assert context["Scopes"] == ["Group.Read.All"]
    assert context["Account"] == next(iter(option.values()))
    assert (
        context["ManagedIdentityIdType"]
        == {
            "client_id": "ClientId",
            "object_id": "ObjectId",
            "resource_id": "ResourceId",
        }[kind]
    )
    assert context["ManagedIdentitySource"] == host
    assert identity_requests(emulator, host)[-1]["client_id"] == identities.user_client_id


@pytest.mark.parametrize("host", USER_ASSIGNED_HOSTS)
def test_unknown_user_assigned_identity_is_refused_with_a_hint(
    host: str, emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, host)
    unknown = "99999999-9999-9999-9999-999999999999"

    with pytest.raises(AuthenticationError) as caught:
        entra_auth.connect("managed-identity", client_id=unknown)

    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.exit_code == 1
    assert "HTTP 400" in message
    assert f"client id {unknown} is not assigned" in message
    assert not isinstance(caught.value, entra_auth.IdentityEndpointUnavailable)


@pytest.mark.parametrize("host", ["ServiceFabric", "CloudShell"])
def test_hosts_without_user_assigned_selection_refuse_an_id_before_any_request(
    host: str, emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, host)

    with pytest.raises(UsageError, match=f"{host} does not let the caller choose"):
        entra_auth.connect("managed-identity", client_id=identities.user_client_id)

    assert identity_requests(emulator, host) == []


def test_no_system_assigned_identity_on_service_fabric_names_the_code(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.reset()
    # A tenant with only a user-assigned identity: the cluster has no identity for this app.
    emulator.reset(registrations=True)
    emulator.register_managed_identity("tenant-only-user", "5f0c2c8e-0000-4000-8000-000000000001")
    use_host(monkeypatch, emulator, "ServiceFabric")

    with pytest.raises(AuthenticationError) as caught:
        entra_auth.connect("managed-identity")

    assert "HTTP 404" in str(caught.value)
    assert "ManagedIdentityNotFound" in str(caught.value)


def test_service_fabric_pins_the_endpoint_certificate(
    emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, "ServiceFabric")
    monkeypatch.setenv("IDENTITY_SERVER_THUMBPRINT", "00" * 20)

    with pytest.raises(entra_auth.IdentityEndpointUnavailable) as caught:
        entra_auth.connect("managed-identity")

    message = str(caught.value)
    assert "presented a certificate whose SHA-1 thumbprint is not IDENTITY_SERVER_THUMBPRINT" in (
        message
    )
    assert "nothing was sent to it" in message
    assert caught.value.exit_code == 1
    assert identity_requests(emulator, "ServiceFabric") == []  # the secret was never sent


def test_service_fabric_pin_replaces_the_ca_check_and_ignores_proxies(
    emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emulator's certificate is not from a CA this process trusts (no REQUESTS_CA_BUNDLE):
    the thumbprint alone admits it. A proxy variable must not divert the secret."""
    use_host(monkeypatch, emulator, "ServiceFabric")
    monkeypatch.setenv("HTTPS_PROXY", os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"])
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert "REQUESTS_CA_BUNDLE" not in os.environ

    with entra_auth.connect("managed-identity") as credential:
        assert credential.context.client_id == identities.system_client_id

    assert [r["status"] for r in identity_requests(emulator, "ServiceFabric")] == [200]


def test_arc_challenge_file_is_read_and_used_once(
    emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, "AzureArc")
    keys = emulator.azure_hosts.arc_token_dir
    before = set(keys.glob("*.key"))  # challenges other tests left unanswered (they expire)

    with entra_auth.connect("managed-identity"):
        pass

    statuses = [r["status"] for r in identity_requests(emulator, "AzureArc")]
    assert statuses == [401, 200]
    assert set(keys.glob("*.key")) <= before  # the one this sign-in was given is gone


def test_arc_without_access_to_the_challenge_file_says_so(
    emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    use_host(monkeypatch, emulator, "AzureArc")
    import msal.managed_identity

    # The agent's folder as a non-member of the himds group sees it: no such file there.
    monkeypatch.setitem(
        msal.managed_identity._supported_arc_platforms_and_their_prefixes, "linux", str(tmp_path)
    )

    with pytest.raises(AuthenticationError) as caught:
        entra_auth.connect("managed-identity")

    assert f"cannot read the Azure Arc challenge file {tmp_path}/" in str(caught.value)
    assert "no such file here" in str(caught.value)


@contextlib.contextmanager
def without_root_file_access() -> Iterator[None]:
    """Let root meet file permissions like any user: drop CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH from this thread's effective set (capabilities are per thread, so the
    embedded emulator's threads keep theirs), and put them back afterwards."""
    if os.geteuid() != 0:
        yield
        return
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    libc = ctypes.CDLL(None, use_errno=True)
    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (Data * 2)()
    assert libc.capget(ctypes.byref(header), data) == 0, ctypes.get_errno()
    saved = data[0].effective
    data[0].effective &= ~((1 << 1) | (1 << 2))  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    assert libc.capset(ctypes.byref(header), data) == 0, ctypes.get_errno()
    try:
        yield
    finally:
        data[0].effective = saved
        libc.capset(ctypes.byref(header), data)


def test_arc_challenge_file_the_caller_may_not_read_says_himds_group(
    emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    use_host(monkeypatch, emulator, "AzureArc")
    import msal.managed_identity

    locked = tmp_path / "tokens"
    locked.mkdir(mode=0o000)  # as /var/opt/azcmagent/tokens is to a non-member of himds
    monkeypatch.setitem(
        msal.managed_identity._supported_arc_platforms_and_their_prefixes, "linux", str(locked)
    )
    try:
        with without_root_file_access(), pytest.raises(AuthenticationError) as caught:
            entra_auth.connect("managed-identity")
    finally:
        locked.chmod(0o700)

    assert "permission denied" in str(caught.value)
    assert "himds group" in str(caught.value)


def test_app_service_error_body_is_read_and_explained(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The system-assigned identity missing on App Service: its statusCode/message body."""
    emulator.reset(registrations=True)
    emulator.register_managed_identity("t", "5f0c2c8e-0000-4000-8000-000000000002")
    use_host(monkeypatch, emulator, "AppService")

    with pytest.raises(AuthenticationError) as caught:
        entra_auth.connect("managed-identity")

    assert "Unable to load the proper Managed Identity" in str(caught.value)
    assert "has no system-assigned identity" in str(caught.value)


def test_token_is_cached_by_core_after_the_first_request(
    emulator: Any, identities: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_host(monkeypatch, emulator, "IMDS")

    with entra_auth.connect("managed-identity") as credential:
        first = credential.get_token(f"{GRAPH}/.default")
        second = credential.get_token(f"{GRAPH}/.default")

    assert first == second
    assert len(identity_requests(emulator, "IMDS")) == 1


def test_two_ids_at_once_are_a_usage_error(identities: Identities) -> None:
    with pytest.raises(UsageError, match="named by one id"):
        entra_auth.connect(
            "managed-identity",
            client_id=identities.user_client_id,
            object_id=identities.user_object_id,
        )
