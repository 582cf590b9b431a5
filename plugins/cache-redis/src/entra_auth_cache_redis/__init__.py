"""entra-auth plugin: a fleet-wide token cache on Redis (``--token-cache redis://HOST:PORT/DB``).

Tokens are stored under the connection's cache partition, encrypted with AES-256-GCM, and
expire in Redis with the token. A miss takes a per-entry Redis lock with a TTL, so one process
of the fleet fetches the token and the others read it (a dead holder blocks nobody longer than
the TTL). Every Redis failure surfaces as ``OSError`` (``ConnectionError``), which core turns
into one warning and a fallback to the local cache (or a failure with
``token_cache_fallback=fail``). redis-py and cryptography load only when a cache is opened.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from entra_auth import ConfigurationError, Option, TokenResult, UsageError, hookimpl

if TYPE_CHECKING:
    import redis

    from entra_auth import ProviderSettings

__all__ = ["RedisTokenCache", "RedisTokenStore"]

KEY_PREFIX = "entra-auth:v1"
FORMAT_VERSION = 1
DEFAULT_TIMEOUT = 2.0
DEFAULT_LOCK_TTL = 30
LOCK_POLL = 0.02
"""Seconds between attempts to take a lock another process holds."""
_MAX_VALUE = 64 * 1024
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def _positive_float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"redis_timeout must be a number of seconds, got {value!r}") from None
    if not math.isfinite(number) or not 0 < number <= 300:
        raise UsageError(f"redis_timeout must be between 0 and 300 seconds, got {value!r}")
    return number


def _lock_ttl(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3600:
        raise UsageError(f"redis_lock_ttl must be 1 to 3600 seconds, got {value!r}")
    return value


class RedisTokenCache:
    """The backend core selects for ``redis://`` and ``rediss://`` token cache URLs."""

    name = "redis"
    schemes = ("redis", "rediss")
    summary = "Tokens shared by every process and host through Redis (AES-GCM encrypted)."
    options = (
        Option(
            "redis_encryption_key",
            "Secret reference to the key material tokens are encrypted with (required; the "
            "same for every process sharing the cache).",
            secret=True,
        ),
        Option("redis_password", "Secret reference to the Redis password.", secret=True),
        Option("redis_username", "Redis ACL user name."),
        Option("redis_ca_bundle", "CA bundle (PEM) for rediss:// servers.", type="path"),
        Option(
            "redis_timeout",
            "Seconds for connecting and for each Redis command (default 2).",
            check=_positive_float,
        ),
        Option(
            "redis_lock_ttl",
            "Seconds a fetch lock is held at most (default 30).",
            type="int",
            check=_lock_ttl,
        ),
    )

    def open(self, url: str, settings: ProviderSettings, partition: str) -> RedisTokenStore:
        parts = urlsplit(url)
        if parts.password is not None:
            raise UsageError(
                "the token cache URL must not hold a password; give it by reference: "
                "--option redis_password=env:NAME"
            )
        if parts.scheme not in self.schemes or not parts.hostname:
            raise UsageError(f"token cache URL {url!r} is not redis://HOST[:PORT][/DB]")
        key_material = settings.secret("redis_encryption_key")
        if not key_material:
            raise UsageError(
                "the Redis token cache encrypts tokens: give the key by reference with "
                "--option redis_encryption_key=env:NAME (or file:, keyring:)"
            )
        timeout = _positive_float(settings.get("redis_timeout", DEFAULT_TIMEOUT))
        lock_ttl = _lock_ttl(int(settings.get("redis_lock_ttl", DEFAULT_LOCK_TTL)))
        return RedisTokenStore(
            url=url,
            partition=partition,
            key=derive_key(key_material),
            password=settings.secret("redis_password"),
            username=settings.get("redis_username") or parts.username or None,
            ca_bundle=settings.get("redis_ca_bundle"),
            timeout=timeout,
            lock_ttl=lock_ttl,
        )


def derive_key(material: str) -> bytes:
    """A 256-bit AES key from the secret (HKDF-SHA256; any length of secret works)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"entra-auth-cache-redis", info=b"v1 tokens"
    ).derive(material.encode())


class RedisTokenStore:
    """A token store (``load``, ``save``, ``lock``) on one Redis database for one partition."""

    def __init__(
        self,
        *,
        url: str,
        partition: str,
        key: bytes,
        password: str | None = None,
        username: str | None = None,
        ca_bundle: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        lock_ttl: int = DEFAULT_LOCK_TTL,
    ) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.url = url
        self.partition = partition
        self.lock_ttl = lock_ttl
        self.timeout = timeout
        self._aead = AESGCM(key)
        self._client = _client(url, password, username, ca_bundle, timeout)

    def __repr__(self) -> str:
        return f"RedisTokenStore({self.url!r}, partition={self.partition!r})"

    def entry_key(self, key: tuple[Any, ...]) -> str:
        digest = hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:32]
        return f"{KEY_PREFIX}:token:{self.partition}:{digest}"

    def load(self, key: tuple[Any, ...]) -> TokenResult | None:
        name = self.entry_key(key)
        with _redis_errors(self.url):
            raw = self._client.get(name)
        if raw is None:
            return None
        result = self._decrypt(name, raw if isinstance(raw, bytes) else str(raw).encode())
        if result is None or result.expires_on <= time.time():
            return None
        return result

    def save(self, key: tuple[Any, ...], result: TokenResult) -> None:
        name = self.entry_key(key)
        if result.expires_on <= time.time():
            return
        payload = json.dumps(
            {
                "version": FORMAT_VERSION,
                "access_token": result.token,
                "expires_on": result.expires_on,
                "refresh_on": result.refresh_on,
                "token_type": result.token_type,
            }
        ).encode()
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, payload, name.encode())
        with _redis_errors(self.url):
            # The entry goes when the token does.
            self._client.set(name, sealed, exat=int(result.expires_on))

    def _decrypt(self, name: str, raw: bytes) -> TokenResult | None:
        """The entry's token; None (and the entry deleted) for anything this store could not
        have written with this key: a wrong key, a moved or altered value."""
        from cryptography.exceptions import InvalidTag

        try:
            if len(raw) > _MAX_VALUE or len(raw) < 13:
                raise ValueError("wrong size")
            payload = self._aead.decrypt(raw[:12], raw[12:], name.encode())
            data = json.loads(payload)
            if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
                raise ValueError("unknown format")
            token = data["access_token"]
            expires_on = data["expires_on"]
            refresh_on = data.get("refresh_on")
            if not isinstance(token, str) or not token or not isinstance(expires_on, int):
                raise ValueError("wrong types")
            return TokenResult(
                token=token,
                expires_on=expires_on,
                refresh_on=int(refresh_on) if isinstance(refresh_on, int) else None,
                token_type=str(data.get("token_type") or "Bearer"),
            )
        except (InvalidTag, ValueError, KeyError):
            import logging

            logging.getLogger("entra_auth_cache_redis").warning(
                "token cache %s: entry %s cannot be decrypted with this key (another key, or "
                "altered); it is ignored and a new token will be fetched",
                self.url,
                name,
            )
            return None

    @contextlib.contextmanager
    def lock(self, key: tuple[Any, ...]) -> Iterator[None]:
        """Hold the fetch lock for ``key``: ``SET NX PX`` with a random owner token, waiting
        while another process holds it (at most its TTL, as a dead holder's lock expires),
        released only by its owner."""
        name = f"{KEY_PREFIX}:lock:{self.partition}:{self.entry_key(key).rsplit(':', 1)[1]}"
        owner = base64.urlsafe_b64encode(os.urandom(18)).decode()
        deadline = time.monotonic() + self.lock_ttl + self.timeout
        with _redis_errors(self.url):
            while not self._client.set(name, owner, nx=True, px=self.lock_ttl * 1000):
                if time.monotonic() >= deadline:
                    # The holder keeps renewing nothing: its TTL has passed; take over.
                    self._client.set(name, owner, px=self.lock_ttl * 1000)
                    break
                time.sleep(LOCK_POLL)
        try:
            yield
        finally:
            with _redis_errors(self.url):
                self._client.eval(_RELEASE, 1, name, owner)

    def close(self) -> None:
        self._client.close()


def _client(
    url: str,
    password: str | None,
    username: str | None,
    ca_bundle: str | None,
    timeout: float,
) -> redis.Redis:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    kwargs: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 0,
    }
    if password is not None:
        kwargs["password"] = password
    if username:
        kwargs["username"] = username
    if url.lower().startswith("rediss://") and ca_bundle:
        if not os.path.isfile(ca_bundle):
            raise ConfigurationError(f"redis_ca_bundle {ca_bundle} is not a readable file")
        kwargs["ssl_ca_certs"] = ca_bundle
    try:
        return redis.Redis.from_url(url, **kwargs)
    except ValueError as exc:
        raise UsageError(f"token cache URL {url!r} is not valid: {exc}") from None


@contextlib.contextmanager
def _redis_errors(url: str) -> Iterator[None]:
    """Redis failures as ``ConnectionError`` (an ``OSError``: core falls back on it); an
    authentication refusal is configuration, reported as such."""
    import redis

    try:
        yield
    except redis.exceptions.AuthenticationError as exc:
        raise ConfigurationError(
            f"the token cache {url} refused the credentials ({exc}); check redis_username "
            "and the secret redis_password names"
        ) from None
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        raise ConnectionError(f"Redis at {_where(url)} cannot be reached: {exc}") from None
    except redis.exceptions.RedisError as exc:
        raise ConnectionError(f"Redis at {_where(url)} failed: {exc}") from None


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"


@hookimpl
def entra_auth_register_token_caches(register: Any) -> None:
    register(RedisTokenCache())
