"""CommonsExchange on its own (the deployer as admin, a mock registry and fee sink): every revert by its
error class, the main paths in ETH and in an ERC-20, hostile receivers and re-entering tokens, and a property
test of random booking sequences (no overlaps, holdings == totalOwed == escrow + credits + pending fees)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mock_contracts import MockFeeSinkRefused
from web3 import Web3
from web3.contract import Contract

from civicdao._custom_errors import (
    AccessControlUnauthorizedAccount,
    CurrencyNativeTransferFailed,
    CurrencyTokenShortfall,
    CurrencyWrongValue,
    EnforcedPause,
    ERC20InsufficientAllowance,
    ExchangeAmountTooLarge,
    ExchangeBookingStarted,
    ExchangeClaimWindowClosed,
    ExchangeDeadlineNotReached,
    ExchangeDeadlinePassed,
    ExchangeEmptyMetadata,
    ExchangeFeeSinkMismatch,
    ExchangeGuardianExpired,
    ExchangeHousingCapReached,
    ExchangeHousingPriceTooHigh,
    ExchangeInvalidBps,
    ExchangeInvalidClaimAmount,
    ExchangeInvalidItemListing,
    ExchangeInvalidPeriod,
    ExchangeInvalidUnitRange,
    ExchangeInvalidUnits,
    ExchangeInvalidWindow,
    ExchangeItemShipped,
    ExchangeListingClosed,
    ExchangeListingPaused,
    ExchangeListingPauseUnchanged,
    ExchangeMembershipLive,
    ExchangeNoPendingFees,
    ExchangeNoRevokedCredit,
    ExchangeNoSurplus,
    ExchangeNotEligibleLister,
    ExchangeNotEnded,
    ExchangeNothingToSettle,
    ExchangeNothingToWithdraw,
    ExchangeNotItem,
    ExchangeNotItemListing,
    ExchangeNotLister,
    ExchangeNotRenter,
    ExchangeNotResident,
    ExchangeOnlyClaims,
    ExchangeOnlyRegistry,
    ExchangeOnlySettings,
    ExchangeOutOfStock,
    ExchangeOutsideWindow,
    ExchangeResolutionTooHigh,
    ExchangeResolverIsParty,
    ExchangeSelfBooking,
    ExchangeSlotTaken,
    ExchangeStartInPast,
    ExchangeStartMisaligned,
    ExchangeTermsChanged,
    ExchangeTokenNotAllowed,
    ExchangeTooManyTokens,
    ExchangeUnknownBooking,
    ExchangeUnknownListing,
    ExchangeWrongBookingStatus,
    ExchangeWrongDepositStatus,
    ExchangeZeroAddress,
    ExpectedPause,
    ReentrancyGuardReentrantCall,
)
from civicdao.accounts import NodeSigner, Signer
from civicdao.chain import ChainControl
from civicdao.contracts import deploy_contract
from civicdao.errors import ContractRevert
from civicdao.exchange import BookingStatus, DepositStatus, Exchange, Kind, Unit, Windows
from civicdao.tokens import ETH
from civicdao.tx import TxRecord, call, calldata, transact

HOUR = 3_600
DAY = 24 * HOUR
CLAIM_WINDOW, DISPUTE_WINDOW, DELIVERY_WINDOW = 2 * DAY, DAY, 3 * DAY
FEE_BPS = {Kind.ROOM_HOUSE: 500, Kind.SPACE: 300, Kind.TOOL: 200}
PARAM_ORDER = (
    "kind", "unit", "residentsOnly", "lateRefundBps", "freeCancelHours", "minUnits", "maxUnits", "stock",
    "availableFrom", "token", "availableUntil", "price", "deposit", "metadataURI",
)  # fmt: skip
ROLE = {name: Web3.keccak(text=name) for name in ("LISTER_ROLE", "RESOLVER_ROLE", "GUARDIAN_ROLE")}


@dataclass(frozen=True)
class Env:
    """A standalone exchange with the deployer as admin, and the people around it."""

    w3: Web3
    control: ChainControl
    exchange: Contract
    api: Exchange
    registry: Contract
    sink: Contract
    usd: Contract
    admin: NodeSigner
    lister: NodeSigner
    renter: NodeSigner
    other: NodeSigner
    resolver: NodeSigner
    stranger: NodeSigner

    def send(self, signer: Signer, fn: Any, value: int = 0) -> TxRecord:
        return transact(self.w3, signer, fn, value=value)

    @property
    def fns(self) -> Any:
        return self.exchange.functions

    @property
    def cfns(self) -> Any:
        """The claims contract's functions (claims, disputes and ITEM delivery steps)."""
        return self.claims.functions

    @property
    def sfns(self) -> Any:
        """The DAO's setters, on the exchange's settings contract."""
        return self.api.settings.functions

    @property
    def claims(self) -> Contract:
        """The exchange's claims-and-disputes contract (claims moved there from the exchange)."""
        return self.api.claims

    @property
    def lens(self) -> Contract:
        """The exchange's read-only helper (isAvailable, firstClash and quote moved there)."""
        return self.api.lens

    def t0(self) -> int:
        """The next midnight: listings start there."""
        return (self.control.time() // DAY + 1) * DAY

    def params(self, **changes: Any) -> tuple[Any, ...]:
        t0 = self.t0()
        values: dict[str, Any] = {
            "kind": int(Kind.ROOM_HOUSE), "unit": int(Unit.DAY), "residentsOnly": False,
            "lateRefundBps": 5_000, "freeCancelHours": 48, "minUnits": 1, "maxUnits": 7, "stock": 0,
            "availableFrom": t0, "token": ETH, "availableUntil": t0 + 30 * DAY, "price": 10**16,
            "deposit": 10**17, "metadataURI": "ipfs://room",
        }  # fmt: skip
        values.update(changes)
        return tuple(values[key] for key in PARAM_ORDER)

    def create(self, signer: Signer | None = None, **changes: Any) -> int:
        record = self.send(signer or self.lister, self.fns.createListing(self.params(**changes)))
        return int(record.event("ListingCreated")["listingId"])

    def token_of(self, listing_id: int) -> str:
        return str(call(self.lens.functions.getListing(listing_id))[8])

    def terms_version(self, listing_id: int) -> int:
        return int(call(self.lens.functions.getListing(listing_id))[14])

    def book_fn(self, listing_id: int, start: int, units: int, version: int | None = None) -> Any:
        """``book`` naming the listing's current terms version (or ``version``)."""
        if version is None:
            version = self.terms_version(listing_id)
        return self.fns.book(listing_id, start, units, version)

    def book(
        self,
        signer: Signer,
        listing_id: int,
        start: int,
        units: int,
        *,
        value: int | None = None,
        version: int | None = None,
    ) -> int:
        """Book through the contract (no Python pre-checks), paying exactly what is due."""
        price, deposit, _ = call(self.lens.functions.quote(listing_id, units))
        token = self.token_of(listing_id)
        if token != ETH:
            self.send(signer, self.usd.functions.approve(self.exchange.address, price + deposit))
        due = price + deposit if token == ETH else 0
        record = self.send(
            signer, self.book_fn(listing_id, start, units, version), value=due if value is None else value
        )
        return int(record.event("Booked")["bookingId"])

    def holdings(self, token: str) -> int:
        return self.api.holdings(token)

    def owed(self, token: str) -> int:
        return int(call(self.fns.totalOwed(token)))


@pytest.fixture(scope="module")
def env(w3: Web3, control: ChainControl, accounts: list[NodeSigner]) -> Iterator[Env]:
    snapshot = control.snapshot()
    admin, lister, renter, other, resolver, stranger = accounts[:6]
    registry, _ = deploy_contract(w3, admin, "MockCitizenRegistry")
    sink, _ = deploy_contract(w3, admin, "MockFeeSink")
    usd, _ = deploy_contract(w3, admin, "MockERC20", "Civic Dollar", "CUSD", 6)
    exchange, _ = deploy_contract(
        w3, admin, "CommonsExchange", admin.address, registry.address, sink.address,
        CLAIM_WINDOW, DISPUTE_WINDOW, DELIVERY_WINDOW,
    )  # fmt: skip
    transact(w3, admin, registry.functions.setMembershipHook(exchange.address))
    for citizen in (lister, renter, other):
        transact(w3, admin, registry.functions.setCitizen(citizen.address, True))
    settings = Exchange(w3, exchange).settings
    for kind, bps in FEE_BPS.items():
        transact(w3, admin, settings.functions.setFeeBps(int(kind), bps))
    transact(w3, admin, settings.functions.setTokenAllowed(usd.address, True))
    transact(w3, admin, exchange.functions.grantRole(ROLE["RESOLVER_ROLE"], resolver.address))
    for account in (lister, renter, other, stranger):
        transact(w3, account, usd.functions.mint(account.address, 10**24))
    yield Env(
        w3, control, exchange, Exchange(w3, exchange), registry, sink, usd,
        admin, lister, renter, other, resolver, stranger,
    )  # fmt: skip
    control.revert(snapshot)


@pytest.fixture(params=["eth", "erc20"])
def token(request: pytest.FixtureRequest, env: Env) -> str:
    return ETH if request.param == "eth" else str(env.usd.address)


def raises(error: type[ContractRevert], action: Callable[[], object], **expected: Any) -> ContractRevert:
    """Assert that ``action`` reverts with ``error`` and the decoded arguments in ``expected``."""
    with pytest.raises(error) as raised:
        action()
    for name, value in expected.items():
        assert raised.value.args_by_name[name] == value, name
    return raised.value


# -- main paths, in ETH and in an ERC-20 -----------------------------------------------------------------


def test_book_then_settle_pays_price_fee_and_deposit(env: Env, token: str) -> None:
    listing = env.create(token=token)
    t0 = env.t0()
    booking = env.book(env.renter, listing, t0 + DAY, 3)
    assert env.holdings(token) == env.owed(token) == 3 * 10**16 + 10**17
    raises(ExchangeNotEnded, lambda: env.send(env.other, env.fns.settle(booking)), end=t0 + 4 * DAY)
    env.control.increase_time(t0 + 4 * DAY - env.control.time())
    settled = env.api.settle(env.other, booking)  # price now; the deposit waits for the claim window
    fee = 3 * 10**16 * 500 // 10_000
    assert (settled.price_settled, settled.fee, settled.deposit_released) == (True, fee, False)
    # the fee is kept for the sink until anyone flushes it (one payment for many settlements)
    assert settled.fee_deferred and settled.tx.event("FeeAccrued")["amount"] == fee
    assert env.api.pending_fees(token, Kind.ROOM_HOUSE) == fee
    assert call(env.sink.functions.received(token, int(Kind.ROOM_HOUSE))) == 0
    assert env.api.flush_fees(env.stranger, token, Kind.ROOM_HOUSE).amount == fee
    assert call(env.sink.functions.received(token, int(Kind.ROOM_HOUSE))) == fee
    raises(ExchangeNoPendingFees, lambda: env.send(env.stranger, env.fns.flushFees(token, 0)), token=token)
    raises(ExchangeNothingToSettle, lambda: env.send(env.other, env.fns.settle(booking)), bookingId=booking)
    raises(  # nothing to pull before the claim window has passed
        ExchangeWrongDepositStatus, lambda: env.send(env.renter, env.fns.withdrawDeposit(booking)), status=0
    )
    env.control.increase_time(CLAIM_WINDOW)
    assert env.api.settle(env.other, booking).deposit_to_renter == 10**17
    raises(ExchangeNothingToSettle, lambda: env.send(env.other, env.fns.settle(booking)))
    # the returned deposit stays in the booking for the renter to pull
    assert env.api.get_booking(booking).deposit_status is DepositStatus.REFUNDABLE
    assert env.api.withdraw(env.lister, token).amount == 3 * 10**16 - fee
    raises(ExchangeNothingToWithdraw, lambda: env.send(env.renter, env.fns.withdraw(token)), token=token)
    raises(
        ExchangeNotRenter, lambda: env.send(env.other, env.fns.withdrawDeposit(booking)), bookingId=booking
    )
    pulled = env.api.withdraw_deposit(env.renter, booking)
    assert (pulled.amount, pulled.to, pulled.token) == (10**17, env.renter.address, token)
    assert env.api.get_booking(booking).deposit_status is DepositStatus.RELEASED
    raises(
        ExchangeWrongDepositStatus, lambda: env.send(env.renter, env.fns.withdrawDeposit(booking)), status=3
    )
    assert env.holdings(token) == env.owed(token) == 0


def test_cancel_by_renter_late_splits_and_by_lister_refunds(env: Env, token: str) -> None:
    listing = env.create(
        token=token, kind=int(Kind.SPACE), unit=int(Unit.HOUR), freeCancelHours=10, lateRefundBps=2_500
    )
    t0 = env.t0()
    env.control.increase_time(t0 - env.control.time())
    late = env.book(env.renter, listing, t0 + 5 * HOUR, 2)  # less than 10 h notice: a quarter back
    kept = env.book(env.other, listing, t0 + 20 * HOUR, 2)
    cancelled = env.api.cancel(env.renter, late)
    price = 2 * 10**16
    refund = price // 4
    fee = (price - refund) * 300 // 10_000
    assert (cancelled.refund_to_renter, cancelled.to_lister, cancelled.fee) == (
        refund,
        price - refund - fee,
        fee,
    )
    raises(ExchangeWrongBookingStatus, lambda: env.send(env.renter, env.fns.cancelByRenter(late)), status=2)
    assert env.api.cancel(env.lister, kept).refund_to_renter == price
    assert env.api.credits(env.other.address, token) == price + 10**17
    assert env.api.calendar(listing).all_free
    assert env.holdings(token) == env.owed(token)


def test_claim_dispute_resolve_and_finalize(env: Env, token: str) -> None:
    listing = env.create(token=token)
    t0 = env.t0()
    a = env.book(env.renter, listing, t0, 1)
    b = env.book(env.other, listing, t0 + DAY, 1)
    env.control.increase_time(t0 + 2 * DAY - env.control.time())
    env.api.claim_damage(env.lister, a, 4 * 10**16)
    env.api.claim_damage(env.lister, b, 10**17)
    env.api.dispute_claim(env.renter, a)
    assert env.api.resolve(env.resolver, a, 10**16).to_renter == 9 * 10**16
    env.control.increase_time(DISPUTE_WINDOW)
    assert env.api.finalize_claim(env.stranger, b).to_lister == 10**17  # unanswered: the claim stands
    assert env.api.credits(env.lister.address, token) == 10**16 + 10**17
    env.api.settle(env.stranger, a)
    env.api.settle(env.stranger, b)
    assert env.holdings(token) == env.owed(token)


def test_item_purchase_cancel_confirm_and_auto_release(env: Env, token: str) -> None:
    listing = env.create(
        token=token,
        kind=int(Kind.TOOL),
        unit=int(Unit.ITEM),
        stock=2,
        deposit=0,
        availableFrom=env.control.time(),
    )
    first = env.book(env.renter, listing, 0, 1)
    second = env.book(env.other, listing, 0, 1)
    raises(ExchangeOutOfStock, lambda: env.book(env.stranger, listing, 0, 1), requested=1, available=0)
    env.api.cancel(env.lister, second)  # the seller may cancel a purchase until it settles: stock back
    assert call(env.lens.functions.getListing(listing))[13] == 1
    raises(ExchangeNotRenter, lambda: env.send(env.other, env.cfns.confirmReceipt(first)))
    assert env.api.confirm_receipt(env.renter, first).to_lister == 10**16 - 10**16 * 200 // 10_000
    raises(
        ExchangeWrongBookingStatus,
        lambda: env.send(env.renter, env.cfns.confirmReceipt(first)),
        status=3,
    )
    third = env.book(env.other, listing, 0, 1)
    raises(ExchangeNotEnded, lambda: env.send(env.stranger, env.fns.settle(third)))
    env.control.increase_time(DELIVERY_WINDOW)
    assert env.api.settle(env.stranger, third).price_settled
    assert env.holdings(token) == env.owed(token)


# -- reverts: listings -----------------------------------------------------------------------------------


def test_constructor_refuses_zero_admin_codeless_contracts_and_bad_windows(env: Env) -> None:
    args = [env.admin.address, env.registry.address, env.sink.address, CLAIM_WINDOW, DISPUTE_WINDOW, 0]

    def deploy(**changes: Any) -> Callable[[], object]:
        values = list(args)
        for index, value in changes.items():
            values[int(index[1:])] = value
        return lambda: deploy_contract(env.w3, env.admin, "CommonsExchange", *values)

    raises(ExchangeZeroAddress, deploy(a0=ETH))
    raises(ExchangeZeroAddress, deploy(a1=env.stranger.address))  # a registry without code
    raises(ExchangeZeroAddress, deploy(a2=env.stranger.address))  # a fee sink without code
    raises(ExchangeInvalidPeriod, deploy(a3=91 * DAY), value=91 * DAY, max=90 * DAY)
    raises(ExchangeInvalidPeriod, deploy(a4=HOUR - 1), min=HOUR)
    raises(ExchangeInvalidPeriod, deploy(a5=91 * DAY))


def test_create_listing_refuses_ineligible_lister_and_bad_params(env: Env) -> None:
    def create(signer: Signer | None = None, **changes: Any) -> Callable[[], object]:
        return lambda: env.create(signer, **changes)

    t0 = env.t0()
    raises(ExchangeNotEligibleLister, create(env.stranger), account=env.stranger.address)
    raises(ExchangeTokenNotAllowed, create(token=env.sink.address), token=env.sink.address)
    raises(ExchangeInvalidUnitRange, create(minUnits=0))
    raises(ExchangeInvalidUnitRange, create(minUnits=3, maxUnits=2), minUnits=3, maxUnits=2)
    raises(ExchangeInvalidUnitRange, create(maxUnits=1_025))
    raises(ExchangeInvalidWindow, create(availableUntil=t0), availableFrom=t0, availableUntil=t0)
    raises(ExchangeInvalidWindow, create(availableFrom=1, availableUntil=env.control.time()))
    raises(ExchangeEmptyMetadata, create(metadataURI=""))
    raises(ExchangeInvalidItemListing, create(unit=int(Unit.ITEM), kind=int(Kind.TOOL), deposit=0))
    raises(ExchangeInvalidItemListing, create(unit=int(Unit.ITEM), kind=int(Kind.TOOL), stock=1))
    raises(ExchangeInvalidItemListing, create(unit=int(Unit.ITEM), stock=1, deposit=0))
    raises(ExchangeInvalidBps, create(lateRefundBps=10_001), bps=10_001, max=10_000)
    env.send(env.admin, env.fns.grantRole(ROLE["LISTER_ROLE"], env.stranger.address))
    assert env.create(env.stranger) >= 1  # LISTER_ROLE lets a non-citizen list (the city's own rooms)


def test_create_listing_enforces_housing_ceiling_and_cap(env: Env) -> None:
    env.send(env.admin, env.sfns.setHousingPriceCeiling(ETH, 2 * 10**16))
    raises(
        ExchangeHousingPriceTooHigh,
        lambda: env.create(unit=int(Unit.HOUR), price=10**15),  # 24 h x 0.001 = 0.024 per night
        perNight=24 * 10**15,
        ceiling=2 * 10**16,
    )
    assert env.create(kind=int(Kind.SPACE), unit=int(Unit.HOUR), price=10**15) >= 1  # not housing
    env.send(env.admin, env.sfns.setHousingListingCap(1))
    first = env.create()
    raises(ExchangeHousingCapReached, lambda: env.create(), lister=env.lister.address, cap=1)
    raises(
        ExchangeHousingPriceTooHigh,
        lambda: env.send(env.lister, env.fns.updateTerms(first, 3 * 10**16, 0, 0, 0)),
    )
    env.send(env.lister, env.fns.closeListing(first))
    assert call(env.fns.activeHousingListings(env.lister.address)) == 0
    assert env.create() > first


def test_update_terms_set_stock_pause_and_close_refuse_wrong_callers_and_states(env: Env) -> None:
    room = env.create()
    tool = env.create(kind=int(Kind.TOOL), unit=int(Unit.ITEM), stock=1, deposit=0)
    raises(
        ExchangeNotLister, lambda: env.send(env.other, env.fns.updateTerms(room, 1, 0, 0, 0)), listingId=room
    )
    raises(ExchangeInvalidBps, lambda: env.send(env.lister, env.fns.updateTerms(room, 1, 0, 0, 10_001)))
    raises(ExchangeInvalidItemListing, lambda: env.send(env.lister, env.fns.updateTerms(tool, 1, 5, 0, 0)))
    raises(ExchangeNotItemListing, lambda: env.send(env.lister, env.fns.setStock(room, 3)), listingId=room)
    raises(ExchangeNotLister, lambda: env.send(env.other, env.fns.setStock(tool, 3)))
    raises(ExchangeListingPauseUnchanged, lambda: env.send(env.lister, env.fns.setListingPaused(room, False)))
    raises(ExchangeNotLister, lambda: env.send(env.other, env.fns.closeListing(room)))
    raises(ExchangeUnknownListing, lambda: env.send(env.lister, env.fns.closeListing(999)), listingId=999)
    env.send(env.admin, env.fns.closeListing(tool))  # the DAO may close a listing that breaks the rules
    raises(ExchangeListingClosed, lambda: env.send(env.lister, env.fns.closeListing(tool)), listingId=tool)
    raises(ExchangeListingClosed, lambda: env.send(env.lister, env.fns.updateTerms(tool, 1, 0, 0, 0)))
    raises(ExchangeListingClosed, lambda: env.send(env.lister, env.fns.setListingPaused(tool, True)))


# -- reverts: booking ------------------------------------------------------------------------------------


def test_book_refuses_listing_states_and_parties(env: Env) -> None:
    t0 = env.t0()
    room = env.create()
    residents = env.create(env.other, residentsOnly=True, kind=int(Kind.SPACE))
    raises(ExchangeUnknownListing, lambda: env.book(env.renter, 999, t0, 1))
    raises(ExchangeSelfBooking, lambda: env.book(env.lister, room, t0, 1), listingId=room)
    raises(ExchangeInvalidUnits, lambda: env.book(env.renter, room, t0, 8), units=8, minUnits=1, maxUnits=7)
    raises(ExchangeInvalidUnits, lambda: env.book(env.renter, room, t0, 0))
    raises(
        ExchangeNotResident, lambda: env.book(env.stranger, residents, t0, 1), account=env.stranger.address
    )
    env.send(env.lister, env.fns.setListingPaused(room, True))
    raises(ExchangeListingPaused, lambda: env.book(env.renter, room, t0, 1), listingId=room)
    env.send(env.lister, env.fns.setListingPaused(room, False))
    env.send(env.admin, env.registry.functions.setCitizen(env.lister.address, False))  # the lister moved away
    raises(ExchangeNotEligibleLister, lambda: env.book(env.renter, room, t0, 1), account=env.lister.address)
    env.send(env.admin, env.registry.functions.setCitizen(env.lister.address, True))
    env.send(env.lister, env.fns.closeListing(room))
    raises(ExchangeListingClosed, lambda: env.book(env.renter, room, t0, 1))


def test_book_refuses_bad_times_and_taken_slots(env: Env) -> None:
    t0 = env.t0()
    room = env.create()
    later = env.create(env.other, kind=int(Kind.SPACE), availableFrom=t0 + 2 * DAY)
    raises(ExchangeOutsideWindow, lambda: env.book(env.renter, later, t0 + DAY, 1), start=t0 + DAY)
    raises(ExchangeOutsideWindow, lambda: env.book(env.renter, room, t0 + 28 * DAY, 3), end=t0 + 31 * DAY)
    raises(ExchangeStartMisaligned, lambda: env.book(env.renter, room, t0 + HOUR, 1), start=t0 + HOUR)
    env.book(env.renter, room, t0 + 2 * DAY, 3)
    raises(ExchangeSlotTaken, lambda: env.book(env.other, room, t0, 3), listingId=room, slot=2)
    raises(ExchangeSlotTaken, lambda: env.book(env.other, room, t0 + 4 * DAY, 2), slot=4)
    assert env.book(env.other, room, t0 + 5 * DAY, 2) > 0  # adjacent is fine
    assert call(env.lens.functions.firstClash(room, t0, 7)) == [True, 2]
    env.control.increase_time(t0 + DAY - env.control.time())
    raises(ExchangeStartInPast, lambda: env.book(env.other, room, t0, 1), start=t0)
    item = env.create(
        kind=int(Kind.TOOL), unit=int(Unit.ITEM), stock=1, deposit=0, availableFrom=t0 + 9 * DAY
    )
    raises(ExchangeOutsideWindow, lambda: env.book(env.renter, item, 0, 1))  # before the item's window
    raises(ExchangeNotItemListing, lambda: call(env.lens.functions.firstClash(item, 0, 1)))
    raises(ExchangeInvalidUnits, lambda: call(env.lens.functions.firstClash(room, t0 + 2 * DAY, 0)))


def test_book_refuses_wrong_payment(env: Env, accounts: list[NodeSigner]) -> None:
    t0 = env.t0()
    room = env.create()
    due = 10**16 + 10**17
    raises(
        CurrencyWrongValue,
        lambda: env.book(env.renter, room, t0, 1, value=due - 1),
        expected=due,
        sent=due - 1,
    )
    usd_room = env.create(token=env.usd.address)
    raises(CurrencyWrongValue, lambda: env.book(env.renter, usd_room, t0, 1, value=1), expected=0, sent=1)
    raises(ERC20InsufficientAllowance, lambda: env.send(env.stranger, env.book_fn(usd_room, t0, 1)))
    env.send(env.admin, env.sfns.setTokenAllowed(env.usd.address, False))  # the DAO withdraws the token
    raises(ExchangeTokenNotAllowed, lambda: env.book(env.renter, usd_room, t0 + DAY, 1))
    fot, _ = deploy_contract(env.w3, env.admin, "MockFeeOnTransferERC20")
    env.send(env.admin, env.sfns.setTokenAllowed(fot.address, True))
    fot_room = env.create(token=fot.address)
    env.send(env.renter, fot.functions.mint(env.renter.address, 10**20))
    env.send(env.renter, fot.functions.approve(env.exchange.address, due))
    raises(
        CurrencyTokenShortfall, lambda: env.send(env.renter, env.book_fn(fot_room, t0, 1)), token=fot.address
    )


def test_book_refuses_terms_changed_after_the_renter_looked(env: Env, token: str) -> None:
    t0 = env.t0()
    listing = env.create(token=token)
    seen = env.terms_version(listing)
    price, deposit, _ = call(
        env.lens.functions.quote(listing, 2)
    )  # what the renter is shown, at terms version 0
    assert (seen, price, deposit) == (0, 2 * 10**16, 10**17)
    if token != ETH:  # a standing allowance far above this booking: only the version protects the renter
        env.send(env.renter, env.usd.functions.approve(env.exchange.address, 10**30))
    value = price + deposit if token == ETH else 0
    usd_before = call(env.usd.functions.balanceOf(env.renter.address))
    owed = env.owed(token)

    # the lister front-runs the booking: price and deposit as quoted, but no refund on any cancellation
    updated = env.send(env.lister, env.fns.updateTerms(listing, 10**16, 10**17, 0, 0))
    assert updated.event("ListingTermsUpdated")["termsVersion"] == 1 == env.terms_version(listing)
    raises(
        ExchangeTermsChanged,
        lambda: env.send(env.renter, env.book_fn(listing, t0, 2, seen), value=value),
        listingId=listing,
        expected=0,
        current=1,
    )
    # and again with price and deposit raised
    env.send(env.lister, env.fns.updateTerms(listing, 5 * 10**16, 3 * 10**17, 0, 0))
    raises(
        ExchangeTermsChanged,
        lambda: env.send(env.renter, env.book_fn(listing, t0, 2, seen), value=value),
        expected=0,
        current=2,
    )
    assert env.owed(token) == env.holdings(token) == owed  # nothing was taken
    assert call(env.usd.functions.balanceOf(env.renter.address)) == usd_before
    assert call(env.lens.functions.isAvailable(listing, t0, 2))  # the slots stayed free

    # a renter who saw the new terms books on them
    booking = env.api.get_booking(env.book(env.renter, listing, t0, 2, version=2))
    assert (booking.price, booking.deposit, booking.late_refund_bps) == (10**17, 3 * 10**17, 0)


def test_terms_version_counts_changes_of_price_deposit_and_policy_only(env: Env) -> None:
    room = env.create()
    tool = env.create(kind=int(Kind.TOOL), unit=int(Unit.ITEM), stock=3, deposit=0)
    assert env.terms_version(room) == env.terms_version(tool) == 0
    env.send(env.lister, env.fns.setListingPaused(room, True))
    env.send(env.lister, env.fns.setListingPaused(room, False))
    env.send(env.lister, env.fns.setStock(tool, 5))
    assert env.terms_version(room) == env.terms_version(tool) == 0  # availability is not a term
    for expected in (1, 2, 3):
        env.send(env.lister, env.fns.updateTerms(room, 10**16, 10**17, 48, 5_000))  # even unchanged terms
        assert env.terms_version(room) == expected
    assert env.api.get_listing(room).terms_version == 3
    raises(ExchangeTermsChanged, lambda: env.book(env.renter, room, env.t0(), 1, version=2), current=3)
    assert env.book(env.renter, room, env.t0(), 1) > 0


def test_bookings_keep_the_terms_they_were_made_on_after_the_terms_change(env: Env, token: str) -> None:
    """A booking stores its listing's terms version, not a copy of the terms: while the version is current the
    listing's own terms apply, after ``updateTerms`` the copy the update kept (``_pastTerms``)."""
    t0 = env.t0()
    owed = env.owed(token)
    renter_credit = env.api.credits(env.renter.address, token)
    lister_credit = env.api.credits(env.lister.address, token)
    room = env.create(token=token)  # v0: 10**16 a night, deposit 10**17, 48 h notice, then half back
    cancelled_late = env.book(env.renter, room, t0 + 5 * DAY, 2)
    claimed = env.book(env.other, room, t0 + 2 * DAY, 1)
    env.send(env.lister, env.fns.updateTerms(room, 3 * 10**16, 2 * 10**17, 0, 0))  # v1: no refund, no notice
    by_lister = env.book(env.renter, room, t0 + 7 * DAY, 2)
    env.send(env.lister, env.fns.updateTerms(room, 5 * 10**16, 3 * 10**17, 7 * 24, 10_000))  # v2: all back
    current = env.book(env.other, room, t0 + DAY, 1)

    def terms(booking_id: int) -> tuple[int, int, int, int]:
        b = env.api.get_booking(booking_id)
        return b.price, b.deposit, b.late_refund_bps, b.free_cancel_until

    assert terms(cancelled_late) == (2 * 10**16, 10**17, 5_000, t0 + 5 * DAY - 48 * HOUR)
    assert terms(claimed) == (10**16, 10**17, 5_000, t0 + 2 * DAY - 48 * HOUR)
    assert terms(by_lister) == (6 * 10**16, 2 * 10**17, 0, t0 + 7 * DAY)
    assert terms(current) == (5 * 10**16, 3 * 10**17, 10_000, t0 + DAY - 7 * 24 * HOUR)
    assert env.owed(token) - owed == 2 * 10**16 + 10**16 + 6 * 10**16 + 5 * 10**16 + 7 * 10**17
    assert env.holdings(token) == env.owed(token)

    # cancellations follow the booking's own policy and amounts
    env.control.increase_time(t0 + 4 * DAY - env.control.time())  # within v0's 48 h notice of t0 + 5 days
    late = env.api.cancel(env.renter, cancelled_late)
    fee = 10**16 * 500 // 10_000
    assert (late.refund_to_renter, late.to_lister, late.fee) == (10**16, 10**16 - fee, fee)
    assert env.api.cancel(env.lister, by_lister).refund_to_renter == 6 * 10**16
    renter_refunds = 10**16 + 10**17 + 6 * 10**16 + 2 * 10**17
    assert env.api.credits(env.renter.address, token) - renter_credit == renter_refunds

    # claims are bounded by, and pay out of, the deposit of the booking's version
    raises(
        ExchangeInvalidClaimAmount,
        lambda: env.send(env.lister, env.cfns.claimDamage(claimed, 10**17 + 1, "ipfs://x")),
        amount=10**17 + 1,
    )
    env.api.claim_damage(env.lister, claimed, 10**17)
    env.api.dispute_claim(env.other, claimed)
    assert env.api.resolve(env.resolver, claimed, 4 * 10**16).to_renter == 6 * 10**16
    assert env.api.settle(env.stranger, claimed).price_settled  # v0's price to the lister
    env.control.increase_time(CLAIM_WINDOW + 2 * DAY)
    settled = env.api.settle(env.stranger, current)  # v2 (current): price and deposit from the listing
    assert (settled.fee, settled.deposit_to_renter) == (5 * 10**16 * 500 // 10_000, 3 * 10**17)
    assert env.api.withdraw_deposit(env.other, current).amount == 3 * 10**17
    earned = (10**16 - fee) + (10**16 - 10**16 * 500 // 10_000) + 4 * 10**16 + 5 * 10**16 * 19 // 20
    assert env.api.credits(env.lister.address, token) - lister_credit == earned
    assert env.holdings(token) == env.owed(token)


def test_an_item_bought_before_a_price_change_settles_at_its_own_price(env: Env, token: str) -> None:
    listing = _item(env, token, stock=5)
    bought = env.book(env.renter, listing, 0, 2)  # 2 x 10**16
    env.send(env.lister, env.fns.updateTerms(listing, 7 * 10**16, 0, 0, 0))
    later = env.book(env.other, listing, 0, 1)
    assert (env.api.get_booking(bought).price, env.api.get_booking(later).price) == (2 * 10**16, 7 * 10**16)
    assert env.api.confirm_receipt(env.renter, bought).tx.event("BookingSettled")["fee"] == 2 * 10**16 // 50
    assert env.api.cancel(env.other, later).refund_to_renter == 7 * 10**16
    assert env.holdings(token) == env.owed(token)


# -- reverts: cancellations, settlement, claims ----------------------------------------------------------


def test_cancel_refuses_strangers_and_started_bookings(env: Env) -> None:
    t0 = env.t0()
    room = env.create()
    booking = env.book(env.renter, room, t0, 1)
    raises(ExchangeUnknownBooking, lambda: env.send(env.renter, env.fns.cancelByRenter(99)), bookingId=99)
    raises(ExchangeNotRenter, lambda: env.send(env.other, env.fns.cancelByRenter(booking)))
    raises(ExchangeNotLister, lambda: env.send(env.renter, env.fns.cancelByLister(booking)))
    env.control.increase_time(t0 - env.control.time())
    raises(ExchangeBookingStarted, lambda: env.send(env.renter, env.fns.cancelByRenter(booking)), start=t0)
    raises(ExchangeBookingStarted, lambda: env.send(env.lister, env.fns.cancelByLister(booking)))
    raises(
        ExchangeNotItem,
        lambda: env.send(env.renter, env.cfns.confirmReceipt(booking)),
        bookingId=booking,
    )


def test_claim_damage_refuses_wrong_party_time_amount_and_status(env: Env) -> None:
    t0 = env.t0()
    room = env.create()
    free_room = env.create(env.other, kind=int(Kind.SPACE), deposit=0)
    booking = env.book(env.renter, room, t0, 1)
    no_deposit = env.book(env.renter, free_room, t0, 1)

    def claim(signer: Signer, bid: int, amount: int) -> Callable[[], object]:
        return lambda: env.send(signer, env.cfns.claimDamage(bid, amount, "ipfs://photo"))

    raises(ExchangeNotEnded, claim(env.lister, booking, 1), end=t0 + DAY)
    env.control.increase_time(t0 + DAY - env.control.time())
    raises(ExchangeNotLister, claim(env.other, booking, 1))
    raises(ExchangeWrongDepositStatus, claim(env.other, no_deposit, 1), status=int(DepositStatus.RELEASED))
    raises(ExchangeInvalidClaimAmount, claim(env.lister, booking, 0))
    raises(ExchangeInvalidClaimAmount, claim(env.lister, booking, 10**17 + 1), deposit=10**17)
    late = env.book(env.renter, room, t0 + 2 * DAY, 1)
    env.control.increase_time(t0 + 3 * DAY + CLAIM_WINDOW - env.control.time())
    raises(ExchangeClaimWindowClosed, claim(env.lister, late, 1), claimUntil=t0 + 3 * DAY + CLAIM_WINDOW)
    raises(ExchangeClaimWindowClosed, claim(env.lister, booking, 1))


def test_answers_to_a_claim_refuse_wrong_party_status_and_deadline(env: Env) -> None:
    t0 = env.t0()
    room = env.create()
    a = env.book(env.renter, room, t0, 1)
    b = env.book(env.other, room, t0 + DAY, 1)
    env.control.increase_time(t0 + 2 * DAY - env.control.time())
    fns = env.claims.functions
    raises(ExchangeWrongDepositStatus, lambda: env.send(env.renter, fns.acceptClaim(a)), status=0)
    raises(ExchangeWrongDepositStatus, lambda: env.send(env.renter, fns.disputeClaim(a)))
    raises(ExchangeWrongDepositStatus, lambda: env.send(env.stranger, fns.finalizeClaim(a)), status=0)
    env.send(env.lister, fns.claimDamage(a, 5 * 10**16, ""))
    env.send(env.lister, fns.claimDamage(b, 5 * 10**16, ""))
    raises(ExchangeWrongDepositStatus, lambda: env.send(env.lister, fns.claimDamage(a, 1, "")), status=1)
    raises(ExchangeNotRenter, lambda: env.send(env.other, fns.acceptClaim(a)))
    raises(ExchangeNotRenter, lambda: env.send(env.other, fns.disputeClaim(a)))
    raises(ExchangeWrongDepositStatus, lambda: env.send(env.resolver, fns.resolve(a, 0)), status=1)
    raises(ExchangeDeadlineNotReached, lambda: env.send(env.stranger, fns.finalizeClaim(a)))
    env.send(env.renter, fns.disputeClaim(a))
    raises(AccessControlUnauthorizedAccount, lambda: env.send(env.stranger, fns.resolve(a, 0)))
    env.send(env.admin, env.fns.grantRole(ROLE["RESOLVER_ROLE"], env.lister.address))
    raises(
        ExchangeResolverIsParty, lambda: env.send(env.lister, fns.resolve(a, 0)), resolver=env.lister.address
    )
    raises(ExchangeResolutionTooHigh, lambda: env.send(env.resolver, fns.resolve(a, 5 * 10**16 + 1)))
    env.control.increase_time(DISPUTE_WINDOW)
    raises(ExchangeDeadlinePassed, lambda: env.send(env.other, fns.disputeClaim(b)))
    raises(ExchangeDeadlinePassed, lambda: env.send(env.resolver, fns.resolve(a, 0)))
    assert env.api.finalize_claim(env.stranger, a).to_renter == 10**17  # unresolved: the renter wins
    assert env.api.accept_claim(env.other, b).to_lister == 5 * 10**16  # a late answer may still accept


# -- reverts: money and admin ----------------------------------------------------------------------------


def test_fee_sink_refusal_defers_fees_and_flush_delivers_them(env: Env, token: str) -> None:
    t0 = env.t0()
    room = env.create(token=token)
    booking = env.book(env.renter, room, t0, 2)
    raises(ExchangeNoPendingFees, lambda: env.send(env.stranger, env.fns.flushFees(token, 0)), token=token)
    env.send(env.admin, env.sink.functions.setRefuse(True))
    env.control.increase_time(t0 + 2 * DAY - env.control.time())
    settled = env.api.settle(env.stranger, booking)  # settlement never calls the sink: it keeps the fee
    fee = 2 * 10**16 * 500 // 10_000
    assert settled.fee_deferred and env.api.pending_fees(token, Kind.ROOM_HOUSE) == fee
    assert env.holdings(token) == env.owed(token)
    raises(MockFeeSinkRefused, lambda: env.send(env.stranger, env.fns.flushFees(token, 0)))
    env.send(env.admin, env.sink.functions.setRefuse(False))
    env.api.flush_fees(env.stranger, token, "room_house")
    assert env.api.pending_fees(token, Kind.ROOM_HOUSE) == 0
    assert call(env.sink.functions.received(token, 0)) == fee
    assert env.holdings(token) == env.owed(token)


def test_fee_sink_pulling_less_than_the_fee_fails_the_flush_and_keeps_the_fees_pending(env: Env) -> None:
    usd = env.usd.address
    t0 = env.t0()
    room = env.create(token=usd)
    settled_booking = env.book(env.renter, room, t0, 1)
    cancelled_booking = env.book(env.other, room, t0 + DAY, 1)  # less than 48 h notice: a late cancellation
    env.send(env.admin, env.sink.functions.setShortPull(1))  # the sink takes 1 less than each fee

    def sink_balance() -> int:
        return int(call(env.usd.functions.balanceOf(env.sink.address)))

    def sink_allowance() -> int:
        return int(call(env.usd.functions.allowance(env.exchange.address, env.sink.address)))

    sink_before = sink_balance()
    cancelled = env.api.cancel(env.other, cancelled_booking)  # the fee is kept for the sink
    cancel_fee = (10**16 - 10**16 * 5_000 // 10_000) * 500 // 10_000
    assert cancelled.fee == cancel_fee
    assert cancelled.tx.event("FeeAccrued")["amount"] == cancel_fee
    env.control.increase_time(t0 + DAY - env.control.time())
    settled = env.api.settle(env.stranger, settled_booking)
    fee = 10**16 * 500 // 10_000
    assert (settled.price_settled, settled.fee, settled.fee_deferred) == (True, fee, True)
    assert sink_balance() == sink_before
    assert env.api.pending_fees(usd, Kind.ROOM_HOUSE) == cancel_fee + fee
    assert env.holdings(usd) == env.owed(usd)

    # a flush delivers all or nothing: while the sink pulls short, the fees stay pending
    raises(
        ExchangeFeeSinkMismatch,
        lambda: env.send(env.stranger, env.fns.flushFees(usd, int(Kind.ROOM_HOUSE))),
        token=usd,
        expected=cancel_fee + fee,
        pulled=cancel_fee + fee - 1,
    )
    assert env.api.pending_fees(usd, Kind.ROOM_HOUSE) == cancel_fee + fee
    assert sink_allowance() == 0
    env.send(env.admin, env.sink.functions.setShortPull(0))
    flushed = env.api.flush_fees(env.stranger, usd, Kind.ROOM_HOUSE)
    assert (flushed.amount, flushed.kind, flushed.token) == (cancel_fee + fee, Kind.ROOM_HOUSE, usd)
    assert flushed.tx.event("FeePaid")["amount"] == cancel_fee + fee
    assert env.api.pending_fees(usd, Kind.ROOM_HOUSE) == 0
    assert sink_balance() - sink_before == cancel_fee + fee
    assert sink_allowance() == 0
    assert env.holdings(usd) == env.owed(usd)
    assert env.api.withdraw(env.lister, usd).amount == (10**16 - fee) + (10**16 // 2 - cancel_fee)


def test_admin_setters_are_admin_only_and_bounded(env: Env) -> None:
    fns, sfns, admin = env.fns, env.sfns, env.admin
    for fn in (
        sfns.setFeeBps(0, 1), sfns.setFeeSink(env.sink.address), sfns.setRegistry(env.registry.address),
        sfns.setClaimWindow(1), sfns.setDisputeWindow(HOUR), sfns.setDeliveryWindow(1),
        sfns.setHousingPriceCeiling(ETH, 1), sfns.setHousingListingCap(1),
        sfns.setTokenAllowed(env.usd.address, True), fns.sweepSurplus(ETH, env.stranger.address),
        fns.unpause(), sfns.setGuardianExpiry(1),
    ):  # fmt: skip
        raises(
            AccessControlUnauthorizedAccount,
            lambda fn=fn: env.send(env.stranger, fn),
            account=env.stranger.address,
        )
    raises(ExchangeInvalidBps, lambda: env.send(admin, sfns.setFeeBps(0, 1_001)), bps=1_001, max=1_000)
    raises(ExchangeZeroAddress, lambda: env.send(admin, sfns.setFeeSink(env.stranger.address)))
    raises(ExchangeZeroAddress, lambda: env.send(admin, sfns.setRegistry(env.stranger.address)))
    raises(ExchangeZeroAddress, lambda: env.send(admin, sfns.setTokenAllowed(ETH, True)))
    raises(ExchangeInvalidPeriod, lambda: env.send(admin, sfns.setClaimWindow(91 * DAY)))
    raises(ExchangeInvalidPeriod, lambda: env.send(admin, sfns.setDisputeWindow(HOUR - 1)))
    raises(ExchangeInvalidPeriod, lambda: env.send(admin, sfns.setDeliveryWindow(91 * DAY)))
    env.send(admin, sfns.setClaimWindow(DAY))
    assert env.api.windows() == Windows(claim=DAY, dispute=DISPUTE_WINDOW, delivery=DELIVERY_WINDOW)
    assert env.api.fee_bps("tool") == 200
    assert call(fns.supportsInterface(bytes.fromhex("01ffc9a7")))  # ERC-165


def test_configure_only_from_the_settings_contract(env: Env) -> None:
    for signer in (env.admin, env.stranger):
        raises(
            ExchangeOnlySettings,
            lambda signer=signer: env.send(signer, env.fns.configure(0, 0, 1)),
            caller=signer.address,
        )
    assert call(env.api.settings.functions.exchange()) == env.exchange.address


def test_withdraw_to_and_sweep_surplus_never_touch_what_is_owed(env: Env) -> None:
    t0 = env.t0()
    room = env.create(token=env.usd.address)
    env.book(env.renter, room, t0, 1)
    raises(ExchangeZeroAddress, lambda: env.send(env.renter, env.fns.withdrawTo(env.usd.address, ETH)))
    raises(
        ExchangeNoSurplus,
        lambda: env.send(env.admin, env.fns.sweepSurplus(env.usd.address, env.admin.address)),
    )
    raises(ExchangeZeroAddress, lambda: env.send(env.admin, env.fns.sweepSurplus(env.usd.address, ETH)))
    # no running ETH total is kept (a withdrawal reads one slot): all the ETH held counts as owed
    assert env.owed(ETH) == env.holdings(ETH)
    raises(
        ExchangeNoSurplus,
        lambda: env.send(env.admin, env.fns.sweepSurplus(ETH, env.admin.address)),
        token=ETH,
    )
    env.send(env.stranger, env.usd.functions.transfer(env.exchange.address, 777))  # sent by mistake
    owed = env.owed(env.usd.address)
    assert env.holdings(env.usd.address) == owed + 777
    env.send(env.admin, env.fns.sweepSurplus(env.usd.address, env.other.address))
    assert env.holdings(env.usd.address) == env.owed(env.usd.address) == owed


def test_pause_is_for_guardians_and_unpause_for_the_admin(env: Env) -> None:
    t0 = env.t0()
    room = env.create()
    raises(ExpectedPause, lambda: env.send(env.admin, env.fns.unpause()))
    raises(AccessControlUnauthorizedAccount, lambda: env.send(env.stranger, env.fns.pause()))
    env.send(env.admin, env.fns.grantRole(ROLE["GUARDIAN_ROLE"], env.other.address))
    env.api.pause(env.other)
    raises(EnforcedPause, lambda: env.send(env.other, env.fns.pause()))
    raises(EnforcedPause, lambda: env.create())
    raises(EnforcedPause, lambda: env.book(env.renter, room, t0, 1))
    raises(AccessControlUnauthorizedAccount, lambda: env.send(env.other, env.fns.unpause()))
    env.send(env.admin, env.fns.unpause())
    assert env.book(env.renter, room, t0, 1) > 0


def test_pause_by_a_guardian_ends_at_the_guardian_expiry_but_the_dao_always_may(env: Env) -> None:
    guardian = env.other
    env.send(env.admin, env.fns.grantRole(ROLE["GUARDIAN_ROLE"], guardian.address))
    assert env.api.guardian_expiry() == 0  # as constructed: never (the suite's deployment sets one)
    expiry = env.control.time() + DAY
    record = env.send(env.admin, env.sfns.setGuardianExpiry(expiry))
    assert dict(record.event("GuardianExpirySet").args) == {"oldExpiry": 0, "newExpiry": expiry}
    assert env.api.guardian_expiry() == expiry
    env.api.pause(guardian)  # before the expiry
    assert env.api.is_paused()
    env.send(env.admin, env.fns.unpause())

    env.control.increase_time(DAY + 1)  # past the expiry
    raises(
        ExchangeGuardianExpired,
        lambda: env.send(guardian, env.fns.pause()),
        guardian=guardian.address,
        expiry=expiry,
    )
    raises(AccessControlUnauthorizedAccount, lambda: env.send(env.stranger, env.fns.pause()))
    assert not env.api.is_paused()
    env.api.pause(env.admin)  # the DAO always can
    assert env.api.is_paused()
    env.send(env.admin, env.fns.unpause())
    env.send(env.admin, env.sfns.setGuardianExpiry(0))  # the DAO may lift the expiry again (0 = never)
    env.api.pause(guardian)
    assert env.api.is_paused()


def test_views_refuse_unknown_ids(env: Env) -> None:
    raises(ExchangeUnknownListing, lambda: env.api.get_listing(404), listingId=404)
    raises(ExchangeUnknownBooking, lambda: env.api.get_booking(404), bookingId=404)
    raises(ExchangeUnknownListing, lambda: env.api.quote(404, 1))
    assert not env.api.is_available(404, env.t0(), 1)


# -- attacks ---------------------------------------------------------------------------------------------


def _via(env: Env, proxy: Contract, fn: Any, value: int = 0) -> TxRecord:
    """Make ``proxy`` (a mock contract account) call the exchange."""
    return env.send(env.stranger, proxy.functions.execute(env.exchange.address, calldata(fn)), value)


def test_reverting_receiver_blocks_only_itself(env: Env) -> None:
    t0 = env.t0()
    receiver, _ = deploy_contract(env.w3, env.admin, "MockRevertingReceiver")
    env.send(env.admin, env.registry.functions.setCitizen(receiver.address, True))
    room = env.create()
    record = _via(env, receiver, env.book_fn(room, t0, 1), value=10**16 + 10**17)  # it rents...
    its_booking = int(record.event("Booked")["bookingId"])
    record = _via(env, receiver, env.fns.createListing(env.params(kind=int(Kind.SPACE))))  # ...and lists
    its_listing = int(record.event("ListingCreated")["listingId"])
    other_booking = env.book(env.other, its_listing, t0, 1)
    env.control.increase_time(t0 + DAY + CLAIM_WINDOW - env.control.time())
    env.api.settle(env.stranger, its_booking)  # settlement credits, never pushes: nothing to refuse
    env.api.settle(env.stranger, other_booking)
    raises(
        CurrencyNativeTransferFailed, lambda: _via(env, receiver, env.fns.withdraw(ETH))
    )  # it blocks itself only
    assert env.api.withdraw(env.lister).amount == 10**16 - 10**16 * 500 // 10_000
    assert env.api.withdraw_deposit(env.other, other_booking).amount == 10**17
    raises(  # nor can it take its deposit back to itself
        CurrencyNativeTransferFailed, lambda: _via(env, receiver, env.fns.withdrawDeposit(its_booking))
    )
    owed_to_receiver = env.api.credits(receiver.address)
    assert owed_to_receiver == 10**16 - 10**16 * 300 // 10_000
    before = env.w3.eth.get_balance(env.resolver.address)
    _via(env, receiver, env.fns.withdrawTo(ETH, env.resolver.address))  # and can rescue its money
    assert env.w3.eth.get_balance(env.resolver.address) == before + owed_to_receiver
    flushed = env.api.flush_fees(env.stranger, ETH, Kind.ROOM_HOUSE).amount
    flushed += env.api.flush_fees(env.stranger, ETH, Kind.SPACE).amount
    assert env.holdings(ETH) == env.owed(ETH) == 10**17  # its deposit waits for an account that can take it


def test_reentrant_withdrawal_is_paid_once(env: Env) -> None:
    """`withdraw` takes no lock (issue 11): it empties the credit before its one call, so a re-entered
    withdrawal finds none."""
    t0 = env.t0()
    attacker, _ = deploy_contract(env.w3, env.admin, "MockReentrantAttacker")
    room = env.create()
    victim = env.book(env.other, room, t0 + 3 * DAY, 1)  # someone else's money in escrow
    due = 10**16 + 10**17
    record = _via(env, attacker, env.book_fn(room, t0 + 5 * DAY, 1), value=due)
    _via(env, attacker, env.fns.cancelByRenter(int(record.event("Booked")["bookingId"])))
    assert env.api.credits(attacker.address) == due
    env.send(env.stranger, attacker.functions.arm(env.exchange.address, calldata(env.fns.withdraw(ETH))))
    before = env.w3.eth.get_balance(attacker.address)
    attempt = _via(env, attacker, env.fns.withdraw(ETH)).event("MockReentryAttempted")
    assert attempt["succeeded"] is False
    assert "0x" + bytes(attempt["revertData"])[:4].hex() == ExchangeNothingToWithdraw.selector
    assert call(attacker.functions.lastReentryFailed())
    assert env.w3.eth.get_balance(attacker.address) == before + due  # paid exactly once
    assert env.api.credits(attacker.address) == 0
    assert env.api.get_booking(victim).status is BookingStatus.ACTIVE
    assert env.holdings(ETH) == 10**16 + 10**17  # the victim's escrow, untouched


@pytest.mark.parametrize("target", ["withdrawDeposit", "cancelByLister", "settle"])
def test_reentry_from_a_locked_payout_is_refused(env: Env, target: str) -> None:
    """A locked payout (`withdrawDeposit`) that hands the renter control cannot be re-entered into a locked
    function."""
    t0 = env.t0()
    attacker, _ = deploy_contract(env.w3, env.admin, "MockReentrantAttacker")
    room = env.create()
    victim = env.book(env.other, room, t0 + 20 * DAY, 1)  # someone else's money in escrow
    record = _via(env, attacker, env.book_fn(room, t0 + DAY, 1), value=10**16 + 10**17)
    its_booking = int(record.event("Booked")["bookingId"])
    env.control.increase_time(t0 + 2 * DAY + CLAIM_WINDOW - env.control.time())
    env.api.settle(env.stranger, its_booking)  # the deposit waits in the booking for its renter
    reentry = {
        "withdrawDeposit": env.fns.withdrawDeposit(its_booking),
        "cancelByLister": env.fns.cancelByLister(victim),
        "settle": env.fns.settle(victim),
    }[target]
    env.send(env.stranger, attacker.functions.arm(env.exchange.address, calldata(reentry)))
    before = env.w3.eth.get_balance(attacker.address)
    attempt = _via(env, attacker, env.fns.withdrawDeposit(its_booking)).event("MockReentryAttempted")
    assert attempt["succeeded"] is False
    assert "0x" + bytes(attempt["revertData"])[:4].hex() == ReentrancyGuardReentrantCall.selector
    assert env.w3.eth.get_balance(attacker.address) == before + 10**17  # its deposit, exactly once
    assert env.api.get_booking(victim).status is BookingStatus.ACTIVE


def test_reentrant_token_cannot_re_enter_or_block_others(env: Env) -> None:
    t0 = env.t0()
    evil, _ = deploy_contract(env.w3, env.admin, "MockReentrantERC20")
    env.send(env.admin, env.sfns.setTokenAllowed(evil.address, True))
    room = env.create(token=evil.address)
    for account in (env.renter, env.other):
        env.send(account, evil.functions.mint(account.address, 10**20))
        env.send(account, evil.functions.approve(env.exchange.address, 10**20))
    honest = int(env.send(env.other, env.book_fn(room, t0 + 4 * DAY, 1)).event("Booked")["bookingId"])
    # during the pull of a booking, re-enter to cancel the honest renter's booking: refused, booking fails
    env.send(
        env.stranger,
        evil.functions.arm(env.exchange.address, calldata(env.fns.cancelByLister(honest))),
    )
    raises(ReentrancyGuardReentrantCall, lambda: env.send(env.renter, env.book_fn(room, t0, 1)))
    env.send(env.stranger, evil.functions.arm(env.exchange.address, b""))
    mine = int(env.send(env.renter, env.book_fn(room, t0 + 9 * DAY, 1)).event("Booked")["bookingId"])
    env.send(env.renter, env.fns.cancelByRenter(mine))
    # during the payout of a withdrawal, re-enter to withdraw again: the credit is already spent (withdraw
    # takes no lock: it empties the credit before it calls the token)
    env.send(
        env.stranger,
        evil.functions.arm(env.exchange.address, calldata(env.fns.withdraw(evil.address))),
    )
    raises(ExchangeNothingToWithdraw, lambda: env.send(env.renter, env.fns.withdraw(evil.address)))
    env.send(env.stranger, evil.functions.arm(env.exchange.address, b""))
    assert env.api.withdraw(env.renter, evil.address).amount == 10**16 + 10**17
    assert env.api.get_booking(honest).status is BookingStatus.ACTIVE
    assert env.holdings(evil.address) == env.owed(evil.address) == 10**16 + 10**17


# -- property: random sequences --------------------------------------------------------------------------

SLOTS = 1_536  # an hourly listing over 64 days: six 256-slot words of calendar
NEAR_WORD_EDGES = [w * 256 + d for w in range(1, 6) for d in (-3, -1, 0, 1)]
BOOK = st.tuples(
    st.just("book"),
    st.integers(0, 2),
    st.one_of(st.integers(0, SLOTS - 1), st.sampled_from(NEAR_WORD_EDGES)),
    st.one_of(st.integers(1, 4), st.integers(200, 600)),  # short stays, and ranges over two or three words
)
OPS = st.one_of(
    BOOK,
    st.tuples(st.just("cancel"), st.integers(0, 7), st.booleans(), st.just(0)),
    st.tuples(st.just("wait"), st.sampled_from([1, 2, 4, 8, 24, 72]), st.just(0), st.just(0)),
    st.tuples(st.just("settle"), st.integers(0, 7), st.just(0), st.just(0)),
    st.tuples(st.just("claim"), st.integers(0, 7), st.integers(1, 3), st.just(0)),
    st.tuples(st.just("withdraw"), st.integers(0, 3), st.just(0), st.just(0)),
)


def _run_sequence(env: Env, token: str, ops: list[tuple[str, int, Any, int]]) -> None:
    renters = (env.renter, env.other, env.stranger)
    people = (env.lister, *renters)
    start = (env.control.time() // HOUR + 1) * HOUR
    listing = env.create(
        token=token, kind=int(Kind.SPACE), unit=int(Unit.HOUR), availableFrom=start,
        availableUntil=start + SLOTS * HOUR, maxUnits=600, freeCancelHours=2, lateRefundBps=2_500,
        price=10**15, deposit=3 * 10**15,
    )  # fmt: skip
    owed0 = env.owed(token)
    credits0 = {p.address: env.api.credits(p.address, token) for p in people}
    pending0 = env.api.pending_fees(token, Kind.SPACE)
    bookings: list[int] = []
    for op, a, b, c in ops:
        now = env.control.time()
        if op == "book":
            live = [env.api.get_booking(i) for i in bookings]
            taken = {
                (bk.start - start) // HOUR + k
                for bk in live
                if bk.status is not BookingStatus.CANCELLED
                for k in range(bk.units)
            }
            wanted = set(range(b, b + c))
            slot_start = start + b * HOUR
            try:
                bookings.append(env.book(renters[a], listing, slot_start, c))
                event("book: made")
                assert not wanted & taken and b + c <= SLOTS and slot_start >= now
            except ExchangeSlotTaken as err:
                event("book: slot taken")
                assert err.slot == min(wanted & taken)
            except (ExchangeOutsideWindow, ExchangeStartInPast) as err:
                event(f"book: {type(err).__name__}")
                assert b + c > SLOTS or slot_start < now + 5  # the block may be a few seconds later
        elif op == "wait":
            env.control.increase_time(a * HOUR)
        elif op == "withdraw":
            if env.api.credits(people[a].address, token):
                env.api.withdraw(people[a], token)
                event("withdraw: done")
        elif bookings:
            booking = env.api.get_booking(bookings[a % len(bookings)])
            try:
                if op == "cancel":
                    renter = next(r for r in renters if r.address == booking.renter)
                    env.api.cancel(env.lister if b else renter, booking.booking_id)
                elif op == "settle":
                    env.api.settle(env.lister, booking.booking_id)
                else:
                    env.api.claim_damage(env.lister, booking.booking_id, booking.deposit // b)
            except (
                ExchangeBookingStarted, ExchangeWrongBookingStatus, ExchangeNotEnded, ExchangeNothingToSettle,
                ExchangeWrongDepositStatus, ExchangeClaimWindowClosed,
            ) as err:  # fmt: skip
                event(f"{op}: {type(err).__name__}")  # refused for a named reason; accounting must hold
            else:
                event(f"{op}: done")
        assert env.holdings(token) == env.owed(token)

    # escrow + credits + pending fees == totalOwed; live bookings never overlap; the calendar agrees
    escrow = 0
    occupied: list[int] = []
    for bk in (env.api.get_booking(i) for i in bookings):
        if bk.status is BookingStatus.ACTIVE:
            escrow += bk.price
        if bk.deposit_status in (
            DepositStatus.HELD, DepositStatus.CLAIMED, DepositStatus.DISPUTED, DepositStatus.REFUNDABLE
        ):  # fmt: skip
            escrow += bk.deposit  # a deposit settle returned stays in the booking until the renter pulls it
        if bk.status is not BookingStatus.CANCELLED:
            occupied.extend((bk.start - start) // HOUR + k for k in range(bk.units))
    assert len(occupied) == len(set(occupied)), "two live bookings share a slot"
    credits = sum(env.api.credits(p.address, token) - credits0[p.address] for p in people)
    pending = env.api.pending_fees(token, Kind.SPACE) - pending0
    assert env.owed(token) - owed0 == escrow + credits + pending
    words = [int(call(env.fns.calendarWord(listing, w))) for w in range(SLOTS // 256)]
    assert {w * 256 + i for w, bits in enumerate(words) for i in range(256) if bits >> i & 1} == set(occupied)


@pytest.mark.parametrize("kind", ["eth", "erc20"])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(first=st.lists(BOOK, min_size=2, max_size=5), then=st.lists(OPS, min_size=2, max_size=14))
def test_random_sequences_keep_calendar_and_accounting_consistent(
    env: Env, kind: str, first: list[tuple[str, int, Any, int]], then: list[tuple[str, int, Any, int]]
) -> None:
    token = ETH if kind == "eth" else str(env.usd.address)
    snapshot = env.control.snapshot()
    try:
        _run_sequence(env, token, first + then)
    finally:
        env.control.revert(snapshot)


# -- ITEM escrow: the buyer's remedies (issue 9, defect 3) ------------------------------------------------


def _item(env: Env, token: str = ETH, stock: int = 5) -> int:
    return env.create(
        token=token, kind=int(Kind.TOOL), unit=int(Unit.ITEM), stock=stock, deposit=0,
        availableFrom=env.control.time(),
    )  # fmt: skip


def test_item_dishonest_seller_cannot_settle_early_and_a_disputed_non_delivery_refunds_the_buyer(
    env: Env, token: str
) -> None:
    listing = _item(env, token)
    price, fee = 10**16, 10**16 * 200 // 10_000
    sale = env.book(env.renter, listing, 0, 1)
    assert env.api.mark_shipped(env.lister, sale).booking_id == sale  # claims to have shipped; never delivers
    raises(ExchangeNotEnded, lambda: env.send(env.lister, env.fns.settle(sale)), bookingId=sale)
    raised = env.api.claim_non_delivery(env.renter, sale, evidence_uri="ipfs://no-parcel")
    assert raised.amount == price
    assert env.api.get_booking(sale).status is BookingStatus.CLAIMED
    env.api.dispute_claim(env.lister, sale)  # the seller contests
    assert env.api.get_booking(sale).status is BookingStatus.DISPUTED
    # while the dispute is open nothing is paid, whoever asks
    raises(ExchangeNothingToSettle, lambda: env.send(env.lister, env.fns.settle(sale)), bookingId=sale)
    outcome = env.api.resolve(env.resolver, sale, 0)  # the resolver finds for the buyer
    assert (outcome.to_renter, outcome.to_lister) == (price, 0)
    assert env.api.credits(env.renter.address, token) == price
    raises(ExchangeNothingToWithdraw, lambda: env.send(env.lister, env.fns.withdraw(token)))
    assert env.holdings(token) == env.owed(token) == price
    # a partial award pays the seller its share minus the fee on it; the buyer gets the rest
    other = env.book(env.other, listing, 0, 1)
    env.api.claim_non_delivery(env.other, other)
    env.api.dispute_claim(env.lister, other)
    split = env.api.resolve(env.resolver, other, price // 4)
    assert (split.to_renter, split.to_lister) == (price - price // 4, price // 4)
    assert env.api.credits(env.lister.address, token) == price // 4 - (price // 4) * 200 // 10_000
    assert env.holdings(token) == env.owed(token)
    assert fee > 0


def test_item_unanswered_or_accepted_non_delivery_refunds_and_silence_pays_the_seller(env: Env) -> None:
    listing = _item(env)
    price = 10**16
    unanswered = env.book(env.renter, listing, 0, 1)
    accepted = env.book(env.other, listing, 0, 1)
    silent = env.book(env.stranger, listing, 0, 1)
    env.api.claim_non_delivery(env.renter, unanswered)
    env.api.claim_non_delivery(env.other, accepted)
    assert env.api.accept_claim(env.lister, accepted).to_renter == price  # the seller admits it
    raises(
        ExchangeDeadlineNotReached,
        lambda: env.send(env.stranger, env.cfns.finalizeClaim(unanswered)),
    )
    env.control.increase_time(DISPUTE_WINDOW)
    raises(ExchangeDeadlinePassed, lambda: env.send(env.lister, env.cfns.disputeClaim(unanswered)))
    finalized = env.api.finalize_claim(env.stranger, unanswered)  # the seller never answered: buyer refunded
    assert (finalized.to_renter, finalized.to_lister) == (price, 0)
    env.control.increase_time(DELIVERY_WINDOW)
    assert env.api.settle(env.stranger, silent).to_lister == price - price * 200 // 10_000  # silence releases
    assert env.api.credits(env.renter.address, ETH) == env.api.credits(env.other.address, ETH) == price
    assert env.holdings(ETH) == env.owed(ETH)


def test_item_buyer_cancels_before_shipping_for_a_full_refund_but_not_after(env: Env, token: str) -> None:
    listing = _item(env, token, stock=2)
    early = env.book(env.renter, listing, 0, 1)
    late = env.book(env.other, listing, 0, 1)
    cancelled = env.api.cancel(env.renter, early)
    assert (cancelled.refund_to_renter, cancelled.to_lister, cancelled.fee) == (10**16, 0, 0)
    assert call(env.lens.functions.getListing(listing))[13] == 1  # stock back
    shipped = env.api.mark_shipped(env.lister, late)
    assert env.api.get_booking(late).shipped_at == env.w3.eth.get_block(shipped.tx.block_number)["timestamp"]
    raises(ExchangeItemShipped, lambda: env.send(env.other, env.fns.cancelByRenter(late)), bookingId=late)
    assert env.api.confirm_receipt(env.other, late).price_settled
    assert env.holdings(token) == env.owed(token)


def test_item_claims_and_shipping_refuse_wrong_party_kind_time_and_status(env: Env) -> None:
    listing = _item(env)
    sale = env.book(env.renter, listing, 0, 1)
    room = env.create()
    t0 = env.t0()
    stay = env.book(env.renter, room, t0, 1)
    claims = env.claims.functions

    raises(
        ExchangeNotLister,
        lambda: env.send(env.renter, env.cfns.markShipped(sale)),
        account=env.renter.address,
    )
    raises(ExchangeNotItem, lambda: env.send(env.lister, env.cfns.markShipped(stay)), bookingId=stay)
    env.send(env.lister, env.cfns.markShipped(sale))
    raises(
        ExchangeItemShipped,
        lambda: env.send(env.lister, env.cfns.markShipped(sale)),
        bookingId=sale,
    )
    raises(ExchangeNotRenter, lambda: env.send(env.other, claims.claimNonDelivery(sale, "")))
    raises(ExchangeNotItem, lambda: env.send(env.renter, claims.claimNonDelivery(stay, "")), bookingId=stay)
    env.send(env.renter, claims.claimNonDelivery(sale, ""))
    raises(
        ExchangeWrongBookingStatus,
        lambda: env.send(env.renter, claims.claimNonDelivery(sale, "")),
        status=int(BookingStatus.CLAIMED),
    )
    raises(ExchangeWrongBookingStatus, lambda: env.send(env.renter, env.cfns.confirmReceipt(sale)))
    raises(ExchangeNotLister, lambda: env.send(env.renter, claims.disputeClaim(sale)))  # the seller answers
    raises(ExchangeNotLister, lambda: env.send(env.renter, claims.acceptClaim(sale)))
    raises(
        ExchangeWrongDepositStatus, lambda: env.send(env.resolver, claims.resolve(sale, 0))
    )  # not disputed
    env.send(env.lister, claims.disputeClaim(sale))
    raises(ExchangeResolutionTooHigh, lambda: env.send(env.resolver, claims.resolve(sale, 10**16 + 1)))
    raises(AccessControlUnauthorizedAccount, lambda: env.send(env.renter, claims.resolve(sale, 0)))
    env.send(env.admin, env.fns.grantRole(ROLE["RESOLVER_ROLE"], env.lister.address))
    raises(ExchangeResolverIsParty, lambda: env.send(env.lister, claims.resolve(sale, 0)))  # a party
    late = env.book(env.other, listing, 0, 1)
    env.control.increase_time(DELIVERY_WINDOW)
    raises(ExchangeDeadlinePassed, lambda: env.send(env.other, claims.claimNonDelivery(late, "")))
    # the claim hooks answer only to the exchange's own claims contract
    fns = env.fns
    raises(ExchangeOnlyClaims, lambda: env.send(env.renter, fns.payClaim(sale, 0)), caller=env.renter.address)
    raises(ExchangeOnlyClaims, lambda: env.send(env.renter, fns.recordClaim(sale, 1, 3, 0, 0)))
    lister = env.lister.address
    raises(ExchangeOnlyClaims, lambda: env.send(env.lister, fns.recordShipment(sale)), caller=lister)
    assert call(env.cfns.exchange()) == env.exchange.address
    assert call(env.lens.functions.exchange()) == env.exchange.address


# -- money and listings follow the membership, not the key (issue 9, defect 4) -------------------------


def _rotate(env: Env, old: str, new: str) -> None:
    """The mock registry's stand-in for CitizenRegistry.rotate: the membership id moves from old to new."""
    membership = call(env.registry.functions.membershipOf(old))
    env.send(env.admin, env.registry.functions.setMembership(new, membership))
    env.send(env.admin, env.registry.functions.setMembership(old, 0))


def test_after_a_key_rotation_the_old_key_loses_listings_and_earnings_and_the_new_key_has_them(
    env: Env, accounts: list[NodeSigner], token: str
) -> None:
    new_lister, new_renter = accounts[6], accounts[7]
    snapshot = env.control.snapshot()
    try:
        t0 = env.t0()
        room = env.create(token=token)
        settled = env.book(env.renter, room, t0, 1)
        refunded = env.book(env.renter, room, t0 + 10 * DAY, 1)
        env.control.increase_time(t0 + DAY + CLAIM_WINDOW - env.control.time())
        env.api.settle(env.stranger, settled)
        listing = env.api.get_listing(room)
        assert listing.membership == call(env.registry.functions.membershipOf(env.lister.address)) != 0
        _rotate(env, env.lister.address, new_lister.address)
        _rotate(env, env.renter.address, new_renter.address)
        earned = 10**16 - 10**16 * 500 // 10_000
        assert env.api.credits(new_lister.address, token) == earned
        assert env.api.credits(env.lister.address, token) == 0
        # the old keys: no money, no listing, no booking
        raises(ExchangeNothingToWithdraw, lambda: env.send(env.lister, env.fns.withdraw(token)))
        raises(ExchangeNotLister, lambda: env.send(env.lister, env.fns.updateTerms(room, 1, 0, 0, 0)))
        raises(ExchangeNotLister, lambda: env.send(env.lister, env.fns.setListingPaused(room, True)))
        raises(ExchangeNotLister, lambda: env.send(env.lister, env.fns.closeListing(room)))
        raises(ExchangeNotLister, lambda: env.send(env.lister, env.fns.cancelByLister(refunded)))
        raises(ExchangeNotRenter, lambda: env.send(env.renter, env.fns.cancelByRenter(refunded)))
        raises(ExchangeNothingToWithdraw, lambda: env.send(env.renter, env.fns.withdraw(token)))
        # the new keys: the listing stays bookable, they manage it, withdraw, and cancel as renter
        assert env.api.withdraw(new_lister, token).amount == earned
        raises(ExchangeNotRenter, lambda: env.send(env.renter, env.fns.withdrawDeposit(settled)))
        assert env.api.withdraw_deposit(new_renter, settled).amount == 10**17  # the settled booking's deposit
        env.send(new_lister, env.fns.setListingPaused(room, True))
        env.send(new_lister, env.fns.setListingPaused(room, False))
        assert env.book(env.other, room, t0 + 5 * DAY, 1) > 0
        raises(ExchangeSelfBooking, lambda: env.book(new_lister, room, t0 + 7 * DAY, 1))
        cancelled = env.api.cancel(new_renter, refunded)
        assert (cancelled.by, cancelled.refund_to_renter) == (
            new_renter.address,
            10**16,
        )  # the key that sent it
        assert env.api.withdraw(new_renter, token).amount == 10**16 + 10**17
        assert env.holdings(token) == env.owed(token)
    finally:
        env.control.revert(snapshot)


def test_only_the_registry_tells_the_exchange_that_a_key_lost_its_membership(env: Env) -> None:
    moved = env.fns.onMembershipMoved(env.lister.address, env.stranger.address, 1)
    for signer in (env.stranger, env.admin, env.lister):
        raises(ExchangeOnlyRegistry, lambda signer=signer: env.send(signer, moved), caller=signer.address)
    assert env.api.credits(env.stranger.address) == 0


def test_a_rotation_moves_the_old_key_s_credit_in_eth_and_every_token_at_once(
    env: Env, accounts: list[NodeSigner]
) -> None:
    new_key = accounts[6]
    snapshot = env.control.snapshot()
    try:
        t0 = env.t0()
        usd = str(env.usd.address)
        for token in (ETH, usd):
            room = env.create(token=token)
            booking = env.book(env.renter, room, t0 + 10 * DAY, 1)
            env.api.cancel(env.renter, booking)  # the whole price and deposit: the renter's credit
        owed = {token: env.api.credits(env.renter.address, token) for token in (ETH, usd)}
        assert owed == {ETH: 10**16 + 10**17, usd: 10**16 + 10**17}
        _rotate(env, env.renter.address, new_key.address)
        moved = env.w3.eth.get_logs(
            {"address": env.exchange.address, "topics": [env.exchange.events.CreditMoved().topic]}
        )
        events = [env.exchange.events.CreditMoved().process_log(log)["args"] for log in moved[-2:]]
        assert [(e["from"], e["to"], e["token"], e["amount"]) for e in events] == [
            (env.renter.address, new_key.address, token, owed[token]) for token in (ETH, usd)
        ]
        for token in (ETH, usd):
            assert env.api.credits(env.renter.address, token) == 0
            raises(
                ExchangeNothingToWithdraw, lambda token=token: env.send(env.renter, env.fns.withdraw(token))
            )
            assert env.api.withdraw(new_key, token).amount == owed[token]
    finally:
        env.control.revert(snapshot)


def test_a_key_that_lost_its_membership_and_joins_again_is_paid_its_own_and_not_the_old_membership_s(
    env: Env, accounts: list[NodeSigner]
) -> None:
    """A key marked by a rotation is credited, after a registry lookup, only what the membership it holds
    earns."""
    new_key = accounts[6]
    snapshot = env.control.snapshot()
    try:
        t0 = env.t0()
        earned = 10**16 - 10**16 * 500 // 10_000
        old_room = env.create()
        old_booking = env.book(env.renter, old_room, t0 + DAY, 1)
        _rotate(env, env.lister.address, new_key.address)
        env.send(env.admin, env.registry.functions.setCitizen(env.lister.address, True))  # a new membership
        new_room = env.create()  # the old key lists again, as a citizen
        assert env.api.get_listing(new_room).membership != env.api.get_listing(old_room).membership
        new_booking = env.book(env.renter, new_room, t0 + DAY, 1)
        env.control.increase_time(t0 + 2 * DAY - env.control.time())
        env.api.settle(env.stranger, old_booking)  # earned by the old membership: its holder now
        env.api.settle(env.stranger, new_booking)  # earned by the key's new membership: the key
        assert env.api.credits(new_key.address) == earned
        assert env.api.credits(env.lister.address) == earned
        assert env.api.withdraw(env.lister).amount == earned
        assert env.api.credits(env.lister.address) == 0
        assert env.api.withdraw(new_key).amount == earned
    finally:
        env.control.revert(snapshot)


def test_the_dao_allows_at_most_sixteen_tokens_ever(env: Env) -> None:
    """A rotation moves the old key's credit in every token ever allowed: their number is bounded."""
    snapshot = env.control.snapshot()
    try:
        allow = env.sfns.setTokenAllowed
        env.send(env.admin, allow(env.usd.address, False))
        env.send(env.admin, allow(env.usd.address, True))  # allowed again: still one token
        extra = [Web3.to_checksum_address(f"0x{index:040x}") for index in range(0x1000, 0x100F)]
        for token in extra:  # 15 more: 16 in all
            env.send(env.admin, allow(token, True))
        env.send(env.admin, allow(extra[0], False))
        raises(
            ExchangeTooManyTokens,
            lambda: env.send(env.admin, allow(Web3.to_checksum_address(f"0x{0x2000:040x}"), True)),
            max=16,
        )
        env.send(env.admin, allow(extra[0], True))  # ever allowed: allowed again
        assert env.api.is_token_allowed(extra[0])
    finally:
        env.control.revert(snapshot)


def test_non_citizen_listers_keep_address_keys_and_a_revoked_membership_stops_bookings(
    env: Env, accounts: list[NodeSigner]
) -> None:
    city = accounts[6]
    snapshot = env.control.snapshot()
    try:
        env.send(env.admin, env.fns.grantRole(ROLE["LISTER_ROLE"], city.address))
        t0 = env.t0()
        hall = env.create(city, kind=int(Kind.SPACE))
        assert env.api.get_listing(hall).membership == 0
        booking = env.book(env.renter, hall, t0, 1)
        env.api.cancel(city, booking)
        room = env.create()
        env.send(env.admin, env.registry.functions.setCitizen(env.lister.address, False))  # revoked
        raises(ExchangeNotEligibleLister, lambda: env.book(env.renter, room, t0, 1))
        env.send(env.admin, env.registry.functions.setCitizen(env.lister.address, True))  # a new membership
        raises(ExchangeNotEligibleLister, lambda: env.book(env.renter, room, t0, 1))  # the old one stays dead
    finally:
        env.control.revert(snapshot)


def test_dao_reclaims_what_is_owed_to_a_revoked_membership_and_nobody_else_can(
    env: Env, accounts: list[NodeSigner], token: str
) -> None:
    """No key can withdraw a revoked membership's credit: only the DAO pays it out, to whom the vote says."""
    former_resident = accounts[8]
    snapshot = env.control.snapshot()
    try:
        t0 = env.t0()
        room = env.create(token=token)
        settled = env.book(env.renter, room, t0, 1)
        env.control.increase_time(t0 + DAY + CLAIM_WINDOW - env.control.time())
        env.api.settle(env.stranger, settled)
        membership = env.api.get_listing(room).membership
        earned = 10**16 - 10**16 * 500 // 10_000
        reclaim = env.fns.reclaimRevokedCredit
        raises(
            ExchangeMembershipLive,
            lambda: env.send(env.admin, reclaim(membership, token, former_resident.address)),
        )
        env.send(env.admin, env.registry.functions.setCitizen(env.lister.address, False))  # revoked
        raises(ExchangeNothingToWithdraw, lambda: env.send(env.lister, env.fns.withdraw(token)))
        raises(
            AccessControlUnauthorizedAccount,
            lambda: env.send(env.stranger, reclaim(membership, token, env.stranger.address)),
        )
        raises(ExchangeZeroAddress, lambda: env.send(env.admin, reclaim(membership, token, ETH)))
        other = str(env.usd.address) if token == ETH else ETH
        raises(
            ExchangeNoRevokedCredit,
            lambda: env.send(env.admin, reclaim(membership, other, env.admin.address)),
        )
        before = env.api.holdings(token)
        record = env.send(env.admin, reclaim(membership, token, former_resident.address))
        event = record.event("RevokedCreditReclaimed")
        assert (event["membership"], event["to"], event["amount"]) == (
            membership,
            former_resident.address,
            earned,
        )
        assert env.api.holdings(token) == before - earned
        assert env.holdings(token) == env.owed(token)
        raises(
            ExchangeNoRevokedCredit,
            lambda: env.send(env.admin, reclaim(membership, token, env.admin.address)),
        )
        action = env.api.reclaim_revoked_credit_action(membership, token, former_resident.address)
        assert "revoked membership" in action.description
        assert action.all_grantees() == (former_resident.address,)  # the recipient is pinned, not the id
    finally:
        env.control.revert(snapshot)


# -- the calendar across 256-slot words (issue 9, item 9) --------------------------------------------------


def _hourly(env: Env, slots: int = 1_600) -> tuple[int, int]:
    """An hourly listing with ``slots`` slots (more than six 256-slot words) and its first slot's time."""
    start = (env.control.time() // HOUR + 1) * HOUR
    listing = env.create(
        kind=int(Kind.SPACE), unit=int(Unit.HOUR), availableFrom=start, availableUntil=start + slots * HOUR,
        maxUnits=600, deposit=0, price=10**12,
    )  # fmt: skip
    return listing, start


def test_calendar_refuses_overlaps_in_every_word_of_a_range(env: Env) -> None:
    listing, start = _hourly(env)

    def at(slot: int) -> int:
        return start + slot * HOUR

    env.book(env.renter, listing, at(250), 11)  # slots 250-260: words 0 and 1
    env.book(env.renter, listing, at(700), 5)  # slots 700-704: wholly in word 2
    env.book(env.renter, listing, at(1_020), 1)  # slot 1020: word 3
    # overlaps found in the second word of a crossing range, and in a range wholly past word 0
    raises(ExchangeSlotTaken, lambda: env.book(env.other, listing, at(258), 10), slot=258)
    raises(ExchangeSlotTaken, lambda: env.book(env.other, listing, at(256), 1), slot=256)
    raises(ExchangeSlotTaken, lambda: env.book(env.other, listing, at(690), 20), slot=700)
    raises(ExchangeSlotTaken, lambda: env.book(env.other, listing, at(704), 1), slot=704)
    # a range over three words (500-1030) whose only clash is in its last word
    raises(ExchangeSlotTaken, lambda: env.book(env.other, listing, at(705), 316), slot=1_020)
    raises(ExchangeSlotTaken, lambda: env.book(env.other, listing, at(240), 520), slot=250)
    assert call(env.lens.functions.firstClash(listing, at(705), 316)) == [True, 1_020]
    assert call(env.lens.functions.firstClash(listing, at(261), 439)) == [False, 0]
    assert not env.api.is_available(listing, at(600), 600)
    assert env.api.is_available(listing, at(261), 439)
    assert env.book(env.other, listing, at(261), 439) > 0  # the gap between is free, across words 1 and 2


def test_cancel_frees_every_word_of_a_range(env: Env) -> None:
    listing, start = _hourly(env)
    spans = [(250, 11), (500, 600), (1_500, 100)]  # 2 words, 3 words (1-4: slots 500-1099), 1 word (5-6)
    bookings = [env.book(env.renter, listing, start + first * HOUR, count) for first, count in spans]
    for first, count in spans:
        for slot in (first, first + count - 1):
            raises(
                ExchangeSlotTaken, lambda s=slot: env.book(env.other, listing, start + s * HOUR, 1), slot=slot
            )
    for booking in bookings:
        env.api.cancel(env.renter, booking)
    assert not env.api.calendar(listing, start=start + 240 * HOUR, end=start + 272 * HOUR).taken_slots
    assert env.api.calendar(listing, start=start + 1_000 * HOUR, end=start + 1_100 * HOUR).all_free
    for first, count in spans:  # every slot of every word is bookable again, at both ends of each range
        for slot in (first, first + count - 1):
            assert env.book(env.other, listing, start + slot * HOUR, 1) > 0
    for word in range(7):
        expected = 0
        for first, count in spans:
            for slot in (first, first + count - 1):
                if slot >> 8 == word:
                    expected |= 1 << (slot & 0xFF)
        assert call(env.fns.calendarWord(listing, word)) == expected, word


def test_amounts_above_the_packed_width_are_refused(env: Env) -> None:
    """Listings store price and deposit in 96 bits each: a larger amount is refused by name."""
    too_big = 2**96
    raises(
        ExchangeAmountTooLarge,
        lambda: env.send(env.lister, env.fns.createListing(env.params(price=too_big))),
        amount=too_big,
        max=too_big - 1,
    )
    raises(
        ExchangeAmountTooLarge,
        lambda: env.send(env.lister, env.fns.createListing(env.params(deposit=too_big))),
        amount=too_big,
    )
    room = env.create()
    raises(
        ExchangeAmountTooLarge,
        lambda: env.send(env.lister, env.fns.updateTerms(room, too_big, 0, 0, 0)),
        amount=too_big,
    )
    far = 2**38 + 1  # a window ending past the packed times' range
    raises(
        ExchangeInvalidWindow,
        lambda: env.send(env.lister, env.fns.createListing(env.params(availableUntil=far))),
        availableUntil=far,
    )


def test_a_revoked_renters_returned_deposit_goes_to_its_membership_credit_for_the_dao(
    env: Env, accounts: list[NodeSigner]
) -> None:
    """A deposit settle returned to a renter whose membership was then revoked: no key can pull it, anyone
    moves it into the membership's credit, and only the DAO pays it out (reclaimRevokedCredit)."""
    snapshot = env.control.snapshot()
    try:
        t0 = env.t0()
        room = env.create()
        booking = env.book(env.renter, room, t0, 1)
        env.control.increase_time(t0 + DAY + CLAIM_WINDOW - env.control.time())
        env.api.settle(env.stranger, booking)
        membership = env.api.get_booking(booking).renter_membership
        assert membership != 0
        raises(ExchangeNotRenter, lambda: env.send(env.stranger, env.fns.withdrawDeposit(booking)))
        env.send(env.admin, env.registry.functions.setCitizen(env.renter.address, False))  # revoked
        renter_before = env.w3.eth.get_balance(env.renter.address)
        moved = env.send(env.stranger, env.fns.withdrawDeposit(booking))  # anyone; nobody is paid
        assert env.w3.eth.get_balance(env.renter.address) == renter_before
        assert moved.event("MembershipCredited")["amount"] == 10**17
        assert env.api.get_booking(booking).deposit_status is DepositStatus.RELEASED
        assert env.holdings(ETH) == env.owed(ETH)
        reclaimed = env.send(
            env.admin, env.fns.reclaimRevokedCredit(membership, ETH, accounts[8].address)
        ).event("RevokedCreditReclaimed")
        assert reclaimed["amount"] == 10**17
    finally:
        env.control.revert(snapshot)
