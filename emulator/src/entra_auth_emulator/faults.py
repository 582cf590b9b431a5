"""Injected faults: make the next N requests to an endpoint answer a status (with Retry-After),
wait first, or drop the connection, so clients' retry and error paths can be tested offline.
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from dataclasses import asdict, dataclass
from typing import Any

ENDPOINTS = (
    "token",
    "discovery",
    "instance_discovery",
    "jwks",
    "imds",
    "appservice",
    "arc",
    "servicefabric",
    "cloudshell",
    "machinelearning",
    "authorize",
    "issuer",
    "graph",
    "any",
)
_KEYS = {"endpoint", "path", "status", "retry_after", "delay", "drop", "count"}


class FaultSpecError(ValueError):
    """The fault JSON is not understood (the test endpoint answers 400 with this message)."""


@dataclass
class Fault:
    id: int
    endpoint: str | None
    path: str | None
    status: int | None
    retry_after: int | None
    delay: float
    drop: bool
    count: int

    def matches(self, endpoint: str, path: str) -> bool:
        if self.endpoint and self.endpoint not in ("any", endpoint):
            return False
        return not self.path or fnmatch.fnmatchcase(path, self.path)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _number(spec: dict[str, Any], key: str, lo: float, hi: float) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise FaultSpecError(f"'{key}' must be a number from {lo} to {hi}")
    return value


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> Fault:
        """Validate a fault spec (the JSON body of ``POST /_emulator/faults``) and queue it."""
        if not isinstance(spec, dict):
            raise FaultSpecError("the fault must be a JSON object")
        unknown = sorted(set(spec) - _KEYS)
        if unknown:
            raise FaultSpecError(f"unknown key '{unknown[0]}' (known: {', '.join(sorted(_KEYS))})")
        endpoint = spec.get("endpoint")
        path = spec.get("path")
        if endpoint is not None and endpoint not in ENDPOINTS:
            raise FaultSpecError(f"'endpoint' must be one of {', '.join(ENDPOINTS)}")
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise FaultSpecError("'path' must be a string starting with '/'")
        if endpoint is None and path is None:
            raise FaultSpecError("give 'endpoint' or 'path' (use endpoint 'any' for everything)")
        status = _number(spec, "status", 100, 599)
        retry_after = _number(spec, "retry_after", 0, 3600)
        delay = _number(spec, "delay", 0, 60) or 0.0
        count = _number(spec, "count", 1, 1_000_000)
        drop = spec.get("drop", False)
        if not isinstance(drop, bool):
            raise FaultSpecError("'drop' must be true or false")
        if status is None and not drop and not delay:
            raise FaultSpecError("a fault needs 'status', 'drop' or 'delay'")
        if status is not None and drop:
            raise FaultSpecError("'status' and 'drop' exclude each other")
        fault = Fault(
            id=next(self._ids),
            endpoint=endpoint,
            path=path,
            status=int(status) if status is not None else None,
            retry_after=int(retry_after) if retry_after is not None else None,
            delay=float(delay),
            drop=drop,
            count=int(count) if count is not None else 1,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, endpoint: str, path: str) -> Fault | None:
        """The first pending fault for this request, counting it as used."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(endpoint, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
