"""The async credential on the emulator (loopback only).

Run: ``uv run python benchmarks/async_benchmark.py`` (takes ~10 s). It measures
- warm token, sync vs async (without and with azure-core loaded): ``cred.get_token`` against
  ``await acred.get_token`` with the token cached (the async warm path is meant to stay within
  2x the sync one);
- event-loop latency during a slow token request: the emulator holds the token request for
  2 s while a ticker coroutine sleeps 1 ms at a time; the worst lateness of a tick is how long
  the loop was blocked (meant to stay under 10 ms).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
import uuid
from typing import Any

SCOPE = "https://graph.microsoft.com/.default"
N = 50_000


def sync_warm_ns(cred: Any) -> float:
    runs = []
    for _ in range(5):
        started = time.perf_counter_ns()
        for _ in range(N):
            cred.get_token(SCOPE)
        runs.append((time.perf_counter_ns() - started) / N)
    return statistics.median(runs)


async def async_warm_ns(acred: Any) -> float:
    runs = []
    for _ in range(5):
        started = time.perf_counter_ns()
        for _ in range(N):
            await acred.get_token(SCOPE)
        runs.append((time.perf_counter_ns() - started) / N)
    return statistics.median(runs)


async def loop_latency(acred: Any) -> tuple[float, float, int]:
    worst = 0.0
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst, ticks
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            worst = max(worst, time.perf_counter() - started - 0.001)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    await acred.get_token("https://vault.azure.net/.default")
    took = time.perf_counter() - started
    stop.set()
    await task
    return took, worst, ticks


def run() -> list[tuple[str, str]]:
    """Every measure as (measure, result)."""
    import entra_auth
    from entra_auth.aio import AsyncEntraCredential
    from entra_auth_emulator import Emulator

    with Emulator() as emu:
        tenant, secret = str(uuid.uuid4()), secrets.token_urlsafe(24)
        app = emu.register_app(tenant, secrets=[secret])
        os.environ["AZURE_AUTHORITY_HOST"] = emu.authority_host
        os.environ["REQUESTS_CA_BUNDLE"] = emu.ca_bundle
        os.environ["BENCH_SECRET"] = secret
        cred = entra_auth.connect(
            "client-secret", client_id=app.client_id, tenant_id=tenant,
            client_secret="env:BENCH_SECRET",
        )  # fmt: skip
        acred = AsyncEntraCredential(cred)
        sync_ns = sync_warm_ns(cred)
        async_ns = asyncio.run(async_warm_ns(acred))
        rows = [
            ("warm get_token, sync", f"{sync_ns:.0f} ns/call"),
            (
                "warm await get_token, async",
                f"{async_ns:.0f} ns/call ({async_ns / sync_ns:.2f}x sync)",
            ),
        ]
        import azure.core.credentials  # noqa: F401 (what every SDK client loads)

        sync_ns = sync_warm_ns(cred)
        async_ns = asyncio.run(async_warm_ns(acred))
        rows.append(
            (
                "the same with azure-core loaded (tokens are its classes)",
                f"sync {sync_ns:.0f} ns/call, async {async_ns:.0f} ns/call "
                f"({async_ns / sync_ns:.2f}x sync)",
            )
        )
        emu.add_fault("token", path=f"/{tenant}/*", delay=2.0)
        took, worst, ticks = asyncio.run(loop_latency(acred))
        rows.append(
            (
                "event loop during a 2 s token request",
                f"{ticks} ticks of 1 ms sleeps in {took:.2f} s; worst lateness "
                f"{worst * 1000:.1f} ms",
            )
        )
        cred.close()
    return rows


def main() -> None:
    for label, value in run():
        print(f"{label}: {value}")


if __name__ == "__main__":
    main()
