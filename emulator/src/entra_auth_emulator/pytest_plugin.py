"""pytest plugin (entry point ``pytest11``): a session-scoped ``entra_emulator`` fixture.

Users testing their Entra automation offline get a running emulator by naming the fixture;
nothing heavy is imported until a test asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .emulator import Emulator


@pytest.fixture(scope="session")
def entra_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A running in-process emulator (free ports on 127.0.0.1, state in a temp folder) shared
    by the session; register an app per test with ``entra_emulator.register_app(...)``."""
    from .emulator import Emulator

    with Emulator(state_dir=tmp_path_factory.mktemp("entra-emulator")) as emulator:
        yield emulator
