"""The web app's data layer: one function per page need, returning plain JSON-ready dicts.

Lists and histories (proposals and their text and actions, delegators, listings, bookings, the treasury's
inflows, balance history and grants, the budget's projects and ballots) read the event index
(:mod:`civicdao.index`), once per request, after one incremental sync (one ``eth_getLogs`` over the blocks
since the last sync, so a resident sees their own transaction at once); ``civicdao serve`` also follows the
chain in a thread (:meth:`WebData.follow_index`), so that sync usually finds nothing left to read. Single
current values (one proposal's state and tally and your vote, a membership, a calendar, balances, credits)
are read from the chain through the library
(:class:`~civicdao.governance.Governance`, :class:`~civicdao.citizens.Citizens`,
:class:`~civicdao.exchange.Exchange`, :class:`~civicdao.treasury.Treasury`). The dict shapes below are the
contract between this module and the front end (documented in ``docs/web.md``).

Amounts in wei, ids and other numbers that may exceed 2**53 are decimal strings (JavaScript's
``JSON.parse`` would corrupt them); small counts and unix times are numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from civicdao.accounts import checksum
from civicdao.budget import ParticipatoryBudget
from civicdao.budget.web import web_rounds
from civicdao.citizens import Citizens
from civicdao.deploy import SUITE_CONTRACTS, Suite
from civicdao.errors import ConfigError
from civicdao.exchange import Exchange, Kind, Listing, ListingStatus, Unit
from civicdao.governance import Governance, ProposalState
from civicdao.index import Deployment, Indexer, IndexReader, Store, SyncReport
from civicdao.index.queries import ListingRow, ProposalRow
from civicdao.relayer.service import parse_uint
from civicdao.tokens import ETH
from civicdao.treasury import Treasury
from civicdao.tx import call, calldata

__all__ = ["TxRequest", "WebData", "WebInputError"]

#: Most calendar slots one page shows (a month of days, or two weeks of hours).
CALENDAR_SLOTS = 31 * 24
#: Most recent inflows listed on the treasury page.
RECENT_INFLOWS = 50

T = TypeVar("T")


class WebInputError(ConfigError):
    """A page asked for something malformed (an id that is not a number, an unknown kind…)."""


@dataclass(frozen=True)
class TxRequest:
    """A transaction for the wallet to send: ``eth_sendTransaction({to, data, value})``."""

    to: str
    data: str
    value: int
    description: str

    def as_dict(self) -> dict[str, str]:
        return {"to": self.to, "data": self.data, "value": hex(self.value), "description": self.description}


class WebData:
    """What the pages show, read from a deployed suite and its event index. One instance per process.

    ``index_db`` is the index's database (a SQLite path or a ``postgresql://`` URL, as for
    ``civicdao index sync``); by default an in-memory SQLite index built at the first list request.
    """

    def __init__(self, suite: Suite, *, index_db: str | None = None, confirmations: int = 0) -> None:
        self.suite = suite
        self.w3: Web3 = suite.w3
        self.governance = Governance.from_suite(suite)
        self.citizens = Citizens.from_suite(suite)
        self.exchange = Exchange.from_suite(suite)
        self.treasury = Treasury.from_suite(suite)
        self._known: dict[str, tuple[str, Contract]] = {
            to_checksum_address(c.address): (key, c)
            for key, c in (
                ("registry", suite.registry),
                ("timelock", suite.timelock),
                ("governor", suite.governor),
                ("treasury", suite.treasury),
                ("exchange", suite.exchange),
                *((("budget", suite.budget),) if "budget" in suite.manifest.contracts else ()),
            )
        }
        deployment = Deployment.from_manifest(suite.manifest)
        self.index_store = Store(index_db or ":memory:")
        self._indexer = Indexer(self.w3, deployment, self.index_store, confirmations=confirmations)
        self._reader = IndexReader(self.index_store, deployment)
        #: Listings as the chain holds them, by (id, terms version): fields no event carries.
        self._listing_cache: dict[tuple[int, int, int, str, str], Listing] = {}

    # -- the index ----------------------------------------------------------------------------------------

    def sync_index(self) -> SyncReport:
        """Bring the index up to the chain's head (incremental, reorg-safe)."""
        return self._indexer.sync()

    def follow_index(self, stop: threading.Event, *, interval: float = 1.0) -> None:
        """Keep the index in step with the chain every ``interval`` seconds until ``stop`` is set (run it in a
        thread: :meth:`Indexer.follow <civicdao.index.Indexer.follow>`, which retries a failing node). A
        page's own sync then finds little or nothing left to read."""
        self._indexer.follow(poll_interval=interval, stop=stop)

    def close(self) -> None:
        """Close the index's database."""
        self.index_store.close()

    def _indexed(self, query: Callable[[IndexReader], T]) -> T:
        """Answer ``query`` from the index in one consistent read, after one incremental sync (a page calls
        this once: it sees the transaction its resident just sent, even between two follower polls)."""
        self._indexer.sync()
        with self.index_store.transaction():  # the follower's next batch waits until the page has read
            return query(self._reader)

    # -- the app ------------------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """What the front end needs before anything else: the chain, the contracts, the categories."""
        return {
            "chainId": self.suite.chain_id,
            "contracts": {  # what the manifest records (an older one has no budget)
                key: to_checksum_address(entry.address)
                for key, entry in self.suite.manifest.contracts.items()
                if key in SUITE_CONTRACTS
            },
            "kinds": [k.name.lower() for k in Kind],
            "budget": self.budget_available(),
        }

    # -- proposals ----------------------------------------------------------------------------------------

    def proposals(self) -> list[dict[str, Any]]:
        """Every proposal, newest first, with state and tally (no actions), from the index."""
        return [_summary(row) for row in self._indexed(lambda r: r.proposals())]

    def proposal(self, proposal_id: str, *, account: str | None = None) -> dict[str, Any]:
        """One proposal: full text and decoded actions (from the index), its state, tally and quorum (from the
        chain, now), its timeline; ``account``'s vote status."""
        pid = _uint(proposal_id, "proposal id")
        row = self._indexed(lambda r: r.proposal(pid))
        if row is None:
            raise LookupError(f"the governor has no proposal {proposal_id}")
        state, tally = self.governance.state(pid), self.governance.tally(pid)
        row = replace(
            row,
            state=state.name.lower(),
            for_votes=tally.for_,
            against_votes=tally.against,
            abstain_votes=tally.abstain,
        )
        now = self._now()
        out = _summary(row)
        out["actions"] = [self._decode_action(a.target, a.value, HexBytes(a.calldata)) for a in row.actions]
        out["quorum"] = str(self.governance.quorum(row.snapshot)) if row.snapshot < now else None
        out["timeline"] = _timeline(row, state, now)
        if account is not None:
            out["you"] = self._your_vote(pid, row.snapshot, checksum(account, what="account"), now)
        return out

    def _your_vote(self, pid: int, snapshot: int, who: str, now: int) -> dict[str, Any]:
        """Whether ``who`` voted or overrode, and whether a ballot of theirs must be an override."""
        governor = self.suite.governor
        started = snapshot < now
        votes = self.citizens.votes(who, at=snapshot) if started else 0
        member_then = started and int(call(self.suite.registry.functions.getPastBalanceOf(who, snapshot))) > 0
        return {
            "hasVoted": self.governance.has_voted(pid, who),
            "hasOverridden": bool(call(governor.functions.hasVotedOverride(pid, who))),
            "votesAtSnapshot": votes,
            "isCitizen": self.citizens.is_citizen(who),
            "delegate": self.citizens.delegate_of(who),
            #: A member at the snapshot whose vote was delegated then: only an override ballot counts.
            "mustOverride": member_then and votes == 0,
        }

    def _decode_action(self, target: str, value: int, calldata: bytes) -> dict[str, Any]:
        action: dict[str, Any] = {
            "target": target,
            "value": str(value),
            "calldata": "0x" + bytes(calldata).hex(),
            "contract": None,
            "function": None,
            "args": {},
        }
        known = self._known.get(to_checksum_address(target))
        if known is None or not calldata:
            return action
        key, contract = known
        try:
            fn, args = contract.decode_function_input(calldata)
        except ValueError:
            return action
        action["contract"] = key
        action["function"] = fn.fn_name
        action["args"] = {name: _jsonable(arg) for name, arg in args.items()}
        return action

    # -- membership ---------------------------------------------------------------------------------------

    def membership(self, account: str) -> dict[str, Any]:
        """Whether ``account`` is a citizen, its votes, its delegate, who delegates to it now, and whether it
        holds REGISTRAR_ROLE (the page then shows the registrar desk)."""
        who = checksum(account, what="account")
        info = self.citizens.info(who)
        return {
            "address": who,
            "isCitizen": info.is_citizen,
            "membershipId": str(info.membership_id),
            "votes": info.votes,
            "delegate": info.delegatee,
            "delegators": self.delegators(who),
            "citizenCount": self.citizens.citizen_count(),
            "isRegistrar": self.citizens.is_registrar(who),
            "now": self._now(),
        }

    def delegators(self, account: str) -> list[str]:
        """Addresses whose vote currently counts for ``account`` (itself excluded)."""
        who = checksum(account, what="account")
        edges = self._indexed(lambda r: r.delegation_graph())
        return sorted({checksum(a) for a, b in edges if checksum(b) == who} - {who})

    # -- exchange -----------------------------------------------------------------------------------------

    def listings(self, *, kind: str | None = None, on: int | None = None) -> list[dict[str, Any]]:
        """Open listings, by kind and/or available on unix time ``on``."""
        wanted = None if not kind else _kind(kind).name.lower()
        rows = self._indexed(lambda r: r.listings(kind=wanted, status=ListingStatus.OPEN.name.lower()))
        found = [self._listing_terms(row) for row in rows]
        return [
            {**_listing(item), "status": row.status}
            for row, item in zip(rows, found, strict=True)
            if on is None or item.unit is Unit.ITEM or item.available_from <= on < item.available_until
        ]

    def _listing_terms(self, row: ListingRow) -> Listing:
        """A listing's fields no event carries (availability, unit bounds, policy), read from the chain once
        per terms version: availability and bounds never change, and a terms change moves the version."""
        key = (row.listing_id, row.terms_version, row.created_block, row.lister, row.metadata_uri)
        cached = self._listing_cache.get(key)
        if cached is None:
            cached = self._listing_cache[key] = self.exchange.get_listing(row.listing_id)
        return cached

    def listing(self, listing_id: str) -> dict[str, Any]:
        """One listing with its terms."""
        return _listing(self.exchange.get_listing(_uint(listing_id, "listing id")))

    def calendar(self, listing_id: str, *, start: int | None = None) -> dict[str, Any]:
        """Free and taken slots of a calendar listing from ``start`` (default: now), a page at a time."""
        listing = self.exchange.get_listing(_uint(listing_id, "listing id"))
        if listing.unit is Unit.ITEM:
            return {"listingId": str(listing.listing_id), "unit": "item", "slots": []}
        begin = max(self._now() if start is None else start, listing.available_from)
        length = listing.unit.seconds
        begin = listing.available_from + (begin - listing.available_from) // length * length
        end = min(begin + CALENDAR_SLOTS * length, listing.available_until)
        if end <= begin:
            return {"listingId": str(listing.listing_id), "unit": listing.unit.name.lower(), "slots": []}
        calendar = self.exchange.calendar(listing.listing_id, start=begin, end=end)
        return {
            "listingId": str(listing.listing_id),
            "unit": listing.unit.name.lower(),
            "slots": [{"start": s.start, "end": s.end, "free": s.free} for s in calendar.slots],
        }

    def bookings(self, renter: str) -> list[dict[str, Any]]:
        """``renter``'s bookings, newest first, with what they may do next."""
        who = checksum(renter, what="renter")
        now = self._now()
        out = []
        for b in reversed(self._indexed(lambda r: r.bookings(renter=who))):
            active = b.status == "active"
            # deadlines are snapshotted in storage, not in events: read them for the live bookings only
            live = self.exchange.get_booking(b.booking_id) if active else None
            out.append(
                {
                    "bookingId": str(b.booking_id),
                    "listingId": str(b.listing_id),
                    "start": b.start,
                    "end": b.end,
                    "units": b.units,
                    "price": str(b.price),
                    "deposit": str(b.deposit),
                    "status": b.status,
                    "deposit_status": b.deposit_status,
                    "freeCancelUntil": live.free_cancel_until if live else None,
                    "canCancel": live is not None and now < b.start,
                    "canSettle": live is not None and now >= live.claim_until,
                    # settle returned the deposit into the booking: the renter pulls it (withdrawDeposit)
                    "canWithdrawDeposit": b.deposit_status == "refundable",
                }
            )
        return out

    def credits(self, account: str) -> dict[str, str]:
        """ETH the exchange credits ``account`` (refunds, claim payouts, earnings): what withdraw pulls. A
        deposit settle returned is pulled per booking (``withdraw_deposit_tx``)."""
        return {"eth": str(self.exchange.credits(checksum(account, what="account")))}

    # -- treasury -----------------------------------------------------------------------------------------

    def treasury_overview(self) -> dict[str, Any]:
        """ETH balance, committed and free amounts, inflows by category, grants, balance over time."""
        balance = self.treasury.token_balance()
        figures, notes = self._indexed(lambda r: (r.treasury(), _donation_notes(r)))
        eth = to_checksum_address(ETH)
        return {
            "balance": str(balance.balance),
            "committed": str(balance.committed),
            "free": str(balance.free),
            "totalIn": str(balance.total_in),
            "totalOut": str(balance.total_out),
            "inflowsByCategory": [{"category": c, "amount": str(a)} for c, a in balance.inflow_by_category],
            "grants": [
                {
                    "grantId": str(g.grant_id),
                    "kind": g.kind,
                    "recipient": g.recipient,
                    "amount": str(g.granted),
                    "vested": str(g.vested),
                    "claimed": str(g.claimed),
                    "claimable": str(0 if g.cancelled else max(0, g.vested - g.claimed)),
                    "cancelled": g.cancelled,
                }
                for g in figures.grants
                if checksum(g.token) == eth
            ],
            "balanceHistory": [
                {"time": point.timestamp, "balance": str(point.balance)}
                for point in figures.balance_history
                if checksum(point.token) == eth
            ],
            "recentInflows": [
                {
                    "time": i.timestamp,
                    "source": i.source,
                    "category": i.category,
                    "amount": str(i.amount),
                    "note": notes.get(i.tx_hash, ""),
                }
                for i in [i for i in figures.inflows if checksum(i.token) == eth][-RECENT_INFLOWS:][::-1]
            ],
        }

    # -- participatory budget -----------------------------------------------------------------------------

    def budget_available(self) -> bool:
        """Whether the manifest names a participatory budget contract (older deployments have none)."""
        return "budget" in self.suite.manifest.contracts

    def budget(self) -> dict[str, Any]:
        """Rounds, projects, ballots and results of the participatory budget, or why there are none.

        Shape when available: ``{"available": true, "rounds": [{"roundId", "budget", "token", "phase",
        "minApprovals", "maxApprovals", "votingStart", "votingEnd", "voters",
        "projects": [{"index", "title", "cost", "recipient"}],
        "results": null | {"rule", "selected": [index…], "payments": [{"index", "paid", "voters"}…]}}]}``
        (:func:`civicdao.budget.web_rounds`). Projects and ballots are read from the event index; each
        round's own fields from the chain.
        """
        if not self.budget_available():
            return {"available": False, "rounds": []}
        return {"available": True, "rounds": self._indexed(lambda r: web_rounds(self.suite, index=r))}

    def budget_ballot(self, round_id: str, account: str) -> dict[str, Any]:
        """``account``'s ballot in a budget round as the chain holds it now: the project indexes its
        membership approves (empty before its first ballot) and how many ballots the membership has cast
        there, so the page can tick the boxes a resident chose. ``member`` is false for a non-citizen.
        An unknown round is a :class:`LookupError` (404)."""
        if not self.budget_available():
            raise LookupError("this deployment has no participatory budget")
        rid = _uint(round_id, "round id")
        who = checksum(account, what="account")
        budget = ParticipatoryBudget.from_suite(self.suite)
        if rid >= budget.round_count():
            raise LookupError(f"the participatory budget has no round {rid}")
        membership = self.citizens.membership_of(who)
        if membership == 0:
            return {"roundId": rid, "member": False, "approvals": [], "ballots": 0}
        approvals, ballots = budget.ballot_of(rid, membership)
        return {"roundId": rid, "member": True, "approvals": list(approvals), "ballots": ballots}

    # -- transactions the wallet sends --------------------------------------------------------------------

    def book_tx(self, listing_id: str, *, start: int, units: int) -> TxRequest:
        """``book(listingId, start, units, termsVersion)`` with the exact ETH the quote asks."""
        lid = _uint(listing_id, "listing id")
        listing = self.exchange.get_listing(lid)
        if listing.token != to_checksum_address(ETH):
            raise WebInputError(
                f"listing {lid} is priced in a token; book it from the CLI or library for now"
            )
        if listing.unit is Unit.ITEM:
            start = 0
        elif not self.exchange.is_available(lid, start, units):
            raise WebInputError(f"listing {lid} is not free for {units} slot(s) from that time")
        quote = self.exchange.quote(lid, units)
        fn = self.suite.exchange.functions.book(lid, start, units, quote.terms_version)
        return self._tx(fn, quote.total, f"book listing {lid}: {units} unit(s)")

    def cancel_tx(self, booking_id: str) -> TxRequest:
        """``cancelByRenter(bookingId)``."""
        bid = _uint(booking_id, "booking id")
        return self._tx(self.suite.exchange.functions.cancelByRenter(bid), 0, f"cancel booking {bid}")

    def settle_tx(self, booking_id: str) -> TxRequest:
        """``settle(bookingId)``: after the stay and the claim window, credits the lister and returns the
        deposit into the booking (the renter then pulls it)."""
        bid = _uint(booking_id, "booking id")
        return self._tx(self.suite.exchange.functions.settle(bid), 0, f"settle booking {bid}")

    def withdraw_deposit_tx(self, booking_id: str) -> TxRequest:
        """``withdrawDeposit(bookingId)``: the renter pulls the deposit settle returned into the booking."""
        bid = _uint(booking_id, "booking id")
        fn = self.suite.exchange.functions.withdrawDeposit(bid)
        return self._tx(fn, 0, f"take back the deposit of booking {bid}")

    def withdraw_tx(self) -> TxRequest:
        """``withdraw(ETH)``: pull the account's ETH credit from the exchange."""
        return self._tx(self.suite.exchange.functions.withdraw(ETH), 0, "withdraw ETH owed by the exchange")

    def donate_tx(self, amount_wei: str, note: str = "") -> TxRequest:
        """``donate(note)`` with ``amount_wei`` ETH to the public treasury."""
        amount = _uint(amount_wei, "amount")
        if amount == 0:
            raise WebInputError("a donation must be more than 0")
        raw = note.encode()
        if len(raw) > 32:
            raise WebInputError("the note is longer than 32 bytes; shorten it")
        fn = self.suite.treasury.functions.donate(raw.ljust(32, b"\0"))
        return self._tx(fn, amount, "donate to the public treasury")

    def claim_grant_tx(self, grant_id: str) -> TxRequest:
        """``claim(grantId)``: a grant's recipient pulls what has vested."""
        gid = _uint(grant_id, "grant id")
        return self._tx(self.suite.treasury.functions.claim(gid), 0, f"claim grant {gid}")

    def _tx(self, fn: Any, value: int, description: str) -> TxRequest:
        data = calldata(fn)
        return TxRequest(to=str(fn.address), data=str(data), value=value, description=description)

    # -- internals ----------------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])


def _summary(row: ProposalRow) -> dict[str, Any]:
    """A proposal as the pages show it (its list entry; the proposal page adds actions and more)."""
    description = _strip_proposer(row.description)
    title, _, body = description.partition("\n")
    return {
        "id": row.id,
        "proposer": row.proposer,
        "title": title.lstrip("# ").strip() or f"Proposal {row.id[:10]}…",
        "description": description,
        "body": body.strip(),
        "state": row.state,
        "voteStart": row.snapshot,
        "voteEnd": row.deadline,
        "eta": row.eta,
        "tally": {"for": row.for_votes, "against": row.against_votes, "abstain": row.abstain_votes},
        "open": row.state == ProposalState.ACTIVE.name.lower(),
    }


def _timeline(row: ProposalRow, state: ProposalState, now: int) -> list[dict[str, Any]]:
    """The proposal's steps, done or to come."""
    events: list[dict[str, Any]] = [
        {"step": "proposed", "time": row.created_at, "done": True},
        {"step": "voting_opens", "time": row.snapshot, "done": row.snapshot <= now},
        {"step": "voting_closes", "time": row.deadline, "done": row.deadline < now},
    ]
    if row.eta:
        events.append({"step": "executable", "time": row.eta, "done": row.eta <= now})
    if state is ProposalState.EXECUTED:
        events.append({"step": "executed", "time": None, "done": True})
    elif state in (ProposalState.DEFEATED, ProposalState.CANCELED, ProposalState.EXPIRED):
        events.append({"step": state.name.lower(), "time": None, "done": True})
    return events


def _donation_notes(reader: IndexReader) -> dict[str, str]:
    """Donation notes by transaction hash (the notes are public, short and non-personal by contract)."""
    notes = {}
    for event in reader.events("PublicTreasury", ["DonationReceived"]):
        raw = event.args.get("note", b"")
        data = bytes(HexBytes(raw)) if isinstance(raw, str | bytes) else b""
        notes[event.tx_hash] = data.rstrip(b"\0").decode("utf-8", errors="replace")
    return notes


def _listing(item: Listing) -> dict[str, Any]:
    return {
        "listingId": str(item.listing_id),
        "lister": item.lister,
        "kind": item.kind.name.lower(),
        "unit": item.unit.name.lower(),
        "price": str(item.price),
        "deposit": str(item.deposit),
        "token": item.token,
        "availableFrom": item.available_from,
        "availableUntil": item.available_until,
        "minUnits": item.min_units,
        "maxUnits": item.max_units,
        "metadataUri": item.metadata_uri,
        "residentsOnly": item.residents_only,
        "freeCancelHours": item.policy.free_cancel_hours,
        "status": item.status.name.lower(),
    }


def _strip_proposer(description: str) -> str:
    return description.split("#proposer=")[0].rstrip()


def _uint(text: str, what: str) -> int:
    return parse_uint(text, what, WebInputError)


def _kind(value: str) -> Kind:
    try:
        return Kind.parse(value)
    except ConfigError:
        raise WebInputError(
            f"unknown kind {value!r}: choose one of {[k.name.lower() for k in Kind]}"
        ) from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray | HexBytes):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
