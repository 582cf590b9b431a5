"""OpenID discovery documents kept between token requests, so a new process needs only the
token request: in memory for the process, and in ``$XDG_CACHE_HOME/entra-auth/discovery/``
(0600 files, read with ``files.read_trusted``) for ``DISCOVERY_TTL`` seconds. They are public
metadata, not tokens, so both context scopes keep them: ``Process`` still keeps no token on
disk.

A document is served from the cache only when it is plausible for the URL it answers (a JSON
object whose ``token_endpoint`` is an https URL on the authority's own host, with an
``issuer``); anything else is fetched again. When a token request to a cached document's
endpoint answers 404, the caller drops the document and fetches it again, once
(``ConfidentialClientSource``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("entra_auth.discovery_cache")

DISCOVERY_TTL = 24 * 3600
_SUFFIX = "/.well-known/openid-configuration"
_memory: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


class _Cached:
    """What msal reads of a response: status, body, headers."""

    status_code = 200
    headers: dict[str, str] = {}

    def __init__(self, text: str) -> None:
        self.text = text

    def raise_for_status(self) -> None:
        return None


def plausible(url: str, text: str) -> bool:
    try:
        doc = json.loads(text)
    except ValueError:
        return False
    if not isinstance(doc, dict) or not isinstance(doc.get("issuer"), str):
        return False
    endpoint = doc.get("token_endpoint")
    if not isinstance(endpoint, str):
        return False
    mine, theirs = urlsplit(url), urlsplit(endpoint)
    return theirs.scheme == "https" and theirs.netloc.lower() == mine.netloc.lower()


def _file(url: str) -> Any:
    from . import paths

    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    return paths.cache_dir() / "discovery" / f"{digest}.json"


class DiscoveryCachingClient:
    """An http client for msal that answers discovery GETs from the cache."""

    def __init__(self, http: Any, *, persist: bool) -> None:
        self._http = http
        self._persist = persist
        self.served_from_cache: set[str] = set()

    def get(self, url: str, **kwargs: Any) -> Any:
        if not url.endswith(_SUFFIX):
            return self._http.get(url, **kwargs)
        text = self._lookup(url)
        if text is not None:
            self.served_from_cache.add(url)
            return _Cached(text)
        response = self._http.get(url, **kwargs)
        if response.status_code == 200 and plausible(url, response.text):
            self._store(url, response.text)
        return response

    def post(self, *args: Any, **kwargs: Any) -> Any:
        return self._http.post(*args, **kwargs)

    def close(self) -> None:
        self._http.close()

    def preconnect(self, url: str) -> None:
        """Open the connection ahead of the first request, when the session can
        (``http.TimeoutSession.preconnect``)."""
        preconnect = getattr(self._http, "preconnect", None)
        if preconnect is not None:
            preconnect(url)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._http, name)

    def forget(self, tenant_marker: str = "") -> bool:
        """Drop the cached documents served to this client (those whose URL holds
        ``tenant_marker``); True when there was one to drop."""
        dropped = False
        for url in list(self.served_from_cache):
            if tenant_marker not in url:
                continue
            self.served_from_cache.discard(url)
            dropped = True
            with _lock:
                _memory.pop(url, None)
            with contextlib.suppress(OSError):
                _file(url).unlink()
        return dropped

    def _lookup(self, url: str) -> str | None:
        now = time.time()
        with _lock:
            found = _memory.get(url)
        if found is not None and found[1] > now and plausible(url, found[0]):
            return found[0]
        if not self._persist:
            return None
        from .errors import EntraAuthError
        from .files import STATE_LIMIT, read_trusted

        path = _file(url)
        try:
            raw = read_trusted(
                path, limit=STATE_LIMIT, what="discovery cache entry", private=True,
                follow_symlinks=False,
            )  # fmt: skip
            data = json.loads(raw.decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EntraAuthError) as exc:
            log.debug("discovery cache entry %s ignored: %s", path, exc)
            return None
        if not (
            isinstance(data, dict)
            and data.get("url") == url
            and isinstance(data.get("expires"), int | float)
            and isinstance(data.get("document"), str)
        ):
            return None
        if not now < data["expires"] <= now + DISCOVERY_TTL or not plausible(url, data["document"]):
            return None
        with _lock:
            _memory[url] = (data["document"], float(data["expires"]))
        return str(data["document"])

    def _store(self, url: str, text: str) -> None:
        expires = time.time() + DISCOVERY_TTL
        with _lock:
            _memory[url] = (text, expires)
        if not self._persist:
            return
        from .errors import EntraAuthError
        from .files import atomic_write_text, ensure_private_dir

        path = _file(url)
        try:
            ensure_private_dir(path.parent)
            payload = {"url": url, "expires": expires, "document": text}
            atomic_write_text(path, json.dumps(payload), what="discovery cache entry")
        except (OSError, EntraAuthError) as exc:
            log.debug("discovery cache entry %s not written: %s", path, exc)
