"""``entra-auth demo`` is a walkthrough a person can follow: every ``$`` line it prints is a
command that works when typed, it shows the welcome line, the context and Graph's groups, and it
never touches the user's own connection, config or certificates.

The first test runs the demo as users do (a subprocess). The second runs it in this process
with ``walkthrough(on_step=...)`` so that, while the demo's emulator still runs, the printed
lines can be replayed the way a person would: a fresh shell environment that knows only what
the transcript says (``cd``, ``export``, ``unset``, and the values of the variables it names
but never shows), each ``entra-auth`` line run as its own process. The last tests install
third-party providers as real distributions: a step only the Python API can carry, a sign-in
option without a flag, a provider without steps, and a step that does not behave.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Run
from plugin_helpers import install_distribution

WELCOME = "Welcome To Microsoft Graph!"
GROUPS = ("All Company", "Finance", "Automation Admins")  # the emulator's default groups
REFUSED = "# Refused, as it should be (exit code 1)"
UPLOAD = (
    "# Upload contoso-automation.cer in App registrations > Certificates & secrets "
    "(the demo registers it with the emulator)"
)
BUILT_IN = (
    "cert-name",
    "cert-object",
    "cert-thumbprint",
    "client-secret",
    "managed-identity",
    "workload-identity",
)
HIDDEN = re.compile(r"^# (\w+) (?:holds|is set) .*never shown\)$")


def sections(transcript: str) -> dict[str, list[str]]:
    """The transcript's ``== TITLE`` sections by title (the part before the first is "")."""
    found: dict[str, list[str]] = {"": []}
    current = ""
    for line in transcript.splitlines():
        if line.startswith("== "):
            current = line[3:]
            found[current] = []
        else:
            found[current].append(line)
    return found


def user_folders(home: Path) -> list[Path]:
    return [
        home / ".config" / "entra-auth",
        home / ".local" / "state" / "entra-auth",
        home / ".local" / "share" / "entra-auth",
        home / ".dotnet",
    ]


def test_the_demo_shows_each_provider_as_commands_and_leaves_the_user_alone(
    run_cli: Run, isolated_environment: Path
) -> None:
    started = time.monotonic()
    result = run_cli("demo")
    elapsed = time.monotonic() - started
    assert result.code == 0, result.output
    assert elapsed < 10, f"the demo took {elapsed:.1f} s"
    assert result.stderr == ""  # one transcript, in order, on stdout
    out = result.stdout
    parts = sections(out)

    # The admin's start: a certificate made in the demo's store, then used by thumbprint.
    (created,) = [t for t in parts if t.startswith("Create the app's certificate")]
    lines = parts[created]
    assert lines[0] == "$ entra-auth certificate new --subject CN=contoso-automation"
    thumbprint = lines[1]
    assert re.fullmatch(r"[0-9A-F]{40}", thumbprint), lines
    (by_thumbprint,) = [t for t in parts if t.startswith("cert-thumbprint:")]
    assert parts[by_thumbprint][0] == UPLOAD
    assert (
        f"--certificate-thumbprint {thumbprint} --environment Emulator" in (parts[by_thumbprint][1])
    )

    signed_in = refused = 0
    for provider in BUILT_IN:
        titles = [t for t in parts if t.startswith(f"{provider}: ")]
        assert titles, f"no step of {provider} in:\n{out}"
        for title in titles:
            lines = [line for line in parts[title] if not line.startswith("#")]
            connect = next(i for i, line in enumerate(lines) if line.startswith("$ entra-auth "))
            assert lines[connect].startswith("$ entra-auth connect ")
            assert lines[connect].endswith(" --environment Emulator")
            if lines[connect + 1] == WELCOME:
                signed_in += 1
                assert lines[connect + 2] == "$ entra-auth context"
                assert any(line.startswith("AuthType ") for line in lines), lines
                request = lines.index("$ entra-auth request /v1.0/groups --output table")
                assert lines[request + 1].startswith("DisplayName ")
                shown = "\n".join(lines[request:])
                assert all(group in shown for group in GROUPS), shown
                assert any(line.startswith("  app_displayname ") for line in lines)
            else:
                refused += 1
                assert lines[connect + 1].startswith("entra-auth: error: "), lines
                assert REFUSED in parts[title]
    assert signed_in >= 6 and refused >= 4
    assert out.count(WELCOME) == signed_in
    assert "AADSTS7000215" in out  # the wrong secret's refusal, as Entra words it
    assert out.rstrip().endswith(f"signed in with: {', '.join(BUILT_IN)}.")
    assert "eyJ" not in out  # claims are shown, never a token
    # Nothing of the user's was created or changed, and nothing landed in the working folder.
    for folder in user_folders(isolated_environment):
        assert not folder.exists(), folder
    assert not (Path.cwd() / "contoso-automation.cer").exists()


@dataclass
class Follower:
    """A person following the transcript in a shell: what ``cd``, ``export`` and ``unset``
    lines set, plus the values of the variables the transcript names but never shows."""

    cli: list[str]
    home: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    read: int = 0

    def __post_init__(self) -> None:
        self.home.mkdir()
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "NO_PROXY": "127.0.0.1,localhost,::1",
        }

    def follow(self, transcript: str, hidden_values: dict[str, str]) -> None:
        for line in transcript.splitlines()[self.read :]:
            if line.startswith("$ cd "):
                self.cwd = Path(shlex.split(line[2:])[1])
            elif line.startswith("$ export "):
                for pair in shlex.split(line[2:])[1:]:
                    name, _, value = pair.partition("=")
                    self.env[name] = value
            elif line.startswith("$ unset "):
                for name in shlex.split(line[2:])[1:]:
                    self.env.pop(name, None)
            elif match := HIDDEN.match(line):
                self.env[match.group(1)] = hidden_values[match.group(1)]
        self.read = len(transcript.splitlines())

    def run(self, line: str) -> subprocess.CompletedProcess[str]:
        argv = shlex.split(line.removeprefix("$ "))
        assert argv[0] == "entra-auth", line
        return subprocess.run(
            [*self.cli, *argv[1:]],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture
def quiet_logging() -> Iterator[None]:
    """The CLI's entry point adds a warnings handler once per process; take it away again."""
    logger = logging.getLogger("entra_auth")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_the_printed_commands_work_when_typed(
    capsys: pytest.CaptureFixture[str],
    cli_command: list[str],
    isolated_environment: Path,
    tmp_path: Path,
    quiet_logging: None,
) -> None:
    from entra_auth import plugins
    from entra_auth_cli.demo import ShownStep, walkthrough

    environ_before, cwd_before, host_before = dict(os.environ), os.getcwd(), plugins.get_host()
    transcript: list[str] = []
    follower = Follower(cli_command, tmp_path / "follower")
    hidden: set[str] = set()
    replayed: dict[str, list[str]] = {}
    followed_up: list[str] = []

    def replay(step: ShownStep) -> None:
        transcript.append(capsys.readouterr().out)
        text = "".join(transcript)
        names = {m.group(1) for line in text.splitlines() if (m := HIDDEN.match(line))}
        hidden.update(step.environ[name] for name in names)
        follower.follow(text, {name: step.environ[name] for name in names})
        assert not step.python_api and step.behaved, step
        connect = step.commands[0]
        done = follower.run(connect)
        replayed.setdefault(step.provider, []).append(connect)
        if step.refusal:
            assert done.returncode == 1, (connect, done.stdout, done.stderr)
            (line,) = done.stderr.splitlines()
            assert line.startswith("entra-auth: error: ") and line in text
            return
        assert done.returncode == 0, (connect, done.stdout, done.stderr)
        assert done.stdout == WELCOME + "\n"
        if step.provider in followed_up:
            return
        followed_up.append(step.provider)  # the first sign-in of each: context and Graph too
        context_line, request_line = step.commands[1:]
        assert context_line == "entra-auth context"
        context = follower.run(context_line)
        assert context.returncode == 0, context.stderr
        assert "Environment           : Emulator" in context.stdout
        groups = follower.run(request_line)
        assert groups.returncode == 0, groups.stderr
        assert all(group in groups.stdout for group in GROUPS), groups.stdout

    assert walkthrough(on_step=replay) == 0
    transcript.append(capsys.readouterr().out)
    text = "".join(transcript)

    assert set(replayed) == set(BUILT_IN)
    assert sum(len(lines) for lines in replayed.values()) >= 10
    assert "--identity" in " ".join(replayed["managed-identity"])  # a bool option: a bare flag
    assert "env:" in " ".join(replayed["client-secret"])  # secrets by reference only
    assert len(hidden) >= 2
    for value in hidden:
        assert value not in text
    assert "eyJ" not in text
    # This process is as it was: variables, working folder, plugin host; the user's folders
    # were never created.
    assert dict(os.environ) == environ_before
    assert os.getcwd() == cwd_before
    assert plugins.get_host() is host_before
    for folder in user_folders(isolated_environment):
        assert not folder.exists(), folder


THIRD_PARTY = '''
import entra_auth
from entra_auth import CLIENT_ID, TENANT_ID, ConfidentialClientSource, DemoStep, Option, Provider


class SecretBox:
    """A secret handed out in an object, as some vault SDKs do."""

    def __init__(self, value):
        self._value = value

    def reveal(self):
        return self._value

    def __repr__(self):
        return "SecretBox(...)"


def _source(settings, secret):
    return ConfidentialClientSource(
        settings,
        client_id=settings.require("client_id"),
        tenant_id=settings.require("tenant_id"),
        client_credential=lambda: secret,
    )


class Boxed(Provider):
    name = "tp-boxed"
    summary = "A client secret in a Python object."
    auth_type = "AppOnly"
    options = (CLIENT_ID, TENANT_ID, Option("secret_box", "The box.", type="object"))

    def create(self, settings):
        return _source(settings, settings.require("secret_box").reveal())

    def demo_steps(self):
        return (DemoStep("a secret handed over in an object", _boxed),)


class OptionOnly(Provider):
    name = "tp-option-only"
    summary = "A secret option without a flag of its own."
    auth_type = "AppOnly"
    options = (
        CLIENT_ID,
        TENANT_ID,
        Option("vault_secret", "Reference to the secret.", secret=True, required=True, flag=""),
    )

    def create(self, settings):
        return _source(settings, settings.secret("vault_secret"))

    def demo_steps(self):
        return (
            DemoStep("a secret given with --option", _option),
            DemoStep("a wrong secret given with --option, refused", _wrong, refusal=WRONG_REFUSED),
            DemoStep("a Secret object", _secret_object),
        )


class Quiet(Provider):
    name = "tp-quiet"
    summary = "No demo steps."
    options = (CLIENT_ID, TENANT_ID, Option("quiet_file", "A file.", type="path", selects=True))

    def create(self, settings):
        raise NotImplementedError


WRONG_REFUSED = True


def _boxed(lab):
    secret = lab.new_secret()
    app = lab.register_app(display_name="Boxed (demo)", secrets=[secret])
    return {"client_id": app.client_id, "tenant_id": app.tenant_id, "secret_box": SecretBox(secret)}


def _option(lab):
    secret = lab.new_secret()
    app = lab.register_app(display_name="Vault (demo)", secrets=[secret])
    lab.set_env("TP_VAULT_SECRET", secret)
    return {"client_id": app.client_id, "tenant_id": app.tenant_id,
            "vault_secret": "env:TP_VAULT_SECRET"}


def _secret_object(lab):
    secret = lab.new_secret()
    app = lab.register_app(display_name="Vault object (demo)", secrets=[secret])
    return {"client_id": app.client_id, "tenant_id": app.tenant_id,
            "vault_secret": entra_auth.Secret(secret)}


def _wrong(lab):
    app = lab.register_app(display_name="Vault refused (demo)", secrets=[lab.new_secret()])
    lab.set_env("TP_WRONG_SECRET", lab.new_secret())
    return {"client_id": app.client_id, "tenant_id": app.tenant_id,
            "vault_secret": "env:TP_WRONG_SECRET"}


@entra_auth.hookimpl
def entra_auth_register_providers(register):
    register(Boxed())
    register(OptionOnly())
    register(Quiet())
'''

NO_BUILT_INS = ",".join(BUILT_IN)


def demo_with(
    run_cli: Run, site: Path, module: str, source: str, **kwargs: Any
) -> tuple[int, str, str]:
    install_distribution(site, "entra-tp-demo", module, source)
    result = run_cli(
        "demo",
        env={"PYTHONPATH": str(site), "ENTRA_AUTH_DISABLE_PLUGINS": NO_BUILT_INS, **kwargs},
    )
    return result.code, result.stdout, result.stderr


def test_third_party_steps_are_commands_or_python_and_a_provider_without_steps_is_named(
    run_cli: Run, site: Path
) -> None:
    code, out, err = demo_with(run_cli, site, "tp_demo_ok", THIRD_PARTY)
    assert code == 0, out + err
    parts = sections(out)
    # An option with no flag: --option NAME=REF, and --provider since no flag selects it.
    lines = parts["tp-option-only: a secret given with --option"]
    assert lines[0] == (
        "# TP_VAULT_SECRET holds the secret env:TP_VAULT_SECRET refers to "
        "(set by the demo; never shown)"
    )
    assert re.fullmatch(
        r"\$ entra-auth connect --provider tp-option-only --client-id [0-9a-f-]{36} "
        r"--tenant-id [0-9a-f-]{36} --option vault_secret=env:TP_VAULT_SECRET "
        r"--environment Emulator",
        lines[1],
    ), lines[1]
    assert lines[2] == WELCOME
    assert "AppName               : Vault (demo)" in lines
    assert REFUSED in parts["tp-option-only: a wrong secret given with --option, refused"]
    # An object: no command line can carry it, so the Python API, said so.
    lines = parts["tp-boxed: a secret handed over in an object"]
    assert lines[0].startswith("# secret_box is a Python object, which no command line can carry")
    assert lines[2].startswith(">>> credential = entra_auth.connect('tp-boxed', ")
    assert "secret_box=<SecretBox>" in lines[2]
    assert "AppName               : Boxed (demo)" in lines
    assert any(all(g in line for g in GROUPS) for line in lines), lines
    assert "$ entra-auth connect" not in "\n".join(lines)
    # A Secret object for a secret option: the Python API too, its value never shown.
    lines = parts["tp-option-only: a Secret object"]
    assert lines[0].startswith("# vault_secret is a Python object")
    assert "vault_secret=<Secret>" in lines[2]
    assert "AppName               : Vault object (demo)" in lines
    assert "tp-quiet (entra-tp-demo): no demo step." in out
    # No provider here uses certificate stores: no certificate to make.
    assert "certificate new" not in out
    assert out.rstrip().endswith("signed in with: tp-boxed, tp-option-only.")


FAILING = """
import entra_auth
from entra_auth import CLIENT_ID, TENANT_ID, DemoStep, Option, Provider


class Failing(Provider):
    name = "tp-failing"
    summary = "Its one step is refused although it should sign in."
    auth_type = "AppOnly"
    options = (
        CLIENT_ID, TENANT_ID, Option("failing_secret", "Reference.", secret=True, selects=True)
    )

    def create(self, settings):
        from entra_auth import ConfidentialClientSource

        secret = settings.secret("failing_secret")
        return ConfidentialClientSource(
            settings,
            client_id=settings.require("client_id"),
            tenant_id=settings.require("tenant_id"),
            client_credential=lambda: secret,
        )

    def demo_steps(self):
        return (DemoStep("a secret the app does not have", _step),)


def _step(lab):
    app = lab.register_app(secrets=[lab.new_secret()])
    lab.set_env("TP_FAILING_SECRET", lab.new_secret())
    return {"client_id": app.client_id, "tenant_id": app.tenant_id,
            "failing_secret": "env:TP_FAILING_SECRET"}


@entra_auth.hookimpl
def entra_auth_register_providers(register):
    register(Failing())
"""


def test_a_step_that_does_not_behave_exits_1(run_cli: Run, site: Path) -> None:
    misbehaving = THIRD_PARTY.replace("WRONG_REFUSED = True", "WRONG_REFUSED = False")
    code, out, err = demo_with(run_cli, site, "tp_demo_bad", misbehaving)
    assert code == 1, out + err
    assert "# exit code 1: this sign-in should have worked" in out
    assert (
        "Did not behave: tp-option-only: a wrong secret given with --option, refused "
        "(expected a sign-in)" in out
    )
    assert out.rstrip().endswith("signed in with: tp-boxed, tp-option-only.")


def test_nothing_signed_in_exits_2_saying_what_to_install(run_cli: Run, site: Path) -> None:
    install_distribution(site, "entra-tp-failing", "tp_demo_failing", FAILING)
    result = run_cli(
        "demo", env={"PYTHONPATH": str(site), "ENTRA_AUTH_DISABLE_PLUGINS": NO_BUILT_INS}
    )
    assert result.code == 2, result.output
    assert "--failing-secret env:TP_FAILING_SECRET --environment Emulator" in result.stdout
    assert "Did not behave: tp-failing: a secret the app does not have" in result.stdout
    line = result.error_line()
    assert "the demo had nothing to show" in line
    assert "pip install 'entra-auth-cli[all]'" in line
