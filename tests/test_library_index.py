"""The library's own lists read the event index when given one, and give the same records as the raw path;
without one they read logs in ranges that adapt to a provider's caps (civicdao.logs), one home for it."""

from __future__ import annotations

from typing import Any

import pytest
from index_scenario import Scenario, capped_web3
from web3 import Web3

from civicdao.chain import ChainControl, LocalChain
from civicdao.contracts import bind
from civicdao.deploy import Suite
from civicdao.errors import ConfigError
from civicdao.exchange import Exchange, Kind, ListingStatus
from civicdao.governance import Governance
from civicdao.index import IndexMismatchError, IndexReader
from civicdao.logs import LogReadError, RangeWindow, event_logs, get_logs
from civicdao.treasury import Treasury

CAP = 10


def capped(chain: LocalChain, asked: list[tuple[int, int]]) -> Web3:
    return capped_web3(chain, CAP, "eth_getLogs block range too large, range: {high}, max: 10", asked)


def start_block(suite: Suite) -> int:
    return min(entry.block for entry in suite.manifest.contracts.values())


# -- the index path gives the raw path's records ---------------------------------------------------------


def test_governance_lists_from_the_index_equal_the_chains(
    suite: Suite, scenario: Scenario, reader: IndexReader
) -> None:
    raw = Governance.from_suite(suite)
    indexed = Governance.from_suite(suite, index=reader)
    from_chain = raw.proposals()
    assert len(from_chain) == 3
    assert indexed.proposals() == from_chain
    for proposal_id in scenario.proposals.values():
        assert indexed.get(proposal_id) == raw.get(proposal_id)
    with pytest.raises(ConfigError, match="sync the index"):
        indexed.get(12345)


def test_exchange_lists_from_the_index_equal_the_chains(
    suite: Suite, scenario: Scenario, reader: IndexReader
) -> None:
    raw = Exchange.from_suite(suite)
    indexed = Exchange.from_suite(suite, index=reader)
    room, tool = scenario.listings
    renter = scenario.citizens[3].address
    for kwargs in ({}, {"listing_id": room}, {"listing_id": tool}, {"renter": renter}):
        assert indexed.bookings(**kwargs) == raw.bookings(**kwargs)  # type: ignore[arg-type]
    assert [b.booking_id for b in indexed.bookings()] == sorted(scenario.bookings.values())
    assert [b.booking_id for b in indexed.bookings(renter=renter)] == [
        scenario.bookings["dropped"],
        scenario.bookings["tool"],
    ]
    later = reader.contract_events(suite.exchange.address, ["Booked"])[-1].block_number
    assert indexed.bookings(from_block=later) == raw.bookings(from_block=later)
    assert len(indexed.bookings(from_block=later)) == 1
    searches: list[dict[str, Any]] = [
        {},
        {"kind": Kind.TOOL},
        {"status": ListingStatus.OPEN},
        {"lister": scenario.citizens[1].address},
    ]
    for search in searches:
        assert indexed.search(**search) == raw.search(**search)
    assert [listing.listing_id for listing in indexed.search(kind=Kind.TOOL)] == [tool]


def test_treasury_report_and_grants_from_the_index_equal_the_chains(
    w3: Web3, suite: Suite, scenario: Scenario, reader: IndexReader
) -> None:
    raw = Treasury.from_suite(suite)
    indexed = Treasury.from_suite(suite, index=reader)
    report = indexed.treasury_report()
    assert report == raw.treasury_report()
    assert len(report.inflows) >= 4 and report.outflows and report.grants and report.rounds
    assert report.to_block == reader.as_of_block == w3.eth.block_number
    grant_created = reader.contract_events(suite.treasury.address, ["StreamGrantCreated"])[0].block_number
    assert indexed.treasury_report(from_block=grant_created) == raw.treasury_report(from_block=grant_created)
    assert indexed.grants() == raw.grants()
    assert [g.grant_id for g in indexed.grants()] == [scenario.grant_id]


def test_an_index_behind_the_chain_or_of_another_deployment_is_refused(
    w3: Web3, suite: Suite, scenario: Scenario, reader: IndexReader, control: ChainControl
) -> None:
    control.mine()
    treasury = Treasury.from_suite(suite, index=reader)
    with pytest.raises(ConfigError, match="sync it first"):
        treasury.treasury_report(to_block=w3.eth.block_number)
    elsewhere = Web3.to_checksum_address("0x" + "12" * 20)
    stranger = Treasury(w3, bind(w3, "PublicTreasury", elsewhere), index=reader)
    with pytest.raises(IndexMismatchError, match="does not cover"):
        stranger.treasury_report()


# -- the raw path behind a provider that caps eth_getLogs ------------------------------------------------


def test_the_raw_lists_work_behind_a_provider_capping_log_ranges(
    chain: LocalChain, suite: Suite, scenario: Scenario
) -> None:
    asked: list[tuple[int, int]] = []
    w3c = capped(chain, asked)
    first = start_block(suite)
    governance = Governance.at(w3c, suite.governor.address, from_block=first)
    assert governance.proposals() == Governance.from_suite(suite).proposals()
    proposal_id = scenario.proposals["defeated"]
    assert governance.get(proposal_id) == Governance.from_suite(suite).get(proposal_id)
    exchange = Exchange.at(w3c, suite.exchange.address)
    assert exchange.bookings() == Exchange.from_suite(suite).bookings()
    assert exchange.search(kind=Kind.ROOM_HOUSE) == Exchange.from_suite(suite).search(kind=Kind.ROOM_HOUSE)
    treasury = Treasury.at(w3c, suite.treasury.address)
    assert treasury.treasury_report() == Treasury.from_suite(suite).treasury_report()
    refused = [r for r in asked if r[1] - r[0] + 1 > CAP]
    assert refused, "the scans asked for more than the cap at first"
    assert all(h - lo + 1 <= CAP for lo, h in asked if (lo, h) not in refused)
    assert chain.w3.eth.block_number - first > 3 * CAP  # so every scan needed several ranges


def test_get_logs_takes_the_range_a_provider_suggests(
    chain: LocalChain, suite: Suite, scenario: Scenario
) -> None:
    asked: list[tuple[int, int]] = []
    message = "Log response size exceeded. this block range should work: [{low:#x}, {high:#x}]"
    w3c = capped_web3(chain, 7, message, asked)
    address = suite.treasury.address
    logs = get_logs(w3c, address, None, 0, "latest", window=RangeWindow(1_000))
    assert logs == list(chain.w3.eth.get_logs({"address": address, "fromBlock": 0, "toBlock": "latest"}))
    assert asked[1][1] - asked[1][0] + 1 == 7  # straight to the suggested width after one refusal
    refused = [r for r in asked if r[1] - r[0] + 1 > 7]
    assert len(refused) <= len(asked) // 8 + 1  # it tries wider again only after 8 accepted ranges


def test_newest_first_ranges_cover_the_same_logs(chain: LocalChain, suite: Suite, scenario: Scenario) -> None:
    from civicdao.logs import iter_logs

    w3c = capped(chain, [])
    parts = list(iter_logs(w3c, suite.exchange.address, None, 0, newest_first=True, window=RangeWindow(64)))
    newest_first = [log for part in reversed(parts) for log in part]
    assert newest_first == get_logs(chain.w3, suite.exchange.address)
    booked = event_logs(suite.exchange, "Booked")
    assert sorted(int(e["args"]["bookingId"]) for e in booked) == sorted(scenario.bookings.values())


def test_several_events_are_read_in_one_pass_in_chain_order(
    chain: LocalChain, suite: Suite, scenario: Scenario
) -> None:
    asked: list[tuple[int, int]] = []
    w3c = capped(chain, asked)
    exchange = w3c.eth.contract(address=suite.exchange.address, abi=suite.exchange.abi)
    both = event_logs(exchange, ["Booked", "BookingCancelled"])
    one_pass = len(asked)
    booked = event_logs(exchange, "Booked")
    assert len(asked) == 2 * one_pass  # the same ranges once for both events, not once per event
    assert [e for e in both if e["event"] == "Booked"] == booked
    assert {e["event"] for e in both} == {"Booked", "BookingCancelled"}
    order = [(int(e["blockNumber"]), int(e["logIndex"])) for e in both]
    assert order == sorted(order)


def test_a_provider_refusing_even_one_block_is_a_clear_error(chain: LocalChain, suite: Suite) -> None:
    w3c = capped_web3(chain, 0, "block range too large", [])
    with pytest.raises(LogReadError, match="even for block"):
        Exchange.at(w3c, suite.exchange.address).bookings()
