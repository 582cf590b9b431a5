"""Dogfooding the plugin API: a third-party provider package, installed into a fresh virtual
environment, is the equal of a built-in one.

``entra_auth_file_assertion/`` (beside this file) is a separately installable package built
only from the public ``entra_auth`` namespace. Once per module it is installed, with core, the
CLI and the emulator by local path and their pinned dependencies from uv's cache (offline: the
workspace's own ``uv sync`` filled it), into a new virtual environment; every check then runs
that environment's ``entra-auth`` as a real subprocess against the session's HTTPS emulator on
loopback. The environment holds no built-in provider, so whatever works there works through
the plugin alone.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

import entra_auth
from entra_auth import CertificateAssertion, bundle_from_object
from entra_auth_emulator.pki import CertifiedKey, make_leaf_cert

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parents[1]
PACKAGE = HERE / "entra_auth_file_assertion"
PACKAGE_META = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]
LOCAL_PACKAGES = {
    "entra-auth": WORKSPACE / "core",
    "entra-auth-cli": WORKSPACE / "cli",
    "entra-auth-emulator": WORKSPACE / "emulator",
    PACKAGE_META["name"]: PACKAGE,
}
DEMO_TITLE = "a client assertion read from a file on every request"
WELCOME = "Welcome To Microsoft Graph!"
CORE_RANGE = ">=0.2,<1"
_MODULE_NAME = re.compile(r"entra_auth\.[A-Za-z_][\w.]*")
# Variables that would let the fresh environment see the workspace's packages or a user's uv.
_LEAKY = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")


# -- the fresh environment ------------------------------------------------------------------


def uv_command() -> list[str]:
    """uv as the workspace runs it: ``$UV`` (set by ``uv run``), ``uv`` on PATH, or the
    ``uv`` Python package."""
    for candidate in (os.environ.get("UV"), shutil.which("uv")):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate]
    if importlib.util.find_spec("uv") is not None:
        return [sys.executable, "-m", "uv"]
    pytest.fail("uv is needed to build the fresh environment: not in $UV, on PATH or importable")


@dataclass(frozen=True)
class Venv:
    root: Path
    setup_seconds: float

    @property
    def bin(self) -> Path:
        return self.root / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / ("python.exe" if os.name == "nt" else "python")

    @property
    def entra_auth(self) -> Path:
        return self.bin / ("entra-auth.exe" if os.name == "nt" else "entra-auth")


def _uv(*args: str | Path, env: dict[str, str], cwd: Path = WORKSPACE) -> str:
    done = subprocess.run(
        [*uv_command(), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"uv {' '.join(map(str, args))} failed:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A new virtual environment (this interpreter) with core, the CLI, the emulator and the
    third-party package installed from their folders, and nothing else of the workspace.

    Offline throughout: the pinned third-party dependencies come from ``uv export`` of the
    lock file (core's ``testing`` extra adds pytest) as a ``pylock.toml``, whose wheel URLs uv's
    cache holds since the workspace's sync (a requirements.txt of versions would need index
    pages, which a sync from the lock file never caches), and are installed without
    re-resolving; ``uv pip check`` then
    proves every installed package's requirements, the plugin's ``entra-auth>=0.2,<1``
    included, are met. The local packages are rebuilt every run, never taken from uv's build
    cache (which keys on pyproject.toml, not on the sources)."""
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    work = tmp_path_factory.mktemp("thirdparty-venv")
    requirements = work / "pylock.toml"
    requirements.write_text(
        _uv(
            "export",
            "--frozen",
            "--offline",
            "--format",
            "pylock.toml",
            "--no-header",
            "--no-emit-workspace",
            "--package",
            "entra-auth",
            "--package",
            "entra-auth-cli",
            "--package",
            "entra-auth-emulator",
            "--extra",
            "testing",
            env=env,
        )
    )
    root = work / "venv"
    _uv("venv", "--quiet", "--python", sys.executable, root, env=env)
    made = Venv(root, 0.0)
    reinstall = [arg for name in LOCAL_PACKAGES for arg in ("--reinstall-package", name)]
    _uv(
        "pip",
        "install",
        "--offline",
        "--no-deps",
        "--python",
        made.python,
        "-r",
        requirements,
        env=env,
        cwd=work,
    )
    _uv(
        "pip",
        "install",
        "--offline",
        "--no-deps",
        "--python",
        made.python,
        *LOCAL_PACKAGES.values(),
        *reinstall,
        env=env,
        cwd=work,
    )
    _uv("pip", "check", "--offline", "--python", made.python, env=env, cwd=work)
    return Venv(root, time.monotonic() - started)


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return f"{' '.join(self.args)} -> exit {self.code}\n{self.stdout}\n{self.stderr}"


@pytest.fixture
def subprocess_env(emulator_env: dict[str, str]) -> dict[str, str]:
    """The isolated home and the emulator (``REQUESTS_CA_BUNDLE``, ``AZURE_AUTHORITY_HOST``),
    without anything that points Python at the workspace. Every HTTP(S) request that is not
    for loopback goes to a closed loopback port, so reaching any real host (a Microsoft one
    included) fails the command instead of leaving the machine."""
    env = {k: v for k, v in emulator_env.items() if k not in _LEAKY}
    nowhere = f"http://127.0.0.1:{_closed_loopback_port()}"
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy"):
        env[name] = nowhere
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(
    command: Sequence[str | Path],
    env: dict[str, str],
    *,
    cwd: Path | None = None,
    timeout: float = 60,
) -> Result:
    args = tuple(map(str, command))
    done = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Result(args, done.returncode, done.stdout, done.stderr)


def entra_auth_cli(venv: Venv, env: dict[str, str], *args: str | Path, **kw: Any) -> Result:
    return run([venv.entra_auth, *args], env, **kw)


# -- apps and assertion files ---------------------------------------------------------------


@dataclass
class AssertionApp:
    """An app in the emulator with a registered certificate, signing its own assertions."""

    tenant_id: str
    client_id: str
    key: CertifiedKey
    authority_host: str

    def ids(self) -> list[str]:
        return ["--client-id", self.client_id, "--tenant-id", self.tenant_id]

    def assertion(self, *, key: CertifiedKey | None = None, lifetime: int = 600) -> str:
        """A fresh PS256 assertion (new jti) for this app's token endpoint, signed with the
        public helpers any plugin author has."""
        signer = key or self.key
        sign = CertificateAssertion(
            bundle_from_object((signer.private_key, signer.certificate)), lifetime=lifetime
        )
        endpoint = f"{self.authority_host}/{self.tenant_id}/oauth2/v2.0/token"
        return sign({"client_id": self.client_id, "token_endpoint": endpoint})


@pytest.fixture
def app(emulator: Any) -> AssertionApp:
    key = make_leaf_cert(f"CN=file-assertion-{uuid.uuid4().hex[:8]}")
    registered = AssertionApp(str(uuid.uuid4()), str(uuid.uuid4()), key, emulator.authority_host)
    emulator.register_app(
        tenant_id=registered.tenant_id,
        client_id=registered.client_id,
        display_name="Contoso Workload",
        roles=["User.Read.All"],
        certificates=[key.certificate],
    )
    return registered


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` as 0600 (replacing the file's content in place when it exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    os.chmod(path, 0o600)
    return path


def token_requests(emulator: Any, tenant_id: str) -> list[dict[str, Any]]:
    return [
        entry
        for entry in emulator.requests()
        if entry.get("endpoint") == "token" and f"/{tenant_id}/" in entry.get("path", "")
    ]


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def config_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "entra-auth" / "config.toml"


# -- the package is what it says --------------------------------------------------------------


def test_the_fresh_environment_holds_the_plugin_and_no_built_in_provider(
    venv: Venv, subprocess_env: dict[str, str]
) -> None:
    probe = run(
        [
            venv.python,
            "-c",
            "import importlib.metadata as m, json, sys; "
            "print(json.dumps({'prefix': sys.prefix, 'dists': sorted("
            "d.metadata['Name'] for d in m.distributions()), 'entra_auth': sorted("
            "f'{e.name}={e.value}' for e in m.entry_points(group='entra_auth'))}))",
        ],
        subprocess_env,
    )
    assert probe.code == 0, probe
    found = probe.json()
    assert Path(found["prefix"]).resolve() == venv.root.resolve()
    assert found["entra_auth"] == ["file-assertion=entra_auth_file_assertion"]
    names = set(found["dists"])
    assert set(LOCAL_PACKAGES) <= names
    built_ins = {
        tomllib.loads(p.read_text())["project"]["name"]
        for p in WORKSPACE.glob("providers/*/pyproject.toml")
    }
    assert len(built_ins) >= 5 and not built_ins & names, names
    # Built as a wheel from its own folder: the installed module is not the source file.
    where = run(
        [venv.python, "-c", "import entra_auth_file_assertion as m; print(m.__file__)"],
        subprocess_env,
    )
    assert where.code == 0, where
    assert Path(where.stdout.strip()).is_relative_to(venv.root), where.stdout

    # The guard: a request for a non-loopback address (TEST-NET-3, reserved for documentation)
    # ends at the closed proxy port at once.
    guarded = run(
        [
            venv.python,
            "-c",
            "import requests\n"
            "try:\n"
            "    requests.get('https://203.0.113.7/', timeout=5)\n"
            "except requests.exceptions.ProxyError:\n"
            "    print('stopped at the proxy')\n",
        ],
        subprocess_env,
    )
    assert guarded.code == 0 and guarded.stdout == "stopped at the proxy\n", guarded


def test_plugins_lists_the_plugin_with_its_distribution_provider_and_demo_step(
    venv: Venv, subprocess_env: dict[str, str]
) -> None:
    table = entra_auth_cli(venv, subprocess_env, "plugins")
    assert table.code == 0, table
    row = next(line for line in table.stdout.splitlines() if line.startswith("file-assertion "))
    assert row.split()[:3] == ["file-assertion", PACKAGE_META["name"], PACKAGE_META["version"]]
    assert "providers: file-assertion (1 demo step)" in row
    assert table.stderr == ""

    listed = entra_auth_cli(venv, subprocess_env, "plugins", "--output", "json")
    assert listed.code == 0, listed
    data = listed.json()
    assert data["problems"] == [] and data["disabled"] == []
    rows = {row["plugin"]: row for row in data["plugins"]}
    assert rows["file-assertion"] == {
        "plugin": "file-assertion",
        "distribution": PACKAGE_META["name"],
        "version": PACKAGE_META["version"],
        "providers": ["file-assertion"],
        "secret_schemes": [],
        "certificate_stores": [],
        "token_caches": [],
        "demo_steps": [f"file-assertion: {DEMO_TITLE}"],
    }
    # Nothing else in this environment registers a provider: the plugin stands alone.
    assert [name for row in data["plugins"] for name in row["providers"]] == ["file-assertion"]

    described = entra_auth_cli(venv, subprocess_env, "providers", "--output", "json").json()
    (provider,) = described["providers"]
    assert provider["name"] == "file-assertion"
    assert provider["distribution"] == PACKAGE_META["name"]
    option = {o["name"]: o for o in provider["options"]}["assertion_file"]
    assert option.pop("help").startswith("File holding a signed client assertion (a JWT)")
    assert option == {
        "name": "assertion_file",
        "flag": "--assertion-file",
        "type": "path",
        "required": True,
        "secret": False,
        "selects": True,
        "env": "ENTRA_AUTH_ASSERTION_FILE",
    }


@pytest.mark.parametrize("command", [("connect",), ("profile", "add")])
def test_help_shows_the_plugins_own_flag(
    venv: Venv, subprocess_env: dict[str, str], command: tuple[str, ...]
) -> None:
    shown = entra_auth_cli(venv, subprocess_env, *command, "--help")
    assert shown.code == 0, shown
    text = " ".join(shown.stdout.split())
    assert "--assertion-file PATH File holding a signed client assertion" in text, shown.stdout
    assert "--client-id" in text and "--tenant-id" in text


def test_generated_cli_reference_documents_the_flag(
    venv: Venv, subprocess_env: dict[str, str]
) -> None:
    docs = run([venv.python, "-m", "entra_auth_cli.docs_gen"], subprocess_env)
    assert docs.code == 0, docs
    rows = [line for line in docs.stdout.splitlines() if line.startswith("| `--assertion-file`")]
    # One row in `connect`'s table and one in `profile add`'s.
    assert len(rows) == 2, rows
    assert all("`PATH`" in row and "client assertion" in row for row in rows)


# -- signing in through the plugin ------------------------------------------------------------


def test_connect_with_the_selecting_flag_signs_in_and_token_works(
    venv: Venv,
    subprocess_env: dict[str, str],
    app: AssertionApp,
    emulator: Any,
    tmp_path: Path,
) -> None:
    assertion_file = write_private(tmp_path / "secrets" / "assertion.jwt", app.assertion())
    connected = entra_auth_cli(
        venv, subprocess_env, "connect", "--assertion-file", assertion_file, *app.ids()
    )
    assert connected.code == 0, connected
    assert WELCOME in connected.stdout
    assert [e["status"] for e in token_requests(emulator, app.tenant_id)] == [200]

    context = entra_auth_cli(venv, subprocess_env, "context", "--output", "json")
    assert context.code == 0, context
    shown = context.json()
    assert shown["client_id"] == app.client_id and shown["tenant_id"] == app.tenant_id
    assert shown["auth_type"] == "AppOnly"
    assert shown["assertion_file"] == str(assertion_file)

    # Context scope Process: the token lived in connect's process, so `token` signs in again
    # through the saved request, reading the file again. A workload agent rotates the file
    # (a new jti: the emulator refuses a replayed one, as Entra may).
    write_private(assertion_file, app.assertion())
    token = entra_auth_cli(venv, subprocess_env, "token")
    assert token.code == 0, token
    claims = jwt_claims(token.stdout.strip())
    assert claims["appid"] == app.client_id and claims["tid"] == app.tenant_id
    assert claims["roles"] == ["User.Read.All"]
    assert claims["app_displayname"] == "Contoso Workload"
    assert [e["status"] for e in token_requests(emulator, app.tenant_id)] == [200, 200]

    write_private(assertion_file, app.assertion())
    other = entra_auth_cli(
        venv, subprocess_env, "token", "--scope", "api://contoso-reports/.default"
    )
    assert other.code == 0, other
    assert jwt_claims(other.stdout.strip())["aud"] == "api://contoso-reports"
    assert len(token_requests(emulator, app.tenant_id)) == 3


def test_connect_for_the_current_user_caches_the_token_for_later_commands(
    venv: Venv,
    subprocess_env: dict[str, str],
    app: AssertionApp,
    emulator: Any,
    tmp_path: Path,
) -> None:
    assertion_file = write_private(tmp_path / "assertion.jwt", app.assertion())
    connected = entra_auth_cli(
        venv,
        subprocess_env,
        "connect",
        "--assertion-file",
        assertion_file,
        *app.ids(),
        "--context-scope",
        "CurrentUser",
        "--no-welcome",
    )
    assert connected.code == 0, connected
    assert WELCOME not in connected.stdout
    # The assertion was used up by connect; later commands must not need the file at all.
    assertion_file.unlink()
    tokens = [entra_auth_cli(venv, subprocess_env, "token") for _ in range(2)]
    assert [t.code for t in tokens] == [0, 0], tokens
    assert tokens[0].stdout == tokens[1].stdout
    assert jwt_claims(tokens[0].stdout.strip())["appid"] == app.client_id
    assert len(token_requests(emulator, app.tenant_id)) == 1


def test_the_assertion_file_is_read_on_every_token_request(
    venv: Venv,
    subprocess_env: dict[str, str],
    app: AssertionApp,
    emulator: Any,
    tmp_path: Path,
) -> None:
    """Inside one process and one credential: what is in the file at each request is what is
    sent (garbage is refused before any request, an unregistered signer by Entra, a fresh
    assertion signs in again)."""
    assertion_file = write_private(tmp_path / "assertion.jwt", app.assertion())
    stranger = make_leaf_cert("CN=not-registered")
    steps = [
        {"write": None, "scope": "https://graph.microsoft.com/.default"},
        {"write": "this is not a signed jwt", "scope": "api://one/.default"},
        {"write": app.assertion(key=stranger), "scope": "api://two/.default"},
        {"write": app.assertion(), "scope": "api://three/.default"},
    ]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(steps))
    script = """
import json, os, sys
import entra_auth

path, client_id, tenant_id, plan = sys.argv[1:]
results = []
credential = entra_auth.connect(
    "file-assertion",
    options={"client_id": client_id, "tenant_id": tenant_id, "assertion_file": path},
    fetch_token=False,
)
for step in json.load(open(plan)):
    if step["write"] is not None:
        with open(path, "w") as handle:
            handle.write(step["write"])
    try:
        token = credential.get_token(step["scope"])
        results.append({"ok": True, "token": token.token})
    except entra_auth.EntraAuthError as exc:
        results.append({"ok": False, "error": type(exc).__name__, "message": str(exc)})
credential.close()
print(json.dumps(results))
"""
    done = run(
        [venv.python, "-c", script, assertion_file, app.client_id, app.tenant_id, plan],
        subprocess_env,
    )
    assert done.code == 0, done
    first, garbage, stranger_signed, fresh = done.json()
    assert first["ok"] and jwt_claims(first["token"])["appid"] == app.client_id
    assert garbage == {
        "ok": False,
        "error": "ConfigurationError",
        "message": f"the assertion file {assertion_file} does not hold a signed JWT "
        "(header.payload.signature)",
    }
    assert not stranger_signed["ok"] and stranger_signed["error"] == "AuthenticationError"
    assert "AADSTS700027" in stranger_signed["message"]
    assert fresh["ok"] and jwt_claims(fresh["token"])["aud"] == "api://three"
    # The garbage never left the process; the stranger's assertion did, and was refused.
    assert [e["status"] for e in token_requests(emulator, app.tenant_id)] == [200, 401, 200]


def test_an_unsafe_or_wrongly_signed_assertion_file_is_refused(
    venv: Venv,
    subprocess_env: dict[str, str],
    app: AssertionApp,
    emulator: Any,
    tmp_path: Path,
) -> None:
    shared = write_private(tmp_path / "shared.jwt", app.assertion())
    shared.chmod(0o622)
    refused = entra_auth_cli(
        venv, subprocess_env, "connect", "--assertion-file", shared, *app.ids()
    )
    assert refused.code == 2, refused
    assert f"chmod go-w {shared}" in refused.stderr
    assert token_requests(emulator, app.tenant_id) == []  # refused before any request

    missing = entra_auth_cli(
        venv, subprocess_env, "connect", "--assertion-file", tmp_path / "nope.jwt", *app.ids()
    )
    assert missing.code == 2, missing
    assert "cannot read the assertion file" in missing.stderr

    forged = write_private(
        tmp_path / "forged.jwt", app.assertion(key=make_leaf_cert("CN=not-registered"))
    )
    wrong = entra_auth_cli(venv, subprocess_env, "connect", "--assertion-file", forged, *app.ids())
    assert wrong.code == 1, wrong
    assert "AADSTS700027" in wrong.stderr
    assert WELCOME not in wrong.stdout
    assert [e["status"] for e in token_requests(emulator, app.tenant_id)] == [401]


def test_environment_variable_sign_in_picks_the_plugin(
    venv: Venv, subprocess_env: dict[str, str], app: AssertionApp, tmp_path: Path
) -> None:
    assertion_file = write_private(tmp_path / "assertion.jwt", app.assertion())
    env = {
        **subprocess_env,
        "AZURE_CLIENT_ID": app.client_id,
        "AZURE_TENANT_ID": app.tenant_id,
        "ENTRA_AUTH_ASSERTION_FILE": str(assertion_file),
    }
    connected = entra_auth_cli(venv, env, "connect", "--environment-variable")
    assert connected.code == 0, connected
    assert WELCOME in connected.stdout
    shown = entra_auth_cli(venv, env, "context", "--output", "json").json()
    assert shown["client_id"] == app.client_id
    assert shown["assertion_file"] == str(assertion_file)


def test_profile_add_takes_the_plugins_flags_and_the_profile_signs_in(
    venv: Venv, subprocess_env: dict[str, str], app: AssertionApp, tmp_path: Path
) -> None:
    folder = tmp_path / "work"
    assertion_file = write_private(folder / "assertion.jwt", app.assertion())
    added = entra_auth_cli(
        venv,
        subprocess_env,
        "profile",
        "add",
        "workload",
        "--assertion-file",
        "assertion.jwt",  # relative: saved absolute, since later runs start elsewhere
        *app.ids(),
        cwd=folder,
    )
    assert added.code == 0, added
    saved = tomllib.loads(config_file(subprocess_env).read_text())["profiles"]["workload"]
    assert saved == {
        "provider": "file-assertion",
        "client_id": app.client_id,
        "tenant_id": app.tenant_id,
        "assertion_file": str(assertion_file),
    }, saved

    shown = entra_auth_cli(venv, subprocess_env, "profile", "show", "workload")
    assert shown.code == 0, shown
    assert str(assertion_file) in shown.stdout

    connected = entra_auth_cli(venv, subprocess_env, "connect", "--profile", "workload")
    assert connected.code == 0, connected
    assert WELCOME in connected.stdout


def test_demo_runs_the_plugins_step(venv: Venv, subprocess_env: dict[str, str]) -> None:
    demo = entra_auth_cli(venv, subprocess_env, "demo", timeout=120)
    assert demo.code == 0, demo
    assert f"== file-assertion: {DEMO_TITLE}" in demo.stdout
    assert "AppName               : Contoso Workload (demo)" in demo.stdout
    assert "AssertionFile" in demo.stdout
    assert "app_displayname : Contoso Workload (demo)" in demo.stdout
    assert "signed in with: file-assertion." in demo.stdout
    assert "no demo step" not in demo.stdout


# -- the conformance kit, as the plugin's author runs it ---------------------------------------


def test_the_plugin_passes_the_conformance_kit_in_its_own_environment(
    venv: Venv, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    """The package's own tests (a ``ProviderConformance`` subclass) in the fresh environment:
    the kit starts its own emulator there and signs in through the plugin's demo step."""
    # A copy of the package's tests, so pytest's rootdir and config are the package's own.
    suite = tmp_path / "suite"
    shutil.copytree(PACKAGE / "tests", suite / "tests")
    shutil.copy(PACKAGE / "pyproject.toml", suite / "pyproject.toml")
    report = tmp_path / "conformance.xml"
    done = run(
        [venv.python, "-m", "pytest", "-q", f"--junitxml={report}", "tests"],
        subprocess_env,
        cwd=suite,
        timeout=300,
    )
    assert done.code == 0, done
    outcomes: dict[str, str] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        assert name.startswith("tests.test_file_assertion_conformance.TestFileAssertion."), name
        failed = case.find("failure") if case.find("failure") is not None else case.find("error")
        assert failed is None, f"{name}: {failed.get('message')}"
        skipped = case.find("skipped")
        outcomes[name] = "passed" if skipped is None else f"skipped: {skipped.get('message')}"
    passed = [name for name, outcome in outcomes.items() if outcome == "passed"]
    assert len(passed) >= 5, outcomes
    assert any("sign" in name for name in passed), outcomes  # a behavioural check really ran
    # A check may be skipped only where it cannot apply: this provider has no secret option.
    skips = {name: outcome for name, outcome in outcomes.items() if outcome != "passed"}
    assert all("secret" in outcome for outcome in skips.values()), skips


# -- the built-ins play by the same rules ------------------------------------------------------


def _provider_sources() -> Iterator[tuple[str, Path]]:
    for pyproject in sorted(WORKSPACE.glob("providers/*/pyproject.toml")):
        for source in sorted((pyproject.parent / "src").rglob("*.py")):
            yield pyproject.parent.name, source
    for source in sorted((PACKAGE / "src").rglob("*.py")):
        yield PACKAGE.name, source


def private_uses(source: Path) -> list[str]:
    """Every import of, or attribute reached through, ``entra_auth`` that is not public: a
    submodule other than ``entra_auth.testing``, or a name missing from ``__all__``."""
    public = set(entra_auth.__all__)
    tree = ast.parse(source.read_text(), filename=str(source))
    shown = source.relative_to(WORKSPACE) if source.is_relative_to(WORKSPACE) else source
    found = []
    for node in ast.walk(tree):
        where = f"{shown}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module = node.module
            if module == "entra_auth":
                found += [f"{where}: {a.name}" for a in node.names if a.name not in public]
            elif module.startswith("entra_auth.") and not _testing(module):
                found.append(f"{where}: from {module} import ...")
        elif isinstance(node, ast.Import):
            found += [
                f"{where}: import {a.name}"
                for a in node.names
                if a.name.startswith("entra_auth.") and not _testing(a.name)
            ]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "entra_auth"
            and node.attr not in public
            and node.attr != "testing"
        ):
            found.append(f"{where}: entra_auth.{node.attr}")
        elif isinstance(node, ast.Call) and _imports_by_name(node):
            # importlib.import_module("entra_auth.x"), __import__("entra_auth.x")
            text = node.args[0].value  # type: ignore[attr-defined]
            if (
                _MODULE_NAME.fullmatch(text)
                and not _testing(text)
                and text.split(".")[1] not in public
            ):
                found.append(f"{where}: import_module({text!r})")
    return found


def _imports_by_name(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return (
        name in ("import_module", "__import__")
        and bool(call.args)
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    )


def _testing(module: str) -> bool:
    return module == "entra_auth.testing" or module.startswith("entra_auth.testing.")


def test_providers_import_only_the_public_namespace() -> None:
    sources = list(_provider_sources())
    assert {name for name, _ in sources} >= {
        "cert-name",
        "cert-object",
        "cert-thumbprint",
        "client-secret",
        "managed-identity",
        PACKAGE.name,
    }
    problems = [use for _, source in sources for use in private_uses(source)]
    assert problems == [], "\n".join(problems)


def test_the_private_import_check_catches_private_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import entra_auth\n"
        "import entra_auth.config\n"
        "from entra_auth import connect, plugins\n"
        "from entra_auth.msal_confidential import ConfidentialClientSource\n"
        "from entra_auth.testing import ProviderConformance\n"
        "x = entra_auth.certificates\n"
        "y = entra_auth.connect\n"
        "import importlib\n"
        "z = importlib.import_module('entra_auth.plugins')\n"
        "log = logging.getLogger('entra_auth.my_plugin')\n"
    )
    found = [line.split(": ", 1)[1] for line in private_uses(probe)]
    assert sorted(found) == sorted(
        [
            "import entra_auth.config",
            "plugins",
            "from entra_auth.msal_confidential import ...",
            "entra_auth.certificates",
            "import_module('entra_auth.plugins')",
        ]
    )


def _pyprojects() -> list[Path]:
    return [
        *sorted(WORKSPACE.glob("providers/*/pyproject.toml")),
        WORKSPACE / "cli" / "pyproject.toml",
        PACKAGE / "pyproject.toml",
    ]


@pytest.mark.parametrize("pyproject", _pyprojects(), ids=lambda p: p.parent.name)
def test_providers_and_the_cli_depend_on_a_bounded_core(pyproject: Path) -> None:
    project = tomllib.loads(pyproject.read_text())["project"]
    core = [
        Requirement(text)
        for text in project["dependencies"]
        if Requirement(text).name == "entra-auth"
    ]
    assert len(core) == 1, project["dependencies"]
    assert core[0].specifier == SpecifierSet(CORE_RANGE), core[0]
    # The range admits the core in this workspace and its declared API version.
    core_version = tomllib.loads((WORKSPACE / "core" / "pyproject.toml").read_text())["project"][
        "version"
    ]
    assert core[0].specifier.contains(core_version)
    assert core[0].specifier.contains(entra_auth.API_VERSION)
    if pyproject.parent.name != "cli":
        entry_points = project["entry-points"]["entra_auth"]
        assert len(entry_points) == 1, entry_points
