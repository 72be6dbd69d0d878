"""What the lists read: proposals, citizens, listings and bookings, and the treasury, from the index.

:class:`IndexReader` folds the indexed events into frozen dataclasses, as of the last indexed block
(``as_of``). It makes no RPC call: a single live value (a proposal's state right now, a balance) is the
chain's to answer, through :mod:`civicdao.governance`, :mod:`civicdao.treasury` and friends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address

from civicdao.config import KINDS
from civicdao.index.decode import CallDecoder, DecodedCall
from civicdao.index.errors import IndexMismatchError
from civicdao.index.store import EventRow, Store
from civicdao.index.sync import Deployment
from civicdao.tokens import ETH

__all__ = [
    "PROPOSAL_STATES",
    "BalancePoint",
    "BookingRow",
    "CitizenRow",
    "GrantRow",
    "IndexReader",
    "InflowRow",
    "ListingRow",
    "MatchRow",
    "OutflowRow",
    "ProposalRow",
    "RoundRow",
    "TreasuryFigures",
]

#: OpenZeppelin's ProposalState names, in contract order.
PROPOSAL_STATES = ("pending", "active", "canceled", "defeated", "succeeded", "queued", "expired", "executed")
CATEGORIES = (*KINDS, "donation")
UNITS = ("hour", "day", "item")
QUORUM_DENOMINATOR = 100

GOVERNOR, REGISTRY, EXCHANGE, TREASURY = (
    "CivicGovernor",
    "CitizenRegistry",
    "CommonsExchange",
    "PublicTreasury",
)


class _Row:
    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]


# -- rows ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRow(_Row):
    target: str
    value: int
    calldata: str
    contract: str | None
    function: str | None
    args: dict[str, Any]

    def describe(self) -> str:
        return DecodedCall(self.contract, self.function, self.args).describe()


@dataclass(frozen=True)
class ProposalRow(_Row):
    """A proposal as its events tell it, with the state as of the last indexed block."""

    id: str
    proposer: str
    description: str
    state: str
    created_block: int
    created_at: int
    snapshot: int
    deadline: int
    eta: int
    for_votes: int
    against_votes: int
    abstain_votes: int
    voters: int
    quorum: int
    actions: tuple[ActionRow, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        """The description without OpenZeppelin's ``#proposer=`` suffix, first line."""
        return self.description.split("#proposer=")[0].strip().splitlines()[0] if self.description else ""


@dataclass(frozen=True)
class CitizenRow(_Row):
    token_id: int
    holder: str
    active: bool
    registered_block: int
    registered_at: int
    delegate: str | None
    votes: int


@dataclass(frozen=True)
class ListingRow(_Row):
    listing_id: int
    lister: str
    kind: str
    unit: str
    token: str
    price: int
    deposit: int
    metadata_uri: str
    status: str
    stock: int | None
    terms_version: int
    created_block: int
    bookings: int


@dataclass(frozen=True)
class BookingRow(_Row):
    booking_id: int
    listing_id: int
    renter: str
    start: int
    end: int
    units: int
    price: int
    deposit: int
    fee: int
    status: str
    deposit_status: str
    block: int
    tx_hash: str


@dataclass(frozen=True)
class InflowRow(_Row):
    block: int
    timestamp: int
    tx_hash: str
    token: str
    source: str
    category: str
    payer: str
    amount: int


@dataclass(frozen=True)
class OutflowRow(_Row):
    block: int
    timestamp: int
    tx_hash: str
    token: str
    kind: str
    recipient: str
    amount: int
    reference: int | None


@dataclass(frozen=True)
class GrantRow(_Row):
    grant_id: int
    kind: str
    token: str
    recipient: str
    granted: int
    vested: int
    claimed: int
    returned: int
    cancelled: bool
    created_block: int


@dataclass(frozen=True)
class RoundRow(_Row):
    round_id: int
    token: str
    matching_pool: int
    project_count: int
    start: int
    end: int
    contributions: int
    citizen_contributions: int
    total_matching: int
    leftover: int
    finalized: bool


@dataclass(frozen=True)
class MatchRow(_Row):
    round_id: int
    project_index: int
    contributions: int
    contributors: int
    matching_claimed: int
    recipient: str | None


@dataclass(frozen=True)
class BalancePoint(_Row):
    block: int
    timestamp: int
    token: str
    balance: int


# -- the reader ---------------------------------------------------------------------------------------------


class IndexReader:
    """Read-side queries over an index :class:`~civicdao.index.store.Store` of one deployment."""

    def __init__(self, store: Store, deployment: Deployment) -> None:
        self.store = store
        self.deployment = deployment
        self.calls = CallDecoder(deployment.contracts)
        self._timestamps: dict[int, int] | None = None

    # -- status ---------------------------------------------------------------------------------------

    @property
    def as_of_block(self) -> int:
        value = self.store.get_meta("cursor")
        return int(value) if value is not None else self.deployment.start_block - 1

    @property
    def as_of(self) -> int:
        """The timestamp of the last indexed block (0 before the first sync)."""
        value = self.store.get_meta("head_timestamp")
        return int(value) if value is not None else 0

    def status(self) -> dict[str, Any]:
        counts = self.store.event_counts()
        return {
            "database": self.store.url,
            "chainId": self.deployment.chain_id,
            "fromBlock": self.deployment.start_block,
            "toBlock": self.as_of_block,
            "timestamp": self.as_of,
            "events": sum(counts.values()),
            "byEvent": {f"{c}.{e}": n for (c, e), n in sorted(counts.items())},
        }

    def events(self, contract: str | None = None, names: Sequence[str] = ()) -> list[EventRow]:
        """Raw indexed events (any contract, any event: the generic table)."""
        return self.store.events(contract, names)

    def contract_events(
        self, address: str, names: Sequence[str] = (), *, from_block: int | None = None
    ) -> list[EventRow]:
        """The indexed events of the contract at ``address``, in chain order (the library's lists read these).

        Raises:
            IndexMismatchError: the index does not cover a contract at ``address`` (another deployment).
        """
        wanted = to_checksum_address(address)
        name = self.contract_name(wanted)
        return [ev for ev in self.store.events(name, names, from_block=from_block) if ev.address == wanted]

    def contract_name(self, address: str) -> str:
        """The name of the indexed contract at ``address``.

        Raises:
            IndexMismatchError: the index does not cover a contract at ``address`` (another deployment).
        """
        wanted = to_checksum_address(address)
        name = self.deployment.contracts.get(wanted)
        if name is None:
            raise IndexMismatchError(
                f"the index at {self.store.url} does not cover the contract at {wanted}: "
                "pass the index of this deployment"
            )
        return name

    def timestamps(self) -> dict[int, int]:
        """The timestamp of every block the index holds events of."""
        if self._timestamps is None:
            self._timestamps = self.store.timestamps()
        return dict(self._timestamps)

    def _time(self, block: int) -> int:
        if self._timestamps is None or block not in self._timestamps:
            self._timestamps = self.store.timestamps()
        return self._timestamps.get(block, 0)

    # -- governance -----------------------------------------------------------------------------------

    def proposals(self, *, state: str | None = None, with_actions: bool = False) -> list[ProposalRow]:
        """Every proposal, newest first; ``state`` filters by state name."""
        rows = self._fold_proposals(with_actions=with_actions)
        if state is not None:
            rows = [r for r in rows if r.state == state.lower()]
        return sorted(rows, key=lambda r: (r.created_block, r.id), reverse=True)

    def proposal(self, proposal_id: int | str) -> ProposalRow | None:
        """One proposal with its decoded actions, or None when the index has no such proposal."""
        wanted = str(int(proposal_id))
        return next((r for r in self._fold_proposals(with_actions=True, only=wanted)), None)

    def _fold_proposals(self, *, with_actions: bool, only: str | None = None) -> list[ProposalRow]:
        names = (
            "ProposalCreated",
            "ProposalQueued",
            "ProposalExecuted",
            "ProposalCanceled",
            "ProposalExtended",
            "VoteCast",
            "VoteCastWithParams",
            "OverrideVoteCast",
            "VoteReduced",
        )
        props: dict[str, dict[str, Any]] = {}
        for ev in self.store.events(GOVERNOR, names):
            a = ev.args
            pid = str(a["proposalId"])
            if only is not None and pid != only:
                continue
            if ev.event == "ProposalCreated":
                props[pid] = {
                    "ev": ev,
                    "tally": [0, 0, 0],
                    "eta": 0,
                    "end": int(a["voteEnd"]),
                    "done": None,
                    "voters": set(),
                }
                continue
            p = props.get(pid)
            if p is None:
                continue
            if ev.event in ("VoteCast", "VoteCastWithParams", "OverrideVoteCast"):
                p["tally"][int(a["support"])] += int(a["weight"])
                p["voters"].add(a["voter"])
            elif ev.event == "VoteReduced":
                p["tally"][int(a["support"])] -= int(a["weight"])
            elif ev.event == "ProposalQueued":
                p["eta"] = int(a["etaSeconds"])
            elif ev.event == "ProposalExtended":
                p["end"] = int(a["extendedDeadline"])
            elif ev.event == "ProposalExecuted":
                p["done"] = "executed"
            elif ev.event == "ProposalCanceled":
                p["done"] = "canceled"
        quorum_at = self._quorum_function() if props else None
        now = self.as_of
        result = []
        for pid, p in props.items():
            a = p["ev"].args
            snapshot = int(a["voteStart"])
            against, for_, abstain = p["tally"]
            # the quorum at the snapshot (CivicGovernor.proposalQuorum), with today's citizens before it
            quorum = quorum_at(min(snapshot, now)) if quorum_at else 0
            state = _proposal_state(
                now, snapshot, p["end"], p["eta"], p["done"], for_, against, abstain, quorum
            )
            actions: tuple[ActionRow, ...] = ()
            if with_actions:
                actions = tuple(
                    self._action(t, v, c)
                    for t, v, c in zip(a["targets"], a["values"], a["calldatas"], strict=True)
                )
            result.append(
                ProposalRow(
                    id=pid,
                    proposer=a["proposer"],
                    description=a["description"],
                    state=state,
                    created_block=p["ev"].block_number,
                    created_at=self._time(p["ev"].block_number),
                    snapshot=snapshot,
                    deadline=p["end"],
                    eta=p["eta"],
                    for_votes=for_,
                    against_votes=against,
                    abstain_votes=abstain,
                    voters=len(p["voters"]),
                    quorum=quorum,
                    actions=actions,
                )
            )
        return result

    def _action(self, target: str, value: str, calldata: str) -> ActionRow:
        decoded = self.calls.decode(target, calldata)
        return ActionRow(target, int(value), calldata, decoded.contract, decoded.function, dict(decoded.args))

    def _quorum_function(self) -> Any:
        """``quorum(timepoint)``: the quorum fraction of the memberships, both as at ``timepoint`` (the
        governor takes it at the proposal's snapshot)."""
        supply: list[tuple[int, int]] = []  # (timestamp, total after)
        total = 0
        for ev in self.store.events(REGISTRY, ("Transfer",)):
            if ev.args["from"] == ETH:
                total += 1
            elif ev.args["to"] == ETH:
                total -= 1
            else:
                continue
            supply.append((self._time(ev.block_number), total))
        numerators = [
            (self._time(ev.block_number), int(ev.args["newQuorumNumerator"]))
            for ev in self.store.events(GOVERNOR, ("QuorumNumeratorUpdated",))
        ]

        def at(points: list[tuple[int, int]], timepoint: int) -> int:
            value = 0
            for when, after in points:
                if when > timepoint:
                    break
                value = after
            return value

        return lambda timepoint: at(supply, timepoint) * at(numerators, timepoint) // QUORUM_DENOMINATOR

    # -- citizens -------------------------------------------------------------------------------------

    def citizens(self, *, include_revoked: bool = False) -> list[CitizenRow]:
        """Memberships by token id (holders are addresses; no personal data exists on chain)."""
        names = (
            "CitizenRegistered",
            "CitizenRotated",
            "CitizenRevoked",
            "DelegateChanged",
            "DelegateVotesChanged",
        )
        members: dict[int, dict[str, Any]] = {}
        delegates: dict[str, str] = {}
        votes: dict[str, int] = {}
        for ev in self.store.events(REGISTRY, names):
            a = ev.args
            if ev.event == "CitizenRegistered":
                members[int(a["tokenId"])] = {
                    "holder": a["citizen"],
                    "active": True,
                    "block": ev.block_number,
                }
            elif ev.event == "CitizenRotated" and int(a["tokenId"]) in members:
                members[int(a["tokenId"])]["holder"] = a["to"]
            elif ev.event == "CitizenRevoked" and int(a["tokenId"]) in members:
                members[int(a["tokenId"])]["active"] = False
            elif ev.event == "DelegateChanged":
                delegates[a["delegator"]] = a["toDelegate"]
            else:
                votes[a["delegate"]] = int(a["newVotes"])
        rows = []
        for token_id in sorted(members):
            m = members[token_id]
            if not m["active"] and not include_revoked:
                continue
            delegate = delegates.get(m["holder"])
            rows.append(
                CitizenRow(
                    token_id=token_id,
                    holder=m["holder"],
                    active=m["active"],
                    registered_block=m["block"],
                    registered_at=self._time(m["block"]),
                    delegate=None if delegate in (None, ETH) else delegate,
                    votes=votes.get(m["holder"], 0),
                )
            )
        return rows

    def citizen(self, who: str | int) -> CitizenRow | None:
        """A membership by holder address or token id (revoked ones too)."""
        rows = self.citizens(include_revoked=True)
        if isinstance(who, int) or str(who).isdigit():
            return next((r for r in rows if r.token_id == int(who)), None)
        lowered = str(who).lower()
        found = [r for r in rows if r.holder.lower() == lowered]
        return next((r for r in found if r.active), found[-1] if found else None)

    def delegation_graph(self) -> list[tuple[str, str]]:
        """``(delegator, delegate)`` for every active citizen who delegates to someone else."""
        return [
            (r.holder, r.delegate)
            for r in self.citizens()
            if r.delegate is not None and r.delegate.lower() != r.holder.lower()
        ]

    # -- exchange -------------------------------------------------------------------------------------

    def listings(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        lister: str | None = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> list[ListingRow]:
        """Listings, filtered by kind name, status (open/paused/closed), lister and a text in the URI."""
        names = (
            "ListingCreated",
            "ListingTermsUpdated",
            "ListingPauseSet",
            "ListingClosed",
            "ListingStockSet",
            "Booked",
        )
        listings: dict[int, dict[str, Any]] = {}
        for ev in self.store.events(EXCHANGE, names):
            a = ev.args
            lid = int(a["listingId"])
            if ev.event == "ListingCreated":
                listings[lid] = {
                    "a": a,
                    "block": ev.block_number,
                    "price": int(a["price"]),
                    "deposit": int(a["deposit"]),
                    "paused": False,
                    "closed": False,
                    "stock": None,
                    "terms": 0,
                    "bookings": 0,
                }
                continue
            entry = listings.get(lid)
            if entry is None:
                continue
            if ev.event == "ListingTermsUpdated":
                entry.update(price=int(a["price"]), deposit=int(a["deposit"]), terms=int(a["termsVersion"]))
            elif ev.event == "ListingPauseSet":
                entry["paused"] = bool(a["paused"])
            elif ev.event == "ListingClosed":
                entry["closed"] = True
            elif ev.event == "ListingStockSet":
                entry["stock"] = int(a["newStock"])
            else:
                entry["bookings"] += 1
        rows = []
        for lid in sorted(listings):
            e = listings[lid]
            a = e["a"]
            row = ListingRow(
                listing_id=lid,
                lister=a["lister"],
                kind=_name(KINDS, a["kind"]),
                unit=_name(UNITS, a["unit"]),
                token=a["token"],
                price=e["price"],
                deposit=e["deposit"],
                metadata_uri=a["metadataURI"],
                status="closed" if e["closed"] else "paused" if e["paused"] else "open",
                stock=e["stock"],
                terms_version=e["terms"],
                created_block=e["block"],
                bookings=e["bookings"],
            )
            if kind is not None and row.kind != kind.lower().replace("-", "_"):
                continue
            if status is not None and row.status != status.lower():
                continue
            if lister is not None and row.lister.lower() != lister.lower():
                continue
            if text is not None and text.lower() not in row.metadata_uri.lower():
                continue
            rows.append(row)
        return rows[:limit] if limit is not None else rows

    def listing(self, listing_id: int) -> ListingRow | None:
        return next((r for r in self.listings() if r.listing_id == listing_id), None)

    def bookings(
        self, *, listing_id: int | None = None, renter: str | None = None, active_only: bool = False
    ) -> list[BookingRow]:
        """Bookings in booking-id order, filtered by listing and renter; ``active_only`` drops cancelled."""
        names = (
            "Booked",
            "BookingCancelled",
            "BookingSettled",
            "DepositReleased",
            "DepositWithdrawn",
            "DamageClaimed",
            "ClaimDisputed",
            "ClaimFinalized",
        )
        bookings: dict[int, dict[str, Any]] = {}
        for ev in self.store.events(EXCHANGE, names):
            a = ev.args
            bid = int(a["bookingId"])
            if ev.event == "Booked":
                bookings[bid] = {"ev": ev, "status": "active", "deposit": "held"}
                continue
            entry = bookings.get(bid)
            if entry is None:
                continue
            if ev.event == "BookingCancelled":
                entry["status"] = "cancelled"
                entry["deposit"] = "returned"
            elif ev.event == "BookingSettled":
                entry["status"] = "settled"
            elif ev.event == "DepositReleased":
                # from "held" only settle releases it: returned into the booking, refundable until the renter
                # pulls it (DepositWithdrawn); after a claim it is paid out to credits at once
                entry["deposit"] = "refundable" if entry["deposit"] == "held" else "released"
            elif ev.event == "DepositWithdrawn":
                entry["deposit"] = "released"
            elif ev.event == "DamageClaimed":
                entry["deposit"] = "claimed"
            elif ev.event == "ClaimDisputed":
                entry["deposit"] = "disputed"
        rows = []
        wanted_renter = renter.lower() if renter else None
        for bid in sorted(bookings):
            e = bookings[bid]
            a = e["ev"].args
            if listing_id is not None and int(a["listingId"]) != listing_id:
                continue
            if wanted_renter is not None and a["renter"].lower() != wanted_renter:
                continue
            if active_only and e["status"] == "cancelled":
                continue
            rows.append(
                BookingRow(
                    booking_id=bid,
                    listing_id=int(a["listingId"]),
                    renter=a["renter"],
                    start=int(a["start"]),
                    end=int(a["end"]),
                    units=int(a["units"]),
                    price=int(a["price"]),
                    deposit=int(a["deposit"]),
                    fee=int(a["fee"]),
                    status=e["status"],
                    deposit_status=e["deposit"],
                    block=e["ev"].block_number,
                    tx_hash=e["ev"].tx_hash,
                )
            )
        return rows

    def calendar(
        self, listing_id: int, *, start: int | None = None, end: int | None = None
    ) -> list[BookingRow]:
        """The taken periods of a listing (bookings not cancelled), by start time, within ``[start, end)``."""
        rows = self.bookings(listing_id=listing_id, active_only=True)
        rows = [r for r in rows if (start is None or r.end > start) and (end is None or r.start < end)]
        return sorted(rows, key=lambda r: (r.start, r.booking_id))

    # -- treasury -------------------------------------------------------------------------------------

    def treasury_events(self) -> list[EventRow]:
        return self.store.events(TREASURY)

    def treasury(self) -> TreasuryFigures:
        """Every treasury figure (inflows, outflows, grants, rounds, matches, balances) in one pass."""
        return TreasuryFigures.fold(self.treasury_events(), self._time, self.as_of)

    def inflows(self) -> list[InflowRow]:
        return self.treasury().inflows

    def outflows(self) -> list[OutflowRow]:
        return self.treasury().outflows

    def grants(self) -> list[GrantRow]:
        return self.treasury().grants

    def rounds(self) -> list[RoundRow]:
        return self.treasury().rounds

    def matches(self) -> list[MatchRow]:
        return self.treasury().matches


@dataclass
class TreasuryFigures:
    """The treasury's history folded from its events (as the treasury's own accounting tells it)."""

    inflows: list[InflowRow]
    outflows: list[OutflowRow]
    grants: list[GrantRow]
    rounds: list[RoundRow]
    matches: list[MatchRow]
    balance_history: list[BalancePoint]
    balances: dict[str, int]
    as_of: int

    def inflow_totals(self) -> list[dict[str, Any]]:
        """Sums per token and category (every category listed, zeros included)."""
        sums: dict[tuple[str, str], list[int]] = {}
        tokens = sorted({r.token for r in self.inflows} | {ETH})
        for token in tokens:
            for category in CATEGORIES:
                sums[(token, category)] = [0, 0]
        for r in self.inflows:
            entry = sums[(r.token, r.category)]
            entry[0] += r.amount
            entry[1] += 1
        return [
            {"token": t, "category": c, "amount": v[0], "count": v[1]}
            for (t, c), v in sums.items()
            if t == ETH or v[1]
        ]

    @classmethod
    def fold(cls, events: Iterable[EventRow], time_of: Any, now: int) -> TreasuryFigures:
        inflows: list[InflowRow] = []
        outflows: list[OutflowRow] = []
        grants: dict[int, dict[str, Any]] = {}
        rounds: dict[int, dict[str, Any]] = {}
        projects: dict[tuple[int, int], dict[str, Any]] = defaultdict(
            lambda: {"contributions": 0, "contributors": set(), "matching": 0, "recipient": None}
        )
        running: dict[str, int] = {}
        history: list[BalancePoint] = []

        def move(ev: EventRow, token: str, delta: int) -> None:
            running[token] = running.get(token, 0) + delta
            point = BalancePoint(ev.block_number, time_of(ev.block_number), token, running[token])
            if history and history[-1].block == ev.block_number and history[-1].token == token:
                history[-1] = point
            else:
                history.append(point)

        def out(ev: EventRow, token: str, kind: str, to: str, amount: int, ref: int | None) -> None:
            outflows.append(
                OutflowRow(
                    ev.block_number, time_of(ev.block_number), ev.tx_hash, token, kind, to, amount, ref
                )
            )

        for ev in events:
            a = ev.args
            name = ev.event
            if name in ("FeeReceived", "DonationReceived"):
                fee = name == "FeeReceived"
                row = InflowRow(
                    block=ev.block_number,
                    timestamp=time_of(ev.block_number),
                    tx_hash=ev.tx_hash,
                    token=a["token"],
                    source="fee" if fee else "donation",
                    category=_name(CATEGORIES, a["category"]) if fee else "donation",
                    payer=a["payer"] if fee else a["donor"],
                    amount=int(a["amount"]),
                )
                inflows.append(row)
                move(ev, row.token, row.amount)
            elif name == "Transferred":
                out(ev, a["token"], "transfer", a["to"], int(a["amount"]), None)
                move(ev, a["token"], -int(a["amount"]))
            elif name in ("StreamGrantCreated", "MilestoneGrantCreated"):
                stream = name == "StreamGrantCreated"
                grants[int(a["grantId"])] = {
                    "kind": "stream" if stream else "milestone",
                    "token": a["token"],
                    "recipient": a["recipient"],
                    "granted": int(a["amount"]),
                    "claimed": 0,
                    "returned": 0,
                    "released": 0,
                    "cancelled": False,
                    "start": int(a["start"]) if stream else 0,
                    "cliff": int(a["cliff"]) if stream else 0,
                    "duration": int(a["duration"]) if stream else 0,
                    "block": ev.block_number,
                }
            elif name == "GrantClaimed" and int(a["grantId"]) in grants:
                g = grants[int(a["grantId"])]
                g["claimed"] += int(a["amount"])
                out(ev, g["token"], "grant", a["recipient"], int(a["amount"]), int(a["grantId"]))
                move(ev, g["token"], -int(a["amount"]))
            elif name == "GrantCancelled" and int(a["grantId"]) in grants:
                g = grants[int(a["grantId"])]
                g["returned"] += int(a["returned"])
                g["cancelled"] = True
            elif name == "TrancheReleased" and int(a["grantId"]) in grants:
                grants[int(a["grantId"])]["released"] += int(a["amount"])
            elif name == "RoundOpened":
                rounds[int(a["roundId"])] = {
                    "token": a["token"],
                    "pool": int(a["matchingPool"]),
                    "projects": int(a["projectCount"]),
                    "start": int(a["start"]),
                    "end": int(a["end"]),
                    "contributions": 0,
                    "citizen": 0,
                    "matching": 0,
                    "leftover": 0,
                    "finalized": False,
                }
            elif name == "Contributed" and int(a["roundId"]) in rounds:
                r = rounds[int(a["roundId"])]
                amount = int(a["amount"])
                r["contributions"] += amount
                r["citizen"] += amount if a["matched"] else 0
                p = projects[(int(a["roundId"]), int(a["projectIndex"]))]
                p["contributions"] += amount
                p["contributors"].add(a["contributor"])
                move(ev, r["token"], amount)
            elif name == "RoundFinalized" and int(a["roundId"]) in rounds:
                r = rounds[int(a["roundId"])]
                r.update(matching=int(a["totalMatching"]), leftover=int(a["leftover"]), finalized=True)
            elif name == "RoundClaimed" and int(a["roundId"]) in rounds:
                rid = int(a["roundId"])
                token = rounds[rid]["token"]
                matching, contributions = int(a["matching"]), int(a["contributions"])
                p = projects[(rid, int(a["projectIndex"]))]
                p["matching"] += matching
                p["recipient"] = a["recipient"]
                if matching:
                    out(ev, token, "qf_matching", a["recipient"], matching, rid)
                move(ev, token, -(matching + contributions))
        return cls(
            inflows=inflows,
            outflows=outflows,
            grants=[_grant_row(gid, g, now) for gid, g in sorted(grants.items())],
            rounds=[
                RoundRow(
                    rid,
                    r["token"],
                    r["pool"],
                    r["projects"],
                    r["start"],
                    r["end"],
                    r["contributions"],
                    r["citizen"],
                    r["matching"],
                    r["leftover"],
                    r["finalized"],
                )
                for rid, r in sorted(rounds.items())
            ],
            matches=[
                MatchRow(
                    rid, index, p["contributions"], len(p["contributors"]), p["matching"], p["recipient"]
                )
                for (rid, index), p in sorted(projects.items())
            ],
            balance_history=history,
            balances=dict(running),
            as_of=now,
        )


def _grant_row(grant_id: int, g: Mapping[str, Any], now: int) -> GrantRow:
    if g["kind"] == "milestone":
        vested = g["released"]
    elif g["cancelled"]:
        vested = g["granted"] - g["returned"]
    else:
        vested = _linear_vested(g["granted"], g["start"], g["cliff"], g["duration"], now)
    return GrantRow(
        grant_id,
        g["kind"],
        g["token"],
        g["recipient"],
        g["granted"],
        vested,
        g["claimed"],
        g["returned"],
        g["cancelled"],
        g["block"],
    )


def _linear_vested(total: int, start: int, cliff: int, duration: int, now: int) -> int:
    """TreasuryVestingMath.linearVested, exactly."""
    if now < start + cliff:
        return 0
    if now < start + duration:
        return total * (now - start) // duration
    return total


def _proposal_state(
    now: int,
    snapshot: int,
    deadline: int,
    eta: int,
    done: str | None,
    for_: int,
    against: int,
    abstain: int,
    quorum: int,
) -> str:
    """OpenZeppelin's Governor.state (with timelock control) from the events, at time ``now``."""
    if done is not None:
        return done
    if snapshot >= now:
        return "pending"
    if deadline >= now:
        return "active"
    if quorum > for_ + abstain or for_ <= against:
        return "defeated"
    return "queued" if eta else "succeeded"


def _name(names: Sequence[str], value: Any) -> str:
    index = int(value)
    return names[index] if 0 <= index < len(names) else str(index)
