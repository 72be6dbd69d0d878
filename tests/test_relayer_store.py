"""The relayer's SQLite store: unique digests, forward-only statuses, and nothing lost across a reopen."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicdao.errors import CivicDAOError
from civicdao.relayer import DuplicateSubmissionError, Store, StoreError

DIGEST = "0x" + "ab" * 32
_names = itertools.count()
#: A factory of empty relayer databases of one engine: a new one per call, or the one ``name`` names again.
NewDb = Callable[..., str]


@pytest.fixture(params=["sqlite", "postgresql"])
def new_db(request: pytest.FixtureRequest, tmp_path: Path) -> NewDb:
    """The store's tests run on SQLite and on a real PostgreSQL server (the session's ``pg_server``)."""
    made: dict[str, str] = {}

    def new(name: str | None = None) -> str:
        key = name or f"db{next(_names)}"
        if key not in made:
            if request.param == "sqlite":
                made[key] = str(tmp_path / f"{key}.sqlite")
            else:
                server = request.getfixturevalue("pg_server")
                database = f"civicdao_relayer_{next(_names)}"
                server.psql(f"CREATE DATABASE {database};")
                made[key] = str(server.get_uri(database))
        return made[key]

    return new


def add(store: Store, digest: str = DIGEST, signer: str = "0xA", **extra: object) -> None:
    store.add(digest=digest, kind="ballot", signer=signer, payload={"x": 1}, subject="7", nonce=0, **extra)  # type: ignore[arg-type]


def test_add_same_digest_twice_is_refused(new_db: NewDb) -> None:
    store = Store(new_db())
    add(store)
    with pytest.raises(DuplicateSubmissionError) as caught:
        add(store, signer="0xB")
    assert caught.value.existing.signer == "0xA"
    assert isinstance(caught.value, CivicDAOError)
    assert store.counts()["accepted"] == 1


def test_an_add_that_replaces_supersedes_a_waiting_message_and_stores_the_new_one_at_once(
    new_db: NewDb,
) -> None:
    store = Store(new_db())
    add(store)
    new = "0x" + "cd" * 32

    def replace(old: str, digest: str) -> object:
        return store.add(
            digest=digest, kind="ballot", signer="0xA", payload={"x": 2}, subject="7", nonce=0, replaces=old
        )

    with pytest.raises(DuplicateSubmissionError):  # the new digest is known: nothing changes
        replace(DIGEST, DIGEST)
    assert store.get(DIGEST).status == "accepted"  # type: ignore[union-attr]
    replaced = replace(DIGEST, new)
    old = store.get(DIGEST)
    assert old is not None and old.status == "superseded" and new in (old.reason or "")
    assert replaced == store.get(new) and store.counts()["accepted"] == 1
    store.mark_submitted([new], "0x01")
    with pytest.raises(StoreError, match="no longer waiting"):  # being sent: it cannot be replaced
        replace(new, "0x" + "ef" * 32)
    assert store.get("0x" + "ef" * 32) is None and store.get(new).status == "submitted"  # type: ignore[union-attr]


def test_rows_survive_closing_and_reopening(new_db: NewDb) -> None:
    path = new_db("kept")
    first = Store(path)
    add(first)
    first.mark_submitted([DIGEST], "0xfeed")
    first.set_meta("gas_spent_wei", 12345)
    first.close()
    second = Store(path)
    row = second.get(DIGEST)
    assert row is not None and (row.status, row.tx_hash, row.attempts) == ("submitted", "0xfeed", 1)
    assert row.payload == {"x": 1} and row.nonce == 0 and row.subject == "7"
    assert second.get_meta("gas_spent_wei") == 12345


def test_statuses_only_move_forward(new_db: NewDb) -> None:
    store = Store(new_db())
    add(store)
    with pytest.raises(StoreError, match="cannot move from accepted to accepted"):
        store.mark_retry([DIGEST], "nope")
    store.mark_submitted([DIGEST], "0x01")
    store.mark_confirmed([DIGEST])
    for move in (
        lambda: store.mark_submitted([DIGEST], "0x02"),
        lambda: store.mark_dropped(DIGEST, "late"),
        lambda: store.mark_retry([DIGEST], "again"),
        lambda: store.mark_confirmed([DIGEST]),
    ):
        with pytest.raises(StoreError, match="from confirmed"):
            move()
    row = store.get(DIGEST)
    assert row is not None and (row.status, row.tx_hash) == ("confirmed", "0x01")


def test_a_failed_move_changes_no_row_of_the_batch(new_db: NewDb) -> None:
    store = Store(new_db())
    other = "0x" + "cd" * 32
    add(store)
    add(store, other)
    store.mark_dropped(other, "would revert")
    with pytest.raises(StoreError):
        store.mark_submitted([DIGEST, other], "0x01")
    assert store.get(DIGEST).status == "accepted"  # type: ignore[union-attr]


def test_retry_clears_the_tx_hash_and_keeps_the_attempt_count(new_db: NewDb) -> None:
    store = Store(new_db())
    add(store)
    store.mark_submitted([DIGEST], "0x01")
    store.mark_retry([DIGEST], "reverted once mined")
    row = store.get(DIGEST)
    assert row is not None and (row.status, row.tx_hash, row.attempts, row.reason) == (
        "accepted",
        None,
        1,
        "reverted once mined",
    )


def test_rate_window_counts_by_signer_and_time(new_db: NewDb) -> None:
    now = [1_000.0]
    store = Store(new_db(), clock=lambda: now[0])
    add(store, "0x" + "01" * 32, "0xA")
    now[0] = 1_100.0
    add(store, "0x" + "02" * 32, "0xA")
    add(store, "0x" + "03" * 32, "0xB")
    assert store.count_since("0xA", 1_050.0) == 1
    assert store.count_since("0xA", 0.0) == 2
    assert store.oldest_accepted_at() == 1_000.0


def test_unopenable_database_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open"):
        Store(tmp_path / "missing-dir" / "db.sqlite")


@settings(max_examples=60, deadline=None)
@given(moves=st.lists(st.sampled_from(["submit", "confirm", "supersede", "drop", "retry"]), max_size=8))
def test_any_sequence_of_moves_never_leaves_a_final_status(moves: list[str]) -> None:
    store = Store(":memory:")
    add(store)
    final = None
    for move in moves:
        with contextlib.suppress(StoreError):
            {
                "submit": lambda: store.mark_submitted([DIGEST], "0x01"),
                "confirm": lambda: store.mark_confirmed([DIGEST]),
                "drop": lambda: store.mark_dropped(DIGEST, "r"),
                "supersede": lambda: store.mark_superseded(DIGEST, "r"),
                "retry": lambda: store.mark_retry([DIGEST], "r"),
            }[move]()
        status = store.get(DIGEST).status  # type: ignore[union-attr]
        if final is not None:
            assert status == final
        if status in ("confirmed", "superseded", "dropped"):
            final = status


def test_a_database_from_before_superseded_is_migrated_with_its_rows(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY AUTOINCREMENT, digest TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('ballot', 'delegation', 'attestation')),
            signer TEXT NOT NULL, subject TEXT, nonce TEXT, payload TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('accepted', 'submitted', 'confirmed', 'dropped')),
            tx_hash TEXT, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL, updated_at REAL NOT NULL);
        INSERT INTO submissions
            (digest, kind, signer, subject, nonce, payload, status, created_at, updated_at)
            VALUES ('0xaa', 'delegation', '0xA', '0xB', '0', '{"x": 1}', 'accepted', 1.0, 1.0);
        """
    )
    old.close()
    store = Store(path)
    store.mark_superseded("0xaa", "nonce 0 was used by another signed delegation first")
    row = store.get("0xaa")
    assert row is not None and (row.status, row.payload) == ("superseded", {"x": 1})
    assert store.counts()["superseded"] == 1
    add(store)  # the new table takes new rows, and the indexes are back
    assert store.counts()["accepted"] == 1
    store.close()


def test_a_postgresql_store_says_where_it_is_without_the_password(pg_server: Any) -> None:
    database = f"civicdao_relayer_{next(_names)}"
    pg_server.psql(f"CREATE DATABASE {database};")
    store = Store(str(pg_server.get_uri(database)))
    assert store.dialect == "postgresql" and "@" not in store.display_name and database in store.display_name
    with pytest.raises(StoreError) as refused:
        Store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=1")
    assert "cannot connect to the relayer database postgresql://127.0.0.1:1/none" in str(refused.value)
    assert "secret" not in str(refused.value)
