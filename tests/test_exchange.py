"""civicdao.exchange on the deployed pilot suite: list, book, cancel, settle, claims, search, calendar,
ERC-20 payments allowed by a real DAO proposal, fees arriving at the PublicTreasury, and the pause rules."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from civicdao._custom_errors import (
    AccessControlUnauthorizedAccount,
    EnforcedPause,
    ExchangeNothingToWithdraw,
    ExchangeNotLister,
    ExchangeNotRenter,
    ExchangeStartInPast,
    ExchangeTermsChanged,
    ExchangeUnknownListing,
)
from civicdao.accounts import LocalSigner, NodeSigner, Signer
from civicdao.chain import ChainControl
from civicdao.citizens import Citizens
from civicdao.config import load_config
from civicdao.contracts import deploy_contract
from civicdao.deploy import Suite
from civicdao.errors import CivicDAOError, InvalidAddressError, InvalidAmountError
from civicdao.exchange import (
    RESOLVER_ROLE,
    BookingStatus,
    CancellationPolicy,
    DepositStatus,
    Exchange,
    ExchangeInputError,
    Kind,
    Listing,
    ListingSpec,
    ListingStatus,
    SlotsTakenError,
    Unit,
)
from civicdao.governance import Action, Governance
from civicdao.local import pass_proposal
from civicdao.tokens import ERC20_ABI, ETH
from civicdao.tx import TxRecord, call, transact

HOUR = 3_600
DAY = 24 * HOUR
PILOT = load_config("pilot")
ROOT = Path(__file__).resolve().parents[1]


# -- fixtures and helpers --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def citizens(
    suite: Suite, w3: Web3, control: ChainControl, deployer: NodeSigner, accounts: list[NodeSigner]
) -> Iterator[list[NodeSigner]]:
    """Accounts 1-6 registered as citizens (votes active); undone when the module ends."""
    snapshot = control.snapshot()
    for index, account in enumerate(accounts[1:7], start=1):
        if not call(suite.registry.functions.isCitizen(account.address)):
            credential = Web3.keccak(text=f"exchange-test-resident-{index}")
            transact(w3, deployer, suite.registry.functions.register(account.address, credential))
    control.increase_time(1)  # votes count from the next second
    yield accounts[1:7]
    control.revert(snapshot)


@pytest.fixture(scope="module")
def ex(suite: Suite) -> Exchange:
    return Exchange.from_suite(suite)


def dao_execute(
    control: ChainControl, suite: Suite, voters: Sequence[Signer], actions: Sequence[Action], description: str
) -> TxRecord:
    """Pass and execute a proposal through the real governor and timelock (all ``voters`` vote for)."""
    governance = Governance.from_suite(suite)
    executed = pass_proposal(governance, control, voters[0], voters, actions, description).execution
    return executed


def room_spec(now: int, **changes: Any) -> ListingSpec:
    """A room priced per night from the next whole day, for 30 days."""
    start = (now // DAY + 1) * DAY
    values: dict[str, Any] = {
        "kind": Kind.ROOM_HOUSE,
        "unit": Unit.DAY,
        "price": 10**16,
        "deposit": 10**17,
        "available_from": start,
        "available_until": start + 30 * DAY,
        "max_units": 7,
        "metadata_uri": "ipfs://room-by-the-park",
        "policy": CancellationPolicy(free_cancel_hours=48, late_refund_bps=5_000),
    }
    values.update(changes)
    return ListingSpec(**values)


def treasury_inflow(suite: Suite, token: str, kind: Kind) -> int:
    stats = call(suite.treasury.functions.tokenStats(token))
    return int(stats[3][int(kind)])


def gas_cost(w3: Web3, record: TxRecord) -> int:
    receipt = w3.eth.get_transaction_receipt(record.tx_hash)  # type: ignore[arg-type]
    return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])


# -- the user story --------------------------------------------------------------------------------------


@pytest.mark.ganache
def test_book_three_nights_settle_pays_lister_renter_and_treasury(
    w3: Web3, control: ChainControl, suite: Suite, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    lister, renter = citizens[0], citizens[1]
    fee_before = treasury_inflow(suite, ETH, Kind.ROOM_HOUSE)
    listed = ex.list(lister, room_spec(control.time()))
    listing = ex.get_listing(listed.listing_id)
    made = ex.book(renter, listed.listing_id, start=listing.available_from + DAY, units=3)
    assert (made.price, made.deposit) == (3 * 10**16, 10**17)
    assert made.fee == 3 * 10**16 * 300 // 10_000  # pilot: 3 % on housing

    claim_window = ex.windows().claim
    control.increase_time(made.end + claim_window - control.time())
    settled = ex.settle(renter, made.booking_id)

    assert settled.price_settled and settled.deposit_released
    assert ex.credits(lister.address) == made.price - made.fee == settled.to_lister
    # the deposit stays in the booking until the renter pulls it; the fee waits for a flush
    assert settled.deposit_to_renter == made.deposit and ex.credits(renter.address) == 0
    assert ex.get_booking(made.booking_id).deposit_status is DepositStatus.REFUNDABLE
    assert ex.pending_fees(ETH, Kind.ROOM_HOUSE) == made.fee
    assert ex.flush_fees(lister, ETH, Kind.ROOM_HOUSE).amount == made.fee
    assert treasury_inflow(suite, ETH, Kind.ROOM_HOUSE) - fee_before == made.fee
    assert ex.total_owed() == ex.holdings() == made.price - made.fee + made.deposit
    assert ex.withdraw_deposit(renter, made.booking_id).amount == made.deposit
    assert ex.get_booking(made.booking_id).deposit_status is DepositStatus.RELEASED

    before = w3.eth.get_balance(lister.address)
    withdrawal = ex.withdraw(lister)
    assert withdrawal.amount == made.price - made.fee
    assert w3.eth.get_balance(lister.address) == before + withdrawal.amount - gas_cost(w3, withdrawal.tx)
    assert ex.get_booking(made.booking_id).status is BookingStatus.SETTLED


# -- enums and input checks ------------------------------------------------------------------------------


def _solidity_enum(name: str) -> list[str]:
    source = (ROOT / "contracts" / "interfaces" / "types" / "ExchangeTypes.sol").read_text()
    match = re.search(r"^enum " + name + r" \{([^}]*)\}", source, re.MULTILINE)
    assert match is not None
    return [member.strip() for member in match.group(1).split(",") if member.strip()]


@pytest.mark.parametrize(
    ("python", "solidity"),
    [(Kind, "Kind"), (Unit, "Unit"), (BookingStatus, "BookingStatus"), (DepositStatus, "DepositStatus")],
)
def test_enums_match_the_solidity_order(python: Any, solidity: str) -> None:
    assert [member.name for member in python] == _solidity_enum(solidity)
    assert [member.value for member in python] == list(range(len(python)))


def test_kind_parse_accepts_names_and_numbers_and_rejects_unknown() -> None:
    assert Kind.parse("room-house") is Kind.ROOM_HOUSE
    assert Kind.parse("Tool") is Kind.TOOL
    assert Kind.parse(4) is Kind.NATURE
    assert Unit.parse("day") is Unit.DAY
    with pytest.raises(ExchangeInputError, match=r"unknown kind 'castle'.*room_house"):
        Kind.parse("castle")
    with pytest.raises(ExchangeInputError, match="unknown unit 7"):
        Unit.parse(7)
    with pytest.raises(ExchangeInputError):
        Kind.parse(True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"price": -1}, InvalidAmountError, "price"),
        ({"deposit": 1.5}, InvalidAmountError, "deposit"),
        ({"kind": "castle"}, ExchangeInputError, "unknown kind"),
        ({"token": "0x1234"}, InvalidAddressError, "payment token"),
        ({"min_units": 0}, ExchangeInputError, "min_units"),
        ({"min_units": 3, "max_units": 2}, ExchangeInputError, "min_units"),
        ({"max_units": 1_025}, ExchangeInputError, "1024"),
        ({"available_until": 0}, ExchangeInputError, "window is empty"),
        ({"metadata_uri": "  "}, ExchangeInputError, "metadata_uri"),
        ({"stock": 3}, ExchangeInputError, "stock only applies"),
        ({"unit": Unit.ITEM, "deposit": 0}, ExchangeInputError, "stock of at least 1"),
        ({"unit": Unit.ITEM, "stock": 2}, ExchangeInputError, "no deposit"),
        ({"unit": Unit.ITEM, "stock": 2, "deposit": 0}, ExchangeInputError, "ROOM_HOUSE"),
        ({"residents_only": 1}, ExchangeInputError, "residents_only"),
    ],
)
def test_listing_spec_refuses_bad_input(
    changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as raised:
        room_spec(1_700_000_000, **changes)
    assert isinstance(raised.value, CivicDAOError) and isinstance(raised.value, ValueError)


def test_cancellation_policy_refuses_bps_above_100_percent() -> None:
    with pytest.raises(ExchangeInputError, match="late_refund_bps"):
        CancellationPolicy(late_refund_bps=10_001)
    with pytest.raises(ExchangeInputError, match="free_cancel_hours"):
        CancellationPolicy(free_cancel_hours=-1)


def test_list_refuses_non_spec_before_sending(w3: Web3, ex: Exchange, citizens: list[NodeSigner]) -> None:
    block = w3.eth.block_number
    with pytest.raises(ExchangeInputError, match="ListingSpec"):
        ex.list(citizens[0], {"kind": "room"})  # type: ignore[arg-type]
    with pytest.raises(ExchangeInputError, match="listing_id"):
        ex.get_listing(0)
    with pytest.raises(InvalidAddressError):
        ex.credits("nobody")
    assert w3.eth.block_number == block


def test_records_are_frozen(control: ChainControl, ex: Exchange, citizens: list[NodeSigner]) -> None:
    listed = ex.list(citizens[0], room_spec(control.time()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        listed.listing_id = 9  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ex.get_listing(listed.listing_id).price = 0  # type: ignore[misc]


# -- listing life ----------------------------------------------------------------------------------------


def test_list_then_get_listing_round_trips_the_spec(
    control: ChainControl, ex: Exchange, local_signers: list[LocalSigner], citizens: list[NodeSigner]
) -> None:
    signer = local_signers[3]  # a citizen signing locally, as a wallet would
    spec = room_spec(control.time(), kind="space", unit="hour", residents_only=True, min_units=2)
    listed = ex.list(signer, spec)
    listing = ex.get_listing(listed.listing_id)
    assert listing.lister == signer.address == listed.lister
    assert (listing.kind, listing.unit, listing.residents_only) == (Kind.SPACE, Unit.HOUR, True)
    assert (listing.price, listing.deposit, listing.policy) == (spec.price, spec.deposit, spec.policy)
    assert (listing.available_from, listing.available_until) == (spec.available_from, spec.available_until)
    assert (listing.min_units, listing.max_units, listing.metadata_uri) == (2, 7, spec.metadata_uri)
    assert listing.status is ListingStatus.OPEN
    assert listing.terms_version == 0
    assert listing.slot_count == 30 * 24
    assert ex.listing_count() == listed.listing_id
    assert Exchange.at(ex.w3, ex.address).get_listing(listed.listing_id) == listing


def test_update_terms_changes_only_what_is_given(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    lister = citizens[0]
    listed = ex.list(lister, room_spec(control.time()))
    updated = ex.update_terms(lister, listed.listing_id, price=2 * 10**16)
    assert (updated.listing_id, updated.price, updated.deposit, updated.terms_version) == (
        listed.listing_id, 2 * 10**16, 10**17, 1,
    )  # fmt: skip
    listing = ex.get_listing(listed.listing_id)
    assert (listing.price, listing.deposit) == (2 * 10**16, 10**17)
    assert listing.policy == CancellationPolicy(free_cancel_hours=48, late_refund_bps=5_000)
    ex.update_terms(lister, listed.listing_id, deposit=0, policy=CancellationPolicy(0, 10_000))
    listing = ex.get_listing(listed.listing_id)
    assert (listing.price, listing.deposit, listing.policy.late_refund_bps) == (2 * 10**16, 0, 10_000)
    assert ex.quote(listed.listing_id, 3).total == 6 * 10**16
    assert listing.terms_version == ex.quote(listed.listing_id, 3).terms_version == 2  # one per update


def test_pause_listing_and_close_change_status_and_search(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    lister = citizens[0]
    listed = ex.list(lister, room_spec(control.time()))
    start = ex.get_listing(listed.listing_id).available_from
    paused = ex.pause_listing(lister, listed.listing_id)
    assert (paused.listing_id, paused.paused, paused.closed) == (listed.listing_id, True, False)
    assert ex.get_listing(listed.listing_id).status is ListingStatus.PAUSED
    assert not ex.is_available(listed.listing_id, start, 1)
    ex.pause_listing(lister, listed.listing_id, paused=False)
    assert ex.is_available(listed.listing_id, start, 1)
    assert ex.close(lister, listed.listing_id).closed
    assert ex.get_listing(listed.listing_id).status is ListingStatus.CLOSED
    assert listed.listing_id in [item.listing_id for item in ex.search(status="closed")]
    assert listed.listing_id not in [item.listing_id for item in ex.search(status=ListingStatus.OPEN)]


def test_search_filters_by_kind_price_status_token_and_lister(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    now = control.time()
    room = ex.list(citizens[0], room_spec(now, price=5 * 10**15)).listing_id
    drill = ex.list(citizens[1], room_spec(now, kind=Kind.TOOL, unit=Unit.HOUR, price=10**14)).listing_id
    saw = ex.list(citizens[1], room_spec(now, kind=Kind.TOOL, unit=Unit.HOUR, price=10**15)).listing_id
    ex.close(citizens[1], saw)

    def ids(**filters: Any) -> list[int]:
        return [listing.listing_id for listing in ex.search(**filters)]

    assert ids() == [room, drill, saw]
    assert ids(kind="tool") == [drill, saw]
    assert ids(kind=Kind.TOOL, status="open") == [drill]
    assert ids(max_price=10**15) == [drill, saw]
    assert ids(min_price=10**15, max_price=10**16) == [room, saw]
    assert ids(lister=citizens[1].address) == [drill, saw]
    assert ids(token=ETH, kind="room_house") == [room]
    assert ids(kind="nature") == []
    ex.update_terms(citizens[1], drill, price=10**17)  # search reads the current price, not the logged one
    assert ids(max_price=10**15) == [saw]
    with pytest.raises(ExchangeInputError, match="unknown listing status"):
        ex.search(status="gone")


# -- booking and the calendar ----------------------------------------------------------------------------


def test_book_raises_slots_taken_naming_the_clash_before_sending(
    w3: Web3, control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    lister, first, second = citizens[0], citizens[1], citizens[2]
    listing_id = ex.list(lister, room_spec(control.time())).listing_id
    day0 = ex.get_listing(listing_id).available_from
    ex.book(first, listing_id, start=day0 + 2 * DAY, units=2)  # slots 2 and 3
    block = w3.eth.block_number
    with pytest.raises(
        SlotsTakenError, match=r"2 requested slot\(s\) already booked: slot 2 .* slot 3"
    ) as raised:
        ex.book(second, listing_id, start=day0 + DAY, units=4)
    assert [slot.index for slot in raised.value.slots] == [2, 3]
    assert raised.value.slots[0].start == day0 + 2 * DAY
    assert raised.value.listing_id == listing_id
    assert w3.eth.block_number == block  # nothing was sent
    made = ex.book(second, listing_id, start=day0 + 4 * DAY, units=1)  # the next night is free
    assert made.start == day0 + 4 * DAY


def test_book_checks_alignment_window_and_units_before_sending(
    w3: Web3, control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    listing_id = ex.list(citizens[0], room_spec(control.time())).listing_id
    day0 = ex.get_listing(listing_id).available_from
    block = w3.eth.block_number
    with pytest.raises(ExchangeInputError, match="not on a slot boundary"):
        ex.book(citizens[1], listing_id, start=day0 + HOUR, units=1)
    with pytest.raises(ExchangeInputError, match="outside listing"):
        ex.book(citizens[1], listing_id, start=day0 + 28 * DAY, units=3)
    with pytest.raises(ExchangeInputError, match="1 to 7 day"):
        ex.book(citizens[1], listing_id, start=day0, units=8)
    with pytest.raises(ExchangeInputError, match="give a start time"):
        ex.book(citizens[1], listing_id, units=1)
    with pytest.raises(ExchangeUnknownListing):
        ex.book(citizens[1], 999, start=day0, units=1)
    assert w3.eth.block_number == block
    control.increase_time(day0 + DAY - control.time())
    with pytest.raises(ExchangeStartInPast):  # the contract's check, raised while estimating
        ex.book(citizens[1], listing_id, start=day0, units=1)


def test_calendar_shows_taken_slots_and_frees_them_on_cancel(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    lister, renter = citizens[0], citizens[1]
    listing_id = ex.list(lister, room_spec(control.time())).listing_id
    day0 = ex.get_listing(listing_id).available_from
    a = ex.book(renter, listing_id, start=day0 + 3 * DAY, units=3)
    ex.book(citizens[2], listing_id, start=day0 + 10 * DAY, units=1)
    whole = ex.calendar(listing_id)
    assert len(whole.slots) == 30
    assert [slot.index for slot in whole.taken_slots] == [3, 4, 5, 10]
    assert whole.slots[3].start == day0 + 3 * DAY and whole.slots[3].end == day0 + 4 * DAY
    week = ex.calendar(listing_id, start=day0 + 2 * DAY + 5, end=day0 + 6 * DAY)  # widened to whole slots
    assert [(slot.index, slot.free) for slot in week.slots] == [(2, True), (3, False), (4, False), (5, False)]
    ex.cancel(renter, a.booking_id)
    assert [slot.index for slot in ex.calendar(listing_id).taken_slots] == [10]
    assert ex.calendar(listing_id, start=day0, end=day0 + 5 * DAY).all_free
    with pytest.raises(ExchangeInputError, match="no whole slot"):
        ex.calendar(listing_id, start=day0 + 40 * DAY)


def test_calendar_of_an_hourly_listing_spans_many_words(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    spec = room_spec(control.time(), kind=Kind.SPACE, unit=Unit.HOUR, max_units=1_024, deposit=0)
    listing_id = ex.list(citizens[0], spec).listing_id
    start = ex.get_listing(listing_id).available_from
    ex.book(citizens[1], listing_id, start=start + 250 * HOUR, units=10)  # crosses the 256-slot word
    taken = ex.calendar(listing_id).taken_slots
    assert [slot.index for slot in taken] == list(range(250, 260))
    with pytest.raises(SlotsTakenError, match="slot 259"):
        ex.book(citizens[2], listing_id, start=start + 259 * HOUR, units=400)


def test_book_item_purchase_ignores_start_and_confirm_receipt_pays_seller(
    suite: Suite, control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    seller, buyer = citizens[0], citizens[1]
    spec = room_spec(
        control.time() - DAY, kind=Kind.TOOL, unit=Unit.ITEM, stock=3, deposit=0, price=10**15, max_units=2
    )
    listing_id = ex.list(seller, spec).listing_id
    fee_before = treasury_inflow(suite, ETH, Kind.TOOL)
    made = ex.book(buyer, listing_id, units=2)
    assert ex.get_listing(listing_id).stock == 1
    assert made.end - made.start == ex.windows().delivery  # the delivery window
    with pytest.raises(ExchangeInputError, match="has no calendar"):
        ex.calendar(listing_id)
    settled = ex.confirm_receipt(buyer, made.booking_id)
    assert settled.price_settled and not settled.deposit_released
    assert settled.fee == 2 * 10**15 * 100 // 10_000 == made.fee
    assert ex.credits(seller.address) == settled.to_lister == 2 * 10**15 - made.fee
    ex.flush_fees(buyer, ETH, Kind.TOOL)
    assert treasury_inflow(suite, ETH, Kind.TOOL) - fee_before == made.fee
    assert ex.set_stock(seller, listing_id, 9).stock == 9
    assert ex.get_listing(listing_id).stock == 9


def test_settle_item_after_the_delivery_window_without_confirmation(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    spec = room_spec(control.time() - DAY, kind=Kind.SKILL, unit=Unit.ITEM, stock=1, deposit=0)
    listing_id = ex.list(citizens[0], spec).listing_id
    made = ex.book(citizens[1], listing_id, units=1)
    control.increase_time(made.end - control.time())
    settled = ex.settle(citizens[4], made.booking_id)  # anyone may settle
    assert settled.price_settled and settled.to_lister == made.price - made.fee


# -- cancellations ---------------------------------------------------------------------------------------


def test_cancel_by_renter_with_notice_refunds_everything(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    listing_id = ex.list(citizens[0], room_spec(control.time())).listing_id
    day0 = ex.get_listing(listing_id).available_from
    made = ex.book(citizens[1], listing_id, start=day0 + 5 * DAY, units=2)
    cancelled = ex.cancel(citizens[1], made.booking_id)
    assert (cancelled.by, cancelled.refund_to_renter, cancelled.to_lister, cancelled.fee) == (
        citizens[1].address,
        made.price,
        0,
        0,
    )
    assert ex.credits(citizens[1].address) == made.price + made.deposit
    assert ex.get_booking(made.booking_id).status is BookingStatus.CANCELLED


def test_cancel_by_renter_late_splits_the_price_by_policy_and_pays_the_fee(
    suite: Suite, control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    listing_id = ex.list(citizens[0], room_spec(control.time())).listing_id
    day0 = ex.get_listing(listing_id).available_from
    made = ex.book(citizens[1], listing_id, start=day0 + DAY, units=2)
    control.increase_time(day0 - control.time())  # one day before the start: inside the 48 h notice
    fee_before = treasury_inflow(suite, ETH, Kind.ROOM_HOUSE)
    cancelled = ex.cancel(citizens[1], made.booking_id)
    kept = made.price - made.price * 5_000 // 10_000
    fee = kept * 300 // 10_000
    assert (cancelled.refund_to_renter, cancelled.to_lister, cancelled.fee) == (
        made.price - kept,
        kept - fee,
        fee,
    )
    assert ex.credits(citizens[1].address) == made.price - kept + made.deposit
    assert ex.credits(citizens[0].address) == kept - fee
    ex.flush_fees(citizens[1], ETH, Kind.ROOM_HOUSE)
    assert treasury_inflow(suite, ETH, Kind.ROOM_HOUSE) - fee_before == fee
    assert ex.total_owed() == ex.holdings()


def test_cancel_by_lister_refunds_in_full_and_a_stranger_is_refused(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    listing_id = ex.list(citizens[0], room_spec(control.time())).listing_id
    day0 = ex.get_listing(listing_id).available_from
    made = ex.book(citizens[1], listing_id, start=day0 + DAY, units=1)
    with pytest.raises(ExchangeNotRenter):
        ex.cancel(citizens[2], made.booking_id)
    control.increase_time(day0 - control.time())
    cancelled = ex.cancel(citizens[0], made.booking_id)
    assert cancelled.by == citizens[0].address and cancelled.refund_to_renter == made.price
    assert ex.credits(citizens[1].address) == made.price + made.deposit


# -- claims ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dao_ready(
    w3: Web3, control: ChainControl, suite: Suite, deployer: NodeSigner, citizens: list[NodeSigner]
) -> dict[str, Any]:
    """One real proposal: the DAO allows a MockERC20, appoints a resolver, and tunes fee, window and cap."""
    token, _ = deploy_contract(w3, deployer, "MockERC20", "Civic Euro", "CEUR", 6)
    resolver = citizens[5]
    ex = Exchange.from_suite(suite)
    executed = dao_execute(
        control,
        suite,
        citizens[:4],
        [
            ex.allow_token_action(token.address),
            ex.role_action(RESOLVER_ROLE, resolver.address),
            ex.fee_action("skill", 250),
            *ex.windows_actions(claim=3 * DAY),
            *ex.housing_actions(listing_cap=3),
        ],
        "Allow CEUR on the exchange, appoint a resolver, tune the skill fee, claim window and housing cap",
    )
    return {"token": token, "resolver": resolver, "executed": executed}


def _ended_booking_with_deposit(
    control: ChainControl, ex: Exchange, lister: Signer, renter: Signer
) -> tuple[int, int]:
    listing_id = ex.list(lister, room_spec(control.time())).listing_id
    day0 = ex.get_listing(listing_id).available_from
    made = ex.book(renter, listing_id, start=day0, units=2)
    control.increase_time(made.end - control.time())
    return made.booking_id, made.deposit


def test_claim_damage_accepted_splits_the_deposit(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    booking_id, deposit = _ended_booking_with_deposit(control, ex, citizens[0], citizens[1])
    raised = ex.claim_damage(citizens[0], booking_id, deposit // 4, evidence_uri="ipfs://broken-lamp")
    assert raised.respond_by == control.time() + ex.windows().dispute
    assert raised.evidence_uri == "ipfs://broken-lamp"
    assert ex.get_booking(booking_id).deposit_status is DepositStatus.CLAIMED
    settled = ex.settle(citizens[2], booking_id)  # the price is still paid out while the claim runs
    assert settled.price_settled and not settled.deposit_released
    released = ex.accept_claim(citizens[1], booking_id)
    assert (released.to_lister, released.to_renter) == (deposit // 4, deposit - deposit // 4)
    assert ex.credits(citizens[1].address) == deposit - deposit // 4
    with pytest.raises(InvalidAmountError):
        ex.claim_damage(citizens[0], booking_id, 0)


def test_claim_damage_disputed_then_resolved_by_the_dao_resolver(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner], dao_ready: dict[str, Any]
) -> None:
    booking_id, deposit = _ended_booking_with_deposit(control, ex, citizens[0], citizens[1])
    ex.claim_damage(citizens[0], booking_id, deposit)
    disputed = ex.dispute_claim(citizens[1], booking_id)
    assert ex.get_booking(booking_id).decide_by == disputed.resolve_by
    released = ex.resolve(dao_ready["resolver"], booking_id, deposit // 2)
    assert (released.to_lister, released.to_renter) == (deposit // 2, deposit - deposit // 2)
    assert ex.get_booking(booking_id).deposit_status is DepositStatus.RELEASED


def test_finalize_claim_unanswered_stands_and_unresolved_dispute_refunds(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    unanswered, deposit = _ended_booking_with_deposit(control, ex, citizens[0], citizens[1])
    ex.claim_damage(citizens[0], unanswered, deposit // 2)
    disputed, _ = _ended_booking_with_deposit(control, ex, citizens[2], citizens[3])
    ex.claim_damage(citizens[2], disputed, deposit)
    ex.dispute_claim(citizens[3], disputed)
    control.increase_time(2 * ex.windows().dispute + 1)
    stood = ex.finalize_claim(citizens[4], unanswered)
    assert (stood.to_lister, stood.to_renter) == (deposit // 2, deposit - deposit // 2)
    refunded = ex.finalize_claim(citizens[4], disputed)
    assert (refunded.to_lister, refunded.to_renter) == (0, deposit)


# -- ERC-20 payments, allowed by the DAO -----------------------------------------------------------------


def test_dao_actions_take_effect_only_through_a_proposal(
    suite: Suite, ex: Exchange, deployer: NodeSigner, citizens: list[NodeSigner], dao_ready: dict[str, Any]
) -> None:
    token = dao_ready["token"]
    assert ex.is_token_allowed(token.address)
    assert dao_ready["executed"].event("TokenAllowedSet")["allowed"] is True
    assert call(suite.exchange.functions.hasRole(RESOLVER_ROLE, dao_ready["resolver"].address))
    assert ex.fee_bps(Kind.SKILL) == 250
    assert ex.windows().claim == 3 * DAY
    assert call(suite.exchange.functions.housingListingCap()) == 3
    with pytest.raises(AccessControlUnauthorizedAccount):  # the deployer handed its admin role over
        transact(suite.w3, deployer, ex.settings.functions.setTokenAllowed(token.address, False))
    with pytest.raises(AccessControlUnauthorizedAccount):  # and a citizen alone cannot act for the DAO
        transact(suite.w3, citizens[0], ex.settings.functions.setFeeBps(0, 0))


def test_dao_action_builders_refuse_bad_input(ex: Exchange) -> None:
    with pytest.raises(ExchangeInputError, match="between 0 and 1000"):
        ex.fee_action(Kind.TOOL, 1_001)
    with pytest.raises(ExchangeInputError, match="unknown kind"):
        ex.fee_action("castle", 1)
    with pytest.raises(ExchangeInputError, match="ETH is always allowed"):
        ex.allow_token_action(ETH)
    with pytest.raises(ExchangeInputError, match="at least 3600"):
        ex.windows_actions(dispute=60)
    with pytest.raises(ExchangeInputError, match="at least one"):
        ex.windows_actions()
    with pytest.raises(ExchangeInputError, match="claim window"):
        ex.windows_actions(claim=91 * DAY)
    with pytest.raises(ExchangeInputError, match="role must be"):
        ex.role_action(b"\x00" * 32, ETH)
    with pytest.raises(InvalidAddressError):
        ex.sweep_surplus_action(ETH, "0xnope")
    with pytest.raises(ExchangeInputError, match="only a token's surplus"):
        ex.sweep_surplus_action(ETH, ex.address)
    action = ex.unpause_action()
    assert action.target == ex.address and action.value == 0 and "Unpause" in action.description


def test_dao_closes_a_listing_and_sweeps_tokens_sent_by_mistake(
    w3: Web3,
    suite: Suite,
    control: ChainControl,
    ex: Exchange,
    citizens: list[NodeSigner],
    dao_ready: dict[str, Any],
) -> None:
    token = dao_ready["token"]
    listing_id = ex.list(citizens[0], room_spec(control.time(), token=token.address)).listing_id
    transact(w3, citizens[1], token.functions.mint(citizens[1].address, 10**18))
    day0 = ex.get_listing(listing_id).available_from
    made = ex.book(citizens[1], listing_id, start=day0 + 5 * DAY, units=1)
    transact(w3, citizens[2], token.functions.mint(ex.address, 4_242))  # sent to the exchange by mistake
    dao_execute(
        control,
        suite,
        citizens[:4],
        [ex.close_listing_action(listing_id), ex.sweep_surplus_action(token.address, suite.treasury.address)],
        "Close a listing that breaks the rules; sweep mistaken CEUR to the treasury",
    )
    assert ex.get_listing(listing_id).status is ListingStatus.CLOSED
    assert call(token.functions.balanceOf(suite.treasury.address)) == 4_242
    assert ex.holdings(token.address) == ex.total_owed(token.address) == made.price + made.deposit
    assert ex.cancel(citizens[1], made.booking_id).refund_to_renter == made.price  # bookings stay valid


def test_book_in_erc20_approves_settles_and_pays_the_treasury(
    w3: Web3,
    suite: Suite,
    control: ChainControl,
    ex: Exchange,
    citizens: list[NodeSigner],
    dao_ready: dict[str, Any],
) -> None:
    token = dao_ready["token"]
    lister, renter = citizens[0], citizens[1]
    transact(w3, renter, token.functions.mint(renter.address, 10**9))
    spec = room_spec(control.time(), kind=Kind.SPACE, price=2 * 10**6, deposit=5 * 10**6, token=token.address)
    listing_id = ex.list(lister, spec).listing_id
    day0 = ex.get_listing(listing_id).available_from
    made = ex.book(renter, listing_id, start=day0, units=3)
    assert made.approval is not None  # the allowance fell short: approved first
    assert call(token.functions.balanceOf(renter.address)) == 10**9 - made.price - made.deposit
    assert ex.total_owed(token.address) == ex.holdings(token.address) == made.price + made.deposit
    control.increase_time(made.end + ex.windows().claim - control.time())
    ex.settle(renter, made.booking_id)
    assert made.fee == 6 * 10**6 * 200 // 10_000
    ex.flush_fees(renter, token.address, Kind.SPACE)
    assert treasury_inflow(suite, token.address, Kind.SPACE) == made.fee
    assert call(token.functions.balanceOf(suite.treasury.address)) == made.fee
    withdrawal = ex.withdraw_deposit(renter, made.booking_id)
    assert withdrawal.amount == made.deposit
    ex.withdraw(lister, token.address, to=citizens[5].address)
    assert call(token.functions.balanceOf(citizens[5].address)) == made.price - made.fee
    assert ex.total_owed(token.address) == ex.holdings(token.address) == 0


# -- terms cannot change under a renter ------------------------------------------------------------------


def _room_in(
    currency: str, control: ChainControl, ex: Exchange, citizens: list[NodeSigner], dao_ready: dict[str, Any]
) -> tuple[str, int, int]:
    """A room of citizens[0] priced in ETH or in the DAO's CEUR (citizens[1] gets plenty).

    Returns (token, listing id, first night)."""
    token = ETH
    if currency == "erc20":
        ceur = dao_ready["token"]
        token = str(ceur.address)
        transact(ex.w3, citizens[1], ceur.functions.mint(citizens[1].address, 10**24))
    listing_id = ex.list(citizens[0], room_spec(control.time(), token=token)).listing_id
    return token, listing_id, ex.get_listing(listing_id).available_from


@pytest.mark.parametrize("currency", ["eth", "erc20"])
def test_book_pinned_to_a_quote_is_refused_once_the_lister_changed_the_terms(
    w3: Web3,
    control: ChainControl,
    ex: Exchange,
    citizens: list[NodeSigner],
    dao_ready: dict[str, Any],
    currency: str,
) -> None:
    lister, renter = citizens[0], citizens[1]
    token, listing_id, day0 = _room_in(currency, control, ex, citizens, dao_ready)
    shown = ex.quote(listing_id, 2)  # what the renter's screen shows
    assert (shown.token, shown.terms_version, shown.total) == (token, 0, 2 * 10**16 + 10**17)
    ex.update_terms(lister, listing_id, price=5 * 10**16, deposit=3 * 10**17)
    assert ex.get_listing(listing_id).terms_version == 1

    block = w3.eth.block_number
    with pytest.raises(ExchangeTermsChanged) as raised:
        ex.book(renter, listing_id, start=day0, units=2, terms_version=shown.terms_version)
    assert (raised.value.listingId, raised.value.expected, raised.value.current) == (listing_id, 0, 1)
    assert w3.eth.block_number == block  # nothing mined: no approval of the new total, no booking

    made = ex.book(renter, listing_id, start=day0, units=2)  # on the terms it reads now
    assert (made.price, made.deposit) == (10**17, 3 * 10**17)


@pytest.mark.parametrize("currency", ["eth", "erc20"])
def test_book_refuses_terms_changed_between_its_read_and_its_send(
    w3: Web3,
    control: ChainControl,
    ex: Exchange,
    citizens: list[NodeSigner],
    dao_ready: dict[str, Any],
    currency: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lister, renter = citizens[0], citizens[1]
    token, listing_id, day0 = _room_in(currency, control, ex, citizens, dao_ready)
    if token != ETH:  # a standing allowance: the front-run amount would be within it
        erc20 = w3.eth.contract(address=Web3.to_checksum_address(token), abi=ERC20_ABI)
        transact(w3, renter, erc20.functions.approve(ex.address, 10**24))
    owed, holdings = ex.total_owed(token), ex.holdings(token)
    check_slots = Exchange._check_slots

    def front_run(self: Exchange, listing: Listing, start: int, units: int) -> None:
        check_slots(self, listing, start, units)  # book has read the listing; the lister's change lands now
        ex.update_terms(lister, listing.listing_id, price=listing.price * 5, deposit=listing.deposit * 3)

    monkeypatch.setattr(Exchange, "_check_slots", front_run)
    with pytest.raises(ExchangeTermsChanged) as raised:
        ex.book(renter, listing_id, start=day0, units=2)
    assert (raised.value.expected, raised.value.current) == (0, 1)
    assert (ex.total_owed(token), ex.holdings(token)) == (owed, holdings)  # nothing was taken
    monkeypatch.undo()

    made = ex.book(renter, listing_id, start=day0, units=2)  # the happy path: current terms, version 1
    assert (made.price, made.deposit) == (2 * 5 * 10**16, 3 * 10**17)
    assert ex.total_owed(token) == ex.holdings(token) == owed + made.price + made.deposit


# -- pause rules -----------------------------------------------------------------------------------------


def test_pause_by_guardian_stops_new_business_never_refunds_settlement_or_withdrawals(
    w3: Web3,
    suite: Suite,
    control: ChainControl,
    ex: Exchange,
    deployer: NodeSigner,
    citizens: list[NodeSigner],
) -> None:
    lister, renter = citizens[0], citizens[1]
    listing_id = ex.list(lister, room_spec(control.time())).listing_id
    day0 = ex.get_listing(listing_id).available_from
    future = ex.book(renter, listing_id, start=day0 + 5 * DAY, units=1)
    ended = ex.book(citizens[2], listing_id, start=day0, units=1)

    assert ex.pause(deployer).account == deployer.address  # the pilot deployer keeps GUARDIAN_ROLE
    assert ex.is_paused()
    with pytest.raises(EnforcedPause):
        ex.list(lister, room_spec(control.time()))
    with pytest.raises(EnforcedPause):
        ex.book(citizens[3], listing_id, start=day0 + 8 * DAY, units=1)
    assert not ex.is_available(listing_id, day0 + 8 * DAY, 1)

    ex.cancel(renter, future.booking_id)  # refunds go on
    control.increase_time(ended.end - control.time())
    ex.claim_damage(lister, ended.booking_id, 1)  # claims go on
    ex.settle(citizens[4], ended.booking_id)  # settlement goes on
    assert ex.withdraw(renter).amount == future.price + future.deposit  # withdrawals go on
    assert ex.withdraw(lister).amount == ended.price - ended.fee

    with pytest.raises(AccessControlUnauthorizedAccount):  # the guardian cannot unpause
        transact(w3, deployer, suite.exchange.functions.unpause())
    with pytest.raises(AccessControlUnauthorizedAccount):  # nor can a citizen pause
        ex.pause(citizens[3])
    dao_execute(control, suite, citizens[:4], [ex.unpause_action()], "Unpause the exchange")
    assert not ex.is_paused()
    assert ex.list(lister, room_spec(control.time())).listing_id == listing_id + 1


def test_bookings_query_by_listing_and_renter(
    control: ChainControl, ex: Exchange, citizens: list[NodeSigner]
) -> None:
    listing_id = ex.list(citizens[0], room_spec(control.time())).listing_id
    other_id = ex.list(citizens[0], room_spec(control.time())).listing_id
    day0 = ex.get_listing(listing_id).available_from
    a = ex.book(citizens[1], listing_id, start=day0, units=1)
    b = ex.book(citizens[2], listing_id, start=day0 + DAY, units=1)
    c = ex.book(citizens[1], other_id, start=day0, units=1)
    assert [x.booking_id for x in ex.bookings(listing_id=listing_id)] == [a.booking_id, b.booking_id]
    assert [x.booking_id for x in ex.bookings(renter=citizens[1].address)] == [a.booking_id, c.booking_id]
    assert ex.bookings(listing_id=other_id)[0].renter == citizens[1].address
    assert ex.booking_count() == c.booking_id


# -- key rotation on the real registry (issue 9, defect 4) --------------------------------------------------


def test_a_dao_key_rotation_moves_a_listers_listing_and_credits_to_the_new_key(
    w3: Web3,
    control: ChainControl,
    suite: Suite,
    ex: Exchange,
    citizens: list[NodeSigner],
    accounts: list[NodeSigner],
) -> None:
    """A citizen lister with credits loses their key; the DAO rotates the membership on the suite's own
    CitizenRegistry (a proposal executed by the Timelock, the registry's admin). The old key can no longer
    withdraw, change terms, cancel or close; the new key does all of it."""
    lister, renter, new_key = citizens[4], citizens[5], accounts[9]
    registry = Citizens.from_suite(suite)
    assert not registry.is_citizen(new_key.address)
    membership = registry.membership_of(lister.address)
    listing_id = ex.list(lister, room_spec(control.time())).listing_id
    day0 = ex.get_listing(listing_id).available_from
    settled = ex.book(renter, listing_id, start=day0, units=1)
    later = ex.book(renter, listing_id, start=day0 + 25 * DAY, units=2)  # still ahead after the vote
    control.increase_time(settled.end + ex.windows().claim - control.time())
    ex.settle(renter, settled.booking_id)
    earned = settled.price - settled.fee
    assert ex.credits(lister.address) == earned > 0

    rotate = registry.rotate_action(lister.address, new_key.address)
    dao_execute(control, suite, citizens[:4], [rotate], "The lister lost their phone: move the membership")
    assert registry.membership_of(new_key.address) == membership
    assert ex.get_listing(listing_id).membership == membership
    assert (ex.credits(lister.address), ex.credits(new_key.address)) == (0, earned)

    # the old key (a thief, say) gets nothing and manages nothing
    with pytest.raises(ExchangeNothingToWithdraw):
        ex.withdraw(lister)
    with pytest.raises(ExchangeNotLister) as not_lister:
        ex.update_terms(lister, listing_id, price=1)
    assert (not_lister.value.listingId, not_lister.value.account) == (listing_id, lister.address)
    with pytest.raises(ExchangeNotLister):
        transact(w3, lister, suite.exchange.functions.cancelByLister(later.booking_id))
    with pytest.raises(ExchangeNotRenter):  # the library routes a non-lister's cancel as the renter's
        ex.cancel(lister, later.booking_id)
    with pytest.raises(ExchangeNotLister):
        ex.close(lister, listing_id)
    assert ex.get_listing(listing_id).price == settled.price  # nothing changed

    # the new key holds all of it
    before = w3.eth.get_balance(new_key.address)
    withdrawal = ex.withdraw(new_key)
    assert (withdrawal.account, withdrawal.amount) == (new_key.address, earned)
    assert w3.eth.get_balance(new_key.address) == before + earned - gas_cost(w3, withdrawal.tx)
    ex.update_terms(new_key, listing_id, price=2 * settled.price)
    assert ex.get_listing(listing_id).price == 2 * settled.price
    renter_credit = ex.credits(renter.address)
    cancelled = ex.cancel(new_key, later.booking_id)  # as the lister: a full refund
    assert (cancelled.by, cancelled.refund_to_renter, cancelled.to_lister) == (
        new_key.address,
        later.price,
        0,
    )
    assert ex.credits(renter.address) == renter_credit + later.price + later.deposit
    ex.close(new_key, listing_id)
    assert ex.get_listing(listing_id).status is ListingStatus.CLOSED
    assert ex.total_owed() == ex.holdings()
