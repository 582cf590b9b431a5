"""Miss cost at 1 and N scopes, and at 1 and N tenants, held by one credential; memory per
held token (issue 13, item 3). Against the embedded emulator, loopback only.

Run by benchmarks/run_all.py, which starts the emulator and registers the resources and
tenants; the measuring happens in this child process so its memory is the credential's alone
(``python benchmarks/scale_misses.py CONFIG_FILE`` prints one JSON object).

A miss is one ``get_token`` for a scope (or tenant) the credential has not seen: one token
request to the emulator (and, for a new tenant, its discovery). Its cost is the median of
``misses`` such calls after the credential already holds 1 or N tokens. Memory per held token
is measured with tracemalloc over the first ``min(N, 1000)`` tokens filled.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def resource(index: int) -> str:
    return f"api://entra-auth-bench-{index}/.default"


def miss_cost(get: Callable[[int], object], indexes: range) -> float:
    samples = []
    for index in indexes:
        started = time.perf_counter()
        get(index)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def fill(get: Callable[[int], object], indexes: range, traced: int) -> float:
    """Ask for every index; bytes per held token over the first ``traced`` ones."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    per = 0.0
    for count, index in enumerate(indexes, 1):
        get(index)
        if count == traced:
            gc.collect()
            per = (tracemalloc.get_traced_memory()[0] - before) / traced
            tracemalloc.stop()
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    return per


def measure(
    make: Callable[[], Callable[[int], object]], held: int, misses: int, offset: int
) -> dict[str, float]:
    """Miss cost with 1 held, then with ``held`` held, and bytes per held token."""
    get = make()
    get(offset)  # the one held token (and discovery, the app, the connection)
    one = miss_cost(get, range(offset + 1, offset + 1 + misses))
    get = make()
    get(offset)
    traced = min(held, 1000)
    start = offset + 1 + misses
    per_token = fill(get, range(start, start + held), traced)
    many = miss_cost(get, range(start + held, start + held + misses))
    return {"one": one, "many": many, "bytes": per_token}


def main() -> None:
    with open(sys.argv[1]) as file:
        config: dict[str, Any] = json.load(file)
    held, misses = int(config["held"]), int(config["misses"])
    host, ca = os.environ["AZURE_AUTHORITY_HOST"], os.environ["REQUESTS_CA_BUNDLE"]
    client, secret, home = config["client_id"], config["secret"], config["tenant"]
    tenants: list[str] = config["tenants"]
    which = config["which"]

    import entra_auth

    def ours(**options: Any) -> entra_auth.EntraCredential:
        return entra_auth.connect(
            "client-secret",
            client_id=client,
            tenant_id=home,
            client_secret=entra_auth.Secret(secret),
            fetch_token=False,
            **options,
        )

    result: dict[str, Any] = {}
    if which == "ours-scopes":

        def make_ours() -> Callable[[int], object]:
            cred = ours()
            return lambda i: cred.get_token(resource(i))

        result = measure(make_ours, held, misses, 0)
    elif which == "ours-tenants":

        def make_tenants() -> Callable[[int], object]:
            cred = ours(additionally_allowed_tenants="*")
            return lambda i: cred.get_token(resource(0), tenant_id=tenants[i])

        result = measure(make_tenants, held, misses, 0)
    elif which == "msal-scopes":
        import msal
        import requests

        def make_msal() -> Callable[[int], object]:
            session = requests.Session()
            session.verify = ca
            app = msal.ConfidentialClientApplication(
                client,
                client_credential=secret,
                authority=f"{host}/{home}",
                instance_discovery=False,
                http_client=session,
            )
            return lambda i: app.acquire_token_for_client([resource(i)])

        result = measure(make_msal, held, misses, 0)
    elif which == "azid-scopes":
        from azure.identity import ClientSecretCredential

        def make_azid() -> Callable[[int], object]:
            cred = ClientSecretCredential(
                home,
                client,
                secret,
                authority=host,
                disable_instance_discovery=True,
                connection_verify=ca,
            )
            return lambda i: cred.get_token(resource(i))

        result = measure(make_azid, held, misses, 0)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
