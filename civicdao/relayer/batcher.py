"""The batcher: turn accepted signatures into transactions, exactly once.

One run (:meth:`Batcher.run_once`):

1. **Reconcile** messages left ``submitted`` (by a crash or a restart): a mined receipt settles them or
   sends them back to ``accepted``; an unknown transaction is resolved by looking at the chain (see below;
   a nonce not consumed → back to ``accepted``).
2. **Attestations** and **delegations**, one transaction each (the registry has no ``multicall``).
3. **Ballots**, batched through the governor's ``multicall``; the nonce-less ``BatchBallot`` messages of
   a proposal travel in one ``castVotesBySig(proposalId, [...])`` call of that multicall (it, too, reverts
   as a whole on one bad ballot). Multicall reverts as a whole when one call
   reverts, so the batch is simulated first (``eth_call``); if it would revert, each ballot is added
   one by one to a simulated prefix and the ones that would revert are dropped with the decoded revert
   name (``dropped: GovernorAlreadyCastVote(account=…)``). A message whose effect is already on-chain
   (relayed by someone else, or sent before a crash) is ``confirmed``, never sent twice.
4. **Budget ballots**, batched per round through the participatory budget's ``castBallotsBySig`` (which
   also reverts as a whole), with the same simulation and per-ballot dropping.

``confirmed`` is decided by the chain's resulting state, never by a nonce alone: the transaction that carried
the message (ours, or one found on-chain whose calldata holds the message's signature) must have emitted
the message's own event — ``DelegateChanged(delegator → delegatee)`` with ``delegates(delegator)`` equal to
the requested delegatee after that block, ``VoteCast``/``VoteCastWithParams``/``OverrideVoteCast`` for the
voter on the proposal. A message whose nonce another message used first (a second delegation or ballot
signed with the same nonce, relayed elsewhere) never took effect: it becomes ``superseded`` with the reason.

Every transaction is checked against the gas budget first; when the budget cannot pay for it the batcher
stops and says so in ``/health``. With a key-holding signer the transaction hash is recorded *before*
broadcasting, so a crash between broadcast and receipt loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import TimeExhausted, TransactionNotFound, Web3Exception

from civicdao.budget.signing import SignedBudgetBallot
from civicdao.citizens import Citizens
from civicdao.errors import CivicDAOError, ContractRevert, NetworkError, TransactionError
from civicdao.logs import RangeWindow, iter_logs
from civicdao.relayer.service import GAS_SPENT_KEY, STOPPED_KEY, Relayer
from civicdao.relayer.store import Submission, SubmissionKind
from civicdao.reverts import revert_from_exception
from civicdao.signing import split_signature
from civicdao.tx import Event, broadcast, call, calldata, decode_logs, estimate_gas, fee_fields

__all__ = ["BatchReport", "Batcher", "GasBudgetSpentError"]

logger = logging.getLogger(__name__)


#: Blocks per eth_getLogs request (at most) when looking for the transaction that carried a message.
LOG_WINDOW = 5_000


class GasBudgetSpentError(CivicDAOError):
    """The relayer's gas budget cannot pay for the next transaction."""


@dataclass(frozen=True)
class BatchReport:
    """What one run did."""

    tx_hashes: tuple[str, ...] = ()
    confirmed: tuple[str, ...] = ()
    dropped: tuple[tuple[str, str], ...] = ()
    retried: tuple[str, ...] = ()
    gas_used: int = 0
    stopped: str | None = None
    ballots_per_tx: tuple[int, ...] = field(default=())
    superseded: tuple[tuple[str, str], ...] = ()


@dataclass
class _Run:
    tx_hashes: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    gas_used: int = 0
    stopped: str | None = None
    ballots_per_tx: list[int] = field(default_factory=list)
    superseded: list[tuple[str, str]] = field(default_factory=list)

    def report(self) -> BatchReport:
        return BatchReport(
            tuple(self.tx_hashes),
            tuple(self.confirmed),
            tuple(self.dropped),
            tuple(self.retried),
            self.gas_used,
            self.stopped,
            tuple(self.ballots_per_tx),
            tuple(self.superseded),
        )


class Batcher:
    """Submits what a :class:`~civicdao.relayer.service.Relayer` accepted. One run at a time."""

    def __init__(self, relayer: Relayer) -> None:
        self.relayer = relayer
        self.store = relayer.store
        self.settings = relayer.settings
        self.w3: Web3 = relayer.suite.w3
        self.governor: Contract = relayer.suite.governor
        self.registry: Contract = relayer.suite.registry
        self.budget: Contract = relayer.suite.budget
        self._run_lock = threading.Lock()

    # -- scheduling ---------------------------------------------------------------------------------

    def due(self, now: float) -> bool:
        """Whether a batch is due: ``batch_size`` messages wait, or the oldest waited ``batch_interval``."""
        waiting = self.store.counts()["accepted"]
        if waiting == 0:
            return bool(self.store.counts()["submitted"])
        if waiting >= self.settings.batch_size:
            return True
        oldest = self.store.oldest_accepted_at()
        return oldest is not None and now - oldest >= self.settings.batch_interval

    def run_forever(self, stop: threading.Event, *, poll: float = 0.5) -> None:
        """Run a batch whenever one is due, until ``stop`` is set. Errors are logged, not raised."""
        import time

        while not stop.is_set():
            try:
                if self.due(time.time()):
                    self.run_once()
            except Exception:  # keep serving: a node hiccup must not kill the batcher thread
                logger.exception("batch failed; retrying at the next poll")
            stop.wait(poll)

    # -- one run ------------------------------------------------------------------------------------

    def run_once(self) -> BatchReport:
        """Reconcile, then submit everything accepted (attestations, delegations, then ballots)."""
        with self._run_lock:
            run = _Run()
            self._reconcile(run)
            self.store.set_meta(STOPPED_KEY, None)
            try:
                for submission in self.store.with_status("accepted", kind="attestation"):
                    self._submit_single(run, submission, self.registry.address)
                for submission in self.store.with_status("accepted", kind="delegation"):
                    self._submit_single(run, submission, self.registry.address)
                while True:
                    ballots = self.store.with_status("accepted", kind="ballot", limit=self.settings.max_batch)
                    if not ballots or not self._submit_ballots(run, ballots):
                        break
                while True:
                    waiting = self.store.with_status(
                        "accepted", kind="budget_ballot", limit=self.settings.max_batch
                    )
                    same_round = [b for b in waiting if b.subject == waiting[0].subject] if waiting else []
                    if not same_round or not self._submit_ballots(run, same_round):
                        break
            except GasBudgetSpentError as exc:
                run.stopped = str(exc)
                self.store.set_meta(STOPPED_KEY, str(exc))
                logger.warning("batcher stopped: %s", exc)
            return run.report()

    # -- submitting ---------------------------------------------------------------------------------

    def _submit_single(self, run: _Run, submission: Submission, to: ChecksumAddress) -> None:
        data = submission.payload["calldata"]
        try:
            self._simulate(to, data)
        except ContractRevert as revert:
            self._refuse(run, submission, revert)
            return
        self._send(run, [submission], to, data)

    def _submit_ballots(self, run: _Run, ballots: Sequence[Submission]) -> bool:
        """Send one batch of the ballots that would not revert (governor ballots in a ``multicall``, budget
        ballots of one round in a ``castBallotsBySig``); False when none was sent."""
        to = self.budget.address if ballots[0].kind == "budget_ballot" else self.governor.address
        included: list[Submission] = list(ballots)
        try:
            self._simulate(to, self._batch_data(ballots))
        except ContractRevert:
            included = self._passing_prefix(run, ballots, to)
        if not included:
            return bool(ballots)  # every ballot was dropped: look at the next ones
        sent = self._send(run, included, to, self._batch_data(included))
        if sent:
            run.ballots_per_tx.append(len(included))
        return sent

    def _batch_data(self, ballots: Sequence[Submission]) -> str:
        """The calldata carrying ``ballots``: one ballot is its own call, without multicall's wrapping."""
        if len(ballots) == 1:
            return str(ballots[0].payload["calldata"])
        if ballots[0].kind == "budget_ballot":
            arguments = [_budget_argument(b) for b in ballots]
            fn = self.budget.functions.castBallotsBySig(int(ballots[0].subject or 0), arguments)
            return str(calldata(fn))
        calls = self._governor_calls(ballots)
        return HexBytes(calls[0]).to_0x_hex() if len(calls) == 1 else self._multicall(calls)

    def _governor_calls(self, ballots: Sequence[Submission]) -> list[bytes]:
        """The governor calls carrying ``ballots``, in order: each BatchBallot of a proposal joins that
        proposal's one ``castVotesBySig`` (in the place of its first ballot); other kinds are their own."""
        calls: list[bytes] = []
        batches: dict[int, list[tuple[ChecksumAddress, int, int, bytes, bytes]]] = {}
        places: dict[int, int] = {}
        for ballot in ballots:
            if not _is_batch_ballot(ballot):
                calls.append(bytes(HexBytes(ballot.payload["calldata"])))
                continue
            proposal = int(ballot.subject or 0)
            if proposal not in batches:
                places[proposal] = len(calls)
                calls.append(b"")
                batches[proposal] = []
            batches[proposal].append(_batch_argument(ballot))
        for proposal, arguments in batches.items():
            fn = self.governor.functions.castVotesBySig(proposal, arguments)
            calls[places[proposal]] = bytes(HexBytes(calldata(fn)))
        return calls

    def _passing_prefix(
        self, run: _Run, ballots: Sequence[Submission], to: ChecksumAddress
    ) -> list[Submission]:
        included: list[Submission] = []
        for ballot in ballots:
            try:
                self._simulate(to, self._batch_data([*included, ballot]))
            except ContractRevert as revert:
                self._refuse(run, ballot, revert)
                continue
            included.append(ballot)
        return included

    def _refuse(self, run: _Run, submission: Submission, revert: ContractRevert) -> None:
        if self._settle_landed(run, submission, "already on chain"):
            return
        reason = str(revert).split(" — ")[0]
        self.store.mark_dropped(submission.digest, reason)
        run.dropped.append((submission.digest, reason))
        logger.info("dropped %s %s: %s", submission.kind, submission.digest, reason)

    def _multicall(self, calls: Sequence[bytes]) -> str:
        return str(calldata(self.governor.functions.multicall(list(calls))))

    def _simulate(self, to: str, data: str) -> None:
        tx = {"from": self.relayer.signer.address, "to": to, "data": data}
        try:
            self.w3.eth.call(tx)  # type: ignore[arg-type]
        except (Web3Exception, ValueError) as exc:
            revert = revert_from_exception(exc)
            if revert is None:
                raise TransactionError(f"simulating the batch failed: {exc}") from None
            raise revert from None

    def _send(self, run: _Run, submissions: Sequence[Submission], to: ChecksumAddress, data: str) -> bool:
        signer = self.relayer.signer
        tx: dict[str, Any] = {"from": signer.address, "to": to, "data": data, "value": 0}
        try:
            tx["gas"] = estimate_gas(self.w3, tx)
        except ContractRevert as revert:
            if len(submissions) == 1:
                self._refuse(run, submissions[0], revert)
            return False  # a batch: state moved since the simulation; the next run simulates again
        tx.update(fee_fields(self.w3))
        self._check_budget(tx)
        digests = [s.digest for s in submissions]
        tx_hash = self._broadcast(tx, digests)
        run.tx_hashes.append(tx_hash)
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                HexBytes(tx_hash), timeout=self.settings.receipt_timeout
            )
        except TimeExhausted:
            logger.warning("transaction %s not mined yet; it will be reconciled on the next run", tx_hash)
            return False
        self._settle(run, submissions, tx_hash, receipt)
        return True

    def _broadcast(self, tx: dict[str, Any], digests: Sequence[str]) -> str:
        marked: list[str] = []

        def mark(tx_hash: str) -> None:  # a key signer: before the broadcast, so a crash cannot lose it
            self.store.mark_submitted(digests, tx_hash)
            marked.append(tx_hash)

        try:
            tx_hash = broadcast(self.w3, self.relayer.signer, tx, on_sent=mark).to_0x_hex()
        except (TransactionError, NetworkError) as exc:
            if marked:
                self.store.mark_retry(digests, f"the node refused the transaction: {exc}")
            raise TransactionError(f"the node refused the batch transaction: {exc}") from None
        logger.info("sent %s carrying %d message(s)", tx_hash, len(digests))
        return tx_hash

    def _settle(self, run: _Run, submissions: Sequence[Submission], tx_hash: str, receipt: Any) -> None:
        self._add_spent(run, receipt)
        if receipt["status"] != 1:
            self._retry(run, submissions, f"transaction {tx_hash} reverted once mined")
            return
        events = decode_logs(self.w3, receipt["logs"])
        took_effect = []
        for submission in submissions:
            problem = self._not_in_effect(submission, events, int(receipt["blockNumber"]))
            if problem is None:
                took_effect.append(submission.digest)
            else:
                self._supersede(run, submission, problem, tx_hash)
        self.store.mark_confirmed(took_effect, tx_hash=tx_hash)
        run.confirmed.extend(took_effect)

    def _supersede(self, run: _Run, submission: Submission, reason: str, tx_hash: str | None) -> None:
        self.store.mark_superseded(submission.digest, reason, tx_hash=tx_hash)
        run.superseded.append((submission.digest, reason))
        logger.warning("%s %s superseded: %s", submission.kind, submission.digest, reason)

    def _retry(self, run: _Run, submissions: Sequence[Submission], reason: str) -> None:
        again = [s.digest for s in submissions]
        self.store.mark_retry(again, reason)
        run.retried.extend(again)
        for submission in submissions:
            if submission.attempts + 1 >= self.settings.max_attempts:
                self.store.mark_dropped(
                    submission.digest, f"gave up after {submission.attempts + 1} attempts: {reason}"
                )
                run.dropped.append((submission.digest, reason))

    # -- reconciling --------------------------------------------------------------------------------

    def _reconcile(self, run: _Run) -> None:
        by_tx: dict[str, list[Submission]] = {}
        for submission in self.store.with_status("submitted"):
            by_tx.setdefault(submission.tx_hash or "", []).append(submission)
        for tx_hash, submissions in by_tx.items():
            receipt = self._receipt(tx_hash)
            if receipt is not None:
                self._settle(run, submissions, tx_hash, receipt)
                continue
            if tx_hash and self._in_mempool(tx_hash):
                continue  # still pending: look again next run
            rest = [
                s for s in submissions if not self._settle_landed(run, s, "found on chain after a restart")
            ]
            if rest:
                self._retry(run, rest, f"transaction {tx_hash or '(unknown)'} never reached the chain")

    def _receipt(self, tx_hash: str) -> Any:
        if not tx_hash:
            return None
        try:
            return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except (TransactionNotFound, Web3Exception, ValueError):
            return None

    def _in_mempool(self, tx_hash: str) -> bool:
        try:
            self.w3.eth.get_transaction(HexBytes(tx_hash))
        except (TransactionNotFound, Web3Exception, ValueError):
            return False
        return True

    def _settle_landed(self, run: _Run, submission: Submission, reason: str) -> bool:
        """Settle a message whose nonce is already used (confirmed or superseded); False when it is not."""
        outcome = self._landed(submission)
        if outcome is None:
            return False
        problem, tx_hash = outcome
        if problem is None:
            self.store.mark_confirmed([submission.digest], tx_hash=tx_hash, reason=reason)
            run.confirmed.append(submission.digest)
        else:
            self._supersede(run, submission, problem, tx_hash)
        return True

    def _landed(self, submission: Submission) -> tuple[str | None, str | None] | None:
        """None while the message's nonce (or credential) is unused; else (why it did not take effect, or
        None when it did; the transaction that carried it, when found)."""
        kind: SubmissionKind = submission.kind
        if kind == "attestation":
            credential = HexBytes(submission.payload["typed_data"]["message"]["credentialHash"])
            used = bool(call(self.registry.functions.credentialUsed(credential)))
            if used and call(self.registry.functions.isCitizen(submission.signer)):
                return None, None
            return None
        account = Web3.to_checksum_address(submission.signer)
        if kind == "budget_ballot":
            return self._budget_landed(submission, account)
        if kind == "ballot" and _is_batch_ballot(submission):
            return self._batch_ballot_landed(submission, account)
        contract = self.governor if kind == "ballot" else self.registry
        if int(call(contract.functions.nonces(account))) <= int(submission.nonce or 0):
            return None
        carrier = self._carrier(submission, contract)
        if carrier is None:
            return (
                f"nonce {submission.nonce} of {account} was used by another signed {kind} first: "
                "this one never took effect"
            ), None
        tx_hash = HexBytes(carrier["transactionHash"]).to_0x_hex()
        events = decode_logs(self.w3, carrier["logs"])
        return self._not_in_effect(submission, events, int(carrier["blockNumber"])), tx_hash

    def _batch_ballot_landed(
        self, submission: Submission, account: ChecksumAddress
    ) -> tuple[str | None, str | None] | None:
        """A BatchBallot has no nonce: it landed when a successful transaction carried its signature. None
        while its ballot key has not voted, or voted through another ballot (the simulation then names the
        revert, ``GovernorAlreadyCastVote``, and the ballot is dropped)."""
        proposal = int(submission.subject or 0)
        keys = self._ballot_keys(proposal, account, int(self.w3.eth.block_number))
        if not any(call(self.governor.functions.hasVoted(proposal, key)) for key in keys):
            return None
        carrier = self._carrier(submission, self.governor)
        if carrier is None:
            return None
        tx_hash = HexBytes(carrier["transactionHash"]).to_0x_hex()
        events = decode_logs(self.w3, carrier["logs"])
        return self._not_in_effect(submission, events, int(carrier["blockNumber"])), tx_hash

    def _budget_landed(
        self, submission: Submission, account: ChecksumAddress
    ) -> tuple[str | None, str | None] | None:
        """A budget ballot's nonce is per membership and round (``ballotOf(round, membership).nextNonce``)."""
        membership = int(call(self.registry.functions.membershipOf(account)))
        round_id = int(submission.subject or 0)
        if membership == 0:
            return None  # no membership now: the simulation names why it cannot land
        if int(call(self.budget.functions.ballotOf(round_id, membership))[1]) <= int(submission.nonce or 0):
            return None
        argument = _budget_argument(submission)
        topics = [_topic(round_id), _topic(membership)]
        carrier = self._carrier(submission, self.budget, topics=topics, needles=(argument[2], argument[3]))
        if carrier is None:
            return (
                f"nonce {submission.nonce} of membership {membership} in round {round_id} was used by "
                "another signed ballot first: this one never took effect"
            ), None
        tx_hash = HexBytes(carrier["transactionHash"]).to_0x_hex()
        events = decode_logs(self.w3, carrier["logs"])
        return self._not_in_effect(submission, events, int(carrier["blockNumber"])), tx_hash

    def _carrier(
        self,
        submission: Submission,
        contract: Contract,
        *,
        topics: Sequence[str] | None = None,
        needles: tuple[bytes, bytes] | None = None,
    ) -> Any:
        """The receipt of a successful transaction whose calldata holds this message's signature, or None.

        Looks at the transactions behind the contract's events that name the signer (indexed; or match
        ``topics``), since the contract was deployed; r and s (or ``needles``, as the call encodes the
        signature) appear in the calldata however the call was wrapped (multicall too).
        """
        signature = HexBytes(submission.payload["signature"]).hex()
        r, s = (
            (signature[:64], signature[64:128]) if needles is None else (needles[0].hex(), needles[1].hex())
        )
        key = {self.governor.address: "governor", self.budget.address: "budget"}.get(
            contract.address, "registry"
        )
        account_topic = "0x" + bytes(HexBytes(submission.signer)).rjust(32, b"\x00").hex()
        wanted: list[str | None] = [None, *(topics or [account_topic])]
        first = self.relayer.suite.manifest.contracts[key].block
        seen: set[str] = set()
        window = RangeWindow(LOG_WINDOW, LOG_WINDOW)
        # newest first, in ranges the provider accepts (narrowed when it refuses one)
        for logs in iter_logs(self.w3, contract.address, wanted, first, newest_first=True, window=window):
            for log in reversed(logs):
                tx_hash = HexBytes(log["transactionHash"]).to_0x_hex()
                if tx_hash in seen:
                    continue
                seen.add(tx_hash)
                calldata = HexBytes(self.w3.eth.get_transaction(HexBytes(tx_hash))["input"]).hex()
                if r in calldata and s in calldata:
                    receipt = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
                    if receipt["status"] == 1:
                        return receipt
        return None

    def _not_in_effect(self, submission: Submission, events: Sequence[Event], block: int) -> str | None:
        """Why the mined message did not take effect (None: it did), read from its transaction's events."""
        message = submission.payload["typed_data"]["message"]
        if submission.kind == "delegation":
            delegator = Web3.to_checksum_address(submission.signer)
            delegatee = Web3.to_checksum_address(message["delegatee"])
            moved = any(
                e.name == "DelegateChanged"
                and e.address == self.registry.address
                and e["delegator"] == delegator
                and e["toDelegate"] == delegatee
                for e in events
            )
            now = call(self.registry.functions.delegates(delegator), block=block)
            if moved and now == delegatee:
                return None
            return (
                f"the transaction did not delegate {delegator}'s vote to {delegatee} (its delegate is {now})"
            )
        if submission.kind == "ballot":
            voter = Web3.to_checksum_address(message["voter"])
            proposal = int(submission.subject or 0)
            support = int(message["support"])
            keys = {voter, *self._ballot_keys(proposal, voter, block)}
            cast = any(
                e.name in ("VoteCast", "VoteCastWithParams", "OverrideVoteCast")
                and e.address == self.governor.address
                and e["voter"] in keys
                and int(e["proposalId"]) == proposal
                and int(e["support"]) == support
                for e in events
            )
            if cast:
                return None
            return f"the transaction cast no vote {support} by {voter} on proposal {proposal}"
        if submission.kind == "budget_ballot":
            voter = Web3.to_checksum_address(submission.signer)
            round_id, approvals = int(submission.subject or 0), int(str(message["approvals"]))
            cast = any(
                e.name == "BallotCast"
                and e.address == self.budget.address
                and e["voter"] == voter
                and int(e["roundId"]) == round_id
                and int(e["approvals"]) == approvals
                for e in events
            )
            if cast:
                return None
            return f"the transaction cast no ballot {approvals:#x} by {voter} in round {round_id}"
        return None

    def _ballot_keys(self, proposal_id: int, voter: ChecksumAddress, block: int) -> set[ChecksumAddress]:
        """The key the governor records ``voter``'s ballot under (the key that held the membership at the
        snapshot: ``CitizenRegistry.snapshotVoter``, as :meth:`Governance.ballot_key` reads it)."""
        snapshot = int(call(self.governor.functions.proposalSnapshot(proposal_id), block=block))
        key = Citizens(self.w3, self.registry).snapshot_voter(voter, snapshot, block=block)
        return set() if key is None else {key}

    # -- gas ----------------------------------------------------------------------------------------

    def _check_budget(self, tx: dict[str, Any]) -> None:
        budget = self.settings.gas_budget_wei
        if budget is None:
            return
        price = int(tx.get("maxFeePerGas", tx.get("gasPrice", 0)))
        worst = int(tx["gas"]) * price
        spent = int(self.store.get_meta(GAS_SPENT_KEY, 0))
        if spent + worst > budget:
            raise GasBudgetSpentError(
                f"gas budget spent: {spent} of {budget} wei used, "
                f"the next transaction may cost up to {worst} wei"
            )

    def _add_spent(self, run: _Run, receipt: Any) -> None:
        price = int(receipt.get("effectiveGasPrice", 0) or 0)
        gas = int(receipt["gasUsed"])
        run.gas_used += gas
        spent = int(self.store.get_meta(GAS_SPENT_KEY, 0)) + gas * price
        self.store.set_meta(GAS_SPENT_KEY, spent)


def _budget_argument(submission: Submission) -> tuple[int, int, bytes, bytes]:
    """The ``SignedBallot`` struct (approvals, nonce, r, vs) of a stored budget ballot."""
    message = submission.payload["typed_data"]["message"]
    ballot = SignedBudgetBallot(
        round_id=int(submission.subject or 0),
        approvals=int(str(message["approvals"])),
        nonce=int(str(message["nonce"])),
        voter=Web3.to_checksum_address(submission.signer),
        signature=bytes(HexBytes(submission.payload["signature"])),
    )
    return ballot.as_call_argument()


def _is_batch_ballot(submission: Submission) -> bool:
    """A governor ballot signed as a nonce-less ``BatchBallot`` (cast through ``castVotesBySig``)."""
    primary_type = submission.payload["typed_data"].get("primaryType")
    return submission.kind == "ballot" and primary_type == "BatchBallot"


def _batch_argument(submission: Submission) -> tuple[ChecksumAddress, int, int, bytes, bytes]:
    """The ``SignedBallot`` struct (voter, support, v, r, s) of a stored BatchBallot."""
    message = submission.payload["typed_data"]["message"]
    voter = Web3.to_checksum_address(message["voter"])
    return voter, int(message["support"]), *split_signature(submission.payload["signature"])


def _topic(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()
