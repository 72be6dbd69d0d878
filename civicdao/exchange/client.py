"""The :class:`Exchange` client: list idle capacity, book it, settle, and get paid.

Every state-changing method takes the :class:`~civicdao.accounts.Signer` who acts as its first argument and
returns a frozen record (:mod:`civicdao.exchange.types`); every view returns a frozen record or a plain
value. Amounts are int wei (or the token's smallest unit), times int unix seconds, addresses checksummed,
and the token :data:`~civicdao.tokens.ETH` (the zero address) means ether.

Inputs are checked before anything is sent: a malformed :class:`ListingSpec` raises
:class:`ExchangeInputError`, and :meth:`Exchange.book` reads the on-chain calendar first and raises
:class:`SlotsTakenError` naming the slots that clash. A booking carries the listing's terms version it was
priced from, so a lister who changes price, deposit or cancellation policy before it is mined gets it refused
(``ExchangeTermsChanged``) instead of charging the renter the new terms. What only the contract can judge
(roles, deadlines, statuses) comes back as the contract's named revert, raised while estimating gas, so
nothing is mined.

Lists (:meth:`Exchange.search`, :meth:`Exchange.bookings`) find their listings and bookings in an event index
when the exchange has one (``Exchange.from_suite(suite, index=reader)``), or else in the node's logs read in
adaptive ranges; either way each record's current state is then read from the chain (bookings in JSON-RPC
batches), since it holds terms no event carries.
"""

from __future__ import annotations

import builtins
import functools
import logging
from typing import Any

from eth_typing import BlockIdentifier
from web3.contract import Contract

from civicdao._validate import UINT32_MAX, UINT64_MAX
from civicdao.accounts import Signer, checksum
from civicdao.citizens import Citizens
from civicdao.contracts import bind
from civicdao.errors import InvalidAmountError
from civicdao.exchange.actions import ExchangeActions
from civicdao.exchange.types import (
    MAX_CALENDAR_SLOTS,
    MAX_UNITS_PER_BOOKING,
    Booking,
    BookingMade,
    Calendar,
    CalendarSlot,
    Cancellation,
    CancellationPolicy,
    ClaimDisputed,
    ClaimRaised,
    DepositRelease,
    ExchangeInputError,
    ExchangePaused,
    FeesFlushed,
    Kind,
    Listed,
    Listing,
    ListingChanged,
    ListingSpec,
    ListingStatus,
    Quote,
    Settlement,
    Shipped,
    SlotsTakenError,
    TermsUpdated,
    Unit,
    Windows,
    Withdrawal,
    _booking,
    _check_amount,
    _check_id,
    _check_uint,
    _iso,
    _listing,
)
from civicdao.tokens import ERC20_ABI, ETH, ensure_allowance
from civicdao.tx import Event, TxRecord, call

__all__ = ["Exchange"]

logger = logging.getLogger(__name__)


class Exchange(ExchangeActions):
    """Typed access to one deployed ``CommonsExchange`` (and the claims and lens contracts it created).

    Build it with ``dao.exchange`` (:class:`civicdao.CivicDAO`), :meth:`from_suite` or :meth:`at`; the DAO
    action builders (:meth:`fee_action`, :meth:`role_action`, …) come from
    :class:`~civicdao.exchange.actions.ExchangeActions`.
    """

    @functools.cached_property
    def claims(self) -> Contract:
        """The exchange's claims-and-disputes contract (``ExchangeClaims``, created by the exchange)."""
        return bind(self.w3, "ExchangeClaims", call(self.contract.functions.claims()))

    @functools.cached_property
    def lens(self) -> Contract:
        """The exchange's read-only helper (``ExchangeLens``: availability, first clash, quotes)."""
        return bind(self.w3, "ExchangeLens", call(self.contract.functions.lens()))

    # -- listings ----------------------------------------------------------------------------------------

    def list(self, signer: Signer, spec: ListingSpec) -> Listed:
        """Create a listing from ``spec`` (the signer must be a citizen or hold LISTER_ROLE)."""
        if not isinstance(spec, ListingSpec):
            raise ExchangeInputError(f"expected a ListingSpec, got {type(spec).__name__}")
        record = self._send(signer, self.contract.functions.createListing(spec.as_params()))
        event = self._event(record, "ListingCreated")
        logger.info("listing %s created by %s", event["listingId"], signer.address)
        return Listed(
            listing_id=int(event["listingId"]),
            lister=checksum(event["lister"]),
            kind=Kind(event["kind"]),
            token=checksum(event["token"]),
            price=int(event["price"]),
            deposit=int(event["deposit"]),
            tx=record,
        )

    def update_terms(
        self,
        signer: Signer,
        listing_id: int,
        *,
        price: int | None = None,
        deposit: int | None = None,
        policy: CancellationPolicy | None = None,
    ) -> TermsUpdated:
        """Change the terms of future bookings; what is not given stays as it is."""
        _check_id("listing_id", listing_id)
        if price is not None:
            _check_amount("price", price)
        if deposit is not None:
            _check_amount("deposit", deposit)
        if policy is not None and not isinstance(policy, CancellationPolicy):
            raise ExchangeInputError(f"policy must be a CancellationPolicy, got {policy!r}")
        current = self.get_listing(listing_id)
        chosen = policy or current.policy
        record = self._send(
            signer,
            self.contract.functions.updateTerms(
                listing_id,
                current.price if price is None else price,
                current.deposit if deposit is None else deposit,
                chosen.free_cancel_hours,
                chosen.late_refund_bps,
            ),
        )
        event = self._event(record, "ListingTermsUpdated")
        return TermsUpdated(
            listing_id=listing_id,
            price=int(event["price"]),
            deposit=int(event["deposit"]),
            policy=CancellationPolicy(int(event["freeCancelHours"]), int(event["lateRefundBps"])),
            terms_version=int(event["termsVersion"]),
            tx=record,
        )

    def set_stock(self, signer: Signer, listing_id: int, stock: int) -> ListingChanged:
        """Set the remaining stock of an ITEM listing."""
        _check_id("listing_id", listing_id)
        _check_uint("stock", stock, UINT32_MAX)
        return self._changed(
            listing_id, self._send(signer, self.contract.functions.setStock(listing_id, stock))
        )

    def pause_listing(self, signer: Signer, listing_id: int, *, paused: bool = True) -> ListingChanged:
        """The lister pauses (or, with ``paused=False``, resumes) bookings of one listing."""
        _check_id("listing_id", listing_id)
        fn = self.contract.functions.setListingPaused(listing_id, bool(paused))
        return self._changed(listing_id, self._send(signer, fn))

    def close(self, signer: Signer, listing_id: int) -> ListingChanged:
        """Close a listing for good (its lister, or the DAO); existing bookings stay valid."""
        _check_id("listing_id", listing_id)
        return self._changed(listing_id, self._send(signer, self.contract.functions.closeListing(listing_id)))

    def _changed(self, listing_id: int, record: TxRecord) -> ListingChanged:
        """The listing's state as the change ``record`` left it (read at its block)."""
        listing = self._listing_at(listing_id, record.block_number)
        return ListingChanged(listing_id, listing.stock, listing.paused, listing.closed, record)

    def pause(self, signer: Signer) -> ExchangePaused:
        """Stop new listings and bookings exchange-wide (guardian or DAO); only the DAO unpauses."""
        record = self._send(signer, self.contract.functions.pause())
        return ExchangePaused(checksum(self._event(record, "Paused")["account"]), record)

    def is_paused(self) -> bool:
        return bool(call(self.contract.functions.paused()))

    def guardian_expiry(self) -> int:
        """Unix time after which GUARDIAN_ROLE holders can no longer pause (0 = never; the DAO always can)."""
        return int(call(self.settings.functions.guardianExpiry()))

    # -- reading -----------------------------------------------------------------------------------------

    def get_listing(self, listing_id: int) -> Listing:
        """The listing as stored; raises ExchangeUnknownListing for an unknown id."""
        return self._listing_at(listing_id, "latest")

    def get_booking(self, booking_id: int) -> Booking:
        """The booking as stored; raises ExchangeUnknownBooking for an unknown id."""
        _check_id("booking_id", booking_id)
        return _booking(booking_id, call(self.contract.functions.getBooking(booking_id)))

    def quote(self, listing_id: int, units: int) -> Quote:
        """What booking ``units`` of the listing costs now, with the terms version it comes from."""
        _check_id("listing_id", listing_id)
        _check_uint("units", units, UINT32_MAX)
        block = self.w3.eth.block_number
        return self._quote(self._listing_at(listing_id, block), units, block)

    def _listing_at(self, listing_id: int, block: BlockIdentifier) -> Listing:
        _check_id("listing_id", listing_id)
        return _listing(listing_id, call(self.lens.functions.getListing(listing_id), block=block))

    def _quote(self, listing: Listing, units: int, block: int) -> Quote:
        """The quote of ``listing`` as read at ``block`` (amounts and version from the same state)."""
        price, deposit, fee = call(self.lens.functions.quote(listing.listing_id, units), block=block)
        return Quote(
            listing.listing_id,
            units,
            listing.token,
            int(price),
            int(deposit),
            int(fee),
            listing.terms_version,
        )

    def is_available(self, listing_id: int, start: int, units: int) -> bool:
        """Whether a booking of ``units`` from ``start`` would pass the listing and calendar checks now."""
        _check_id("listing_id", listing_id)
        _check_uint("start", start, UINT64_MAX)
        _check_uint("units", units, UINT32_MAX)
        return bool(call(self.lens.functions.isAvailable(listing_id, start, units)))

    def calendar(self, listing_id: int, *, start: int | None = None, end: int | None = None) -> Calendar:
        """Free/taken per slot of a calendar listing over ``[start, end)``.

        The range is clipped to the listing's window and widened to whole slots; by default the whole
        window. Reads the on-chain bitmap (one call per taken slot and per free stretch).
        """
        listing = self.get_listing(listing_id)
        if listing.unit is Unit.ITEM:
            raise ExchangeInputError(f"listing {listing_id} sells ITEMs from a stock and has no calendar")
        length = listing.unit.seconds
        lo = listing.available_from if start is None else max(start, listing.available_from)
        hi = listing.available_until if end is None else min(end, listing.available_until)
        first = (lo - listing.available_from) // length
        stop = min(-(-(hi - listing.available_from) // length), listing.slot_count)
        if hi <= lo or stop <= first:
            raise ExchangeInputError(
                f"the range {_iso(lo)} to {_iso(hi)} holds no whole slot of listing {listing_id}"
            )
        if stop - first > MAX_CALENDAR_SLOTS:
            raise ExchangeInputError(
                f"the range holds {stop - first} slots; ask for at most {MAX_CALENDAR_SLOTS} at a time"
            )
        taken = self._taken_slots(listing, first, stop)
        slots = tuple(
            CalendarSlot(i, listing.slot_start(i), listing.slot_start(i + 1), i not in taken)
            for i in range(first, stop)
        )
        return Calendar(listing_id, listing.unit, slots)

    def _taken_slots(self, listing: Listing, first: int, stop: int) -> set[int]:
        taken: set[int] = set()
        pos = first
        while pos < stop:
            count = min(stop - pos, MAX_UNITS_PER_BOOKING)
            clash, slot = call(
                self.lens.functions.firstClash(listing.listing_id, listing.slot_start(pos), count)
            )
            if not clash:
                pos += count
                continue
            taken.add(int(slot))
            pos = int(slot) + 1
        return taken

    def search(
        self,
        *,
        kind: Kind | str | int | None = None,
        status: ListingStatus | str | int | None = None,
        min_price: int | None = None,
        max_price: int | None = None,
        token: str | None = None,
        lister: str | None = None,
        from_block: int = 0,
    ) -> tuple[Listing, ...]:
        """Listings created since ``from_block`` (``ListingCreated`` logs), filtered on their current state.

        ``kind`` and ``lister`` filter the logs by topic; ``status``, the price bounds and ``token`` apply
        to each listing's current state (``getListing``), so updated terms and closures are respected.
        """
        filters: dict[str, Any] = {}
        if kind is not None:
            filters["kind"] = int(Kind.parse(kind))
        if lister is not None:
            filters["lister"] = checksum(lister, what="lister")
        wanted_status = None if status is None else ListingStatus.parse(status)
        wanted_token = None if token is None else checksum(token, what="token")
        for name, bound in (("min_price", min_price), ("max_price", max_price)):
            if bound is not None:
                _check_amount(name, bound)
        _check_uint("from_block", from_block, UINT64_MAX)
        found = []
        for listing_id in self._created_ids("ListingCreated", "listingId", filters, from_block):
            listing = self.get_listing(listing_id)
            if wanted_status is not None and listing.status is not wanted_status:
                continue
            if wanted_token is not None and listing.token != wanted_token:
                continue
            if min_price is not None and listing.price < min_price:
                continue
            if max_price is not None and listing.price > max_price:
                continue
            found.append(listing)
        return tuple(found)

    def bookings(
        self, *, listing_id: int | None = None, renter: str | None = None, from_block: int = 0
    ) -> tuple[Booking, ...]:
        """Bookings made since ``from_block`` (``Booked`` logs) for a listing and/or renter, current state."""
        filters: dict[str, Any] = {}
        if listing_id is not None:
            _check_id("listing_id", listing_id)
            filters["listingId"] = listing_id
        if renter is not None:
            filters["renter"] = checksum(renter, what="renter")
        _check_uint("from_block", from_block, UINT64_MAX)
        ids = self._created_ids("Booked", "bookingId", filters, from_block)
        return self._bookings_now(ids)

    def _created_ids(
        self, event: str, key: str, filters: dict[str, Any], from_block: int
    ) -> builtins.list[int]:
        """The ids (argument ``key``) of the ``event`` logs since ``from_block`` whose arguments match
        ``filters``, ascending: from the index when there is one, else from the node's logs."""
        found = [e["args"] for e in self._past_events([event]) if e["block"] >= from_block]
        wanted = {name: str(value) for name, value in filters.items()}
        return sorted(
            {
                int(args[key])
                for args in found
                if all(str(args[name]) == value for name, value in wanted.items())
            }
        )

    def _bookings_now(self, ids: builtins.list[int], batch_size: int = 500) -> tuple[Booking, ...]:
        """The current state of each booking, read in JSON-RPC batches of ``batch_size`` calls."""
        found: builtins.list[Booking] = []
        for first in range(0, len(ids), batch_size):
            chunk = ids[first : first + batch_size]
            if len(chunk) == 1:
                found.append(self.get_booking(chunk[0]))
                continue
            with self.w3.batch_requests() as batch:
                for booking_id in chunk:
                    batch.add(self.contract.functions.getBooking(booking_id))
                results = batch.execute()
            found.extend(_booking(i, raw) for i, raw in zip(chunk, results, strict=True))
        return tuple(found)

    # -- bookings ----------------------------------------------------------------------------------------

    def book(
        self,
        signer: Signer,
        listing_id: int,
        *,
        units: int,
        start: int | None = None,
        approve: bool = True,
        terms_version: int | None = None,
    ) -> BookingMade:
        """Book ``units`` of a listing from ``start`` and escrow price + deposit.

        Calendar listings need ``start`` (aligned to the unit from ``available_from``); ITEM purchases
        ignore it. The calendar is read first: clashing slots raise :class:`SlotsTakenError` before anything
        is sent. ETH is sent as the exact value; for an ERC-20 the method approves the exchange for the
        total first when the allowance falls short (``approve=False`` leaves that to the caller).

        The listing is read once; the amounts come from that state and the booking names its terms version,
        so terms changed before the booking is mined refuse it (``ExchangeTermsChanged``) rather than charge
        more. ``terms_version`` pins an earlier version instead (a :class:`Quote`'s or :class:`Listing`'s, the
        terms a person was shown): when the listing has moved on since, nothing is approved and the contract's
        ``ExchangeTermsChanged`` is raised while estimating gas, so nothing is mined.
        """
        _check_uint("units", units, UINT32_MAX)
        if terms_version is not None:
            _check_uint("terms_version", terms_version, UINT32_MAX)
        block = self.w3.eth.block_number
        listing = self._listing_at(listing_id, block)
        if listing.unit is Unit.ITEM:
            start_arg = 0
        else:
            if start is None:
                raise ExchangeInputError(f"listing {listing_id} is a calendar listing: give a start time")
            self._check_slots(listing, start, units)
            start_arg = start
        quote = self._quote(listing, units, block)
        version = quote.terms_version if terms_version is None else terms_version
        approval = None
        if listing.token != ETH and approve and version == quote.terms_version:
            approval = ensure_allowance(self.w3, signer, listing.token, self.address, quote.total)
        value = quote.total if listing.token == ETH else 0
        record = self._send(
            signer, self.contract.functions.book(listing_id, start_arg, units, version), value=value
        )
        event = self._event(record, "Booked")
        logger.info("booking %s of listing %s by %s", event["bookingId"], listing_id, signer.address)
        return BookingMade(
            booking_id=int(event["bookingId"]),
            listing_id=listing_id,
            renter=checksum(event["renter"]),
            start=int(event["start"]),
            end=int(event["end"]),
            units=int(event["units"]),
            price=int(event["price"]),
            deposit=int(event["deposit"]),
            fee=int(event["fee"]),
            tx=record,
            approval=approval,
        )

    def _check_slots(self, listing: Listing, start: int, units: int) -> None:
        _check_uint("start", start, UINT64_MAX)
        length = listing.unit.seconds
        if not listing.min_units <= units <= listing.max_units:
            raise ExchangeInputError(
                f"listing {listing.listing_id} takes {listing.min_units} to {listing.max_units} "
                f"{listing.unit.name.lower()}(s) per booking, not {units}"
            )
        end = start + units * length
        if start < listing.available_from or end > listing.available_until:
            raise ExchangeInputError(
                f"{_iso(start)} to {_iso(end)} lies outside listing {listing.listing_id}'s window "
                f"({_iso(listing.available_from)} to {_iso(listing.available_until)})"
            )
        if (start - listing.available_from) % length:
            raise ExchangeInputError(
                f"start {_iso(start)} is not on a slot boundary: slots of listing {listing.listing_id} start "
                f"every {listing.unit.name.lower()} from {_iso(listing.available_from)}"
            )
        taken = self.calendar(listing.listing_id, start=start, end=end).taken_slots
        if taken:
            raise SlotsTakenError(listing.listing_id, taken)

    def cancel(self, signer: Signer, booking_id: int) -> Cancellation:
        """Cancel a booking: as its lister (full refund) when the signer is the lister, else as its renter
        (refund by the cancellation policy). Slots are freed, the deposit comes back."""
        booking = self.get_booking(booking_id)
        listing = self.get_listing(booking.listing_id)
        fn = (
            self.contract.functions.cancelByLister(booking_id)
            if self._manages(signer.address, listing)
            else self.contract.functions.cancelByRenter(booking_id)
        )
        record = self._send(signer, fn)
        event = self._event(record, "BookingCancelled")
        return Cancellation(
            booking_id=booking_id,
            by=checksum(event["by"]),
            refund_to_renter=int(event["refundToRenter"]),
            to_lister=int(event["toLister"]),
            fee=int(event["fee"]),
            tx=record,
        )

    def settle(self, signer: Signer, booking_id: int) -> Settlement:
        """Settle what is due (anyone may call): after the end the lister is credited the price less the fee
        (kept for :meth:`flush_fees`); after the claim window the deposit becomes the renter's to pull with
        :meth:`withdraw_deposit`."""
        _check_id("booking_id", booking_id)
        return self._settlement(booking_id, self._send(signer, self.contract.functions.settle(booking_id)))

    def confirm_receipt(self, signer: Signer, booking_id: int) -> Settlement:
        """The buyer of an ITEM confirms receipt, releasing the price to the seller now."""
        _check_id("booking_id", booking_id)
        return self._settlement(
            booking_id, self._send(signer, self.claims.functions.confirmReceipt(booking_id))
        )

    def mark_shipped(self, signer: Signer, booking_id: int) -> Shipped:
        """The seller marks an ITEM purchase shipped; from then on the buyer cannot cancel, only claim."""
        _check_id("booking_id", booking_id)
        return Shipped(booking_id, self._send(signer, self.claims.functions.markShipped(booking_id)))

    def membership_of(self, account: str) -> int:
        """The citizen membership id ``account`` holds now in the exchange's registry (0 = none)."""
        return Citizens.at(self.w3, call(self.contract.functions.registry())).membership_of(account)

    def _manages(self, account: str, listing: Listing) -> bool:
        if listing.membership:
            return self.membership_of(account) == listing.membership
        return checksum(account, what="account") == listing.lister

    def _settlement(self, booking_id: int, record: TxRecord) -> Settlement:
        settled = self._events(record, "BookingSettled")
        released = self._events(record, "DepositReleased")
        return Settlement(
            booking_id=booking_id,
            price_settled=bool(settled),
            to_lister=int(settled[0]["toLister"]) if settled else 0,
            fee=int(settled[0]["fee"]) if settled else 0,
            fee_deferred=bool(self._events(record, "FeeAccrued")),
            deposit_released=bool(released),
            deposit_to_renter=int(released[0]["toRenter"]) if released else 0,
            deposit_to_lister=int(released[0]["toLister"]) if released else 0,
            tx=record,
        )

    # -- claims ------------------------------------------------------------------------------------------

    def claim_damage(
        self, signer: Signer, booking_id: int, amount: int, *, evidence_uri: str = ""
    ) -> ClaimRaised:
        """The lister claims ``amount`` (0 < amount <= deposit) within the claim window after the end."""
        _check_id("booking_id", booking_id)
        _check_amount("amount", amount)
        if amount == 0:
            raise InvalidAmountError("a damage claim must be more than 0")
        record = self._send(signer, self.claims.functions.claimDamage(booking_id, amount, str(evidence_uri)))
        event = self._claims_event(record, "DamageClaimed")
        return ClaimRaised(
            booking_id, int(event["amount"]), str(event["evidenceURI"]), int(event["respondBy"]), record
        )

    def claim_non_delivery(self, signer: Signer, booking_id: int, *, evidence_uri: str = "") -> ClaimRaised:
        """The buyer of an ITEM claims non-delivery of the whole price, within the delivery window."""
        _check_id("booking_id", booking_id)
        record = self._send(signer, self.claims.functions.claimNonDelivery(booking_id, str(evidence_uri)))
        event = self._claims_event(record, "NonDeliveryClaimed")
        return ClaimRaised(
            booking_id, int(event["amount"]), str(event["evidenceURI"]), int(event["respondBy"]), record
        )

    def accept_claim(self, signer: Signer, booking_id: int) -> DepositRelease:
        """The answering party accepts the claim. Damage (the renter): the claimed amount to the lister, the
        rest of the deposit back. Non-delivery (the seller): the whole price back to the buyer."""
        _check_id("booking_id", booking_id)
        return self._release(booking_id, self._send(signer, self.claims.functions.acceptClaim(booking_id)))

    def dispute_claim(self, signer: Signer, booking_id: int) -> ClaimDisputed:
        """The answering party (renter for damage, seller for non-delivery) disputes the claim before the
        answer deadline; resolvers then decide."""
        _check_id("booking_id", booking_id)
        record = self._send(signer, self.claims.functions.disputeClaim(booking_id))
        return ClaimDisputed(
            booking_id, int(self._claims_event(record, "ClaimDisputed")["resolveBy"]), record
        )

    def resolve(self, signer: Signer, booking_id: int, to_lister: int) -> DepositRelease:
        """A resolver (RESOLVER_ROLE, not a party) awards ``to_lister`` (<= the claim), the rest back."""
        _check_id("booking_id", booking_id)
        _check_amount("to_lister", to_lister)
        return self._release(
            booking_id, self._send(signer, self.claims.functions.resolve(booking_id, to_lister))
        )

    def finalize_claim(self, signer: Signer, booking_id: int) -> DepositRelease:
        """After the deadline (anyone): an unanswered claim stands, an unresolved dispute refunds."""
        _check_id("booking_id", booking_id)
        return self._release(booking_id, self._send(signer, self.claims.functions.finalizeClaim(booking_id)))

    def _release(self, booking_id: int, record: TxRecord) -> DepositRelease:
        """What a claim's end paid: the deposit split, or for an ITEM claim the price split (``to_lister``
        before the fee; the fee is kept for :meth:`flush_fees`)."""
        released = self._events(record, "DepositReleased")
        if released:
            event = released[0]
            return DepositRelease(booking_id, int(event["toRenter"]), int(event["toLister"]), record)
        settled = self._event(record, "BookingSettled")
        price = self.get_booking(booking_id).price
        to_lister = int(settled["toLister"]) + int(settled["fee"])
        return DepositRelease(booking_id, price - to_lister, to_lister, record)

    # -- money -------------------------------------------------------------------------------------------

    def withdraw(self, signer: Signer, token: str = ETH, *, to: str | None = None) -> Withdrawal:
        """Withdraw the signer's whole credit in ``token``, to itself or to ``to``."""
        token = checksum(token, what="token")
        if to is None:
            fn = self.contract.functions.withdraw(token)
        else:
            fn = self.contract.functions.withdrawTo(token, checksum(to, what="recipient"))
        record = self._send(signer, fn)
        event = self._event(record, "Withdrawn")
        return Withdrawal(
            account=checksum(event["account"]),
            token=checksum(event["token"]),
            to=checksum(event["to"]),
            amount=int(event["amount"]),
            tx=record,
        )

    def withdraw_deposit(self, signer: Signer, booking_id: int) -> Withdrawal:
        """The renter pulls the deposit ``settle`` returned (the booking's deposit status is REFUNDABLE)."""
        _check_id("booking_id", booking_id)
        record = self._send(signer, self.contract.functions.withdrawDeposit(booking_id))
        event = self._event(record, "DepositWithdrawn")
        to = checksum(event["to"])
        return Withdrawal(
            account=to, token=checksum(event["token"]), to=to, amount=int(event["amount"]), tx=record
        )

    def flush_fees(self, signer: Signer, token: str, kind: Kind | str | int) -> FeesFlushed:
        """Deliver the fees kept for ``kind`` in ``token`` to the fee sink in one payment (anyone may)."""
        token, chosen = checksum(token, what="token"), Kind.parse(kind)
        record = self._send(signer, self.contract.functions.flushFees(token, int(chosen)))
        paid = sum(int(e["amount"]) for e in self._events(record, "FeePaid"))
        return FeesFlushed(token, chosen, paid, record)

    def credits(self, account: str, token: str = ETH) -> int:
        """What ``account`` can withdraw in ``token``. A citizen's credit follows the membership: a key
        rotation moves it to the new key in the same transaction, so a rotated-away key has none."""
        return int(call(self.contract.functions.credits(checksum(account, what="account"), checksum(token))))

    def total_owed(self, token: str = ETH) -> int:
        """Everything the exchange owes in ``token``: escrow + credits + pending fees. For a token this is
        the contract's running total; for ETH it is the exchange's balance (ETH only arrives through
        bookings, and a running total would cost every ETH withdrawal a cold storage slot)."""
        return int(call(self.contract.functions.totalOwed(checksum(token, what="token"))))

    def holdings(self, token: str = ETH) -> int:
        """What the exchange holds in ``token`` (equal to :meth:`total_owed` unless someone force-sent)."""
        token = checksum(token, what="token")
        if token == ETH:
            return int(self.w3.eth.get_balance(self.address))
        erc20 = self.w3.eth.contract(address=token, abi=ERC20_ABI)
        return int(call(erc20.functions.balanceOf(self.address)))

    def pending_fees(self, token: str, kind: Kind | str | int) -> int:
        """Fees in ``token`` of category ``kind`` kept since the last :meth:`flush_fees` delivered them."""
        return int(call(self.contract.functions.pendingFees(checksum(token), int(Kind.parse(kind)))))

    def fee_bps(self, kind: Kind | str | int) -> int:
        """The DAO's fee for ``kind`` in basis points of the price."""
        return int(call(self.contract.functions.feeBps(int(Kind.parse(kind)))))

    def windows(self) -> Windows:
        """The claim, dispute and delivery windows in seconds (``.claim``, ``.dispute``, ``.delivery``)."""
        claim, dispute, delivery = call(self.contract.functions.windows())
        return Windows(claim=int(claim), dispute=int(dispute), delivery=int(delivery))

    def listing_count(self) -> int:
        return int(call(self.contract.functions.listingCount()))

    def booking_count(self) -> int:
        return int(call(self.contract.functions.bookingCount()))

    def is_token_allowed(self, token: str) -> bool:
        return bool(call(self.contract.functions.isTokenAllowed(checksum(token, what="token"))))

    # -- plumbing ----------------------------------------------------------------------------------------

    def _claims_event(self, record: TxRecord, name: str) -> Event:
        return self._event(record, name, emitter=self.claims.address)
