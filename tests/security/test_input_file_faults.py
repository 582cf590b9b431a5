"""Files named by the user: secret files (``file:``), certificates, keys, PFX files, password
files, CA bundles and certificate store folders, against hostile and damaged files (issue 14
items 1, 4, 10), through the real CLI: exit 2, one line naming the path and the fix, no hang."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from fault_helpers import OTHER_UID, Run, config_file, fifo, private_file, sparse

from entra_auth_emulator.pki import make_leaf_cert


def _hostile(path: Path, damage: str, good: bytes, tmp_path: Path) -> Path:
    """Put ``damage`` at ``path`` (whose right content is ``good``); returns the path to give."""
    if damage == "fifo":
        return fifo(path)
    if damage == "2gb":
        return sparse(path)
    private_file(path, good)
    if damage == "0644":
        path.chmod(0o644)
    elif damage == "0666":
        path.chmod(0o666)
    elif damage == "other-owner":
        os.chown(path, OTHER_UID, -1)
    elif damage == "open-folder":
        path.parent.chmod(0o777)
    elif damage == "bad-bytes":
        path.write_bytes(b"\xff\xfe\x00garbage")
    elif damage == "symlink-ok":
        target = private_file(tmp_path / "real" / path.name, good)
        path.unlink()
        path.symlink_to(target)
    return path


SECRET_CASES = [
    ("fifo", "is a FIFO (named pipe), not a regular file"),
    ("2gb", "is larger than 1 MiB"),
    ("0644", "is accessible by group or others (mode 0644)"),
    ("0666", "is accessible by group or others (mode 0666)"),
    ("other-owner", f"is owned by uid {OTHER_UID}"),
    ("open-folder", "is writable by group or others (mode 0777)"),
    ("bad-bytes", "is not UTF-8 text"),
]


@pytest.mark.parametrize(("damage", "expected"), SECRET_CASES)
def test_a_hostile_secret_file(
    run_cli: Run, app, tmp_path: Path, damage: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    path = _hostile(tmp_path / "secrets" / "app", damage, app.secret.encode(), tmp_path)
    started = time.monotonic()
    result = run_cli("connect", *app.ids(), "--client-secret", f"file:{path}", "--no-welcome")
    assert time.monotonic() - started < 10
    assert result.code == 2
    line = result.error_line()
    assert str(path) in line and expected in line
    if "mode" in expected:
        assert f"chmod {'600' if 'accessible' in expected else 'go-w'} " in line


def test_a_secret_file_symlink_to_the_users_own_file_works(
    run_cli: Run, app, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = _hostile(tmp_path / "secrets" / "app", "symlink-ok", app.secret.encode(), tmp_path)
    result = run_cli("connect", *app.ids(), "--client-secret", f"file:{path}", "--no-welcome")
    assert result.code == 0, result.stderr


@pytest.fixture
def cert_app(emulator, emulator_env):  # type: ignore[no-untyped-def]
    import uuid

    cert = make_leaf_cert("CN=fault-injection")
    tenant, client = str(uuid.uuid4()), str(uuid.uuid4())
    emulator.register_app(tenant_id=tenant, client_id=client, certificates=[cert])
    return cert, ("--client-id", client, "--tenant-id", tenant)


CERT_CASES = [
    ("fifo", "is a FIFO (named pipe), not a regular file"),
    ("2gb", "is larger than 1 MiB"),
    ("0644", "is accessible by group or others (mode 0644)"),
    ("0666", "is writable by group or others (mode 0666)"),
    ("other-owner", f"is owned by uid {OTHER_UID}"),
    ("open-folder", "is writable by group or others (mode 0777)"),
    ("bad-bytes", "is neither PEM nor PKCS#12"),
]


@pytest.mark.parametrize("kind", ["pem", "pfx", "key"])
@pytest.mark.parametrize(("damage", "expected"), CERT_CASES)
def test_a_hostile_certificate_key_or_pfx(
    run_cli: Run, cert_app, tmp_path: Path, kind: str, damage: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    cert, ids = cert_app
    folder = tmp_path / "certs"
    if kind == "pem":
        given = path = _hostile(folder / "app.pem", damage, cert.pem(), tmp_path)
    elif kind == "pfx":
        given = path = _hostile(folder / "app.pfx", damage, cert.pfx(), tmp_path)
    else:  # the key beside a public certificate: app.crt + app.key
        given = private_file(folder / "app.crt", cert.cert_pem())
        path = _hostile(folder / "app.key", damage, cert.key_pem(), tmp_path)
        if damage == "bad-bytes":
            expected = "cannot be read"
        elif damage == "fifo":  # a .key is looked for with is_file(): a FIFO is not one
            path, expected = given, "has no private key"
        elif damage == "open-folder":  # the .crt beside it, in the same folder, goes first
            path = folder
    started = time.monotonic()
    result = run_cli("connect", *ids, "--certificate", str(given), "--no-welcome")
    assert time.monotonic() - started < 10
    assert result.code == 2, result.stderr
    line = result.error_line()
    assert str(path) in line and expected in line, line


def test_a_fifo_as_the_certificate_password_file_fails_at_once(
    run_cli: Run, cert_app, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    cert, ids = cert_app
    pfx = private_file(tmp_path / "app.pfx", cert.pfx(password="pw"))
    pipe = fifo(tmp_path / "password")
    started = time.monotonic()
    result = run_cli(
        "connect", *ids, "--certificate", str(pfx), "--certificate-password", f"file:{pipe}"
    )
    assert time.monotonic() - started < 10
    assert result.code == 2
    assert f"secret file {pipe} is a FIFO (named pipe)" in result.error_line()


@pytest.mark.parametrize("store", ["ENTRA_AUTH_CERT_PATH", "entra-auth store"])
def test_a_certificate_store_folder_others_can_write_is_passed_over(
    run_cli: Run, cert_app, home: Path, tmp_path: Path, store: str
) -> None:  # type: ignore[no-untyped-def]
    cert, ids = cert_app
    if store == "ENTRA_AUTH_CERT_PATH":
        folder = tmp_path / "store"
        env = {"ENTRA_AUTH_CERT_PATH": str(folder)}
    else:
        folder = home / ".local" / "share" / "entra-auth" / "certs"
        env = {}
    private_file(folder / "app.pem", cert.pem())
    args = ("connect", *ids, "--certificate-thumbprint", cert.thumbprint, "--no-welcome")
    assert run_cli(*args, env=env).code == 0  # found while the folder is private
    folder.chmod(0o777)
    result = run_cli(*args, env=env)
    assert result.code == 2
    line = result.error_line()
    assert f"the folder {folder} that holds the {store} certificates is writable" in line
    assert f"chmod go-w {folder}" in line


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("missing", "does not exist"),
        ("fifo", "is a FIFO (named pipe), not a regular file"),
        ("0666", "is writable by group or others (mode 0666)"),
        ("other-owner", f"is owned by uid {OTHER_UID}"),
        ("nul", "contains a NUL character"),
    ],
)
def test_a_hostile_ca_bundle_of_an_environment(
    run_cli: Run, app, emulator, home: Path, tmp_path: Path, damage: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    bundle = tmp_path / "ca" / "lab.pem"
    if damage == "missing":
        bundle.parent.mkdir(mode=0o700)
    elif damage == "nul":
        bundle = Path(str(bundle) + "\x00.pem")
    else:
        _hostile(bundle, damage, Path(emulator.ca_bundle).read_bytes(), tmp_path)
    toml_path = str(bundle).replace("\x00", "\\u0000")
    private_file(
        config_file(home),
        f"""[environments.Lab]
authority_host = "{emulator.authority_host}"
graph_endpoint = "https://graph.lab.example"
ca_bundle = "{toml_path}"
""",
    )
    result = run_cli(
        *app.connect_args("--environment", "Lab", "--no-welcome"),
        env={"AZURE_AUTHORITY_HOST": "", "REQUESTS_CA_BUNDLE": ""},
    )
    assert result.code == 2, result.stderr
    line = result.error_line()
    assert "CA bundle" in line and expected in line, line


def test_a_missing_requests_ca_bundle_is_named(run_cli: Run, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nowhere.pem"
    result = run_cli(*app.connect_args("--no-welcome"), env={"REQUESTS_CA_BUNDLE": str(missing)})
    assert result.code == 2
    assert f"CA bundle (from REQUESTS_CA_BUNDLE) {missing} does not exist" in result.error_line()


def test_a_nul_in_a_secret_file_path_from_the_config(run_cli: Run, app, home: Path) -> None:  # type: ignore[no-untyped-def]
    private_file(
        config_file(home),
        f"""[profiles.ci]
provider = "client-secret"
client_id = "{app.client_id}"
tenant_id = "{app.tenant_id}"
client_secret = "file:/run/secrets/a\\u0000b"
""",
    )
    result = run_cli("connect", "--profile", "ci", "--no-welcome")
    assert result.code == 2
    assert "contains a NUL character" in result.error_line()
