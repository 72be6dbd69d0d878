"""The event index: every list and report reads the chain's history from here, not from raw RPC.

:class:`Indexer` fills a :class:`Store` (SQLite by default, PostgreSQL by a ``postgresql://`` URL) from
``eth_getLogs`` in adaptive ranges, resumable and reorg-safe; :class:`IndexReader` answers the lists
(proposals, citizens, listings, bookings, treasury flows, grants, rounds). See docs/index.md.
"""

from civicdao.index.decode import CallDecoder, EventDecoder, EventSpec
from civicdao.index.errors import IndexMismatchError, IndexStoreError, IndexSyncError
from civicdao.index.queries import (
    BalancePoint,
    BookingRow,
    CitizenRow,
    GrantRow,
    IndexReader,
    InflowRow,
    ListingRow,
    MatchRow,
    OutflowRow,
    ProposalRow,
    RoundRow,
    TreasuryFigures,
)
from civicdao.index.store import BlockRow, EventRow, Store
from civicdao.index.sync import Deployment, Indexer, SyncReport, is_range_error

__all__ = [
    "BalancePoint",
    "BlockRow",
    "BookingRow",
    "CallDecoder",
    "CitizenRow",
    "Deployment",
    "EventDecoder",
    "EventRow",
    "EventSpec",
    "GrantRow",
    "IndexMismatchError",
    "IndexReader",
    "IndexStoreError",
    "IndexSyncError",
    "Indexer",
    "InflowRow",
    "ListingRow",
    "MatchRow",
    "OutflowRow",
    "ProposalRow",
    "RoundRow",
    "Store",
    "SyncReport",
    "TreasuryFigures",
    "is_range_error",
]
