"""The three certificate providers through the real CLI (``python -m entra_auth_cli``) against
the emulator: success prints the welcome and the context shows the certificate; each refusal is
one line on stderr with the pinned exit code and nothing secret."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cert_helpers import days, write_dotnet_store

from entra_auth_emulator.pki import make_leaf_cert


@pytest.fixture
def run(cli_command: list[str], emulator_env: dict[str, str]):  # type: ignore[no-untyped-def]
    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli_command, *args],
            env={**os.environ, **env},
            input="",
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def context(run: Any) -> dict[str, Any]:
    result = run("context", "--output", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_certificate_thumbprint_from_the_dotnet_store(
    run, register_app, app_cert, isolated_environment
) -> None:
    app = register_app(certificates=[app_cert])
    write_dotnet_store(isolated_environment, app_cert)
    spaced = " ".join(app_cert.thumbprint[i : i + 2] for i in range(0, 40, 2))
    result = run("connect", *app.cli_ids(), "--certificate-thumbprint", spaced)
    assert result.returncode == 0, result.stderr
    assert "Welcome To Microsoft Graph!" in result.stdout
    ctx = context(run)
    assert ctx["certificate_thumbprint"] == app_cert.thumbprint
    assert ctx["certificate_name"] == "CN=contoso-automation, O=Contoso"
    assert ctx["auth_type"] == "AppOnly"


def test_cli_certificate_name_picks_the_newest(
    run, register_app, tmp_path: Path, isolated_environment
) -> None:
    older = make_leaf_cert("CN=cli-app", not_before=days(-100), not_after=days(200))
    newest = make_leaf_cert("CN=cli-app", not_before=days(-1), not_after=days(300))
    app = register_app(certificates=[older, newest])
    folder = tmp_path / "certs"
    older.write_pem(folder / "older.pem")
    newest.write_pfx(folder / "newest.pfx")
    result = run(
        "connect",
        *app.cli_ids(),
        "--certificate-name",
        "CN=cli-app",
        "--no-welcome",
        ENTRA_AUTH_CERT_PATH=str(folder),
    )
    assert result.returncode == 0, result.stderr
    assert "Welcome" not in result.stdout
    assert context(run)["certificate_thumbprint"] == newest.thumbprint


def test_cli_certificate_file_with_password(run, register_app, app_cert, tmp_path: Path) -> None:
    app = register_app(certificates=[app_cert])
    pfx = app_cert.write_pfx(tmp_path / "app.pfx", password="cli-pass")
    args = ("connect", *app.cli_ids(), "--certificate", str(pfx))
    ok = run(*args, "--certificate-password", "env:PFX_PW", PFX_PW="cli-pass")
    assert ok.returncode == 0, ok.stderr
    wrong = run(*args, "--certificate-password", "env:PFX_PW", PFX_PW="not-it")
    assert wrong.returncode == 2
    line = one_line(wrong)
    assert "does not open" in line and "not-it" not in line and "cli-pass" not in line


def test_cli_subject_name_and_issuer(run, register_app, issuing_chain, tmp_path: Path) -> None:
    root, intermediate = issuing_chain
    leaf = make_leaf_cert("CN=cli-sni.contoso.com", issuer=intermediate)
    app = register_app(trusted_issuers=[root], trusted_subjects=["CN=cli-sni.contoso.com"])
    pem = leaf.write_pem(tmp_path / "sni.pem", with_chain=True)
    args = ("connect", *app.cli_ids(), "--certificate", str(pem))
    refused = run(*args)  # no chain sent: not registered, AADSTS700027
    assert refused.returncode == 1
    line = one_line(refused)
    assert "AADSTS700027" in line and "add --send-certificate-chain" in line
    result = run(*args, "--send-certificate-chain")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("flags", "code", "expected"),
    [
        (("--certificate-thumbprint", "not-hex"), 2, "40 hex digits"),
        (("--certificate-thumbprint", "AB" * 20), 2, "no usable certificate with thumbprint"),
        (("--certificate-name", "CN=nobody"), 2, "no usable certificate with subject"),
        (("--certificate", "/nonexistent/app.pem"), 2, "does not exist"),
        (("--certificate", "/"), 2, "is a folder, not a regular file"),
        (("--certificate", "/etc/passwd"), 2, "is neither PEM nor PKCS#12"),
        (("--certificate-name", "="), 2, "is not a distinguished name"),
    ],
)
def test_cli_refusals(run, register_app, flags: tuple[str, ...], code: int, expected: str) -> None:
    app = register_app()
    result = run("connect", *app.cli_ids(), *flags)
    assert result.returncode == code, result.stderr
    assert expected in one_line(result)
    assert result.stdout == ""


def test_cli_expired_only_match(run, register_app, tmp_path: Path) -> None:
    old = make_leaf_cert("CN=old-cli", not_before=days(-400), not_after=days(-3))
    app = register_app(certificates=[old])
    folder = tmp_path / "certs"
    old.write_pem(folder / "old.pem")
    result = run(
        "connect",
        *app.cli_ids(),
        "--certificate-thumbprint",
        old.thumbprint,
        ENTRA_AUTH_CERT_PATH=str(folder),
    )
    assert result.returncode == 2
    assert "expired on " in one_line(result)


def test_cli_unregistered_certificate_is_exit_1_with_the_upload_hint(
    run, register_app, app_cert, other_cert, tmp_path: Path
) -> None:
    app = register_app(certificates=[app_cert])
    path = other_cert.write_pem(tmp_path / "other.pem")
    result = run("connect", *app.cli_ids(), "--certificate", str(path))
    assert result.returncode == 1
    line = one_line(result)
    assert "AADSTS700027" in line and "Certificates & secrets" in line


def test_cli_ec_key_refused(run, register_app, tmp_path: Path) -> None:
    app = register_app()
    path = make_leaf_cert("CN=ec-cli", key_type="ec").write_pem(tmp_path / "ec.pem")
    result = run("connect", *app.cli_ids(), "--certificate", str(path))
    assert result.returncode == 2
    assert "only RSA" in one_line(result)


def test_cli_certificate_without_its_key_says_where_to_put_it(
    run, register_app, app_cert, tmp_path: Path
) -> None:
    app = register_app(certificates=[app_cert])
    path = app_cert.write_pem(tmp_path / "app.crt", include_key=False)
    result = run("connect", *app.cli_ids(), "--certificate", str(path))
    assert result.returncode == 2
    assert "has no private key; put the key in the same file or in app.key beside it" in (
        one_line(result)
    )


def test_cli_no_match_lists_candidates_and_how_to_fix(
    run, register_app, app_cert, tmp_path: Path
) -> None:
    upcoming = make_leaf_cert("CN=cli-upcoming", not_before=days(2), not_after=days(300))
    app = register_app(certificates=[upcoming])
    folder = tmp_path / "certs"
    upcoming.write_pem(folder / "upcoming.pem")
    app_cert.write_pem(folder / "public.pem", include_key=False)
    result = run(
        "connect",
        *app.cli_ids(),
        "--certificate-name",
        "CN=cli-upcoming",
        ENTRA_AUTH_CERT_PATH=str(folder),
    )
    assert result.returncode == 2 and result.stdout == ""
    line = one_line(result)
    assert "Traceback" not in result.stderr
    start = upcoming.certificate.not_valid_before_utc
    assert f"upcoming.pem: not valid until {start:%Y-%m-%d %H:%M} UTC" in line
    assert "public.pem: other subject" in line
    assert "to fix, put the certificate with its unencrypted private key" in line


def test_cli_refuses_a_readable_key_file(run, register_app, app_cert, tmp_path: Path) -> None:
    app = register_app(certificates=[app_cert])
    path = app_cert.write_pem(tmp_path / "app.pem")
    path.chmod(0o640)
    result = run("connect", *app.cli_ids(), "--certificate", str(path), "--no-welcome")
    assert result.returncode == 2, result.stderr
    line = one_line(result)
    assert "accessible by group or others (mode 0640)" in line and f"chmod 600 {path}" in line
