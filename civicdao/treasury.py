"""The public-good treasury: balances, inflows, governance actions that spend, grants, QF rounds, reports.

Typed calls over the ``PublicTreasury`` contract. A :class:`Treasury` wraps a ``Web3`` instance and the
bound contract; build one with :meth:`Treasury.from_suite` (or :meth:`Treasury.at`, or
``Treasury(w3, contract)`` for a standalone treasury in tests). Its methods fall into four groups:

* **Views** — :meth:`~Treasury.token_balance`/:meth:`~Treasury.balances` (balance, free, committed,
  counters per token), :meth:`~Treasury.epoch_status` (epoch clock and cap),
  :meth:`~Treasury.get_grant`/:meth:`~Treasury.grants`, :meth:`~Treasury.get_round`,
  :meth:`~Treasury.matched_contribution_of`.
* **Inflows and pulls** — anyone: :meth:`~Treasury.donate`, :meth:`~Treasury.deposit_fee`,
  :meth:`~Treasury.contribute`, :meth:`~Treasury.finalize_round`; recipients: :meth:`~Treasury.claim_grant`,
  :meth:`~Treasury.claim_round_payout`; stewards: :meth:`~Treasury.release_tranche`. Each takes the acting
  :class:`~civicdao.accounts.Signer` first, sends one transaction (plus an ERC-20 approval when needed,
  through :func:`civicdao.tokens.ensure_allowance`) and returns a frozen record with the decoded outcome
  and the :class:`~civicdao.tx.TxRecord`.
* **Governance actions** — only the DAO's Timelock spends, so spending is built as a
  :class:`civicdao.governance.Action` (target, value, calldata, description) to propose with
  :class:`civicdao.governance.Governance`: :meth:`~Treasury.stream_grant_action`,
  :meth:`~Treasury.milestone_grant_action`, :meth:`~Treasury.cancel_grant_action`,
  :meth:`~Treasury.set_cap_action`, :meth:`~Treasury.set_epoch_length_action`,
  :meth:`~Treasury.open_round_action`, :meth:`~Treasury.transfer_action`,
  :meth:`~Treasury.set_steward_action`, :meth:`~Treasury.set_citizen_registry_action`.
* **Report** — :meth:`~Treasury.treasury_report` reads the treasury's events and returns inflows by source
  and category, outflows by grant and round, and the balance over time.

The report and :meth:`~Treasury.grants` read an event index when the treasury has one
(``Treasury.from_suite(suite, index=reader)``): the report then makes no ``eth_getLogs`` call (only the
current balances come from the chain), and the grants list takes its ids from the index. Without an index
the report reads the node's logs in ranges that adapt to the provider's caps (:func:`civicdao.logs.get_logs`).

Every input is validated before anything is sent: a bad address raises
:class:`~civicdao.errors.InvalidAddressError`, a bad amount :class:`~civicdao.errors.InvalidAmountError`,
any other bad argument :class:`~civicdao.errors.ConfigError`. Amounts are int wei (token base units), times
int unix seconds, addresses checksummed; ``ETH`` (the zero address) stands for native ether.

Example::

    treasury = Treasury.from_suite(suite)
    treasury.donate(donor, 2 * 10**18, note="spring-fair")
    grant = treasury.stream_grant_action(recipient=library, amount=10**18, start=t0, duration=30 * DAY)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from eth_typing import ChecksumAddress
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.events import get_event_data
from web3.contract import Contract
from web3.types import BlockIdentifier

from civicdao._validate import UINT64_MAX, whole_number
from civicdao.accounts import Signer, checksum
from civicdao.config import KINDS
from civicdao.contracts import bind
from civicdao.deploy import ETH, Suite
from civicdao.errors import ConfigError, InvalidAddressError, InvalidAmountError
from civicdao.governance import Action
from civicdao.logs import RangeWindow, get_logs
from civicdao.tokens import ensure_allowance
from civicdao.tx import TxRecord, call, transact

if TYPE_CHECKING:
    from civicdao.index.queries import IndexReader
    from civicdao.index.store import EventRow

__all__ = [
    "CATEGORIES",
    "DONATION_CATEGORY",
    "ETH",
    "MAX_EPOCH_LENGTH",
    "MAX_PROJECTS",
    "MAX_TRANCHES",
    "MIN_EPOCH_LENGTH",
    "UNCAPPED",
    "Action",
    "BalancePoint",
    "Contribution",
    "Donation",
    "EpochStatus",
    "FeeDeposit",
    "GrantClaim",
    "GrantInfo",
    "GrantOutflow",
    "InflowRecord",
    "InflowTotal",
    "OutflowRecord",
    "ProjectInfo",
    "RoundFinalization",
    "RoundInfo",
    "RoundOutflow",
    "RoundPayout",
    "TokenBalance",
    "TrancheRelease",
    "Treasury",
    "TreasuryReport",
]

logger = logging.getLogger(__name__)

#: Inflow categories in contract order: the exchange's listing kinds (fees), then donations.
CATEGORIES: tuple[str, ...] = (*KINDS, "donation")
#: The category index of donations.
DONATION_CATEGORY = len(KINDS)
#: A cap meaning "uncapped" (``type(uint256).max``).
UNCAPPED = 2**256 - 1
#: Contract limits, mirrored so that bad input fails before a transaction is sent.
MAX_PROJECTS = 50
MAX_TRANCHES = 32
MIN_EPOCH_LENGTH = 24 * 3_600
MAX_EPOCH_LENGTH = 365 * 24 * 3_600
_STEWARD_ROLE = Web3.keccak(text="STEWARD_ROLE")


# ─────────────────────────────────────────── records ───────────────────────────────────────────


@dataclass(frozen=True)
class TokenBalance:
    """What the treasury holds of one token, and its lifetime counters.

    ``free = balance - committed`` (floored at 0) is what governance may still spend; ``committed`` is owed
    to grants and QF rounds (including contributions held for projects). ``total_in`` counts fees and
    donations, ``total_out`` public money paid out (transfers, grant claims, QF matching).
    """

    token: ChecksumAddress
    balance: int
    committed: int
    free: int
    total_in: int
    total_out: int
    #: ``(category, amount)`` for each of :data:`CATEGORIES`, in that order.
    inflow_by_category: tuple[tuple[str, int], ...]

    def inflow(self, category: str) -> int:
        """Inflow of one category (a listing kind, or ``"donation"``)."""
        for name, amount in self.inflow_by_category:
            if name == category:
                return amount
        raise ConfigError(f"unknown category {category!r}; categories are {list(CATEGORIES)}")


@dataclass(frozen=True)
class EpochStatus:
    """The spending epoch now, and one token's cap in it."""

    token: ChecksumAddress
    epoch: int
    length: int
    start: int
    end: int
    #: Cap in force this epoch (:data:`UNCAPPED` = no cap; 0 = nothing may be spent).
    cap: int
    #: A raised cap waiting for ``pending_from_epoch`` (both 0 when none).
    pending_cap: int
    pending_from_epoch: int
    spent: int
    #: What may still be spent this epoch (cap remainder; the free balance may be lower).
    remaining: int
    #: A scheduled epoch length starting at ``end`` (0 when none): length changes wait for the epoch's end.
    pending_length: int = 0

    @property
    def uncapped(self) -> bool:
        return self.cap == UNCAPPED


@dataclass(frozen=True)
class GrantInfo:
    """A grant as the treasury holds it now."""

    grant_id: int
    kind: Literal["stream", "milestone"]
    token: ChecksumAddress
    recipient: ChecksumAddress
    #: The amount granted (after a cancellation: what stayed owed, i.e. vested or released).
    amount: int
    claimed: int
    vested: int
    claimable: int
    cancelled: bool
    #: Stream schedule: start timestamp; cliff and duration in seconds after start.
    #: Milestone grants: creation time, 0, 0.
    start: int
    cliff: int
    duration: int
    #: Milestone tranche amounts and which indexes were released (empty for streams).
    tranches: tuple[int, ...]
    released_tranches: tuple[int, ...]
    #: The recipient's membership id when it was a citizen at creation (0 for an organisation): the grant then
    #: belongs to the membership, not to ``recipient``'s key, and follows a key rotation.
    membership: int
    #: Who may claim now: the membership's current key, or ``recipient`` for an organisation; None once the
    #: membership was revoked (claims stop; the DAO may cancel what is left).
    claimant: ChecksumAddress | None


@dataclass(frozen=True)
class ProjectInfo:
    """One project of a QF round."""

    index: int
    recipient: ChecksumAddress
    contributions: int
    citizen_contributions: int
    #: Σ√(c·1e18) over citizen contributors (the contract's scaled sum).
    sum_sqrt: int
    #: The un-normalised (Σ√c)² - Σc match so far.
    raw_matching: int
    #: The normalised payout (set at finalisation, 0 before).
    matching: int
    claimed: bool
    #: The recipient's membership id when it was a citizen as the round opened (0 for an organisation).
    membership: int
    #: Who may claim the payout now (the membership's current key, or ``recipient``); None once revoked.
    claimant: ChecksumAddress | None


@dataclass(frozen=True)
class RoundInfo:
    """A quadratic-funding round and its projects."""

    round_id: int
    token: ChecksumAddress
    start: int
    end: int
    finalized: bool
    matching_pool: int
    total_contributions: int
    total_matching: int
    projects: tuple[ProjectInfo, ...]
    #: The citizen registry as the round opened, where citizen projects' memberships are held.
    registry: ChecksumAddress


@dataclass(frozen=True)
class Donation:
    """A donation that arrived."""

    donor: ChecksumAddress
    token: ChecksumAddress
    amount: int
    note: str
    tx: TxRecord


@dataclass(frozen=True)
class FeeDeposit:
    """An exchange fee paid into the treasury."""

    payer: ChecksumAddress
    token: ChecksumAddress
    amount: int
    category: str
    tx: TxRecord


@dataclass(frozen=True)
class GrantClaim:
    """What a grant's recipient pulled."""

    grant_id: int
    recipient: ChecksumAddress
    amount: int
    tx: TxRecord


@dataclass(frozen=True)
class TrancheRelease:
    """A milestone tranche released to the recipient's claimable amount."""

    grant_id: int
    index: int
    amount: int
    releaser: ChecksumAddress
    tx: TxRecord


@dataclass(frozen=True)
class Contribution:
    """A QF contribution; ``matched`` tells whether it counts for matching (the contributor is a citizen)."""

    round_id: int
    project_index: int
    contributor: ChecksumAddress
    amount: int
    matched: bool
    #: The membership id the contribution was matched under (0 = not matched). Matching sums per membership,
    #: so contributions from a citizen's old and new key (after a rotation) count as one person's.
    membership: int
    tx: TxRecord


@dataclass(frozen=True)
class RoundFinalization:
    """A finalised round: matching owed to projects and the leftover freed."""

    round_id: int
    total_matching: int
    leftover: int
    tx: TxRecord


@dataclass(frozen=True)
class RoundPayout:
    """A project's payout: its contributions plus its matching."""

    round_id: int
    project_index: int
    recipient: ChecksumAddress
    contributions: int
    matching: int
    tx: TxRecord

    @property
    def amount(self) -> int:
        return self.contributions + self.matching


@dataclass(frozen=True)
class InflowRecord:
    """One fee or donation, from the treasury's events."""

    block: int
    timestamp: int
    tx_hash: str
    token: ChecksumAddress
    source: Literal["fee", "donation"]
    category: str
    payer: ChecksumAddress
    amount: int
    note: str


@dataclass(frozen=True)
class OutflowRecord:
    """Public money leaving the treasury: a transfer, a grant claim, or QF matching paid to a project.

    ``reference`` is the grant id or round id (None for a transfer); ``memo`` the transfer memo.
    """

    block: int
    timestamp: int
    tx_hash: str
    token: ChecksumAddress
    kind: Literal["transfer", "grant", "qf_matching"]
    recipient: ChecksumAddress
    amount: int
    reference: int | None
    memo: str


@dataclass(frozen=True)
class InflowTotal:
    """Inflows of one token summed by source and category."""

    token: ChecksumAddress
    source: Literal["fee", "donation"]
    category: str
    amount: int
    count: int


@dataclass(frozen=True)
class GrantOutflow:
    """One grant over the report's range: granted, claimed, returned on cancellation, still owed."""

    grant_id: int
    kind: Literal["stream", "milestone"]
    token: ChecksumAddress
    recipient: ChecksumAddress
    granted: int
    claimed: int
    returned: int
    cancelled: bool

    @property
    def outstanding(self) -> int:
        return self.granted - self.returned - self.claimed


@dataclass(frozen=True)
class RoundOutflow:
    """One QF round over the report's range."""

    round_id: int
    token: ChecksumAddress
    matching_pool: int
    contributions: int
    citizen_contributions: int
    total_matching: int
    leftover: int
    matching_paid: int
    contributions_paid: int
    finalized: bool
    #: Matching returned to the free balance when the DAO cancelled a revoked recipient's payout.
    matching_returned: int


@dataclass(frozen=True)
class BalancePoint:
    """The treasury's balance of ``token`` after block ``block``, as its events account for it."""

    block: int
    timestamp: int
    token: ChecksumAddress
    balance: int


@dataclass(frozen=True)
class TreasuryReport:
    """Where the commons' money came from and went, from the treasury's events.

    ``unrecorded`` lists, per token, the current balance the events do not explain (tokens sent straight to
    the contract, or ETH forced in without a call): it is spendable but appears in no inflow.
    """

    treasury: ChecksumAddress
    from_block: int
    to_block: int
    tokens: tuple[ChecksumAddress, ...]
    inflows: tuple[InflowRecord, ...]
    inflow_totals: tuple[InflowTotal, ...]
    outflows: tuple[OutflowRecord, ...]
    grants: tuple[GrantOutflow, ...]
    rounds: tuple[RoundOutflow, ...]
    balance_history: tuple[BalancePoint, ...]
    balances: tuple[TokenBalance, ...]
    unrecorded: tuple[tuple[ChecksumAddress, int], ...]

    def total_in(self, token: str = ETH) -> int:
        """Fees plus donations of ``token`` in the range."""
        wanted = to_checksum_address(token)
        return sum(t.amount for t in self.inflow_totals if t.token == wanted)

    def total_out(self, token: str = ETH) -> int:
        """Public money of ``token`` paid out in the range."""
        wanted = to_checksum_address(token)
        return sum(o.amount for o in self.outflows if o.token == wanted)


class Treasury:
    """Typed access to one deployed ``PublicTreasury``.

    Build one with :meth:`from_suite` (the suite's treasury) or :meth:`at` (a treasury at an address), or
    from a ``Web3`` instance and the bound contract (a standalone treasury in tests).
    """

    def __init__(self, w3: Web3, contract: Contract, *, index: IndexReader | None = None) -> None:
        if not isinstance(contract, Contract):
            raise ConfigError(f"expected the bound PublicTreasury contract, got {type(contract).__name__}")
        self.w3 = w3
        self.contract = contract
        #: The event index the lists read (None: the node's logs, in adaptive ranges).
        self.index = index

    @classmethod
    def from_suite(cls, suite: Suite, *, index: IndexReader | None = None) -> Treasury:
        """The treasury of a deployed suite (its lists read ``index`` when given)."""
        if not isinstance(suite, Suite):
            raise ConfigError(f"expected a deployed Suite, got {type(suite).__name__}")
        return cls(suite.w3, suite.treasury, index=index)

    @classmethod
    def at(cls, w3: Web3, address: str, *, index: IndexReader | None = None) -> Treasury:
        """The treasury deployed at ``address``."""
        return cls(w3, bind(w3, "PublicTreasury", address), index=index)

    @property
    def address(self) -> ChecksumAddress:
        return checksum(self.contract.address, what="treasury address")

    # -- views -----------------------------------------------------------------------------------------------

    def token_balance(self, token: str = ETH) -> TokenBalance:
        """Balance, committed, free balance and lifetime counters of ``token``."""
        address = _token(token)
        stats = call(self.contract.functions.tokenStats(address))
        balance = int(call(self.contract.functions.treasuryBalance(address)))
        total_in, total_out, committed, by_category = stats
        return TokenBalance(
            token=address,
            balance=balance,
            committed=int(committed),
            free=max(balance - int(committed), 0),
            total_in=int(total_in),
            total_out=int(total_out),
            inflow_by_category=tuple(zip(CATEGORIES, (int(v) for v in by_category), strict=True)),
        )

    def balances(self, tokens: Iterable[str] = (ETH,)) -> tuple[TokenBalance, ...]:
        """:meth:`token_balance` for each of ``tokens`` (ETH only by default)."""
        return tuple(self.token_balance(token) for token in tokens)

    def epoch_status(self, token: str = ETH) -> EpochStatus:
        """The current epoch and ``token``'s cap, pending raise, spending and remaining allowance."""
        address = _token(token)
        length, _anchor, _at_anchor, epoch, start, end = call(self.contract.functions.epochClock())
        cap, pending_cap, pending_from = call(self.contract.functions.epochCap(address))
        pending_length, _starts_at, _from_epoch = call(self.contract.functions.pendingEpochLength())
        return EpochStatus(
            token=address,
            epoch=int(epoch),
            length=int(length),
            start=int(start),
            end=int(end),
            cap=int(cap),
            pending_cap=int(pending_cap),
            pending_from_epoch=int(pending_from),
            spent=int(call(self.contract.functions.epochSpent(address, epoch))),
            remaining=int(call(self.contract.functions.remainingEpochAllowance(address))),
            pending_length=int(pending_length),
        )

    def get_grant(self, grant_id: int) -> GrantInfo:
        """One grant, with what has vested and what its recipient can claim now."""
        grant_id = whole_number(grant_id, "grant id")
        raw = call(self.contract.functions.getGrant(grant_id))
        token, start, kind, cancelled, recipient, cliff, duration, amount, claimed, _released, mask = raw[:11]
        member = raw[12]  # raw[11] is the registry the membership is held in
        tranches = tuple(int(t) for t in call(self.contract.functions.grantTranches(grant_id)))
        return GrantInfo(
            grant_id=grant_id,
            kind="stream" if int(kind) == 0 else "milestone",
            token=to_checksum_address(token),
            recipient=to_checksum_address(recipient),
            amount=int(amount),
            claimed=int(claimed),
            vested=int(call(self.contract.functions.vestedAmount(grant_id))),
            claimable=int(call(self.contract.functions.claimableAmount(grant_id))),
            cancelled=bool(cancelled),
            start=int(start),
            cliff=int(cliff),
            duration=int(duration),
            tranches=tranches,
            released_tranches=tuple(i for i in range(len(tranches)) if int(mask) >> i & 1),
            membership=int(member),
            claimant=_claimant(call(self.contract.functions.grantClaimant(grant_id))),
        )

    def grants(self) -> tuple[GrantInfo, ...]:
        """Every grant, by id, with its live state (vested, claimable, claimant) read from the chain.

        With an index the ids come from its ``StreamGrantCreated``/``MilestoneGrantCreated`` events (the
        grants up to its last block); without one from the treasury's ``grantCount``.
        """
        if self.index is not None:
            names = ["StreamGrantCreated", "MilestoneGrantCreated"]
            created = self.index.contract_events(self.address, names)
            ids = sorted({int(ev.args["grantId"]) for ev in created})
        else:
            ids = list(range(int(call(self.contract.functions.grantCount()))))
        return tuple(self.get_grant(i) for i in ids)

    def get_round(self, round_id: int) -> RoundInfo:
        """One QF round with each project's sums, raw match and (once finalised) normalised matching."""
        round_id = whole_number(round_id, "round id")
        token, start, end, finalized, registry, pool, total, total_matching, count = call(
            self.contract.functions.getRound(round_id)
        )
        projects = []
        for index in range(int(count)):
            recipient, claimed, member, contributions, citizen, sum_sqrt, matching = call(
                self.contract.functions.getProject(round_id, index)
            )
            projects.append(
                ProjectInfo(
                    index=index,
                    recipient=to_checksum_address(recipient),
                    contributions=int(contributions),
                    citizen_contributions=int(citizen),
                    sum_sqrt=int(sum_sqrt),
                    raw_matching=int(call(self.contract.functions.rawMatching(round_id, index))),
                    matching=int(matching),
                    claimed=bool(claimed),
                    membership=int(member),
                    claimant=_claimant(call(self.contract.functions.projectClaimant(round_id, index))),
                )
            )
        return RoundInfo(
            round_id=round_id,
            token=to_checksum_address(token),
            start=int(start),
            end=int(end),
            finalized=bool(finalized),
            matching_pool=int(pool),
            total_contributions=int(total),
            total_matching=int(total_matching),
            projects=tuple(projects),
            registry=to_checksum_address(registry),
        )

    def matched_contribution_of(self, round_id: int, project_index: int, contributor: str) -> int:
        """The matched total c_i, to one project, of the membership ``contributor`` holds now.

        Matching is kept per membership, not per address: after a key rotation the new key reads what the
        membership gave from the old one too, and an address without a membership now (a rotated-away or
        revoked key, a non-citizen) reads 0.
        """
        round_id = whole_number(round_id, "round id")
        project_index = whole_number(project_index, "project index")
        who = checksum(contributor, what="contributor")
        return int(call(self.contract.functions.matchedContributionOf(round_id, project_index, who)))

    # -- inflows and pulls -----------------------------------------------------------------------------------

    def donate(
        self,
        signer: Signer,
        amount: int,
        *,
        token: str = ETH,
        note: str | bytes = "",
        approve: bool = True,
    ) -> Donation:
        """Donate ``amount`` of ETH or an ERC-20 with a short non-personal ``note`` (≤ 32 bytes).

        For an ERC-20 the treasury pulls the amount; with ``approve`` (default) an approval is sent first when
        the allowance is short. Fee-on-transfer tokens are refused by the contract.
        """
        address = _token(token)
        amount = _amount(amount, "donation")
        note_bytes = _note(note)
        if address == ETH:
            record = transact(self.w3, signer, self.contract.functions.donate(note_bytes), value=amount)
        else:
            if approve:
                ensure_allowance(self.w3, signer, address, self.address, amount)
            record = transact(
                self.w3, signer, self.contract.functions.donateToken(address, amount, note_bytes)
            )
        event = record.event("DonationReceived")
        logger.info("donation of %d of %s from %s", amount, address, signer.address)
        return Donation(
            donor=to_checksum_address(event["donor"]),
            token=to_checksum_address(event["token"]),
            amount=int(event["amount"]),
            note=_decode_note(event["note"]),
            tx=record,
        )

    def deposit_fee(
        self,
        signer: Signer,
        amount: int,
        *,
        category: str | int,
        token: str = ETH,
        approve: bool = True,
    ) -> FeeDeposit:
        """Pay an exchange fee tagged with a listing kind (what the exchange does on settlement).

        ``category`` is a kind name from :data:`civicdao.config.KINDS` or its index 0..4.
        """
        address = _token(token)
        amount = _amount(amount, "fee")
        index = _fee_category(category)
        if address == ETH:
            fn = self.contract.functions.depositFee(address, amount, index)
            record = transact(self.w3, signer, fn, value=amount)
        else:
            if approve:
                ensure_allowance(self.w3, signer, address, self.address, amount)
            record = transact(self.w3, signer, self.contract.functions.depositFee(address, amount, index))
        event = record.event("FeeReceived")
        return FeeDeposit(
            payer=to_checksum_address(event["payer"]),
            token=to_checksum_address(event["token"]),
            amount=int(event["amount"]),
            category=CATEGORIES[int(event["category"])],
            tx=record,
        )

    def claim_grant(self, signer: Signer, grant_id: int) -> GrantClaim:
        """The grant's recipient pulls everything vested (stream) or released (milestone), not yet claimed.

        For a citizen recipient the signer must hold the grant's membership now (after a key rotation: the
        new key; the old one gets ``TreasuryNotGrantRecipient``); a revoked membership claims nothing
        (``TreasuryRecipientRevoked``).
        """
        grant_id = whole_number(grant_id, "grant id")
        record = transact(self.w3, signer, self.contract.functions.claim(grant_id))
        event = record.event("GrantClaimed")
        logger.info("grant %d: %s claimed %d", grant_id, signer.address, event["amount"])
        return GrantClaim(
            grant_id=grant_id,
            recipient=to_checksum_address(event["recipient"]),
            amount=int(event["amount"]),
            tx=record,
        )

    def release_tranche(self, signer: Signer, grant_id: int, index: int) -> TrancheRelease:
        """A steward (or the governor) releases tranche ``index`` of a milestone grant."""
        grant_id = whole_number(grant_id, "grant id")
        index = whole_number(index, "tranche index")
        if index >= MAX_TRANCHES:
            raise ConfigError(f"tranche index {index} is out of range: grants have at most {MAX_TRANCHES}")
        record = transact(self.w3, signer, self.contract.functions.releaseTranche(grant_id, index))
        event = record.event("TrancheReleased")
        return TrancheRelease(
            grant_id=grant_id,
            index=index,
            amount=int(event["amount"]),
            releaser=to_checksum_address(event["releaser"]),
            tx=record,
        )

    def contribute(
        self,
        signer: Signer,
        round_id: int,
        project_index: int,
        amount: int,
        *,
        approve: bool = True,
    ) -> Contribution:
        """Contribute to a project of an open QF round, in the round's token (ETH sent as value)."""
        round_id = whole_number(round_id, "round id")
        project_index = whole_number(project_index, "project index")
        amount = _amount(amount, "contribution")
        token = to_checksum_address(call(self.contract.functions.getRound(round_id))[0])
        fn = self.contract.functions.contribute(round_id, project_index, amount)
        if token == ETH:
            record = transact(self.w3, signer, fn, value=amount)
        else:
            if approve:
                ensure_allowance(self.w3, signer, token, self.address, amount)
            record = transact(self.w3, signer, fn)
        event = record.event("Contributed")
        return Contribution(
            round_id=round_id,
            project_index=project_index,
            contributor=to_checksum_address(event["contributor"]),
            amount=int(event["amount"]),
            matched=bool(event["matched"]),
            membership=int(event["membership"]),
            tx=record,
        )

    def finalize_round(self, signer: Signer, round_id: int) -> RoundFinalization:
        """Finalise a round after its end (anyone): fixes each project's matching, frees the leftover pool."""
        round_id = whole_number(round_id, "round id")
        record = transact(self.w3, signer, self.contract.functions.finalizeRound(round_id))
        event = record.event("RoundFinalized")
        return RoundFinalization(
            round_id=round_id,
            total_matching=int(event["totalMatching"]),
            leftover=int(event["leftover"]),
            tx=record,
        )

    def claim_round_payout(self, signer: Signer, round_id: int, project_index: int) -> RoundPayout:
        """A project's recipient pulls its contributions plus matching from a finalised round.

        A citizen project is claimed by whoever holds its membership now (see :meth:`claim_grant`).
        """
        round_id = whole_number(round_id, "round id")
        project_index = whole_number(project_index, "project index")
        record = transact(self.w3, signer, self.contract.functions.claimRound(round_id, project_index))
        event = record.event("RoundClaimed")
        return RoundPayout(
            round_id=round_id,
            project_index=project_index,
            recipient=to_checksum_address(event["recipient"]),
            contributions=int(event["contributions"]),
            matching=int(event["matching"]),
            tx=record,
        )

    # -- governance actions ----------------------------------------------------------------------------------

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
        """
        who = _nonzero(recipient, "grant recipient")
        address = _token(token)
        amount = _amount(amount, "grant amount")
        start = whole_number(start, "start", maximum=UINT64_MAX)
        cliff = whole_number(cliff, "cliff", maximum=UINT64_MAX)
        duration = whole_number(duration, "duration", maximum=UINT64_MAX)
        if duration == 0 or cliff > duration:
            raise ConfigError(
                "invalid schedule: need duration > 0 and cliff <= duration "
                f"(cliff {cliff}, duration {duration})"
            )
        data = self.contract.encode_abi(
            "createStreamGrant", args=[address, who, amount, start, cliff, duration]
        )
        return self._action(
            data,
            f"Stream grant of {_show(amount, address)} to {who}: vesting from {start} over {duration} s"
            + (f", cliff {cliff} s" if cliff else ""),
        )

    def milestone_grant_action(self, *, recipient: str, tranches: Sequence[int], token: str = ETH) -> Action:
        """A grant paid in ``tranches`` that a steward (or the DAO) releases one by one."""
        who = _nonzero(recipient, "grant recipient")
        address = _token(token)
        if isinstance(tranches, str | bytes) or not 1 <= len(tranches) <= MAX_TRANCHES:
            raise ConfigError(f"a milestone grant needs 1 to {MAX_TRANCHES} tranches")
        amounts = [_amount(t, f"tranche {i}") for i, t in enumerate(tranches)]
        data = self.contract.encode_abi("createMilestoneGrant", args=[address, who, amounts])
        return self._action(
            data,
            f"Milestone grant of {_show(sum(amounts), address)} to {who} in {len(amounts)} tranches",
        )

    def cancel_grant_action(self, grant_id: int) -> Action:
        """Cancel a grant: what has not vested or been released returns to the free balance.

        When the recipient's membership was revoked, everything not yet claimed returns (also after an
        earlier cancellation), since nobody may claim it any more.
        """
        grant_id = whole_number(grant_id, "grant id")
        return self._action(
            self.contract.encode_abi("cancelGrant", args=[grant_id]), f"Cancel grant {grant_id}"
        )

    def cancel_project_payout_action(self, round_id: int, project_index: int) -> Action:
        """Cancel the unclaimed payout of a finalised round's project whose citizen recipient was revoked.

        The matching returns to the free balance and the contributions become a donation to the commons.
        """
        round_id = whole_number(round_id, "round id")
        project_index = whole_number(project_index, "project index")
        return self._action(
            self.contract.encode_abi("cancelProjectPayout", args=[round_id, project_index]),
            f"Cancel the payout of project {project_index} of QF round {round_id} (recipient revoked)",
        )

    def set_cap_action(self, *, cap: int, token: str = ETH) -> Action:
        """Set ``token``'s per-epoch spending cap (:data:`UNCAPPED` for none; 0 stops spending).

        Lowering applies at once; raising applies from the next epoch.
        """
        address = _token(token)
        cap = _amount(cap, "cap", allow_zero=True)
        shown = "uncapped" if cap == UNCAPPED else _show(cap, address)
        return self._action(
            self.contract.encode_abi("setEpochCap", args=[address, cap]),
            f"Set epoch cap of {address}: {shown}",
        )

    def set_epoch_length_action(self, length: int) -> Action:
        """Set the epoch length in seconds (1 to 365 days), from the end of the current epoch on."""
        length = whole_number(length, "epoch length", maximum=UINT64_MAX)
        if not MIN_EPOCH_LENGTH <= length <= MAX_EPOCH_LENGTH:
            raise ConfigError(
                f"epoch length {length} s is outside [{MIN_EPOCH_LENGTH}, {MAX_EPOCH_LENGTH}] (1 to 365 days)"
            )
        return self._action(
            self.contract.encode_abi("setEpochLength", args=[length]), f"Set epoch length to {length} s"
        )

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

        The matching pool counts against the epoch cap and is committed until finalisation frees the
        leftover.
        """
        address = _token(token)
        if isinstance(projects, str | bytes) or not 1 <= len(projects) <= MAX_PROJECTS:
            raise ConfigError(f"a round needs 1 to {MAX_PROJECTS} projects")
        recipients = [_nonzero(p, f"project {i}") for i, p in enumerate(projects)]
        pool = _amount(matching_pool, "matching pool", allow_zero=True)
        start = whole_number(start, "start", maximum=UINT64_MAX)
        end = whole_number(end, "end", maximum=UINT64_MAX)
        if end <= start:
            raise ConfigError(f"round end {end} must be after its start {start}")
        data = self.contract.encode_abi("openRound", args=[address, pool, recipients, start, end])
        return self._action(
            data,
            f"Open QF round: {len(recipients)} projects, matching pool {_show(pool, address)}, "
            f"{start}..{end}",
        )

    def transfer_action(self, *, to: str, amount: int, token: str = ETH, memo: str | bytes = "") -> Action:
        """Send ``amount`` straight to ``to`` (charged against the epoch cap)."""
        who = _nonzero(to, "transfer recipient")
        address = _token(token)
        amount = _amount(amount, "transfer amount")
        data = self.contract.encode_abi("transfer", args=[address, who, amount, _note(memo)])
        return self._action(data, f"Transfer {_show(amount, address)} to {who}")

    def set_steward_action(self, steward: str, *, appointed: bool = True) -> Action:
        """Appoint (or, with ``appointed=False``, dismiss) a steward who releases milestone tranches."""
        who = _nonzero(steward, "steward")
        fn = "grantRole" if appointed else "revokeRole"
        verb = "Appoint" if appointed else "Dismiss"
        return self._action(
            self.contract.encode_abi(fn, args=[_STEWARD_ROLE, who]), f"{verb} treasury steward {who}"
        )

    def set_citizen_registry_action(self, registry: str) -> Action:
        """Point QF matching at another citizen registry."""
        address = _nonzero(registry, "citizen registry")
        return self._action(
            self.contract.encode_abi("setRegistry", args=[address]),
            f"Use citizen registry {address} for QF matching",
        )

    # -- report ----------------------------------------------------------------------------------------------

    def treasury_report(
        self,
        *,
        from_block: int = 0,
        to_block: BlockIdentifier = "latest",
        tokens: Iterable[str] = (),
        chunk_size: int = 10_000,
    ) -> TreasuryReport:
        """Inflows by source and category, outflows by grant and round, and the balance over time.

        Read from the treasury's events between ``from_block`` and ``to_block``: from the index when the
        treasury has one (``"latest"`` is then the index's last block; sync it first), else with
        ``eth_getLogs`` in ranges starting at ``chunk_size`` blocks that adapt to the provider's caps.
        ``tokens`` adds tokens to the balance section even without events in the range. The balance history
        starts from the balance at ``from_block - 1`` (0 for a report from block 0); ``balances`` and
        ``unrecorded`` compare with the balances now.

        Raises:
            ConfigError: a bad range, or (with an index) a ``to_block`` the index has not reached yet.
        """
        start = whole_number(from_block, "from_block")
        end = self._index_end(to_block) if self.index is not None else self._block_number(to_block)
        if end < start:
            raise ConfigError(f"to_block {end} is before from_block {start}")
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ConfigError(f"chunk_size must be a positive whole number, got {chunk_size!r}")
        builder = _ReportBuilder(self, start, [_token(t) for t in tokens])
        if self.index is not None:
            builder.timestamps.update(self.index.timestamps())
            for event in self.index.contract_events(self.address, from_block=start):
                if event.block_number > end:
                    break
                builder.add_indexed(event)
        else:
            window = RangeWindow(chunk_size, max(chunk_size, 50_000))
            for log in get_logs(self.w3, self.address, None, start, end, window=window):
                builder.add(log)
        return builder.build(end)

    def _block_number(self, block: BlockIdentifier) -> int:
        return int(self.w3.eth.get_block(block)["number"])

    def _index_end(self, to_block: BlockIdentifier) -> int:
        """The report's last block when reading the index: at most the index's last block."""
        assert self.index is not None
        held = self.index.as_of_block
        if to_block == "latest":
            return held
        end = self._block_number(to_block)
        if end > held:
            raise ConfigError(
                f"the index holds blocks up to {held}, not {end}: sync it first (civicdao index sync)"
            )
        return end

    # -- internals -------------------------------------------------------------------------------------------

    def _action(self, data: str, description: str) -> Action:
        return Action(target=self.address, value=0, calldata=bytes(HexBytes(data)), description=description)


# ─────────────────────────────────────────── internals ───────────────────────────────────────────


def _claimant(address: str) -> ChecksumAddress | None:
    """A claimant view's answer: None for the zero address (a revoked membership)."""
    checked = to_checksum_address(address)
    return None if checked == ETH else checked


def _token(token: str) -> ChecksumAddress:
    if isinstance(token, str) and token.upper() == "ETH":
        return to_checksum_address(ETH)
    return checksum(token, what="token")


def _nonzero(address: str, what: str) -> ChecksumAddress:
    checked = checksum(address, what=what)
    if checked == ETH:
        raise InvalidAddressError(f"{what} must not be the zero address")
    return checked


def _amount(value: int, what: str, *, allow_zero: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidAmountError(f"{what} must be a whole number of wei (int), got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "more than 0"
        raise InvalidAmountError(f"{what} must be {bound}, got {value}")
    if value > UNCAPPED:
        raise InvalidAmountError(f"{what} {value} does not fit in 256 bits")
    return value


def _fee_category(category: str | int) -> int:
    if isinstance(category, str) and category in KINDS:
        return KINDS.index(category)
    if isinstance(category, int) and not isinstance(category, bool) and 0 <= category < len(KINDS):
        return category
    raise ConfigError(f"unknown fee category {category!r}: use one of {list(KINDS)} or 0..{len(KINDS) - 1}")


def _note(note: str | bytes) -> bytes:
    raw = note.encode() if isinstance(note, str) else note
    if not isinstance(raw, bytes):
        raise ConfigError(f"a note must be text or bytes, got {type(note).__name__}")
    if len(raw) > 32:
        raise ConfigError(
            f"a note holds at most 32 bytes, got {len(raw)}: use a short tag, not personal data"
        )
    return raw.ljust(32, b"\x00")


def _decode_note(raw: bytes) -> str:
    trimmed = bytes(raw).rstrip(b"\x00")
    try:
        text = trimmed.decode()
    except UnicodeDecodeError:
        return "0x" + bytes(raw).hex()
    return text if text.isprintable() else "0x" + bytes(raw).hex()


def _show(amount: int, token: str) -> str:
    if token == ETH:
        return f"{amount} wei ({amount / 10**18:g} ETH)"
    return f"{amount} of token {token}"


def _typed_args(abi: Any, args: Any) -> dict[str, Any]:
    """An indexed event's arguments (decimal strings, hex bytes) typed as a decoded log's are."""
    typed: dict[str, Any] = {}
    for item in abi["inputs"]:
        name, kind, value = item["name"], item["type"], args[item["name"]]
        if kind.endswith("]") or kind.startswith("("):
            typed[name] = value
        elif kind.startswith(("uint", "int")):
            typed[name] = int(value)
        elif kind.startswith("bytes"):
            typed[name] = bytes(HexBytes(value))
        else:
            typed[name] = value
    return typed


class _ReportBuilder:
    """Folds decoded treasury events into the report's sections."""

    def __init__(self, treasury: Treasury, from_block: int, tokens: list[ChecksumAddress]) -> None:
        self.treasury = treasury
        self.contract = treasury.contract
        self.w3 = treasury.w3
        self.from_block = from_block
        self.abis = {
            HexBytes(event_abi_to_log_topic(entry)): entry  # type: ignore[arg-type]
            for entry in treasury.contract.abi
            if entry.get("type") == "event"
        }
        self.by_name: dict[str, Any] = {entry["name"]: entry for entry in self.abis.values()}  # type: ignore[typeddict-item]
        self.tokens: list[ChecksumAddress] = list(dict.fromkeys(tokens))
        self.timestamps: dict[int, int] = {}
        self.inflows: list[InflowRecord] = []
        self.outflows: list[OutflowRecord] = []
        self.grants: dict[int, dict[str, Any]] = {}
        self.rounds: dict[int, dict[str, Any]] = {}
        self.grant_tokens: dict[int, ChecksumAddress] = {}
        self.round_tokens: dict[int, ChecksumAddress] = {}
        self.running: dict[ChecksumAddress, int] = {}
        self.history: list[BalancePoint] = []

    # -- folding ----------------------------------------------------------------------------------

    def add(self, log: Any) -> None:
        """Fold one raw log of the treasury."""
        abi = self.abis.get(HexBytes(log["topics"][0])) if log["topics"] else None
        if abi is None:
            return  # role or other events this report does not need
        event = get_event_data(self.w3.codec, abi, log)
        handler = getattr(self, f"_on_{event['event']}", None)
        if handler is not None:
            handler(event["args"], log)

    def add_indexed(self, event: EventRow) -> None:
        """Fold one event of the index (the same event a raw log decodes to)."""
        handler = getattr(self, f"_on_{event.event}", None)
        abi = self.by_name.get(event.event)
        if handler is None or abi is None:
            return
        log = {"blockNumber": event.block_number, "transactionHash": HexBytes(event.tx_hash)}
        handler(_typed_args(abi, event.args), log)

    def _on_FeeReceived(self, args: Any, log: Any) -> None:
        self._inflow(
            log, args["token"], "fee", CATEGORIES[int(args["category"])], args["payer"], args["amount"], b""
        )

    def _on_DonationReceived(self, args: Any, log: Any) -> None:
        self._inflow(log, args["token"], "donation", "donation", args["donor"], args["amount"], args["note"])

    def _on_Transferred(self, args: Any, log: Any) -> None:
        token = to_checksum_address(args["token"])
        self._outflow(
            log, token, "transfer", args["to"], int(args["amount"]), None, _decode_note(args["memo"])
        )
        self._move(log, token, -int(args["amount"]))

    def _on_StreamGrantCreated(self, args: Any, log: Any) -> None:
        self._new_grant(args, "stream")

    def _on_MilestoneGrantCreated(self, args: Any, log: Any) -> None:
        self._new_grant(args, "milestone")

    def _on_GrantClaimed(self, args: Any, log: Any) -> None:
        grant_id, amount = int(args["grantId"]), int(args["amount"])
        token = self._grant_token(grant_id)
        self._grant(grant_id)["claimed"] += amount
        self._outflow(log, token, "grant", args["recipient"], amount, grant_id, "")
        self._move(log, token, -amount)

    def _on_GrantCancelled(self, args: Any, log: Any) -> None:
        grant = self._grant(int(args["grantId"]))
        grant["returned"] += int(args["returned"])
        grant["cancelled"] = True

    def _on_RoundOpened(self, args: Any, log: Any) -> None:
        round_id = int(args["roundId"])
        token = self._seen(args["token"])
        self.round_tokens[round_id] = token
        self._round(round_id)["pool"] = int(args["matchingPool"])

    def _on_Contributed(self, args: Any, log: Any) -> None:
        round_id, amount = int(args["roundId"]), int(args["amount"])
        entry = self._round(round_id)
        entry["contributions"] += amount
        if args["matched"]:
            entry["citizen"] += amount
        self._move(log, self._round_token(round_id), amount)

    def _on_RoundFinalized(self, args: Any, log: Any) -> None:
        entry = self._round(int(args["roundId"]))
        entry["matching"] = int(args["totalMatching"])
        entry["leftover"] = int(args["leftover"])
        entry["finalized"] = True

    def _on_RoundClaimed(self, args: Any, log: Any) -> None:
        round_id = int(args["roundId"])
        token = self._round_token(round_id)
        matching, contributions = int(args["matching"]), int(args["contributions"])
        entry = self._round(round_id)
        entry["matching_paid"] += matching
        entry["contributions_paid"] += contributions
        if matching:
            self._outflow(log, token, "qf_matching", args["recipient"], matching, round_id, "")
        self._move(log, token, -(matching + contributions))

    def _on_ProjectPayoutCancelled(self, args: Any, log: Any) -> None:
        round_id = int(args["roundId"])
        token = self._round_token(round_id)
        contributions, matching = int(args["contributions"]), int(args["matching"])
        self._round(round_id)["matching_returned"] += matching
        if contributions:  # the contributions stay in the treasury as a donation: no balance moves
            block = int(log["blockNumber"])
            self.inflows.append(
                InflowRecord(
                    block=block,
                    timestamp=self._timestamp(block),
                    tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                    token=token,
                    source="donation",
                    category="donation",
                    payer=self.treasury.address,
                    amount=contributions,
                    note=f"qf-{round_id}-{int(args['projectIndex'])}-payout-cancelled",
                )
            )

    # -- helpers ----------------------------------------------------------------------------------

    def _inflow(
        self, log: Any, token: str, source: Any, category: str, payer: str, amount: int, note: bytes
    ) -> None:
        address = self._seen(token)
        block = int(log["blockNumber"])
        self.inflows.append(
            InflowRecord(
                block=block,
                timestamp=self._timestamp(block),
                tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                token=address,
                source=source,
                category=category,
                payer=to_checksum_address(payer),
                amount=int(amount),
                note=_decode_note(note) if note else "",
            )
        )
        self._move(log, address, int(amount))

    def _outflow(
        self, log: Any, token: ChecksumAddress, kind: Any, to: str, amount: int, ref: int | None, memo: str
    ) -> None:
        block = int(log["blockNumber"])
        self.outflows.append(
            OutflowRecord(
                block=block,
                timestamp=self._timestamp(block),
                tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                token=token,
                kind=kind,
                recipient=to_checksum_address(to),
                amount=amount,
                reference=ref,
                memo=memo,
            )
        )

    def _new_grant(self, args: Any, kind: str) -> None:
        grant_id = int(args["grantId"])
        token = self._seen(args["token"])
        self.grant_tokens[grant_id] = token
        grant = self._grant(grant_id)
        grant.update(kind=kind, recipient=to_checksum_address(args["recipient"]), granted=int(args["amount"]))

    def _grant(self, grant_id: int) -> dict[str, Any]:
        if grant_id not in self.grants:
            self.grants[grant_id] = dict(
                kind=None, recipient=None, granted=None, claimed=0, returned=0, cancelled=False
            )
        return self.grants[grant_id]

    def _round(self, round_id: int) -> dict[str, Any]:
        if round_id not in self.rounds:
            self.rounds[round_id] = dict.fromkeys(
                (
                    "contributions",
                    "citizen",
                    "matching",
                    "leftover",
                    "matching_paid",
                    "contributions_paid",
                    "matching_returned",
                ),
                0,
            )
            self.rounds[round_id].update(pool=None, finalized=False)
        return self.rounds[round_id]

    def _grant_token(self, grant_id: int) -> ChecksumAddress:
        if grant_id not in self.grant_tokens:  # created before the range: ask the chain
            self.grant_tokens[grant_id] = self._seen(call(self.contract.functions.getGrant(grant_id))[0])
        return self.grant_tokens[grant_id]

    def _round_token(self, round_id: int) -> ChecksumAddress:
        if round_id not in self.round_tokens:
            self.round_tokens[round_id] = self._seen(call(self.contract.functions.getRound(round_id))[0])
        return self.round_tokens[round_id]

    def _seen(self, token: str) -> ChecksumAddress:
        address = to_checksum_address(token)
        if address not in self.tokens:
            self.tokens.append(address)
        return address

    def _timestamp(self, block: int) -> int:
        if block not in self.timestamps:
            self.timestamps[block] = int(self.w3.eth.get_block(block)["timestamp"])
        return self.timestamps[block]

    def _opening_balance(self, token: ChecksumAddress) -> int:
        if self.from_block == 0:
            return 0
        fn = self.contract.functions.treasuryBalance(token)
        return int(call(fn, block=self.from_block - 1))

    def _move(self, log: Any, token: ChecksumAddress, delta: int) -> None:
        if token not in self.running:
            self.running[token] = self._opening_balance(token)
        self.running[token] += delta
        block = int(log["blockNumber"])
        point = BalancePoint(block, self._timestamp(block), token, self.running[token])
        if self.history and self.history[-1].block == block and self.history[-1].token == token:
            self.history[-1] = point  # one point per token and block: the balance after it
        else:
            self.history.append(point)

    # -- result -----------------------------------------------------------------------------------

    def build(self, to_block: int) -> TreasuryReport:
        current = self.treasury.balances(self.tokens)
        unrecorded = tuple(
            (b.token, b.balance - self.running[b.token])
            for b in current
            if self.from_block == 0 and b.token in self.running and b.balance != self.running[b.token]
        )
        return TreasuryReport(
            treasury=self.treasury.address,
            from_block=self.from_block,
            to_block=to_block,
            tokens=tuple(self.tokens),
            inflows=tuple(self.inflows),
            inflow_totals=self._inflow_totals(),
            outflows=tuple(self.outflows),
            grants=self._grant_outflows(),
            rounds=self._round_outflows(),
            balance_history=tuple(self.history),
            balances=current,
            unrecorded=unrecorded,
        )

    def _inflow_totals(self) -> tuple[InflowTotal, ...]:
        sums: dict[tuple[ChecksumAddress, str, str], list[int]] = {}
        for record in self.inflows:
            entry = sums.setdefault((record.token, record.source, record.category), [0, 0])
            entry[0] += record.amount
            entry[1] += 1
        order = {name: i for i, name in enumerate(CATEGORIES)}
        keys = sorted(sums, key=lambda k: (self.tokens.index(k[0]), order[k[2]]))
        return tuple(
            InflowTotal(token=k[0], source=k[1], category=k[2], amount=sums[k][0], count=sums[k][1])  # type: ignore[arg-type]
            for k in keys
        )

    def _grant_outflows(self) -> tuple[GrantOutflow, ...]:
        result = []
        for grant_id in sorted(self.grants):
            entry = self.grants[grant_id]
            if entry["granted"] is None:  # created before the range: fill in from the chain
                info = self.treasury.get_grant(grant_id)
                original = info.amount + entry["returned"] if info.cancelled else info.amount
                entry.update(kind=info.kind, recipient=info.recipient, granted=original)
            result.append(
                GrantOutflow(
                    grant_id=grant_id,
                    kind=entry["kind"],
                    token=self._grant_token(grant_id),
                    recipient=entry["recipient"],
                    granted=entry["granted"],
                    claimed=entry["claimed"],
                    returned=entry["returned"],
                    cancelled=entry["cancelled"],
                )
            )
        return tuple(result)

    def _round_outflows(self) -> tuple[RoundOutflow, ...]:
        result = []
        for round_id in sorted(self.rounds):
            entry = self.rounds[round_id]
            pool = entry["pool"]
            if pool is None:
                pool = int(call(self.contract.functions.getRound(round_id))[5])
            result.append(
                RoundOutflow(
                    round_id=round_id,
                    token=self._round_token(round_id),
                    matching_pool=pool,
                    contributions=entry["contributions"],
                    citizen_contributions=entry["citizen"],
                    total_matching=entry["matching"],
                    leftover=entry["leftover"],
                    matching_paid=entry["matching_paid"],
                    contributions_paid=entry["contributions_paid"],
                    finalized=entry["finalized"],
                    matching_returned=entry["matching_returned"],
                )
            )
        return tuple(result)
