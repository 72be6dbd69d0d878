"""Helpers for local chains only: walk a proposal through its whole life by moving the clock.

Used by the tests, the demo and the Brownie scripts. On a public chain, time passes by itself: use
:class:`civicdao.governance.Governance` step by step instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from civicdao.accounts import Signer
from civicdao.chain import ChainControl
from civicdao.governance import Action, Governance, ProposalState, VoteType
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
    """Propose, vote FOR with every voter, queue and execute; returns the proposal id and the execution."""
    proposal_id, _ = governance.propose(proposer, actions, description)
    control.increase_time(governance.voting_delay() + 1)
    for voter in voters:
        governance.vote(voter, proposal_id, VoteType.FOR)
    _wait_until_voting_ends(governance, control, proposal_id)
    governance.queue(proposer, proposal_id)
    control.increase_time(governance.timelock_delay() + 1)
    return proposal_id, governance.execute(proposer, proposal_id)


def _wait_until_voting_ends(governance: Governance, control: ChainControl, proposal_id: int) -> None:
    deadline = governance.deadline(proposal_id)
    now = control.time()
    if now <= deadline:
        control.increase_time(deadline - now + 1)
    state = governance.state(proposal_id)
    if state is not ProposalState.SUCCEEDED:
        tally = governance.tally(proposal_id)
        raise AssertionError(f"proposal {proposal_id} ended {state.name}, not SUCCEEDED (tally {tally})")
