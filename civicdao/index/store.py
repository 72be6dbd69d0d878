"""Where the index keeps what it read: embedded SQLite by default, PostgreSQL by URL, one schema.

Tables (the same on both engines):

``meta``   — ``key``/``value`` pairs: the chain id, the deployment's fingerprint, the sync cursor.
``blocks`` — ``number``, ``hash``, ``timestamp`` of every block the index holds events of, plus each
             range's last block: what a reorg check compares with the chain.
``events`` — one row per log: ``block_number``, ``log_index``, ``tx_hash``, ``contract`` (artifact name),
             ``address``, ``event`` (name), ``ref`` (the event's first ``…Id`` argument, as text) and
             ``args`` (every decoded argument as a JSON object; integers as decimal strings).

For ad-hoc SQL, :meth:`Store.create_views` adds one view per ABI event, ``ev_<Contract>_<Event>``, with a
column per argument (as text).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from civicdao.index.errors import IndexStoreError

__all__ = ["BlockRow", "EventRow", "Store"]

Dialect = Literal["sqlite", "postgresql"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS blocks ("
    " number BIGINT PRIMARY KEY, hash TEXT NOT NULL, timestamp BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events ("
    " block_number BIGINT NOT NULL, log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL,"
    " contract TEXT NOT NULL, address TEXT NOT NULL, event TEXT NOT NULL, ref TEXT, args TEXT NOT NULL,"
    " PRIMARY KEY (block_number, log_index))",
    "CREATE INDEX IF NOT EXISTS events_by_name ON events (contract, event, block_number, log_index)",
    "CREATE INDEX IF NOT EXISTS events_by_ref ON events (contract, ref)",
)


@dataclass(frozen=True)
class EventRow:
    """One indexed log with its decoded arguments."""

    block_number: int
    log_index: int
    tx_hash: str
    contract: str
    address: str
    event: str
    ref: str | None
    args: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "block": self.block_number,
            "logIndex": self.log_index,
            "txHash": self.tx_hash,
            "contract": self.contract,
            "address": self.address,
            "event": self.event,
            "args": dict(self.args),
        }


@dataclass(frozen=True)
class BlockRow:
    number: int
    hash: str
    timestamp: int


class Store:
    """The index's database. ``Store("index.sqlite")`` or ``Store("postgresql://user@host/db")``.

    Thread-safe for one writer (a lock serialises use of the single connection).
    """

    def __init__(self, url: str | Path) -> None:
        text = str(url)
        self.url = text
        self._lock = threading.RLock()
        self._in_transaction = False
        self.dialect: Dialect
        if text.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgresql"
            self._conn: Any = _connect_postgres(text)
        else:
            self.dialect = "sqlite"
            path = text.removeprefix("sqlite:///").removeprefix("sqlite://")
            try:
                if path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            except (sqlite3.Error, OSError) as exc:
                raise IndexStoreError(f"cannot open the index database {path}: {exc}") from None
        with self.transaction():
            for statement in _SCHEMA:
                self._execute(statement)

    # -- plumbing ----------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {self.dialect} {self.url}>"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all."""
        with self._lock:
            if self._in_transaction:
                raise IndexStoreError("index transactions do not nest")
            if self.dialect == "sqlite":
                self._conn.execute("BEGIN")
            self._in_transaction = True
            try:
                yield
            except BaseException:
                self._conn.rollback() if self.dialect == "postgresql" else self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.commit() if self.dialect == "postgresql" else self._conn.execute("COMMIT")
            finally:
                self._in_transaction = False

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.dialect == "postgresql" else statement

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        try:
            cursor = self._conn.cursor()
            cursor.execute(self._sql(statement), tuple(params))
            return cursor
        except Exception as exc:
            if _is_db_error(exc):
                raise IndexStoreError(f"index database error ({self.dialect}): {exc}") from None
            raise

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            rows: list[tuple[Any, ...]] = self._execute(statement, params).fetchall()
            if self.dialect == "postgresql" and not self._in_transaction:
                self._conn.commit()  # end the read transaction: another process's writes become visible
            return rows

    def _execute_many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        try:
            self._conn.cursor().executemany(self._sql(statement), batch)
        except Exception as exc:
            if _is_db_error(exc):
                raise IndexStoreError(f"index database error ({self.dialect}): {exc}") from None
            raise

    # -- meta --------------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Set one value (call inside :meth:`transaction`)."""
        self._execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- writing -----------------------------------------------------------------------------------------

    def add_blocks(self, blocks: Iterable[BlockRow]) -> None:
        """Record block hashes (call inside :meth:`transaction`)."""
        self._execute_many(
            "INSERT INTO blocks (number, hash, timestamp) VALUES (?, ?, ?) "
            "ON CONFLICT (number) DO UPDATE SET hash = excluded.hash, timestamp = excluded.timestamp",
            ((b.number, b.hash, b.timestamp) for b in blocks),
        )

    def add_events(self, events: Iterable[EventRow]) -> None:
        """Record decoded events (call inside :meth:`transaction`); a row already there is kept."""
        self._execute_many(
            "INSERT INTO events (block_number, log_index, tx_hash, contract, address, event, ref, args) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (block_number, log_index) DO NOTHING",
            (
                (
                    e.block_number,
                    e.log_index,
                    e.tx_hash,
                    e.contract,
                    e.address,
                    e.event,
                    e.ref,
                    json.dumps(e.args, separators=(",", ":")),
                )
                for e in events
            ),
        )

    def delete_after(self, block: int) -> int:
        """Forget every event and block hash after ``block`` (call inside :meth:`transaction`)."""
        cursor = self._execute("DELETE FROM events WHERE block_number > ?", (block,))
        self._execute("DELETE FROM blocks WHERE number > ?", (block,))
        return int(cursor.rowcount or 0)

    # -- reading -----------------------------------------------------------------------------------------

    def blocks_descending(self, *, at_most: int, limit: int) -> list[BlockRow]:
        rows = self._query(
            "SELECT number, hash, timestamp FROM blocks WHERE number <= ? ORDER BY number DESC LIMIT ?",
            (at_most, limit),
        )
        return [BlockRow(int(n), str(h), int(t)) for n, h, t in rows]

    def block(self, number: int) -> BlockRow | None:
        rows = self._query("SELECT number, hash, timestamp FROM blocks WHERE number = ?", (number,))
        return BlockRow(int(rows[0][0]), str(rows[0][1]), int(rows[0][2])) if rows else None

    def timestamps(self) -> dict[int, int]:
        return {int(n): int(t) for n, t in self._query("SELECT number, timestamp FROM blocks")}

    def events(
        self,
        contract: str | None = None,
        names: Sequence[str] = (),
        *,
        ref: str | int | None = None,
        from_block: int | None = None,
    ) -> list[EventRow]:
        """Events in chain order, filtered by contract, event names, ``ref`` and first block."""
        clauses: list[str] = []
        params: list[Any] = []
        if contract is not None:
            clauses.append("contract = ?")
            params.append(contract)
        if names:
            clauses.append(f"event IN ({', '.join('?' for _ in names)})")
            params.extend(names)
        if ref is not None:
            clauses.append("ref = ?")
            params.append(str(ref))
        if from_block is not None:
            clauses.append("block_number >= ?")
            params.append(from_block)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        columns = "block_number, log_index, tx_hash, contract, address, event, ref, args"
        statement = f"SELECT {columns} FROM events{where} ORDER BY block_number, log_index"  # noqa: S608
        rows = self._query(statement, params)  # the clauses are fixed text; the values are parameters
        decoded = json.loads("[" + ",".join(str(row[7]) for row in rows) + "]")  # one parse, not one per row
        return [
            EventRow(int(b), int(i), str(t), str(c), str(a), str(e), r, args)
            for (b, i, t, c, a, e, r, _), args in zip(rows, decoded, strict=True)
        ]

    def count_events(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM events")[0][0])

    def event_counts(self) -> dict[tuple[str, str], int]:
        rows = self._query("SELECT contract, event, COUNT(*) FROM events GROUP BY contract, event")
        return {(str(c), str(e)): int(n) for c, e, n in rows}

    # -- views -------------------------------------------------------------------------------------------

    def create_views(self, specs: Iterable[tuple[str, str, Sequence[str]]]) -> list[str]:
        """One view per ``(contract, event, argument names)``: ``ev_<Contract>_<Event>``, a column each."""
        names = []
        with self.transaction():
            for contract, event, args in specs:
                view = f"ev_{contract}_{event}"
                columns = ", ".join(f"{self._json_text(arg)} AS {_quote(arg)}" for arg in args)
                select = "block_number, log_index, tx_hash, address" + (f", {columns}" if columns else "")
                self._execute(f"DROP VIEW IF EXISTS {_quote(view)}")
                self._execute(
                    f"CREATE VIEW {_quote(view)} AS SELECT {select} FROM events "  # noqa: S608 (names from ABIs)
                    f"WHERE contract = '{_literal(contract)}' AND event = '{_literal(event)}'"
                )
                names.append(view)
        return names

    def _json_text(self, arg: str) -> str:
        if self.dialect == "postgresql":
            return f"(args::json ->> '{_literal(arg)}')"
        return f"json_extract(args, '$.{_literal(arg)}')"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return text.replace("'", "''")


def _is_db_error(exc: Exception) -> bool:
    if isinstance(exc, sqlite3.Error):
        return True
    module = type(exc).__module__
    return module.startswith("psycopg")


def _connect_postgres(url: str) -> Any:
    try:
        import psycopg
    except ImportError:
        raise IndexStoreError(
            "a postgresql:// index needs psycopg: pip install 'civicdao[postgres]'"
        ) from None
    try:
        return psycopg.connect(url, autocommit=False)
    except psycopg.Error as exc:
        raise IndexStoreError(f"cannot connect to the index database {url}: {exc}".strip()) from None
