"""Walk governance through time on a local chain (Anvil or Ganache), where the clock can be moved.

:func:`pass_proposal` takes a proposal from creation to execution in one call; the demo, the docs, the
Brownie scripts and :class:`civicdao.CivicDAO` use it. On a public chain time passes by itself: use
:class:`civicdao.governance.Governance` step by step instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from civicdao.accounts import Signer
from civicdao.chain import ChainControl
from civicdao.errors import CivicDAOError
from civicdao.governance import Action, Governance, ProposalState, VoteType
from civicdao.tx import TxRecord

__all__ = ["PassedProposal", "ProposalFailedError", "pass_proposal"]


class ProposalFailedError(CivicDAOError, AssertionError):
    """A proposal walked through :func:`pass_proposal` ended in another state than SUCCEEDED.

    Also an ``AssertionError`` (what this helper raised when it lived in ``civicdao.testing``): the voters
    given did not carry the vote, which on a local walk-through is a mistake in the script.
    """


@dataclass(frozen=True)
class PassedProposal:
    """A proposal that was created, voted FOR, queued and executed."""

    proposal_id: int
    #: The ``execute`` transaction, with its decoded events (the executed actions' events included).
    execution: TxRecord


def pass_proposal(
    governance: Governance,
    control: ChainControl,
    proposer: Signer,
    voters: Sequence[Signer],
    actions: Sequence[Action],
    description: str,
) -> PassedProposal:
    """Propose, vote FOR with every voter, queue and execute, moving the clock between the steps.

    Raises:
        ProposalFailedError: the proposal did not succeed (too few votes for the quorum, say).
    """
    proposal_id = governance.propose(proposer, actions, description).proposal_id
    control.increase_time(governance.voting_delay() + 1)
    for voter in voters:
        governance.vote(voter, proposal_id, VoteType.FOR)
    _wait_until_voting_ends(governance, control, proposal_id)
    governance.queue(proposer, proposal_id)
    control.increase_time(governance.timelock_delay() + 1)
    return PassedProposal(proposal_id, governance.execute(proposer, proposal_id).tx)


def _wait_until_voting_ends(governance: Governance, control: ChainControl, proposal_id: int) -> None:
    deadline = governance.deadline(proposal_id)
    now = control.time()
    if now <= deadline:
        control.increase_time(deadline - now + 1)
    state = governance.state(proposal_id)
    if state is not ProposalState.SUCCEEDED:
        tally = governance.tally(proposal_id)
        raise ProposalFailedError(f"proposal {proposal_id} ended {state.name}, not SUCCEEDED (tally {tally})")
