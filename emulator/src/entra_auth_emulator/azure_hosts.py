"""Identity endpoints of the other Azure hosts: Azure Arc, Service Fabric, Cloud Shell and Azure
Machine Learning, next to IMDS and App Service in :mod:`managed_identity`.

Each speaks its own dialect, and clients (msal, azure-identity) parse each one separately, so the
shapes are reproduced as the real agents answer:

- Arc (``himds``): the first request gets 401 with ``WWW-Authenticate: Basic realm=<key file>``;
  the client reads that file (only root and the himds group can on a real machine) and repeats
  the request with ``Authorization: Basic <file content>``. Key files are one-time here.
- Service Fabric: HTTPS with a certificate the client pins by SHA-1 thumbprint
  (``IDENTITY_SERVER_THUMBPRINT``), a ``Secret`` header, errors as
  ``{"error": {"code", "message"}}``.
  The identity is fixed by the cluster, so selectors are ignored: it is the system-assigned one.
- Cloud Shell: a form POST to ``MSI_ENDPOINT`` with ``Metadata: true``.
- Azure ML: ``MSI_ENDPOINT`` + ``MSI_SECRET`` (sent as the ``secret`` header), api 2017-09-01,
  which spells the client id ``clientid``.

Every host uses the emulator's identity header as its secret (``IDENTITY_HEADER`` /
``MSI_SECRET``) and the managed identities registered with the emulator.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .managed_identity import _issue, _resource, resolve, select_identity, unknown_resource_text
from .messages import Request, Response

if TYPE_CHECKING:
    from .service import Service

ARC_PREFIX = "/arc"
ARC_PATH = ARC_PREFIX + "/metadata/identity/oauth2/token"
SERVICE_FABRIC_PATH = "/servicefabric/metadata/identity/oauth2/token"
CLOUD_SHELL_PATH = "/cloudshell/oauth2/token"
MACHINE_LEARNING_PATH = "/ml/msi/token"
ARC_KEY_LIFETIME = 60.0  # seconds a challenge file stays valid
ENDPOINT_NAMES = ("arc", "servicefabric", "cloudshell", "machinelearning")

Handler = Callable[[], Response]


class AzureHosts:
    """The extra identity endpoints, plus the environment a client on each host would see."""

    def __init__(
        self,
        *,
        http_base: str,
        https_base: str,
        secret: str,
        tls_cert: Path,
        arc_token_dir: Path,
    ) -> None:
        self.http_base = http_base
        self.https_base = https_base
        self.secret = secret
        self.arc_token_dir = Path(arc_token_dir)
        self.arc_token_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        cert = x509.load_pem_x509_certificate(Path(tls_cert).read_bytes())
        self.service_fabric_thumbprint = hashlib.sha1(
            cert.public_bytes(serialization.Encoding.DER)
        ).hexdigest()
        self._arc_keys: dict[str, tuple[float, Path]] = {}  # secret -> (expiry, its file)
        self._lock = threading.Lock()

    # -- what a client on each host sees -----------------------------------------------------

    @property
    def arc_identity_endpoint(self) -> str:
        return self.http_base + ARC_PATH

    @property
    def service_fabric_endpoint(self) -> str:
        return self.https_base + SERVICE_FABRIC_PATH

    @property
    def cloud_shell_endpoint(self) -> str:
        return self.http_base + CLOUD_SHELL_PATH

    @property
    def machine_learning_endpoint(self) -> str:
        return self.http_base + MACHINE_LEARNING_PATH

    def environment(self, host: str) -> dict[str, str]:
        """The environment variables that make msal / azure-identity / entra-auth use ``host``
        (``IMDS``, ``AppService``, ``AzureArc``, ``ServiceFabric``, ``CloudShell``,
        ``MachineLearning``) against this emulator."""
        if host == "IMDS":
            return {"AZURE_POD_IDENTITY_AUTHORITY_HOST": self.http_base}
        if host == "AppService":
            return {
                "IDENTITY_ENDPOINT": self.http_base + "/msi/token",
                "IDENTITY_HEADER": self.secret,
            }
        if host == "AzureArc":
            return {
                "IDENTITY_ENDPOINT": self.arc_identity_endpoint,
                "IMDS_ENDPOINT": self.http_base + ARC_PREFIX,
            }
        if host == "ServiceFabric":
            return {
                "IDENTITY_ENDPOINT": self.service_fabric_endpoint,
                "IDENTITY_HEADER": self.secret,
                "IDENTITY_SERVER_THUMBPRINT": self.service_fabric_thumbprint,
            }
        if host == "CloudShell":
            return {"MSI_ENDPOINT": self.cloud_shell_endpoint}
        if host == "MachineLearning":
            return {"MSI_ENDPOINT": self.machine_learning_endpoint, "MSI_SECRET": self.secret}
        raise ValueError(f"unknown host {host!r}")

    # -- routing -----------------------------------------------------------------------------

    def route(self, service: Service, request: Request) -> tuple[str, Handler] | None:
        """The endpoint name and handler when the request is for one of these hosts."""
        path = request.path
        if request.listener == "identity":
            if path == ARC_PATH:
                return "arc", lambda: self.arc(service, request)
            if path == CLOUD_SHELL_PATH:
                return "cloudshell", lambda: self.cloud_shell(service, request)
            if path == MACHINE_LEARNING_PATH:
                return "machinelearning", lambda: self.machine_learning(service, request)
        elif path == SERVICE_FABRIC_PATH:
            return "servicefabric", lambda: self.service_fabric(service, request)
        return None

    # -- Azure Arc ---------------------------------------------------------------------------

    def _new_arc_key(self) -> Path:
        key = secrets.token_urlsafe(32)
        path = self.arc_token_dir / f"{uuid.uuid4()}.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        with self._lock:
            now = time.monotonic()
            for old, (expiry, old_path) in list(self._arc_keys.items()):
                if expiry <= now:
                    del self._arc_keys[old]
                    old_path.unlink(missing_ok=True)
            self._arc_keys[key] = (now + ARC_KEY_LIFETIME, path)
        return path

    def _take_arc_key(self, presented: str) -> bool:
        with self._lock:
            now = time.monotonic()
            for key, (expiry, path) in list(self._arc_keys.items()):
                if expiry > now and hmac.compare_digest(key.encode(), presented.encode()):
                    # One-time, as himds does: the file goes once its key was used.
                    del self._arc_keys[key]
                    path.unlink(missing_ok=True)
                    return True
        return False

    def arc(self, service: Service, request: Request) -> Response:
        """Arc's himds: IMDS's shape behind a challenge-file handshake."""
        log: dict[str, object] = {}

        def refuse(status: int, error: str, description: str) -> Response:
            return Response(status, {"error": error, "error_description": description}, log=log)

        if request.method != "GET":
            return refuse(405, "invalid_request", "Only GET is supported")
        if (request.header("metadata") or "").lower() != "true":
            return refuse(400, "invalid_request", "Required metadata header not specified")
        if not request.param("api-version"):
            return refuse(
                400, "invalid_request", "Required query variable 'api-version' is missing"
            )
        authorization = request.header("authorization") or ""
        if not authorization:
            path = self._new_arc_key()
            log["challenge"] = path.name
            response = refuse(401, "unauthorized_client", "Authorization header is required")
            response.headers["WWW-Authenticate"] = f"Basic realm={path}"
            return response
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "basic" or not self._take_arc_key(presented.strip()):
            log["challenge"] = "rejected"
            return refuse(401, "unauthorized_client", "The challenge key is invalid or expired")
        resource = _resource(request)
        if not resource:
            return refuse(400, "invalid_request", "Required audience parameter not specified")
        mi, problem = select_identity(
            service,
            request,
            {"client_id": "client_id", "object_id": "object_id", "msi_res_id": "resource_id"},
            log,
        )
        if problem:
            return refuse(400, "invalid_request", problem)
        if mi is None:
            return refuse(400, "invalid_request", "Identity not found")
        resolved = resolve(service, mi, resource)
        if resolved is None:
            return refuse(400, "invalid_resource", unknown_resource_text(resource, mi.tenant_id))
        access_token, claims, lifetime = _issue(service, mi, resolved)
        body: dict[str, object] = {
            "access_token": access_token,
            "expires_in": str(lifetime),
            "expires_on": str(claims["exp"]),
            "not_before": str(claims["nbf"]),
            "resource": resource,
            "token_type": "Bearer",
        }
        if mi.user_assigned:  # agents that support user-assigned identities echo the one used
            body.update(
                {"client_id": mi.client_id, "object_id": mi.object_id, "msi_res_id": mi.resource_id}
            )
        return Response(200, body, log=log)

    # -- Service Fabric ----------------------------------------------------------------------

    def service_fabric(self, service: Service, request: Request) -> Response:
        """The cluster's managed identity token service (api 2019-07-01-preview)."""
        correlation_id = str(uuid.uuid4())
        log: dict[str, object] = {}

        def refuse(status: int, code: str, message: str) -> Response:
            body = {"error": {"correlationId": correlation_id, "code": code, "message": message}}
            return Response(status, body, log=log)

        if request.method != "GET":
            return refuse(405, "MethodNotAllowed", "Only GET is supported.")
        secret = request.header("secret") or ""
        if not hmac.compare_digest(secret.encode(), self.secret.encode()):
            return refuse(
                401, "SecretHeaderNotFound", "Secret is not found in the request headers."
            )
        if not request.param("api-version"):
            return refuse(400, "ArgumentNullOrEmpty", "The api-version parameter is required.")
        resource = _resource(request)
        if not resource:
            return refuse(
                400, "ArgumentNullOrEmpty", "Value cannot be null. Parameter name: resource"
            )
        mi = service.directory.managed_identity()  # fixed by the cluster; selectors are ignored
        log["identity"] = "system"
        if mi is None:
            return refuse(
                404,
                "ManagedIdentityNotFound",
                "Managed Identity not found for the specified application.",
            )
        log["client_id"] = mi.client_id
        resolved = resolve(service, mi, resource)
        if resolved is None:
            return refuse(400, "InvalidResource", unknown_resource_text(resource, mi.tenant_id))
        access_token, claims, _lifetime = _issue(service, mi, resolved)
        return Response(
            200,
            {
                "token_type": "Bearer",
                "access_token": access_token,
                "expires_on": claims["exp"],
                "resource": resource,
            },
            log=log,
        )

    # -- Cloud Shell -------------------------------------------------------------------------

    def cloud_shell(self, service: Service, request: Request) -> Response:
        """Cloud Shell's local endpoint: a form POST, numbers as strings."""
        log: dict[str, object] = {}

        def refuse(status: int, error: str, description: str) -> Response:
            return Response(status, {"error": error, "error_description": description}, log=log)

        if request.method != "POST":
            return refuse(405, "invalid_request", "Only POST is supported")
        if (request.header("metadata") or "").lower() != "true":
            return refuse(400, "invalid_request", "Required metadata header not specified")
        try:
            form = parse_qs(request.body.decode(), keep_blank_values=True)
        except UnicodeDecodeError:
            return refuse(400, "invalid_request", "The body must be form-encoded")
        resource = (form.get("resource") or [""])[0]
        if resource.endswith("/.default"):
            resource = resource[: -len("/.default")]
        if not resource:
            return refuse(400, "invalid_request", "Required resource parameter not specified")
        mi = service.directory.managed_identity()
        log["identity"] = "system"
        if mi is None:
            return refuse(400, "invalid_request", "No identity is signed in to this Cloud Shell")
        log["client_id"] = mi.client_id
        resolved = resolve(service, mi, resource)
        if resolved is None:
            return refuse(400, "invalid_resource", unknown_resource_text(resource, mi.tenant_id))
        access_token, claims, lifetime = _issue(service, mi, resolved)
        return Response(
            200,
            {
                "access_token": access_token,
                "refresh_token": "",
                "expires_in": str(lifetime),
                "expires_on": str(claims["exp"]),
                "not_before": str(claims["nbf"]),
                "resource": resource,
                "token_type": "Bearer",
            },
            log=log,
        )

    # -- Azure Machine Learning --------------------------------------------------------------

    def machine_learning(self, service: Service, request: Request) -> Response:
        """Azure ML compute's MSI endpoint (api 2017-09-01)."""
        log: dict[str, object] = {}

        def refuse(status: int, error: str, description: str) -> Response:
            return Response(status, {"error": error, "error_description": description}, log=log)

        if request.method != "GET":
            return refuse(405, "invalid_request", "Only GET is supported")
        secret = request.header("secret") or ""
        if not hmac.compare_digest(secret.encode(), self.secret.encode()):
            return refuse(401, "unauthorized_client", "The secret header is missing or wrong")
        if not request.param("api-version"):
            return refuse(
                400, "invalid_request", "Required query variable 'api-version' is missing"
            )
        resource = _resource(request)
        if not resource:
            return refuse(400, "invalid_request", "Required resource parameter not specified")
        mi, problem = select_identity(
            service,
            request,
            {
                "clientid": "client_id",
                "client_id": "client_id",
                "object_id": "object_id",
                "msi_res_id": "resource_id",
            },
            log,
        )
        if problem:
            return refuse(400, "invalid_request", problem)
        if mi is None:
            return refuse(400, "invalid_request", "Identity not found")
        resolved = resolve(service, mi, resource)
        if resolved is None:
            return refuse(400, "invalid_resource", unknown_resource_text(resource, mi.tenant_id))
        access_token, claims, _lifetime = _issue(service, mi, resolved)
        return Response(
            200,
            {
                "access_token": access_token,
                "expires_on": str(claims["exp"]),
                "resource": resource,
                "token_type": "Bearer",
            },
            log=log,
        )
