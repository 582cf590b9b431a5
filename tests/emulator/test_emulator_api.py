"""The in-process Python API: config loading, ConfigError, state reuse, the pki helpers and the
pytest plugin."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from emulator_helpers import GRAPH_SCOPE, session_for

from entra_auth_emulator import ConfigError, Emulator, EmulatorConfig, load_config
from entra_auth_emulator.pki import make_ca, make_leaf_cert, thumbprint


def test_config_file_with_relative_paths(tmp_path: Path) -> None:
    ca = make_ca("CN=cfg CA")
    app = make_leaf_cert("CN=cfg app")
    (tmp_path / "certs").mkdir()
    app.write_pem(tmp_path / "certs" / "app.pem", include_key=False)
    ca.write_pem(tmp_path / "certs" / "ca.pem", include_key=False)
    config = tmp_path / "emulator.toml"
    config.write_text("""
[[apps]]
tenant_id = "t1"
client_id = "c1"
secrets = ["cfg-SECRET-1"]
certificates = ["certs/app.pem"]
trusted_issuers = ["certs/ca.pem"]
trusted_subjects = ["CN=Automation, O=Contoso"]
token_lifetime = 600

[[managed_identities]]
tenant_id = "t1"
client_id = "mi-1"
resource_id = "/subscriptions/x/mi"

[[managed_identities]]
tenant_id = "t1"
""")
    loaded = load_config(config)
    (entry,) = loaded.apps
    assert entry.certificates[0] == app.certificate
    assert entry.trusted_issuers[0] == ca.certificate
    assert entry.trusted_subjects == ("cn=automation,o=contoso",)  # order and case do not matter
    assert entry.token_lifetime == 600
    assert "cfg-SECRET-1" not in repr(entry)  # secrets stay out of reprs and logs
    user, system = loaded.managed_identities
    assert user.user_assigned and not system.user_assigned
    assert load_config(config) == loaded  # derived ids are stable

    with Emulator(config, state_dir=tmp_path / "state") as emu, session_for(emu) as http:
        answer = http.post(
            emu.token_endpoint("t1"),
            data={
                "grant_type": "client_credentials",
                "client_id": "c1",
                "client_secret": "cfg-SECRET-1",
                "scope": GRAPH_SCOPE,
            },
            timeout=10,
        )
        claims = emu.verify_token(answer.json()["access_token"])
        assert claims["exp"] - claims["iat"] == 600


@pytest.mark.parametrize(
    "body",
    [
        "[[apps]]\nx = ",
        '[[apps]]\ntenant_id = "t"\nclient_id = "c"\nbogus = 1\n',
        '[[apps]]\ntenant_id = "t"\nclient_id = "c"\ntoken_lifetime = 0\n',
        '[[managed_identities]]\ntenant_id = "t"\n[[managed_identities]]\ntenant_id = "u"\n',
    ],
    ids=["invalid-toml", "unknown-key", "bad-lifetime", "two-system-identities"],
)
def test_config_errors_raise_config_error(tmp_path: Path, body: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(body)
    with pytest.raises(ConfigError) as info:
        Emulator(config)
    assert "\n" not in str(info.value) and str(config) in str(info.value)


def test_register_app_validates_certificates() -> None:
    with pytest.raises(ConfigError):
        Emulator().register_app("t", certificates=[b"not a certificate"])
    with pytest.raises(ConfigError):
        Emulator().register_app("t", certificates=["/nonexistent/cert.pem"])
    with pytest.raises(ConfigError, match="duplicate"):
        EmulatorConfig(apps=(*load_config_apps(),))


def load_config_apps() -> tuple:
    from entra_auth_emulator import AppRegistration

    return (AppRegistration("t", "C"), AppRegistration("T", "c"))


def test_state_is_reused_and_tls_covers_the_host(tmp_path: Path) -> None:
    with Emulator(state_dir=tmp_path) as first:
        ca = Path(first.ca_bundle).read_bytes()
        app = first.register_app("t", secrets=["s"])
        with session_for(first) as http:
            token = http.post(
                first.token_endpoint("t"),
                data={
                    "grant_type": "client_credentials",
                    "client_id": app.client_id,
                    "client_secret": "s",
                    "scope": GRAPH_SCOPE,
                },
                timeout=10,
            ).json()["access_token"]
    for name in ("ca-key.pem", "tls-key.pem", "token-signing-key.pem"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    with Emulator(state_dir=tmp_path, host="localhost") as second:
        assert Path(second.ca_bundle).read_bytes() == ca
        assert second.authority_host.startswith("https://localhost:")
        assert second.verify_token(token)["appid"] == app.client_id  # same signing key
        second.register_app("t", "c2", secrets=["s"])
        with session_for(second) as http:  # TLS name check against "localhost" passes
            assert http.get(second.jwks_uri("t"), timeout=10).ok
    tls = x509.load_pem_x509_certificate((tmp_path / "tls.pem").read_bytes())
    san = tls.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} >= {"127.0.0.1", "::1"}


def test_emulator_lifecycle_and_temp_state() -> None:
    emu = Emulator()
    assert not emu.running
    with pytest.raises(RuntimeError):
        emu.requests()
    emu.start()
    state = Path(emu.ca_bundle).parent
    assert state.exists() and emu.running
    assert emu.start() is emu  # idempotent
    emu.stop()
    assert not state.exists()  # a temporary state dir goes with the emulator
    emu.stop()  # idempotent


def test_ipv6_loopback(tmp_path: Path) -> None:
    with Emulator(state_dir=tmp_path, host="::1") as emu, session_for(emu) as http:
        assert emu.authority_host.startswith("https://[::1]:")
        assert http.get(emu.jwks_uri("common"), timeout=10).ok


def test_pki_helpers(tmp_path: Path) -> None:
    root = make_ca("CN=Root")
    intermediate = make_ca("CN=Intermediate", issuer=root)
    leaf = make_leaf_cert("CN=app,O=Contoso", issuer=intermediate)
    leaf.certificate.verify_directly_issued_by(intermediate.certificate)
    intermediate.certificate.verify_directly_issued_by(root.certificate)
    assert leaf.chain == (intermediate.certificate, root.certificate)
    assert leaf.subject == "CN=app,O=Contoso"  # RFC 4514 round trip
    assert len(leaf.thumbprint) == 40 and leaf.thumbprint == leaf.thumbprint.upper()
    assert len(leaf.thumbprint_sha256) == 64
    assert thumbprint(leaf.certificate) == leaf.thumbprint

    ec_leaf = make_leaf_cert("CN=ec", key_type="ec")
    assert isinstance(ec_leaf.private_key, ec.EllipticCurvePrivateKey)
    assert isinstance(leaf.private_key, rsa.RSAPrivateKey)

    past = datetime.now(UTC) - timedelta(days=10)
    expired = make_leaf_cert("CN=old", not_before=past, not_after=past + timedelta(days=1))
    assert expired.certificate.not_valid_after_utc < datetime.now(UTC)

    pfx = leaf.write_pfx(tmp_path / "leaf.pfx", "pw", with_chain=True)
    key, cert, extra = pkcs12.load_key_and_certificates(pfx.read_bytes(), b"pw")
    assert cert == leaf.certificate and len(extra) == 2 and key is not None
    pem = leaf.write_pem(tmp_path / "leaf.pem")
    assert pem.stat().st_mode & 0o777 == 0o600
    assert b"PRIVATE KEY" in pem.read_bytes() and b"CERTIFICATE" in pem.read_bytes()
    public = leaf.write_pem(tmp_path / "leaf.crt", include_key=False)
    assert b"PRIVATE KEY" not in public.read_bytes()
    encrypted = leaf.write_key(tmp_path / "leaf.key", password="pw")
    assert b"ENCRYPTED" in encrypted.read_bytes()
    with pytest.raises(ValueError):
        make_leaf_cert("CN=x", key_type="dsa")  # type: ignore[arg-type]


def test_pytest_plugin_is_registered(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("entra_auth_emulator")
    assert plugin is not None and plugin.__name__ == "entra_auth_emulator.pytest_plugin"


def test_entra_emulator_fixture(entra_emulator: Emulator) -> None:
    assert entra_emulator.running
    assert entra_emulator.ready_info()["authority_host"] == entra_emulator.authority_host


def test_imports_stay_light() -> None:
    """The plugin loads in every pytest session and the package in `entra-auth`: neither may
    pull in cryptography (or the server) at import time."""
    code = (
        "import sys, entra_auth_emulator, entra_auth_emulator.pytest_plugin\n"
        "heavy = [m for m in ('cryptography', 'ssl', 'http.server',"
        " 'entra_auth_emulator.emulator') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_private_files_ignore_planted_symlinks(tmp_path: Path) -> None:
    """The ready file often goes to a shared folder such as /tmp. Its temporary name used to be
    predictable (``.<name>.<pid>.tmp``), so a symlink planted there redirected the write."""
    import os

    from entra_auth_emulator.pki import write_private_file

    victim = tmp_path / "victim"
    victim.write_text("precious")
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "ready.json"
    (shared / f".{target.name}.{os.getpid()}.tmp").symlink_to(victim)
    write_private_file(target, b"{}")
    assert victim.read_text() == "precious"
    assert target.read_bytes() == b"{}" and not target.is_symlink()
    assert target.stat().st_mode & 0o777 == 0o600
    leftovers = {p.name for p in shared.iterdir()} - {"ready.json"}
    assert leftovers == {f".{target.name}.{os.getpid()}.tmp"}  # only the planted link


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_loopback_only(tmp_path: Path, host: str) -> None:
    with Emulator(state_dir=tmp_path, host=host) as emu:
        assert emu.loopback_only
