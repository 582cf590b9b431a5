"""``entra-auth demo``: a walkthrough a person can follow, offline, in a few seconds.

It starts the embedded emulator on free loopback ports and works in a temp folder of its own
(its own config file, saved connection, certificate store, home and XDG folders), so the user's
connection, config and certificates are never touched. Then, as an admin would:

1. ``entra-auth environment add`` points entra-auth at the emulator (a custom environment in
   the demo's config file), instead of Microsoft's cloud;
2. ``entra-auth certificate new`` makes the app's certificate, when a provider signs in with
   certificates from the stores (``Provider.uses_certificate_stores``); a step can use it as
   ``lab.certificate``, and registering it with the app stands in for the portal upload;
3. for every demo step the installed providers contribute (``Provider.demo_steps``, built-in
   and third-party alike), the exact ``entra-auth connect`` command a user would type, built
   from the step's options and the provider's ``Option`` declarations only, run as the CLI
   (so "Welcome To Microsoft Graph!" appears), then ``entra-auth context``, ``entra-auth
   request /v1.0/groups`` against the emulator's Graph and the token's claims (never the
   token). A refusal step shows its one-line error and exit code. A step whose options no
   command line can carry (a Python object) is shown through the Python API instead.

Every command printed after ``$`` is what ran: the line is built first, then split back into
arguments and run in this process through the CLI's own entry point (``app.run``), its stderr
folded into stdout so the transcript reads in order. Secrets appear only as references
(``env:NAME``), and a variable holding one is named, never shown.

Exit codes: 0 when every step behaved (sign-ins signed in, refusals were refused), 1 when one
did not, 2 when no provider is installed or none could show anything.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .output import echo, format_list

if TYPE_CHECKING:
    from entra_auth import DemoLab, DemoStep
    from entra_auth.plugins import PluginHost, ProviderEntry

PROG = "entra-auth"
ENVIRONMENT = "Emulator"
CERTIFICATE_SUBJECT = "CN=contoso-automation"
GRAPH_PATH = "/v1.0/groups"
SHOWN_CLAIMS = ("aud", "iss", "tid", "appid", "app_displayname", "roles", "idtyp", "oid", "exp")
EXIT_MISBEHAVED = 1

# Where the demo's isolated world lives, relative to its temp folder. The first three are the
# ones a person following along needs (printed as an export line); the rest keep the tool's
# other files (caches, the .NET store under HOME) inside the temp folder too.
_PRINTED_FOLDERS = {
    "ENTRA_AUTH_CONFIG": "config.toml",
    "ENTRA_AUTH_STATE_DIR": "state",
    "XDG_DATA_HOME": "data",
}
_QUIET_FOLDERS = {
    "HOME": "home",
    "XDG_CONFIG_HOME": "xdg-config",
    "XDG_STATE_HOME": "xdg-state",
    "XDG_CACHE_HOME": "cache",
}
# Variables that would send the commands elsewhere than the emulator, pick a profile or a
# certificate folder of the user's, or override the environment's CA bundle.
_SET_ASIDE = (
    "ENTRA_AUTH_PROFILE",
    "ENTRA_AUTH_CERT_PATH",
    "AZURE_AUTHORITY_HOST",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "no_proxy",
)


@dataclass
class ShownStep:
    """One demo step as the walkthrough showed it (for ``on_step`` callers such as tests)."""

    provider: str
    title: str
    refusal: bool
    commands: list[str]
    """The command lines printed after ``$`` for this step, in order."""
    environ: dict[str, str]
    """This process's environment when the commands ran (secret variables included)."""
    behaved: bool
    python_api: bool = False


@dataclass
class _Tally:
    shown: list[str] = field(default_factory=list)
    misbehaved: list[str] = field(default_factory=list)
    without_steps: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)


def demo() -> None:
    """Walk through certificate, sign-in, context and a Graph request with every installed
    provider, against the embedded emulator (your own connection and config are not touched)."""
    code = walkthrough()
    if code:
        import typer

        raise typer.Exit(code)


def walkthrough(on_step: Callable[[ShownStep], None] | None = None) -> int:
    """Run the demo, printing the transcript on stdout; the exit code (see the module doc).
    ``on_step`` is called after each step, while the emulator still runs."""
    from entra_auth import UsageError, plugins

    try:
        from entra_auth_emulator import Emulator
    except ImportError:
        raise UsageError(
            "the demo needs the emulator; install entra-auth-emulator "
            "(pip install 'entra-auth-cli[demo]')"
        ) from None

    started = time.monotonic()
    installed = plugins.get_host().providers()
    if not installed:
        raise UsageError(
            "no providers are installed, so the demo had nothing to show; install them with "
            "pip install 'entra-auth-cli[all]', or one, e.g. pip install "
            "entra-auth-client-secret (see 'entra-auth plugins')"
        )
    tally = _Tally()
    with (
        tempfile.TemporaryDirectory(prefix="entra-auth-demo-") as tmp,
        Emulator(state_dir=Path(tmp) / "emulator") as emulator,
    ):
        workdir = Path(tmp)
        with _lab(emulator, workdir) as lab, _inside(workdir), _fresh_plugins() as host:
            installed = host.providers()
            _introduce(lab)
            if any(e.provider.uses_certificate_stores for e in installed.values()):
                _new_certificate(lab)
            # Providers that sign in from the certificate stores first: the certificate just
            # made is theirs to use, as an admin's next step would be.
            order = sorted(
                installed.items(),
                key=lambda item: (not item[1].provider.uses_certificate_stores, item[0]),
            )
            for name, entry in order:
                _provider(lab, host, name, entry, tally, on_step)

    echo("")
    for name in tally.without_steps:
        echo(f"{name} ({installed[name].distribution}): no demo step.")
    for line in tally.broken:
        echo(f"Skipped {line}")
    for line in tally.misbehaved:
        echo(f"Did not behave: {line}")
    providers_shown = ", ".join(sorted(set(tally.shown))) or "none"
    echo(f"Demo finished in {time.monotonic() - started:.1f} s; signed in with: {providers_shown}.")
    if not tally.shown:
        raise UsageError(
            "none of the installed providers has a demo step that signed in, so the demo had "
            "nothing to show; pip install 'entra-auth-cli[all]' adds the built-in providers"
        )
    return EXIT_MISBEHAVED if tally.misbehaved else 0


# -- the isolated world ------------------------------------------------------------------


@contextlib.contextmanager
def _lab(emulator: Any, workdir: Path) -> Iterator[DemoLab]:
    """A ``DemoLab`` whose environment is the emulator (its Graph included), with every
    variable that locates the user's files pointed into ``workdir``; all restored at the end."""
    from entra_auth import DemoLab, Environment

    environment = Environment(
        ENVIRONMENT,
        authority_host=emulator.authority_host,
        graph_endpoint=emulator.graph_endpoint,
        ca_bundle=str(emulator.ca_bundle),
    )
    lab = DemoLab(emulator, workdir, environment)
    no_proxy = _no_proxy()
    try:
        for name, relative in {**_PRINTED_FOLDERS, **_QUIET_FOLDERS}.items():
            lab.set_env(name, str(workdir / relative))
        (workdir / "home").mkdir(mode=0o700)
        for name in _SET_ASIDE:
            lab.unset_env(name)
        lab.set_env("NO_PROXY", no_proxy)  # a corporate proxy must not see loopback calls
        yield lab
    finally:
        lab.restore_env()


@contextlib.contextmanager
def _fresh_plugins() -> Iterator[PluginHost]:
    """A plugin host built inside the isolated world, so the certificate stores it registers
    are the demo's (the entra-auth store under the demo's ``XDG_DATA_HOME``, the .NET store
    under its ``HOME``), never the user's; the process's own host is put back afterwards."""
    from entra_auth import plugins

    previous = plugins.get_host()
    plugins.set_host(None)
    try:
        yield plugins.get_host()
    finally:
        plugins.set_host(previous)


@contextlib.contextmanager
def _inside(folder: Path) -> Iterator[None]:
    """Work in ``folder`` (``certificate new`` writes the public files to the current folder)."""
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _introduce(lab: DemoLab) -> None:
    workdir = lab.workdir
    echo(f"entra-auth demo: a walkthrough against the Entra ID emulator ({lab.describe()}).")
    echo("Every line after $ is a command you can type; the output below it is what it printed.")
    echo("")
    echo("# Work in a folder of the demo's own: its config file, saved connection and")
    echo("# certificate store, so yours are never read or changed (HOME and the other XDG")
    echo("# folders point there too).")
    _say(["cd", str(workdir)])
    exports = [f"{name}={workdir / relative}" for name, relative in _PRINTED_FOLDERS.items()]
    _say(["export", *exports])
    echo("# Use the emulator instead of Microsoft's cloud: an environment in that config file.")
    environment = lab.environment
    add = [
        "environment",
        "add",
        ENVIRONMENT,
        "--authority-host",
        environment.authority_host,
        "--graph-endpoint",
        environment.graph_endpoint,
        "--ca-bundle",
        str(environment.ca_bundle),
    ]
    code = _command(add)
    if code != 0:
        from entra_auth import ConfigurationError

        raise ConfigurationError(f"the demo could not add its environment (exit code {code})")


def _new_certificate(lab: DemoLab) -> None:
    """``certificate new`` into the demo's store, as an admin starts; ``lab.certificate``."""
    from cryptography import x509

    from entra_auth.certificates.thumbprints import fingerprint
    from entra_auth.demo import DemoCertificate

    echo("")
    echo("== Create the app's certificate (New-SelfSignedCertificate)")
    before = set(lab.workdir.glob("*.cer"))
    code = _command(["certificate", "new", "--subject", CERTIFICATE_SUBJECT])
    made = sorted(set(lab.workdir.glob("*.cer")) - before)
    if code != 0 or len(made) != 1:
        echo("# The certificate could not be made; the steps below use their own.")
        return
    certificate = x509.load_der_x509_certificate(made[0].read_bytes())
    lab.certificate = DemoCertificate(
        thumbprint=fingerprint(certificate),
        subject=CERTIFICATE_SUBJECT,
        certificate=certificate,
        public_file=made[0],
    )
    echo("# Find it again later (Get-ChildItem Cert:\\CurrentUser\\My):")
    _command(["certificate", "list"])


# -- one provider, one step ----------------------------------------------------------------


def _provider(
    lab: DemoLab,
    host: PluginHost,
    name: str,
    entry: ProviderEntry,
    tally: _Tally,
    on_step: Callable[[ShownStep], None] | None,
) -> None:
    from entra_auth import PluginError
    from entra_auth.plugins import guarded

    try:
        with guarded(entry, "demo_steps"):
            steps = list(entry.provider.demo_steps())
    except PluginError as exc:
        tally.broken.append(f"{name}: {exc}")
        return
    if not steps:
        tally.without_steps.append(name)
        return
    for step in steps:
        echo("")
        echo(f"== {name}: {step.title}")
        before = dict(os.environ)
        lab.notes.clear()
        try:
            with guarded(entry, f"demo step {step.title!r}"):
                options = dict(step.prepare(lab))
        except PluginError as exc:
            echo(f"# The step could not be prepared: {exc}")
            tally.misbehaved.append(f"{name}: {step.title} (not prepared)")
            continue
        for note in lab.notes:
            echo(f"# {note}")
        lab.notes.clear()
        argv = connect_command(host, entry, options)
        _show_variables(before, options, entry)
        if argv is None:
            commands: list[str] = []
            behaved, signed_in = _python_api(lab, name, entry, step, options)
        else:
            commands, behaved, signed_in = _cli_step(argv, step)
        if signed_in:
            tally.shown.append(name)
        if not behaved:
            expected = "a refusal" if step.refusal else "a sign-in"
            tally.misbehaved.append(f"{name}: {step.title} (expected {expected})")
        if on_step is not None:
            on_step(
                ShownStep(
                    name,
                    step.title,
                    step.refusal,
                    commands,
                    dict(os.environ),
                    behaved,
                    python_api=argv is None,
                )
            )


def connect_command(
    host: PluginHost, entry: ProviderEntry, options: Mapping[str, Any]
) -> list[str] | None:
    """The ``connect`` arguments a user would type for ``options`` of ``entry``'s provider,
    built from its ``Option`` declarations: each option's own flag when the CLI has it for this
    provider (a ``bool`` as a bare flag), else ``--option NAME=VALUE``; ``--provider NAME``
    unless one of the flags given selects this provider. None when an option cannot be
    written on a command line (``type="object"``, or a value that is not text)."""
    name = entry.provider.name
    declared = {option.name: option for option in entry.provider.options}
    flags = {
        cli.option.name: str(cli.option.cli_flag)
        for cli in host.cli_options()
        if name in cli.providers and cli.option.cli_flag
    }
    selecting = host.selecting_options()
    ordered = [n for n in declared if n in options] + [n for n in options if n not in declared]
    args: list[str] = []
    selected = False
    for key in ordered:
        value = options[key]
        option = declared.get(key)
        if value is None or value is False:
            continue
        if option is not None and option.type == "object":
            return None
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str | bool | int):
            return None
        if option is not None and option.secret and not _reference(value):
            return None  # never on a command line: a literal secret (or a Secret object)
        flag = flags.get(key)
        if flag is not None:
            if value is True:
                args.append(flag)
            else:
                args += [flag, str(value)]
            selected = selected or selecting.get(key) == name
        else:
            text = "true" if value is True else str(value)
            args += ["--option", f"{key}={text}"]
    if not selected:
        args = ["--provider", name, *args]
    return ["connect", *args, "--environment", ENVIRONMENT]


def _cli_step(argv: list[str], step: DemoStep) -> tuple[list[str], bool, bool]:
    """Run the step's commands; (command lines, behaved, signed in)."""
    commands = [shlex.join([PROG, *argv])]
    code = _command(argv)
    if step.refusal:
        if code == 1:
            echo("# Refused, as it should be (exit code 1)")
            return commands, True, False
        echo(f"# exit code {code}: expected a refusal from the emulator (exit code 1)")
        return commands, False, code == 0
    if code != 0:
        echo(f"# exit code {code}: this sign-in should have worked")
        return commands, False, False
    behaved = True
    for follow_up in (["context"], ["request", GRAPH_PATH, "--output", "table"]):
        commands.append(shlex.join([PROG, *follow_up]))
        if _command(follow_up) != 0:
            behaved = False
    _show_claims()
    return commands, behaved, True


def _python_api(
    lab: DemoLab, name: str, entry: ProviderEntry, step: DemoStep, options: Mapping[str, Any]
) -> tuple[bool, bool]:
    """A step no command line can carry: shown and run through the Python API."""
    from entra_auth import AuthenticationError, connect
    from entra_auth.graph import GraphClient

    objects = [
        key
        for key, value in options.items()
        if value is not None and not isinstance(value, str | bool | int | os.PathLike)
    ]
    echo(
        f"# {', '.join(objects) or 'An option'} is a Python object, which no command line can "
        "carry: this step uses the Python API."
    )
    secret = {option.name for option in entry.provider.options if option.secret}
    shown = ", ".join(
        f"{key}={_python_value(value, secret=key in secret)}" for key, value in options.items()
    )
    echo(">>> import entra_auth")
    echo(
        f">>> credential = entra_auth.connect({name!r}, environment={ENVIRONMENT!r}, "
        f"options=dict({shown}))"
    )
    try:
        credential = connect(name, options=options, environment=ENVIRONMENT)
    except AuthenticationError as exc:
        echo(f"{type(exc).__name__}: {exc}")
        if step.refusal:
            echo("# Refused, as it should be")
        return step.refusal, False
    with credential:
        if step.refusal:
            echo("# expected a refusal from the emulator, but the sign-in succeeded")
            return False, True
        echo(">>> credential.context")
        echo(format_list(credential.context.as_dict()))
        echo(f">>> entra_auth.graph.GraphClient(credential).get({GRAPH_PATH!r})")
        with GraphClient(credential, environment=lab.environment) as client:
            response = client.get(GRAPH_PATH)
        data = response.json
        rows = data.get("value") if isinstance(data, dict) else None
        names = [r.get("displayName") for r in rows or [] if isinstance(r, dict)]
        echo(f"<GraphResponse {response.status}: {', '.join(map(str, names))}>")
        token = credential.get_token_info(lab.environment.default_scope).token
    echo("# The token's claims (the token itself is never printed):")
    echo(_indent(format_list(_claims(token))))
    return True, True


def _reference(value: object) -> bool:
    from entra_auth.secret_references import looks_like_reference

    return isinstance(value, str) and looks_like_reference(value)


def _python_value(value: Any, *, secret: bool = False) -> str:
    if secret and isinstance(value, str) and not _reference(value):
        return "'<secret>'"  # a literal secret is refused anyway; it is never shown
    if isinstance(value, str | bool | int):
        return repr(value)
    if isinstance(value, os.PathLike):
        return repr(os.fspath(value))
    return f"<{type(value).__name__}>"


# -- printing and running commands ---------------------------------------------------------


def _say(argv: list[str]) -> str:
    line = shlex.join(argv)
    echo(f"$ {line}")
    return line


def _command(argv: list[str]) -> int:
    """Print ``$ entra-auth ARGS`` and run exactly that line through the CLI's entry point in
    this process, stderr folded into stdout; its exit code."""
    line = _say([PROG, *argv])
    code, _ = _run(shlex.split(line)[1:])
    return code


def _run(argv: list[str], *, capture: bool = False) -> tuple[int, str]:
    from . import app

    debug = app._debug
    if not debug:  # the warnings handler binds to the real stderr, not to a redirection
        from .debug_logging import show_warnings

        show_warnings()
    buffer = io.StringIO()
    target = buffer if capture else sys.stdout
    sys.stdout.flush()
    try:
        with contextlib.redirect_stdout(target), contextlib.redirect_stderr(target):
            code = app.run(argv)
    finally:
        app._debug = debug
    return code, buffer.getvalue()


def _show_variables(before: Mapping[str, str], options: Mapping[str, Any], entry: Any) -> None:
    """What the step changed in the environment, as a person would set it: ``export`` for
    paths and URLs, a comment naming (never showing) anything else, such as a secret."""
    secret_names = {
        str(value)[4:]
        for option in entry.provider.options
        if option.secret and isinstance(value := options.get(option.name), str)
        if value.startswith("env:")
    }
    removed = sorted(name for name in before if name not in os.environ)
    if removed:
        _say(["unset", *removed])
    changed = sorted(n for n, v in os.environ.items() if before.get(n) != v)
    shown = [n for n in changed if n not in secret_names and _showable(os.environ[n])]
    if shown:
        _say(["export", *(f"{n}={os.environ[n]}" for n in shown)])
    for name in changed:
        if name in shown:
            continue
        if name in secret_names:
            echo(f"# {name} holds the secret env:{name} refers to (set by the demo; never shown)")
        else:
            echo(f"# {name} is set by the demo (its value is never shown)")


def _showable(value: str) -> bool:
    """Paths and plain URLs are shown; anything else may be a secret."""
    from urllib.parse import urlsplit

    if value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        return not (parts.username or parts.password or parts.query or parts.fragment)
    return os.path.isabs(value) and os.path.exists(value)


def _show_claims() -> None:
    code, output = _run(["token"], capture=True)
    if code != 0:
        echo(f"# entra-auth token failed (exit code {code})")
        return
    echo("# The token's claims (the token itself is never printed):")
    echo(_indent(format_list(_claims(output.strip()))))


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
    current = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    extra = "127.0.0.1,localhost,::1"
    return f"{current},{extra}" if current else extra
