"""The CurrentUser file cache: one 0600 file per entry, shared between credentials/processes."""

from __future__ import annotations

import logging
import stat
import time
from pathlib import Path

import pytest
from counting_source import CountingSource

from entra_auth import EntraContext
from entra_auth.credential import EntraCredential
from entra_auth.token_store import FileTokenStore, partition_key
from entra_auth.tokens import TokenResult

KEY = (("https://graph.microsoft.com/.default",), None)


def result(lifetime: int = 3600) -> TokenResult:
    return TokenResult("tok", int(time.time()) + lifetime, None, "Bearer")


def test_round_trip_and_private_files(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens", "p1")
    store.save(KEY, result())
    assert store.load(KEY) == result() or store.load(KEY).token == "tok"  # type: ignore[union-attr]
    [entry] = list((tmp_path / "tokens").iterdir())
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "tokens").stat().st_mode) == 0o700


def test_partitions_do_not_see_each_other(tmp_path: Path) -> None:
    FileTokenStore(tmp_path, "a").save(KEY, result())
    assert FileTokenStore(tmp_path, "b").load(KEY) is None


def test_expired_and_damaged_entries_are_misses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileTokenStore(tmp_path, "p")
    store.save(KEY, result(lifetime=-10))
    assert store.load(KEY) is None
    [entry] = list(tmp_path.glob("p-*.json"))
    entry.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        assert store.load(KEY) is None
    assert "damaged" in caplog.text


def test_clear_forgets_only_its_partition(tmp_path: Path) -> None:
    folder = tmp_path / "tokens"
    FileTokenStore(folder, "a").save(KEY, result())
    FileTokenStore(folder, "b").save(KEY, result())
    assert FileTokenStore(folder, "a").clear() == 1
    assert [p.name[:2] for p in folder.iterdir()] == ["b-"]


def test_unusable_folder_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "tokens"
    blocker.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING):
        FileTokenStore(blocker, "p").save(KEY, result())
    assert "cannot be written" in caplog.text and "will not persist" in caplog.text


def test_second_credential_reuses_the_stored_token_without_a_request(tmp_path: Path) -> None:
    store = FileTokenStore(
        tmp_path, partition_key("client-secret", "https://a", {"client_id": "x"})
    )
    first_source, second_source = CountingSource(), CountingSource()
    scopes = ("https://graph.microsoft.com/.default",)
    first = EntraCredential(
        first_source, context=EntraContext(), default_scopes=scopes, store=store
    )
    token = first.get_token().token
    created: list[int] = []

    def factory() -> CountingSource:
        created.append(1)
        return second_source

    second = EntraCredential(factory, context=EntraContext(), default_scopes=scopes, store=store)
    assert second.get_token().token == token
    assert second_source.calls == [] and created == []  # source never even built


def test_partition_key_ignores_option_order_and_objects() -> None:
    a = partition_key("p", "https://A/", {"x": "1", "y": "2", "obj": object()})
    b = partition_key("p", "https://a", {"y": "2", "x": "1"})
    assert a == b
