"""How long "not on Azure" takes to fail: entra-auth vs azure-identity vs bare msal (loopback only).

Run: ``uv run python benchmarks/managed_identity_failfast.py`` (about three minutes). Every client
is pointed at a loopback endpoint through ``AZURE_POD_IDENTITY_AUTHORITY_HOST``; nothing is ever
sent to 169.254.169.254 (the script refuses to run if the variable is not loopback). Endpoints:

- refused: a closed port (what a machine without IMDS looks like when the route exists);
- never-accepts: a listener that never calls accept() (handshakes complete into the backlog);
- accepts-silent: accepts connections and never says a word;
- full-backlog: the accept queue is full, so handshakes never complete (a black-holed route);
- service-fabric: ``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER`` + ``IDENTITY_SERVER_THUMBPRINT``
  naming an accepts-silent listener (msal sends Service Fabric on a session it derives, which
  has no timeout whatever ``http_client`` it is given).

Each client gets a watchdog of ``CAP`` seconds; "> CAP" means it was still waiting.
Targets (issue 5): refused < 3 s, never answers < 10 s. Measured on the dev container:

    endpoint        entra-auth   azure-identity 1.x   msal + plain requests.Session
    refused           0.002 s          4.8 s               0.001 s
    never-accepts     6.0 s           > 30 s              > 30 s
    accepts-silent    6.0 s           > 30 s              > 30 s
    full-backlog      2.0 s           12.8 s              > 30 s
    service-fabric    2.0 s           > 30 s              > 30 s
    CLI process, refused port: 0.52-0.64 s

(service-fabric: the TLS handshake is what stalls, so the 2 s connect timeout ends it.)
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "providers"))
from mi_helpers import full_backlog_listener, silent_listener

CAP = 30.0
SCOPE = "https://graph.microsoft.com/.default"


@contextlib.contextmanager
def refused() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield f"http://127.0.0.1:{port}"


def _guard() -> None:
    host = urlsplit(os.environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST", "")).hostname
    if host != "127.0.0.1":
        raise SystemExit("refusing to run: AZURE_POD_IDENTITY_AUTHORITY_HOST is not loopback")
    endpoint = os.environ.get("IDENTITY_ENDPOINT")
    if endpoint is not None and urlsplit(endpoint).hostname != "127.0.0.1":
        raise SystemExit("refusing to run: IDENTITY_ENDPOINT is not loopback")
    if os.path.exists("/opt/azcmagent/bin/himds"):
        raise SystemExit("refusing to run: the Azure Arc agent here would answer, not loopback")


@contextlib.contextmanager
def service_fabric() -> Iterator[str]:
    """A silent https:// Service Fabric endpoint; IMDS stays on a closed loopback port."""
    names = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT")
    with silent_listener(accept=True) as url, refused() as imds:
        os.environ.update(
            {
                "IDENTITY_ENDPOINT": url.replace("http:", "https:")
                + "/metadata/identity/oauth2/token",
                "IDENTITY_HEADER": "benchmark",
                "IDENTITY_SERVER_THUMBPRINT": "ab" * 20,
            }
        )
        try:
            yield imds
        finally:
            for name in names:
                os.environ.pop(name, None)


ENDPOINTS: dict[str, Callable[[], contextlib.AbstractContextManager[str]]] = {
    "refused": refused,
    "never-accepts": lambda: silent_listener(accept=False),
    "accepts-silent": lambda: silent_listener(accept=True),
    "full-backlog": full_backlog_listener,
    "service-fabric": service_fabric,
}


def entra_auth_client() -> None:
    import entra_auth

    entra_auth.connect("managed-identity")


def azure_identity_client() -> None:
    from azure.identity import ManagedIdentityCredential

    ManagedIdentityCredential().get_token(SCOPE)


def msal_client() -> None:
    import msal
    import requests

    msal.ManagedIdentityClient(
        msal.SystemAssignedManagedIdentity(), http_client=requests.Session()
    ).acquire_token_for_client(resource="https://graph.microsoft.com")


def timed(client: Callable[[], None]) -> tuple[float, str]:
    """Seconds until the client gave up (or CAP), and the first line of its error."""
    _guard()
    box: dict[str, str] = {}
    done = threading.Event()

    def run() -> None:
        try:
            client()
            box["error"] = "(no error?)"
        except BaseException as exc:
            box["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        finally:
            done.set()

    started = time.perf_counter()
    threading.Thread(target=run, daemon=True).start()
    if not done.wait(CAP):
        return CAP, "(still waiting)"
    return time.perf_counter() - started, box["error"]


def cli_time() -> float:
    _guard()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "entra_auth_cli", "connect", "--identity"],
        capture_output=True,
        timeout=CAP,
        env=dict(os.environ),
    )
    return time.perf_counter() - started


def main() -> None:
    import logging

    logging.getLogger("azure.identity").setLevel(logging.CRITICAL)  # its warnings would interleave
    for name in (
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "IDENTITY_SERVER_THUMBPRINT",
        "MSI_ENDPOINT",
        "MSI_SECRET",
        "IMDS_ENDPOINT",
    ):
        os.environ.pop(name, None)
    clients = {
        "entra-auth": entra_auth_client,
        "azure-identity": azure_identity_client,
        "msal (plain Session)": msal_client,
    }
    # Import everything first so import time is not counted against the first endpoint.
    import azure.identity  # noqa: F401
    import msal  # noqa: F401

    import entra_auth  # noqa: F401

    print(f"{'endpoint':<16}{'client':<22}{'seconds':>9}  error")
    for endpoint, make in ENDPOINTS.items():
        for label, client in clients.items():
            with make() as url:
                os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = url
                runs = [timed(client) for _ in range(3 if endpoint == "refused" else 1)]
            seconds = min(r[0] for r in runs)
            shown = f"> {CAP:g}" if seconds >= CAP else f"{seconds:.3f}"
            print(f"{endpoint:<16}{label:<22}{shown:>9}  {runs[0][1][:110]}")
    with refused() as url:
        os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = url
        elapsed = cli_time()
        print(
            f"\nCLI 'entra-auth connect --identity', refused port, whole process: {elapsed:.3f} s"
        )


if __name__ == "__main__":
    main()
