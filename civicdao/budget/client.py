"""Typed access to a deployed ``ParticipatoryBudget``: read rounds, projects, ballots; act; tally; verify."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from civicdao.accounts import Signer, checksum
from civicdao.budget.actions import BudgetActions
from civicdao.budget.signing import SignedBudgetBallot, ballot_typed_data, sign_ballot
from civicdao.budget.tally import RULES, TallyResult, rule_id, tally
from civicdao.budget.types import (
    Ballot,
    BallotBatch,
    BallotCast,
    BallotRejectedError,
    BudgetError,
    Finalization,
    Outcome,
    OutcomePosted,
    PayoutClaim,
    ProjectInfo,
    RoundInfo,
    RoundStatus,
    VerifyResult,
    bitmap_of,
    indexes_of,
)
from civicdao.client import ContractClient
from civicdao.contracts import bind
from civicdao.errors import ConfigError, SigningError
from civicdao.signing import Domain, normalize_signature, read_domain, recover_signer
from civicdao.tx import Event, TxRecord, call

if TYPE_CHECKING:
    from civicdao.index.queries import IndexReader

__all__ = ["DEFAULT_BATCH", "ParticipatoryBudget"]

logger = logging.getLogger(__name__)

#: Ballots per relayed transaction (about 3.7 M gas at ~37 k per ballot).
DEFAULT_BATCH = 100

Progress = Callable[[int], None]


class ParticipatoryBudget(ContractClient, BudgetActions):
    """One deployed ``ParticipatoryBudget`` (a :class:`~civicdao.client.ContractClient`).

    Build it with :meth:`from_suite` (usually through ``CivicDAO``'s ``dao.budget``) or :meth:`at`. Projects
    and ballots are read from the ``ProjectSubmitted`` and ``BallotCast`` events: from ``index`` when given,
    else from the node's logs from ``from_block`` on (the deployment block when built from a suite), in
    adaptive ranges.
    """

    ARTIFACT: ClassVar[str] = "ParticipatoryBudget"
    SUITE_KEY: ClassVar[str] = "budget"

    def __init__(
        self, w3: Web3, contract: Contract, *, index: IndexReader | None = None, from_block: int = 0
    ) -> None:
        super().__init__(w3, contract, index=index, from_block=from_block)
        self._domain: Domain | None = None

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
        """Every project of a round, in index order, with its metadata URI from ``ProjectSubmitted`` and
        what its payout has paid so far (``claimed``)."""
        self.get_round(round_id)
        return tuple(
            replace(p, claimed=int(call(self.contract.functions.getProject(round_id, p.index))[2]))
            for p in self._submitted(round_id)
        )

    def ballots(self, round_id: int) -> dict[int, Ballot]:
        """The ballot that counts for each membership (its last ``BallotCast``), keyed by membership id.

        The events are chained again and compared with the round's on-chain ``ballotLog``, so a reader that
        missed or reordered a ballot event fails instead of tallying a partial set.

        Raises:
            BudgetError: the events read do not reproduce the on-chain ballot log.
        """
        return self._ballots(self.get_round(round_id))

    def _submitted(self, round_id: int) -> list[ProjectInfo]:
        """The round's projects as their ``ProjectSubmitted`` events tell (``claimed`` left at 0)."""
        projects = [ProjectInfo.from_event(args) for args in self._round_events("ProjectSubmitted", round_id)]
        return sorted(projects, key=lambda p: p.index)

    def _ballots(self, info: RoundInfo) -> dict[int, Ballot]:
        events = self._round_events("BallotCast", info.round_id)
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
                f"the {len(events)} ballot events read for round {info.round_id} do not reproduce its "
                f"on-chain ballot log: {fix}"
            )
        return current

    def _round_events(self, name: str, round_id: int) -> list[dict[str, Any]]:
        """The arguments of the round's ``name`` events in chain order (the index's integers are decimal
        strings: read them with ``int``)."""
        found = (event["args"] for event in self._past_events([name]))
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
        return self._tally(self.get_round(round_id), rule, unit)

    def _tally(self, info: RoundInfo, rule: str, unit: int) -> TallyResult:
        """The count of a round already read: its projects' costs and ballots from the events."""
        costs = [project.cost for project in self._submitted(info.round_id)]
        ballots = {m: ballot.approvals for m, ballot in self._ballots(info).items()}
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
        result = self._tally(info, rule, unit)
        posted = Outcome(info.winners, info.ballot_digest, info.rule_id)
        recomputed = Outcome(result.selected, result.ballot_digest, result.rule_id)
        return VerifyResult(round_id, posted, recomputed, rule)

    # -- residents ---------------------------------------------------------------------------------------

    def submit_project(
        self, signer: Signer, round_id: int, *, recipient: str, cost: int, metadata_uri: str
    ) -> ProjectInfo:
        """Submit a project (a live member, during the submission window); returns it with its index."""
        fn = self.contract.functions.submitProject(
            round_id, checksum(recipient, what="recipient"), cost, metadata_uri
        )
        return ProjectInfo.from_event(self._event(self._send(signer, fn), "ProjectSubmitted").args)

    def cast_ballot(self, signer: Signer, round_id: int, projects: Iterable[int]) -> BallotCast:
        """Cast (or change) the signer's ballot directly, paying the gas."""
        record = self._send(signer, self.contract.functions.castBallot(round_id, bitmap_of(projects)))
        return _ballot_cast(self._event(record, "BallotCast"), record)

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
    ) -> list[BallotBatch]:
        """Send signed ballots in batches of ``batch_size`` (the relayer pays the gas); one record a batch."""
        if batch_size < 1:
            raise ConfigError(f"a batch holds at least one ballot, got {batch_size}")
        for ballot in ballots:
            if ballot.round_id != round_id:
                raise BudgetError(
                    f"a ballot signed for round {ballot.round_id} cannot be cast in round {round_id}"
                )
        batches = []
        for start in range(0, len(ballots), batch_size):
            chunk = ballots[start : start + batch_size]
            fn = self.contract.functions.castBallotsBySig(round_id, [b.as_call_argument() for b in chunk])
            record = self._send(relayer, fn)
            cast = tuple(_ballot_cast(event, record) for event in self._events(record, "BallotCast"))
            batches.append(BallotBatch(round_id, cast, record))
            if progress is not None:
                progress(len(chunk))
        return batches

    # -- outcome and money -------------------------------------------------------------------------------

    def post_outcome(self, signer: Signer, round_id: int, result: TallyResult | Outcome) -> OutcomePosted:
        """Post an outcome after voting closed; the challenge window starts."""
        fn = self.contract.functions.postOutcome(round_id, *_outcome_args(result))
        return self._outcome(signer, fn, "OutcomePosted")

    def challenge(self, signer: Signer, round_id: int, result: TallyResult | Outcome) -> OutcomePosted:
        """Post a differing outcome during the challenge window; the round goes to the DAO."""
        fn = self.contract.functions.challengeOutcome(round_id, *_outcome_args(result))
        return self._outcome(signer, fn, "OutcomeChallenged")

    def finalize(self, signer: Signer, round_id: int) -> Finalization:
        """Turn the winners into payouts after the challenge window (or the DAO's resolution)."""
        record = self._send(signer, self.contract.functions.finalizeRound(round_id))
        event = self._event(record, "RoundFinalized")
        winners = indexes_of(int(event["winners"]))
        return Finalization(round_id, winners, int(event["spent"]), int(event["returned"]), record)

    def claim_payout(self, signer: Signer, round_id: int, project_index: int) -> PayoutClaim:
        """A winning project's recipient pulls what its payout has streamed so far."""
        record = self._send(signer, self.contract.functions.claimPayout(round_id, project_index))
        event = self._event(record, "PayoutClaimed")
        recipient = to_checksum_address(event["recipient"])
        return PayoutClaim(round_id, project_index, recipient, int(event["amount"]), record)

    def _outcome(self, signer: Signer, fn: ContractFunction, name: str) -> OutcomePosted:
        record = self._send(signer, fn)
        event = self._event(record, name)
        outcome = Outcome(
            indexes_of(int(event["winners"])),
            HexBytes(event["ballotDigest"]).to_0x_hex(),
            HexBytes(event["ruleId"]).to_0x_hex(),
        )
        poster = to_checksum_address(event["challenger" if name == "OutcomeChallenged" else "poster"])
        challenge = name == "OutcomeChallenged"
        return OutcomePosted(int(event["roundId"]), poster, outcome, int(event["cost"]), challenge, record)


def _ballot_cast(event: Event, record: TxRecord) -> BallotCast:
    return BallotCast(
        round_id=int(event["roundId"]),
        membership=int(event["membership"]),
        voter=to_checksum_address(event["voter"]),
        approvals=int(event["approvals"]),
        tx=record,
    )


def _outcome_args(result: TallyResult | Outcome) -> tuple[int, bytes, bytes]:
    if isinstance(result, TallyResult):
        return result.winners_bitmap, bytes(HexBytes(result.ballot_digest)), bytes(HexBytes(result.rule_id))
    return bitmap_of(result.winners), bytes(HexBytes(result.ballot_digest)), bytes(HexBytes(result.rule_id))
