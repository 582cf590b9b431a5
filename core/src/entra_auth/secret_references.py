"""Core's own secret reference schemes, implemented as ordinary hook implementations.

A secret is never a literal on the command line or in a file: it is a reference that says
where the secret lives. Core answers ``env:NAME``, ``file:PATH``, ``prompt`` and ``stdin``;
plugins add schemes (``keyring:``, ``vault:``…) through the same hook.
"""

from __future__ import annotations

import getpass
import os
import re
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import SecretReferenceError
from .hookspecs import hookimpl

BUILTIN_SCHEMES = ("env:NAME", "file:PATH", "prompt", "stdin")
REFERENCE_FORMS = "env:NAME, file:PATH, keyring:SERVICE/NAME, prompt, stdin"
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_stdin_lock = threading.Lock()
_stdin_value: str | None = None


def looks_like_reference(value: str) -> bool:
    """True when ``value`` has the shape of a reference (``scheme:rest``, ``prompt``,
    ``stdin``); anything else is treated as a literal secret and refused."""
    return value in ("prompt", "stdin") or bool(_SCHEME.match(value))


def check_reference(value: object, option: str) -> object:
    """Refuse a literal secret without echoing it, and say how to write a reference.

    A :class:`Secret` object (Python API only) passes: wrapping is the explicit opt-in."""
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str) or not looks_like_reference(value):
        flag = "--" + option.replace("_", "-")
        raise SecretReferenceError(
            f"{flag} takes a reference to the secret, not the secret itself; write one of "
            f"{REFERENCE_FORMS} (for example {flag} env:AZURE_CLIENT_SECRET)"
        )
    return value


def resolve_with(hook: Callable[..., str | None], reference: str) -> str:
    """Ask the hook chain to resolve ``reference``; refuse unknown schemes and literals."""
    if not looks_like_reference(reference):
        raise SecretReferenceError(
            f"a secret must be given as a reference ({REFERENCE_FORMS}), not as its value"
        )
    value = hook(reference=reference)
    if value is None:
        scheme = reference.split(":", 1)[0]
        raise SecretReferenceError(
            f"no installed plugin resolves secret references of scheme {scheme!r}; use "
            f"{REFERENCE_FORMS}, or install the plugin that provides {scheme}:"
        )
    return value


@hookimpl(trylast=True)
def entra_auth_resolve_secret(reference: str) -> str | None:
    scheme, _, rest = reference.partition(":")
    if reference == "prompt":
        return _from_prompt()
    if reference == "stdin":
        return _from_stdin()
    if scheme == "env":
        return _from_env(rest)
    if scheme == "file":
        return _from_file(rest)
    if scheme == "keyring":
        return _from_keyring(rest)
    return None


def _from_keyring(target: str) -> str:
    """``keyring:SERVICE/NAME`` through the ``keyring`` package (the ``keyring`` extra)."""
    service, _, username = target.rpartition("/")
    if not service or not username:
        raise SecretReferenceError(
            "keyring: needs SERVICE/NAME, for example keyring:entra-auth/contoso-automation"
        )
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise SecretReferenceError(
            "secret reference keyring: needs the keyring package; install it with "
            "pip install 'entra-auth[keyring]'"
        ) from None
    try:
        value = keyring.get_password(service, username)
    except keyring.errors.KeyringError as exc:
        raise SecretReferenceError(
            f"the OS keyring could not be read for {service}/{username}: {type(exc).__name__}"
        ) from None
    if not value:
        raise SecretReferenceError(
            f"no secret stored in the keyring for {service}/{username}; store it with: "
            f"keyring set {service} {username}"
        )
    return value


def _from_env(name: str) -> str:
    if not name:
        raise SecretReferenceError(
            "env: needs a variable name, for example env:AZURE_CLIENT_SECRET"
        )
    value = os.environ.get(name)
    if not value:
        raise SecretReferenceError(
            f"environment variable {name} (from secret reference env:{name}) is not set or empty; "
            f"export {name}=… before running"
        )
    return value


def _from_file(path_text: str) -> str:
    if not path_text:
        raise SecretReferenceError("file: needs a path, for example file:/run/secrets/app-secret")
    path = Path(path_text).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SecretReferenceError(
            f"secret file {path} (from file:{path_text}) does not exist"
        ) from None
    except OSError as exc:
        raise SecretReferenceError(f"cannot read secret file {path}: {exc.strerror}") from None
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretReferenceError(
            f"secret file {path} is readable by group or others (mode "
            f"{stat.S_IMODE(info.st_mode):o}); run: chmod 600 {path}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretReferenceError(f"cannot read secret file {path}: {exc}") from None
    value = text.rstrip("\r\n")
    if not value:
        raise SecretReferenceError(f"secret file {path} is empty")
    return value


def _from_prompt() -> str:
    if not sys.stdin.isatty():
        raise SecretReferenceError(
            "secret reference 'prompt' needs a terminal; use stdin, env:NAME or file:PATH when "
            "running unattended"
        )
    value = getpass.getpass("Secret: ")
    if not value:
        raise SecretReferenceError("no secret was entered at the prompt")
    return value


def _from_stdin() -> str:
    """Read standard input once per process: several options may not share one stream."""
    global _stdin_value
    with _stdin_lock:
        if _stdin_value is None:
            data = sys.stdin.read()
            _stdin_value = data.rstrip("\r\n")
        if not _stdin_value:
            raise SecretReferenceError("secret reference 'stdin' found standard input empty")
        return _stdin_value


class Secret:
    """A secret value handed over in Python code, explicitly: ``Secret(vault.get("app"))``.

    The Python API accepts it where the command line and config file take only references;
    it never shows its value in a repr, a log line or an error.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise SecretReferenceError("Secret() needs a non-empty string")
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__
