"""What the DAO proposes to the treasury, and what an executed proposal created.

Only the DAO's Timelock spends, so spending is built as a :class:`civicdao.governance.Action` (target,
value, calldata, description) to propose with :class:`civicdao.governance.Governance` (or
:meth:`CivicDAO.pass_proposal <civicdao.dao.CivicDAO.pass_proposal>` on a local chain). The builders are
methods of :class:`~civicdao.treasury.Treasury` (defined here, in :class:`TreasuryActions`).

A proposal's effects happen when it executes, so the ids it creates are read from the execution:
:meth:`~TreasuryActions.grant_id_of` (a new grant's id) and :meth:`~TreasuryActions.qf_round_id_of` (a new
QF round's id) take the execution's :class:`~civicdao.tx.TxRecord` or the
:class:`~civicdao.local.PassedProposal` and return a typed record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from web3 import Web3
from web3.contract import Contract

from civicdao._validate import UINT64_MAX, whole_number
from civicdao.client import executed_event
from civicdao.errors import ConfigError
from civicdao.governance import Action
from civicdao.tokens import ETH
from civicdao.treasury._inputs import amount_of, nonzero, note_bytes, shown, token_of
from civicdao.treasury.types import (
    MAX_EPOCH_LENGTH,
    MAX_PROJECTS,
    MAX_TRANCHES,
    MIN_EPOCH_LENGTH,
    STEWARD_ROLE,
    UNCAPPED,
    GrantCreated,
    QFRoundOpened,
)
from civicdao.tx import TxRecord

if TYPE_CHECKING:
    from civicdao.local import PassedProposal

#: The contract keeps grant schedules and round windows in 40 bits (until the year 36,812); larger values
#: revert with TreasuryInvalidSchedule / TreasuryInvalidRoundWindow.
SCHEDULE_MAX = 2**40 - 1

__all__ = ["TreasuryActions", "grant_id_of"]

_GRANT_EVENTS = ("StreamGrantCreated", "MilestoneGrantCreated")


def grant_id_of(
    execution: TxRecord | PassedProposal, *, treasury: str | None = None, proposal_id: int | None = None
) -> GrantCreated:
    """The grant an executed proposal created, read from its ``StreamGrantCreated`` or
    ``MilestoneGrantCreated`` event (emitted by ``treasury`` only, when given).

    ``execution`` is the ``execute`` transaction's record or a :class:`~civicdao.local.PassedProposal`
    (whose proposal id is then kept).

    Raises:
        ConfigError: the execution created no grant, or more than one (read ``execution.events`` then).
    """
    event, record, passed_id = executed_event(execution, _GRANT_EVENTS, emitter=treasury, what="grant")
    return GrantCreated(
        grant_id=int(event["grantId"]),
        kind="stream" if event.name == "StreamGrantCreated" else "milestone",
        recipient=Web3.to_checksum_address(event["recipient"]),
        token=Web3.to_checksum_address(event["token"]),
        amount=int(event["amount"]),
        proposal_id=passed_id if proposal_id is None else proposal_id,
        execution=record,
    )


class TreasuryActions:
    """The treasury's governance actions and execution readers (a base of
    :class:`~civicdao.treasury.Treasury`)."""

    contract: Contract

    # -- grants -------------------------------------------------------------------------------------

    def stream_grant_action(
        self,
        *,
        recipient: str,
        amount: int,
        start: int,
        duration: int,
        cliff: int = 0,
        token: str = ETH,
    ) -> Action:
        """A grant that vests linearly from ``start`` over ``duration`` seconds, nothing before ``cliff``.

        It counts in full against the current epoch's cap when executed, and is committed until claimed.
        Read the new grant's id from the execution with :meth:`grant_id_of`.
        """
        who = nonzero(recipient, "grant recipient")
        address = token_of(token)
        amount = amount_of(amount, "grant amount")
        start, cliff, duration = (
            whole_number(value, name, maximum=SCHEDULE_MAX)
            for value, name in ((start, "start"), (cliff, "cliff"), (duration, "duration"))
        )
        if duration == 0 or cliff > duration:
            raise ConfigError(
                "invalid schedule: need duration > 0 and cliff <= duration "
                f"(cliff {cliff}, duration {duration})"
            )
        return self._action(
            "createStreamGrant",
            [address, who, amount, start, cliff, duration],
            f"Stream grant of {shown(amount, address)} to {who}: vesting from {start} over {duration} s"
            + (f", cliff {cliff} s" if cliff else ""),
        )

    def milestone_grant_action(self, *, recipient: str, tranches: Sequence[int], token: str = ETH) -> Action:
        """A grant paid in ``tranches`` that a steward (or the DAO) releases one by one.

        Read the new grant's id from the execution with :meth:`grant_id_of`.
        """
        who = nonzero(recipient, "grant recipient")
        address = token_of(token)
        if isinstance(tranches, str | bytes) or not 1 <= len(tranches) <= MAX_TRANCHES:
            raise ConfigError(f"a milestone grant needs 1 to {MAX_TRANCHES} tranches")
        amounts = [amount_of(t, f"tranche {i}") for i, t in enumerate(tranches)]
        return self._action(
            "createMilestoneGrant",
            [address, who, amounts],
            f"Milestone grant of {shown(sum(amounts), address)} to {who} in {len(amounts)} tranches",
        )

    def cancel_grant_action(self, grant_id: int) -> Action:
        """Cancel a grant: what has not vested or been released returns to the free balance.

        When the recipient's membership was revoked, everything not yet claimed returns (also after an
        earlier cancellation), since nobody may claim it any more.
        """
        grant_id = whole_number(grant_id, "grant id")
        return self._action("cancelGrant", [grant_id], f"Cancel grant {grant_id}")

    # -- QF rounds ----------------------------------------------------------------------------------

    def open_round_action(
        self,
        *,
        projects: Sequence[str],
        matching_pool: int,
        start: int,
        end: int,
        token: str = ETH,
    ) -> Action:
        """Open a quadratic-funding round over ``projects`` (recipients), contributions in [start, end).

        The matching pool counts against the epoch cap and is committed until finalization frees the
        leftover. Read the new round's id from the execution with :meth:`qf_round_id_of`.
        """
        address = token_of(token)
        if isinstance(projects, str | bytes) or not 1 <= len(projects) <= MAX_PROJECTS:
            raise ConfigError(f"a round needs 1 to {MAX_PROJECTS} projects")
        recipients = [nonzero(p, f"project {i}") for i, p in enumerate(projects)]
        pool = amount_of(matching_pool, "matching pool", allow_zero=True)
        start = whole_number(start, "start", maximum=SCHEDULE_MAX)
        end = whole_number(end, "end", maximum=SCHEDULE_MAX)
        if end <= start:
            raise ConfigError(f"round end {end} must be after its start {start}")
        return self._action(
            "openRound",
            [address, pool, recipients, start, end],
            f"Open QF round: {len(recipients)} projects, matching pool {shown(pool, address)}, "
            f"{start}..{end}",
        )

    def cancel_project_payout_action(self, round_id: int, project_index: int) -> Action:
        """Cancel the unclaimed payout of a finalized round's project whose citizen recipient was revoked.

        The matching returns to the free balance and the contributions become a donation to the commons.
        """
        round_id = whole_number(round_id, "round id")
        project_index = whole_number(project_index, "project index")
        return self._action(
            "cancelProjectPayout",
            [round_id, project_index],
            f"Cancel the payout of project {project_index} of QF round {round_id} (recipient revoked)",
        )

    # -- money out and settings ---------------------------------------------------------------------

    def transfer_action(self, *, to: str, amount: int, token: str = ETH, memo: str | bytes = "") -> Action:
        """Send ``amount`` straight to ``to`` (charged against the epoch cap)."""
        who = nonzero(to, "transfer recipient")
        address = token_of(token)
        amount = amount_of(amount, "transfer amount")
        return self._action(
            "transfer",
            [address, who, amount, note_bytes(memo)],
            f"Transfer {shown(amount, address)} to {who}",
        )

    def set_cap_action(self, *, cap: int, token: str = ETH) -> Action:
        """Set ``token``'s per-epoch spending cap (:data:`UNCAPPED` for none; 0 stops spending).

        Lowering applies at once; raising applies from the next epoch.
        """
        address = token_of(token)
        cap = amount_of(cap, "cap", allow_zero=True)
        text = "uncapped" if cap == UNCAPPED else shown(cap, address)
        return self._action("setEpochCap", [address, cap], f"Set epoch cap of {address}: {text}")

    def set_epoch_length_action(self, length: int) -> Action:
        """Set the epoch length in seconds (1 to 365 days), from the end of the current epoch on."""
        length = whole_number(length, "epoch length", maximum=UINT64_MAX)
        if not MIN_EPOCH_LENGTH <= length <= MAX_EPOCH_LENGTH:
            raise ConfigError(
                f"epoch length {length} s is outside [{MIN_EPOCH_LENGTH}, {MAX_EPOCH_LENGTH}] (1 to 365 days)"
            )
        return self._action("setEpochLength", [length], f"Set epoch length to {length} s")

    def set_steward_action(self, steward: str, *, appointed: bool = True) -> Action:
        """Appoint (or, with ``appointed=False``, dismiss) a steward who releases milestone tranches."""
        who = nonzero(steward, "steward")
        fn, verb = ("grantRole", "Appoint") if appointed else ("revokeRole", "Dismiss")
        return self._action(fn, [STEWARD_ROLE, who], f"{verb} treasury steward {who}")

    def set_citizen_registry_action(self, registry: str) -> Action:
        """Point QF matching at another citizen registry."""
        address = nonzero(registry, "citizen registry")
        return self._action("setRegistry", [address], f"Use citizen registry {address} for QF matching")

    # -- what an execution created ------------------------------------------------------------------

    def grant_id_of(self, execution: TxRecord | PassedProposal) -> GrantCreated:
        """The grant this treasury created in an executed proposal (see :func:`grant_id_of`).

        Raises:
            ConfigError: the execution created no grant here, or more than one.
        """
        return grant_id_of(execution, treasury=self.contract.address)

    def qf_round_id_of(self, execution: TxRecord | PassedProposal) -> QFRoundOpened:
        """The QF round this treasury opened in an executed proposal, from its ``RoundOpened`` event.

        Raises:
            ConfigError: the execution opened no round here, or more than one.
        """
        event, record, proposal_id = executed_event(
            execution, ["RoundOpened"], emitter=self.contract.address, what="QF round"
        )
        return QFRoundOpened(
            round_id=int(event["roundId"]),
            token=Web3.to_checksum_address(event["token"]),
            matching_pool=int(event["matchingPool"]),
            project_count=int(event["projectCount"]),
            start=int(event["start"]),
            end=int(event["end"]),
            proposal_id=proposal_id,
            execution=record,
        )

    # -- internals ----------------------------------------------------------------------------------

    def _action(self, function: str, args: list[Any], description: str) -> Action:
        data = self.contract.encode_abi(function, args=args)
        return Action(
            target=Web3.to_checksum_address(self.contract.address),
            value=0,
            calldata=bytes(Web3.to_bytes(hexstr=data)),
            description=description,
        )
