"""Secret options given as ``prompt`` to ``connect``: typed once, kept in the OS keyring when
there is one, otherwise not kept at all.

A later ``entra-auth token`` runs in another process, often without a terminal, so a prompted
secret must live somewhere for it. The only acceptable place is the OS keyring: the saved
connection then says ``keyring:entra-auth/<app>`` and holds no secret. Without a usable
keyring (the ``keyring`` package missing, or only its fail/null backend, as on a headless server)
the secret is dropped when ``connect`` exits, and a later command that needs it says how to give
it. It is stored only after Entra accepted it, so a typo is never kept.
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entra_auth import SignInRequest

KEYRING_SERVICE = "entra-auth"
PROMPT = "prompt"


def usable_keyring() -> Any | None:
    """The ``keyring`` module when it has a backend that really stores secrets, else None
    (core's check, shared with the encrypted token cache)."""
    from entra_auth.token_store import usable_keyring as core_usable_keyring

    return core_usable_keyring()


def keyring_username(option: str, request: SignInRequest) -> str:
    """``<app>:<option>`` (the app named by the request's account hint, its client ID); ``/``
    is avoided because ``keyring:SERVICE/NAME`` splits on it."""
    owner = (request.account_hint() or "default").replace("/", "_")
    return f"{owner}:{option}"


def keyring_reference(username: str) -> str:
    return f"keyring:{KEYRING_SERVICE}/{username}"


@dataclass
class PromptedSecrets:
    """The request to sign in with (prompted values held as ``Secret``s beside the options to
    save, which are references only), plus what to put in the keyring once sign-in
    succeeded."""

    request: SignInRequest
    saved_options: dict[str, Any]
    pending: dict[str, tuple[str, str]] = field(default_factory=dict)
    """option -> (keyring username, value)"""

    def keep(self) -> list[str]:
        """Store the pending secrets; the references that were kept. A keyring that fails now
        is reported and the option stays ``prompt``: never a silent loss."""
        from .output import warn

        kept: list[str] = []
        keyring = usable_keyring() if self.pending else None
        for option, (username, value) in self.pending.items():
            try:
                if keyring is None:
                    raise RuntimeError("no usable keyring")
                keyring.set_password(KEYRING_SERVICE, username, value)
            except Exception as exc:
                self.saved_options[option] = PROMPT
                warn(
                    f"the prompted {option} could not be kept in the OS keyring "
                    f"({type(exc).__name__}); later commands will ask for it again"
                )
                continue
            kept.append(keyring_reference(username))
        return kept


def take_prompts(request: SignInRequest) -> PromptedSecrets:
    """Ask now for every secret option given as ``prompt``, once, before signing in."""
    from entra_auth import Secret
    from entra_auth.errors import SecretReferenceError

    from .debug_logging import redactor

    saved_options = dict(request.options)
    values: dict[str, Secret] = {}
    pending: dict[str, tuple[str, str]] = {}
    keyring = None
    for option in request.secret_options():
        if request.options.get(option.name) != PROMPT:
            continue
        if not sys.stdin.isatty():
            raise SecretReferenceError(
                f"{option.label} prompt needs a terminal; use stdin, env:NAME, file:PATH or "
                "keyring:SERVICE/NAME when running unattended"
            )
        label = option.name.replace("_", " ").capitalize()
        owner = request.account_hint()
        value = getpass.getpass(f"{label}{f' for {owner}' if owner else ''}: ")
        if not value:
            raise SecretReferenceError(f"no {label.lower()} was entered at the prompt")
        redactor.add(value)
        values[option.name] = Secret(value)
        keyring = keyring or usable_keyring()
        if keyring is not None:
            username = keyring_username(option.name, request)
            saved_options[option.name] = keyring_reference(username)
            pending[option.name] = (username, value)
    signing_in = request.with_options(saved_options).with_secret_values(values)
    return PromptedSecrets(signing_in, saved_options, pending)


def forget_kept(references: list[str]) -> int:
    """Delete the keyring entries ``connect`` created; how many were deleted."""
    if not references:
        return 0
    keyring = usable_keyring()
    if keyring is None:
        return 0
    deleted = 0
    for reference in references:
        service, _, username = reference.removeprefix("keyring:").rpartition("/")
        if service != KEYRING_SERVICE:
            continue  # only what entra-auth itself stored; a user's own entry is theirs
        try:
            keyring.delete_password(service, username)
            deleted += 1
        except Exception:
            pass
    return deleted


def not_kept_hint(request: SignInRequest) -> str | None:
    """The one line for a command that needs a prompted secret which was not kept."""
    prompted = [o for o in request.secret_options() if request.options.get(o.name) == PROMPT]
    if not prompted:
        return None
    what = " and ".join(o.name.replace("_", " ") for o in prompted)
    flag = prompted[0].label
    return (
        f"the {what} typed at 'entra-auth connect' was not kept (no usable OS keyring): run "
        f"this in a terminal to type it again, or connect again with {flag} env:NAME, "
        "file:PATH or keyring:SERVICE/NAME"
    )


STDIN = "stdin"


def refuse_unreplayable(request: SignInRequest) -> None:
    """``connect`` saves a connection that later processes replay; a secret given as ``stdin``
    (read once, by this process) or ``prompt`` without a usable keyring could not be given to
    them, so every later ``token`` would fail. Refused (exit 2) before anything is read, unless
    the scope is CurrentUser: its token cache then serves later processes until the token
    expires."""
    from entra_auth import UsageError

    if request.context_scope == "CurrentUser":
        return
    for option in request.secret_options():
        value = request.options.get(option.name)
        if value == STDIN:
            why = "the secret is read once, by this process"
        elif value == PROMPT and sys.stdin.isatty() and usable_keyring() is None:
            why = "without a usable OS keyring the typed secret cannot be kept"
        else:  # (a prompt without a terminal is take_prompts' to report)
            continue
        raise UsageError(
            f"{option.label} {value}: {why}, so later entra-auth token and context commands "
            f"could not sign in with this connection; give {option.label} env:NAME, file:PATH "
            "or keyring:SERVICE/NAME, or add --context-scope CurrentUser to keep the token in "
            "your token cache until it expires"
        )
