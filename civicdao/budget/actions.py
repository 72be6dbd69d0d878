"""What the DAO proposes to a ``ParticipatoryBudget``, and the round an executed proposal opened.

The builders are methods of :class:`~civicdao.budget.ParticipatoryBudget` (defined here, in
:class:`BudgetActions`): propose them with :class:`civicdao.governance.Governance` (or
:meth:`CivicDAO.pass_proposal <civicdao.dao.CivicDAO.pass_proposal>` on a local chain), then read the new
round's id from the execution with :meth:`~BudgetActions.round_id_of`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from civicdao.accounts import checksum
from civicdao.budget.types import MAX_PROJECTS, Outcome, RoundOpened, bitmap_of
from civicdao.client import executed_event
from civicdao.governance import Action
from civicdao.tokens import ETH
from civicdao.tx import TxRecord

if TYPE_CHECKING:
    from civicdao.local import PassedProposal
    from civicdao.treasury import Treasury

__all__ = ["BudgetActions"]


class BudgetActions:
    """The budget's governance actions and execution reader (a base of
    :class:`~civicdao.budget.ParticipatoryBudget`)."""

    contract: Contract

    def open_round_actions(
        self,
        treasury: Treasury,
        *,
        budget: int,
        submission_period: int,
        voting_period: int,
        challenge_period: int,
        payout_duration: int = 0,
        min_approvals: int = 1,
        max_approvals: int = MAX_PROJECTS,
        token: str = ETH,
    ) -> list[Action]:
        """The two actions of the DAO proposal that opens a round: the treasury transfers the budget to
        this contract (charged against the treasury's epoch cap), then the round opens and reserves it.

        Windows (in seconds) start when the proposal executes: submissions for ``submission_period``, then
        voting for ``voting_period``; a posted outcome can be challenged for ``challenge_period``; each
        winner's payout streams over ``payout_duration`` (0: at once). Read the round's id from the
        execution with :meth:`round_id_of`.
        """
        transfer = treasury.transfer_action(
            to=self.contract.address, amount=budget, token=token, memo="participatory budget"
        )
        fn = self.contract.functions.openRound(
            checksum(token, what="token"),
            budget,
            submission_period,
            voting_period,
            challenge_period,
            payout_duration,
            min_approvals,
            max_approvals,
        )
        return [transfer, Action.call(fn, description=f"Open a participatory-budgeting round of {budget}")]

    def resolve_dispute_action(self, round_id: int, outcome: Outcome) -> Action:
        """The DAO settles a challenged round with ``outcome``."""
        fn = self.contract.functions.resolveDispute(
            round_id, bitmap_of(outcome.winners), HexBytes(outcome.ballot_digest), HexBytes(outcome.rule_id)
        )
        return Action.call(fn, description=f"Settle participatory-budgeting round {round_id}")

    def cancel_round_action(self, round_id: int) -> Action:
        """The DAO cancels a round; its budget returns to the treasury."""
        return Action.call(
            self.contract.functions.cancelRound(round_id), description=f"Cancel round {round_id}"
        )

    def round_id_of(self, execution: TxRecord | PassedProposal) -> RoundOpened:
        """The round this contract opened in an executed proposal, from its ``RoundOpened`` event.

        Raises:
            ConfigError: the execution opened no round here, or more than one.
        """
        event, record, proposal_id = executed_event(
            execution, ["RoundOpened"], emitter=self.contract.address, what="budget round"
        )
        return RoundOpened(
            round_id=int(event["roundId"]),
            budget=int(event["budget"]),
            token=Web3.to_checksum_address(event["token"]),
            voting_start=int(event["votingStart"]),
            voting_end=int(event["votingEnd"]),
            proposal_id=proposal_id,
            execution=record,
        )
