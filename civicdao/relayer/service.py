"""The relayer's core: verify a signed message against the chain, then store it durably for the batcher.

Nothing here sends a transaction. :class:`Relayer` refuses what would fail on-chain (the checks of
:mod:`civicdao.relayer.policy`, with the named :mod:`civicdao.errors` refusals), refuses replays (the
EIP-712 digest is unique in the store), applies the per-citizen rate limit, and keeps nonces straight when
one citizen has several messages in flight (the next ballot must carry the governor nonce *after* the ones
already queued).

Participatory-budget ballots (``ApprovalBallot`` in the ``ParticipatoryBudget`` domain) name no voter: the
voter is whoever signed. A client may state the voter it expects; a signature by anyone else is refused.
One budget ballot per membership and round is in flight at a time: a change replaces the ballot still waiting
to be sent (it becomes ``superseded``), and waits only while one is being sent.
Budget ballots and delegations (OpenZeppelin's ``Delegation`` names no delegator either) are kept under
:func:`signer_submission_id` (the digest and the signer), not the bare digest: two residents who approve the
same projects, or delegate to the same neighbour with the same nonce and expiry, sign identical messages.

The signature is checked first: only the account that signed a message learns whether that message, or
another ballot of theirs on the same proposal, is already queued. Anyone else gets the signature refusal.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3

from civicdao.accounts import Signer, checksum
from civicdao.budget.client import ParticipatoryBudget
from civicdao.budget.signing import SignedBudgetBallot
from civicdao.budget.types import RoundStatus
from civicdao.deploy import Suite
from civicdao.errors import (
    AlreadyCitizenError,
    AlreadyVotedError,
    CivicDAOError,
    ConfigError,
    InvalidSignatureError,
    MalformedMessageError,
    NonceMismatchError,
    RefusedError,
    UnknownProposalError,
)
from civicdao.governance import Governance, Proposal
from civicdao.relayer.policy import (
    check_member,
    check_new_citizen,
    check_registrar,
    verify_attestation,
    verify_ballot,
    verify_delegation,
)
from civicdao.relayer.store import DuplicateSubmissionError, Store, StoreError, Submission, SubmissionKind
from civicdao.signing import (
    attestation_typed_data,
    ballot_typed_data,
    batch_ballot_typed_data,
    check_signer,
    delegation_typed_data,
    normalize_signature,
    recover_signer,
    typed_data_digest,
)
from civicdao.tx import call, calldata

__all__ = [
    "Health",
    "RateLimitedError",
    "Relayer",
    "RelayerError",
    "RelayerSettings",
    "RoundNotOpenError",
    "UnknownRoundError",
    "parse_uint",
    "signer_submission_id",
]

logger = logging.getLogger(__name__)


class RelayerError(CivicDAOError):
    """The relayer refuses a request for a reason of its own (not the message's validity)."""


class RateLimitedError(RelayerError):
    """The citizen sent more messages than the rate limit allows; try again after ``retry_after`` seconds."""

    def __init__(self, account: str, limit: int, window: float, retry_after: int) -> None:
        self.account = account
        self.retry_after = retry_after
        super().__init__(
            f"{account} sent {limit} messages in the last {window:.0f}s, the most the relayer accepts: "
            f"try again in {retry_after}s"
        )


class UnknownRoundError(RefusedError, LookupError):
    """The participatory budget has no round with this id."""


class RoundNotOpenError(RefusedError, ValueError):
    """The participatory-budget round is not in its voting window."""


@dataclass(frozen=True)
class RelayerSettings:
    """How the relayer batches, limits and spends.

    ``batch_size`` signatures, or the oldest one waiting ``batch_interval`` seconds, trigger a batch;
    one governor ``multicall`` carries at most ``max_batch`` ballots. ``gas_budget_wei`` caps what the
    relayer's account may spend in total (None: no cap).
    """

    batch_size: int = 20
    batch_interval: float = 30.0
    max_batch: int = 100
    max_body_bytes: int = 16_384
    rate_limit: int = 20
    rate_window: float = 3_600.0
    gas_budget_wei: int | None = None
    max_attempts: int = 3
    receipt_timeout: float = 120.0

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_batch", "max_body_bytes", "rate_limit", "max_attempts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number of at least 1, got {value!r}")
        if self.batch_interval <= 0 or self.rate_window <= 0 or self.receipt_timeout <= 0:
            raise ConfigError("batch_interval, rate_window and receipt_timeout must be more than 0 seconds")
        if self.gas_budget_wei is not None and self.gas_budget_wei < 0:
            raise ConfigError(f"gas_budget_wei must be 0 or more, got {self.gas_budget_wei}")


@dataclass(frozen=True)
class Health:
    """What ``GET /health`` reports."""

    ok: bool
    status: str
    chain_id: int
    block: int
    relayer: ChecksumAddress
    balance_wei: int
    gas_spent_wei: int
    gas_budget_wei: int | None
    submissions: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status,
            "chain_id": self.chain_id,
            "block": self.block,
            "relayer": self.relayer,
            "balance_wei": str(self.balance_wei),
            "gas_spent_wei": str(self.gas_spent_wei),
            "gas_budget_wei": None if self.gas_budget_wei is None else str(self.gas_budget_wei),
            "submissions": dict(self.submissions),
        }


#: Meta key of the wei the relayer's account has spent on gas.
GAS_SPENT_KEY = "gas_spent_wei"
#: Meta key set while the batcher is stopped (the reason), cleared when it runs again.
STOPPED_KEY = "stopped"


class Relayer:
    """Verifies signed messages and stores the accepted ones for the batcher.

    ``signer`` is the relayer's funding account (it pays the gas; it never signs citizens' messages).
    """

    def __init__(
        self,
        suite: Suite,
        signer: Signer,
        store: Store,
        settings: RelayerSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.suite = suite
        self.signer = signer
        self.store = store
        self.settings = settings or RelayerSettings()
        self._clock = clock
        self._lock = threading.Lock()  # one acceptance at a time: nonces and duplicates stay consistent
        self._budget: ParticipatoryBudget | None = None

    # -- accepting ----------------------------------------------------------------------------------

    def accept_ballot(self, typed_data: Mapping[str, Any], signature: str) -> Submission:
        """Verify a ballot (BatchBallot, Ballot, ExtendedBallot or OverrideBallot) and queue it for the next
        batch (the batcher packs BatchBallots of a proposal into one ``castVotesBySig``)."""
        with self._lock:
            voter = _claimed_address(typed_data, "voter")
            proposal = str(_claimed_int(typed_data, "proposalId"))
            check_signer(typed_data, signature, voter, role="voter")
            digest = self._new_digest(typed_data)
            queued = self.store.pending_for(voter, ["ballot"], subject=proposal)
            if queued:
                raise AlreadyVotedError(
                    f"a ballot from {voter} on proposal {proposal} is already queued "
                    f"(submission {queued[0].digest})"
                )
            expected = self._next_nonce(
                voter, "ballot", int(call(self.suite.governor.functions.nonces(voter)))
            )
            ballot = verify_ballot(
                self.suite.governor, self.suite.registry, typed_data, signature, expected_nonce=expected
            )
            self._check_rate(voter)
            return self._store(
                digest,
                "ballot",
                voter,
                typed_data,
                signature,
                calldata=calldata(ballot.call(self.suite.governor)),
                subject=proposal,
                nonce=ballot.nonce,
            )

    def accept_delegation(self, typed_data: Mapping[str, Any], signature: str) -> Submission:
        """Verify a delegation (the delegator is recovered from the signature) and queue it."""
        with self._lock:
            delegator = recover_signer(typed_data, signature)
            digest = self._new_signer_id(typed_data, delegator)
            chain_nonce = int(call(self.suite.registry.functions.nonces(delegator)))
            expected = self._next_nonce(delegator, "delegation", chain_nonce)
            delegation = verify_delegation(
                self.suite.registry, typed_data, signature, expected_nonce=expected
            )
            self._check_rate(delegator)
            return self._store(
                digest,
                "delegation",
                delegator,
                typed_data,
                signature,
                calldata=calldata(delegation.call(self.suite.registry)),
                subject=delegation.delegatee,
                nonce=delegation.nonce,
            )

    def accept_attestation(self, typed_data: Mapping[str, Any], signature: str) -> Submission:
        """Verify a registrar's attestation and queue the registration (rate-limited per attested citizen)."""
        with self._lock:
            # before anything about the queue is answered: the signer must be a registrar
            check_registrar(self.suite.registry, recover_signer(typed_data, signature))
            digest = self._new_digest(typed_data)
            attestation = verify_attestation(self.suite.registry, typed_data, signature)
            citizen = attestation.citizen
            if self.store.pending_for(citizen, ["attestation"]):
                raise AlreadyCitizenError(f"an attestation for {citizen} is already queued")
            self._check_rate(citizen)
            return self._store(
                digest,
                "attestation",
                citizen,
                typed_data,
                signature,
                calldata=calldata(attestation.call(self.suite.registry)),
                subject="0x" + attestation.credential_hash.hex(),
            )

    def accept_budget_ballot(
        self, typed_data: Mapping[str, Any], signature: str, *, voter: str | None = None
    ) -> Submission:
        """Verify a participatory-budget approval ballot (the signer is the voter; ``voter``, when given,
        must be who signed) and queue it for the next ``castBallotsBySig`` batch."""
        with self._lock:
            if typed_data.get("primaryType") != "ApprovalBallot":
                raise MalformedMessageError("a budget ballot is an ApprovalBallot (primaryType)")
            round_id = _claimed_int(typed_data, "roundId")
            nonce = _claimed_int(typed_data, "nonce")
            _claimed_int(typed_data, "approvals")
            signer = recover_signer(typed_data, signature)
            if voter is not None and signer != checksum(voter, what="voter"):
                raise InvalidSignatureError(
                    f"the signature is by {signer}, not by the voter {checksum(voter, what='voter')} "
                    "the request names (the wallet signed with another account, or the message was altered)"
                )
            digest = self._new_signer_id(typed_data, signer)
            queued = self.store.pending_for(signer, ["budget_ballot"], subject=str(round_id))
            sending = [q for q in queued if q.status == "submitted"]
            if sending:
                raise AlreadyVotedError(_ballot_being_sent(signer, round_id, sending[0].digest))
            # a ballot still waiting is replaced: it carries the same nonce, which nothing has used yet
            ballot = self._check_budget_ballot(typed_data, signature, signer, round_id, nonce)
            self._check_rate(signer)
            budget = self.budget()
            fn = budget.contract.functions.castBallotsBySig(round_id, [ballot.as_call_argument()])
            try:
                return self._store(
                    digest,
                    "budget_ballot",
                    signer,
                    typed_data,
                    signature,
                    calldata=calldata(fn),
                    subject=str(round_id),
                    nonce=nonce,
                    replaces=queued[0].digest if queued else None,
                )
            except DuplicateSubmissionError:
                raise
            except StoreError:  # the batcher took the waiting ballot meanwhile
                raise AlreadyVotedError(_ballot_being_sent(signer, round_id, queued[0].digest)) from None

    def _check_budget_ballot(
        self,
        typed_data: Mapping[str, Any],
        signature: str,
        signer: ChecksumAddress,
        round_id: int,
        nonce: int,
    ) -> SignedBudgetBallot:
        """The named refusals first (unknown round, not a member, voting closed, stale nonce), then every
        check the contract makes (:meth:`ParticipatoryBudget.check_signed_ballot`)."""
        budget = self.budget()
        self._known_round(round_id)
        membership = check_member(self.suite.registry, signer, purpose="vote in the budget")
        info = budget.get_round(round_id)
        now = int(self.suite.w3.eth.get_block("latest")["timestamp"])
        if info.status is not RoundStatus.OPEN or not info.voting_start <= now < info.voting_end:
            raise RoundNotOpenError(
                f"round {round_id} is not open for voting now (voting runs from {info.voting_start} "
                f"to {info.voting_end}, status {info.status.name.lower()})"
            )
        expected = budget.ballot_of(round_id, membership)[1]
        if nonce != expected:
            raise NonceMismatchError(signer, expected, nonce, f"round {round_id} ballot nonce")
        return budget.check_signed_ballot(dict(typed_data), signature)

    # -- helping clients ----------------------------------------------------------------------------

    def next_nonces(self, account: str) -> dict[str, int]:
        """The nonces ``account``'s next ballot and next delegation must carry (after those queued here)."""
        who = checksum(account, what="account")
        governor_nonce = int(call(self.suite.governor.functions.nonces(who)))
        registry_nonce = int(call(self.suite.registry.functions.nonces(who)))
        return {
            "ballot": self._next_nonce(who, "ballot", governor_nonce),
            "delegation": self._next_nonce(who, "delegation", registry_nonce),
        }

    def ballot_template(
        self, *, proposal_id: int, support: int, voter: str, reason: str | None = None, override: bool = False
    ) -> dict[str, Any]:
        """The typed data ``voter`` should sign. A plain ballot (no reason, no override) is a nonce-less
        ``BatchBallot``, cast in the batched ``castVotesBySig`` (about half the gas per vote); a ballot with a
        reason or an override carries the next nonce (counting ballots queued here)."""
        self.proposal(proposal_id)  # 404 for an unknown proposal before anything else
        if reason is None and not override:
            return batch_ballot_typed_data(
                self.suite.governor, proposal_id=proposal_id, support=support, voter=voter
            )
        nonce = self.next_nonces(voter)["ballot"]
        return ballot_typed_data(
            self.suite.governor,
            proposal_id=proposal_id,
            support=support,
            voter=voter,
            nonce=nonce,
            reason=reason,
            override=override,
        )

    def delegation_template(self, *, delegator: str, delegatee: str, expiry: int) -> dict[str, Any]:
        """The typed data ``delegator`` should sign to delegate to ``delegatee`` (next nonce)."""
        nonce = self.next_nonces(delegator)["delegation"]
        return delegation_typed_data(
            self.suite.registry, delegator=delegator, delegatee=delegatee, expiry=expiry, nonce=nonce
        )

    def attestation_template(self, *, citizen: str, credential_hash: str, expiry: int) -> dict[str, Any]:
        """The Attestation typed data a registrar signs to register ``citizen`` (``registerWithAttestation``).

        Refused before anyone signs: a zero credential hash (MalformedMessageError), a resident who is already
        a citizen or has an attestation queued (AlreadyCitizenError), a used credential (CredentialUsedError).
        """
        typed = attestation_typed_data(
            self.suite.registry, citizen=citizen, credential_hash=credential_hash, expiry=expiry
        )
        who = typed["message"]["citizen"]
        credential = bytes(HexBytes(typed["message"]["credentialHash"]))
        check_new_citizen(self.suite.registry, who, credential=credential)
        if self.store.pending_for(who, ["attestation"]):
            raise AlreadyCitizenError(f"an attestation for {who} is already queued")
        return typed

    def budget_ballot_template(self, *, round_id: int, voter: str, approvals: list[int]) -> dict[str, Any]:
        """The ApprovalBallot typed data ``voter`` should sign to approve ``approvals`` (project indexes)."""
        self._known_round(round_id)
        who = checksum(voter, what="voter")
        check_member(self.suite.registry, who, purpose="vote in the budget")
        return self.budget().ballot_template(round_id, who, approvals)

    def budget(self) -> ParticipatoryBudget:
        """The suite's participatory budget (bound once)."""
        if self._budget is None:
            self._budget = ParticipatoryBudget.from_suite(self.suite)
        return self._budget

    def _known_round(self, round_id: int) -> None:
        if not 0 <= round_id < self.budget().round_count():
            raise UnknownRoundError(f"the participatory budget has no round {round_id}")

    def proposals(self) -> list[Proposal]:
        """Every proposal with its state and tally."""
        return Governance.from_suite(self.suite).proposals()

    def proposal(self, proposal_id: int) -> Proposal:
        """One proposal; :class:`UnknownProposalError` when the governor has none with this id."""
        if proposal_id < 0 or proposal_id >= 2**256:
            raise UnknownProposalError(f"the governor has no proposal {proposal_id}")
        if int(call(self.suite.governor.functions.proposalSnapshot(proposal_id))) == 0:
            raise UnknownProposalError(f"the governor has no proposal {proposal_id}")
        return Governance.from_suite(self.suite).get(proposal_id)

    def submission(self, digest: str) -> Submission | None:
        """A stored submission by its id (the message's EIP-712 digest, or :func:`signer_submission_id`)."""
        return self.store.get(digest.lower())

    def health(self) -> Health:
        """Chain, funding account, gas budget and queue counts."""
        w3 = self.suite.w3
        spent = int(self.store.get_meta(GAS_SPENT_KEY, 0))
        budget = self.settings.gas_budget_wei
        balance = int(w3.eth.get_balance(self.signer.address))
        stopped = self.store.get_meta(STOPPED_KEY)
        if budget is not None and spent >= budget:
            status = f"stopped: gas budget spent ({spent} of {budget} wei)"
        elif stopped:
            status = f"stopped: {stopped}"
        elif balance == 0:
            status = "stopped: the relayer account has no ETH to pay gas"
        else:
            status = "ok"
        return Health(
            ok=status == "ok",
            status=status,
            chain_id=int(w3.eth.chain_id),
            block=int(w3.eth.block_number),
            relayer=self.signer.address,
            balance_wei=balance,
            gas_spent_wei=spent,
            gas_budget_wei=budget,
            submissions=self.store.counts(),
        )

    # -- internals ----------------------------------------------------------------------------------

    def _new_digest(self, typed_data: Mapping[str, Any]) -> str:
        """The message's digest, after refusing a replay."""
        return self._unused("0x" + typed_data_digest(typed_data).hex())

    def _new_signer_id(self, typed_data: Mapping[str, Any], signer: str) -> str:
        """:func:`signer_submission_id`, after refusing a replay of the same signer's message."""
        return self._unused(signer_submission_id(typed_data, signer))

    def _unused(self, submission_id: str) -> str:
        """``submission_id``, unless the store holds it already (a replay: DuplicateSubmissionError)."""
        existing = self.store.get(submission_id)
        if existing is not None:
            raise DuplicateSubmissionError(existing)
        return submission_id

    def _next_nonce(self, account: str, kind: SubmissionKind, chain_nonce: int) -> int:
        """The chain nonce plus this account's queued messages that have not consumed theirs yet."""
        pending = self.store.pending_for(account, [kind])
        queued = [s for s in pending if s.nonce is not None and s.nonce >= chain_nonce]
        return chain_nonce + len(queued)

    def _check_rate(self, account: str) -> None:
        settings = self.settings
        now = self._clock()
        if self.store.count_since(account, now - settings.rate_window) >= settings.rate_limit:
            raise RateLimitedError(
                account, settings.rate_limit, settings.rate_window, int(settings.rate_window)
            )

    def _store(
        self,
        digest: str,
        kind: SubmissionKind,
        signer: str,
        typed_data: Mapping[str, Any],
        signature: str,
        *,
        calldata: str,
        subject: str | None,
        nonce: int | None = None,
        replaces: str | None = None,
    ) -> Submission:
        payload = {
            "typed_data": dict(typed_data),
            "signature": HexBytes(normalize_signature(signature)).to_0x_hex(),
            "calldata": calldata,
        }
        return self.store.add(
            digest=digest,
            kind=kind,
            signer=signer,
            payload=payload,
            subject=subject,
            nonce=nonce,
            replaces=replaces,
        )


def _ballot_being_sent(signer: str, round_id: int, digest: str) -> str:
    return (
        f"a ballot from {signer} in round {round_id} is being sent now (submission {digest}): "
        "change it once that one has landed"
    )


def signer_submission_id(typed_data: Mapping[str, Any], signer: str) -> str:
    """The submission id of a message that does not name its signer (a budget ``ApprovalBallot``, a
    ``Delegation``): keccak256(EIP-712 digest ‖ signer). Residents who approve the same projects, or delegate
    to the same neighbour with the same nonce and expiry, sign byte-identical messages with the same digest;
    the signer makes the id theirs (a replay, or the same message under a malleated signature, keeps the
    id)."""
    digest = typed_data_digest(typed_data)
    return "0x" + bytes(Web3.keccak(bytes(digest) + bytes(HexBytes(signer)))).hex()


def _message(typed_data: Mapping[str, Any]) -> Mapping[str, Any]:
    message = typed_data.get("message") if isinstance(typed_data, Mapping) else None
    if not isinstance(message, Mapping):
        raise MalformedMessageError("typed data has no 'message' object")
    return message


def _claimed_address(typed_data: Mapping[str, Any], name: str) -> ChecksumAddress:
    value = _message(typed_data).get(name)
    try:
        return checksum(str(value), what=name)
    except ConfigError as exc:
        raise MalformedMessageError(str(exc)) from None


def _claimed_int(typed_data: Mapping[str, Any], name: str) -> int:
    value = _message(typed_data).get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedMessageError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, int):
        if not 0 <= value < 2**256:
            raise MalformedMessageError(f"{name} must be between 0 and 2**256-1, got {value}")
        return value
    return parse_uint(value, name, MalformedMessageError)


_UINT_TEXT = re.compile(r"0[xX][0-9a-fA-F]{1,64}|[0-9]{1,78}")


def parse_uint(text: str, what: str, error: type[ConfigError], *, bounded: bool = True) -> int:
    """A whole number written in ASCII digits (decimal, or hex after 0x) — never other scripts' digits, signs,
    spaces or underscores, which Python's ``int()`` would take. Bounded: at most 2**256-1."""
    if not isinstance(text, str) or not _UINT_TEXT.fullmatch(text):
        raise error(
            f"{what} must be a whole number in ASCII digits (decimal, or 0x hex), got {str(text)[:80]!r}"
        )
    value = int(text, 16) if text[:2] in ("0x", "0X") else int(text, 10)
    if bounded and value >= 2**256:
        raise error(f"{what} must be between 0 and 2**256-1")
    return value
