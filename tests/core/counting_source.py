"""A token source that stands in for the identity service in unit tests of the cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from entra_auth import AuthenticationError
from entra_auth.tokens import TokenResult


class CountingSource:
    """Hands out numbered tokens with a chosen lifetime, slowly, counting requests."""

    def __init__(self, lifetime: int = 3600, refresh_in: int | None = None, delay: float = 0.0):
        self.lifetime = lifetime
        self.refresh_in = refresh_in
        self.delay = delay
        self.calls: list[tuple[tuple[str, ...], str | None, str | None]] = []
        self.fail_next = 0
        self._lock = threading.Lock()

    def acquire(
        self, scopes: Sequence[str], *, claims: str | None = None, tenant_id: str | None = None
    ) -> TokenResult:
        with self._lock:
            self.calls.append((tuple(scopes), claims, tenant_id))
            number = len(self.calls)
            failing = self.fail_next > 0
            if failing:
                self.fail_next -= 1
        if self.delay:
            time.sleep(self.delay)
        if failing:
            raise AuthenticationError("sign-in refused: AADSTS7000215: bad secret")
        now = int(time.time())
        refresh_on = now + self.refresh_in if self.refresh_in is not None else None
        return TokenResult(f"token-{number}", now + self.lifetime, refresh_on)

    def context(self) -> dict[str, str]:
        return {}

    def close(self) -> None:
        pass
