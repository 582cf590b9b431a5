"""The token source: msal's ``ManagedIdentityClient`` behind our transport and error mapping.

msal knows every host's wire protocol except Cloud Shell's (it routes Cloud Shell through a
public client); that one POST is made here, as azure-identity makes it. Service Fabric's GET is
made here too: msal would send it on a session of its own that cannot have a timeout (see
:mod:`.transport`), and a silent endpoint would then hang the caller for good.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import requests

from entra_auth import AuthenticationError, TokenResult, UsageError, token_result

from . import failures
from .hosts import CLOUD_SHELL, SERVICE_FABRIC, Host
from .identity import Identity
from .transport import IdentitySession, PinnedCertificateAdapter

log = logging.getLogger("entra_auth.managed_identity")

_DEFAULT_SUFFIX = "/.default"


def scope_to_resource(scopes: Sequence[str]) -> str:
    """Identity endpoints take a resource, not scopes: ``https://graph.microsoft.com/.default``
    becomes ``https://graph.microsoft.com``."""
    if len(scopes) != 1:
        raise UsageError(
            f"a managed identity token is for one resource; got {len(scopes)} scopes "
            "(ask for '<resource>/.default', e.g. https://graph.microsoft.com/.default)"
        )
    scope = scopes[0].strip()
    if scope.endswith(_DEFAULT_SUFFIX):
        scope = scope[: -len(_DEFAULT_SUFFIX)]
    if not scope:
        raise UsageError("the scope is empty; use e.g. https://graph.microsoft.com/.default")
    return scope


class ManagedIdentityTokenSource:
    """Tokens for one identity on one host, with one HTTP session for the credential's life."""

    def __init__(
        self, identity: Identity, host: Host, *, session: IdentitySession | None = None
    ) -> None:
        self.identity = identity
        self.host = host
        self._session = session or IdentitySession()
        if host.server_thumbprint:
            # Mounted for the endpoint only: the pin applies there and nowhere else.
            self._session.mount(host.endpoint, PinnedCertificateAdapter(host.server_thumbprint))
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"ManagedIdentityTokenSource(identity={self.identity.account!r}, "
            f"source={self.host.source!r}, endpoint={self.host.endpoint!r})"
        )

    def context(self) -> Mapping[str, Any]:
        return {
            "Account": self.identity.account,
            "ManagedIdentitySource": self.host.source,
            "ManagedIdentityIdType": self.identity.kind,
        }

    def close(self) -> None:
        self._session.close()

    def acquire(
        self, scopes: Sequence[str], *, claims: str | None = None, tenant_id: str | None = None
    ) -> TokenResult:
        if tenant_id:
            # A managed identity lives in one tenant; the endpoint has no way to ask for another.
            log.debug("ignoring tenant_id %s for a managed identity", tenant_id)
        resource = scope_to_resource(scopes)
        self._session.attempts = 0
        self._session.last_response = None
        self._session.failed_after = None
        try:
            if self.host.source == CLOUD_SHELL:
                result = self._cloud_shell(resource)
            elif self.host.source == SERVICE_FABRIC:
                result = self._service_fabric(resource, claims)
            else:
                result = self._msal().acquire_token_for_client(
                    resource=resource, claims_challenge=claims
                )
        except requests.exceptions.RequestException as exc:
            raise failures.unreachable(self.host, exc, self._session) from None
        except json.JSONDecodeError:
            raise failures.malformed(self.host, self._session) from None
        except OSError as exc:  # the Arc challenge file
            raise failures.arc_challenge_file(self.host, exc) from None
        except ValueError as exc:  # msal.ManagedIdentityError and its subclasses
            raise AuthenticationError(
                f"managed identity sign-in failed on {self.host.source} "
                f"({self.host.endpoint}): {str(exc).splitlines()[0]}",
                error="managed_identity_error",
            ) from None
        if not result or "access_token" not in result:
            raise failures.refused(self.host, self.identity, result or {}, self._session)
        return token_result(result)

    def _msal(self) -> Any:
        with self._lock:
            if self._client is None:
                import msal

                from entra_auth import no_token_cache

                self._client = msal.ManagedIdentityClient(
                    self.identity.msal(),
                    http_client=self._session,
                    # Core caches every token; msal's cache would only be searched linearly on
                    # each miss. msal uses it for nothing else here: the one host that names a
                    # revoked token by its hash (Service Fabric) is asked without msal.
                    token_cache=no_token_cache(),
                )
            return self._client

    def _service_fabric(self, resource: str, claims: str | None) -> dict[str, Any]:
        """The cluster's token service (api 2019-07-01-preview), as msal would ask it."""
        if claims:
            # msal would name the revoked token by its hash; core keeps no copy to hash, and a
            # fresh request gets a fresh token anyway.
            log.debug("Service Fabric: claims challenge answered with a plain new request")
        response = self._session.get(
            self.host.endpoint,
            params={"api-version": "2019-07-01-preview", "resource": resource},
            headers={"Secret": self.host.secret or ""},
        )
        payload = json.loads(response.text)
        if not isinstance(payload, dict):
            raise json.JSONDecodeError("not an object", response.text, 0)
        if payload.get("access_token") and payload.get("expires_on"):
            return {
                "access_token": payload["access_token"],
                "expires_on": int(payload["expires_on"]),  # a number or a string of one
                "token_type": payload.get("token_type", "Bearer"),
            }
        return payload

    def _cloud_shell(self, resource: str) -> dict[str, Any]:
        """Cloud Shell's endpoint takes a form POST and answers string-valued numbers."""
        response = self._session.post(
            self.host.endpoint, data={"resource": resource}, headers={"Metadata": "true"}
        )
        payload = json.loads(response.text)
        if not isinstance(payload, dict):
            raise json.JSONDecodeError("not an object", response.text, 0)
        if response.ok and payload.get("access_token"):
            now = time.time()
            expires_on = payload.get("expires_on")
            expires_in = payload.get("expires_in")
            if expires_on is not None:
                expires = int(float(expires_on))
            elif expires_in is not None:
                expires = int(now + float(expires_in))
            else:
                expires = int(now + 3600)
            return {
                "access_token": payload["access_token"],
                "expires_on": expires,
                "token_type": payload.get("token_type", "Bearer"),
            }
        return payload
