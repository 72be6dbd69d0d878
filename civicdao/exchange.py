"""The commons exchange: list idle capacity, book it, settle, and get paid.

Typed calls over the ``CommonsExchange`` contract. An :class:`Exchange` wraps a ``Web3`` instance and the
bound contract; build one with :meth:`Exchange.from_suite` (or :meth:`Exchange.at`). Every state-changing
method takes the :class:`~civicdao.accounts.Signer` who acts as its first argument and returns a frozen
record; every view returns a frozen record or a plain value. Amounts are int wei (or the token's smallest
unit), times int unix seconds, addresses checksummed, and the token :data:`ETH` (the zero address) means ETH.

Inputs are checked before anything is sent: a malformed :class:`ListingSpec` raises
:class:`ExchangeInputError`, and :meth:`Exchange.book` reads the on-chain calendar first and raises
:class:`SlotsTakenError` naming the slots that clash. A booking carries the listing's terms version it was
priced from, so a lister who changes price, deposit or cancellation policy before it is mined gets it refused
(``ExchangeTermsChanged``) instead of charging the renter the new terms. What only the contract can judge
(roles, deadlines, statuses) comes back as the contract's named revert (``civicdao._custom_errors``), raised
while estimating gas, so nothing is mined.

Lists (:meth:`Exchange.search`, :meth:`Exchange.bookings`) find their listings and bookings in an event index
when the exchange has one (``Exchange.from_suite(suite, index=reader)``), or else in the node's logs read in
adaptive ranges (:func:`civicdao.logs.event_logs`); either way each record's current state is then read from
the chain (bookings in JSON-RPC batches), since it holds terms no event carries.

Example::

    ex = Exchange.from_suite(suite)
    listed = ex.list(alice, ListingSpec(kind=Kind.ROOM_HOUSE, unit=Unit.DAY, price=10**16, deposit=10**17,
                                        available_from=t0, available_until=t0 + 30 * DAY, max_units=7,
                                        metadata_uri="ipfs://room"))
    made = ex.book(bob, listed.listing_id, start=t0 + DAY, units=3)
"""

from __future__ import annotations

import builtins
import functools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any, TypeVar

from eth_typing import BlockIdentifier, ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from civicdao._validate import UINT32_MAX, UINT64_MAX, UINT256_MAX, whole_number
from civicdao.accounts import Signer, checksum
from civicdao.contracts import bind
from civicdao.deploy import ETH, Suite
from civicdao.errors import CivicDAOError, ConfigError, InvalidAmountError
from civicdao.governance import Action
from civicdao.logs import event_logs
from civicdao.tokens import ERC20_ABI, ensure_allowance
from civicdao.tx import Event, TxRecord, call, transact

if TYPE_CHECKING:
    from civicdao.index.queries import IndexReader

__all__ = [
    "BPS",
    "ETH",
    "GUARDIAN_ROLE",
    "LISTER_ROLE",
    "MAX_FEE_BPS",
    "MAX_UNITS_PER_BOOKING",
    "RESOLVER_ROLE",
    "Booking",
    "BookingMade",
    "BookingStatus",
    "BookingUnavailableError",
    "Calendar",
    "CalendarSlot",
    "Cancellation",
    "CancellationPolicy",
    "ClaimDisputed",
    "ClaimRaised",
    "DepositRelease",
    "DepositStatus",
    "Exchange",
    "ExchangeInputError",
    "Kind",
    "Listed",
    "Listing",
    "ListingSpec",
    "ListingStatus",
    "Quote",
    "Settlement",
    "SlotsTakenError",
    "Unit",
    "Withdrawal",
]

logger = logging.getLogger(__name__)

#: Basis-point denominator used by the contract.
BPS = 10_000
#: The contract's hard cap on units per booking (and on a listing's ``max_units``).
MAX_UNITS_PER_BOOKING = 1_024
#: The contract's hard cap on any fee, in basis points (10 %).
MAX_FEE_BPS = 1_000
#: The contract's bounds on the claim, dispute and delivery windows (seconds).
MAX_WINDOW = 90 * 86_400
MIN_DISPUTE_WINDOW = 3_600
#: Roles the DAO grants on the exchange.
LISTER_ROLE: bytes = bytes(Web3.keccak(text="LISTER_ROLE"))
RESOLVER_ROLE: bytes = bytes(Web3.keccak(text="RESOLVER_ROLE"))
GUARDIAN_ROLE: bytes = bytes(Web3.keccak(text="GUARDIAN_ROLE"))
#: Most calendar slots :meth:`Exchange.calendar` reads in one call.
MAX_CALENDAR_SLOTS = 20_000

_E = TypeVar("_E", bound=IntEnum)

# -- errors ----------------------------------------------------------------------------------------------


class ExchangeInputError(ConfigError):
    """An argument to an exchange call is malformed (raised before anything is sent)."""


class BookingUnavailableError(CivicDAOError):
    """The booking cannot be made in the listing's current state (raised before anything is sent)."""


class SlotsTakenError(BookingUnavailableError):
    """Some of the requested calendar slots are already booked.

    Attributes:
        listing_id: the listing.
        slots: the taken slots inside the requested range, in order.
    """

    def __init__(self, listing_id: int, slots: tuple[CalendarSlot, ...]) -> None:
        self.listing_id = listing_id
        self.slots = slots
        shown = ", ".join(f"slot {s.index} ({_iso(s.start)} to {_iso(s.end)})" for s in slots[:10])
        more = f" and {len(slots) - 10} more" if len(slots) > 10 else ""
        super().__init__(
            f"listing {listing_id}: {len(slots)} requested slot(s) already booked: {shown}{more}"
        )


# -- enums -----------------------------------------------------------------------------------------------


class Kind(IntEnum):
    """What is shared; same order as the Solidity enum (the value is also the treasury fee category)."""

    ROOM_HOUSE = 0
    SPACE = 1
    TOOL = 2
    SKILL = 3
    NATURE = 4

    @classmethod
    def parse(cls, value: Kind | str | int) -> Kind:
        """A kind from itself, its name (any case, ``room_house`` or ``ROOM-HOUSE``) or its number."""
        return _parse_enum(cls, value, "kind")


class Unit(IntEnum):
    """What one unit of a listing is; same order as the Solidity enum."""

    HOUR = 0
    DAY = 1
    ITEM = 2

    @classmethod
    def parse(cls, value: Unit | str | int) -> Unit:
        """A unit from itself, its name (any case) or its number."""
        return _parse_enum(cls, value, "unit")

    @property
    def seconds(self) -> int:
        """Length of one calendar slot (0 for ITEM, which has a stock instead of a calendar)."""
        return {Unit.HOUR: 3_600, Unit.DAY: 86_400, Unit.ITEM: 0}[self]


class BookingStatus(IntEnum):
    """Life of a booking's price; same order as the Solidity enum."""

    NONE = 0
    ACTIVE = 1
    CANCELLED = 2
    SETTLED = 3
    #: An ITEM purchase whose buyer claimed non-delivery; the seller must answer by ``decide_by``.
    CLAIMED = 4
    #: An ITEM non-delivery claim the seller disputed; resolvers decide by ``decide_by``.
    DISPUTED = 5


class DepositStatus(IntEnum):
    """Life of a booking's deposit; same order as the Solidity enum."""

    HELD = 0
    CLAIMED = 1
    DISPUTED = 2
    RELEASED = 3


class ListingStatus(IntEnum):
    """A listing's state as searched: open for bookings, paused by its lister, or closed for good."""

    OPEN = 0
    PAUSED = 1
    CLOSED = 2

    @classmethod
    def parse(cls, value: ListingStatus | str | int) -> ListingStatus:
        """A status from itself, its name (any case) or its number."""
        return _parse_enum(cls, value, "listing status")


def _parse_enum(cls: type[_E], value: _E | str | int, what: str) -> _E:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        key = value.strip().upper().replace("-", "_").replace(" ", "_")
        try:
            return cls[key]
        except KeyError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            return cls(value)
        except ValueError:
            pass
    names = ", ".join(member.name.lower() for member in cls)
    raise ExchangeInputError(f"unknown {what} {value!r}: choose one of {names}")


# -- inputs ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancellationPolicy:
    """How renters are refunded when they cancel before the start.

    More than ``free_cancel_hours`` before the start: the whole price back. Later: ``late_refund_bps`` of
    the price back (the rest to the lister, minus the fee). The deposit always comes back.
    """

    free_cancel_hours: int = 24
    late_refund_bps: int = 0

    def __post_init__(self) -> None:
        _check_uint("free_cancel_hours", self.free_cancel_hours, UINT32_MAX)
        _check_uint("late_refund_bps", self.late_refund_bps, BPS)


@dataclass(frozen=True)
class ListingSpec:
    """Everything a new listing needs; checked when built.

    ``price`` is per unit (hour, day or item) and ``deposit`` per booking, both in ``token`` (:data:`ETH`
    by default). Calendar listings (HOUR/DAY) are bookable in slots from ``available_from`` up to
    ``available_until``; ITEM listings sell from a ``stock``, take no deposit and cannot be ROOM_HOUSE.
    ``kind`` and ``unit`` also accept names (``"tool"``) and are stored as enums.
    """

    kind: Kind
    unit: Unit
    price: int
    available_from: int
    available_until: int
    metadata_uri: str
    deposit: int = 0
    min_units: int = 1
    max_units: int = 1
    stock: int = 0
    policy: CancellationPolicy = field(default_factory=CancellationPolicy)
    residents_only: bool = False
    token: str = ETH

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind.parse(self.kind))
        object.__setattr__(self, "unit", Unit.parse(self.unit))
        object.__setattr__(self, "token", checksum(self.token, what="payment token"))
        _check_amount("price", self.price)
        _check_amount("deposit", self.deposit)
        _check_uint("available_from", self.available_from, UINT64_MAX)
        _check_uint("available_until", self.available_until, UINT64_MAX)
        _check_uint("min_units", self.min_units, UINT32_MAX)
        _check_uint("max_units", self.max_units, UINT32_MAX)
        _check_uint("stock", self.stock, UINT32_MAX)
        if not isinstance(self.policy, CancellationPolicy):
            raise ExchangeInputError(f"policy must be a CancellationPolicy, got {self.policy!r}")
        if not isinstance(self.residents_only, bool):
            raise ExchangeInputError(f"residents_only must be True or False, got {self.residents_only!r}")
        if not 1 <= self.min_units <= self.max_units <= MAX_UNITS_PER_BOOKING:
            raise ExchangeInputError(
                f"units per booking must satisfy 1 <= min_units <= max_units <= {MAX_UNITS_PER_BOOKING}, "
                f"got min_units={self.min_units}, max_units={self.max_units}"
            )
        if self.available_from >= self.available_until:
            raise ExchangeInputError(
                f"the availability window is empty: available_from ({_iso(self.available_from)}) must be "
                f"before available_until ({_iso(self.available_until)})"
            )
        if not isinstance(self.metadata_uri, str) or not self.metadata_uri.strip():
            raise ExchangeInputError(
                "metadata_uri must be a non-empty URI to the listing's public description"
            )
        self._check_unit_rules()

    def _check_unit_rules(self) -> None:
        if self.unit is Unit.ITEM:
            if self.stock == 0:
                raise ExchangeInputError("an ITEM listing needs a stock of at least 1")
            if self.deposit != 0:
                raise ExchangeInputError("ITEM listings take no deposit (set deposit=0)")
            if self.kind is Kind.ROOM_HOUSE:
                raise ExchangeInputError("a ROOM_HOUSE listing is priced per hour or day, not per ITEM")
        else:
            if self.stock != 0:
                raise ExchangeInputError(f"stock only applies to ITEM listings, not to {self.unit.name}")
            if self.available_from + self.min_units * self.unit.seconds > self.available_until:
                raise ExchangeInputError(
                    f"the availability window is shorter than min_units={self.min_units} "
                    f"{self.unit.name.lower()}(s)"
                )

    def as_params(self) -> tuple[Any, ...]:
        """The ``ListingParams`` tuple the contract takes, in field order."""
        return (
            int(self.kind),
            int(self.unit),
            self.residents_only,
            self.policy.late_refund_bps,
            self.policy.free_cancel_hours,
            self.min_units,
            self.max_units,
            self.stock,
            self.available_from,
            self.token,
            self.available_until,
            self.price,
            self.deposit,
            self.metadata_uri,
        )


# -- state records ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """A listing as stored on chain (``price`` per unit, ``deposit`` per booking)."""

    listing_id: int
    lister: ChecksumAddress
    kind: Kind
    unit: Unit
    residents_only: bool
    paused: bool
    closed: bool
    policy: CancellationPolicy
    token: ChecksumAddress
    available_from: int
    available_until: int
    min_units: int
    max_units: int
    stock: int
    price: int
    deposit: int
    metadata_uri: str
    #: Grows by one with every change of price, deposit or cancellation policy (0 as created).
    terms_version: int
    #: The lister's citizen membership id (0 for a non-citizen LISTER_ROLE account): the listing and its
    #: earnings belong to the membership, so after a key rotation the new key manages it, the old key cannot.
    membership: int = 0

    @property
    def status(self) -> ListingStatus:
        """CLOSED, else PAUSED (by its lister), else OPEN."""
        if self.closed:
            return ListingStatus.CLOSED
        return ListingStatus.PAUSED if self.paused else ListingStatus.OPEN

    def slot_start(self, index: int) -> int:
        """Start time of calendar slot ``index``."""
        return self.available_from + index * self.unit.seconds

    @property
    def slot_count(self) -> int:
        """Number of whole calendar slots in the window (0 for ITEM listings)."""
        if self.unit is Unit.ITEM:
            return 0
        return (self.available_until - self.available_from) // self.unit.seconds


@dataclass(frozen=True)
class Booking:
    """A booking (or ITEM purchase) with the terms snapshotted when it was made."""

    booking_id: int
    listing_id: int
    renter: ChecksumAddress
    start: int
    end: int
    units: int
    claim_until: int
    fee_bps: int
    late_refund_bps: int
    status: BookingStatus
    deposit_status: DepositStatus
    free_cancel_until: int
    decide_by: int
    price: int
    deposit: int
    claim_amount: int
    #: When the seller marked an ITEM purchase shipped (0 = not yet: the buyer may still cancel).
    shipped_at: int = 0
    #: The renter's citizen membership id (0 when a non-citizen booked): refunds and rights follow it.
    renter_membership: int = 0

    @property
    def fee(self) -> int:
        """The fee taken from the price on settlement."""
        return self.price * self.fee_bps // BPS


@dataclass(frozen=True)
class Quote:
    """What booking ``units`` of a listing costs under its current terms.

    ``terms_version`` is the version of the listing's terms the amounts come from: pass it to
    :meth:`Exchange.book` (``terms_version=``) to book on exactly these terms or not at all.
    """

    listing_id: int
    units: int
    token: ChecksumAddress
    price: int
    deposit: int
    fee: int
    terms_version: int

    @property
    def total(self) -> int:
        """What the renter escrows: price + deposit."""
        return self.price + self.deposit

    @property
    def to_lister(self) -> int:
        """What the lister is credited on settlement: price - fee."""
        return self.price - self.fee


@dataclass(frozen=True)
class CalendarSlot:
    """One slot of a listing's calendar: ``[start, end)`` and whether it is free."""

    index: int
    start: int
    end: int
    free: bool


@dataclass(frozen=True)
class Calendar:
    """Free/taken state of a listing's calendar slots over a time range."""

    listing_id: int
    unit: Unit
    slots: tuple[CalendarSlot, ...]

    @property
    def free_slots(self) -> tuple[CalendarSlot, ...]:
        return tuple(s for s in self.slots if s.free)

    @property
    def taken_slots(self) -> tuple[CalendarSlot, ...]:
        return tuple(s for s in self.slots if not s.free)

    @property
    def all_free(self) -> bool:
        return all(s.free for s in self.slots)


# -- action records --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """A listing was created."""

    listing_id: int
    lister: ChecksumAddress
    kind: Kind
    token: ChecksumAddress
    price: int
    deposit: int
    tx: TxRecord


@dataclass(frozen=True)
class BookingMade:
    """A booking was made and ``price + deposit`` escrowed (``approval`` is the ERC-20 approve, if sent)."""

    booking_id: int
    listing_id: int
    renter: ChecksumAddress
    start: int
    end: int
    units: int
    price: int
    deposit: int
    fee: int
    tx: TxRecord
    approval: TxRecord | None = None


@dataclass(frozen=True)
class Cancellation:
    """A booking was cancelled: the price split and who cancelled (the deposit always goes back)."""

    booking_id: int
    by: ChecksumAddress
    refund_to_renter: int
    to_lister: int
    fee: int
    tx: TxRecord


@dataclass(frozen=True)
class Settlement:
    """What a settlement (or an ITEM receipt confirmation) paid out; zeros for the parts not yet due.

    ``fee_deferred`` is true when the fee sink refused the fee and the exchange kept it as pending.
    """

    booking_id: int
    price_settled: bool
    to_lister: int
    fee: int
    fee_deferred: bool
    deposit_released: bool
    deposit_to_renter: int
    deposit_to_lister: int
    tx: TxRecord


@dataclass(frozen=True)
class ClaimRaised:
    """The lister claimed part of a deposit; the renter must answer by ``respond_by``."""

    booking_id: int
    amount: int
    evidence_uri: str
    respond_by: int
    tx: TxRecord


@dataclass(frozen=True)
class ClaimDisputed:
    """The renter disputed a claim; resolvers decide by ``resolve_by``."""

    booking_id: int
    resolve_by: int
    tx: TxRecord


@dataclass(frozen=True)
class DepositRelease:
    """What a claim's end (accepted, resolved or finalised) paid out: the deposit split of a damage claim, or
    the price split of an ITEM non-delivery claim (``to_lister`` before the treasury's fee)."""

    booking_id: int
    to_renter: int
    to_lister: int
    tx: TxRecord


@dataclass(frozen=True)
class Withdrawal:
    """``account`` withdrew its whole credit in ``token`` to ``to``."""

    account: ChecksumAddress
    token: ChecksumAddress
    to: ChecksumAddress
    amount: int
    tx: TxRecord


# -- the exchange ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """Typed access to one deployed ``CommonsExchange``."""

    w3: Web3
    contract: Contract
    #: The event index the lists read (None: the node's logs, in adaptive ranges).
    index: IndexReader | None = field(default=None, kw_only=True)

    @classmethod
    def from_suite(cls, suite: Suite, *, index: IndexReader | None = None) -> Exchange:
        """The exchange of a deployed suite (its lists read ``index`` when given)."""
        return cls(suite.w3, suite.exchange, index=index)

    @classmethod
    def at(cls, w3: Web3, address: str, *, index: IndexReader | None = None) -> Exchange:
        """The exchange deployed at ``address``."""
        return cls(w3, bind(w3, "CommonsExchange", address), index=index)

    @property
    def address(self) -> ChecksumAddress:
        return checksum(self.contract.address, what="exchange address")

    @functools.cached_property
    def claims(self) -> Contract:
        """The exchange's claims-and-disputes contract (``ExchangeClaims``, created by the exchange)."""
        return bind(self.w3, "ExchangeClaims", call(self.contract.functions.claims()))

    @functools.cached_property
    def settings(self) -> Contract:
        """The exchange's DAO settings contract (``ExchangeSettings``, created by the exchange)."""
        return bind(self.w3, "ExchangeSettings", call(self.contract.functions.settings()))

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
    ) -> TxRecord:
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
        return self._send(
            signer,
            self.contract.functions.updateTerms(
                listing_id,
                current.price if price is None else price,
                current.deposit if deposit is None else deposit,
                chosen.free_cancel_hours,
                chosen.late_refund_bps,
            ),
        )

    def set_stock(self, signer: Signer, listing_id: int, stock: int) -> TxRecord:
        """Set the remaining stock of an ITEM listing."""
        _check_id("listing_id", listing_id)
        _check_uint("stock", stock, UINT32_MAX)
        return self._send(signer, self.contract.functions.setStock(listing_id, stock))

    def pause_listing(self, signer: Signer, listing_id: int, *, paused: bool = True) -> TxRecord:
        """The lister pauses (or, with ``paused=False``, resumes) bookings of one listing."""
        _check_id("listing_id", listing_id)
        return self._send(signer, self.contract.functions.setListingPaused(listing_id, bool(paused)))

    def close(self, signer: Signer, listing_id: int) -> TxRecord:
        """Close a listing for good (its lister, or the DAO); existing bookings stay valid."""
        _check_id("listing_id", listing_id)
        return self._send(signer, self.contract.functions.closeListing(listing_id))

    def pause(self, signer: Signer) -> TxRecord:
        """Stop new listings and bookings exchange-wide (guardian or DAO); only the DAO unpauses."""
        return self._send(signer, self.contract.functions.pause())

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
        return _listing(listing_id, call(self.contract.functions.getListing(listing_id), block=block))

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
        if self.index is not None:
            found = [
                ev.args for ev in self.index.contract_events(self.address, [event], from_block=from_block)
            ]
        else:
            found = [log["args"] for log in event_logs(self.contract, event, from_block)]
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
        """Pay out what is due (anyone may call): price after the end, deposit after the claim window."""
        _check_id("booking_id", booking_id)
        return self._settlement(booking_id, self._send(signer, self.contract.functions.settle(booking_id)))

    def confirm_receipt(self, signer: Signer, booking_id: int) -> Settlement:
        """The buyer of an ITEM confirms receipt, releasing the price to the seller now."""
        _check_id("booking_id", booking_id)
        return self._settlement(
            booking_id, self._send(signer, self.claims.functions.confirmReceipt(booking_id))
        )

    def mark_shipped(self, signer: Signer, booking_id: int) -> TxRecord:
        """The seller marks an ITEM purchase shipped; from then on the buyer cannot cancel, only claim."""
        _check_id("booking_id", booking_id)
        return self._send(signer, self.claims.functions.markShipped(booking_id))

    def membership_of(self, account: str) -> int:
        """The citizen membership id ``account`` holds now in the exchange's registry (0 = none)."""
        registry = bind(self.w3, "CitizenRegistry", call(self.contract.functions.registry()))
        return int(call(registry.functions.membershipOf(checksum(account, what="account"))))

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
            fee_deferred=bool(self._events(record, "FeeDeferred")),
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

    def finalise_claim(self, signer: Signer, booking_id: int) -> DepositRelease:
        """After the deadline (anyone): an unanswered claim stands, an unresolved dispute refunds."""
        _check_id("booking_id", booking_id)
        return self._release(booking_id, self._send(signer, self.claims.functions.finalizeClaim(booking_id)))

    def _release(self, booking_id: int, record: TxRecord) -> DepositRelease:
        """What a claim's end paid: the deposit split, or for an ITEM claim the price split (``to_lister``
        before the fee; the fee goes to the treasury)."""
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

    def flush_fees(self, signer: Signer, token: str, kind: Kind | str | int) -> TxRecord:
        """Deliver fees the fee sink refused earlier (anyone may call)."""
        token = checksum(token, what="token")
        return self._send(signer, self.contract.functions.flushFees(token, int(Kind.parse(kind))))

    def credits(self, account: str, token: str = ETH) -> int:
        """What ``account`` can withdraw in ``token``."""
        return int(call(self.contract.functions.credits(checksum(account, what="account"), checksum(token))))

    def total_owed(self, token: str = ETH) -> int:
        """Everything the exchange owes in ``token``: escrow + credits + pending fees."""
        return int(call(self.contract.functions.totalOwed(checksum(token, what="token"))))

    def holdings(self, token: str = ETH) -> int:
        """What the exchange holds in ``token`` (equal to :meth:`total_owed` unless someone force-sent)."""
        token = checksum(token, what="token")
        if token == ETH:
            return int(self.w3.eth.get_balance(self.address))
        erc20 = self.w3.eth.contract(address=token, abi=ERC20_ABI)
        return int(call(erc20.functions.balanceOf(self.address)))

    def pending_fees(self, token: str, kind: Kind | str | int) -> int:
        """Fees in ``token`` of category ``kind`` that the sink refused, waiting for :meth:`flush_fees`."""
        return int(call(self.contract.functions.pendingFees(checksum(token), int(Kind.parse(kind)))))

    def fee_bps(self, kind: Kind | str | int) -> int:
        """The DAO's fee for ``kind`` in basis points of the price."""
        return int(call(self.contract.functions.feeBps(int(Kind.parse(kind)))))

    def windows(self) -> tuple[int, int, int]:
        """The claim, dispute and delivery windows in seconds."""
        claim, dispute, delivery = call(self.contract.functions.windows())
        return int(claim), int(dispute), int(delivery)

    def listing_count(self) -> int:
        return int(call(self.contract.functions.listingCount()))

    def booking_count(self) -> int:
        return int(call(self.contract.functions.bookingCount()))

    def is_token_allowed(self, token: str) -> bool:
        return bool(call(self.contract.functions.isTokenAllowed(checksum(token, what="token"))))

    # -- DAO actions (the Timelock executes them; propose with civicdao.governance) ----------------------

    def allow_token_action(self, token: str, *, allowed: bool = True) -> Action:
        """Allow (or withdraw) an ERC-20 as payment for new listings and bookings."""
        address = checksum(token, what="token")
        if address == ETH:
            raise ExchangeInputError("ETH is always allowed: give an ERC-20 address")
        verb = "Allow" if allowed else "Disallow"
        return self._action(
            self.settings.functions.setTokenAllowed(address, bool(allowed)), f"{verb} {address}"
        )

    def fee_action(self, kind: Kind | str | int, bps: int) -> Action:
        """Set the fee for listings of ``kind`` (0 to 1000 basis points of the price)."""
        chosen = Kind.parse(kind)
        _check_uint("fee bps", bps, MAX_FEE_BPS)
        return self._action(
            self.settings.functions.setFeeBps(int(chosen), bps), f"Set the {chosen.name} fee to {bps} bps"
        )

    def role_action(self, role: bytes, account: str, *, granted: bool = True) -> Action:
        """Grant (or revoke) ``role`` (:data:`RESOLVER_ROLE`, :data:`LISTER_ROLE`, :data:`GUARDIAN_ROLE`)."""
        names = {RESOLVER_ROLE: "resolver", LISTER_ROLE: "lister", GUARDIAN_ROLE: "guardian"}
        role = bytes(role)
        if role not in names:
            raise ExchangeInputError("role must be RESOLVER_ROLE, LISTER_ROLE or GUARDIAN_ROLE")
        who = checksum(account, what="account")
        name = names[role]
        fn = self.contract.functions.grantRole if granted else self.contract.functions.revokeRole
        return self._action(fn(role, who), f"{'Appoint' if granted else 'Remove'} {who} as exchange {name}")

    def windows_actions(
        self, *, claim: int | None = None, dispute: int | None = None, delivery: int | None = None
    ) -> tuple[Action, ...]:
        """Set the claim, dispute and/or delivery windows (seconds) of future bookings."""
        actions = []
        for name, value, low, setter in (
            ("claim", claim, 0, self.settings.functions.setClaimWindow),
            ("dispute", dispute, MIN_DISPUTE_WINDOW, self.settings.functions.setDisputeWindow),
            ("delivery", delivery, 0, self.settings.functions.setDeliveryWindow),
        ):
            if value is None:
                continue
            _check_uint(f"{name} window", value, MAX_WINDOW)
            if value < low:
                raise ExchangeInputError(f"the {name} window must be at least {low} s, got {value}")
            actions.append(self._action(setter(value), f"Set the {name} window to {value} s"))
        if not actions:
            raise ExchangeInputError("give at least one of claim, dispute, delivery")
        return tuple(actions)

    def housing_actions(
        self, *, price_ceiling: int | None = None, listing_cap: int | None = None, token: str = ETH
    ) -> tuple[Action, ...]:
        """Set the per-night housing price ceiling in ``token`` and/or the active housing listings per
        lister (0 = none)."""
        actions = []
        if price_ceiling is not None:
            _check_amount("price_ceiling", price_ceiling)
            address = checksum(token, what="token")
            actions.append(
                self._action(
                    self.settings.functions.setHousingPriceCeiling(address, price_ceiling),
                    f"Set the housing ceiling to {price_ceiling} per night in {address}",
                )
            )
        if listing_cap is not None:
            _check_amount("listing_cap", listing_cap)
            actions.append(
                self._action(
                    self.settings.functions.setHousingListingCap(listing_cap),
                    f"Allow {listing_cap} active housing listings per lister",
                )
            )
        if not actions:
            raise ExchangeInputError("give price_ceiling and/or listing_cap")
        return tuple(actions)

    def close_listing_action(self, listing_id: int) -> Action:
        """Close a listing that breaks the community's rules."""
        _check_id("listing_id", listing_id)
        return self._action(self.contract.functions.closeListing(listing_id), f"Close listing {listing_id}")

    def unpause_action(self) -> Action:
        """Resume new listings and bookings after a guardian's pause (only the DAO can)."""
        return self._action(self.contract.functions.unpause(), "Unpause the commons exchange")

    def guardian_expiry_action(self, expiry: int) -> Action:
        """Set when the exchange guardians' power to pause ends (unix seconds; 0 = never)."""
        _check_uint("guardian expiry", expiry, UINT64_MAX)
        until = f"until {_iso(expiry)}" if expiry else "with no expiry"
        return self._action(
            self.settings.functions.setGuardianExpiry(expiry), f"Exchange guardians may pause {until}"
        )

    def sweep_surplus_action(self, token: str, to: str) -> Action:
        """Send what the exchange holds above :meth:`total_owed` (sent by mistake) to ``to``."""
        address = checksum(token, what="token")
        recipient = checksum(to, what="recipient")
        return self._action(
            self.contract.functions.sweepSurplus(address, recipient),
            f"Sweep {address} surplus to {recipient}",
        )

    def reclaim_revoked_credit_action(self, membership: int, token: str, to: str) -> Action:
        """Pay what the exchange owes a revoked citizen membership (no key can withdraw it now) to ``to``:
        the former resident's new address, or the treasury, as the citizens vote."""
        _check_id("membership", membership)
        address = checksum(token, what="token")
        recipient = checksum(to, what="recipient")
        return self._action(
            self.contract.functions.reclaimRevokedCredit(membership, address, recipient),
            f"Pay revoked membership {membership}'s {address} credit to {recipient}",
        )

    def _action(self, fn: Any, description: str) -> Action:
        return Action.call(fn, description=description)

    # -- plumbing ----------------------------------------------------------------------------------------

    def _send(self, signer: Signer, fn: Any, *, value: int = 0) -> TxRecord:
        return transact(self.w3, signer, fn, value=value)

    def _events(self, record: TxRecord, name: str) -> builtins.list[Event]:
        return [e for e in record.events_named(name) if e.address == self.address]

    def _claims_event(self, record: TxRecord, name: str) -> Event:
        for event in record.events_named(name):
            if event.address == self.claims.address:
                return event
        raise LookupError(f"transaction {record.tx_hash} emitted no {name} event from the exchange's claims")

    def _event(self, record: TxRecord, name: str) -> Event:
        events = self._events(record, name)
        if not events:
            raise LookupError(f"transaction {record.tx_hash} emitted no {name} event from the exchange")
        return events[0]


# -- decoding and checks ---------------------------------------------------------------------------------


def _listing(listing_id: int, raw: Any) -> Listing:
    return Listing(
        listing_id=listing_id,
        lister=checksum(raw[0]),
        kind=Kind(raw[1]),
        unit=Unit(raw[2]),
        residents_only=bool(raw[3]),
        paused=bool(raw[4]),
        closed=bool(raw[5]),
        policy=CancellationPolicy(free_cancel_hours=int(raw[7]), late_refund_bps=int(raw[6])),
        token=checksum(raw[8]),
        available_from=int(raw[9]),
        min_units=int(raw[10]),
        available_until=int(raw[11]),
        max_units=int(raw[12]),
        stock=int(raw[13]),
        terms_version=int(raw[14]),
        membership=int(raw[15]),
        price=int(raw[16]),
        deposit=int(raw[17]),
        metadata_uri=str(raw[18]),
    )


def _booking(booking_id: int, raw: Any) -> Booking:
    return Booking(
        booking_id=booking_id,
        renter=checksum(raw[0]),
        start=int(raw[1]),
        units=int(raw[2]),
        listing_id=int(raw[3]),
        end=int(raw[4]),
        claim_until=int(raw[5]),
        fee_bps=int(raw[6]),
        late_refund_bps=int(raw[7]),
        status=BookingStatus(raw[8]),
        deposit_status=DepositStatus(raw[9]),
        free_cancel_until=int(raw[10]),
        decide_by=int(raw[11]),
        shipped_at=int(raw[12]),
        renter_membership=int(raw[13]),
        price=int(raw[14]),
        deposit=int(raw[15]),
        claim_amount=int(raw[16]),
    )


def _check_amount(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidAmountError(f"{name} must be a whole number of wei, got {value!r}")
    if not 0 <= value <= UINT256_MAX:
        raise InvalidAmountError(f"{name} must be between 0 and 2**256 - 1 wei, got {value}")


def _check_uint(name: str, value: Any, maximum: int) -> None:
    whole_number(value, name, maximum=maximum, error=ExchangeInputError)


def _check_id(name: str, value: Any) -> None:
    whole_number(value, name, minimum=1, error=ExchangeInputError)


def _iso(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return str(timestamp)
