"""``entra-auth demo``: the whole product in a few seconds, offline.

It starts the embedded emulator on free loopback ports in a temp folder and runs the demo steps
each installed provider contributes (``Provider.demo_steps``: built-in and third-party alike),
printing each context and the token's claims (never the token); a provider without steps is
listed as having none. It talks to the emulator through an explicit
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
    """Sign in through every installed provider's demo steps against the embedded emulator."""
    from entra_auth import (
        AuthenticationError,
        DemoLab,
        Environment,
        PluginError,
        UsageError,
        connect,
        plugins,
    )
    from entra_auth.config import Config
    from entra_auth.plugins import guarded

    try:
        from entra_auth_emulator import Emulator
    except ImportError:
        raise UsageError(
            "the demo needs the emulator; install entra-auth-emulator "
            "(pip install 'entra-auth-cli[demo]')"
        ) from None

    started = time.monotonic()
    host = plugins.get_host()
    installed = host.providers()
    shown: list[str] = []
    without_steps: list[str] = []
    broken: list[str] = []
    with tempfile.TemporaryDirectory(prefix="entra-auth-demo-") as tmp:
        workdir = Path(tmp)
        # The user's config is never read: the demo must not depend on (or touch) it.
        config = Config(workdir / "config.toml")
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
            echo(f"Entra ID emulator running at {emulator.authority_host} ({lab.describe()})")
            try:
                for name, entry in sorted(installed.items()):
                    try:
                        with guarded(entry, "demo_steps"):
                            steps = list(entry.provider.demo_steps())
                    except PluginError as exc:
                        broken.append(f"{name}: {exc}")
                        continue
                    if not steps:
                        without_steps.append(name)
                        continue
                    for step in steps:
                        echo("")
                        echo(f"== {name}: {step.title}")
                        with guarded(entry, f"demo step {step.title!r}"):
                            options = dict(step.prepare(lab))
                        if step.refusal:
                            try:
                                connect(
                                    name, options=options, environment=environment, config=config
                                ).close()
                            except AuthenticationError as exc:
                                echo(f"Refused, as it should be (exit code {exc.exit_code}):")
                                echo(f"entra-auth: error: {exc}")
                                continue
                            raise PluginError(
                                f"{entry.origin}: demo step {step.title!r} expected a refusal, "
                                "but the sign-in succeeded"
                            )
                        with connect(
                            name, options=options, environment=environment, config=config
                        ) as credential:
                            token = credential.get_token_info(environment.default_scope)
                            echo(format_list(credential.context.as_dict()))
                            echo("")
                            echo("Token claims (the token itself is never printed):")
                            echo(_indent(format_list(_claims(token.token))))
                        shown.append(name)
            finally:
                lab.restore_env()

    echo("")
    for name in without_steps:
        entry = installed[name]
        echo(f"{name} ({entry.distribution}): no demo step.")
    for line in broken:
        echo(f"Skipped {line}")
    providers_shown = ", ".join(dict.fromkeys(shown)) or "none"
    echo(f"Demo finished in {time.monotonic() - started:.1f} s; signed in with: {providers_shown}.")
    if not installed:
        raise UsageError(
            "no providers are installed, so the demo had nothing to show; install them with "
            "pip install 'entra-auth-cli[all]', or one, e.g. pip install "
            "entra-auth-client-secret (see 'entra-auth plugins')"
        )
    if not shown:
        raise UsageError(
            "none of the installed providers has a demo step that signed in, so the demo had "
            "nothing to show; pip install 'entra-auth-cli[all]' adds the built-in providers"
        )


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
