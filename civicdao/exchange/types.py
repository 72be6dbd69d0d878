"""The commons exchange's vocabulary: constants, enums, the listing spec, and the records calls return.

Nothing here talks to a chain: :class:`ListingSpec` and :class:`CancellationPolicy` check their fields when
built (raising :class:`ExchangeInputError`), and the frozen records (:class:`Listing`, :class:`Booking`,
:class:`BookingMade`, …) are what :class:`civicdao.exchange.Exchange` returns. :class:`Kind` is the one list
of listing kinds: the deployment config's fee table and the treasury's fee categories are derived from it.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3

from civicdao._validate import UINT32_MAX, UINT64_MAX, UINT256_MAX, ParsableEnum, whole_number
from civicdao.accounts import checksum
from civicdao.errors import CivicDAOError, ConfigError, InvalidAmountError
from civicdao.tokens import ETH
from civicdao.tx import TxRecord

__all__ = [
    "BPS",
    "GUARDIAN_ROLE",
    "LISTER_ROLE",
    "MAX_CALENDAR_SLOTS",
    "MAX_FEE_BPS",
    "MAX_UNITS_PER_BOOKING",
    "MAX_WINDOW",
    "MIN_DISPUTE_WINDOW",
    "RESOLVER_ROLE",
    "BookedSlot",
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
    "ExchangeInputError",
    "ExchangePaused",
    "FeesFlushed",
    "Kind",
    "Listed",
    "Listing",
    "ListingChanged",
    "ListingSpec",
    "ListingStatus",
    "Quote",
    "Settlement",
    "Shipped",
    "SlotsTakenError",
    "TermsUpdated",
    "Unit",
    "Windows",
    "Withdrawal",
]

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


class _ExchangeEnum(ParsableEnum):
    """An exchange enum: ``parse`` raises :class:`ExchangeInputError` on a name or number it lacks."""

    @classmethod
    def _input_error(cls) -> type[ConfigError]:
        return ExchangeInputError


class Kind(_ExchangeEnum):
    """What is shared; same order as the Solidity enum (the value is also the treasury fee category).

    ``Kind.parse("tool")``, ``Kind.parse("room-house")`` and ``Kind.parse(2)`` read user input.
    """

    ROOM_HOUSE = 0
    SPACE = 1
    TOOL = 2
    SKILL = 3
    NATURE = 4


class Unit(_ExchangeEnum):
    """What one unit of a listing is; same order as the Solidity enum."""

    HOUR = 0
    DAY = 1
    ITEM = 2

    @property
    def seconds(self) -> int:
        """Length of one calendar slot (0 for ITEM, which has a stock instead of a calendar)."""
        return {Unit.HOUR: 3_600, Unit.DAY: 86_400, Unit.ITEM: 0}[self]


class BookingStatus(_ExchangeEnum):
    """Life of a booking's price; same order as the Solidity enum."""

    NONE = 0
    ACTIVE = 1
    CANCELLED = 2
    SETTLED = 3
    #: An ITEM purchase whose buyer claimed non-delivery; the seller must answer by ``decide_by``.
    CLAIMED = 4
    #: An ITEM non-delivery claim the seller disputed; resolvers decide by ``decide_by``.
    DISPUTED = 5


class DepositStatus(_ExchangeEnum):
    """Life of a booking's deposit; same order as the Solidity enum."""

    HELD = 0
    CLAIMED = 1
    DISPUTED = 2
    RELEASED = 3
    #: returned whole by ``settle`` and kept in the booking until the renter pulls it (``withdraw_deposit``)
    REFUNDABLE = 4


class ListingStatus(_ExchangeEnum):
    """A listing's state as searched: open for bookings, paused by its lister, or closed for good."""

    OPEN = 0
    PAUSED = 1
    CLOSED = 2


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
class BookedSlot:
    """What every booking record names: the booking, its listing, the renter and the slots ``[start, end)``
    (for an ITEM purchase: from the purchase to the end of the delivery window)."""

    booking_id: int
    listing_id: int
    renter: ChecksumAddress
    start: int
    end: int
    units: int


@dataclass(frozen=True)
class Booking(BookedSlot):
    """A booking (or ITEM purchase) with the terms snapshotted when it was made."""

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
class BookingMade(BookedSlot):
    """A booking was made and ``price + deposit`` escrowed (``approval`` is the ERC-20 approve, if sent)."""

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

    ``fee_deferred`` is true when a fee was kept for the fee sink: every fee waits in the exchange until
    anyone calls ``flush_fees`` (one payment to the treasury for many settlements). A deposit released
    by ``settle`` (``deposit_to_renter``) stays in the booking until the renter pulls it with
    ``withdraw_deposit``.
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
    """What a claim's end (accepted, resolved or finalized) paid out: the deposit split of a damage claim, or
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


@dataclass(frozen=True)
class TermsUpdated:
    """A listing's terms for future bookings changed; ``terms_version`` is the listing's new version."""

    listing_id: int
    price: int
    deposit: int
    policy: CancellationPolicy
    terms_version: int
    tx: TxRecord


@dataclass(frozen=True)
class ListingChanged:
    """A lister (or the DAO) changed a listing's state: its stock, its pause, or closed it for good."""

    listing_id: int
    #: The remaining stock (ITEM listings; 0 for the others).
    stock: int
    paused: bool
    closed: bool
    tx: TxRecord


@dataclass(frozen=True)
class Shipped:
    """The seller marked an ITEM purchase shipped: the buyer can no longer cancel, only claim."""

    booking_id: int
    tx: TxRecord


@dataclass(frozen=True)
class ExchangePaused:
    """New listings and bookings stopped exchange-wide, by ``account`` (a guardian or the DAO)."""

    account: ChecksumAddress
    tx: TxRecord


@dataclass(frozen=True)
class FeesFlushed:
    """The fees the exchange kept for ``kind`` in ``token`` were delivered to the fee sink."""

    token: ChecksumAddress
    kind: Kind
    amount: int
    tx: TxRecord


@dataclass(frozen=True)
class Windows:
    """The exchange's time windows, in seconds, for bookings made from now on."""

    #: After a booking ends, how long the lister may claim part of the deposit.
    claim: int
    #: How long the other party has to answer a claim (accept or dispute), and resolvers to decide.
    dispute: int
    #: How long an ITEM seller has to deliver before the buyer may claim non-delivery.
    delivery: int


# -- decoding and checks ---------------------------------------------------------------------------------


#: ``getListing``'s tuple, field by field (the two policy fields become :attr:`Listing.policy`).
_LISTING_LAYOUT = (
    "lister", "kind", "unit", "residents_only", "paused", "closed", "late_refund_bps", "free_cancel_hours",
    "token", "available_from", "min_units", "available_until", "max_units", "stock", "terms_version",
    "membership", "price", "deposit", "metadata_uri",
)  # fmt: skip
#: ``getBooking``'s tuple, field by field.
_BOOKING_LAYOUT = (
    "renter", "start", "units", "listing_id", "end", "claim_until", "fee_bps", "late_refund_bps", "status",
    "deposit_status", "free_cancel_until", "decide_by", "shipped_at", "renter_membership", "price",
    "deposit", "claim_amount",
)  # fmt: skip
#: How a raw value becomes each field type of the records above.
_DECODE: dict[Any, Callable[[Any], Any]] = {ChecksumAddress: checksum, int: int, bool: bool, str: str}


def _decoded(record: type[Any], layout: tuple[str, ...], raw: Any) -> dict[str, Any]:
    """``raw`` (a contract struct as a tuple) as ``record``'s fields by ``layout``, each of its type."""
    hints = typing.get_type_hints(record)
    return {
        name: _DECODE.get(hints.get(name, int), hints.get(name, int))(value)
        for name, value in zip(layout, raw, strict=True)
    }


def _listing(listing_id: int, raw: Any) -> Listing:
    fields = _decoded(Listing, _LISTING_LAYOUT, raw)
    policy = CancellationPolicy(fields.pop("free_cancel_hours"), fields.pop("late_refund_bps"))
    return Listing(listing_id=listing_id, policy=policy, **fields)


def _booking(booking_id: int, raw: Any) -> Booking:
    return Booking(booking_id=booking_id, **_decoded(Booking, _BOOKING_LAYOUT, raw))


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
