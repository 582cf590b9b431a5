"""Every benchmark of issue 13 in one command, side by side with msal and azure-identity.

    uv run python benchmarks/run_all.py            # full run (a few minutes), writes docs
    uv run python benchmarks/run_all.py --quick    # small sizes, no fail-fast run (~1 min)

It compiles bytecode first (site-packages and the workspace sources; this machine sets
PYTHONDONTWRITEBYTECODE=1, which the child processes run without), starts the embedded
emulator (loopback only; IMDS at the emulator), and runs:

- CLI whole-process times (``token``/``context`` with a cached token, ``--help``) and
  fresh-process first tokens with the requests each made (``processes.py``);
- miss cost at 1 and N scopes and tenants, memory per held token (``scale_misses.py``);
- the fleet cache through a real ``redis-server`` (``fleet.py``; skipped without one);
- the warm/cold/threads/scale table (``token_benchmark.py``), the async credential
  (``async_benchmark.py``) and, in a full run, managed identity fail-fast
  (``managed_identity_failfast.py``).

The Markdown goes to docs/benchmarks.md (between its ``run_all`` markers) or ``--output``.
Timing targets are the issue's; nothing here asserts them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fleet  # noqa: E402
import processes  # noqa: E402
from processes import Row, child_env  # noqa: E402

BEGIN = "<!-- run_all:begin -->"
END = "<!-- run_all:end -->"


@contextlib.contextmanager
def kept_environment() -> Iterator[None]:
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def scale_rows(emulator: Any, work: Path, held: int, misses: int) -> list[Row]:
    """Runs scale_misses.py in child processes (their memory is the credential's alone)."""
    tenant, secret = str(uuid.uuid4()), secrets.token_hex(16)
    app = emulator.register_app(tenant, secrets=[secret], roles=["User.Read.All"])
    count = held + 2 * misses + 2
    for index in range(count):
        emulator.register_resource(f"api://entra-auth-bench-{index}")
    tenants = [str(uuid.uuid4()) for _ in range(count)]
    for other in tenants:
        emulator.register_app(other, app.client_id, secrets=[secret], roles=["User.Read.All"])
    env = child_env(
        {
            "AZURE_AUTHORITY_HOST": emulator.authority_host,
            "REQUESTS_CA_BUNDLE": str(emulator.ca_bundle),
        }
    )
    results: dict[str, dict[str, float]] = {}
    for which in ("ours-scopes", "msal-scopes", "azid-scopes", "ours-tenants"):
        config = {
            "held": held, "misses": misses, "client_id": app.client_id, "secret": secret,
            "tenant": tenant, "tenants": tenants, "which": which,
        }  # fmt: skip
        config_file = work / f"scale-{which}.json"  # 10,000 tenants overflow an argument
        config_file.write_text(json.dumps(config))
        done = subprocess.run(
            [sys.executable, str(HERE / "scale_misses.py"), str(config_file)],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        results[which] = json.loads(done.stdout.strip().splitlines()[-1])

    def cost(which: str, key: str) -> str:
        return f"{results[which][key] * 1000:.2f} ms"

    def ratio(which: str) -> str:
        return f"{results[which]['many'] / results[which]['one']:.2f}x"

    def kib(which: str) -> str:
        return f"{results[which]['bytes'] / 1024:.1f} KiB"

    def side(label: str, value: Callable[[str], str]) -> Row:
        return (label, value("ours-scopes"), value("msal-scopes"), value("azid-scopes"))

    return [
        side("miss cost, 1 scope held", lambda w: cost(w, "one")),
        side(f"miss cost, {held:,} scopes held", lambda w: cost(w, "many")),
        side(f"  ratio {held:,} / 1 (goal <= 1.2x)", ratio),
        ("miss cost, 1 tenant held (new tenant)", cost("ours-tenants", "one"), "-", "-"),
        (f"miss cost, {held:,} tenants held", cost("ours-tenants", "many"), "-", "-"),
        (f"  ratio {held:,} / 1 (goal <= 1.2x)", ratio("ours-tenants"), "-", "-"),
        side("memory per held token (scopes)", kib),
        ("memory per held tenant (token + msal app)", kib("ours-tenants"), "-", "-"),
    ]


def existing_rows(quick: bool) -> tuple[list[Row], list[tuple[str, str]], str]:
    import async_benchmark
    import token_benchmark

    with kept_environment():
        tokens = token_benchmark.run()
    with kept_environment():
        async_rows = async_benchmark.run()
    failfast = ""
    if not quick:
        done = subprocess.run(
            [sys.executable, str(HERE / "managed_identity_failfast.py")],
            capture_output=True, text=True, env=child_env(),
        )  # fmt: skip
        failfast = done.stdout.strip() or done.stderr.strip()
    return tokens, async_rows, failfast


def machine() -> str:
    packages = ", ".join(
        f"{name} {version(name)}"
        for name in (
            "entra-auth",
            "entra-auth-cli",
            "msal",
            "azure-identity",
            "typer-slim",
            "redis",
        )
        if _installed(name)
    )
    return (
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()} ({platform.machine()}); {packages}"
    )


def _installed(name: str) -> bool:
    try:
        version(name)
    except Exception:
        return False
    return True


def table(rows: list[Row]) -> str:
    lines = ["| measure | entra-auth | msal | azure-identity |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(sections: list[tuple[str, str]], header: str) -> str:
    parts = [header]
    for title, body in sections:
        parts.append(f"### {title}\n\n{body}")
    return "\n\n".join(parts)


def write(markdown: str, output: Path) -> None:
    text = output.read_text() if output.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1] if END in rest else ""
    output.write_text(f"{before}{BEGIN}\n{markdown}\n{END}{after}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no fail-fast run")
    parser.add_argument("--output", type=Path, default=HERE.parent / "docs" / "benchmarks.md")
    parser.add_argument("--repeat", type=int, help="runs per process timing (median)")
    parser.add_argument("--held", type=int, help="scopes/tenants held (default 10,000)")
    parser.add_argument("--skip-existing", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    repeat = args.repeat or (3 if quick else 11)
    held = args.held or (200 if quick else 10_000)
    misses = 10 if quick else 40
    started = time.time()

    from entra_auth_emulator import Emulator

    compiled = processes.compile_bytecode()
    print(compiled, flush=True)
    work = Path(tempfile.mkdtemp(prefix="entra-bench-all-"))
    sections: list[tuple[str, str]] = []
    with kept_environment():
        # Nothing reaches a real IMDS: the emulator's serves, or a closed loopback port.
        os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = "http://127.0.0.1:9"
        with Emulator(state_dir=work / "emulator") as emulator:
            print("CLI and fresh processes...", flush=True)
            rows = processes.cli_rows(emulator, work, repeat)
            rows += processes.first_token_rows(emulator, work, repeat)
            sections.append((f"Whole processes (median of {repeat} runs)", table(rows)))
            print("miss cost at scale...", flush=True)
            sections.append(
                (
                    f"Misses at scale ({held:,} held; median of {misses} misses)",
                    table(scale_rows(emulator, work, held, misses)),
                )
            )
            print("fleet cache through Redis...", flush=True)
            sections.append(("Fleet cache through Redis", table(fleet.rows(emulator, work, quick))))
    if not args.skip_existing:
        print("existing benchmarks...", flush=True)
        tokens, async_rows, failfast = existing_rows(quick)
        sections.append(("In-process tokens (token_benchmark.py)", table(tokens)))
        body = "| measure | result |\n|---|---|\n" + "\n".join(
            f"| {label} | {value} |" for label, value in async_rows
        )
        sections.append(("Async credential (async_benchmark.py)", body))
        if failfast:
            sections.append(
                (
                    "Managed identity off Azure (managed_identity_failfast.py)",
                    f"```\n{failfast}\n```",
                )
            )
    header = (
        f"Generated by `uv run python benchmarks/run_all.py{' --quick' if quick else ''}` on "
        f"{time.strftime('%Y-%m-%d')} in {time.time() - started:.0f} s. Machine: {machine()}. "
        f"{compiled[0].upper() + compiled[1:]}."
    )
    markdown = render(sections, header)
    print(markdown)
    write(markdown, args.output)
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
