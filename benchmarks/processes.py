"""Whole-process timings for benchmarks/run_all.py: the CLI's hot paths and a fresh process's
first token (entra-auth, msal alone, azure-identity) against the embedded emulator, with the
requests each process made counted from the emulator's request log. Loopback only.

The child processes run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed from
their environment) after ``compile_bytecode`` compiled the venv and the workspace sources, so
timings are those of an installed tool, not of a first run.
"""

from __future__ import annotations

import compileall
import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import sysconfig
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
SCOPE = "https://graph.microsoft.com/.default"
GRAPH = "https://graph.microsoft.com"
Row = tuple[str, str, str, str]


def compile_bytecode() -> str:
    """Compile site-packages and the workspace sources; what was done, for the output."""
    folders = [Path(sysconfig.get_paths()["purelib"])]
    folders += sorted(p for p in ROOT.glob("*/src") if p.is_dir())
    folders += sorted(p for p in ROOT.glob("*/*/src") if p.is_dir())
    for folder in folders:
        compileall.compile_dir(str(folder), quiet=1, workers=0)
    return (
        f"bytecode compiled (`python -m compileall` on site-packages and {len(folders) - 1} "
        "workspace source folders); child processes run with PYTHONDONTWRITEBYTECODE unset"
    )


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra or {})
    return env


Setup = Callable[[], None] | None
"""Run before each run of a command, untimed (say, emptying a cache it would otherwise hit)."""


def walls(
    argvs: list[list[str]],
    env: Mapping[str, str],
    repeat: int,
    setups: list[Setup] | None = None,
) -> list[float]:
    """Median wall time of each command in a new process, the commands run in turn (round
    robin, after one unmeasured run each): a machine that slows down or speeds up during the
    run weighs on every command alike, so their ratios hold even when the times drift."""
    return [seconds for seconds, _ in _in_turn(argvs, env, repeat, setups=setups)]


def _in_turn(
    argvs: list[list[str]],
    env: Mapping[str, str],
    repeat: int,
    emulator: Any = None,
    setups: list[Setup] | None = None,
) -> list[tuple[float, float]]:
    """(median seconds, requests to ``emulator`` per run) of each command, run as ``walls``
    says; the requests are 0 without an emulator."""
    steps = setups or [None] * len(argvs)
    for argv, setup in zip(argvs, steps, strict=True):
        if setup is not None:
            setup()
        subprocess.run(argv, env=env, check=True, capture_output=True)  # warm the OS caches
    samples: list[list[float]] = [[] for _ in argvs]
    made = [0] * len(argvs)
    for _ in range(repeat):
        for index, (argv, setup) in enumerate(zip(argvs, steps, strict=True)):
            if setup is not None:
                setup()
            since = fresh_log(emulator) if emulator is not None else 0
            started = time.perf_counter()
            subprocess.run(argv, env=env, check=True, capture_output=True)
            samples[index].append(time.perf_counter() - started)
            if emulator is not None:
                made[index] += count_requests(emulator, since)
    return [(statistics.median(taken), n / repeat) for taken, n in zip(samples, made, strict=True)]


def console_script() -> list[str]:
    """How a user runs the CLI: the ``entra-auth`` script installed beside this interpreter
    (``python -m entra_auth_cli`` would add runpy's start-up), run by this interpreter."""
    script = Path(sys.executable).with_name("entra-auth")
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "entra_auth_cli"]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def fresh_log(emulator: Any) -> int:
    """Empty the emulator's request log (a bounded deque: after a big run, its length stops
    growing, so counting from a length would count nothing) and return the start index, 0."""
    emulator.reset()
    return 0


def count_requests(emulator: Any, since: int, *, token_only: bool = False) -> int:
    log = emulator.requests()[since:]
    if token_only:
        return sum(1 for r in log if r.get("endpoint") in ("token", "imds"))
    return len(log)


def cli_rows(emulator: Any, work: Path, repeat: int) -> list[Row]:
    """``entra-auth token`` / ``context`` with a CurrentUser-cached token, ``--help``, and the
    interpreter's floor (``python -c pass``) and msal's import for scale."""
    tenant, secret = str(uuid.uuid4()), secrets.token_hex(16)
    app = emulator.register_app(tenant, secrets=[secret], roles=["User.Read.All"])
    env = child_env(
        {
            "XDG_STATE_HOME": str(work / "cli-state"),
            "XDG_CONFIG_HOME": str(work / "cli-config"),
            "XDG_CACHE_HOME": str(work / "cli-cache"),
            "AZURE_AUTHORITY_HOST": emulator.authority_host,
            "REQUESTS_CA_BUNDLE": str(emulator.ca_bundle),
            "BENCH_SECRET": secret,
        }
    )
    cli = console_script()
    subprocess.run(
        [
            *cli, "connect", "--client-id", app.client_id, "--tenant-id", tenant,
            "--client-secret", "env:BENCH_SECRET", "--context-scope", "CurrentUser",
            "--no-welcome",
        ],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    since = fresh_log(emulator)
    commands = [
        [sys.executable, "-c", "pass"],
        [sys.executable, "-c", "import msal"],
        [*cli, "token"],
        [*cli, "context"],
        [*cli, "--help"],
        [*cli, "--help"],
    ]
    page = work / "cli-cache" / "entra-auth" / "help.json"
    first_help: Setup = lambda: page.unlink(missing_ok=True)  # noqa: E731
    floor, msal_import, token, context, help_, help_first = walls(
        commands, env, repeat, [None, None, None, None, None, first_help]
    )
    made = count_requests(emulator, since)
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", *cli[1:], "token"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    loaded = {line.rsplit("|", 1)[-1].strip() for line in probe.stderr.splitlines()}
    heavy = ("typer", "click", "pluggy", "msal", "requests", "cryptography", "importlib.metadata")
    imported = ", ".join(m for m in heavy if m in loaded) or "none of " + ", ".join(heavy)
    return [
        ("`python -c pass` (interpreter floor)", ms(floor), "-", "-"),
        ("`python -c 'import msal'`", "-", ms(msal_import), "-"),
        ("CLI `entra-auth token`, token cached (CurrentUser)", ms(token), "-", "-"),
        ("  as a fraction of msal's import time", f"{token / msal_import:.2f}x", "-", "-"),
        ("CLI `entra-auth context`, token cached", ms(context), "-", "-"),
        ("CLI `entra-auth --help`", ms(help_), "-", "-"),
        ("  the first after an install or upgrade (the full CLI)", ms(help_first), "-", "-"),
        ("  requests made by those CLI runs", str(made), "-", "-"),
        ("  heavy modules imported by `token`", imported, "-", "-"),
    ]


# -- fresh process, first token -------------------------------------------------------------

_OURS = """
import entra_auth, os
c = entra_auth.connect({provider!r}, fetch_token=False, **{options!r})
assert c.get_token({scope!r}).token
"""
_MSAL_SECRET = """
import msal, os, requests
s = requests.Session(); s.verify = os.environ["REQUESTS_CA_BUNDLE"]
app = msal.ConfidentialClientApplication(os.environ["B_CLIENT"],
    client_credential=os.environ["B_SECRET"],
    authority=os.environ["AZURE_AUTHORITY_HOST"] + "/" + os.environ["B_TENANT"],
    instance_discovery=False, http_client=s)
assert "access_token" in app.acquire_token_for_client([{scope!r}])
"""
_MSAL_CERT = """
import msal, os, requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
pem = open(os.environ["B_CERT"], "rb").read()
cert = x509.load_pem_x509_certificate(pem[pem.index(b"-----BEGIN CERTIFICATE"):])
s = requests.Session(); s.verify = os.environ["REQUESTS_CA_BUNDLE"]
app = msal.ConfidentialClientApplication(os.environ["B_CLIENT"],
    client_credential={{"private_key": pem.decode(),
        "thumbprint": cert.fingerprint(hashes.SHA1()).hex()}},
    authority=os.environ["AZURE_AUTHORITY_HOST"] + "/" + os.environ["B_TENANT"],
    instance_discovery=False, http_client=s)
assert "access_token" in app.acquire_token_for_client([{scope!r}])
"""
_MSAL_MI = """
import msal, requests
app = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(),
    http_client=requests.Session())
assert "access_token" in app.acquire_token_for_client(resource={graph!r})
"""
_AZID_SECRET = """
import os
from azure.identity import ClientSecretCredential
c = ClientSecretCredential(os.environ["B_TENANT"], os.environ["B_CLIENT"], os.environ["B_SECRET"],
    authority=os.environ["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True,
    connection_verify=os.environ["REQUESTS_CA_BUNDLE"])
assert c.get_token({scope!r}).token
"""
_AZID_CERT = """
import os
from azure.identity import CertificateCredential
c = CertificateCredential(os.environ["B_TENANT"], os.environ["B_CLIENT"], os.environ["B_CERT"],
    authority=os.environ["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True,
    connection_verify=os.environ["REQUESTS_CA_BUNDLE"])
assert c.get_token({scope!r}).token
"""
_AZID_MI = """
from azure.identity import ManagedIdentityCredential
assert ManagedIdentityCredential().get_token({scope!r}).token
"""


ROUND_TRIP = 0.020
"""Seconds of round trip in the "far away" rows: Entra is tens of milliseconds from most
callers, where the loopback emulator is a fraction of one away."""


def _measure_scripts(
    emulator: Any,
    codes: list[str],
    env: Mapping[str, str],
    repeat: int,
    setups: list[Setup] | None = None,
) -> list[tuple[float, float]]:
    """(median whole-process seconds, requests per process) of each script, run in turn as in
    ``walls``."""
    argvs = [[sys.executable, "-c", code] for code in codes]
    return _in_turn(argvs, env, repeat, emulator, setups)


@contextlib.contextmanager
def far_away(emulator: Any, env: Mapping[str, str], round_trip: float) -> Iterator[dict[str, str]]:
    """``env`` with the emulator's HTTPS and HTTP (IMDS) endpoints behind latency relays
    (``entra_auth_emulator.latency``), every byte ``round_trip / 2`` late each way, handshakes
    included. Meanwhile the emulator names the relay in its documents (discovery, issuer), as
    a server behind a load balancer does, so msal's second request goes through it too."""
    from entra_auth_emulator.latency import LatencyProxy

    tls, plain = urlsplit(emulator.authority_host), urlsplit(emulator.imds_endpoint)
    with (
        LatencyProxy((str(tls.hostname), int(tls.port or 443)), round_trip) as tls_relay,
        LatencyProxy((str(plain.hostname), int(plain.port or 80)), round_trip) as plain_relay,
    ):
        relayed = f"https://127.0.0.1:{tls_relay.port}"
        far = dict(env)
        far["AZURE_AUTHORITY_HOST"] = relayed
        if "AZURE_POD_IDENTITY_AUTHORITY_HOST" in far:
            far["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = f"http://127.0.0.1:{plain_relay.port}"
        emulator.service.set_authority_host(relayed)
        try:
            yield far
        finally:
            emulator.service.set_authority_host(emulator.authority_host)


def first_token_rows(emulator: Any, work: Path, repeat: int) -> list[Row]:
    import instructions

    from entra_auth_emulator.pki import make_leaf_cert

    tenant, secret = str(uuid.uuid4()), secrets.token_hex(16)
    leaf = make_leaf_cert("CN=entra-auth benchmark")
    cert_path = leaf.write_pem(work / "bench-cert.pem")
    app = emulator.register_app(
        tenant, secrets=[secret], certificates=[leaf.certificate], roles=["User.Read.All"]
    )
    emulator.register_managed_identity(tenant, roles=["User.Read.All"])
    base = {
        "AZURE_AUTHORITY_HOST": emulator.authority_host,
        "REQUESTS_CA_BUNDLE": str(emulator.ca_bundle),
        "B_TENANT": tenant,
        "B_CLIENT": app.client_id,
        "B_SECRET": secret,
        "B_CERT": str(cert_path),
        "XDG_STATE_HOME": str(work / "ft-state"),
        "XDG_CONFIG_HOME": str(work / "ft-config"),
        "XDG_CACHE_HOME": str(work / "ft-cache"),
    }
    common = {"client_id": app.client_id, "tenant_id": tenant}
    kinds: list[tuple[str, str, dict[str, str], str, str, dict[str, str]]] = [
        (
            "secret", "client-secret", {**common, "client_secret": "env:B_SECRET"},
            _MSAL_SECRET, _AZID_SECRET, {},
        ),
        (
            "certificate", "cert-object", {**common, "certificate_path": str(cert_path)},
            _MSAL_CERT, _AZID_CERT, {},
        ),
        (
            "managed identity (IMDS)", "managed-identity", {}, _MSAL_MI, _AZID_MI,
            dict(emulator.azure_hosts.environment("IMDS")),
        ),
    ]  # fmt: skip
    rows: list[Row] = []
    requests_rows: list[Row] = []
    latency_rows: list[Row] = []
    # CurrentUser keeps OpenID discovery between processes (issue 13 item 2); its token cache
    # is emptied before each run, so every run fetches. Measured in turn with the others.
    tokens = work / "ft-state" / "entra-auth" / "tokens"
    current_user = _OURS.format(
        provider="client-secret",
        options={**common, "client_secret": "env:B_SECRET", "context_scope": "CurrentUser"},
        scope=SCOPE,
    )

    def empty_tokens() -> None:
        for entry in tokens.glob("*.json"):
            entry.unlink()

    later: list[Row] = []
    counted: list[tuple[str, Mapping[str, str], list[str], str | None]] = []
    for label, provider, options, msal_code, azid_code, extra in kinds:
        env = child_env({**base, **extra})
        codes = [
            _OURS.format(provider=provider, options=options, scope=SCOPE),
            msal_code.format(scope=SCOPE, graph=GRAPH),
            azid_code.format(scope=SCOPE),
        ]
        with_current_user = label == "secret"
        results = _measure_scripts(
            emulator,
            [*codes, current_user] if with_current_user else codes,
            env,
            repeat,
            [None, None, None, empty_tokens] if with_current_user else None,
        )
        (ours_t, ours_n), (msal_t, msal_n), (azid_t, azid_n) = results[:3]
        rows.append((f"fresh process, first token: {label}", ms(ours_t), ms(msal_t), ms(azid_t)))
        for seconds, per in results[3:]:  # the CurrentUser script, measured with secret's
            rows.append(("fresh process, first token: secret, CurrentUser", ms(seconds), "-", "-"))
            later.append(
                ("requests per cold token per process: secret, CurrentUser", f"{per:g}", "-", "-")
            )
        with far_away(emulator, env, ROUND_TRIP) as far_env:
            ours_far, msal_far, azid_far = (
                seconds for seconds, _ in _measure_scripts(emulator, codes, far_env, repeat)
            )
        latency_rows.append(
            (
                f"fresh process, first token, {ROUND_TRIP * 1000:.0f} ms round trips: {label}",
                ms(ours_far),
                ms(msal_far),
                ms(azid_far),
            )
        )
        requests_rows.append(
            (
                f"requests per cold token per process: {label}",
                f"{ours_n:g}",
                f"{msal_n:g}",
                f"{azid_n:g}",
            )
        )
        # msal's managed identity makes no discovery request: its script is its own floor.
        floor = None if msal_code is _MSAL_MI else instructions.floor(codes[1])
        counted.append((label, env, codes, floor))
    if not instructions.available():
        return rows + latency_rows + requests_rows + later
    return rows + latency_rows + requests_rows + later + instructions.rows(counted)


def run_all(emulator: Any, work: Path, repeat: int) -> list[Row]:
    sections: list[Callable[[Any, Path, int], list[Row]]] = [cli_rows, first_token_rows]
    rows: list[Row] = []
    for section in sections:
        rows += section(emulator, work, repeat)
    return rows
