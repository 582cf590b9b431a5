"""What ``token`` and ``context`` sign in with, and the overall deadline of a sign-in.

With ``--profile NAME`` (or ``ENTRA_AUTH_PROFILE``) a command signs in from that profile
through the token cache and never reads or writes the saved connection, so parallel jobs that
share a home cannot see each other's; otherwise it replays the saved connection. Either way
the request goes through core's one pipeline (``prepare``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from .completion import profile_names

if TYPE_CHECKING:
    from entra_auth import SignInRequest

T = TypeVar("T")
DEFAULT_TIMEOUT = 60.0

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME",
        autocompletion=profile_names,
        help="Sign in from this profile (default: ENTRA_AUTH_PROFILE) instead of the saved "
        "connection; the saved connection is neither read nor written.",
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=1,
        help="Give up (exit 1) when signing in takes longer than this, retries included.",
    ),
]


def chosen_profile(profile: str | None) -> str | None:
    from entra_auth.config import PROFILE_ENV

    return profile or os.environ.get(PROFILE_ENV, "").strip() or None


def request_for(profile: str | None) -> SignInRequest:
    """The sign-in this command replays: the profile's, else the saved connection's."""
    from entra_auth import Environment, paths, prepare
    from entra_auth.config import Config

    from . import state

    if profile is not None:
        return prepare(profile=profile)
    saved = state.load()
    return prepare(
        saved.provider,
        saved.options,
        environment=Environment.from_dict(saved.environment),
        context_scope=saved.context_scope,
        use_profiles=False,
        # The saved connection is complete: a config edited since must not change it.
        config=Config(paths.config_file()),
    )


def within(seconds: float, what: str, work: Callable[[], T]) -> T:
    """Run ``work`` with an overall deadline: a sign-in that retries or waits on a slow
    endpoint ends after ``seconds`` with exit 1 and what it was waiting for."""
    from entra_auth import AuthenticationError

    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=run, name="entra-auth-sign-in", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise AuthenticationError(
            f"gave up after {seconds:g} s waiting for {what}; check the network or the "
            "service, or allow longer with --timeout SECONDS"
        )
    if failure:
        raise failure[0]
    return outcome[0]
