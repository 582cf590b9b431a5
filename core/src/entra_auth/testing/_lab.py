"""What the kits share: a running emulator, a ``DemoLab`` around it, and a recorder that watches
one sign-in (the emulator's request log, every socket connection, every log record).

Private to ``entra_auth.testing``; plugin authors use the kit classes.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import socket
import traceback
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..plugins import PluginHost, build_host

if TYPE_CHECKING:
    from ..credential import EntraCredential
    from ..demo import DemoLab

ENTRY_POINT_MISSING = ("unknown", "in-process")
"""Distributions that mean "not registered through an entry point"."""

_EMULATOR_KEY = pytest.StashKey[Any]()
_LOOPBACK_NAMES = ("localhost", "localhost.", "ip6-localhost")


class _LabFixtures:
    """Fixtures shared by the kits: a lab per test on one emulator per test session."""

    def plugin_host(self) -> PluginHost:
        """The plugin host the checks use: every installed entry point, as the CLI sees them.
        Override only to add in-process plugins (the entry-point check then fails, as it
        should for a plugin users could not install)."""
        return build_host()

    @pytest.fixture
    def lab(
        self,
        request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory,
        tmp_path: Path,
    ) -> Iterator[DemoLab]:
        """A ``DemoLab`` on the emulator, as ``entra-auth demo`` builds one: the emulator's CA
        goes through the ``Environment`` (``ca_bundle``), variables that would override it or
        send requests through a proxy are set aside, and every variable the lab or a demo step
        sets is restored afterwards."""
        from ..demo import DemoLab
        from ..environments import Environment

        conformance_emulator = session_emulator(request, tmp_path_factory)
        environment = Environment(
            "Emulator",
            authority_host=conformance_emulator.authority_host,
            graph_endpoint="https://graph.microsoft.com",
            ca_bundle=str(conformance_emulator.ca_bundle),
        )
        workdir = tmp_path / "lab"
        workdir.mkdir()
        lab = DemoLab(conformance_emulator, workdir, environment)
        try:
            lab.set_env("NO_PROXY", "127.0.0.1,localhost,::1")
            lab.unset_env("no_proxy")
            for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AZURE_AUTHORITY_HOST"):
                lab.unset_env(name)
            yield lab
        finally:
            lab.restore_env()


def session_emulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """The emulator the kits sign in against: the ``entra_emulator`` fixture of the emulator's
    pytest plugin when it is loaded, else one started here, once per test session."""
    try:
        return request.getfixturevalue("entra_emulator")
    except pytest.FixtureLookupError:
        pass
    running = request.config.stash.get(_EMULATOR_KEY, None)
    if running is None:
        from entra_auth_emulator import Emulator

        running = Emulator(state_dir=tmp_path_factory.mktemp("conformance-emulator")).start()
        request.config.stash[_EMULATOR_KEY] = running
        request.config.add_cleanup(running.stop)
    return running


def empty_config(folder: Path) -> Any:
    """A config with no profiles, so nothing of the user's is read."""
    from ..config import Config

    return Config(folder / "conformance-config.toml")


@dataclass
class Watch:
    """What one sign-in did: emulator requests, socket connections, log lines."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    """Every address a connection (or a name lookup) was attempted to, as text."""
    refused: list[str] = field(default_factory=list)
    """Addresses that were not loopback: recorded and refused, never reached."""
    logs: list[str] = field(default_factory=list)


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self._into = into

    def emit(self, record: logging.LogRecord) -> None:
        parts = [f"{record.name} {record.levelname}"]
        try:
            parts.append(record.getMessage())
        except Exception:  # a bad format string still shows its parts
            parts.append(f"{record.msg!r} % {record.args!r}")
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(record.exc_info[1])))
        if record.stack_info:
            parts.append(record.stack_info)
        self._into.append(" ".join(parts))


def is_loopback(host: object) -> bool:
    if host is None:
        return True  # getaddrinfo(None, …): the local host
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).strip("[]").lower()
    if text in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


@contextlib.contextmanager
def watched(emulator: Any) -> Iterator[Watch]:
    """Record what happens inside the block: the emulator's new request-log entries, every
    socket connection and name lookup (anything but loopback is refused with ``OSError``, so a
    check never reaches the internet), and every log record at DEBUG."""
    watch = Watch()
    before = len(emulator.requests())
    handler = _Collect(watch.logs)
    root = logging.getLogger()
    level = root.level
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create = socket.create_connection
    real_getaddrinfo = socket.getaddrinfo

    def note(address: Any) -> bool:
        if isinstance(address, str | bytes) and not isinstance(address, tuple):
            watch.addresses.append(f"unix:{address!r}")
            return True  # a local socket file
        host = address[0] if isinstance(address, tuple) and address else address
        port = address[1] if isinstance(address, tuple) and len(address) > 1 else ""
        text = f"{host}:{port}" if port != "" else str(host)
        watch.addresses.append(text)
        if is_loopback(host):
            return True
        watch.refused.append(text)
        return False

    def refuse(address: Any) -> OSError:
        return OSError(
            errno.ENETUNREACH,
            f"the entra-auth conformance kit lets a sign-in reach only loopback, not {address!r}",
        )

    def connect(self: socket.socket, address: Any) -> None:
        if not note(address):
            raise refuse(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not note(address):
            return errno.ENETUNREACH
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not is_loopback(address[0]):
            note(address)
            raise refuse(address)
        return real_create(address, *args, **kwargs)  # its connect() is recorded

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            note((host, args[0] if args else ""))
            raise socket.gaierror(socket.EAI_NONAME, f"refused by the conformance kit: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "create_connection", create_connection)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            yield watch
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
            watch.requests = list(emulator.requests()[before:])


def shown_texts(*objects: object) -> list[tuple[str, str]]:
    """(what, text) for the repr and str of each object, for leak checks."""
    texts: list[tuple[str, str]] = []
    for index, obj in enumerate(objects):
        name = f"{type(obj).__name__} #{index + 1}"
        for how, render in (("repr", repr), ("str", str)):
            try:
                texts.append((f"{how}({name})", render(obj)))
            except Exception as exc:  # a broken repr is reported, not fatal
                texts.append((f"{how}({name})", f"<{how} failed: {exc!r}>"))
    return texts


def error_texts(error: BaseException) -> list[tuple[str, str]]:
    """The error as a user could see it: its message, its repr, and every chained cause (the
    CLI's ``--debug`` prints the whole chain)."""
    texts: list[tuple[str, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        texts.append((f"str({name})", str(current)))
        texts.append((f"repr({name})", repr(current)))
        current = current.__cause__ or current.__context__
    texts.append(("the traceback", "".join(traceback.format_exception(error))))
    return texts


def numbered(values: Iterable[str]) -> list[tuple[str, str]]:
    """("secret #1", value)…: how leak messages name a secret without repeating it."""
    return [(f"secret #{n}", v) for n, v in enumerate((v for v in values if v), 1)]


def leaks(named: Iterable[tuple[str, str]], texts: Iterable[tuple[str, str]]) -> list[str]:
    """Where any of the (label, value) pairs' values appears; values are never repeated."""
    wanted = [(label, value) for label, value in named if value]
    found: list[str] = []
    for where, text in texts:
        for label, value in wanted:
            if value in text:
                found.append(f"{label} appears in {where}")
    return list(dict.fromkeys(found))


def set_environment(monkeypatch: pytest.MonkeyPatch, values: Mapping[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def close_quietly(credential: EntraCredential | None) -> None:
    if credential is None:
        return
    with contextlib.suppress(Exception):
        credential.close()
