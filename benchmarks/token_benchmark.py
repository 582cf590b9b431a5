"""Side-by-side: entra-auth vs msal vs azure-identity on the same emulated tenant (loopback only).

Run: ``uv run python benchmarks/token_benchmark.py`` (takes ~20 s). It measures
- warm token: the cost of ``get_token`` when a valid token is cached in-process;
- cold token: a new credential's first token (discovery + one token request);
- 50 threads on a cold credential: how many token requests reach the service;
- CLI: wall time of ``entra-auth token`` in a new process with a CurrentUser-cached token, and
  the modules it imported.
Timing targets live here, not in the test suite.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCOPE = "https://graph.microsoft.com/.default"


def per_call_ns(fn: Callable[[], object], n: int = 20000) -> float:
    fn()
    best = []
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(n):
            fn()
        best.append((time.perf_counter_ns() - start) / n)
    return min(best)


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def token_requests(emulator: Any, tenant: str) -> int:
    return sum(
        1
        for r in emulator.requests()
        if r["path"].startswith(f"/{tenant}/") and r["path"].endswith("/token")
    )


def run() -> list[tuple[str, str, str, str]]:
    """Every measure as a row: (measure, entra-auth, msal, azure-identity)."""
    import msal
    import requests
    from azure.identity import ClientSecretCredential

    import entra_auth
    from entra_auth import Environment
    from entra_auth_emulator import Emulator

    work = Path(tempfile.mkdtemp(prefix="entra-bench-"))
    os.environ.update(
        XDG_STATE_HOME=str(work / "state"),
        XDG_CONFIG_HOME=str(work / "config"),
        AZURE_POD_IDENTITY_AUTHORITY_HOST="http://127.0.0.1:9",
    )
    rows: list[tuple[str, str, str, str]] = []
    with Emulator(state_dir=work / "emulator") as emu:

        def new_app() -> tuple[str, str, str]:
            tenant, client, secret = str(uuid.uuid4()), str(uuid.uuid4()), secrets.token_hex(16)
            emu.register_app(
                tenant_id=tenant,
                client_id=client,
                display_name="bench",
                roles=["User.Read.All"],
                secrets=[secret],
            )
            return tenant, client, secret

        env = Environment(
            "Emulator", emu.authority_host, "https://graph.microsoft.com", str(emu.ca_bundle)
        )
        os.environ["REQUESTS_CA_BUNDLE"] = str(emu.ca_bundle)

        def ours() -> entra_auth.EntraCredential:
            tenant, client, secret = new_app()
            return entra_auth.connect(
                "client-secret",
                environment=env,
                client_id=client,
                tenant_id=tenant,
                client_secret=entra_auth.Secret(secret),
                fetch_token=False,
            )

        def plain_msal() -> Callable[[], dict]:
            tenant, client, secret = new_app()
            session = requests.Session()
            session.verify = str(emu.ca_bundle)
            app = msal.ConfidentialClientApplication(
                client,
                client_credential=secret,
                authority=f"{emu.authority_host}/{tenant}",
                instance_discovery=False,
                http_client=session,
            )
            return lambda: app.acquire_token_for_client([SCOPE])

        def azid() -> ClientSecretCredential:
            tenant, client, secret = new_app()
            return ClientSecretCredential(
                tenant,
                client,
                secret,
                authority=emu.authority_host,
                disable_instance_discovery=True,
                connection_verify=str(emu.ca_bundle),
            )

        # Warm path
        cred = ours()
        cred.get_token(SCOPE)
        warm_ours = per_call_ns(lambda: cred.get_token(SCOPE))
        m = plain_msal()
        m()
        warm_msal = per_call_ns(m, n=2000)
        a = azid()
        a.get_token(SCOPE)
        warm_az = per_call_ns(lambda: a.get_token(SCOPE), n=2000)
        rows.append(
            (
                "warm get_token (per call)",
                f"{warm_ours / 1000:.2f} µs",
                f"{warm_msal / 1000:.2f} µs",
                f"{warm_az / 1000:.2f} µs",
            )
        )

        # Cold path
        cold_ours = timed(lambda: ours().get_token(SCOPE))
        cold_msal = timed(lambda: plain_msal()())
        cold_az = timed(lambda: azid().get_token(SCOPE))
        rows.append(
            (
                "cold first token",
                f"{cold_ours * 1000:.1f} ms",
                f"{cold_msal * 1000:.1f} ms",
                f"{cold_az * 1000:.1f} ms",
            )
        )

        # 50 threads on a cold credential
        def stampede(get: Callable[[], object]) -> None:
            barrier = threading.Barrier(50)

            def worker() -> None:
                barrier.wait()
                get()

            threads = [threading.Thread(target=worker) for _ in range(50)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        counts = []
        for build in (
            lambda: (c := ours(), lambda: c.get_token(SCOPE)),
            lambda: (None, plain_msal()),
            lambda: (c := azid(), lambda: c.get_token(SCOPE)),
        ):
            before = len(emu.requests())
            _, get = build()
            stampede(get)
            after = emu.requests()[before:]
            counts.append(sum(1 for r in after if r["path"].endswith("/token")))
        rows.append(
            ("token requests, 50 threads cold", str(counts[0]), str(counts[1]), str(counts[2]))
        )

        # CLI with a CurrentUser-cached token
        tenant, client, secret = new_app()
        child_env = {
            **os.environ,
            "BENCH_SECRET": secret,
            "AZURE_AUTHORITY_HOST": emu.authority_host,
        }
        from processes import console_script

        cli = console_script()
        subprocess.run(
            [
                *cli,
                "connect",
                "--client-id",
                client,
                "--tenant-id",
                tenant,
                "--client-secret",
                "env:BENCH_SECRET",
                "--context-scope",
                "CurrentUser",
                "--no-welcome",
            ],
            env=child_env,
            check=True,
            capture_output=True,
        )
        before = token_requests(emu, tenant)
        cli_time = timed(
            lambda: subprocess.run([*cli, "token"], env=child_env, check=True, capture_output=True),
            repeat=7,
        )
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, runpy; sys.argv=['entra-auth','token'];\n"
                "try:\n runpy.run_module('entra_auth_cli', run_name='__main__')\n"
                "except SystemExit: pass\n"
                "print('\\nIMPORTED', [m for m in ('msal','cryptography','requests') "
                "if m in sys.modules], file=sys.stderr)",
            ],
            env=child_env,
            capture_output=True,
            text=True,
        )
        imported = probe.stderr.strip().splitlines()[-1] if probe.stderr else "?"
        rows.append(("CLI `entra-auth token`, cached", f"{cli_time * 1000:.0f} ms", "-", "-"))
        rows.append(
            (
                "  token requests made by those runs",
                str(token_requests(emu, tenant) - before),
                "-",
                "-",
            )
        )
        rows.append(("  heavy modules imported", imported.replace("IMPORTED ", ""), "-", "-"))

        # Scale: 10,000 profiles and 10,000 cached tokens of other connections
        config_file = work / "config" / "entra-auth" / "config.toml"
        config_file.parent.mkdir(parents=True, exist_ok=True)
        config_file.write_text(
            "".join(
                f'[profiles.p{i}]\nprovider = "client-secret"\nclient_id = "{uuid.uuid4()}"\n'
                f'tenant_id = "t{i}.onmicrosoft.com"\nclient_secret = "env:S"\n\n'
                for i in range(10000)
            )
        )
        tokens = work / "state" / "entra-auth" / "tokens"
        for i in range(10000):
            (tokens / f"{i:032x}-{i:032x}.json").write_text(
                json.dumps({"version": 1, "access_token": "x", "expires_on": time.time() + 3600})
            )
        scaled_token = timed(
            lambda: subprocess.run([*cli, "token"], env=child_env, check=True, capture_output=True),
            repeat=7,
        )
        show = [*cli, "profile", "show", "p5000"]
        subprocess.run(show, env=child_env, check=True, capture_output=True)  # parses once
        scaled_show = timed(
            lambda: subprocess.run(show, env=child_env, check=True, capture_output=True), repeat=5
        )
        rows.append(
            (
                "  with 10,000 profiles + 10,000 cached tokens",
                f"{scaled_token * 1000:.0f} ms",
                "-",
                "-",
            )
        )
        rows.append(
            ("CLI `profile show` among 10,000 profiles", f"{scaled_show * 1000:.0f} ms", "-", "-")
        )

    return rows


def main() -> None:
    print("| measure | entra-auth | msal | azure-identity |")
    print("|---|---|---|---|")
    for row in run():
        print("| " + " | ".join(row) + " |")
    print(json.dumps({"python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
