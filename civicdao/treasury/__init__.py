"""The public-good treasury: balances, inflows, governance actions that spend, grants, QF rounds, reports.

- :class:`Treasury` — the typed client over ``PublicTreasury`` (:mod:`civicdao.treasury.client`)
- the records it returns and the contract's limits (:mod:`civicdao.treasury.types`)
- the DAO's actions and what an executed one created, :func:`grant_id_of` (:mod:`civicdao.treasury.actions`)
- the report folded from the treasury's events, :class:`TreasuryReport` (:mod:`civicdao.treasury.report`)

Amounts are int wei (token base units), times int unix seconds, addresses checksummed; ``ETH`` (the zero
address) stands for native ether. See ``docs/treasury.md`` for a walk-through.
"""

from civicdao.governance import Action
from civicdao.treasury.actions import grant_id_of
from civicdao.treasury.client import Treasury
from civicdao.treasury.report import (
    BalancePoint,
    GrantOutflow,
    InflowRecord,
    InflowTotal,
    OutflowRecord,
    RoundOutflow,
    TreasuryReport,
)
from civicdao.treasury.types import (
    CATEGORIES,
    DONATION_CATEGORY,
    ETH,
    MAX_EPOCH_LENGTH,
    MAX_PROJECTS,
    MAX_TRANCHES,
    MIN_EPOCH_LENGTH,
    STEWARD_ROLE,
    UNCAPPED,
    Contribution,
    Donation,
    EpochStatus,
    FeeDeposit,
    GrantClaim,
    GrantCreated,
    GrantInfo,
    ProjectInfo,
    QFRoundOpened,
    RoundFinalization,
    RoundInfo,
    RoundPayout,
    TokenBalance,
    TrancheRelease,
)

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
    "Action",
    "BalancePoint",
    "Contribution",
    "Donation",
    "EpochStatus",
    "FeeDeposit",
    "GrantClaim",
    "GrantCreated",
    "GrantInfo",
    "GrantOutflow",
    "InflowRecord",
    "InflowTotal",
    "OutflowRecord",
    "ProjectInfo",
    "QFRoundOpened",
    "RoundFinalization",
    "RoundInfo",
    "RoundOutflow",
    "RoundPayout",
    "TokenBalance",
    "TrancheRelease",
    "Treasury",
    "TreasuryReport",
    "grant_id_of",
]
