"""The CivicDAO relayer: citizens sign in their own wallet, the relayer pays the gas.

A citizen with no ETH can still be registered (a registrar's signed attestation), delegate and vote: the
wallet signs EIP-712 typed data (:mod:`civicdao.signing`), the relayer verifies it against the chain,
stores it durably in SQLite and submits it in batches — ballots through the governor's ``multicall``.

Parts: :class:`Relayer` (verify and store), :class:`Store` (SQLite), :class:`Batcher` (submit exactly
once), :func:`create_app` / :func:`serve` (the HTTP API). Run it with ``civicdao relay``.
"""

from civicdao.relayer.app import create_app, serve
from civicdao.relayer.batcher import Batcher, BatchReport, GasBudgetSpentError
from civicdao.relayer.service import Health, RateLimitedError, Relayer, RelayerError, RelayerSettings
from civicdao.relayer.store import DuplicateSubmissionError, Store, StoreError, Submission

__all__ = [
    "BatchReport",
    "Batcher",
    "DuplicateSubmissionError",
    "GasBudgetSpentError",
    "Health",
    "RateLimitedError",
    "Relayer",
    "RelayerError",
    "RelayerSettings",
    "Store",
    "StoreError",
    "Submission",
    "create_app",
    "serve",
]
