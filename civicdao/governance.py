"""Proposals, votes and execution through the CivicGovernor and its Timelock.

A proposal is a list of :class:`Action` (a call the Timelock will make) and a description. Typed builders in
the other modules (``civicdao.treasury``, ``civicdao.exchange``) return Actions; :func:`Action.call` builds
one from any bound contract function. Every proposal description ends with ``#proposer=0x…`` so nobody can
front-run its creation (OpenZeppelin's opt-in protection).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import Web3Exception

from civicdao.accounts import Signer, checksum
from civicdao.errors import ConfigError, InvalidAmountError
from civicdao.tx import TxRecord, call, transact

__all__ = [
    "Action",
    "Governance",
    "Proposal",
    "ProposalState",
    "SignedBallot",
    "Tally",
    "VoteType",
    "with_proposer_suffix",
]

logger = logging.getLogger(__name__)


class VoteType(IntEnum):
    """How a ballot counts (GovernorCountingOverridable's order)."""

    AGAINST = 0
    FOR = 1
    ABSTAIN = 2


class ProposalState(IntEnum):
    """OpenZeppelin's IGovernor.ProposalState, in contract order."""

    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7


@dataclass(frozen=True)
class Action:
    """One call the Timelock makes when a proposal executes."""

    target: ChecksumAddress
    value: int
    calldata: bytes
    description: str = ""

    def __post_init__(self) -> None:
        if self.value < 0:
            raise InvalidAmountError(f"an action's value must be 0 or more wei, got {self.value}")

    @classmethod
    def call(cls, fn: ContractFunction, *, value: int = 0, description: str = "") -> Action:
        """An action from a bound function: ``Action.call(treasury.functions.setEpochCap(t, cap))``."""
        return cls(
            target=checksum(fn.address, what="action target"),
            value=value,
            calldata=bytes(HexBytes(fn._encode_transaction_data())),
            description=description or f"{fn.fn_name}{tuple(fn.args)}",
        )

    @classmethod
    def transfer(cls, to: str, value: int, *, description: str = "") -> Action:
        """Send ``value`` wei of the Timelock's ETH to ``to``."""
        return cls(checksum(to, what="recipient"), value, b"", description or f"send {value} wei to {to}")


@dataclass(frozen=True)
class Tally:
    against: int
    for_: int
    abstain: int


@dataclass(frozen=True)
class Proposal:
    """A proposal as the governor stores it, with its live state and tally."""

    id: int
    proposer: ChecksumAddress
    description: str
    state: ProposalState
    snapshot: int
    deadline: int
    eta: int
    tally: Tally
    targets: tuple[ChecksumAddress, ...]
    values: tuple[int, ...]
    calldatas: tuple[bytes, ...]


@dataclass(frozen=True)
class SignedBallot:
    """A ballot a voter signed off-chain (EIP-712 ``Ballot``) for a relayer to submit.

    Sign ``Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)`` in the governor's domain
    (its name, version ``"1"``), with ``nonce`` = :meth:`Governance.nonce` of the voter at signing time.
    """

    proposal_id: int
    support: VoteType
    voter: ChecksumAddress
    signature: bytes


def with_proposer_suffix(description: str, proposer: str) -> str:
    """``description`` ending in ``#proposer=<address>``, which OpenZeppelin checks against the sender."""
    suffix = f"#proposer={checksum(proposer, what='proposer')}"
    return description if description.endswith(suffix) else f"{description}{suffix}"


class Governance:
    """Typed access to a CivicGovernor (and the Timelock it executes through)."""

    def __init__(self, w3: Web3, governor: Contract, timelock: Contract | None = None) -> None:
        self.w3 = w3
        self.governor = governor
        self.timelock = timelock

    @classmethod
    def from_suite(cls, suite: Any) -> Governance:
        """From a :class:`civicdao.deploy.Suite`."""
        return cls(suite.w3, suite.governor, suite.timelock)

    # -- settings ---------------------------------------------------------------------------------------

    def voting_delay(self) -> int:
        return int(call(self.governor.functions.votingDelay()))

    def voting_period(self) -> int:
        return int(call(self.governor.functions.votingPeriod()))

    def timelock_delay(self) -> int:
        if self.timelock is None:
            raise ConfigError("this Governance has no timelock contract bound")
        return int(call(self.timelock.functions.getMinDelay()))

    # -- lifecycle --------------------------------------------------------------------------------------

    def propose(self, signer: Signer, actions: Sequence[Action], description: str) -> tuple[int, TxRecord]:
        """Create a proposal; returns its id and the transaction record."""
        if not actions:
            raise ConfigError("a proposal needs at least one action")
        if not description.strip():
            raise ConfigError("a proposal needs a description")
        self.check_actions(actions)
        full = with_proposer_suffix(description, signer.address)
        targets, values, calldatas = _columns(actions)
        record = transact(self.w3, signer, self.governor.functions.propose(targets, values, calldatas, full))
        proposal_id = int(record.event("ProposalCreated")["proposalId"])
        logger.info("proposal %s created by %s", proposal_id, signer.address)
        return proposal_id, record

    def check_actions(self, actions: Sequence[Action]) -> None:
        """Refuse actions that would harm the governor itself (see docs/openzeppelin-5.3-notes.md, item 1).

        A late-quorum extension longer than the voting period can overflow the extended deadline in
        OpenZeppelin 5.3.0 and make every proposal that reaches quorum revert, with no way back.

        Raises:
            ConfigError: an action sets such an extension, or shortens the voting period below it.
        """
        governor = checksum(self.governor.address, what="governor")
        for action in actions:
            if action.target != governor or len(action.calldata) < 4:
                continue
            try:
                fn, args = self.governor.decode_function_input(action.calldata)
            except (ValueError, Web3Exception):
                continue  # not one of the governor's functions: nothing of ours to check
            name = fn.fn_name
            if name == "setLateQuorumVoteExtension":
                period = self.voting_period()
                if int(args["newVoteExtension"]) > period:
                    raise ConfigError(
                        f"a late-quorum extension of {args['newVoteExtension']} s exceeds the voting period "
                        f"({period} s): OpenZeppelin 5.3 could overflow the deadline and lock governance"
                    )
            elif name == "setVotingPeriod":
                extension = int(call(self.governor.functions.lateQuorumVoteExtension()))
                if int(args["newVotingPeriod"]) < extension:
                    raise ConfigError(
                        f"a voting period of {args['newVotingPeriod']} s is shorter than the late-quorum "
                        f"extension ({extension} s): lower the extension first"
                    )

    def late_quorum_extension_action(self, seconds: int) -> Action:
        """A Timelock action setting the late-quorum extension (refused above the voting period)."""
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
            raise ConfigError(f"an extension is a whole number of seconds, got {seconds!r}")
        action = Action.call(
            self.governor.functions.setLateQuorumVoteExtension(seconds),
            description=f"late-quorum extension {seconds} s",
        )
        self.check_actions([action])
        return action

    def guardian_action(self, guardian: str) -> Action:
        """A Timelock action appointing a new proposal guardian (the zero address removes it)."""
        who = checksum(guardian, what="guardian")
        return Action.call(self.governor.functions.setProposalGuardian(who), description=f"guardian {who}")

    def guardian_expiry_action(self, expiry: int) -> Action:
        """A Timelock action setting when the guardian's cancel power ends (unix seconds, 0 = never)."""
        if not isinstance(expiry, int) or isinstance(expiry, bool) or not 0 <= expiry < 2**48:
            raise ConfigError(f"a guardian expiry is a unix time (0 = never), got {expiry!r}")
        return Action.call(
            self.governor.functions.setProposalGuardianExpiry(expiry), description=f"guardian expiry {expiry}"
        )

    def proposal_id(self, actions: Sequence[Action], description: str, proposer: str) -> int:
        """The id a proposal of ``actions`` and ``description`` by ``proposer`` has (or would have)."""
        targets, values, calldatas = _columns(actions)
        full = with_proposer_suffix(description, proposer)
        digest = Web3.keccak(text=full)
        return int(call(self.governor.functions.hashProposal(targets, values, calldatas, digest)))

    def vote(
        self, signer: Signer, proposal_id: int, support: VoteType | str, *, reason: str = ""
    ) -> TxRecord:
        """Cast a ballot (for, against or abstain), optionally with a reason."""
        choice = _vote_type(support)
        fn = (
            self.governor.functions.castVoteWithReason(proposal_id, int(choice), reason)
            if reason
            else self.governor.functions.castVote(proposal_id, int(choice))
        )
        return transact(self.w3, signer, fn)

    def override_vote(
        self, signer: Signer, proposal_id: int, support: VoteType | str, *, reason: str = ""
    ) -> TxRecord:
        """Vote directly although you delegated: your weight leaves your delegate's ballot (counted once)."""
        choice = _vote_type(support)
        return transact(
            self.w3, signer, self.governor.functions.castOverrideVote(proposal_id, int(choice), reason)
        )

    def relay_ballots(self, relayer: Signer, ballots: Sequence[SignedBallot]) -> TxRecord:
        """Submit voters' signed ballots in one transaction (the governor's ``multicall``).

        A voter's ballots must be in nonce order; ballots of different voters are independent.
        """
        if not ballots:
            raise ConfigError("no ballots to relay")
        calls = [
            self.governor.encode_abi(
                "castVoteBySig",
                [b.proposal_id, int(_vote_type(b.support)), checksum(b.voter, what="voter"), b.signature],
            )
            for b in ballots
        ]
        record = transact(self.w3, relayer, self.governor.functions.multicall(calls))
        logger.info("relayed %d ballots in %s", len(ballots), record.tx_hash)
        return record

    def nonce(self, voter: str) -> int:
        """The nonce ``voter``'s next signed ballot must carry."""
        return int(call(self.governor.functions.nonces(checksum(voter, what="voter"))))

    def queue(self, signer: Signer, proposal_id: int) -> TxRecord:
        """Queue a succeeded proposal in the Timelock."""
        return transact(self.w3, signer, self._by_id("queue", proposal_id))

    def execute(self, signer: Signer, proposal_id: int) -> TxRecord:
        """Execute a queued proposal once the Timelock delay has passed."""
        return transact(self.w3, signer, self._by_id("execute", proposal_id))

    def cancel(self, signer: Signer, proposal_id: int) -> TxRecord:
        """Cancel a proposal (its proposer while pending; the guardian at any stage until it expires)."""
        return transact(self.w3, signer, self._by_id("cancel", proposal_id))

    # -- reading ----------------------------------------------------------------------------------------

    def state(self, proposal_id: int) -> ProposalState:
        return ProposalState(call(self.governor.functions.state(proposal_id)))

    def tally(self, proposal_id: int) -> Tally:
        against, for_, abstain = call(self.governor.functions.proposalVotes(proposal_id))
        return Tally(int(against), int(for_), int(abstain))

    def quorum(self, timepoint: int) -> int:
        """For + Abstain votes needed by a proposal whose snapshot is ``timepoint``."""
        return int(call(self.governor.functions.quorum(timepoint)))

    def deadline(self, proposal_id: int) -> int:
        """When voting ends (moved later if quorum was reached late)."""
        return int(call(self.governor.functions.proposalDeadline(proposal_id)))

    def snapshot(self, proposal_id: int) -> int:
        """The timepoint at which voting power counts for this proposal."""
        return int(call(self.governor.functions.proposalSnapshot(proposal_id)))

    def has_voted(self, proposal_id: int, account: str) -> bool:
        return bool(call(self.governor.functions.hasVoted(proposal_id, checksum(account))))

    def get(self, proposal_id: int) -> Proposal:
        """One proposal with its actions, live state and tally."""
        targets, values, calldatas, description_hash = call(
            self.governor.functions.proposalDetails(proposal_id)
        )
        description = self._description(proposal_id, description_hash)
        return Proposal(
            id=proposal_id,
            proposer=checksum(call(self.governor.functions.proposalProposer(proposal_id))),
            description=description,
            state=self.state(proposal_id),
            snapshot=int(call(self.governor.functions.proposalSnapshot(proposal_id))),
            deadline=int(call(self.governor.functions.proposalDeadline(proposal_id))),
            eta=int(call(self.governor.functions.proposalEta(proposal_id))),
            tally=self.tally(proposal_id),
            targets=tuple(checksum(t) for t in targets),
            values=tuple(int(v) for v in values),
            calldatas=tuple(bytes(c) for c in calldatas),
        )

    def proposals(self) -> list[Proposal]:
        """Every proposal, oldest first (GovernorStorage enumerates them; no indexer needed)."""
        count = int(call(self.governor.functions.proposalCount()))
        ids = [int(call(self.governor.functions.proposalDetailsAt(i))[0]) for i in range(count)]
        return [self.get(proposal_id) for proposal_id in ids]

    # -- internals --------------------------------------------------------------------------------------

    def _by_id(self, name: str, proposal_id: int) -> ContractFunction:
        fn: ContractFunction = self.governor.get_function_by_signature(f"{name}(uint256)")(proposal_id)
        return fn

    def _description(self, proposal_id: int, description_hash: bytes) -> str:
        logs = self.governor.events.ProposalCreated().get_logs(
            from_block=0, argument_filters={"proposalId": proposal_id}
        )
        for log in logs:
            if int(log["args"]["proposalId"]) == proposal_id:
                return str(log["args"]["description"])
        return "0x" + bytes(description_hash).hex()


def _columns(actions: Sequence[Action]) -> tuple[list[ChecksumAddress], list[int], list[bytes]]:
    return [a.target for a in actions], [a.value for a in actions], [a.calldata for a in actions]


def _vote_type(support: VoteType | str) -> VoteType:
    if isinstance(support, VoteType):
        return support
    try:
        return VoteType[str(support).strip().upper()]
    except KeyError:
        raise ConfigError(f"unknown vote {support!r}: choose for, against or abstain") from None
