"""Secrets of any length stay out of ``--debug`` output (issue 14 item 7): a real
``entra-auth --debug connect`` with a 1-3 character secret, resolved through each way core
resolves secrets: built-in schemes, and a plugin's ``entra_auth_resolve_secret`` hook, whose
result pluggy's hook trace prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fault_helpers import SECRET_VARIABLE, Run, private_file
from plugin_helpers import install_distribution

VAULT_PLUGIN = """
import json, os
from entra_auth import hookimpl

@hookimpl
def entra_auth_resolve_secret(reference):
    if reference.startswith("tinyvault:"):
        return json.loads(os.environ["TINYVAULT"])[reference.partition(":")[2]]
    return None
"""

# Unusual characters, so an occurrence in the log can only be the secret itself.
SHORT_SECRETS = ["¤", "q¤", "¤~§"]


def _reference(scheme: str, secret: str, tmp_path: Path, env: dict[str, str]) -> str:
    if scheme == "env":
        return f"env:{SECRET_VARIABLE}"
    if scheme == "file":
        return f"file:{private_file(tmp_path / 'secrets' / 'app', secret)}"
    site = tmp_path / "site"
    site.mkdir()
    install_distribution(site, "entra-auth-tinyvault", "entra_auth_tinyvault", VAULT_PLUGIN)
    env["PYTHONPATH"] = str(site)
    env["TINYVAULT"] = json.dumps({"app": secret})
    return "tinyvault:app"


@pytest.mark.parametrize("secret", SHORT_SECRETS)
@pytest.mark.parametrize("scheme", ["env", "file", "plugin-hook"])
def test_short_secret_never_shows_in_debug_output(
    run_cli: Run, make_app, tmp_path: Path, secret: str, scheme: str
) -> None:
    app = make_app(secret)
    env: dict[str, str] = {}
    reference = _reference(scheme, secret, tmp_path, env)
    result = run_cli(
        "--debug", "connect", *app.ids(), "--client-secret", reference, "--no-welcome", env=env
    )
    assert result.code == 0, result.stderr[-3000:]
    assert "entra_auth" in result.stderr  # the debug log is there
    if scheme == "plugin-hook":  # the hook trace is there, its result masked
        assert "finish entra_auth_resolve_secret --> <redacted>" in result.stderr
    leaks = [line for line in (result.stdout + result.stderr).splitlines() if secret in line]
    assert not leaks


def test_masking_a_short_secret_keeps_the_rest_of_the_log() -> None:
    """A one-letter secret is masked where it stands as a value, not inside every word."""
    from entra_auth.redaction import Redactor

    redact = Redactor()
    redact.add("a")
    line = "finish entra_auth_resolve_secret --> a [hook]; client_secret='a' x=a&y=b a token"
    assert redact(line) == (
        "finish entra_auth_resolve_secret --> <redacted> [hook]; "
        "client_secret='<redacted>' x=<redacted>&y=b a token"
    )
