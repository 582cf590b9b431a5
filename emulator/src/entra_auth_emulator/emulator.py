"""The public, in-process emulator: start it in a test or a demo, register apps, get tokens."""

from __future__ import annotations

import ipaddress
import os
import shutil
import ssl
import tempfile
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from cryptography.hazmat.primitives.asymmetric import rsa

from .config import (
    TOKEN_EXCHANGE_AUDIENCE,
    AppRegistration,
    CertificateInput,
    EmulatorConfig,
    FederatedCredential,
    ManagedIdentityRegistration,
    ResourceRegistration,
    SecretInput,
    TenantRegistration,
    _check_lifetime,
    coerce_certificates,
    load_config,
)
from .directory import Directory
from .errors import ConfigError, EmulatorError
from .pki import write_private_file
from .server import Listener
from .service import APP_SERVICE_PATH, Service
from .state import ensure_state
from .tokens import TokenIssuer, v1_issuer

if TYPE_CHECKING:
    from .azure_hosts import AzureHosts

__all__ = ["Emulator"]


def _url_host(host: str) -> str:
    """The host to put in URLs: wildcard addresses are advertised as loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    except ValueError:
        pass
    return host


def https_url(url_host: str, port: int) -> str:
    """The authority URL; Entra's URLs never spell the default port, and neither do these (an
    emulator served as ``https://login.example`` must not advertise ``:443``)."""
    return f"https://{url_host}" if port == 443 else f"https://{url_host}:{port}"


class Emulator:
    """A running Entra ID + managed identity emulator on background threads.

    Usage::

        with Emulator() as emu:
            app = emu.register_app("contoso-tenant", secrets=["s3cret"])
            ...  # msal / azure-identity against emu.authority_host, trusting emu.ca_bundle

    ``config`` is an :class:`EmulatorConfig`, a path to a TOML config, or None (start empty and
    register at runtime). ``state_dir`` keeps the CA, TLS certificate and token-signing key; when
    None a temporary folder is used and removed by :meth:`stop`. ``port=0`` picks free ports;
    otherwise HTTPS listens on ``port`` and the plain-HTTP identity endpoints on ``port + 1``.
    ``token_lifetime`` (seconds) overrides the config's default lifetime for every principal
    without its own; ``arc_key_dir`` is where Azure Arc challenge key files are written
    (default ``<state_dir>/arc-tokens``; msal and azure-identity read only
    ``/var/opt/azcmagent/tokens``).
    """

    def __init__(
        self,
        config: EmulatorConfig | str | os.PathLike[str] | None = None,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        token_lifetime: int | None = None,
        arc_key_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if config is None:
            config = EmulatorConfig()
        elif not isinstance(config, EmulatorConfig):
            config = load_config(config)
        if not 0 <= port <= 65534:
            raise ValueError("port must be 0 (free ports) or 1..65534")
        if token_lifetime is not None:
            _check_lifetime(token_lifetime, "token_lifetime")
        self.config = config
        self.token_lifetime = token_lifetime or config.token_lifetime
        self._arc_key_dir = Path(arc_key_dir) if arc_key_dir is not None else None
        self.host = host
        self.port = port
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._temp_state: Path | None = None
        self._directory = Directory(config)
        self._service: Service | None = None
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self.identity_header = uuid.uuid4().hex
        self.authority_host = ""
        self.imds_endpoint = ""
        self.identity_endpoint = ""
        self.graph_endpoint = ""
        self.ca_bundle = ""
        self._loopback_only = True
        self._azure_hosts: AzureHosts | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Generate or load the state, bind the listeners and start serving."""
        with self._lock:
            if self._service is not None:
                return self
            state_dir = self._state_dir
            if state_dir is None:
                self._temp_state = Path(tempfile.mkdtemp(prefix="entra-auth-emulator-"))
                state_dir = self._temp_state
            try:
                material = ensure_state(state_dir, self.host)
            except OSError as exc:
                self._cleanup_temp_state()
                # The folder the user named is unusable (a file, not writable): bad input.
                where = exc.filename if exc.filename not in (None, str(state_dir)) else None
                detail = f"{exc.strerror or exc}" + (f": {where}" if where else "")
                raise ConfigError(f"state dir {state_dir}: {detail}") from None
            signing_key = material.signing.private_key
            if not isinstance(signing_key, rsa.RSAPrivateKey):  # ensure_state makes RSA keys
                raise EmulatorError(f"{state_dir}: the token-signing key is not RSA")
            service = Service(
                directory=self._directory,
                issuer=TokenIssuer(signing_key, material.signing.certificate),
                identity_header=self.identity_header,
                token_lifetime=self.token_lifetime,
                extra_ca=str(material.ca_bundle),
            )
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(material.tls_cert, material.tls_key)
            listeners: list[Listener] = []
            try:
                listeners.append(
                    Listener(
                        self.host, self.port, service=service, kind="authority", ssl_context=context
                    )
                )
                listeners.append(
                    Listener(
                        self.host,
                        self.port + 1 if self.port else 0,
                        service=service,
                        kind="identity",
                    )
                )
            except OSError as exc:
                for listener in listeners:
                    listener.stop()
                self._cleanup_temp_state()
                raise EmulatorError(
                    f"cannot listen on {self.host} port {self.port or 'auto'}: "
                    f"{exc.strerror or exc}"
                ) from None
            url_host = _url_host(self.host)
            self.authority_host = https_url(url_host, listeners[0].port)
            http_base = f"http://{url_host}:{listeners[1].port}"
            self.imds_endpoint = http_base
            self.identity_endpoint = http_base + APP_SERVICE_PATH
            self.ca_bundle = str(material.ca_bundle)
            service.set_authority_host(self.authority_host)
            # The small Graph shares the authority's port (paths /v1.0 and /beta): point
            # Environment(graph_endpoint=...) here; tokens for it are Graph tokens.
            self.graph_endpoint = service.graph_endpoint
            if url_host in ("127.0.0.1", "[::1]"):  # the TLS certificate names localhost too
                self._directory.graph_aliases += (https_url("localhost", listeners[0].port),)
            from .azure_hosts import AzureHosts

            try:
                service.azure_hosts = self._azure_hosts = AzureHosts(
                    http_base=http_base,
                    https_base=self.authority_host,
                    secret=self.identity_header,
                    tls_cert=material.tls_cert,
                    arc_token_dir=self._arc_key_dir or Path(state_dir) / "arc-tokens",
                )
            except OSError as exc:  # bound sockets must not outlive a failed start
                for listener in listeners:
                    listener.stop()
                self._cleanup_temp_state()
                raise ConfigError(f"state dir {state_dir}: {exc.strerror or exc}") from None
            self._loopback_only = all(listener.loopback for listener in listeners)
            for listener in listeners:
                listener.start()
            self._listeners = listeners
            self._service = service
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; returns within a fraction of a second."""
        with self._lock:
            for listener in self._listeners:
                listener.stop()
            self._listeners = []
            self._service = None
            self._cleanup_temp_state()

    def _cleanup_temp_state(self) -> None:
        if self._temp_state is not None:
            shutil.rmtree(self._temp_state, ignore_errors=True)
            self._temp_state = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def azure_hosts(self) -> AzureHosts:
        """The other Azure hosts' identity endpoints (Arc, Service Fabric, Cloud Shell, Azure
        ML) and the environment a client on each would see; their URLs need the ports, so
        only once started."""
        if self._azure_hosts is None:
            raise RuntimeError("the emulator is not running; call start() or use 'with'")
        return self._azure_hosts

    @property
    def loopback_only(self) -> bool:
        """Whether every listener is bound to a loopback address (the CLI warns otherwise)."""
        return self._loopback_only

    @property
    def running(self) -> bool:
        return self._service is not None

    @property
    def service(self) -> Service:
        if self._service is None:
            raise RuntimeError("the emulator is not running; call start() or use 'with'")
        return self._service

    def __repr__(self) -> str:
        state = self.authority_host if self.running else "stopped"
        return f"<Emulator {state}>"

    # -- what clients need -------------------------------------------------------------------

    def ready_info(self) -> dict[str, Any]:
        """The ready-file contents (pinned in DESIGN.md)."""
        self.service  # noqa: B018 - raises when not running
        return {
            "authority_host": self.authority_host,
            "ca_bundle": self.ca_bundle,
            "imds_endpoint": self.imds_endpoint,
            "identity_endpoint": self.identity_endpoint,
            "identity_header": self.identity_header,
            "graph_endpoint": self.graph_endpoint,
            "oidc_issuer": self.oidc_issuer(),
            "pid": os.getpid(),
        }

    def write_ready_file(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`ready_info` as JSON atomically (temp file, fsync, rename), mode 0600."""
        import json

        path = Path(path)
        write_private_file(path, (json.dumps(self.ready_info(), indent=2) + "\n").encode())
        return path

    def authority(self, tenant_id: str) -> str:
        """``<authority_host>/<tenant_id>``: what msal takes as ``authority``."""
        return f"{self.authority_host}/{tenant_id}"

    def token_endpoint(self, tenant_id: str) -> str:
        return f"{self.authority_host}/{tenant_id}/oauth2/v2.0/token"

    def jwks_uri(self, tenant_id: str) -> str:
        return f"{self.authority_host}/{tenant_id}/discovery/v2.0/keys"

    def issuer(self, tenant_id: str) -> str:
        """The ``iss`` of v2.0 tokens for the tenant: ``<authority_host>/<tenant_id>/v2.0``."""
        return f"{self.authority_host}/{tenant_id}/v2.0"

    def v1_issuer(self, tenant_id: str) -> str:
        """The ``iss`` of v1.0 tokens (Graph, ARM, Key Vault...): as Entra writes it,
        ``https://sts.windows.net/<tenant_id>/`` (an identifier, never contacted)."""
        return v1_issuer(tenant_id)

    def oidc_issuer(self, name: str = "default") -> str:
        """URL of one of the emulator's own external OIDC issuers (for federated credentials):
        ``<authority_host>/issuers/<name>``."""
        return self.service.oidc_issuers.url(name)

    def mint_federated_token(
        self,
        subject: str,
        *,
        issuer: str = "default",
        audience: str | list[str] = TOKEN_EXCHANGE_AUDIENCE,
        lifetime: int = 3600,
        claims: dict[str, Any] | None = None,
    ) -> str:
        """A token from the emulator's OIDC issuer ``issuer`` about ``subject``: what AKS or
        GitHub Actions would hand a workload (same as ``POST /_emulator/federated-token``)."""
        return self.service.oidc_issuers.mint(
            subject, issuer=issuer, audience=audience, lifetime=lifetime, claims=claims
        )

    def verify_token(self, access_token: str) -> dict[str, Any]:
        """Claims of an access token this emulator issued; raises ValueError otherwise."""
        return self.service.issuer.verify(access_token)

    # -- registrations -----------------------------------------------------------------------

    def register_app(
        self,
        tenant_id: str,
        client_id: str | None = None,
        *,
        display_name: str = "",
        roles: Iterable[str] = (),
        secrets: Iterable[SecretInput] = (),
        certificates: Iterable[CertificateInput] = (),
        trusted_issuers: Iterable[CertificateInput] = (),
        trusted_subjects: Iterable[str] = (),
        federated_credentials: Iterable[FederatedCredential] = (),
        object_id: str = "",
        token_lifetime: int | None = None,
        enabled: bool = True,
        access_token_accepted_version: int = 1,
    ) -> AppRegistration:
        """Add (or replace) an app registration; ``client_id`` defaults to a fresh GUID.

        ``secrets`` are strings or :class:`ClientSecret` (with ``expires``). ``certificates``
        and ``trusted_issuers`` take Certificate objects, :class:`CertifiedKey`, PEM/DER bytes,
        PEM text or file paths; ``trusted_issuers`` needs ``trusted_subjects`` (subject DNs
        such as ``CN=automation``). Registering a new tenant id creates the tenant.
        """
        app = AppRegistration(
            tenant_id=tenant_id,
            client_id=client_id or str(uuid.uuid4()),
            display_name=display_name,
            roles=tuple(roles),
            secrets=tuple(secrets),  # type: ignore[arg-type]  # strings are coerced
            certificates=coerce_certificates(certificates),
            trusted_issuers=coerce_certificates(trusted_issuers, what="trusted issuer"),
            trusted_subjects=tuple(trusted_subjects),
            federated_credentials=tuple(federated_credentials),
            object_id=object_id,
            token_lifetime=token_lifetime,
            enabled=enabled,
            access_token_accepted_version=access_token_accepted_version,
        )
        self._directory.put_app(app)
        return app

    def unregister_app(self, tenant_id: str, client_id: str) -> bool:
        return self._directory.remove_app(tenant_id, client_id)

    def register_managed_identity(
        self,
        tenant_id: str,
        client_id: str | None = None,
        *,
        object_id: str = "",
        resource_id: str = "",
        display_name: str = "",
        roles: Iterable[str] = (),
        token_lifetime: int | None = None,
    ) -> ManagedIdentityRegistration:
        """Add (or replace) a managed identity.

        Without ``client_id`` and ``resource_id`` it is the system-assigned identity (there is
        one; registering another replaces it). Missing ids are derived deterministically.
        """
        mi = ManagedIdentityRegistration(
            tenant_id=tenant_id,
            client_id=client_id or "",
            object_id=object_id,
            resource_id=resource_id,
            display_name=display_name,
            roles=tuple(roles),
            user_assigned=bool(client_id or resource_id),
            token_lifetime=token_lifetime,
        )
        self._directory.put_managed_identity(mi)
        return mi

    def register_tenant(
        self, tenant_id: str, *, domains: Iterable[str] = (), display_name: str = ""
    ) -> TenantRegistration:
        """Declare a tenant with verified domains (``contoso.onmicrosoft.com``) that resolve to
        it in discovery and token requests."""
        tenant = TenantRegistration(tenant_id, tuple(domains), display_name)
        self._directory.put_tenant(tenant)
        return tenant

    def register_resource(
        self,
        *identifier_uris: str,
        app_id: str = "",
        display_name: str = "",
        access_token_accepted_version: int = 1,
    ) -> ResourceRegistration:
        """Make a resource (an API) known, so tokens can be requested for it."""
        resource = ResourceRegistration(
            tuple(identifier_uris), app_id, display_name, access_token_accepted_version
        )
        self._directory.put_resource(resource)
        return resource

    # -- test helpers ------------------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        """The request log (oldest first): method, path, status, endpoint and what the
        emulator knew of the caller (client_id, grant_type); never bodies or secrets."""
        return self.service.requests()

    def add_fault(
        self,
        endpoint: str | None = None,
        *,
        path: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        drop: bool = False,
        count: int = 1,
    ) -> dict[str, Any]:
        """Make the next ``count`` requests to ``endpoint`` (token, discovery,
        instance_discovery, jwks, imds, appservice, any) or to paths matching ``path`` (a glob)
        answer ``status`` (with ``Retry-After``), wait ``delay`` seconds first, or be dropped.
        Same rules as ``POST /_emulator/faults``; raises ValueError for a bad spec."""
        spec: dict[str, Any] = {"count": count}
        for key, value in (
            ("endpoint", endpoint),
            ("path", path),
            ("status", status),
            ("retry_after", retry_after),
        ):
            if value is not None:
                spec[key] = value
        if delay:
            spec["delay"] = delay
        if drop:
            spec["drop"] = True
        return self.service.faults.add(spec).as_dict()

    def reset(self, *, registrations: bool = False) -> None:
        """Clear the request log, pending faults and used assertion ids; with
        ``registrations=True`` also drop runtime registrations (back to the config)."""
        if self._service is not None:
            self._service.reset(registrations=registrations)
        elif registrations:
            self._directory.reset_registrations()
