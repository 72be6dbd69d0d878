"""Fill the index from the chain: ``eth_getLogs`` in ranges that adapt, resumable, reorg-safe.

One :class:`Indexer` reads the logs of every contract in a deployment manifest, from the block the
first was deployed in, in ranges that halve when the provider refuses a range ("block range too large",
"query returned more than 10000 results", …) and grow back while it accepts them. Each range commits in
one database transaction with the cursor, so an interrupted sync resumes where it stopped.

Reorgs: the index keeps the hash of every block it holds events of and of each range's last block.
Before each range it compares the cursor's hash with the chain's; on a mismatch it walks back through
the stored hashes to the newest block the chain still has, forgets everything after it and reads again.
``confirmations`` keeps the index that many blocks behind the head, where reorgs are rarer.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception

from civicdao.artifacts import list_artifacts
from civicdao.errors import ConfigError
from civicdao.index.decode import EventDecoder, as_hex, as_int, view_specs
from civicdao.index.errors import IndexMismatchError, IndexSyncError
from civicdao.index.store import BlockRow, EventRow, Store
from civicdao.logs import LogReadError, RangeWindow, is_range_error, read_range
from civicdao.manifest import Manifest

__all__ = ["Deployment", "Indexer", "Progress", "SyncReport", "is_range_error"]

logger = logging.getLogger(__name__)

#: ``progress(last_block_done, target_block, events_so_far)`` after every range.
Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class Deployment:
    """What to index: the chain, the contracts (address → artifact name) and the first block."""

    chain_id: int
    contracts: Mapping[str, str]
    start_block: int

    @classmethod
    def from_manifest(cls, manifest: Manifest | str) -> Deployment:
        if not isinstance(manifest, Manifest):
            manifest = Manifest.load(manifest)
        shipped = set(list_artifacts())
        contracts = {
            str(to_checksum_address(entry.address)): entry.name
            for entry in manifest.contracts.values()
            if entry.name in shipped
        }
        if not contracts:
            raise ConfigError("the manifest lists no contract the index knows: deploy first")
        start = min(entry.block for entry in manifest.contracts.values())
        return cls(chain_id=manifest.chain_id, contracts=contracts, start_block=start)

    @property
    def fingerprint(self) -> str:
        """Identifies the deployment (the addresses and names), so one database serves one suite."""
        text = ";".join(f"{a}={n}" for a, n in sorted(self.contracts.items()))
        return hashlib.sha256(f"{self.chain_id}|{text}".encode()).hexdigest()[:16]

    def address_of(self, name: str) -> str | None:
        """The address of the (first) contract built from artifact ``name``."""
        return next((a for a, n in sorted(self.contracts.items()) if n == name), None)


@dataclass(frozen=True)
class SyncReport:
    """What one :meth:`Indexer.sync` did."""

    from_block: int
    to_block: int
    events: int
    ranges: int
    rolled_back_to: int | None
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "fromBlock": self.from_block,
            "toBlock": self.to_block,
            "events": self.events,
            "ranges": self.ranges,
            "rolledBackTo": self.rolled_back_to,
            "seconds": round(self.seconds, 3),
        }


class Indexer:
    """Keeps a :class:`~civicdao.index.store.Store` in step with one deployment on one chain.

    Thread-safe: one :meth:`sync` runs at a time, so a :meth:`follow` thread and a reader that syncs before
    it reads (to see a transaction it just sent) may share one indexer.
    """

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment | Manifest | str,
        store: Store,
        *,
        confirmations: int = 0,
        initial_range: int = 2_000,
        max_range: int = 50_000,
        reorg_window: int = 256,
    ) -> None:
        if confirmations < 0:
            raise ConfigError(f"confirmations must be 0 or more, got {confirmations}")
        if not 1 <= initial_range <= max_range:
            raise ConfigError(f"need 1 <= initial_range <= max_range, got {initial_range} and {max_range}")
        self.w3 = w3
        self.deployment = (
            deployment if isinstance(deployment, Deployment) else Deployment.from_manifest(deployment)
        )
        self.store = store
        self.confirmations = confirmations
        self.max_range = max_range
        self.reorg_window = reorg_window
        self.window = RangeWindow(initial_range, max_range)
        self.decoder = EventDecoder(self.deployment.contracts)
        self._prepared = False
        self._sync_lock = threading.Lock()

    # -- state ---------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Check the store belongs to this chain and deployment (or claim an empty one); create views."""
        if self._prepared:
            return
        chain_id = int(self.w3.eth.chain_id)
        if chain_id != self.deployment.chain_id:
            raise IndexMismatchError(
                f"the manifest is for chain {self.deployment.chain_id}, but the node serves chain {chain_id}"
            )
        recorded = self.store.get_meta("deployment")
        if recorded is None:
            with self.store.transaction():
                self.store.set_meta("chain_id", str(chain_id))
                self.store.set_meta("deployment", self.deployment.fingerprint)
                self.store.set_meta("cursor", str(self.deployment.start_block - 1))
        elif recorded != self.deployment.fingerprint:
            raise IndexMismatchError(
                f"the index database {self.store.url} holds another deployment: pass another --db "
                "or delete it to rebuild"
            )
        self.store.create_views(view_specs(self.decoder.all_specs()))
        self._prepared = True

    @property
    def cursor(self) -> int:
        """The last block the index holds (everything up to it is indexed)."""
        value = self.store.get_meta("cursor")
        return int(value) if value is not None else self.deployment.start_block - 1

    # -- sync ----------------------------------------------------------------------------------------

    def target_block(self) -> int:
        return max(int(self.w3.eth.block_number) - self.confirmations, self.deployment.start_block - 1)

    def sync(
        self, *, to_block: int | None = None, progress: Progress | None = None, max_ranges: int | None = None
    ) -> SyncReport:
        """Index up to ``to_block`` (default: the head minus ``confirmations``); returns what it did.

        ``max_ranges`` stops early after that many ranges (the cursor records how far it got).
        """
        with self._sync_lock:
            return self._sync(to_block=to_block, progress=progress, max_ranges=max_ranges)

    def _sync(self, *, to_block: int | None, progress: Progress | None, max_ranges: int | None) -> SyncReport:
        started = time.monotonic()
        self.prepare()
        target = self.target_block() if to_block is None else to_block
        first = self.cursor + 1
        events = ranges = 0
        rolled_back: int | None = None
        while True:
            ancestor = self._check_reorg()
            if ancestor is not None:
                rolled_back = ancestor if rolled_back is None else min(rolled_back, ancestor)
                first = min(first, ancestor + 1)
            if self.cursor >= target or (max_ranges is not None and ranges >= max_ranges):
                break
            low = self.cursor + 1
            high = min(low + self.window.span - 1, target)
            events += self._index_range(low, high)
            ranges += 1
            if progress is not None:
                progress(high, target, events)
        return SyncReport(first, self.cursor, events, ranges, rolled_back, time.monotonic() - started)

    def follow(
        self,
        *,
        poll_interval: float = 1.0,
        stop: threading.Event | None = None,
        on_sync: Callable[[SyncReport], None] | None = None,
    ) -> None:
        """Sync, then keep syncing every ``poll_interval`` seconds until ``stop`` is set.

        A failing node is retried (logged as a warning); a database or configuration error stops it.
        """
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                report = self.sync()
            except (IndexSyncError, OSError, Web3Exception) as exc:  # a node restart or a network blip
                logger.warning("sync failed, retrying in %.1f s: %s", max(poll_interval, 1.0), exc)
                stop.wait(max(poll_interval, 1.0))
                continue
            if on_sync is not None and (report.ranges or report.rolled_back_to is not None):
                on_sync(report)
            stop.wait(poll_interval)

    # -- internals -----------------------------------------------------------------------------------

    def _index_range(self, low: int, high: int) -> int:
        logs, high = self._get_logs(low, high)
        rows = [row for row in (self.decoder.decode(log) for log in logs if not log.get("removed")) if row]
        wanted = sorted({row.block_number for row in rows} | {high})
        headers = self._headers(wanted)
        for log in logs:  # the chain moved under us between the two calls: read the range again
            header = headers.get(as_int(log["blockNumber"]))
            if header is not None and header.hash != as_hex(log["blockHash"]):
                logger.info("block %s changed while reading it: reading again", log["blockNumber"])
                return self._index_range(low, high)
        with self.store.transaction():
            self.store.add_events(rows)
            self.store.add_blocks(headers.values())
            self.store.set_meta("cursor", str(high))
            self.store.set_meta("head_timestamp", str(headers[high].timestamp))
        return len(rows)

    def _get_logs(self, low: int, high: int) -> tuple[list[Any], int]:
        """Logs of ``low..high'`` with ``high'`` ≤ ``high`` as the provider allows; adapts the window."""
        try:
            logs, _, high = read_range(self._raw_logs, low, high, self.window)
        except LogReadError as exc:
            raise IndexSyncError(str(exc)) from None
        return logs, high

    def _raw_logs(self, low: int, high: int) -> list[Any]:
        """``eth_getLogs`` straight from the provider: web3's result formatting costs more than decoding."""
        params = {"address": self.decoder.addresses, "fromBlock": hex(low), "toBlock": hex(high)}
        response = self.w3.provider.make_request("eth_getLogs", [params])  # type: ignore[arg-type]
        if "error" in response:
            raise ValueError(response["error"])
        return list(response["result"])

    def _headers(self, numbers: Sequence[int]) -> dict[int, BlockRow]:
        result: dict[int, BlockRow] = {}
        for chunk in _chunks(numbers, 200):
            if len(chunk) == 1:
                blocks: Iterable[Any] = [self.w3.eth.get_block(chunk[0])]
            else:
                with self.w3.batch_requests() as batch:
                    for number in chunk:
                        batch.add(self.w3.eth.get_block(number))
                    blocks = batch.execute()
            for block in blocks:
                if not isinstance(block, Mapping) or block.get("hash") is None:
                    raise IndexSyncError(f"the node did not return block headers for {chunk[0]}..{chunk[-1]}")
                row = BlockRow(
                    int(block["number"]), HexBytes(block["hash"]).to_0x_hex(), int(block["timestamp"])
                )
                result[row.number] = row
        return result

    def _check_reorg(self) -> int | None:
        """If the chain no longer has the cursor's block, roll back to the newest block it has."""
        cursor = self.cursor
        if cursor < self.deployment.start_block:
            return None
        stored = self.store.block(cursor)
        head = int(self.w3.eth.block_number)
        if stored is not None and cursor <= head and self._chain_hash(cursor) == stored.hash:
            return None
        candidates = self.store.blocks_descending(at_most=min(cursor, head), limit=self.reorg_window)
        on_chain = self._headers([b.number for b in candidates])
        ancestor = next(
            (b.number for b in candidates if on_chain.get(b.number) and on_chain[b.number].hash == b.hash),
            self.deployment.start_block - 1,
        )
        with self.store.transaction():
            dropped = self.store.delete_after(ancestor)
            self.store.set_meta("cursor", str(ancestor))
        logger.warning(
            "reorg: the chain no longer has block %s; rolled back to %s (%s events)",
            cursor,
            ancestor,
            dropped,
        )
        return ancestor

    def _chain_hash(self, number: int) -> str:
        return HexBytes(self.w3.eth.get_block(number)["hash"]).to_0x_hex()


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def decoded_rows(decoder: EventDecoder, logs: Iterable[Mapping[str, Any]]) -> list[EventRow]:
    """Decode raw logs (for tests and tools)."""
    return [row for row in (decoder.decode(log) for log in logs) if row]
