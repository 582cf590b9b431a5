"""The emulator's directory: tenants, app registrations and managed identities, thread-safe.

Config entries are loaded once; tests add and replace registrations at runtime on a shared
session-scoped emulator, so every lookup goes through one lock-protected index.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from .config import AppRegistration, EmulatorConfig, ManagedIdentityRegistration


class Directory:
    def __init__(self, config: EmulatorConfig) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._apps: dict[tuple[str, str], AppRegistration] = {}
        self._mis: list[ManagedIdentityRegistration] = []
        self._used_jti: dict[tuple[str, str, str, str], float] = {}
        self._load(config)

    def _load(self, config: EmulatorConfig) -> None:
        self._apps = {(a.tenant_id.lower(), a.client_id.lower()): a for a in config.apps}
        self._mis = list(config.managed_identities)

    def reset_registrations(self) -> None:
        """Forget runtime registrations; back to what the config declared."""
        with self._lock:
            self._load(self._config)

    def forget_used_assertions(self) -> None:
        with self._lock:
            self._used_jti.clear()

    # -- tenants and apps -------------------------------------------------------------------

    def tenant_exists(self, tenant: str) -> bool:
        tenant = tenant.lower()
        with self._lock:
            return any(t == tenant for t, _ in self._apps) or any(
                m.tenant_id.lower() == tenant for m in self._mis
            )

    def canonical_tenant(self, tenant: str) -> str | None:
        """The tenant id as registered (case preserved), or None when unknown."""
        lowered = tenant.lower()
        with self._lock:
            for app in self._apps.values():
                if app.tenant_id.lower() == lowered:
                    return app.tenant_id
            for mi in self._mis:
                if mi.tenant_id.lower() == lowered:
                    return mi.tenant_id
        return None

    def app(self, tenant: str, client_id: str) -> AppRegistration | None:
        with self._lock:
            return self._apps.get((tenant.lower(), client_id.lower()))

    def put_app(self, app: AppRegistration) -> None:
        with self._lock:
            self._apps[(app.tenant_id.lower(), app.client_id.lower())] = app

    def remove_app(self, tenant: str, client_id: str) -> bool:
        with self._lock:
            return self._apps.pop((tenant.lower(), client_id.lower()), None) is not None

    # -- managed identities ------------------------------------------------------------------

    def put_managed_identity(self, mi: ManagedIdentityRegistration) -> None:
        """Add or replace: a new system-assigned identity replaces the old one; a user-assigned
        one replaces any with the same client id, object id or resource id."""
        with self._lock:
            keep = []
            for old in self._mis:
                if not mi.user_assigned:
                    same = not old.user_assigned
                else:
                    same = old.user_assigned and bool(
                        {x.lower() for x in (old.client_id, old.object_id, old.resource_id) if x}
                        & {x.lower() for x in (mi.client_id, mi.object_id, mi.resource_id) if x}
                    )
                if not same:
                    keep.append(old)
            keep.append(mi)
            self._mis = keep

    def managed_identity(
        self, *, client_id: str = "", object_id: str = "", resource_id: str = ""
    ) -> ManagedIdentityRegistration | None:
        """The identity a selector names; no selector means the system-assigned identity."""
        with self._lock:
            for mi in self._mis:
                if client_id:
                    if mi.user_assigned and mi.client_id.lower() == client_id.lower():
                        return mi
                elif object_id:
                    if mi.user_assigned and mi.object_id.lower() == object_id.lower():
                        return mi
                elif resource_id:
                    if mi.user_assigned and mi.resource_id.lower() == resource_id.lower():
                        return mi
                elif not mi.user_assigned:
                    return mi
        return None

    # -- assertion replay ---------------------------------------------------------------------

    def record_jti(self, tenant: str, client_id: str, jti: str, scope: str, exp: float) -> bool:
        """Remember an assertion id; False when it was already used for the same scope.

        msal reuses one assertion (for up to ten minutes) across requests for different scopes,
        and Entra accepts that, so a replay is the same jti presented again for the same scope.
        """
        now = time.time()
        key = (tenant.lower(), client_id.lower(), jti, scope)
        with self._lock:
            if len(self._used_jti) > 10_000:
                self._used_jti = {k: v for k, v in self._used_jti.items() if v > now}
            seen = self._used_jti.get(key)
            if seen is not None and seen > now:
                return False
            # Keep the id past the assertion's expiry by the clock skew the check allows.
            self._used_jti[key] = max(exp, now) + 600
            return True


def certificate_index(
    certs: Iterable[x509.Certificate],
) -> dict[bytes, x509.Certificate]:
    """Map SHA-1 and SHA-256 fingerprints to certificates (x5t and x5t#S256 lookups)."""
    index: dict[bytes, x509.Certificate] = {}
    for cert in certs:
        index[cert.fingerprint(hashes.SHA1())] = cert
        index[cert.fingerprint(hashes.SHA256())] = cert
    return index
