"""Core's own secret reference schemes, implemented as ordinary hook implementations.

A secret is never a literal on the command line or in a file: it is a reference that says
where the secret lives. Core answers ``env:NAME``, ``file:PATH``, ``prompt`` and ``stdin``;
``keyring:SERVICE/NAME``; plugins add schemes (``vault:``…) through the same hook,
``entra_auth_register_secret_schemes``, so ``entra-auth plugins`` can list every scheme.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import SecretReferenceError
from .hookspecs import hookimpl
from .records import Record, field

REFERENCE_FORMS = "env:NAME, file:PATH, keyring:SERVICE/NAME, prompt, stdin"
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-")
_stdin_lock = threading.Lock()
_stdin_value: str | None = None


def looks_like_reference(value: str) -> bool:
    """True when ``value`` has the shape of a reference (``scheme:rest``, ``prompt``,
    ``stdin``); anything else is treated as a literal secret and refused."""
    name, colon, _ = value.partition(":")
    return value in ("prompt", "stdin") or (bool(colon) and is_scheme_name(name))


def is_scheme_name(name: str) -> bool:
    """RFC 3986's scheme: an ASCII letter, then ASCII letters, digits, ``+``, ``.`` or ``-``.
    (Not a case-insensitive regex: compiling one costs a millisecond at every start.)"""
    return name[:1].isalpha() and name.isascii() and set(name.lower()) <= _SCHEME_CHARS


def check_reference(value: object, option: str, *, label: str | None = None) -> object:
    """Refuse a literal secret without echoing it, and say how to write a reference.

    A :class:`Secret` object (Python API only) passes: wrapping is the explicit opt-in."""
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str) or not looks_like_reference(value):
        flag = label or "--" + option.replace("_", "-")
        raise SecretReferenceError(
            f"{flag} takes a reference to the secret, not the secret itself; write one of "
            f"{REFERENCE_FORMS} (for example {flag} env:AZURE_CLIENT_SECRET)"
        )
    return value


def scheme_of(reference: str) -> str:
    """``env`` for ``env:NAME``; ``prompt`` and ``stdin`` are schemes without a colon."""
    if reference in ("prompt", "stdin"):
        return reference
    return reference.split(":", 1)[0].lower() if ":" in reference else ""


def resolve_with(hook: Callable[..., str | None], reference: str) -> str:
    """Ask ``hook`` (a scheme's resolver or the hook chain) to resolve ``reference``; refuse
    unknown schemes and literals."""
    if not looks_like_reference(reference):
        raise SecretReferenceError(
            f"a secret must be given as a reference ({REFERENCE_FORMS}), not as its value"
        )
    value = hook(reference=reference)
    if value is None:
        scheme = reference.split(":", 1)[0]
        raise SecretReferenceError(
            f"no installed plugin resolves secret references of scheme {scheme!r}; use "
            f"{REFERENCE_FORMS}, or install the plugin that provides {scheme}: "
            "(see 'entra-auth plugins')"
        )
    if not isinstance(value, str) or not value:
        scheme = scheme_of(reference)
        raise SecretReferenceError(
            f"the {scheme!r} secret scheme returned {type(value).__name__} instead of a "
            "non-empty string"
        )
    return value


class SecretScheme(Record):
    """A kind of secret reference (``vault:PATH``), registered through
    ``entra_auth_register_secret_schemes``.

    ``resolve`` gets the whole reference (``vault:apps/prod``) and returns the value, or raises
    ``SecretReferenceError`` naming the reference, never the value. ``name`` is the part before
    the colon (``prompt`` and ``stdin`` have none); ``form`` shows how to write one.
    """

    name: str
    summary: str
    resolve: Callable[[str], str] = field(repr=False)
    form: str = ""

    def __post_init__(self) -> None:
        if not is_scheme_name(self.name) or self.name != self.name.lower():
            raise ValueError(f"secret scheme name {self.name!r} must be lower-case, like 'vault'")


def _rest(reference: str) -> str:
    return reference.partition(":")[2]


BUILTIN_SECRET_SCHEMES = (
    SecretScheme("env", "An environment variable.", lambda r: _from_env(_rest(r)), "env:NAME"),
    SecretScheme(
        "file",
        "A file readable only by you (mode 0600); one trailing newline is dropped.",
        lambda r: _from_file(_rest(r)),
        "file:PATH",
    ),
    SecretScheme(
        "keyring",
        "The OS keyring (the keyring package).",
        lambda r: _from_keyring(_rest(r)),
        "keyring:SERVICE/NAME",
    ),
    SecretScheme("prompt", "Typed at a terminal prompt.", lambda r: _from_prompt(), "prompt"),
    SecretScheme("stdin", "Read once from standard input.", lambda r: _from_stdin(), "stdin"),
)


@hookimpl(tryfirst=True)
def entra_auth_register_secret_schemes(register: Callable[[SecretScheme], None]) -> None:
    for scheme in BUILTIN_SECRET_SCHEMES:
        register(scheme)


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
    """``file:PATH``: a private regular file (mode 0600, the user's or root's, in a folder
    others cannot write), at most 1 MiB of UTF-8; one trailing newline is dropped."""
    from .files import SECRET_LIMIT, read_trusted

    if not path_text:
        raise SecretReferenceError("file: needs a path, for example file:/run/secrets/app-secret")
    try:
        path = Path(path_text).expanduser()
    except RuntimeError:  # ~user that does not exist
        path = Path(path_text)
    try:
        data = read_trusted(
            path, limit=SECRET_LIMIT, what="secret file", private=True, error=SecretReferenceError
        )
    except FileNotFoundError:
        raise SecretReferenceError(
            f"secret file {path} (from file:{path_text}) does not exist"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SecretReferenceError(
            f"secret file {path} is not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
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
    import getpass  # with termios: only when a prompt is really shown

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
