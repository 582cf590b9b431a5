"""Helpers for the managed identity tests: identities registered in the emulator, each Azure
host's environment pointed at it, and endpoints that misbehave the ways real networks do.

Every helper keeps traffic on loopback; nothing here may ever reach 169.254.169.254.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

HOSTS = ("IMDS", "AppService", "AzureArc", "ServiceFabric", "CloudShell", "MachineLearning")
# Hosts where the caller may pick a user-assigned identity.
USER_ASSIGNED_HOSTS = ("IMDS", "AppService", "AzureArc", "MachineLearning")
# The emulator's request-log endpoint name for each host.
ENDPOINT_NAMES = {
    "IMDS": "imds",
    "AppService": "appservice",
    "AzureArc": "arc",
    "ServiceFabric": "servicefabric",
    "CloudShell": "cloudshell",
    "MachineLearning": "machinelearning",
}
GRAPH = "https://graph.microsoft.com"

# On a machine with the Azure Arc agent installed, msal (and we, to agree with it) send identity
# requests to the agent at localhost:40342 whenever no other host's variables are set: a real
# identity endpoint. Tests that rely on IMDS being chosen are skipped there rather than ask it.
_AGENT = "/opt/azcmagent/bin/himds"
not_on_an_arc_machine = pytest.mark.skipif(
    os.path.exists(_AGENT),
    reason=f"the Azure Arc agent ({_AGENT}) would answer instead of the emulator",
)


@dataclass(frozen=True)
class Identities:
    """A tenant with a system-assigned identity and one user-assigned identity."""

    tenant_id: str
    system_client_id: str
    system_name: str
    user_client_id: str
    user_object_id: str
    user_resource_id: str
    user_name: str

    def user_option(self, kind: str) -> dict[str, str]:
        return {
            "client_id": {"client_id": self.user_client_id},
            "object_id": {"object_id": self.user_object_id},
            "resource_id": {"resource_id": self.user_resource_id},
        }[kind]


def register_identities(emulator: Any) -> Identities:
    tenant = str(uuid.uuid4())
    tag = uuid.uuid4().hex[:6]
    system = emulator.register_managed_identity(
        tenant, display_name=f"vm-automation-{tag}", roles=["User.Read.All"]
    )
    user_client_id = str(uuid.uuid4())
    resource_id = (
        f"/subscriptions/{uuid.uuid4()}/resourceGroups/rg-{tag}/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/uami-{tag}"
    )
    user = emulator.register_managed_identity(
        tenant,
        user_client_id,
        object_id=str(uuid.uuid4()),
        resource_id=resource_id,
        display_name=f"uami-{tag}",
        roles=["Group.Read.All"],
    )
    return Identities(
        tenant_id=tenant,
        system_client_id=system.client_id,
        system_name=system.display_name,
        user_client_id=user.client_id,
        user_object_id=user.object_id,
        user_resource_id=user.resource_id,
        user_name=user.display_name,
    )


def host_environment(emulator: Any, host: str) -> dict[str, str]:
    """The variables a process on ``host`` sees, pointing at the emulator."""
    return emulator.azure_hosts.environment(host)


def use_host(monkeypatch: pytest.MonkeyPatch, emulator: Any, host: str) -> dict[str, str]:
    """Make this process look like it runs on ``host`` (the root conftest scrubbed the rest).

    For Arc, msal reads challenge files only from the agent's token folder; point that folder at
    the emulator's, as the real agent's folder would be on an Arc machine."""
    env = host_environment(emulator, host)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if host == "AzureArc":
        import msal.managed_identity

        monkeypatch.setitem(
            msal.managed_identity._supported_arc_platforms_and_their_prefixes,
            "linux",
            str(emulator.azure_hosts.arc_token_dir),
        )
    return env


def post_fault(emulator: Any, **spec: Any) -> dict[str, Any]:
    """Queue a fault through the emulator's HTTP test endpoint ``POST /_emulator/faults`` (what
    a test in another process or language would do), not its Python API."""
    request = urllib.request.Request(
        emulator.imds_endpoint + "/_emulator/faults",
        data=json.dumps(spec).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    with opener.open(request, timeout=5) as response:
        assert response.status == 201, response.status
        return json.loads(response.read())


def logged_requests(emulator: Any) -> list[dict[str, Any]]:
    """The request log through ``GET /_emulator/requests``."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(emulator.imds_endpoint + "/_emulator/requests", timeout=5) as response:
        return json.loads(response.read())


def identity_requests(emulator: Any, host: str) -> list[dict[str, Any]]:
    name = ENDPOINT_NAMES[host]
    return [r for r in emulator.requests() if r.get("endpoint") == name]


@contextlib.contextmanager
def silent_listener(*, accept: bool) -> Iterator[str]:
    """A loopback endpoint that never answers: ``accept=False`` listens but never accepts (the
    kernel completes handshakes into the backlog), ``accept=True`` accepts and then says nothing.
    Yields its base URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = None
    if accept:
        thread = threading.Thread(target=accept_forever, daemon=True)
        thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=1)
        for conn in held:
            conn.close()
        server.close()


@contextlib.contextmanager
def full_backlog_listener() -> Iterator[str]:
    """A loopback listener whose accept queue is full, so new handshakes are never completed
    (SYNs are dropped) and a client waits for its connect timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    address = server.getsockname()
    fillers: list[socket.socket] = []
    try:
        for _ in range(8):  # Linux admits backlog+1 connections; the rest hang in SYN-SENT
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(address)
            fillers.append(filler)
        yield f"http://127.0.0.1:{address[1]}"
    finally:
        for filler in fillers:
            filler.close()
        server.close()
