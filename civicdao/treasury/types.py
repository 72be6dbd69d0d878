"""The treasury's typed records: balances, the epoch clock, grants, QF rounds, and what each action did.

Amounts are int wei (token base units), times int unix seconds, addresses checksummed; ``ETH`` (the zero
address) stands for native ether. Every record an action returns carries the ids it created or touched
(``grant_id``, ``round_id``, ``project_index``) and the transaction (``tx``, or ``execution`` for what a DAO
proposal's execution created).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from eth_typing import ChecksumAddress
from web3 import Web3

from civicdao.config import KINDS
from civicdao.errors import ConfigError
from civicdao.tokens import ETH
from civicdao.tx import TxRecord

__all__ = [
    "CATEGORIES",
    "DONATION_CATEGORY",
    "ETH",
    "MAX_EPOCH_LENGTH",
    "MAX_PROJECTS",
    "MAX_TRANCHES",
    "MIN_EPOCH_LENGTH",
    "STEWARD_ROLE",
    "UNCAPPED",
    "Contribution",
    "Donation",
    "EpochStatus",
    "FeeDeposit",
    "GrantClaim",
    "GrantCreated",
    "GrantInfo",
    "ProjectInfo",
    "QFRoundOpened",
    "RoundFinalization",
    "RoundInfo",
    "RoundPayout",
    "TokenBalance",
    "TrancheRelease",
]

#: Inflow categories in contract order: the exchange's listing kinds (fees), then donations.
CATEGORIES: tuple[str, ...] = (*KINDS, "donation")
#: The category index of donations.
DONATION_CATEGORY = len(KINDS)
#: A cap meaning "uncapped" (``type(uint256).max``).
UNCAPPED = 2**256 - 1
#: Contract limits, mirrored so that bad input fails before a transaction is sent.
MAX_PROJECTS = 50
MAX_TRANCHES = 32
MIN_EPOCH_LENGTH = 24 * 3_600
MAX_EPOCH_LENGTH = 365 * 24 * 3_600
#: The role of the stewards who release milestone tranches.
STEWARD_ROLE = Web3.keccak(text="STEWARD_ROLE")


@dataclass(frozen=True)
class TokenBalance:
    """What the treasury holds of one token, and its lifetime counters.

    ``free = balance - committed`` (floored at 0) is what governance may still spend; ``committed`` is owed
    to grants and QF rounds (including contributions held for projects). ``total_in`` counts fees and
    donations, ``total_out`` public money paid out (transfers, grant claims, QF matching).
    """

    token: ChecksumAddress
    balance: int
    committed: int
    free: int
    total_in: int
    total_out: int
    #: ``(category, amount)`` for each of :data:`CATEGORIES`, in that order.
    inflow_by_category: tuple[tuple[str, int], ...]

    def inflow(self, category: str) -> int:
        """Inflow of one category (a listing kind, or ``"donation"``)."""
        for name, amount in self.inflow_by_category:
            if name == category:
                return amount
        raise ConfigError(f"unknown category {category!r}; categories are {list(CATEGORIES)}")


@dataclass(frozen=True)
class EpochStatus:
    """The spending epoch now, and one token's cap in it."""

    token: ChecksumAddress
    epoch: int
    length: int
    start: int
    end: int
    #: Cap in force this epoch (:data:`UNCAPPED` = no cap; 0 = nothing may be spent).
    cap: int
    #: A raised cap waiting for ``pending_from_epoch`` (both 0 when none).
    pending_cap: int
    pending_from_epoch: int
    spent: int
    #: What may still be spent this epoch (cap remainder; the free balance may be lower).
    remaining: int
    #: A scheduled epoch length starting at ``end`` (0 when none): length changes wait for the epoch's end.
    pending_length: int = 0

    @property
    def uncapped(self) -> bool:
        return self.cap == UNCAPPED


@dataclass(frozen=True)
class GrantInfo:
    """A grant as the treasury holds it now."""

    grant_id: int
    kind: Literal["stream", "milestone"]
    token: ChecksumAddress
    recipient: ChecksumAddress
    #: The amount granted (after a cancellation: what stayed owed, i.e. vested or released).
    amount: int
    claimed: int
    vested: int
    claimable: int
    cancelled: bool
    #: Stream schedule: start timestamp; cliff and duration in seconds after start.
    #: Milestone grants: creation time, 0, 0.
    start: int
    cliff: int
    duration: int
    #: Milestone tranche amounts and which indexes were released (empty for streams).
    tranches: tuple[int, ...]
    released_tranches: tuple[int, ...]
    #: The recipient's membership id when it was a citizen at creation (0 for an organisation): the grant then
    #: belongs to the membership, not to ``recipient``'s key, and follows a key rotation.
    membership: int
    #: Who may claim now: the membership's current key, or ``recipient`` for an organisation; None once the
    #: membership was revoked (claims stop; the DAO may cancel what is left).
    claimant: ChecksumAddress | None


@dataclass(frozen=True)
class ProjectInfo:
    """One project of a QF round."""

    index: int
    recipient: ChecksumAddress
    contributions: int
    citizen_contributions: int
    #: Σ√(c·1e18) over citizen contributors (the contract's scaled sum).
    sum_sqrt: int
    #: The un-normalised (Σ√c)² - Σc match so far.
    raw_matching: int
    #: The normalised payout (set at finalization, 0 before).
    matching: int
    claimed: bool
    #: The recipient's membership id when it was a citizen as the round opened (0 for an organisation).
    membership: int
    #: Who may claim the payout now (the membership's current key, or ``recipient``); None once revoked.
    claimant: ChecksumAddress | None


@dataclass(frozen=True)
class RoundInfo:
    """A quadratic-funding round and its projects."""

    round_id: int
    token: ChecksumAddress
    start: int
    end: int
    finalized: bool
    matching_pool: int
    total_contributions: int
    total_matching: int
    projects: tuple[ProjectInfo, ...]
    #: The citizen registry as the round opened, where citizen projects' memberships are held.
    registry: ChecksumAddress


@dataclass(frozen=True)
class Donation:
    """A donation that arrived."""

    donor: ChecksumAddress
    token: ChecksumAddress
    amount: int
    note: str
    tx: TxRecord


@dataclass(frozen=True)
class FeeDeposit:
    """An exchange fee paid into the treasury."""

    payer: ChecksumAddress
    token: ChecksumAddress
    amount: int
    category: str
    tx: TxRecord


@dataclass(frozen=True)
class GrantClaim:
    """What a grant's recipient pulled."""

    grant_id: int
    recipient: ChecksumAddress
    amount: int
    tx: TxRecord


@dataclass(frozen=True)
class TrancheRelease:
    """A milestone tranche released to the recipient's claimable amount."""

    grant_id: int
    index: int
    amount: int
    releaser: ChecksumAddress
    tx: TxRecord


@dataclass(frozen=True)
class Contribution:
    """A QF contribution; ``matched`` tells whether it counts for matching (the contributor is a citizen)."""

    round_id: int
    project_index: int
    contributor: ChecksumAddress
    amount: int
    matched: bool
    #: The membership id the contribution was matched under (0 = not matched). Matching sums per membership,
    #: so contributions from a citizen's old and new key (after a rotation) count as one person's.
    membership: int
    tx: TxRecord


@dataclass(frozen=True)
class RoundFinalization:
    """A finalized round: matching owed to projects and the leftover freed."""

    round_id: int
    total_matching: int
    leftover: int
    tx: TxRecord


@dataclass(frozen=True)
class RoundPayout:
    """A project's payout: its contributions plus its matching."""

    round_id: int
    project_index: int
    recipient: ChecksumAddress
    contributions: int
    matching: int
    tx: TxRecord

    @property
    def amount(self) -> int:
        return self.contributions + self.matching


@dataclass(frozen=True)
class GrantCreated:
    """A grant an executed DAO proposal created (read with :meth:`Treasury.grant_id_of
    <civicdao.treasury.Treasury.grant_id_of>` or :func:`grant_id_of`)."""

    grant_id: int
    kind: Literal["stream", "milestone"]
    recipient: ChecksumAddress
    token: ChecksumAddress
    amount: int
    #: The proposal that created it (None when read from an execution alone).
    proposal_id: int | None
    #: The ``execute`` transaction that emitted ``StreamGrantCreated`` / ``MilestoneGrantCreated``.
    execution: TxRecord


@dataclass(frozen=True)
class QFRoundOpened:
    """A quadratic-funding round an executed DAO proposal opened (read with :meth:`Treasury.qf_round_id_of
    <civicdao.treasury.Treasury.qf_round_id_of>`)."""

    round_id: int
    token: ChecksumAddress
    matching_pool: int
    project_count: int
    start: int
    end: int
    #: The proposal that opened it (None when read from an execution alone).
    proposal_id: int | None
    #: The ``execute`` transaction that emitted ``RoundOpened``.
    execution: TxRecord
