"""docs/certificates.md and docs/graph.md cannot rot: their ``sh`` blocks run, in order, as one
bash script against the emulator, the admin path from ``certificate new`` to ``request``.

Two things stand in for what the docs leave to the person: the portal upload (a block whose
comment says "Upload NAME.cer" is followed by registering that certificate with the app in the
emulator, as the portal would), and the cloud (``connect`` gets ``--environment Emulator``, an
environment whose authority and Graph are the emulator, so nothing reaches Microsoft)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

from cli_helpers import Run
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

DOCS = Path(__file__).resolve().parents[2] / "docs"
UPLOAD = re.compile(r"^# Upload (\S+\.cer).*$", re.M)
ROLES = ["Group.ReadWrite.All", "User.Read.All", "Application.Read.All"]

UPLOADER = """
import json, os, pathlib, sys
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

state = pathlib.Path(os.environ["UPLOADED"])
pems = json.loads(state.read_text()) if state.exists() else []
cert = x509.load_der_x509_certificate(pathlib.Path(sys.argv[1]).read_bytes())
pems.append(cert.public_bytes(serialization.Encoding.PEM).decode())
state.write_text(json.dumps(pems))
session = requests.Session()
session.trust_env = False
answer = session.post(
    os.environ["EMULATOR_URL"] + "/_emulator/apps",
    json={"tenant_id": os.environ["TENANT_ID"], "client_id": os.environ["CLIENT_ID"],
          "display_name": "Contoso Automation", "roles": json.loads(os.environ["ROLES"]),
          "certificates": pems},
    verify=os.environ["EMULATOR_CA"], timeout=10,
)
answer.raise_for_status()
"""


def sh_blocks(page: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", (DOCS / page).read_text(), re.S)


def script() -> str:
    parts = [
        "set -euo pipefail",
        # The docs sign in to the Global cloud; here the emulator stands in for it.
        'entra-auth() { if [ "$1" = connect ]; then command entra-auth "$@" '
        '--environment Emulator; else command entra-auth "$@"; fi; }',
        '__upload() { "$PYTHON" "$UPLOADER_SCRIPT" "$PWD/$1"; }',
    ]
    for page in ("certificates.md", "graph.md"):
        for block in sh_blocks(page):
            parts.append(f"echo '>>> {page}'")
            # The upload happens where the comment says it does.
            parts.append(UPLOAD.sub(lambda m: f"{m.group(0)}\n__upload {m.group(1)}", block))
    return "\n".join(parts) + "\n"


def legacy_pfx(folder: Path, password: bytes) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "legacy-automation")])
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=90))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    path = folder / "legacy-automation.pfx"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"legacy", key, cert, None, serialization.BestAvailableEncryption(password)
        )
    )
    path.chmod(0o600)
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def test_the_pages_have_commands_and_upload_steps() -> None:
    certificates, graph = sh_blocks("certificates.md"), sh_blocks("graph.md")
    assert len(certificates) >= 6 and len(graph) >= 5
    joined = "\n".join(certificates)
    for command in ("certificate new", "certificate list", "certificate show",
                    "certificate export", "certificate import", "certificate remove"):  # fmt: skip
        assert command in joined, command
    assert len(UPLOAD.findall(joined)) == 2
    assert "--all-pages" in "\n".join(graph)


def test_docs_commands_run_against_the_emulator(
    run_cli: Run, emulator: Any, emulator_env: dict[str, str], tmp_path: Path
) -> None:
    added = run_cli(
        "environment", "add", "Emulator",
        "--authority-host", emulator.authority_host,
        "--graph-endpoint", emulator.graph_endpoint,
        "--ca-bundle", emulator.ca_bundle,
    )  # fmt: skip
    assert added.code == 0, added.output
    work = tmp_path / "admin"
    work.mkdir()
    legacy = legacy_pfx(work, b"pfx-secret")
    uploader = tmp_path / "upload.py"
    uploader.write_text(textwrap.dedent(UPLOADER))
    tenant, client_id = str(uuid.uuid4()), str(uuid.uuid4())
    env = {
        **emulator_env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHON": sys.executable,
        "UPLOADER_SCRIPT": str(uploader),
        "UPLOADED": str(tmp_path / "uploaded.json"),
        "EMULATOR_URL": emulator.authority_host,
        "EMULATOR_CA": emulator.ca_bundle,
        "TENANT_ID": tenant,
        "CLIENT_ID": client_id,
        "ROLES": '["' + '", "'.join(ROLES) + '"]',
        "PFX_PASSWORD": "pfx-secret",
    }
    done = subprocess.run(
        ["bash", "-c", script()], cwd=work, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert output.count("Welcome To Microsoft Graph!") == 2
    assert "Automation Operators" in done.stdout and "Finance Reviewers" in done.stdout
    assert "HTTP 403 Authorization_RequestDenied" in done.stderr
    assert "exit code 1" in done.stdout
    assert (work / "upload-me.pem").is_file()
    assert (work / "rotation" / "contoso-automation.cer").is_file()
    # After the rotation: the new certificate and the imported one; the old one is gone.
    listed = run_cli("certificate", "list", "--output", "json").json()
    subjects = sorted(r["subject"] for r in listed)
    assert subjects == ["CN=contoso-automation", "CN=legacy-automation"]
    assert legacy in {r["thumbprint"] for r in listed}
    graph_calls = [e for e in emulator.requests() if e.get("endpoint") == "graph"]
    assert {e.get("client_id") for e in graph_calls if e.get("tenant") == tenant} == {client_id}
    assert "pfx-secret" not in output
