"""The fleet cache through a real ``redis-server`` (issue 13, item 4), run by run_all.py.

- N worker processes (1, 8, 32) on one cold credential, all asking at the same instant
  through ``--token-cache redis://`` -> how many token requests reached the emulator;
- warm hit latency through Redis (the in-process cache emptied before each call, so every
  call reads and decrypts the shared entry): p50 and p99;
- Redis killed mid-run: 8 workers keep asking (each call through Redis) while the server is
  killed; what they saw (errors, the slowest call, warning lines, requests made).

``python benchmarks/fleet.py worker MODE START SECONDS`` is one worker (prints JSON).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

SCOPE = "https://graph.microsoft.com/.default"


def connect(context_scope: str = "Process") -> Any:
    import entra_auth

    return entra_auth.connect(
        "client-secret",
        client_id=os.environ["B_CLIENT"],
        tenant_id=os.environ["B_TENANT"],
        client_secret="env:B_SECRET",
        token_cache=os.environ["B_CACHE"],
        redis_encryption_key="env:B_CACHE_KEY",
        context_scope=context_scope,
        fetch_token=False,
    )


def worker(mode: str, start: float, seconds: float) -> None:
    cred = connect("CurrentUser" if mode == "loop" else "Process")
    time.sleep(max(0.0, start - time.time()))
    if mode == "once":
        cred.get_token(SCOPE)
        print(json.dumps({"ok": True}))
        return
    calls, errors, worst = 0, 0, 0.0
    latencies: list[float] = []
    until = start + seconds
    while time.time() < until:
        cred._cache.clear()  # every call goes to the shared store (or its fallback)
        began = time.perf_counter()
        try:
            cred.get_token(SCOPE)
        except Exception:
            errors += 1
        took = time.perf_counter() - began
        latencies.append(took)
        worst = max(worst, took)
        calls += 1
        time.sleep(0.01)
    print(json.dumps({"calls": calls, "errors": errors, "worst": worst}))


def _env(emulator: Any, url: str, work: Path) -> dict[str, str]:
    from processes import child_env

    tenant, secret = str(uuid.uuid4()), secrets.token_hex(16)
    app = emulator.register_app(tenant, secrets=[secret], roles=["User.Read.All"])
    return child_env(
        {
            "AZURE_AUTHORITY_HOST": emulator.authority_host,
            "REQUESTS_CA_BUNDLE": str(emulator.ca_bundle),
            "B_TENANT": tenant,
            "B_CLIENT": app.client_id,
            "B_SECRET": secret,
            "B_CACHE": url,
            "B_CACHE_KEY": secrets.token_urlsafe(32),
            "XDG_STATE_HOME": str(work / f"fleet-{tenant[:8]}"),
            "XDG_CACHE_HOME": str(work / f"fleet-cache-{tenant[:8]}"),
        }
    )


def fresh_log(emulator: Any) -> int:
    from processes import fresh_log as empty

    return empty(emulator)


def _token_posts(emulator: Any, tenant: str, since: int) -> int:
    return sum(
        1
        for r in emulator.requests()[since:]
        if r["path"].startswith(f"/{tenant}/") and r["path"].endswith("/token")
    )


def _spawn(env: dict[str, str], mode: str, start: float, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "worker", mode, str(start), str(seconds)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def rows(emulator: Any, work: Path, quick: bool) -> list[tuple[str, str, str, str]]:
    import shutil

    Row = tuple[str, str, str, str]
    if not shutil.which("redis-server"):
        return [("fleet cache through Redis", "skipped: redis-server is not on PATH", "-", "-")]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "plugins"))
    from redis_helpers import redis_server

    out: list[Row] = []
    with redis_server(work / "redis") as server:
        for n in (1, 8) if quick else (1, 8, 32):
            env = _env(emulator, server.url, work)
            since = fresh_log(emulator)
            start = time.time() + 1.0 + 0.12 * n
            procs = [_spawn(env, "once", start, 0) for _ in range(n)]
            failed = sum(1 for p in procs if p.wait(120) != 0)
            made = _token_posts(emulator, env["B_TENANT"], since)
            note = f"{made}" + (f" ({failed} workers failed)" if failed else "")
            out.append(
                (f"token requests, {n} processes on one cold credential (Redis)", note, "-", "-")
            )

        # warm hits through Redis, in this process
        env = _env(emulator, server.url, work)
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            cred = connect()
            cred.get_token(SCOPE)
            samples = []
            for _ in range(200 if quick else 2000):
                cred._cache.clear()
                began = time.perf_counter()
                cred.get_token(SCOPE)
                samples.append(time.perf_counter() - began)
            cred.close()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        samples.sort()
        p50 = statistics.median(samples)
        p99 = samples[int(len(samples) * 0.99) - 1]
        out.append(
            (
                "warm hit through Redis (p50 / p99)",
                f"{p50 * 1e3:.2f} / {p99 * 1e3:.2f} ms",
                "-",
                "-",
            )
        )

        # Redis killed mid-run
        env = _env(emulator, server.url, work)
        since = fresh_log(emulator)
        start, seconds = time.time() + 2.5, 3.0
        procs = [_spawn(env, "loop", start, seconds) for _ in range(8)]
        time.sleep(max(0.0, start + 1.0 - time.time()))
        server.kill()
        killed_at = time.time()
        results = []
        warnings = 0
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=120)
            warnings += sum(1 for line in stderr.splitlines() if "cannot be used" in line)
            results.append(json.loads(stdout.strip().splitlines()[-1]))
        ended = time.time()
        calls = sum(r["calls"] for r in results)
        errors = sum(r["errors"] for r in results)
        worst = max(r["worst"] for r in results)
        made = _token_posts(emulator, env["B_TENANT"], since)
        out.append(
            (
                "Redis killed 1 s into a 3 s run of 8 workers (CurrentUser fallback)",
                f"{calls} calls, {errors} errors, slowest {worst * 1e3:.0f} ms, {warnings} "
                f"warning lines, {made} token requests, workers done "
                f"{ended - killed_at:.1f} s after the kill",
                "-",
                "-",
            )
        )
    return out


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "worker":
        worker(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    else:
        raise SystemExit("run benchmarks/run_all.py")
