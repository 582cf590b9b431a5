"""The fault matrix: every transient fault the retry policy handles, on discovery and on the
token request, once (recovered) and persistently (failed), measured against the emulator."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import entra_auth
from entra_auth.http_retry import DEFAULT_POLICY

FAULTS: tuple[int | str, ...] = (408, 429, 500, 502, 503, 504, "drop")
ENDPOINTS = ("discovery", "token")
RETRY_AFTER = 1
"""The transient 429 says ``Retry-After: 1``; the others leave the wait to the backoff."""


@dataclass
class Row:
    endpoint: str
    fault: int | str
    transient_requests: int
    transient_seconds: float
    transient_ok: bool
    persistent_requests: int
    error: entra_auth.EntraAuthError | None

    @property
    def wait_bound(self) -> float:
        """The most the policy may wait before its one retry."""
        if self.fault == 429:
            return float(RETRY_AFTER)
        return DEFAULT_POLICY.backoff_factor * 1.2


def spec(fault: int | str, count: int, retry_after: int | None) -> dict[str, object]:
    if fault == "drop":
        return {"drop": True, "count": count}
    out: dict[str, object] = {"status": fault, "count": count}
    if retry_after is not None:
        out["retry_after"] = retry_after
    return out


def sign_in(
    emulator, endpoint: str, fault_spec: dict[str, object]
) -> tuple[int, float, entra_auth.EntraAuthError | None]:
    """A fresh app signs in with the fault queued; returns the requests the faulted endpoint
    saw for that tenant, the seconds taken, and the error (None on success)."""
    tenant, secret = str(uuid.uuid4()), uuid.uuid4().hex
    app = emulator.register_app(tenant, secrets=[secret])
    emulator.add_fault(endpoint, path=f"/{tenant}/*", **fault_spec)
    started = time.monotonic()
    error = None
    try:
        entra_auth.connect(
            "client-secret",
            client_id=app.client_id,
            tenant_id=tenant,
            client_secret=entra_auth.Secret(secret),
        ).close()
    except entra_auth.EntraAuthError as exc:
        error = exc
    seconds = time.monotonic() - started
    seen = [r for r in emulator.requests() if r.get("endpoint") == endpoint and tenant in r["path"]]
    return len(seen), seconds, error


def measure(emulator) -> list[Row]:
    rows = []
    for endpoint in ENDPOINTS:
        for fault in FAULTS:
            transient = spec(fault, 1, RETRY_AFTER if fault == 429 else None)
            t_requests, t_seconds, t_error = sign_in(emulator, endpoint, transient)
            # Persistent: more faults than attempts; Retry-After 0 keeps the table quick.
            persistent = spec(fault, 10, None if fault == "drop" else 0)
            p_requests, _, p_error = sign_in(emulator, endpoint, persistent)
            emulator.reset()
            rows.append(
                Row(endpoint, fault, t_requests, t_seconds, t_error is None, p_requests, p_error)
            )
    return rows


def render(rows: list[Row]) -> str:
    lines = [
        "| endpoint | fault | once: requests | once: waited | once: result | persistent: requests | persistent: error (status, AADSTS, hint) |",  # noqa: E501
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        fault = "dropped connection" if row.fault == "drop" else f"HTTP {row.fault}"
        if row.fault == 429:
            fault += f" (Retry-After: {RETRY_AFTER})"
        error = row.error
        if error is None:
            failed = "none (signed in)"
        else:
            status = getattr(error, "status", None)
            code = getattr(error, "aadsts_code", None)
            hint = getattr(error, "hint", None) or ""
            hint = hint.split("; retried")[0]
            failed = (
                f"`{type(error).__name__}`, {status or 'no status'}, "
                f"{f'AADSTS{code}' if code else 'no code'}: {hint}"
            )
        lines.append(
            f"| {row.endpoint} | {fault} | {row.transient_requests} | "
            f"≤ {row.wait_bound:.2f} s | {'recovered' if row.transient_ok else 'FAILED'} | "
            f"{row.persistent_requests} | {failed} |"
        )
    return "\n".join(lines) + "\n"
