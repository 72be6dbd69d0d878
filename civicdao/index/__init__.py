"""The event index: every list and report reads the chain's history from here, not from raw RPC.

:class:`Indexer` fills a :class:`Store` (SQLite by default, PostgreSQL by a ``postgresql://`` URL) from
``eth_getLogs`` in adaptive ranges, resumable and reorg-safe; :class:`IndexReader` answers the lists
(proposals, citizens, listings, bookings, treasury flows, grants, rounds). See docs/index.md.
"""

from civicdao.index import queries
from civicdao.index.decode import CallDecoder, EventDecoder, EventSpec
from civicdao.index.errors import IndexMismatchError, IndexStoreError, IndexSyncError
from civicdao.index.queries import *  # noqa: F403  (the reader and its rows: as asyncio re-exports)
from civicdao.index.store import BlockRow, EventRow, Store
from civicdao.index.sync import Deployment, Indexer, SyncReport, is_range_error

__all__ = [
    "BlockRow",
    "CallDecoder",
    "Deployment",
    "EventDecoder",
    "EventRow",
    "EventSpec",
    "IndexMismatchError",
    "IndexStoreError",
    "IndexSyncError",
    "Indexer",
    "Store",
    "SyncReport",
    "is_range_error",
]
__all__ += queries.__all__  # IndexReader, TreasuryFigures, the rows
