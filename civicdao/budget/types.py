"""Typed records of participatory-budgeting rounds, projects, ballots, outcomes, and what each action did.

Every record an action returns carries the ids it touched (``round_id``, ``project_index``, ``membership``)
and the transaction (``tx``, or ``execution`` for what a DAO proposal's execution created).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from civicdao.errors import CivicDAOError, ConfigError
from civicdao.tx import TxRecord

__all__ = [
    "MAX_PROJECTS",
    "BadBallotError",
    "Ballot",
    "BallotBatch",
    "BallotCast",
    "BallotRejectedError",
    "BudgetError",
    "Finalization",
    "Outcome",
    "OutcomePosted",
    "PayoutClaim",
    "ProjectInfo",
    "RoundInfo",
    "RoundOpened",
    "RoundStatus",
    "VerifyResult",
    "bitmap_of",
    "indexes_of",
]

#: The most projects a round may have: one bit each in a ballot.
MAX_PROJECTS = 256


class BudgetError(CivicDAOError):
    """A participatory-budgeting problem found off-chain (bad input, an incomplete ballot read, …)."""


class BadBallotError(BudgetError, ConfigError):
    """A ballot that names no project, a project twice, or an index out of range."""


class BallotRejectedError(BudgetError, ValueError):
    """A signed ballot the contract would refuse (checked off-chain before relaying)."""


class RoundStatus(IntEnum):
    """``BudgetRoundStatus`` (contracts/interfaces/types/BudgetTypes.sol)."""

    NONE = 0
    OPEN = 1
    POSTED = 2
    DISPUTED = 3
    RESOLVED = 4
    FINALIZED = 5
    CANCELLED = 6


def bitmap_of(projects: Iterable[int]) -> int:
    """The ballot bitmap approving ``projects`` (indexes 0..255).

    Raises:
        BadBallotError: an index out of range or repeated.
    """
    bitmap = 0
    for index in projects:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < MAX_PROJECTS:
            raise BadBallotError(f"a project index is a whole number from 0 to 255, got {index!r}")
        if bitmap >> index & 1:
            raise BadBallotError(f"project {index} is approved twice")
        bitmap |= 1 << index
    return bitmap


def indexes_of(bitmap: int) -> tuple[int, ...]:
    """The project indexes a bitmap approves, in increasing order."""
    return tuple(i for i in range(MAX_PROJECTS) if bitmap >> i & 1)


@dataclass(frozen=True)
class RoundInfo:
    """A round as the contract stores it. Times are Unix seconds; amounts are in the round's token units."""

    round_id: int
    token: ChecksumAddress
    budget: int
    status: RoundStatus
    submission_start: int
    voting_start: int
    voting_end: int
    challenge_period: int
    payout_duration: int
    min_approvals: int
    max_approvals: int
    project_count: int
    voter_count: int
    ballot_log: str
    winners: tuple[int, ...]
    spent: int
    ballot_digest: str
    rule_id: str
    posted_at: int
    finalized_at: int

    @property
    def challenge_ends(self) -> int | None:
        """When the challenge window closes (None before an outcome is posted)."""
        return self.posted_at + self.challenge_period if self.posted_at else None


@dataclass(frozen=True)
class ProjectInfo:
    """A submitted project: its index (its bit in ballots), cost, recipient and description URI."""

    round_id: int
    index: int
    cost: int
    recipient: ChecksumAddress
    proposer: ChecksumAddress
    metadata_uri: str
    claimed: int = 0

    @classmethod
    def from_event(cls, args: Mapping[str, Any]) -> ProjectInfo:
        """A project from its ``ProjectSubmitted`` event's arguments, decoded from a log or read from the
        event index (whose integers are decimal strings); ``claimed`` is left at 0."""
        return cls(
            round_id=int(str(args["roundId"])),
            index=int(str(args["projectIndex"])),
            cost=int(str(args["cost"])),
            recipient=to_checksum_address(str(args["recipient"])),
            proposer=to_checksum_address(str(args["proposer"])),
            metadata_uri=str(args["metadataURI"]),
        )

    @property
    def label(self) -> str:
        """The project's pabulib id: ``<id>`` for a ``pabulib:<id>`` URI, else its index."""
        prefix = "pabulib:"
        return self.metadata_uri[len(prefix) :] if self.metadata_uri.startswith(prefix) else str(self.index)


@dataclass(frozen=True)
class Ballot:
    """The ballot that counts for one membership: its last ``BallotCast`` in the round."""

    membership: int
    voter: ChecksumAddress
    approvals: int

    @property
    def projects(self) -> tuple[int, ...]:
        return indexes_of(self.approvals)


@dataclass(frozen=True)
class Outcome:
    """An outcome as posted (or challenged) on-chain."""

    winners: tuple[int, ...]
    ballot_digest: str
    rule_id: str


@dataclass(frozen=True)
class VerifyResult:
    """The posted outcome next to the one recomputed from the chain's ballots."""

    round_id: int
    posted: Outcome
    recomputed: Outcome
    rule: str

    @property
    def matches(self) -> bool:
        return self.posted == self.recomputed


@dataclass(frozen=True)
class RoundOpened:
    """A round an executed DAO proposal opened (read with :meth:`ParticipatoryBudget.round_id_of
    <civicdao.budget.ParticipatoryBudget.round_id_of>`); ``get_round(round_id)`` reads the rest.

    Times are Unix seconds: projects are submitted until ``voting_start``, ballots cast until ``voting_end``.
    """

    round_id: int
    budget: int
    token: ChecksumAddress
    voting_start: int
    voting_end: int
    #: The proposal that opened it (None when read from an execution alone).
    proposal_id: int | None
    #: The ``execute`` transaction that emitted ``RoundOpened``.
    execution: TxRecord


@dataclass(frozen=True)
class BallotCast:
    """A ballot the chain recorded: it replaces the membership's earlier ballot in the round."""

    round_id: int
    membership: int
    voter: ChecksumAddress
    approvals: int
    tx: TxRecord

    @property
    def projects(self) -> tuple[int, ...]:
        return indexes_of(self.approvals)


@dataclass(frozen=True)
class BallotBatch:
    """One relayed transaction of signed ballots (the relayer paid its gas)."""

    round_id: int
    ballots: tuple[BallotCast, ...]
    tx: TxRecord


@dataclass(frozen=True)
class OutcomePosted:
    """An outcome posted on-chain: the first post (the challenge window starts) or a challenge."""

    round_id: int
    poster: ChecksumAddress
    outcome: Outcome
    #: The winners' total cost.
    cost: int
    #: True for a challenge (the round then waits for the DAO).
    challenge: bool
    tx: TxRecord


@dataclass(frozen=True)
class Finalization:
    """A finalized round: its winners became payouts and the rest of the budget returned to the treasury."""

    round_id: int
    winners: tuple[int, ...]
    spent: int
    returned: int
    tx: TxRecord


@dataclass(frozen=True)
class PayoutClaim:
    """What a winning project's recipient pulled (what its payout had streamed so far)."""

    round_id: int
    project_index: int
    recipient: ChecksumAddress
    amount: int
    tx: TxRecord
