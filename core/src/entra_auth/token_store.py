"""The ``CurrentUser`` token cache: tokens that outlive the process, shared between processes.

One small file per (connection, scopes) entry rather than one big file: a lookup reads one file
whatever the number of tenants, profiles and cached tokens (flat cost at 10,000+ entries), a
write replaces one file atomically, and a process always sees what another wrote last, with no
lock and no reload logic. Files are 0600 in a 0700 folder, and read as untrusted: a damaged or
suspicious entry is removed with one warning and the token fetched again.

A cache that cannot be used is reported loudly (a warning on every use), never skipped silently.

With ``token_cache_encryption = "keyring"`` each entry is sealed with AES-256-GCM under a random
256-bit key kept in the OS keyring (service ``entra-auth``, name ``token-cache-key``), the
entry's file name as associated data, so a copy of the files alone (a backup, a disk image) is
useless and an entry cannot be moved to another file name. A plaintext entry is never read
while encryption is on (it is removed), and a sealed entry is never read while it is off (a
miss, overwritten by the next save).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import math
import os
import stat
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import ConfigurationError, EntraAuthError, UsageError
from .files import STATE_LIMIT, atomic_write_text, check_folder, ensure_private_dir, read_trusted
from .tokens import TokenResult

if TYPE_CHECKING:
    from .providers import Option, ProviderSettings
    from .sign_in import SignInRequest

log = logging.getLogger("entra_auth.token_store")

FORMAT_VERSION = 1


def cache_folder() -> Path:
    """Where the ``CurrentUser`` token cache lives: ``$XDG_STATE_HOME/entra-auth/tokens``."""
    from . import paths

    return paths.state_dir() / "tokens"


def partition_key(provider: str, authority_host: str, options: Mapping[str, Any]) -> str:
    """A stable name for one connection's tokens: provider, authority and the options that say
    who signs in (secret references included, values never)."""
    material = json.dumps(
        {
            "provider": provider,
            "authority": authority_host.rstrip("/").lower(),
            "options": {k: str(v) for k, v in sorted(options.items()) if _plain(v)},
        },
        sort_keys=True,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _plain(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


class FileTokenStore:
    """A ``TokenStore`` (see ``credential.TokenStore``) backed by files under ``folder``.

    The folder must be the user's and not writable by group or others (else ``load`` refuses
    with a ``ConfigurationError`` naming the ``chmod``/``chown`` fix). An entry is read with
    ``files.read_trusted`` (private, no symbolic link, at most 1 MiB): one readable by others
    is set back to 0600 with a warning; one that is not a regular file, is a link, belongs to
    another user, is writable by others or is damaged (bad UTF-8, bad JSON, wrong types,
    impossible numbers) is removed with one warning line and the token is fetched again.
    """

    def __init__(self, folder: Path, partition: str, *, key: bytes | None = None) -> None:
        self.folder = Path(folder)
        self.partition = partition
        self._folder_checked = False
        self._aead: Any = None
        if key is not None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead = AESGCM(key)

    @property
    def encrypted(self) -> bool:
        """True when entries are sealed with a key (``token_cache_encryption``)."""
        return self._aead is not None

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.folder)!r}, partition={self.partition!r})"

    def _path(self, key: tuple[Any, ...]) -> Path:
        digest = hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:32]
        return self.folder / f"{self.partition}-{digest}.json"

    def _check_folder(self) -> bool:
        """False (with a warning) when the folder cannot be used at all; a ``ConfigurationError``
        when it could be used but others could plant tokens in it."""
        if self._folder_checked:
            return True
        try:
            info = os.stat(self.folder)
        except FileNotFoundError:
            return True
        except (OSError, ValueError) as exc:
            log.warning(
                "token cache %s cannot be read (%s); fetching a new token", self.folder, exc
            )
            return False
        if not stat.S_ISDIR(info.st_mode):
            log.warning(
                "token cache %s cannot be read (it is not a folder); fetching a new token",
                self.folder,
            )
            return False
        check_folder(self.folder, "the token cache")
        self._folder_checked = True
        return True

    def load(self, key: tuple[Any, ...]) -> TokenResult | None:
        path = self._path(key)
        if not self._check_folder():
            return None
        try:
            raw = read_trusted(
                path,
                limit=STATE_LIMIT,
                what="token cache entry",
                private=True,
                follow_symlinks=False,
                repair=True,
            )
        except FileNotFoundError:
            return None
        except EntraAuthError as exc:
            self._drop(path, str(exc))
            return None
        if self._aead is not None:
            try:
                opened = open_sealed_entry(self._aead, raw, path.name)
            except DamagedEntry as exc:
                self._drop(path, f"token cache entry {path} {exc}")
                return None
            if opened is None:
                # Written in plaintext: never read while encryption is on, and not left behind.
                with contextlib.suppress(OSError):
                    os.unlink(path)
                return None
            raw = opened
        try:
            result = parse_entry(raw)
        except DamagedEntry as exc:
            self._drop(path, f"token cache entry {path} is damaged ({exc})")
            return None
        if result is None or result.expires_on <= time.time():
            return None
        return result

    def _drop(self, path: Path, why: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("%s; it cannot be removed (%s): remove it by hand", why, exc.strerror)
            return
        log.warning("%s; removed it, a new token will be fetched", why)

    def save(self, key: tuple[Any, ...], result: TokenResult) -> None:
        path = self._path(key)
        payload = {
            "version": FORMAT_VERSION,
            "access_token": result.token,
            "expires_on": result.expires_on,
            "refresh_on": result.refresh_on,
            "token_type": result.token_type,
        }
        text = json.dumps(payload)
        if self._aead is not None:
            text = seal_entry(self._aead, text.encode(), path.name)
        try:
            ensure_private_dir(self.folder)
            check_folder(self.folder, "the token cache")
            atomic_write_text(path, text, what="token cache entry")
        except (OSError, EntraAuthError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            log.warning(
                "token cache %s cannot be written (%s): tokens will not persist between "
                "processes; fix the folder's permissions or use --context-scope Process",
                self.folder,
                reason,
            )

    def clear(self) -> int:
        """Forget every token of this partition; returns how many entries were removed."""
        removed = 0
        try:
            entries = list(self.folder.glob(f"{self.partition}-*.json"))
        except OSError:
            return 0
        for entry in entries:
            try:
                os.unlink(entry)
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("token cache entry %s cannot be removed (%s)", entry, exc.strerror)
        return removed


class DamagedEntry(ValueError):
    """A token cache entry that cannot be what ``save`` wrote."""


_MAX_TIME = 2**40  # year 36812: beyond it a number is damage, not a date


def parse_entry(raw: bytes) -> TokenResult | None:
    """The token an entry holds; None for another format version; ``DamagedEntry`` for
    anything ``save`` could not have written."""
    from .files import json_object

    try:
        data = json_object(raw)
    except ValueError as exc:
        raise DamagedEntry(str(exc)) from None
    if data.get("version") != FORMAT_VERSION:
        return None
    token = data.get("access_token")
    if not isinstance(token, str) or not token or not token.isascii() or not token.isprintable():
        raise DamagedEntry("access_token is not a token")
    token_type = data.get("token_type")
    if token_type is None:
        token_type = "Bearer"
    if not isinstance(token_type, str):
        raise DamagedEntry("token_type is not a string")
    refresh_on = data.get("refresh_on")
    return TokenResult(
        token=token,
        expires_on=_timestamp(data.get("expires_on"), "expires_on"),
        refresh_on=_timestamp(refresh_on, "refresh_on") if refresh_on else None,
        token_type=token_type,
    )


# -- encryption at rest (``token_cache_encryption``) ---------------------------------------

ENCRYPTION_OPTION = "token_cache_encryption"
"""A core option (profile key, ``connect(token_cache_encryption=...)``,
``--token-cache-encryption``): ``none`` (default) writes the ``CurrentUser`` cache in plaintext
0600 files; ``keyring`` seals each entry with a key kept in the OS keyring."""
ENCRYPTION_ENV = "ENTRA_AUTH_CACHE_ENCRYPTION"
"""The same choice for every connection that does not make it itself."""
ENCRYPTION_MODES = ("none", "keyring")
KEYRING_SERVICE = "entra-auth"
KEYRING_KEY_NAME = "token-cache-key"
SEALED_FORMAT = "AES-256-GCM"
_NONCE = 12


def check_encryption(value: object, where: str = ENCRYPTION_OPTION) -> str:
    text = str(value).strip().lower()
    if text not in ENCRYPTION_MODES:
        raise UsageError(f"{where} {value!r} is not one of {', '.join(ENCRYPTION_MODES)}")
    return text


def encryption_mode(options: Mapping[str, Any]) -> str:
    """``keyring`` or ``none``: the connection's option, else ``ENTRA_AUTH_CACHE_ENCRYPTION``."""
    value = options.get(ENCRYPTION_OPTION)
    if value is not None:
        return check_encryption(value)
    from_env = os.environ.get(ENCRYPTION_ENV, "").strip()
    return check_encryption(from_env, ENCRYPTION_ENV) if from_env else "none"


def usable_keyring() -> Any | None:
    """The ``keyring`` module when it has a backend that really stores secrets (not its
    fail or null backend, as on a headless server), else None."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return keyring


_NO_KEYRING = (
    "token_cache_encryption is 'keyring' but there is no usable OS keyring{why}; install "
    "'entra-auth[keyring]' with a backend (Secret Service, macOS Keychain, Windows Credential "
    'Locker), or keep the plaintext 0600 cache: token_cache_encryption = "none" (unset '
    f"{ENCRYPTION_ENV}), or --context-scope Process"
)


def keyring_cache_key() -> bytes:
    """The token cache key from the OS keyring, made (32 random bytes) the first time.
    ``ConfigurationError`` when there is no usable keyring or what it holds is not a key."""
    keyring = usable_keyring()
    if keyring is None:
        raise ConfigurationError(_NO_KEYRING.format(why=""))
    try:
        stored = keyring.get_password(KEYRING_SERVICE, KEYRING_KEY_NAME)
        if not stored:
            fresh = base64.b64encode(os.urandom(32)).decode("ascii")
            keyring.set_password(KEYRING_SERVICE, KEYRING_KEY_NAME, fresh)
            # Read back: when two processes make a key at once, both use the one that stayed.
            stored = keyring.get_password(KEYRING_SERVICE, KEYRING_KEY_NAME)
    except Exception as exc:
        raise ConfigurationError(
            _NO_KEYRING.format(why=f" (it failed: {type(exc).__name__}: {exc})")
        ) from None
    try:
        key = base64.b64decode(str(stored), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigurationError(
            f"the OS keyring entry {KEYRING_SERVICE}/{KEYRING_KEY_NAME} is not a token cache "
            f"key (32 bytes, base64); remove it (keyring del {KEYRING_SERVICE} "
            f"{KEYRING_KEY_NAME}) and a new one is made: cached tokens are then fetched again"
        )
    return key


def cache_key(options: Mapping[str, Any]) -> bytes | None:
    """The key the ``CurrentUser`` cache of a connection with these options is sealed with;
    None for plaintext."""
    return keyring_cache_key() if encryption_mode(options) == "keyring" else None


def seal_entry(aead: Any, payload: bytes, name: str) -> str:
    """An entry's text: the payload sealed with AES-256-GCM, ``name`` as associated data."""
    nonce = os.urandom(_NONCE)
    sealed = nonce + aead.encrypt(nonce, payload, name.encode())
    return json.dumps(
        {
            "sealed": SEALED_FORMAT,
            "key": f"keyring:{KEYRING_SERVICE}/{KEYRING_KEY_NAME}",
            "data": base64.b64encode(sealed).decode("ascii"),
        }
    )


def open_sealed_entry(aead: Any, raw: bytes, name: str) -> bytes | None:
    """The payload of a sealed entry; None for a plaintext one; ``DamagedEntry`` for one that
    cannot be opened with this key under this name."""
    from cryptography.exceptions import InvalidTag

    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError):
        raise DamagedEntry("is damaged (not JSON)") from None
    if not isinstance(data, dict):
        raise DamagedEntry("is damaged (not a JSON object)")
    if "sealed" not in data:
        return None
    try:
        if data["sealed"] != SEALED_FORMAT or not isinstance(data.get("data"), str):
            raise ValueError
        sealed = base64.b64decode(data["data"], validate=True)
        if len(sealed) <= _NONCE:
            raise ValueError
        payload: bytes = aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], name.encode())
    except (InvalidTag, ValueError):
        raise DamagedEntry(
            f"cannot be decrypted with the key in the OS keyring ({KEYRING_SERVICE}/"
            f"{KEYRING_KEY_NAME} was replaced or removed, or the entry was altered or moved)"
        ) from None
    return payload


def _timestamp(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DamagedEntry(f"{name} is not a number")
    if not (isinstance(value, int) or math.isfinite(value)) or not 0 <= value < _MAX_TIME:
        raise DamagedEntry(f"{name} is out of range")
    return int(value)


# -- shared token caches (a plugin's backend, selected by the ``token_cache`` URL) ----------

TOKEN_CACHE_OPTION = "token_cache"
"""A core option (profile key, ``connect(token_cache=URL)``, ``--token-cache``): the URL of a
shared token cache a plugin backend serves (``redis://host:6379/0``)."""
TOKEN_CACHE_FALLBACK_OPTION = "token_cache_fallback"
"""``local`` (default): when the shared cache cannot be reached, warn once and use the local
cache; ``fail``: fail the sign-in instead."""
FALLBACK_MODES = ("local", "fail")
RETRY_SHARED_AFTER = 30.0
"""Seconds a shared cache that failed is left alone before it is tried again."""


class TokenCacheBackend(Protocol):
    """What ``entra_auth_register_token_caches`` registers (see ``hookspecs``)."""

    name: str
    schemes: tuple[str, ...]
    options: tuple[Option, ...]

    def open(self, url: str, settings: ProviderSettings, partition: str) -> Any: ...


def url_scheme(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    return scheme.lower() if sep else ""


def check_fallback(value: object) -> str:
    text = str(value).strip().lower()
    if text not in FALLBACK_MODES:
        raise UsageError(
            f"{TOKEN_CACHE_FALLBACK_OPTION} {value!r} is not one of {', '.join(FALLBACK_MODES)}"
        )
    return text


class SharedTokenStore:
    """A shared cache (a plugin's store) in front of the local one (or none, for ``Process``).

    Tokens are saved to both, read from the shared one first. When the shared one raises
    ``OSError`` (its engine is down or unreachable), one warning line is written and the local
    cache serves for ``RETRY_SHARED_AFTER`` seconds; with ``fail=True`` the sign-in fails."""

    def __init__(self, shared: Any, local: Any | None, *, url: str, fail: bool = False) -> None:
        self.shared = shared
        self.local = local
        self.url = url
        self.fail = fail
        self._down_until = 0.0
        self._warned = False

    def __repr__(self) -> str:
        return f"SharedTokenStore({self.url!r}, local={self.local!r})"

    def _usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def _down(self, exc: BaseException) -> None:
        if self.fail:
            from .errors import AuthenticationError

            raise AuthenticationError(
                f"the token cache {self.url} cannot be used ({exc}); token_cache_fallback is "
                "'fail' (set it to 'local' to carry on with the local cache)",
                error="token_cache_unavailable",
            ) from None
        self._down_until = time.monotonic() + RETRY_SHARED_AFTER
        if not self._warned:
            self._warned = True
            log.warning(
                "token cache %s cannot be used (%s); using the local cache instead", self.url, exc
            )

    def load(self, key: tuple[Any, ...]) -> TokenResult | None:
        if self._usable():
            try:
                found: TokenResult | None = self.shared.load(key)
                return found
            except OSError as exc:
                self._down(exc)
        return self.local.load(key) if self.local is not None else None

    def save(self, key: tuple[Any, ...], result: TokenResult) -> None:
        if self._usable():
            try:
                self.shared.save(key, result)
            except OSError as exc:
                self._down(exc)
        if self.local is not None:
            self.local.save(key, result)

    @contextlib.contextmanager
    def lock(self, key: tuple[Any, ...]) -> Iterator[None]:
        """The shared store's lock for ``key`` (held while one process fetches the token);
        no lock when the shared store has none or cannot be reached."""
        take = getattr(self.shared, "lock", None)
        if take is None or not self._usable():
            yield
            return
        held = None
        try:
            held = take(key)
            held.__enter__()
        except OSError as exc:
            held = None
            self._down(exc)
        try:
            yield
        finally:
            if held is not None:
                try:
                    held.__exit__(None, None, None)
                except OSError as exc:
                    self._down(exc)


def open_shared_store(request: SignInRequest, local: Any | None) -> SharedTokenStore | None:
    """The shared store the request's ``token_cache`` URL names (None when unset)."""
    url = request.options.get(TOKEN_CACHE_OPTION)
    if not url:
        return None
    from .plugins import get_host, guarded

    host = request.host or get_host()
    plugin, backend = host.token_cache_backend(str(url))
    fallback = check_fallback(request.options.get(TOKEN_CACHE_FALLBACK_OPTION) or "local")
    with guarded(host.origin_of(plugin), "the token cache's open"):
        shared = backend.open(str(url), request.settings(), request.partition)
    return SharedTokenStore(shared, local, url=str(url), fail=fallback == "fail")
