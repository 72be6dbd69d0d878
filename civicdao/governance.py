"""Proposals, votes and execution through the CivicGovernor and its Timelock.

A proposal is a list of :class:`Action` (a call the Timelock will make) and a description. Typed builders in
the other modules (``civicdao.treasury``, ``civicdao.exchange``) return Actions; :func:`Action.call` builds
one from any bound contract function. Every proposal description ends with ``#proposer=0x…`` so nobody can
front-run its creation (OpenZeppelin's opt-in protection).

Grantee pins: an action that gives an address a role or custody (a role grant, a guardian, a fee sink, a
grant recipient, a rotated membership...) names that address a *grantee* (declared by the builder, or
recognised from the call's selector, see :data:`POWER_GRANTING`). :meth:`Governance.propose` puts a
``CivicTimelock.requireCodeHash(grantee, codeHash)`` call right before each such action, so the code citizens
vote on is the code that receives the power (checked at execution, right before the grant), and
:meth:`Governance.check_actions` refuses a granting action without its pin.
:meth:`Governance.grantee_warnings` (see :mod:`civicdao.codecheck`) says which grantees hold code that can
still change after the grant.

Proposals are read from the governor's ``ProposalCreated`` events (the governor keeps no proposal storage);
queue, execute and cancel send the full proposal read from that event. Given an event index
(``Governance(..., index=reader)`` or ``from_suite(suite, index=reader)``), :meth:`Governance.proposals` and
:meth:`Governance.get` read the index (state, tally, deadline and eta as of the index's last block) and make
no RPC call; without one they read the logs in adaptive ranges (:func:`civicdao.logs.event_logs`) and each
proposal's live state from the chain.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode as abi_decode
from eth_typing import ChecksumAddress
from eth_utils.abi import function_signature_to_4byte_selector
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import Web3Exception

from civicdao._validate import ParsableEnum
from civicdao.accounts import Signer, checksum
from civicdao.client import ContractClient
from civicdao.codecheck import MutableCode, code_hash, mutable_code
from civicdao.contracts import bind
from civicdao.errors import ConfigError, InvalidAmountError, TargetCodeChangedError
from civicdao.logs import event_logs
from civicdao.signing import batch_ballot_typed_data, sign_typed_data, split_signature
from civicdao.tx import TxRecord, call, calldata

if TYPE_CHECKING:
    from civicdao.citizens import Citizens
    from civicdao.index.queries import ProposalRow

__all__ = [
    "POWER_GRANTING",
    "Action",
    "BallotsRelayed",
    "Canceled",
    "Executed",
    "Governance",
    "Proposal",
    "ProposalState",
    "ProposalStep",
    "Proposed",
    "Queued",
    "SignedBallot",
    "Tally",
    "UnpinnedGrantee",
    "VoteCast",
    "VoteType",
    "with_proposer_suffix",
]

logger = logging.getLogger(__name__)


class VoteType(ParsableEnum):
    """How a ballot counts (GovernorCountingOverridable's order): the one vote choice of the library.

    ``VoteType.parse("for")`` or ``VoteType.parse(1)`` reads user input; signed ballots carry its number.
    """

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


#: Functions (by signature) that hand power or custody to an address, and the position of the argument that
#: names it (its name in the comment). Calls to them are recognised whatever builder made the action; builders
#: may also declare ``Action.grantees``.
POWER_GRANTING: dict[str, int] = {
    "grantRole(bytes32,address)": 1,  # account
    "setProposalGuardian(address)": 0,  # newProposalGuardian
    "updateTimelock(address)": 0,  # newTimelock
    "register(address,bytes32)": 0,  # citizen
    "rotate(address,address)": 1,  # to
    "setFeeSink(address)": 0,  # sink
    "setRegistry(address)": 0,  # newRegistry
    "setMembershipHook(address)": 0,  # hook (runs inside every rotation and revocation)
    "sweepSurplus(address,address)": 1,  # to
    "reclaimRevokedCredit(uint256,address,address)": 2,  # to
    "transfer(address,address,uint256,bytes32)": 1,  # to
    "createStreamGrant(address,address,uint256,uint64,uint64,uint64)": 1,  # recipient
    "createMilestoneGrant(address,address,uint256[])": 1,  # recipient
    "openRound(address,uint256,address[],uint64,uint64)": 2,  # projects
}


def _signature_types(signature: str) -> list[str]:
    inner = signature[signature.index("(") + 1 : -1]
    return inner.split(",") if inner else []


def _granting_table() -> dict[bytes, tuple[str, list[str], int]]:
    """selector -> (signature, argument types, index of the grantee argument)."""
    return {
        bytes(function_signature_to_4byte_selector(sig)): (sig, _signature_types(sig), index)
        for sig, index in POWER_GRANTING.items()
    }


_GRANTING = _granting_table()
_REQUIRE_CODE_HASH = bytes(function_signature_to_4byte_selector("requireCodeHash(address,bytes32)"))


@dataclass(frozen=True)
class Action:
    """One call the Timelock makes when a proposal executes.

    ``grantees`` are the addresses the call gives a role or custody to, declared by the builder (calls
    listed in :data:`POWER_GRANTING` are recognised without it); :meth:`Governance.propose` pins their code.
    """

    target: ChecksumAddress
    value: int
    calldata: bytes
    description: str = ""
    grantees: tuple[ChecksumAddress, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.value < 0:
            raise InvalidAmountError(f"an action's value must be 0 or more wei, got {self.value}")

    @classmethod
    def call(
        cls,
        fn: ContractFunction,
        *,
        value: int = 0,
        description: str = "",
        grantees: Sequence[str] = (),
    ) -> Action:
        """An action from a bound function: ``Action.call(treasury.functions.setEpochCap(t, cap))``."""
        return cls(
            target=checksum(fn.address, what="action target"),
            value=value,
            calldata=bytes(HexBytes(calldata(fn))),
            description=description or f"{fn.fn_name}{tuple(fn.args)}",
            grantees=tuple(checksum(g, what="grantee") for g in grantees),
        )

    def all_grantees(self) -> tuple[ChecksumAddress, ...]:
        """The declared grantees plus the one the calldata names if the call is in :data:`POWER_GRANTING`."""
        found = list(self.grantees)
        entry = _GRANTING.get(self.calldata[:4]) if len(self.calldata) >= 4 else None
        if entry is not None:
            _, types, index = entry
            try:
                value = abi_decode(types, self.calldata[4:])[index]
            except Exception:  # malformed calldata names nobody; the call itself will revert
                value = None
            values = value if isinstance(value, (list, tuple)) else [value] if value is not None else []
            found.extend(checksum(v) for v in values)
        return tuple(dict.fromkeys(found))

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
class Proposed:
    """A proposal was created: its id (what every later step names) and the ``propose`` transaction."""

    proposal_id: int
    proposer: ChecksumAddress
    #: The description as stored on chain (ending in ``#proposer=0x…``).
    description: str
    #: The actions as proposed, code-hash pins included (see :meth:`Governance.pin_grantees`).
    actions: tuple[Action, ...]
    tx: TxRecord


@dataclass(frozen=True)
class VoteCast:
    """A ballot counted (read from the governor's ``VoteCast`` or ``OverrideVoteCast`` event).

    ``voter`` is the key whose ballot receipt it used: after a key rotation made during the vote, the old
    key's (see :meth:`Governance.ballot_key`).
    """

    proposal_id: int
    voter: ChecksumAddress
    support: VoteType
    weight: int
    reason: str
    tx: TxRecord


@dataclass(frozen=True)
class BallotsRelayed:
    """Signed ballots submitted in one transaction: each ballot counted, in order."""

    votes: tuple[VoteCast, ...]
    tx: TxRecord


@dataclass(frozen=True)
class ProposalStep:
    """A step of a proposal's life after its creation: which proposal, and the transaction."""

    proposal_id: int
    tx: TxRecord


@dataclass(frozen=True)
class Queued(ProposalStep):
    """A succeeded proposal queued in the Timelock: it can execute from ``eta`` (unix seconds) on."""

    eta: int


@dataclass(frozen=True)
class Executed(ProposalStep):
    """A queued proposal executed: ``tx`` carries the events its actions emitted."""


@dataclass(frozen=True)
class Canceled(ProposalStep):
    """A proposal canceled (by its proposer while pending, or by the guardian)."""


@dataclass(frozen=True)
class UnpinnedGrantee:
    """An address an action gives power or custody to, with no code-hash pin right before that action."""

    #: The action's position in the proposal (0-based).
    action_index: int
    grantee: ChecksumAddress


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


class Governance(ContractClient):
    """Typed access to a CivicGovernor and the Timelock it executes through.

    Build it with ``dao.governance`` (:class:`civicdao.CivicDAO`), :meth:`from_suite` or :meth:`at`;
    ``.contract`` is the governor, :attr:`timelock` the Timelock it names.
    """

    ARTIFACT = "CivicGovernor"
    SUITE_KEY = "governor"

    @functools.cached_property
    def timelock(self) -> Contract:
        """The CivicTimelock that executes this governor's proposals (read from its ``timelock()``)."""
        return bind(self.w3, "CivicTimelock", call(self.contract.functions.timelock()))

    # -- settings ---------------------------------------------------------------------------------------

    def voting_delay(self) -> int:
        return int(call(self.contract.functions.votingDelay()))

    def voting_period(self) -> int:
        return int(call(self.contract.functions.votingPeriod()))

    def timelock_delay(self) -> int:
        return int(call(self.timelock.functions.getMinDelay()))

    # -- lifecycle --------------------------------------------------------------------------------------

    def propose(self, signer: Signer, actions: Sequence[Action], description: str) -> Proposed:
        """Create a proposal; returns its id (``.proposal_id``) and the transaction (``.tx``).

        Every action that gives an address a role or custody gets a code-hash pin right before it
        (:meth:`pin_grantees`); a grantee whose code can still change is logged as a warning
        (:meth:`grantee_warnings`).
        """
        if not actions:
            raise ConfigError("a proposal needs at least one action")
        if not description.strip():
            raise ConfigError("a proposal needs a description")
        codes: dict[ChecksumAddress, bytes] = {}  # each grantee's code, read once for its pin and its warning
        pinned = self._pin_grantees(actions, codes)
        self.check_actions(pinned)
        for warning in self._grantee_warnings(pinned, codes):
            logger.warning("%s", warning.warning())
        full = with_proposer_suffix(description, signer.address)
        targets, values, calldatas = _columns(pinned)
        record = self._send(signer, self.contract.functions.propose(targets, values, calldatas, full))
        created = self._event(record, "ProposalCreated")
        proposal_id = int(created["proposalId"])
        logger.info("proposal %s created by %s", proposal_id, signer.address)
        return Proposed(proposal_id, checksum(created["proposer"]), full, tuple(pinned), record)

    # -- grantee pins -----------------------------------------------------------------------------------

    def pin_action(self, account: str, *, code_hash_: bytes | None = None) -> Action:
        """``CivicTimelock.requireCodeHash(account, hash)``: the execution reverts unless ``account`` still
        holds the code it holds now (or ``code_hash_``; 32 zero bytes = no code)."""
        who = checksum(account, what="grantee")
        expected = code_hash(self.w3, who) if code_hash_ is None else bytes(code_hash_)
        return Action.call(
            self.timelock.functions.requireCodeHash(who, expected),
            description=f"pin the code of {who} (0x{expected.hex()})",
        )

    def pin_grantees(self, actions: Sequence[Action]) -> list[Action]:
        """``actions`` with a :meth:`pin_action` right before every action that gives an address a role or
        custody, for each such address not pinned there already (so calling it twice changes nothing)."""
        return self._pin_grantees(actions, {})

    def _pin_grantees(self, actions: Sequence[Action], codes: dict[ChecksumAddress, bytes]) -> list[Action]:
        out: list[Action] = []
        for action in actions:
            grantees = action.all_grantees()
            if grantees and not self._is_pin(action):
                already = self._pins_before(out)
                out.extend(
                    self.pin_action(g, code_hash_=code_hash(self.w3, g, code=self._code(g, codes)))
                    for g in grantees
                    if g not in already
                )
            out.append(action)
        return out

    def _code(self, account: ChecksumAddress, codes: dict[ChecksumAddress, bytes]) -> bytes:
        """``account``'s code, read from the chain the first time ``codes`` is asked for it."""
        if account not in codes:
            codes[account] = bytes(self.w3.eth.get_code(account))
        return codes[account]

    def unpinned_grantees(self, actions: Sequence[Action]) -> list[UnpinnedGrantee]:
        """Every grantee not pinned by the pin actions right before its action."""
        missing: list[UnpinnedGrantee] = []
        for index, action in enumerate(actions):
            if self._is_pin(action):
                continue
            grantees = action.all_grantees()
            if grantees:
                pinned = self._pins_before(actions[:index])
                missing.extend(UnpinnedGrantee(index, g) for g in grantees if g not in pinned)
        return missing

    def grantee_warnings(self, actions: Sequence[Action]) -> list[MutableCode]:
        """For every grantee of ``actions`` that holds code that can change after the vote (SELFDESTRUCT,
        DELEGATECALL, an upgradeable proxy), why; the CLI prints :meth:`MutableCode.warning` for each."""
        return self._grantee_warnings(actions, {})

    def _grantee_warnings(
        self, actions: Sequence[Action], codes: dict[ChecksumAddress, bytes]
    ) -> list[MutableCode]:
        seen = dict.fromkeys(g for a in actions if not self._is_pin(a) for g in a.all_grantees())
        reports = [mutable_code(self.w3, g, code=self._code(g, codes)) for g in seen]
        return [r for r in reports if r.mutable]

    def check_actions(self, actions: Sequence[Action]) -> None:
        """Refuse actions that would harm the governor itself (see docs/openzeppelin-5.3-notes.md, item 1),
        and power-granting actions without a code-hash pin of their grantee.

        A late-quorum extension longer than the voting period can overflow the extended deadline in
        OpenZeppelin 5.3.0 and make every proposal that reaches quorum revert, with no way back.

        Raises:
            ConfigError: an action sets such an extension, or shortens the voting period below it, or gives
                an address a role or custody without a ``requireCodeHash`` pin right before it.
        """
        missing = self.unpinned_grantees(actions)
        if missing:
            first = missing[0]
            raise ConfigError(
                f"action {first.action_index + 1} ({actions[first.action_index].description or 'unnamed'}) "
                f"gives {first.grantee} power "
                "without a code-hash pin: build it with Governance.pin_grantees (propose does it for you)"
            )
        governor = checksum(self.contract.address, what="governor")
        for action in actions:
            if action.target != governor or len(action.calldata) < 4:
                continue
            try:
                fn, args = self.contract.decode_function_input(action.calldata)
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
                extension = int(call(self.contract.functions.lateQuorumVoteExtension()))
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
            self.contract.functions.setLateQuorumVoteExtension(seconds),
            description=f"late-quorum extension {seconds} s",
        )
        self.check_actions([action])
        return action

    def guardian_action(self, guardian: str) -> Action:
        """A Timelock action appointing a new proposal guardian (the zero address removes it). The guardian is
        its grantee: :meth:`propose` pins its code."""
        who = checksum(guardian, what="guardian")
        return Action.call(
            self.contract.functions.setProposalGuardian(who), description=f"guardian {who}", grantees=[who]
        )

    def guardian_expiry_action(self, expiry: int) -> Action:
        """A Timelock action setting when the guardian's cancel power ends (unix seconds, 0 = never)."""
        if not isinstance(expiry, int) or isinstance(expiry, bool) or not 0 <= expiry < 2**48:
            raise ConfigError(f"a guardian expiry is a unix time (0 = never), got {expiry!r}")
        return Action.call(
            self.contract.functions.setProposalGuardianExpiry(expiry), description=f"guardian expiry {expiry}"
        )

    def proposal_id(self, actions: Sequence[Action], description: str, proposer: str) -> int:
        """The id a proposal of exactly ``actions`` (with their pins: the output of :meth:`pin_grantees`) and
        ``description`` by ``proposer`` has (or would have)."""
        targets, values, calldatas = _columns(actions)
        full = with_proposer_suffix(description, proposer)
        digest = Web3.keccak(text=full)
        return int(call(self.contract.functions.getProposalId(targets, values, calldatas, digest)))

    def vote(
        self, signer: Signer, proposal_id: int, support: VoteType | str | int, *, reason: str = ""
    ) -> VoteCast:
        """Cast a ballot (for, against or abstain), optionally with a reason."""
        choice = VoteType.parse(support)
        fn = (
            self.contract.functions.castVoteWithReason(proposal_id, int(choice), reason)
            if reason
            else self.contract.functions.castVote(proposal_id, int(choice))
        )
        return self._votes(self._send(signer, fn), "VoteCast")[0]

    def override_vote(
        self, signer: Signer, proposal_id: int, support: VoteType | str | int, *, reason: str = ""
    ) -> VoteCast:
        """Vote directly although you delegated: your weight leaves your delegate's ballot (counted once)."""
        choice = VoteType.parse(support)
        record = self._send(
            signer, self.contract.functions.castOverrideVote(proposal_id, int(choice), reason)
        )
        return self._votes(record, "OverrideVoteCast")[0]

    def relay_ballots(self, relayer: Signer, ballots: Sequence[SignedBallot]) -> BallotsRelayed:
        """Submit voters' signed ballots in one transaction (the governor's ``multicall``).

        A voter's ballots must be in nonce order; ballots of different voters are independent.
        """
        if not ballots:
            raise ConfigError("no ballots to relay")
        calls = [
            self.contract.encode_abi(
                "castVoteBySig",
                [b.proposal_id, int(VoteType.parse(b.support)), checksum(b.voter, what="voter"), b.signature],
            )
            for b in ballots
        ]
        record = self._send(relayer, self.contract.functions.multicall(calls))
        logger.info("relayed %d ballots in %s", len(ballots), record.tx_hash)
        return BallotsRelayed(tuple(self._votes(record, "VoteCast")), record)

    def cast_ballots(self, relayer: Signer, ballots: Sequence[SignedBallot]) -> BallotsRelayed:
        """Submit signed ballots on one proposal in one ``castVotesBySig`` (the governor's batched entry
        point: about half the gas per vote of :meth:`relay_ballots` in batches of 100).

        Each ballot's signature is over :func:`civicdao.signing.batch_ballot_typed_data` (a ``BatchBallot``,
        without nonce: :meth:`sign_batch_ballot` makes one). Every ballot must be for the same proposal; the
        batch reverts as a whole on a ballot that would fail (bad signature, a key that voted already, a
        rotated-away key), so check them first.
        """
        if not ballots:
            raise ConfigError("no ballots to relay")
        proposal_ids = {b.proposal_id for b in ballots}
        if len(proposal_ids) != 1:
            raise ConfigError(f"castVotesBySig takes ballots of one proposal, got {len(proposal_ids)}")
        batch = [
            (checksum(b.voter, what="voter"), int(VoteType.parse(b.support)), *split_signature(b.signature))
            for b in ballots
        ]
        fn = self.contract.functions.castVotesBySig(ballots[0].proposal_id, batch)
        record = self._send(relayer, fn)
        logger.info("cast %d ballots in %s", len(ballots), record.tx_hash)
        return BallotsRelayed(tuple(self._votes(record, "VoteCast")), record)

    def sign_batch_ballot(self, voter: Signer, proposal_id: int, support: VoteType | str) -> SignedBallot:
        """``voter``'s signed ``BatchBallot`` for :meth:`cast_ballots` (the voter sends no transaction)."""
        choice = VoteType.parse(support)
        typed = batch_ballot_typed_data(
            self.contract, proposal_id=proposal_id, support=int(choice), voter=voter.address
        )
        signature = sign_typed_data(voter, typed, w3=self.w3)
        return SignedBallot(proposal_id, choice, voter.address, bytes.fromhex(signature.removeprefix("0x")))

    def nonce(self, voter: str) -> int:
        """The nonce ``voter``'s next signed ballot must carry."""
        return int(call(self.contract.functions.nonces(checksum(voter, what="voter"))))

    def queue(self, signer: Signer, proposal_id: int) -> Queued:
        """Queue a succeeded proposal in the Timelock (the full proposal is read from its creation event)."""
        record = self._send(signer, self._with_proposal("queue", proposal_id))
        return Queued(proposal_id, record, eta=int(self._event(record, "ProposalQueued")["etaSeconds"]))

    def execute(self, signer: Signer, proposal_id: int) -> Executed:
        """Execute a queued proposal once the Timelock delay has passed."""
        return Executed(proposal_id, self._send(signer, self._with_proposal("execute", proposal_id)))

    def cancel(self, signer: Signer, proposal_id: int) -> Canceled:
        """Cancel a proposal (its proposer while pending; the guardian at any stage until it expires)."""
        return Canceled(proposal_id, self._send(signer, self._with_proposal("cancel", proposal_id)))

    # -- reading ----------------------------------------------------------------------------------------

    def state(self, proposal_id: int) -> ProposalState:
        return ProposalState(call(self.contract.functions.state(proposal_id)))

    def tally(self, proposal_id: int) -> Tally:
        against, for_, abstain = call(self.contract.functions.proposalVotes(proposal_id))
        return Tally(int(against), int(for_), int(abstain))

    def quorum(self, timepoint: int) -> int:
        """For + Abstain votes needed by a proposal whose snapshot is ``timepoint``."""
        return int(call(self.contract.functions.quorum(timepoint)))

    def proposal_quorum(self, proposal_id: int) -> int:
        """The For + Abstain votes ``proposal_id`` must reach: the quorum fraction of the live citizens at its
        snapshot (OpenZeppelin's rule; the governor stores it with the first ballot, so later votes never look
        the membership history up). Before the snapshot, what it would be with the citizens of now; 0 for an
        unknown proposal."""
        return int(call(self.contract.functions.proposalQuorum(proposal_id)))

    def deadline(self, proposal_id: int) -> int:
        """When voting ends (moved later if quorum was reached late)."""
        return int(call(self.contract.functions.proposalDeadline(proposal_id)))

    def snapshot(self, proposal_id: int) -> int:
        """The timepoint at which voting power counts for this proposal."""
        return int(call(self.contract.functions.proposalSnapshot(proposal_id)))

    def has_voted(self, proposal_id: int, account: str) -> bool:
        """Whether ``account``'s own ballot receipt is used. After a key rotation made during the vote, the
        new key's ballot is recorded under the old key: ask about :meth:`ballot_key` instead."""
        return bool(call(self.contract.functions.hasVoted(proposal_id, checksum(account))))

    def ballot_key(self, proposal_id: int, account: str) -> ChecksumAddress | None:
        """The key whose ballot ``account`` casts on this proposal (the key that held its membership at the
        snapshot, see CitizenRegistry.snapshotVoter), or ``None`` when ``account`` rotated its membership away
        after the snapshot and may not vote on it."""
        return self._citizens.snapshot_voter(account, self.snapshot(proposal_id))

    @functools.cached_property
    def _citizens(self) -> Citizens:
        """The registry's client (the governor's token never changes: read once)."""
        from civicdao.citizens import Citizens  # the registry's client builds on this module's Action

        return Citizens.at(self.w3, call(self.contract.functions.token()))

    def get(self, proposal_id: int) -> Proposal:
        """One proposal with its actions, state and tally (from its ``ProposalCreated`` event).

        With an index: as the index tells it (state as of its last block); otherwise live from the chain.

        Raises:
            ConfigError: no proposal with this id was created by this governor (or is in the index yet).
        """
        if self.index is not None:
            self.index.contract_name(self.contract.address)  # the index covers this governor
            row = self.index.proposal(proposal_id)
            if row is None:
                raise ConfigError(
                    f"no proposal {proposal_id} in the index of governor {self.contract.address} "
                    f"(indexed up to block {self.index.as_of_block}): check the id or sync the index"
                )
            return _from_row(row)
        created = self._created().get(proposal_id)
        if created is None:
            raise ConfigError(f"no proposal {proposal_id} on governor {self.contract.address}")
        return self._proposal(created)

    def proposals(self) -> list[Proposal]:
        """Every proposal, oldest first, from the governor's ``ProposalCreated`` events.

        With an index: read from it (no RPC call; state as of its last block); otherwise each proposal's
        live state, tally and timepoints are read from the chain.
        """
        if self.index is not None:
            created = self.index.contract_events(self.contract.address, ["ProposalCreated"])
            rows = {row.id: row for row in self.index.proposals(with_actions=True)}
            order = [str(ev.args["proposalId"]) for ev in created]
            return [_from_row(rows[pid]) for pid in order if pid in rows]
        return [self._proposal(created) for created in self._created().values()]

    # -- internals --------------------------------------------------------------------------------------

    def _votes(self, record: TxRecord, name: str) -> list[VoteCast]:
        """The ballots ``record``'s transaction counted, from the governor's ``name`` events."""
        return [
            VoteCast(
                proposal_id=int(e["proposalId"]),
                voter=checksum(e["voter"]),
                support=VoteType(int(e["support"])),
                weight=int(e["weight"]),
                reason=str(e["reason"]),
                tx=record,
            )
            for e in self._events(record, name)
        ]

    def _is_pin(self, action: Action) -> bool:
        return action.calldata[:4] == _REQUIRE_CODE_HASH and action.target == self.timelock.address

    def _pins_before(self, actions: Sequence[Action]) -> set[ChecksumAddress]:
        """The accounts pinned by the run of pin actions at the end of ``actions``."""
        pinned: set[ChecksumAddress] = set()
        for action in reversed(actions):
            if not self._is_pin(action):
                break
            account, _ = abi_decode(["address", "bytes32"], action.calldata[4:])
            pinned.add(checksum(account))
        return pinned

    def _created(self, *, from_chain: bool = False) -> dict[int, Any]:
        """Every ``ProposalCreated`` event's arguments by proposal id, oldest first (the index's if any)."""
        if self.index is not None and not from_chain:
            events = self.index.contract_events(self.contract.address, ["ProposalCreated"])
            return {int(ev.args["proposalId"]): _created_args(ev.args) for ev in events}
        logs = event_logs(self.contract, "ProposalCreated", self.from_block)
        return {int(log["args"]["proposalId"]): log["args"] for log in logs}

    def _proposal(self, created: Any) -> Proposal:
        proposal_id = int(created["proposalId"])
        return Proposal(
            id=proposal_id,
            proposer=checksum(created["proposer"]),
            description=str(created["description"]),
            state=self.state(proposal_id),
            snapshot=int(call(self.contract.functions.proposalSnapshot(proposal_id))),
            deadline=int(call(self.contract.functions.proposalDeadline(proposal_id))),
            eta=int(call(self.contract.functions.proposalEta(proposal_id))),
            tally=self.tally(proposal_id),
            targets=tuple(checksum(t) for t in created["targets"]),
            values=tuple(int(v) for v in created["values"]),
            calldatas=tuple(bytes(c) for c in created["calldatas"]),
        )

    def _with_proposal(self, name: str, proposal_id: int) -> ContractFunction:
        """``name(targets, values, calldatas, descriptionHash)`` for the proposal's recorded arguments."""
        created = self._created().get(proposal_id)
        if created is None and self.index is not None:  # created after the index's last block
            created = self._created(from_chain=True).get(proposal_id)
        if created is None:
            raise ConfigError(f"no proposal {proposal_id} on governor {self.contract.address}")
        digest = Web3.keccak(text=str(created["description"]))
        args = (list(created["targets"]), list(created["values"]), list(created["calldatas"]), digest)
        if int(call(self.contract.functions.getProposalId(*args))) != proposal_id:
            raise TargetCodeChangedError(
                f"proposal {proposal_id} cannot be {_PAST_TENSE[name]}: the code at one of its targets "
                f"({', '.join(args[0])}) changed since it was proposed, and its id commits to each target's "
                "code hash; restore that code or propose again"
            )
        fn: ContractFunction = getattr(self.contract.functions, name)(*args)
        return fn


_PAST_TENSE = {"queue": "queued", "execute": "executed", "cancel": "cancelled"}


def _created_args(args: Any) -> dict[str, Any]:
    """An indexed ``ProposalCreated`` (decimal strings, hex bytes) as the decoded log's arguments."""
    return {
        "proposalId": int(args["proposalId"]),
        "proposer": checksum(args["proposer"]),
        "targets": [checksum(t) for t in args["targets"]],
        "values": [int(v) for v in args["values"]],
        "calldatas": [bytes(HexBytes(c)) for c in args["calldatas"]],
        "description": str(args["description"]),
    }


def _from_row(row: ProposalRow) -> Proposal:
    """A proposal as the index tells it (its row read with actions)."""
    return Proposal(
        id=int(row.id),
        proposer=checksum(row.proposer),
        description=row.description,
        state=ProposalState[row.state.upper()],
        snapshot=row.snapshot,
        deadline=row.deadline,
        eta=row.eta,
        tally=Tally(against=row.against_votes, for_=row.for_votes, abstain=row.abstain_votes),
        targets=tuple(checksum(a.target) for a in row.actions),
        values=tuple(a.value for a in row.actions),
        calldatas=tuple(bytes(HexBytes(a.calldata)) for a in row.actions),
    )


def _columns(actions: Sequence[Action]) -> tuple[list[ChecksumAddress], list[int], list[bytes]]:
    return [a.target for a in actions], [a.value for a in actions], [a.calldata for a in actions]
