"""Workload identity federation: an app accepts a token from an external OIDC issuer (AKS,
GitHub Actions, the emulator's own test issuers) as its client assertion, when one of its
federated identity credentials names that issuer, subject and audience.

As Entra does, the issuer's keys are found through its discovery document
(``<iss>/.well-known/openid-configuration`` -> ``jwks_uri``), fetched over HTTPS and cached.
Only issuers an app's credential names are ever fetched, so a client cannot make the emulator
request a URL of its choosing.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from . import errors, jws
from .config import AppRegistration, FederatedCredential

FETCH_TIMEOUT = 5.0
MAX_DOCUMENT = 1024 * 1024
KEYS_TTL = 300.0  # seconds a fetched JWKS is reused before it is fetched again


class FetchError(Exception):
    """The issuer's discovery document or keys could not be read (AADSTS50166)."""


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class OidcKeys:
    """Fetches and caches issuers' signing keys; trusts the system CAs and ``extra_ca``."""

    def __init__(self, extra_ca: str | None = None) -> None:
        self._context = ssl.create_default_context()
        if extra_ca:
            self._context.load_verify_locations(extra_ca)
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _get_json(self, url: str) -> Any:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise FetchError(f"'{url}' is not an https URL")
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.HTTPSHandler(context=self._context)
        ]
        if _is_loopback_host(parts.hostname):  # never send loopback traffic through a proxy
            handlers.append(urllib.request.ProxyHandler({}))
        opener = urllib.request.build_opener(*handlers)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with opener.open(request, timeout=FETCH_TIMEOUT) as response:
                body = response.read(MAX_DOCUMENT + 1)
        except urllib.error.HTTPError as exc:
            raise FetchError(f"GET {url} answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"GET {url} failed: {reason}") from None
        if len(body) > MAX_DOCUMENT:
            raise FetchError(f"GET {url}: the document is larger than {MAX_DOCUMENT} bytes")
        try:
            return json.loads(body)
        except ValueError:
            raise FetchError(f"GET {url}: not JSON") from None

    def _fetch_keys(self, issuer: str) -> dict[str, Any]:
        discovery = self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        if not isinstance(discovery, dict) or not isinstance(discovery.get("jwks_uri"), str):
            raise FetchError("the discovery document has no jwks_uri")
        if discovery.get("issuer") != issuer:
            raise FetchError(
                f"the discovery document names issuer '{discovery.get('issuer')}', not '{issuer}'"
            )
        jwks = self._get_json(discovery["jwks_uri"])
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list):
            raise FetchError("the JWKS has no 'keys' list")
        return {
            str(k.get("kid", "")): k
            for k in keys
            if isinstance(k, dict) and k.get("kty") == "RSA" and k.get("use", "sig") == "sig"
        }

    def keys(self, issuer: str, *, refresh: bool = False) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(issuer)
        if cached is not None and not refresh and now - cached[0] < KEYS_TTL:
            return cached[1]
        keys = self._fetch_keys(issuer)
        with self._lock:
            self._cache[issuer] = (now, keys)
        return keys

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def _public_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey | None:
    try:
        n = int.from_bytes(jws.b64url_decode(str(jwk["n"])), "big")
        e = int.from_bytes(jws.b64url_decode(str(jwk["e"])), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    except (KeyError, ValueError, jws.MalformedJWS):
        return None


class FederatedVerifier:
    """Matches an external token to an app's federated identity credentials and verifies its
    signature with the issuer's published keys."""

    def __init__(self, keys: OidcKeys) -> None:
        self.keys = keys

    def match(self, app: AppRegistration, token: jws.CompactJWS) -> FederatedCredential:
        """The credential the token's ``iss``, ``sub`` and ``aud`` match exactly (Entra compares
        case-sensitively), or Entra's refusal naming what did not match."""
        payload = token.payload
        iss, sub, aud = payload.get("iss"), payload.get("sub"), payload.get("aud")
        credentials = app.federated_credentials
        if not credentials:
            raise errors.no_federated_record(iss, sub, aud)
        by_issuer = [c for c in credentials if c.issuer == iss]
        if not by_issuer:
            raise errors.federated_issuer_mismatch(iss)
        by_subject = [c for c in by_issuer if c.subject == sub]
        if not by_subject:
            raise errors.federated_subject_mismatch(sub)
        aud_values = aud if isinstance(aud, list) else [aud]
        for credential in by_subject:
            if any(isinstance(a, str) and a in credential.audiences for a in aud_values):
                return credential
        raise errors.federated_audience_mismatch(aud)

    def verify_signature(self, token: jws.CompactJWS) -> None:
        issuer = str(token.payload.get("iss"))
        kid = token.header.get("kid")
        try:
            keys = self.keys.keys(issuer)
            if isinstance(kid, str) and kid not in keys:
                keys = self.keys.keys(issuer, refresh=True)  # the issuer may have rotated
        except FetchError as exc:
            raise errors.oidc_fetch_failed(issuer, str(exc)) from None
        candidates = [keys[kid]] if isinstance(kid, str) and kid in keys else []
        if kid is None:
            candidates = list(keys.values())
        if not candidates:
            raise errors.bad_assertion(
                f"[Reason - The key was not found., Key id used by the issuer: '{kid}', "
                f"Issuer: '{issuer}']"
            )
        for jwk in candidates:
            key = _public_key(jwk)
            if key is not None and jws.verify(token, key):
                return
        raise errors.bad_assertion(
            f"[Reason - The signature does not verify with the key '{kid}' that issuer "
            f"'{issuer}' publishes.]"
        )
