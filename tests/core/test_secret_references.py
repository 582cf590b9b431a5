"""Core's secret reference schemes and the refusal of literal secrets."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from entra_auth import Secret, SecretReferenceError, UsageError, connect
from entra_auth.plugins import build_host
from entra_auth.secret_references import is_scheme_name, looks_like_reference

SECRET = "s3cr3t-Value_from.somewhere~1"


def resolve(reference: str) -> str:
    return build_host().resolve_secret(reference)


def test_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_SECRET", SECRET)
    assert resolve("env:APP_SECRET") == SECRET


def test_env_reference_to_unset_variable_names_the_variable_only() -> None:
    with pytest.raises(SecretReferenceError, match=r"APP_SECRET .* is not set"):
        resolve("env:APP_SECRET")


def test_file_reference_strips_the_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    path.chmod(0o600)
    assert resolve(f"file:{path}") == SECRET


def test_file_reference_refuses_a_group_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET)
    path.chmod(0o640)
    with pytest.raises(SecretReferenceError) as caught:
        resolve(f"file:{path}")
    assert "chmod 600" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SecretReferenceError, match="does not exist"):
        resolve(f"file:{tmp_path / 'nope'}")


def test_stdin_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    from entra_auth import secret_references

    monkeypatch.setattr(secret_references, "_stdin_value", None)
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    assert resolve("stdin") == SECRET
    assert resolve("stdin") == SECRET  # read once, reused


def test_prompt_without_a_terminal_says_what_to_use_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(SecretReferenceError, match="needs a terminal"):
        resolve("prompt")


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(SecretReferenceError, match="scheme 'vault'"):
        resolve("vault:prod/app")


@pytest.mark.parametrize("literal", [SECRET, "abc~def", "hunter2"])
def test_literal_secret_is_refused_without_echoing_it(literal: str) -> None:
    with pytest.raises(UsageError) as caught:
        connect(
            "client-secret",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            client_secret=literal,
        )
    message = str(caught.value)
    assert literal not in message
    assert "--client-secret env:AZURE_CLIENT_SECRET" in message


def test_secret_object_never_shows_its_value() -> None:
    wrapped = Secret(SECRET)
    assert SECRET not in repr(wrapped) and SECRET not in str(wrapped)
    assert wrapped.get_secret_value() == SECRET


def test_missing_required_option_is_named_before_any_request() -> None:
    os.environ.pop("X", None)
    with pytest.raises(UsageError, match="needs --client-id"):
        connect("client-secret", tenant_id="contoso.example", client_secret="env:X")


def test_undeclared_option_lists_the_declared_ones() -> None:
    with pytest.raises(UsageError) as caught:
        connect(
            "client-secret",
            client_id="22222222-2222-2222-2222-222222222222",
            tenant_id="contoso.example",
            client_secret="env:X",
            certificate_thumbprint="AB",
        )
    assert "does not take --certificate-thumbprint" in str(caught.value)
    assert "--client-id, --tenant-id, --client-secret" in str(caught.value)


class MemoryKeyring:
    """An in-memory keyring backend: the OS keyring is the boundary faked here."""

    priority = 1

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    import keyring
    from keyring.backend import KeyringBackend

    backend_cls = type("TestKeyring", (MemoryKeyring, KeyringBackend), {})
    backend = backend_cls()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_keyring_reference(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("entra-auth", "contoso", SECRET)
    assert resolve("keyring:entra-auth/contoso") == SECRET


def test_keyring_reference_to_missing_entry_says_how_to_store_it(
    memory_keyring: MemoryKeyring,
) -> None:
    with pytest.raises(SecretReferenceError, match="keyring set entra-auth contoso"):
        resolve("keyring:entra-auth/contoso")


def test_keyring_reference_needs_service_and_name() -> None:
    with pytest.raises(SecretReferenceError, match="SERVICE/NAME"):
        resolve("keyring:justone")


_RFC3986_SCHEME = r"[A-Za-z][A-Za-z0-9+.-]*"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZz09+.-:_ /\u212a\u017f\u00e9\n"), max_size=8))
@example("env:NAME")
@example("\u212a:x")  # the Kelvin sign lower-cases to an ASCII k: not a scheme
@example("\u017f:x")  # a case-insensitive regex matched this long s for an s
@example("prompt")
def test_a_reference_shape_is_an_rfc3986_scheme_and_a_colon(text: str) -> None:
    expected = text in ("prompt", "stdin") or re.match(_RFC3986_SCHEME + ":", text) is not None
    assert looks_like_reference(text) is expected
    name = text.partition(":")[0]
    assert is_scheme_name(name) is (re.fullmatch(_RFC3986_SCHEME, name) is not None)
