"""Helpers for local chains only, kept for code written before :mod:`civicdao.local` existed.

New code: :func:`civicdao.local.pass_proposal` (a typed record) or ``CivicDAO.pass_proposal``.
"""

from __future__ import annotations

from collections.abc import Sequence

from civicdao.accounts import Signer
from civicdao.chain import ChainControl
from civicdao.governance import Action, Governance
from civicdao.local import pass_proposal as _pass_proposal
from civicdao.tx import TxRecord

__all__ = ["pass_proposal"]


def pass_proposal(
    governance: Governance,
    control: ChainControl,
    proposer: Signer,
    voters: Sequence[Signer],
    actions: Sequence[Action],
    description: str,
) -> tuple[int, TxRecord]:
    """:func:`civicdao.local.pass_proposal` as the tuple ``(proposal id, execution)`` older code unpacks."""
    passed = _pass_proposal(governance, control, proposer, voters, actions, description)
    return passed.proposal_id, passed.execution
