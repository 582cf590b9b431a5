"""Command line: ``entra-auth-emulator [--host H] [--port P] [--config FILE] [--state-dir DIR]
[--ready-file FILE] [--token-lifetime SECONDS] [--arc-key-dir DIR] [--log-requests]``
(also ``python -m entra_auth_emulator`` and ``entra-auth emulator``).

Exit codes: 0 after SIGTERM/SIGINT, 2 for bad usage or configuration (one line on stderr),
1 when the emulator cannot start otherwise (port in use).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import NoReturn


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage block goes to --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser(prog: str = "entra-auth-emulator") -> argparse.ArgumentParser:
    """The argument parser, public so ``entra-auth emulator`` can show the same help."""
    parser = _Parser(
        prog=prog,
        description="Local Microsoft Entra ID token service and managed identity endpoints "
        "that verify app credentials (secrets and certificates) offline.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="HTTPS port; the HTTP identity endpoints use port+1; 0 (default) picks free ports",
    )
    parser.add_argument(
        "--config", type=Path, help="TOML file with [[apps]] and [[managed_identities]]"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="where the CA, TLS certificate and "
        "signing key are kept (default $XDG_STATE_HOME/entra-auth-emulator)",
    )
    parser.add_argument(
        "--token-lifetime",
        type=int,
        metavar="SECONDS",
        help="access token lifetime for every app and identity without its own token_lifetime "
        "(1-86400; default the config's token_lifetime, else 3599)",
    )
    parser.add_argument(
        "--arc-key-dir",
        type=Path,
        help="where Azure Arc challenge key files are written (default <state-dir>/arc-tokens; "
        "msal and azure-identity read /var/opt/azcmagent/tokens)",
    )
    parser.add_argument(
        "--log-requests",
        action="store_true",
        help="print one line per request (method, path, status, endpoint, client id; never a "
        "query string, body, secret or token)",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        help="write the connection details here "
        "(JSON, atomically, mode 0600) once accepting connections",
    )
    return parser


def main(argv: list[str] | None = None, *, prog: str = "entra-auth-emulator") -> int:
    """Run until SIGTERM/SIGINT; return the exit code."""
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 for --help
        return int(exc.code or 0)
    if not 0 <= args.port <= 65534:
        print(f"{prog}: error: --port must be 0..65534", file=sys.stderr)
        return 2
    if args.token_lifetime is not None and not 1 <= args.token_lifetime <= 86400:
        print(f"{prog}: error: --token-lifetime must be 1..86400 seconds", file=sys.stderr)
        return 2
    # Catch the stop signals before the (slow) start: a Ctrl-C while the CA is being made must
    # still mean a clean exit 0, not a KeyboardInterrupt traceback or a half-written state dir.
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda signum, frame: stop.set())
    try:
        return _run(args, prog, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace, prog: str, stop: threading.Event) -> int:
    from .emulator import Emulator
    from .errors import ConfigError, EmulatorError
    from .state import default_state_dir

    try:
        emulator = Emulator(
            args.config,
            state_dir=args.state_dir or default_state_dir(),
            host=args.host,
            port=args.port,
            token_lifetime=args.token_lifetime,
            arc_key_dir=args.arc_key_dir,
        )
        emulator.start()
        if args.log_requests:
            emulator.service.on_request = _print_request
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except (EmulatorError, OSError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1

    wrote_ready_file = False
    try:
        if stop.is_set():
            return 0
        if args.ready_file:
            try:
                emulator.write_ready_file(args.ready_file)
            except OSError as exc:
                print(
                    f"{prog}: error: cannot write the ready file {args.ready_file}: "
                    f"{exc.strerror or exc}",
                    file=sys.stderr,
                )
                return 2
            wrote_ready_file = True
        info = emulator.ready_info()
        print(
            f"entra-auth-emulator ready (pid {info['pid']})\n"
            f"  authority_host     {info['authority_host']}\n"
            f"  ca_bundle          {info['ca_bundle']}\n"
            f"  imds_endpoint      {info['imds_endpoint']}\n"
            f"  identity_endpoint  {info['identity_endpoint']}\n"
            f"  identity_header    {info['identity_header']}\n"
            f"  graph_endpoint     {info['graph_endpoint']}\n"
            f"  oidc_issuer        {info['oidc_issuer']}\n"
            f"  apps {len(emulator.config.apps)}, managed identities "
            f"{len(emulator.config.managed_identities)}; stop with Ctrl-C or SIGTERM",
            flush=True,
        )
        if not emulator.loopback_only:
            print(
                f"{prog}: warning: listening on {args.host}, not only loopback: anyone who can "
                "reach it can get tokens for the apps it knows",
                file=sys.stderr,
                flush=True,
            )
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        if wrote_ready_file:
            _remove_own_ready_file(args.ready_file)
    return 0


_LOGGED_FIELDS = ("tenant", "client_id", "grant_type", "credential", "identity", "fault")


def format_request(entry: dict[str, object]) -> str:
    """One request-log entry as one line. Built from the log entry, which never holds a body,
    query string, secret or token, so neither does the line."""
    extra = " ".join(f"{k}={entry[k]}" for k in _LOGGED_FIELDS if entry.get(k) is not None)
    status = "dropped" if entry.get("dropped") else entry.get("status")
    line = (
        f"{entry.get('time')} {entry.get('method')} {entry.get('path')} {status} "
        f"{entry.get('endpoint')} {entry.get('duration_ms')}ms"
    )
    return f"{line} {extra}" if extra else line


def _print_request(entry: dict[str, object]) -> None:
    print(format_request(entry), flush=True)


def _remove_own_ready_file(path: Path) -> None:
    """Remove the ready file on a clean exit, unless another emulator has rewritten it."""
    import json

    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
