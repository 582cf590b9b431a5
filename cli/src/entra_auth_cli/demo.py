"""``entra-auth demo``: the whole product in a few seconds, offline.

It starts the embedded emulator on free loopback ports in a temp folder, registers throwaway
apps, and signs in through every installed provider that has a demo step, printing each context
and the token's claims (never the token). It talks to the emulator through an explicit
``Environment`` and keeps secrets in this process's environment only, so the user's saved
connection, config file and shell are never touched.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .output import echo, format_list

SHOWN_CLAIMS = (
    "aud",
    "iss",
    "tid",
    "appid",
    "app_displayname",
    "roles",
    "idtyp",
    "oid",
    "iat",
    "exp",
)


def demo() -> None:
    """Sign in through every installed provider against the embedded emulator."""
    from entra_auth import AuthenticationError, Environment, UsageError, connect, plugins

    from .demo_steps import DEMO_STEPS, DemoLab
    from .sign_in_methods import PROVIDER_DISTRIBUTIONS

    try:
        from entra_auth_emulator import Emulator
    except ImportError:
        raise UsageError(
            "the demo needs the emulator; install entra-auth-emulator "
            "(pip install 'entra-auth-cli[demo]')"
        ) from None

    started = time.monotonic()
    installed = plugins.get_host().providers()
    with tempfile.TemporaryDirectory(prefix="entra-auth-demo-") as tmp:
        workdir = Path(tmp)
        with Emulator(state_dir=workdir / "emulator") as emulator:
            environment = Environment(
                "Emulator",
                authority_host=emulator.authority_host,
                graph_endpoint="https://graph.microsoft.com",
                ca_bundle=str(emulator.ca_bundle),
            )
            lab = DemoLab(emulator, workdir, environment)
            lab.set_env("NO_PROXY", _no_proxy())  # a corporate proxy must not see loopback calls
            # requests lets these variables override a session's own CA bundle, which would
            # make TLS to the emulator fail on machines that set them for a corporate CA.
            for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AZURE_AUTHORITY_HOST"):
                lab.unset_env(name)
            echo(f"Entra ID emulator running at {emulator.authority_host} (tenant {lab.tenant_id})")
            shown: list[str] = []
            try:
                for step in DEMO_STEPS:
                    if step.provider not in installed:
                        continue
                    echo("")
                    echo(f"== {step.provider}: {step.title}")
                    options = step.prepare(lab)
                    if step.refusal:
                        try:
                            connect(step.provider, environment=environment, **options).close()
                        except AuthenticationError as exc:
                            echo(f"Refused, as it should be (exit code {exc.exit_code}):")
                            echo(f"entra-auth: error: {exc}")
                            continue
                        raise AssertionError(f"demo step {step.title!r} was not refused")
                    with connect(step.provider, environment=environment, **options) as credential:
                        token = credential.get_token_info(environment.default_scope)
                        echo(format_list(credential.context.as_dict()))
                        echo("")
                        echo("Token claims (the token itself is never printed):")
                        echo(_indent(format_list(_claims(token.token))))
                    shown.append(step.provider)
            finally:
                lab.restore_env()

    echo("")
    with_steps = {step.provider for step in DEMO_STEPS}
    for name, distribution in PROVIDER_DISTRIBUTIONS.items():
        if name not in installed:
            echo(f"Skipped {name}: not installed (pip install {distribution}).")
    for name in sorted(set(installed) - with_steps):
        echo(f"Skipped {name}: installed, but it has no demo step.")
    providers_shown = ", ".join(dict.fromkeys(shown)) or "none"
    echo(f"Demo finished in {time.monotonic() - started:.1f} s; signed in with: {providers_shown}.")


def _claims(token: str) -> dict[str, Any]:
    from entra_auth.claims import token_claims

    claims = token_claims(token)
    shown: dict[str, Any] = {}
    for name in SHOWN_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if name in ("iat", "exp", "nbf") and isinstance(value, int | float):
            value = (
                f"{int(value)} ({datetime.fromtimestamp(value, UTC).isoformat(timespec='seconds')})"
            )
        shown[name] = value
    return shown


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _no_proxy() -> str:
    import os

    current = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    extra = "127.0.0.1,localhost,::1"
    return f"{current},{extra}" if current else extra
