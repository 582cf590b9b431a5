"""OpenID discovery kept between processes (both context scopes): a new process makes only
the token request; a cached document that is implausible or leads to a 404 is fetched again,
once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

WORKER = textwrap.dedent(
    """
    import os, sys, entra_auth
    cred = entra_auth.connect(
        "client-secret",
        options={"client_id": os.environ["APP_CLIENT_ID"], "tenant_id": os.environ["APP_TENANT_ID"],
                 "client_secret": "env:APP_SECRET"},
        context_scope=os.environ["SCOPE_KIND"], fetch_token=False)
    print(cred.get_token(sys.argv[1]).token[:10])
    """
)


def tenant_requests(emulator, app) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["path"] for r in emulator.requests() if f"/{app.tenant_id}/" in r.get("path", "")]


def worker(app, scope: str, kind: str = "CurrentUser") -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "APP_CLIENT_ID": app.client_id,
        "APP_TENANT_ID": app.tenant_id,
        "APP_SECRET": app.secret,
        "SCOPE_KIND": kind,
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKER, scope], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done


def test_a_new_process_needs_only_the_token_request(
    secret_app, emulator, emulator_env, isolated_environment: Path
) -> None:
    worker(secret_app, "https://graph.microsoft.com/.default")
    first = tenant_requests(emulator, secret_app)
    assert len(first) == 2 and first[0].endswith("openid-configuration")
    worker(secret_app, "https://management.azure.com/.default")  # a miss in the token cache
    second = tenant_requests(emulator, secret_app)[len(first) :]
    assert len(second) == 1 and second[0].endswith("/token")
    files = list((isolated_environment / ".cache" / "entra-auth" / "discovery").iterdir())
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600
    # Process scope uses it too (public metadata), and still writes no token to disk.
    tokens = isolated_environment / ".local" / "state" / "entra-auth" / "tokens"
    held = sorted(tokens.iterdir())
    seen = len(tenant_requests(emulator, secret_app))
    worker(secret_app, "https://vault.azure.net/.default", kind="Process")
    assert tenant_requests(emulator, secret_app)[seen:] == [
        f"/{secret_app.tenant_id}/oauth2/v2.0/token"
    ]
    assert sorted(tokens.iterdir()) == held


def test_a_wrong_or_stale_document_is_fetched_again(
    secret_app, emulator, emulator_env, isolated_environment: Path
) -> None:
    worker(secret_app, "https://graph.microsoft.com/.default")
    (entry,) = (isolated_environment / ".cache" / "entra-auth" / "discovery").iterdir()
    saved = json.loads(entry.read_text())
    document = json.loads(saved["document"])
    # A token endpoint on another host is never trusted: discovered again.
    wrong = {**document, "token_endpoint": "https://attacker.example/token"}
    entry.write_text(json.dumps({**saved, "document": json.dumps(wrong)}))
    seen = len(tenant_requests(emulator, secret_app))
    worker(secret_app, "https://management.azure.com/.default")
    again = tenant_requests(emulator, secret_app)[seen:]
    assert again[0].endswith("openid-configuration") and len(again) == 2
    # A stale endpoint that answers 404: dropped, discovered again, once.
    saved = json.loads(entry.read_text())
    stale = {**document, "token_endpoint": document["token_endpoint"].replace("/token", "/gone")}
    entry.write_text(json.dumps({**saved, "document": json.dumps(stale)}))
    seen = len(tenant_requests(emulator, secret_app))
    worker(secret_app, "https://vault.azure.net/.default")
    again = tenant_requests(emulator, secret_app)[seen:]
    assert [p.rsplit("/", 1)[1] for p in again] == ["gone", "openid-configuration", "token"]
