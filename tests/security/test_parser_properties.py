"""Property-based tests (hypothesis) for the parsers of untrusted files and references this
suite's files feed (issue 14 item 10): whatever the bytes or values, each parser returns a
result or raises ``EntraAuthError`` (its own ``DamagedEntry``/``ValueError`` for the two state
parsers, which their callers turn into a warning or a one-line error); nothing else escapes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entra_auth import EntraAuthError
from entra_auth.config import parse_config, read_toml
from entra_auth.token_store import DamagedEntry, FileTokenStore, parse_entry
from entra_auth_cli.state import parse_connection

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
entry_like = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 1, 2, "1", None])},
    optional={
        "access_token": json_values,
        "expires_on": json_values | st.integers(min_value=-(2**80), max_value=2**80),
        "refresh_on": json_values,
        "token_type": json_values,
    },
)


def _json_bytes(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


@SETTINGS
@given(st.binary(max_size=400) | entry_like.map(_json_bytes) | json_values.map(_json_bytes))
def test_token_cache_entries_parse_or_are_damaged(raw: bytes) -> None:
    try:
        result = parse_entry(raw)
    except DamagedEntry:
        return
    if result is not None:
        assert isinstance(result.token, str) and result.token
        assert isinstance(result.expires_on, int) and 0 <= result.expires_on < 2**40


@SETTINGS
@given(st.binary(max_size=400) | entry_like.map(_json_bytes))
def test_a_token_cache_file_of_any_bytes_is_a_hit_or_a_miss(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = FileTokenStore(Path(folder), "p")
        key = (("https://graph.microsoft.com/.default",), None)
        path = store._path(key)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, raw)
        os.close(fd)
        store.load(key)  # a TokenResult or None; a damaged entry is removed


connection_like = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 0, "1"])},
    optional={
        name: json_values
        for name in (
            "provider",
            "options",
            "environment",
            "context_scope",
            "context",
            "profile",
            "kept_in_keyring",
            "partition",
            "connected_at",
        )
    },
)


@SETTINGS
@given(st.binary(max_size=400) | connection_like.map(_json_bytes))
def test_connection_files_parse_or_say_what_is_wrong(raw: bytes) -> None:
    try:
        saved = parse_connection(raw)
    except ValueError as exc:
        assert str(exc)
        return
    assert isinstance(saved.provider, str) and isinstance(saved.options, dict)
    saved.describe()  # what disconnect and context print works on anything accepted


toml_keys = st.sampled_from(
    ["provider", "client_id", "tenant_id", "environment", "context_scope", "client_secret", "x"]
)
profile_tables = st.dictionaries(toml_keys, json_values, max_size=5)
config_like = st.fixed_dictionaries(
    {},
    optional={
        "default_profile": json_values,
        "profiles": st.dictionaries(st.text(max_size=8), profile_tables, max_size=3) | json_values,
        "environments": st.dictionaries(
            st.text(max_size=8),
            st.dictionaries(
                st.sampled_from(["authority_host", "graph_endpoint", "ca_bundle", "y"]),
                json_values | st.just("https://login.lab.example"),
                max_size=3,
            ),
            max_size=2,
        )
        | json_values,
    },
)


@SETTINGS
@given(config_like)
def test_toml_profiles_of_any_shape_load_or_are_refused(data: dict[str, Any]) -> None:
    try:
        config = parse_config(data, Path("/nonexistent/config.toml"))
    except EntraAuthError as exc:
        assert "config.toml" in str(exc)
        return
    for name in config.profiles:
        assert isinstance(config.profile(name).provider, str)


@SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_config_files_of_any_bytes_load_or_are_refused(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, raw)
        os.close(fd)
        try:
            parse_config(read_toml(path), path)
        except EntraAuthError as exc:
            assert str(path) in str(exc)


@SETTINGS
@given(st.text(max_size=60))
def test_secret_references_resolve_or_are_refused(text: str) -> None:
    """Built-in schemes on any text (``prompt`` and ``stdin`` left out: they read the
    terminal)."""
    from entra_auth.plugins import get_host

    if text.strip() in ("prompt", "stdin") or text.lower().startswith(("prompt", "stdin")):
        return
    try:
        value = get_host().resolve_secret(text)
    except EntraAuthError:
        return
    assert isinstance(value, str) and value


@SETTINGS
@given(st.text(min_size=1, max_size=40))
def test_file_references_to_any_path_resolve_or_are_refused(name: str) -> None:
    from entra_auth.plugins import get_host

    with contextlib.suppress(EntraAuthError):
        get_host().resolve_secret(f"file:{name}")
