"""The emulator's directory: tenants, apps, managed identities and resources, thread-safe.

Config entries are loaded once; tests add and replace registrations at runtime on a shared
session-scoped emulator, so every lookup goes through one lock-protected index.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from . import resources
from .config import (
    AppRegistration,
    EmulatorConfig,
    ManagedIdentityRegistration,
    ResourceRegistration,
    TenantRegistration,
)
from .errors import ConfigError


class Directory:
    def __init__(self, config: EmulatorConfig) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._apps: dict[tuple[str, str], AppRegistration] = {}
        self._mis: list[ManagedIdentityRegistration] = []
        self._tenants: dict[str, TenantRegistration] = {}
        self._resources: dict[str, ResourceRegistration] = {}
        self._used_jti: dict[tuple[str, str, str], float] = {}
        self.strict_jti = config.strict_jti
        self.config_graph = config.graph
        # The emulator's own Graph endpoint(s): tokens for them are Graph tokens.
        self.graph_aliases: tuple[str, ...] = ()
        self._load(config)

    def _load(self, config: EmulatorConfig) -> None:
        self._apps = {(a.tenant_id.lower(), a.client_id.lower()): a for a in config.apps}
        self._mis = list(config.managed_identities)
        self._tenants = {t.tenant_id.lower(): t for t in config.tenants}
        self._resources = {r.app_id.lower(): r for r in config.resources}

    def reset_registrations(self) -> None:
        """Forget runtime registrations; back to what the config declared."""
        with self._lock:
            self._load(self._config)

    def forget_used_assertions(self) -> None:
        with self._lock:
            self._used_jti.clear()

    # -- tenants -------------------------------------------------------------------------

    def put_tenant(self, tenant: TenantRegistration) -> None:
        with self._lock:
            taken = {
                name: other.tenant_id
                for key, other in self._tenants.items()
                if key != tenant.tenant_id.lower()
                for name in (key, *other.domains)
            }
            for name in (tenant.tenant_id.lower(), *tenant.domains):
                if name in taken:
                    raise ConfigError(f"{name} already belongs to tenant {taken[name]}")
            self._tenants[tenant.tenant_id.lower()] = tenant

    def remove_tenant(self, tenant_id: str) -> bool:
        """Remove a declared tenant with everything registered in it."""
        key = tenant_id.lower()
        with self._lock:
            found = self._tenants.pop(key, None) is not None
            apps = {k: a for k, a in self._apps.items() if k[0] != key}
            mis = [m for m in self._mis if m.tenant_id.lower() != key]
            found |= len(apps) != len(self._apps) or len(mis) != len(self._mis)
            self._apps, self._mis = apps, mis
            return found

    def tenants(self) -> list[TenantRegistration]:
        with self._lock:
            return list(self._tenants.values())

    def tenant_exists(self, tenant: str) -> bool:
        return self.canonical_tenant(tenant) is not None

    def canonical_tenant(self, tenant: str) -> str | None:
        """The tenant id as registered (case preserved) for an id or a verified domain, or
        None when unknown."""
        lowered = tenant.lower()
        with self._lock:
            declared = self._tenants.get(lowered)
            if declared is not None:
                return declared.tenant_id
            for declared in self._tenants.values():
                if lowered in declared.domains:
                    return declared.tenant_id
            for app in self._apps.values():
                if app.tenant_id.lower() == lowered:
                    return app.tenant_id
            for mi in self._mis:
                if mi.tenant_id.lower() == lowered:
                    return mi.tenant_id
        return None

    # -- apps ------------------------------------------------------------------------------

    def app(self, tenant: str, client_id: str) -> AppRegistration | None:
        with self._lock:
            return self._apps.get((tenant.lower(), client_id.lower()))

    def apps(self) -> list[AppRegistration]:
        with self._lock:
            return list(self._apps.values())

    def put_app(self, app: AppRegistration) -> None:
        with self._lock:
            self._apps[(app.tenant_id.lower(), app.client_id.lower())] = app

    def remove_app(self, tenant: str, client_id: str) -> bool:
        with self._lock:
            return self._apps.pop((tenant.lower(), client_id.lower()), None) is not None

    # -- resources ---------------------------------------------------------------------------

    def put_resource(self, resource: ResourceRegistration) -> None:
        with self._lock:
            self._resources[resource.app_id.lower()] = resource

    def remove_resource(self, app_id: str) -> bool:
        with self._lock:
            return self._resources.pop(app_id.lower(), None) is not None

    def registered_resources(self) -> list[ResourceRegistration]:
        with self._lock:
            return list(self._resources.values())

    def resource(self, tenant: str, requested: str) -> resources.ResolvedResource | None:
        """The resource a token request names in ``tenant``: a built-in one, one registered
        (config or admin API), or an app of the tenant by ``api://<client_id>`` or client id."""
        wanted = resources.comparable(requested)
        found = resources.index(resources.BUILT_IN).get(wanted)
        if found is None and wanted in {resources.comparable(a) for a in self.graph_aliases}:
            found = resources.index(resources.BUILT_IN).get(resources.GRAPH_APP_ID)
        with self._lock:
            if found is None:
                found = resources.index(tuple(self._resources.values())).get(wanted)
            if found is None:
                key = tenant.lower()
                for (app_tenant, client_id), app in self._apps.items():
                    if app_tenant == key and wanted in (client_id, f"api://{client_id}"):
                        return resources.ResolvedResource(
                            requested=requested,
                            app_id=app.client_id,
                            display_name=app.display_name,
                            version=app.access_token_accepted_version,
                        )
        if found is None:
            return None
        return resources.ResolvedResource(
            requested=requested,
            app_id=found.app_id,
            display_name=found.display_name,
            version=found.access_token_accepted_version,
        )

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

    def managed_identities(self) -> list[ManagedIdentityRegistration]:
        with self._lock:
            return list(self._mis)

    def remove_managed_identity(self, client_id: str) -> bool:
        with self._lock:
            keep = [m for m in self._mis if m.client_id.lower() != client_id.lower()]
            found = len(keep) != len(self._mis)
            self._mis = keep
            return found

    # -- assertion replay ---------------------------------------------------------------------

    def record_jti(self, tenant: str, client_id: str, jti: str, exp: float) -> bool:
        """Remember an assertion id; False when it was seen before (``strict_jti`` only).

        Entra accepts one assertion again until it expires (msal reuses its assertion for up to
        ten minutes, across scopes and after a cleared cache), so by default nothing is
        remembered; ``strict_jti`` is replay detection stricter than Entra's.
        """
        if not self.strict_jti:
            return True
        now = time.time()
        key = (tenant.lower(), client_id.lower(), jti)
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
