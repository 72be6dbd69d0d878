"""The public-good treasury: balances, inflows, governance actions that spend, grants, QF rounds, reports.

- :class:`Treasury` — the typed client over ``PublicTreasury`` (:mod:`civicdao.treasury.client`)
- the records it returns and the contract's limits (:mod:`civicdao.treasury.types`)
- the DAO's actions and what an executed one created, :func:`grant_id_of` (:mod:`civicdao.treasury.actions`)
- the report folded from the treasury's events, :class:`TreasuryReport` (:mod:`civicdao.treasury.report`)

Amounts are int wei (token base units), times int unix seconds, addresses checksummed; ``ETH`` (the zero
address) stands for native ether. See ``docs/treasury.md`` for a walk-through.
"""

from civicdao.governance import Action
from civicdao.treasury import report, types
from civicdao.treasury.actions import grant_id_of
from civicdao.treasury.client import Treasury
from civicdao.treasury.report import *  # noqa: F403  (the report's records)
from civicdao.treasury.types import *  # noqa: F403  (the records, the limits, ETH)

__all__ = ["Action", "Treasury", "grant_id_of"]
__all__ += types.__all__
__all__ += report.__all__
