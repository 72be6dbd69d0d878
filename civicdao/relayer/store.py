"""Durable storage of accepted signatures (SQLite, or PostgreSQL): a restart loses nothing, nothing is stored
twice.

Each submission is one signed message, keyed by its EIP-712 digest (``UNIQUE``), so the same message —
under the same or a malleated signature — cannot be stored or submitted twice. Its status moves only
forward::

    accepted ──▶ submitted(tx) ──▶ confirmed                 (it took effect on-chain)
       │              │        └──▶ superseded(reason)     (its nonce was used by another message first)
       │              └──▶ accepted (the batch transaction failed: try again) ─┐
       └──▶ dropped(reason)  ◀────────────────────────────────────────────────┘

SQLite runs in WAL mode with ``synchronous=FULL``: a row is on disk when :meth:`Store.add` returns; so is it
on PostgreSQL (``Store("postgresql://…")``, psycopg; a commit is durable there by default).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from civicdao.errors import CivicDAOError

__all__ = [
    "STATUSES",
    "SUBMISSION_KINDS",
    "DuplicateSubmissionError",
    "Status",
    "Store",
    "StoreError",
    "Submission",
    "SubmissionKind",
]

logger = logging.getLogger(__name__)

#: What a stored submission carries (not to be confused with a listing's :class:`civicdao.exchange.Kind`).
SubmissionKind = Literal["ballot", "delegation", "attestation", "budget_ballot"]
Status = Literal["accepted", "submitted", "confirmed", "superseded", "dropped"]
SUBMISSION_KINDS: tuple[SubmissionKind, ...] = ("ballot", "delegation", "attestation", "budget_ballot")
STATUSES: tuple[Status, ...] = ("accepted", "submitted", "confirmed", "superseded", "dropped")
#: Statuses still in flight (they hold a nonce the contract has not consumed yet).
PENDING: tuple[Status, ...] = ("accepted", "submitted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id          @ID@,
    digest      TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL CHECK (kind IN ('ballot', 'delegation', 'attestation', 'budget_ballot')),
    signer      TEXT    NOT NULL,
    subject     TEXT,
    nonce       TEXT,
    payload     TEXT    NOT NULL,
    status      TEXT    NOT NULL
                CHECK (status IN ('accepted', 'submitted', 'confirmed', 'superseded', 'dropped')),
    tx_hash     TEXT,
    reason      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  @TIME@  NOT NULL,
    updated_at  @TIME@  NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_status ON submissions (status, kind, id);
CREATE INDEX IF NOT EXISTS submissions_signer ON submissions (signer, created_at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
#: Column types per engine: SQLite's REAL is 8 bytes, PostgreSQL's only 4 (hence DOUBLE PRECISION).
_TYPES = {
    "sqlite": {"@ID@": "INTEGER PRIMARY KEY AUTOINCREMENT", "@TIME@": "REAL"},
    "postgresql": {"@ID@": "BIGSERIAL PRIMARY KEY", "@TIME@": "DOUBLE PRECISION"},
}


def _schema(dialect: str) -> list[str]:
    text = _SCHEMA
    for marker, sql_type in _TYPES[dialect].items():
        text = text.replace(marker, sql_type)
    return [statement.strip() for statement in text.split(";") if statement.strip()]


class StoreError(CivicDAOError):
    """The relayer's database cannot be opened or is inconsistent."""


class DuplicateSubmissionError(StoreError):
    """A message with this EIP-712 digest was already accepted (a replay of the same signature)."""

    def __init__(self, existing: Submission) -> None:
        self.existing = existing
        super().__init__(
            f"this signed message was already received "
            f"(submission {existing.digest}, status {existing.status})"
        )


@dataclass(frozen=True)
class Submission:
    """One stored signed message and where it stands."""

    id: int
    digest: str
    kind: SubmissionKind
    signer: str
    subject: str | None
    nonce: int | None
    payload: dict[str, Any]
    status: Status
    tx_hash: str | None
    reason: str | None
    attempts: int
    created_at: float
    updated_at: float

    def public(self) -> dict[str, Any]:
        """What the HTTP API shows (no payload)."""
        return {
            "id": self.digest,
            "kind": self.kind,
            "signer": self.signer,
            "subject": self.subject,
            "status": self.status,
            "tx_hash": self.tx_hash,
            "reason": self.reason,
            "attempts": self.attempts,
            "created_at": int(self.created_at),
            "updated_at": int(self.updated_at),
        }


class Store:
    """The relayer's database: ``Store("relayer.sqlite")`` or ``Store("postgresql://user@host/db")``.

    Thread-safe: one connection behind a lock. Run one relayer process per database.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        text = str(path)
        self.url = text
        self._clock = clock
        self._lock = threading.RLock()
        if text.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgresql"
            self.path: Path | None = None
            psycopg = _psycopg()
            self._db: Any = _connect_postgres(psycopg, text)
            self._integrity: tuple[type[Exception], ...] = (psycopg.IntegrityError,)
            self._db_errors: tuple[type[Exception], ...] = (psycopg.Error,)
        else:
            self.dialect = "sqlite"
            self.path = Path(text)
            self._integrity, self._db_errors = (sqlite3.IntegrityError,), (sqlite3.Error,)
            try:
                self._db = sqlite3.connect(text, check_same_thread=False, isolation_level=None)
                self._db.row_factory = sqlite3.Row
                if text != ":memory:":
                    self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._migrate()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the relayer database {text}: {exc}") from None
        try:
            for statement in _schema(self.dialect):
                self._run(statement)
        except self._db_errors as exc:
            raise StoreError(f"cannot set up the relayer database {self.display_name}: {exc}") from None

    def __repr__(self) -> str:
        return f"<relayer Store {self.dialect} {self.display_name}>"

    @property
    def display_name(self) -> str:
        """The database's name without a password (a postgresql:// URL may carry one): safe to print."""
        if self.dialect == "sqlite":
            return self.url
        scheme, _, rest = self.url.partition("://")
        host = rest.rpartition("@")[2]
        return f"{scheme}://{host}"

    def _run(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Execute ``sql`` (``?`` placeholders, as SQLite writes them) on either engine; return the cursor."""
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        return self._db.execute(sql, tuple(args))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """A write transaction: everything inside commits together or not at all (SQLite takes its write lock
        at once, so two writers never interleave)."""
        with self._lock:
            self._run("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
            try:
                yield
            except BaseException:
                self._run("ROLLBACK")
                raise
            self._run("COMMIT")

    def _migrate(self) -> None:
        """Widen the CHECKs of a SQLite database written before the status ``superseded`` or the kind
        ``budget_ballot`` existed (rows kept)."""
        row = self._db.execute("SELECT sql FROM sqlite_master WHERE name = 'submissions'").fetchone()
        if row is None or ("'superseded'" in row["sql"] and "'budget_ballot'" in row["sql"]):
            return
        with self._transaction():
            self._run("ALTER TABLE submissions RENAME TO submissions_v1")
            self._run(_schema("sqlite")[0])  # CREATE TABLE submissions, with the new CHECK
            self._run("INSERT INTO submissions SELECT * FROM submissions_v1")
            self._run("DROP TABLE submissions_v1")
        logger.info("relayer database %s: status 'superseded' and kind 'budget_ballot' added", self.path)

    def close(self) -> None:
        """Close the database (pending rows stay on disk for the next start)."""
        with self._lock:
            self._db.close()

    # -- writing ------------------------------------------------------------------------------------

    def add(
        self,
        *,
        digest: str,
        kind: SubmissionKind,
        signer: str,
        payload: dict[str, Any],
        subject: str | None = None,
        nonce: int | None = None,
        replaces: str | None = None,
    ) -> Submission:
        """Store an accepted message; raises :class:`DuplicateSubmissionError` for a known digest.

        With ``replaces``, the same transaction moves that unsent message (still accepted) to superseded,
        naming the new one; :class:`StoreError` when it is no longer waiting (the batcher took it meanwhile).
        Either refusal changes nothing."""
        now = self._clock()
        with self._lock:
            try:
                with self._transaction():
                    if replaces is not None:
                        self._supersede_waiting(replaces, by=digest, now=now)
                    cursor = self._run(
                        "INSERT INTO submissions (digest, kind, signer, subject, nonce, payload, status,"
                        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'accepted', ?, ?) RETURNING id",
                        (
                            digest,
                            kind,
                            signer,
                            subject,
                            None if nonce is None else str(nonce),
                            json.dumps(payload, separators=(",", ":")),
                            now,
                            now,
                        ),
                    )
                    row_id = int(cursor.fetchone()["id"])
            except self._integrity:
                existing = self.get(digest)  # read after the rollback (PostgreSQL aborted the transaction)
                if existing is None:  # pragma: no cover - the constraint names only digest
                    raise
                raise DuplicateSubmissionError(existing) from None
            logger.info(
                "accepted %s %s from %s%s",
                kind,
                digest,
                signer,
                f", replacing {replaces}" if replaces else "",
            )
            return self._by_id(row_id)

    def mark_submitted(self, digests: Sequence[str], tx_hash: str) -> None:
        """accepted → submitted(tx): the transaction carrying them is about to be (or was) broadcast."""
        self._move(digests, ("accepted",), "submitted", tx_hash=tx_hash, attempt=True)

    def mark_confirmed(
        self, digests: Sequence[str], *, tx_hash: str | None = None, reason: str | None = None
    ) -> None:
        """accepted/submitted → confirmed: the message took effect on-chain."""
        self._move(digests, PENDING, "confirmed", tx_hash=tx_hash, reason=reason)

    def mark_superseded(self, digest: str, reason: str, *, tx_hash: str | None = None) -> None:
        """accepted/submitted → superseded(reason): another message used its nonce first (no effect)."""
        self._move([digest], PENDING, "superseded", tx_hash=tx_hash, reason=reason)

    def mark_dropped(self, digest: str, reason: str) -> None:
        """accepted/submitted → dropped(reason): it would revert, so it is never sent."""
        self._move([digest], PENDING, "dropped", reason=reason)

    def mark_retry(self, digests: Sequence[str], reason: str) -> None:
        """submitted → accepted: the batch transaction failed as a whole; they wait for the next one."""
        self._move(digests, ("submitted",), "accepted", reason=reason, clear_tx=True)

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._run(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._run("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    # -- reading ------------------------------------------------------------------------------------

    def get(self, digest: str) -> Submission | None:
        with self._lock:
            row = self._run("SELECT * FROM submissions WHERE digest = ?", (digest,)).fetchone()
        return None if row is None else _submission(row)

    def with_status(
        self, status: Status, *, kind: SubmissionKind | None = None, limit: int | None = None
    ) -> list[Submission]:
        """Rows in ``status`` (optionally of one kind), oldest first."""
        query = "SELECT * FROM submissions WHERE status = ?"
        args: list[Any] = [status]
        if kind is not None:
            query += " AND kind = ?"
            args.append(kind)
        query += " ORDER BY id"
        if limit is not None:
            query += " LIMIT ?"
            args.append(limit)
        with self._lock:
            return [_submission(row) for row in self._run(query, args).fetchall()]

    def pending_for(
        self, signer: str, kinds: Iterable[SubmissionKind], *, subject: str | None = None
    ) -> list[Submission]:
        """In-flight rows (accepted or submitted) signed by ``signer``."""
        kind_list = list(kinds)
        placeholders = ", ".join("?" * len(kind_list))  # only "?" markers are formatted into the query
        query = "SELECT * FROM submissions WHERE signer = ? AND status IN ('accepted', 'submitted') "
        query += f"AND kind IN ({placeholders})"
        args: list[Any] = [signer, *kind_list]
        if subject is not None:
            query += " AND subject = ?"
            args.append(subject)
        with self._lock:
            return [_submission(row) for row in self._run(query + " ORDER BY id", args).fetchall()]

    def count_since(self, signer: str, since: float) -> int:
        """How many messages ``signer`` sent since ``since`` (unix seconds): the rate limit's measure."""
        with self._lock:
            row = self._run(
                "SELECT COUNT(*) AS n FROM submissions WHERE signer = ? AND created_at >= ?", (signer, since)
            ).fetchone()
        return int(row["n"])

    def counts(self) -> dict[str, int]:
        """Number of rows per status."""
        with self._lock:
            rows = self._run("SELECT status, COUNT(*) AS n FROM submissions GROUP BY status").fetchall()
        found = {row["status"]: int(row["n"]) for row in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    def oldest_accepted_at(self) -> float | None:
        with self._lock:
            row = self._run(
                "SELECT MIN(created_at) AS t FROM submissions WHERE status = 'accepted'"
            ).fetchone()
        return None if row["t"] is None else float(row["t"])

    # -- internals ----------------------------------------------------------------------------------

    def _supersede_waiting(self, digest: str, *, by: str, now: float) -> None:
        moved = self._run(
            "UPDATE submissions SET status = 'superseded', updated_at = ?, reason = ?"
            " WHERE digest = ? AND status = 'accepted'",
            (now, f"replaced by a newer message of the same signer ({by})", digest),
        )
        if moved.rowcount != 1:
            raise StoreError(f"submission {digest} is no longer waiting to be sent")

    def _by_id(self, row_id: int) -> Submission:
        row = self._run("SELECT * FROM submissions WHERE id = ?", (row_id,)).fetchone()
        return _submission(row)

    def _move(
        self,
        digests: Sequence[str],
        allowed_from: Sequence[Status],
        to: Status,
        *,
        tx_hash: str | None = None,
        reason: str | None = None,
        attempt: bool = False,
        clear_tx: bool = False,
    ) -> None:
        if not digests:
            return
        now = self._clock()
        with self._transaction():
            for digest in digests:
                row = self._run("SELECT status FROM submissions WHERE digest = ?", (digest,)).fetchone()
                if row is None or row["status"] not in allowed_from:
                    current = None if row is None else row["status"]
                    raise StoreError(f"submission {digest} cannot move from {current} to {to}")
                self._run(
                    "UPDATE submissions SET status = ?, updated_at = ?,"
                    " tx_hash = CASE WHEN ? THEN NULL ELSE COALESCE(?, tx_hash) END,"
                    " reason = COALESCE(?, reason), attempts = attempts + ? WHERE digest = ?",
                    (to, now, clear_tx, tx_hash, reason, 1 if attempt else 0, digest),
                )
        logger.info("%d submission(s) → %s%s", len(digests), to, f" ({reason})" if reason else "")


def _submission(row: sqlite3.Row) -> Submission:
    return Submission(
        id=int(row["id"]),
        digest=str(row["digest"]),
        kind=row["kind"],
        signer=str(row["signer"]),
        subject=row["subject"],
        nonce=None if row["nonce"] is None else int(row["nonce"]),
        payload=json.loads(row["payload"]),
        status=row["status"],
        tx_hash=row["tx_hash"],
        reason=row["reason"],
        attempts=int(row["attempts"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
    )


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            "a postgresql:// relayer database needs psycopg: pip install 'civicdao[postgres]'"
        ) from None
    return psycopg


def _connect_postgres(psycopg: Any, url: str) -> Any:
    from psycopg.rows import dict_row

    try:
        return psycopg.connect(url, autocommit=True, row_factory=dict_row)
    except psycopg.Error as exc:
        host = url.partition("://")[2].rpartition("@")[2]
        raise StoreError(
            f"cannot connect to the relayer database postgresql://{host}: {exc}".strip()
        ) from None
