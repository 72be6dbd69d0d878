"""Typed access to a deployed ``ParticipatoryBudget``: read rounds, projects, ballots; act; tally; verify."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from eth_abi.abi import encode
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from civicdao.accounts import Signer, checksum
from civicdao.budget.signing import SignedBudgetBallot, ballot_typed_data, sign_ballot
from civicdao.budget.tally import RULES, TallyResult, rule_id, tally
from civicdao.budget.types import (
    Ballot,
    BallotRejectedError,
    BudgetError,
    Outcome,
    ProjectInfo,
    RoundInfo,
    RoundStatus,
    VerifyResult,
    bitmap_of,
    indexes_of,
)
from civicdao.contracts import bind
from civicdao.deploy import ETH, Suite
from civicdao.errors import ConfigError, SigningError
from civicdao.governance import Action
from civicdao.logs import event_logs
from civicdao.signing import Domain, normalize_signature, read_domain, recover_signer
from civicdao.treasury import Treasury
from civicdao.tx import TxRecord, call, transact

if TYPE_CHECKING:
    from civicdao.index.queries import IndexReader

__all__ = ["DEFAULT_BATCH", "ParticipatoryBudget", "open_round_actions"]

logger = logging.getLogger(__name__)

#: Ballots per relayed transaction (about 3.7 M gas at ~37 k per ballot).
DEFAULT_BATCH = 100
_ZERO = "0x" + "00" * 32

Progress = Callable[[int], None]


def open_round_actions(
    budget_contract: Contract,
    treasury: Treasury,
    *,
    budget: int,
    submission_period: int,
    voting_period: int,
    challenge_period: int,
    payout_duration: int = 0,
    min_approvals: int = 1,
    max_approvals: int = 256,
    token: str = ETH,
) -> list[Action]:
    """The two actions of the DAO proposal that opens a round: the treasury transfers the budget to the
    participatory-budget contract (charged against the treasury's epoch cap), then the round opens and
    reserves it. Windows start when the proposal executes."""
    transfer = treasury.transfer_action(
        to=budget_contract.address, amount=budget, token=token, memo="participatory budget"
    )
    fn = budget_contract.functions.openRound(
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


class ParticipatoryBudget:
    """One deployed ``ParticipatoryBudget``.

    Build it with :meth:`from_suite` or :meth:`at`. Projects and ballots are read from the
    ``ProjectSubmitted`` and ``BallotCast`` events: from ``index`` when given, else from the node's logs from
    ``from_block`` on (the deployment block when built from a suite), in adaptive ranges.
    """

    def __init__(
        self, w3: Web3, contract: Contract, *, from_block: int = 0, index: IndexReader | None = None
    ) -> None:
        if not isinstance(contract, Contract):
            raise ConfigError(f"expected the bound ParticipatoryBudget, got {type(contract).__name__}")
        self.w3 = w3
        self.contract = contract
        self.from_block = from_block
        #: The event index the lists read (None: the node's logs, in adaptive ranges).
        self.index = index
        self._domain: Domain | None = None

    @classmethod
    def from_suite(cls, suite: Suite, *, index: IndexReader | None = None) -> ParticipatoryBudget:
        """The participatory budget of a deployed suite (its lists read ``index`` when given)."""
        entry = suite.manifest.contracts.get("budget")
        return cls(suite.w3, suite.budget, from_block=entry.block if entry else 0, index=index)

    @classmethod
    def at(
        cls, w3: Web3, address: str, *, from_block: int = 0, index: IndexReader | None = None
    ) -> ParticipatoryBudget:
        """The participatory budget deployed at ``address``."""
        return cls(w3, bind(w3, "ParticipatoryBudget", address), from_block=from_block, index=index)

    @property
    def address(self) -> ChecksumAddress:
        return checksum(self.contract.address, what="budget address")

    def domain(self) -> Domain:
        """The EIP-712 domain ballots are signed in (read once)."""
        if self._domain is None:
            self._domain = read_domain(self.contract)
        return self._domain

    # -- views -------------------------------------------------------------------------------------------

    def round_count(self) -> int:
        return int(call(self.contract.functions.roundCount()))

    def get_round(self, round_id: int) -> RoundInfo:
        """A round as stored (raises ``BudgetRoundNotFound`` for an unknown id)."""
        r = call(self.contract.functions.getRound(round_id))
        (token, sub_start, count, min_a, budget, v_start, v_end, spent, challenge, payout,
         posted, finalized, max_a, status, winners, digest, rule, voters, log) = r  # fmt: skip
        return RoundInfo(
            round_id=round_id,
            token=to_checksum_address(token),
            budget=int(budget),
            status=RoundStatus(int(status)),
            submission_start=int(sub_start),
            voting_start=int(v_start),
            voting_end=int(v_end),
            challenge_period=int(challenge),
            payout_duration=int(payout),
            min_approvals=int(min_a),
            max_approvals=int(max_a),
            project_count=int(count),
            voter_count=int(voters),
            ballot_log=HexBytes(log).to_0x_hex(),
            winners=indexes_of(int(winners)),
            spent=int(spent),
            ballot_digest=HexBytes(digest).to_0x_hex(),
            rule_id=HexBytes(rule).to_0x_hex(),
            posted_at=int(posted),
            finalized_at=int(finalized),
        )

    def projects(self, round_id: int) -> tuple[ProjectInfo, ...]:
        """Every project of a round, in index order, with its metadata URI from ``ProjectSubmitted``."""
        self.get_round(round_id)
        projects = []
        for args in sorted(self._events("ProjectSubmitted", round_id), key=lambda a: int(a["projectIndex"])):
            index = int(args["projectIndex"])
            claimed = int(call(self.contract.functions.getProject(round_id, index))[2])
            projects.append(
                ProjectInfo(
                    round_id=round_id,
                    index=index,
                    cost=int(args["cost"]),
                    recipient=to_checksum_address(args["recipient"]),
                    proposer=to_checksum_address(args["proposer"]),
                    metadata_uri=str(args["metadataURI"]),
                    claimed=claimed,
                )
            )
        return tuple(projects)

    def ballots(self, round_id: int) -> dict[int, Ballot]:
        """The ballot that counts for each membership (its last ``BallotCast``), keyed by membership id.

        The events are chained again and compared with the round's on-chain ``ballotLog``, so a reader that
        missed or reordered a ballot event fails instead of tallying a partial set.

        Raises:
            BudgetError: the events read do not reproduce the on-chain ballot log.
        """
        info = self.get_round(round_id)
        events = self._events("BallotCast", round_id)
        log = bytes(32)
        current: dict[int, Ballot] = {}
        for args in events:
            membership, approvals = int(args["membership"]), int(args["approvals"])
            log = bytes(Web3.keccak(encode(["bytes32", "uint256", "uint256"], [log, membership, approvals])))
            current[membership] = Ballot(membership, to_checksum_address(args["voter"]), approvals)
        if HexBytes(log).to_0x_hex() != info.ballot_log or len(current) != info.voter_count:
            fix = (
                f"the index (up to block {self.index.as_of_block}) is behind the chain; sync it"
                if self.index is not None
                else "the node returned an incomplete log range; retry against an archive node"
            )
            raise BudgetError(
                f"the {len(events)} ballot events read for round {round_id} do not reproduce its on-chain "
                f"ballot log: {fix}"
            )
        return current

    def _events(self, name: str, round_id: int) -> list[dict[str, Any]]:
        """The arguments of the round's ``name`` events in chain order (the index's integers are decimal
        strings: read them with ``int``)."""
        if self.index is not None:
            found = [dict(ev.args) for ev in self.index.contract_events(self.address, [name])]
        else:
            found = [dict(log["args"]) for log in event_logs(self.contract, name, self.from_block)]
        return [args for args in found if int(args["roundId"]) == round_id]

    def ballot_of(self, round_id: int, membership: int) -> tuple[tuple[int, ...], int]:
        """A membership's current ballot (project indexes) and the nonce its next ballot must carry."""
        approvals, nonce = call(self.contract.functions.ballotOf(round_id, membership))
        return indexes_of(int(approvals)), int(nonce)

    def next_nonce(self, round_id: int, voter: str) -> int:
        """The nonce ``voter``'s next ballot must carry (by the membership the address holds now)."""
        registry = bind(self.w3, "CitizenRegistry", call(self.contract.functions.registry()))
        membership = int(call(registry.functions.membershipOf(checksum(voter, what="voter"))))
        if membership == 0:
            raise BudgetError(f"{voter} holds no membership: register the resident before they vote")
        return self.ballot_of(round_id, membership)[1]

    def claimable(self, round_id: int, project_index: int) -> int:
        return int(call(self.contract.functions.claimable(round_id, project_index)))

    # -- the count ---------------------------------------------------------------------------------------

    def tally(self, round_id: int, rule: str = "mes", *, unit: int = 1) -> TallyResult:
        """The winners of a round from the chain's ballots (see :func:`civicdao.budget.tally.tally`)."""
        info = self.get_round(round_id)
        costs = [project.cost for project in self.projects(round_id)]
        ballots = {m: ballot.approvals for m, ballot in self.ballots(round_id).items()}
        return tally(costs, ballots, info.budget, rule, unit=unit)

    def verify(self, round_id: int, *, unit: int = 1) -> VerifyResult:
        """Recompute the posted outcome from the chain, with the rule it names (and add1 ``unit``).

        Raises:
            BudgetError: no outcome was posted yet, or it names a rule (or unit) not given here.
        """
        info = self.get_round(round_id)
        if info.posted_at == 0:
            raise BudgetError(f"round {round_id} has no posted outcome yet: post one after voting closes")
        rules = {rule_id(name, unit): name for name in RULES}
        if info.rule_id not in rules:
            raise BudgetError(
                f"round {round_id} was posted with rule id {info.rule_id}, which is neither rule with unit "
                f"{unit}: pass the --unit the round was counted with"
            )
        rule = rules[info.rule_id]
        result = self.tally(round_id, rule, unit=unit)
        posted = Outcome(info.winners, info.ballot_digest, info.rule_id)
        recomputed = Outcome(result.selected, result.ballot_digest, result.rule_id)
        return VerifyResult(round_id, posted, recomputed, rule)

    # -- DAO actions -------------------------------------------------------------------------------------

    def open_round_actions(self, treasury: Treasury, **options: Any) -> list[Action]:
        """See :func:`open_round_actions`."""
        return open_round_actions(self.contract, treasury, **options)

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

    # -- residents ---------------------------------------------------------------------------------------

    def submit_project(
        self, signer: Signer, round_id: int, *, recipient: str, cost: int, metadata_uri: str
    ) -> ProjectInfo:
        """Submit a project (a live member, during the submission window)."""
        fn = self.contract.functions.submitProject(
            round_id, checksum(recipient, what="recipient"), cost, metadata_uri
        )
        event = transact(self.w3, signer, fn).event("ProjectSubmitted")
        return ProjectInfo(
            round_id=round_id,
            index=int(event["projectIndex"]),
            cost=int(event["cost"]),
            recipient=to_checksum_address(event["recipient"]),
            proposer=to_checksum_address(event["proposer"]),
            metadata_uri=str(event["metadataURI"]),
        )

    def cast_ballot(self, signer: Signer, round_id: int, projects: Iterable[int]) -> TxRecord:
        """Cast (or change) the signer's ballot directly, paying the gas."""
        return transact(self.w3, signer, self.contract.functions.castBallot(round_id, bitmap_of(projects)))

    def sign_ballot(
        self, signer: Signer, round_id: int, projects: Iterable[int], *, nonce: int | None = None
    ) -> SignedBudgetBallot:
        """A ballot signed by ``signer`` for a relayer (nonce read from the chain unless given)."""
        if nonce is None:
            nonce = self.next_nonce(round_id, signer.address)
        return sign_ballot(
            signer, self.domain(), round_id=round_id, approvals=bitmap_of(projects), nonce=nonce, w3=self.w3
        )

    def ballot_template(self, round_id: int, voter: str, projects: Iterable[int]) -> dict[str, Any]:
        """The typed data ``voter`` signs in a wallet (``eth_signTypedData_v4``), with its next nonce."""
        return ballot_typed_data(
            self.domain(),
            round_id=round_id,
            approvals=bitmap_of(projects),
            nonce=self.next_nonce(round_id, voter),
        )

    def check_signed_ballot(self, typed_data: dict[str, Any], signature: str | bytes) -> SignedBudgetBallot:
        """Check a wallet-signed ballot against the chain before relaying it, as the contract would.

        Raises:
            BallotRejectedError: another contract or chain, a malformed message or signature, a signer who
                holds no membership, a stale nonce (replayed or superseded), voting not open, or a ballot
                naming unknown projects or too few or too many.
        """
        try:
            if typed_data.get("primaryType") != "ApprovalBallot":
                raise BallotRejectedError("this is not an ApprovalBallot")
            message = typed_data["message"]
            round_id, approvals, nonce = (int(str(message[k])) for k in ("roundId", "approvals", "nonce"))
            expected = ballot_typed_data(self.domain(), round_id=round_id, approvals=approvals, nonce=nonce)
            if typed_data.get("domain") != expected["domain"] or typed_data.get("types") != expected["types"]:
                raise BallotRejectedError(
                    f"the ballot was signed for another contract, chain or message type, not {self.address}"
                )
            raw = normalize_signature(signature)
            voter = recover_signer(typed_data, raw)
        except (KeyError, TypeError, ValueError, SigningError) as exc:
            if isinstance(exc, BallotRejectedError):
                raise
            raise BallotRejectedError(f"malformed ballot: {exc}") from None
        info = self.get_round(round_id)
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        if info.status is not RoundStatus.OPEN or not info.voting_start <= now < info.voting_end:
            raise BallotRejectedError(f"round {round_id} is not open for voting now")
        if approvals >> info.project_count:
            raise BallotRejectedError(f"the ballot names a project round {round_id} does not have")
        length = len(indexes_of(approvals))
        if not info.min_approvals <= length <= info.max_approvals:
            raise BallotRejectedError(
                f"the ballot approves {length} projects; round {round_id} takes "
                f"{info.min_approvals} to {info.max_approvals}"
            )
        try:
            next_nonce = self.next_nonce(round_id, voter)
        except BudgetError:
            raise BallotRejectedError(f"{voter} holds no membership: only residents vote") from None
        if nonce != next_nonce:
            raise BallotRejectedError(
                f"the ballot carries nonce {nonce} but {voter}'s next ballot needs {next_nonce}: "
                "it was replayed or a newer ballot replaced it; sign again"
            )
        return SignedBudgetBallot(round_id, approvals, nonce, voter, raw)

    def relay(
        self,
        relayer: Signer,
        round_id: int,
        ballots: Sequence[SignedBudgetBallot],
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
    ) -> list[TxRecord]:
        """Send signed ballots in batches of ``batch_size`` (the relayer pays the gas)."""
        if batch_size < 1:
            raise ConfigError(f"a batch holds at least one ballot, got {batch_size}")
        for ballot in ballots:
            if ballot.round_id != round_id:
                raise BudgetError(
                    f"a ballot signed for round {ballot.round_id} cannot be cast in round {round_id}"
                )
        records = []
        for start in range(0, len(ballots), batch_size):
            chunk = ballots[start : start + batch_size]
            fn = self.contract.functions.castBallotsBySig(round_id, [b.as_call_argument() for b in chunk])
            records.append(transact(self.w3, relayer, fn))
            if progress is not None:
                progress(len(chunk))
        return records

    # -- outcome and money -------------------------------------------------------------------------------

    def post_outcome(self, signer: Signer, round_id: int, result: TallyResult | Outcome) -> TxRecord:
        """Post an outcome after voting closed; the challenge window starts."""
        return transact(
            self.w3, signer, self.contract.functions.postOutcome(round_id, *_outcome_args(result))
        )

    def challenge(self, signer: Signer, round_id: int, result: TallyResult | Outcome) -> TxRecord:
        """Post a differing outcome during the challenge window; the round goes to the DAO."""
        fn = self.contract.functions.challengeOutcome(round_id, *_outcome_args(result))
        return transact(self.w3, signer, fn)

    def finalize(self, signer: Signer, round_id: int) -> TxRecord:
        """Turn the winners into payouts after the challenge window (or the DAO's resolution)."""
        return transact(self.w3, signer, self.contract.functions.finalizeRound(round_id))

    def claim_payout(self, signer: Signer, round_id: int, project_index: int) -> int:
        """A winning project's recipient pulls what its payout has streamed so far; returns the amount."""
        record = transact(self.w3, signer, self.contract.functions.claimPayout(round_id, project_index))
        return int(record.event("PayoutClaimed")["amount"])


def _outcome_args(result: TallyResult | Outcome) -> tuple[int, bytes, bytes]:
    if isinstance(result, TallyResult):
        return result.winners_bitmap, bytes(HexBytes(result.ballot_digest)), bytes(HexBytes(result.rule_id))
    return bitmap_of(result.winners), bytes(HexBytes(result.ballot_digest)), bytes(HexBytes(result.rule_id))
