"""The event index: a sync from scratch agrees with the chain; it resumes, survives a reorg, adapts to a
provider's range caps and follows new blocks — on SQLite and on a real PostgreSQL server alike."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from index_scenario import ETHER, Scenario, capped_web3
from web3 import Web3

from civicdao.accounts import NodeSigner
from civicdao.chain import ChainControl, LocalChain
from civicdao.contracts import deploy_contract
from civicdao.deploy import Suite
from civicdao.exchange import BookingStatus, Exchange
from civicdao.governance import Governance, ProposalState
from civicdao.index import (
    Deployment,
    Indexer,
    IndexMismatchError,
    IndexReader,
    IndexStoreError,
    IndexSyncError,
    Store,
    is_range_error,
)
from civicdao.treasury import Treasury
from civicdao.tx import call, transact

_db_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A factory of empty index databases of one engine."""

    def new() -> str:
        if request.param == "sqlite":
            return str(tmp_path / f"index-{next(_db_names)}.sqlite")
        server = request.getfixturevalue("pg_server")
        name = f"civicdao_index_{next(_db_names)}"
        server.psql(f"CREATE DATABASE {name};")
        return str(server.get_uri(name))

    yield new


def answers(reader: IndexReader) -> dict[str, Any]:
    """Everything the lists show, to compare two indexes."""
    treasury = reader.treasury()
    return {
        "events": [e.to_json() for e in reader.events()],
        "proposals": [p.to_json() for p in reader.proposals(with_actions=True)],
        "citizens": [c.to_json() for c in reader.citizens(include_revoked=True)],
        "listings": [r.to_json() for r in reader.listings()],
        "bookings": [b.to_json() for b in reader.bookings()],
        "inflows": [r.to_json() for r in treasury.inflows],
        "outflows": [r.to_json() for r in treasury.outflows],
        "grants": [g.to_json() for g in treasury.grants],
        "matches": [m.to_json() for m in treasury.matches],
        "balances": treasury.balances,
        "as_of": reader.as_of_block,
    }


def fresh_answers(w3: Web3, suite: Suite, url: str) -> dict[str, Any]:
    with Store(url) as store:
        indexer = Indexer(w3, suite.manifest, store)
        indexer.sync()
        return answers(IndexReader(store, indexer.deployment))


def all_logs(w3: Web3, deployment: Deployment, to_block: int) -> list[Any]:
    return list(
        w3.eth.get_logs(
            {
                "address": sorted(deployment.contracts),
                "fromBlock": deployment.start_block,
                "toBlock": to_block,
            }  # type: ignore[typeddict-item]
        )
    )


# -- sync from scratch -------------------------------------------------------------------------------------


def test_sync_from_scratch_agrees_with_the_chain(
    w3: Web3, suite: Suite, scenario: Scenario, db_url: Any
) -> None:
    with Store(db_url()) as store:
        indexer = Indexer(w3, suite.manifest, store)
        report = indexer.sync()
        reader = IndexReader(store, indexer.deployment)
        head = w3.eth.block_number
        assert report.to_block == reader.as_of_block == head
        assert reader.as_of == w3.eth.get_block(head)["timestamp"]
        # every log of the suite's contracts is indexed, in chain order, once
        logs = all_logs(w3, indexer.deployment, head)
        events = reader.events()
        assert [(e.block_number, e.log_index) for e in events] == [
            (int(log["blockNumber"]), int(log["logIndex"])) for log in logs
        ]
        assert report.events == len(logs)

        governance = Governance.from_suite(suite)
        proposals = {int(p.id): p for p in reader.proposals(with_actions=True)}
        assert set(proposals) == set(scenario.proposals.values())
        for proposal_id, row in proposals.items():
            tally = call(suite.governor.functions.proposalVotes(proposal_id), block=head)
            assert (row.against_votes, row.for_votes, row.abstain_votes) == tuple(tally)
            state = ProposalState(int(call(suite.governor.functions.state(proposal_id), block=head)))
            assert row.state == state.name.lower()
            assert row.deadline == governance.deadline(proposal_id)
            assert row.snapshot == governance.snapshot(proposal_id)
            assert row.quorum == governance.quorum(row.snapshot)
            assert row.eta == int(call(suite.governor.functions.proposalEta(proposal_id)))
        assert {p.state for p in proposals.values()} == {"executed", "defeated", "active"}
        executed = proposals[scenario.proposals["executed"]]
        # Each power-granting call is preceded by the timelock's code pin of its grantee (issue 9, defect 2).
        calls = [a.function for a in executed.actions]
        assert [f for f in calls if f != "requireCodeHash"] == ["createStreamGrant", "openRound"]
        assert calls[calls.index("createStreamGrant") - 1] == "requireCodeHash"
        grant = next(a for a in executed.actions if a.function == "createStreamGrant")
        assert grant.args["amount"] == str(ETHER)
        assert executed.description.startswith("Trees for Elm Street\n\nAnd a QF round")

        citizens = reader.citizens()
        assert len(citizens) == int(call(suite.registry.functions.citizenCount())) == 5
        for row in citizens:
            assert row.votes == int(call(suite.registry.functions.getVotes(row.holder)))
            assert row.delegate == call(suite.registry.functions.delegates(row.holder))
        assert reader.delegation_graph() == [(scenario.citizens[4].address, scenario.citizens[0].address)]

        exchange = Exchange.from_suite(suite)
        listings = reader.listings()
        assert [r.listing_id for r in listings] == scenario.listings
        for row in listings:
            live = exchange.get_listing(row.listing_id)
            assert (row.lister, row.price, row.deposit, row.metadata_uri, row.status) == (
                live.lister, live.price, live.deposit, live.metadata_uri, live.status.name.lower(),
            )  # fmt: skip
        for row in reader.bookings():
            live_booking = exchange.get_booking(row.booking_id)
            assert (row.listing_id, row.renter, row.start, row.end, row.price) == (
                live_booking.listing_id, live_booking.renter, live_booking.start, live_booking.end,
                live_booking.price,
            )  # fmt: skip
            expected = {BookingStatus.ACTIVE: "active", BookingStatus.CANCELLED: "cancelled",
                        BookingStatus.SETTLED: "settled"}[live_booking.status]  # fmt: skip
            assert row.status == expected
        room = scenario.listings[0]
        assert [b.booking_id for b in reader.calendar(room)] == [scenario.bookings["kept"]]

        figures = reader.treasury()
        assert figures.balances[ETH] == w3.eth.get_balance(suite.treasury.address)
        (grant,) = figures.grants
        assert grant.claimed == scenario.extra["grant_claimed"]
        assert grant.vested == int(call(suite.treasury.functions.vestedAmount(grant.grant_id), block=head))


ETH = "0x0000000000000000000000000000000000000000"


def test_views_give_one_column_per_event_argument(w3: Web3, suite: Suite, scenario: Scenario) -> None:
    with Store(":memory:") as store:
        Indexer(w3, suite.manifest, store).sync()
        rows = store._query('SELECT "donor", "amount", "note" FROM "ev_PublicTreasury_DonationReceived"')
    assert [(donor, int(amount)) for donor, amount, _ in rows] == [
        (scenario.citizens[3].address, 2 * ETHER),
        (suite.manifest.deployer, ETHER),
    ]


def test_a_contract_new_to_the_index_is_decoded_from_its_abi_alone(
    w3: Web3, suite: Suite, deployer: NodeSigner
) -> None:
    token, _ = deploy_contract(w3, deployer, "MockERC20", "Civic Token", "CVT", 18)
    mint = transact(w3, deployer, token.functions.mint(suite.treasury.address, 5 * ETHER))
    contracts = {**Deployment.from_manifest(suite.manifest).contracts, token.address: "MockERC20"}
    deployment = Deployment(suite.chain_id, contracts, start_block=1)
    with Store(":memory:") as store:
        Indexer(w3, deployment, store).sync()
        (minted,) = store.events("MockERC20", ["Transfer"])
        view = store._query('SELECT "from", "to", "value" FROM "ev_MockERC20_Transfer"')
    assert minted.args == {"from": ETH, "to": suite.treasury.address, "value": str(5 * ETHER)}
    assert (minted.block_number, minted.tx_hash) == (mint.block_number, mint.tx_hash)
    assert view == [(ETH, suite.treasury.address, str(5 * ETHER))]


def test_a_database_of_another_deployment_is_refused(
    w3: Web3, suite: Suite, scenario: Scenario, tmp_path: Path
) -> None:
    url = str(tmp_path / "index.sqlite")
    with Store(url) as store:
        Indexer(w3, suite.manifest, store).sync()
    other = Deployment(chain_id=suite.chain_id, contracts={suite.treasury.address: "PublicTreasury"},
                       start_block=1)  # fmt: skip
    with Store(url) as store, pytest.raises(IndexMismatchError, match="another deployment"):
        Indexer(w3, other, store).sync()
    wrong_chain = Deployment(chain_id=1, contracts=dict(other.contracts), start_block=1)
    with Store(str(tmp_path / "new.sqlite")) as store, pytest.raises(IndexMismatchError, match="chain 1"):
        Indexer(w3, wrong_chain, store).sync()


# -- resume ------------------------------------------------------------------------------------------------


def test_an_interrupted_sync_resumes_to_the_same_answers(
    w3: Web3, suite: Suite, scenario: Scenario, db_url: Any
) -> None:
    url = db_url()
    with Store(url) as store:
        first = Indexer(w3, suite.manifest, store, initial_range=8, max_range=8)
        partial = first.sync(max_ranges=3)
        assert partial.ranges == 3 and partial.to_block < w3.eth.block_number
        done = first.cursor
        # a crash inside a range's transaction leaves nothing of that range behind
        original = store.add_blocks

        def crash(*args: Any) -> None:
            raise RuntimeError("power cut")

        store.add_blocks = crash  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match="power cut"):
            first.sync()
        store.add_blocks = original  # type: ignore[method-assign]
        assert first.cursor == done
        assert all(e.block_number <= done for e in store.events())
    with Store(url) as store:  # a new process picks up from the cursor
        second = Indexer(w3, suite.manifest, store)
        resumed = second.sync()
        assert resumed.from_block == done + 1
        assert answers(IndexReader(store, second.deployment)) == fresh_answers(w3, suite, db_url())


# -- reorg -------------------------------------------------------------------------------------------------


def test_after_a_reorg_the_index_gives_the_same_answers_as_a_fresh_sync(
    w3: Web3, suite: Suite, control: ChainControl, scenario: Scenario, db_url: Any
) -> None:
    treasury = Treasury.from_suite(suite)
    donor, other = scenario.citizens[1], scenario.citizens[2]
    url = db_url()
    with Store(url) as store:
        indexer = Indexer(w3, suite.manifest, store)
        indexer.sync()
        fork_point = control.snapshot()
        treasury.donate(donor, ETHER, note="orphaned")
        control.mine(2)
        indexer.sync()
        assert any(e.args.get("amount") == str(ETHER) and e.args.get("donor") == donor.address
                   for e in store.events("PublicTreasury", ["DonationReceived"]))  # fmt: skip
        control.revert(fork_point)  # the chain forgets those blocks …
        treasury.donate(other, 3 * ETHER, note="canonical")  # … and grows another branch, longer
        control.mine(3)
        report = indexer.sync()
        assert report.rolled_back_to is not None and report.rolled_back_to < report.to_block
        reorged = answers(IndexReader(store, indexer.deployment))
    donations = [e for e in reorged["events"] if e["event"] == "DonationReceived"]
    assert [d["args"]["donor"] for d in donations][-1] == other.address
    assert all(d["args"]["donor"] != donor.address or d["args"]["amount"] != str(ETHER) for d in donations)
    assert reorged == fresh_answers(w3, suite, db_url())


def test_a_reorg_to_a_shorter_chain_is_noticed_without_new_blocks(
    w3: Web3, suite: Suite, control: ChainControl, scenario: Scenario
) -> None:
    with Store(":memory:") as store:
        indexer = Indexer(w3, suite.manifest, store)
        indexer.sync()
        fork_point = control.snapshot()
        Treasury.from_suite(suite).donate(scenario.citizens[1], ETHER)
        indexer.sync()
        control.revert(fork_point)
        control.mine(1)  # the same height as before, another block
        report = indexer.sync()
        assert report.rolled_back_to is not None
        assert len(store.events("PublicTreasury", ["DonationReceived"])) == 2


def test_confirmations_keep_the_index_behind_the_head(w3: Web3, suite: Suite, scenario: Scenario) -> None:
    with Store(":memory:") as store:
        report = Indexer(w3, suite.manifest, store, confirmations=3).sync()
    assert report.to_block == w3.eth.block_number - 3


# -- adaptive ranges ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "query returned more than 10000 results",
        "eth_getLogs block range too large, range: 100, max: 10",
        "Log response size exceeded. this block range should work: [{low:#x}, {high:#x}]",
    ],
)
def test_ranges_adapt_to_a_providers_cap(
    chain: LocalChain, suite: Suite, scenario: Scenario, db_url: Any, message: str
) -> None:
    asked: list[tuple[int, int]] = []
    w3 = capped_web3(chain, 10, message, asked)
    url = db_url()
    with Store(url) as store:
        indexer = Indexer(w3, suite.manifest, store, initial_range=1_000)
        report = indexer.sync()
        capped = answers(IndexReader(store, indexer.deployment))
    refused = [r for r in asked if r[1] - r[0] + 1 > 10]
    assert refused and len(refused) <= 8  # a few refusals while halving, none after
    assert report.to_block == chain.w3.eth.block_number
    accepted = [r for r in asked if r not in refused]
    assert max(h - lo + 1 for lo, h in accepted) <= 10
    assert capped == fresh_answers(chain.w3, suite, db_url())


def test_a_provider_refusing_even_one_block_is_a_clear_error(
    chain: LocalChain, suite: Suite, scenario: Scenario
) -> None:
    w3 = capped_web3(chain, 0, "block range too large", [])
    with Store(":memory:") as store, pytest.raises(IndexSyncError, match="even for block"):
        Indexer(w3, suite.manifest, store, initial_range=4).sync()


def test_other_rpc_failures_are_not_taken_for_range_caps() -> None:
    assert is_range_error(ValueError("query returned more than 10000 results"))
    assert is_range_error(ValueError({"message": "block range is too wide"}))
    assert is_range_error(ValueError("exceed maximum block range: 50000"))
    assert not is_range_error(ValueError("execution reverted"))
    assert not is_range_error(ConnectionError("connection refused"))


# -- follow ------------------------------------------------------------------------------------------------


def test_follow_sees_a_new_event_within_two_blocks(
    w3: Web3, suite: Suite, control: ChainControl, scenario: Scenario, db_url: Any
) -> None:
    with Store(db_url()) as store:
        indexer = Indexer(w3, suite.manifest, store)
        indexer.sync()
        stop = threading.Event()
        follower = threading.Thread(target=indexer.follow, kwargs={"poll_interval": 0.05, "stop": stop})
        follower.start()
        try:
            Treasury.from_suite(suite).donate(scenario.citizens[2], 7 * ETHER)
            event_block = w3.eth.block_number  # automine: the donation's block
            seen_at = None
            for _ in range(2):  # at most two more blocks, one every 0.5 s
                deadline = time.monotonic() + 0.5
                while time.monotonic() < deadline and seen_at is None:
                    if any(e.args["amount"] == str(7 * ETHER)
                           for e in store.events("PublicTreasury", ["DonationReceived"])):  # fmt: skip
                        seen_at = w3.eth.block_number
                    time.sleep(0.02)
                if seen_at is not None:
                    break
                control.mine(1)
        finally:
            stop.set()
            follower.join(timeout=10)
        assert seen_at is not None, "follow did not index the donation within two blocks"
        assert seen_at - event_block <= 2


# -- store -------------------------------------------------------------------------------------------------


def test_a_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexStoreError, match="cannot connect"):
        Store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(IndexStoreError, match="cannot open"):
        Store(str(blocked / "index.sqlite"))
