"""A one-line status on stderr while a sign-in waits, for the person at a terminal.

Nothing is shown when stderr is not a terminal (scripts, pipes, CI logs), nor when the wait is
shorter than ``DELAY`` seconds: a fast sign-in prints exactly what it printed before. The line
is erased when the wait ends, so the command's own output follows on a clean line.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

DELAY = 1.0


@contextmanager
def waiting(message: str, *, delay: float = DELAY) -> Iterator[None]:
    """Show ``message…`` (with the seconds waited) after ``delay`` seconds, until the block
    ends."""
    stream = sys.stderr
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if not interactive:
        yield
        return
    done = threading.Event()
    shown = threading.Event()
    started = time.monotonic()

    def show() -> None:
        if done.wait(delay):
            return
        while not done.is_set():
            waited = time.monotonic() - started
            stream.write(f"\r{message}… {waited:.0f} s\x1b[K")
            stream.flush()
            shown.set()
            done.wait(1.0)

    worker = threading.Thread(target=show, name="entra-auth-status", daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join(1.0)
        if shown.is_set():
            stream.write("\r\x1b[K")
            stream.flush()
