"""A small city's history for the index and report tests: citizens, proposals, listings, bookings,
donations, a streaming grant and a QF round — every kind of event the lists read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from web3 import HTTPProvider, Web3

from civicdao.accounts import Signer
from civicdao.chain import ChainControl, LocalChain
from civicdao.config import DAY
from civicdao.demo import spare_room
from civicdao.deploy import Suite
from civicdao.exchange import ETH, CancellationPolicy, Exchange, Kind, ListingSpec, Unit
from civicdao.governance import Action, Governance, VoteType
from civicdao.local import pass_proposal
from civicdao.treasury import Treasury
from civicdao.tx import transact

ETHER = 10**18


@dataclass
class Scenario:
    citizens: list[Signer]
    proposals: dict[str, int] = field(default_factory=dict)
    listings: list[int] = field(default_factory=list)
    bookings: dict[str, int] = field(default_factory=dict)
    grant_id: int = 0
    round_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def build_scenario(suite: Suite, control: ChainControl, signers: list[Signer]) -> Scenario:
    """Write the history (takes a few seconds on Anvil)."""
    w3 = suite.w3
    registrar, *people = signers
    citizens = people[:5]
    for index, person in enumerate(citizens):
        credential = Web3.keccak(text=f"index-test:{index}")
        transact(w3, registrar, suite.registry.functions.register(person.address, credential))
    transact(w3, citizens[4], suite.registry.functions.delegate(citizens[0].address))
    control.increase_time(1)
    scenario = Scenario(citizens=citizens)
    governance = Governance.from_suite(suite)
    treasury = Treasury.from_suite(suite)
    exchange = Exchange.from_suite(suite)

    # exchange: a room with a settled and a cancelled booking, a tool listing, then a closed one
    start = (control.time() // DAY + 1) * DAY
    room = exchange.list(citizens[1], spare_room(start)).listing_id
    tool = exchange.list(
        citizens[2],
        ListingSpec(
            kind=Kind.TOOL,
            unit=Unit.HOUR,
            price=ETHER // 1000,
            deposit=0,
            available_from=start,
            available_until=start + 10 * DAY,
            max_units=24,
            policy=CancellationPolicy(free_cancel_hours=1, late_refund_bps=0),
            metadata_uri="ipfs://ladder",
        ),
    ).listing_id
    scenario.listings = [room, tool]
    kept = exchange.book(citizens[2], room, start=start + DAY, units=3)
    dropped = exchange.book(citizens[3], room, start=start + 10 * DAY, units=2)
    exchange.cancel(citizens[3], dropped.booking_id)
    hour = exchange.book(citizens[3], tool, start=start + 3600, units=2)
    exchange.close(citizens[2], tool)
    scenario.bookings = {"kept": kept.booking_id, "dropped": dropped.booking_id, "tool": hour.booking_id}
    control.increase_time(kept.end + exchange.windows().claim - control.time() + 1)
    exchange.settle(citizens[0], kept.booking_id)
    exchange.settle(citizens[0], hour.booking_id)
    exchange.withdraw_deposit(citizens[2], kept.booking_id)  # the renter pulls the deposit settle returned
    # the fees wait in the exchange until anyone flushes them to the treasury, one payment per kind
    exchange.flush_fees(citizens[0], ETH, Kind.ROOM_HOUSE)
    exchange.flush_fees(citizens[0], ETH, Kind.TOOL)

    # treasury: donations, then a cap so grants can be voted
    treasury.donate(citizens[3], 2 * ETHER, note="spring-fair")
    treasury.donate(signers[0], ETHER, note="")
    status = treasury.epoch_status()
    if status.cap == 0:
        control.increase_time(status.end - control.time() + 1)

    now = control.time()
    grant = treasury.stream_grant_action(
        recipient=citizens[3].address, amount=ETHER, start=now + DAY, cliff=0, duration=30 * DAY
    )
    rnd = treasury.open_round_action(
        projects=[citizens[0].address, citizens[1].address],
        matching_pool=ETHER // 2,
        start=now + 3 * DAY,
        end=now + 10 * DAY,
    )
    passed_proposal = pass_proposal(
        governance,
        control,
        citizens[0],
        citizens[:4],
        [grant, rnd],
        "Trees for Elm Street\n\nAnd a QF round for the park.",
    )
    passed, executed = passed_proposal.proposal_id, passed_proposal.execution
    scenario.proposals["executed"] = passed
    scenario.grant_id = treasury.grant_id_of(executed).grant_id
    scenario.round_id = treasury.qf_round_id_of(executed).round_id

    # QF: contributions, finalize, one project claims
    round_info = treasury.get_round(scenario.round_id)
    control.increase_time(round_info.start - control.time() + 1)
    treasury.contribute(citizens[2], scenario.round_id, 0, ETHER // 100)
    treasury.contribute(citizens[3], scenario.round_id, 0, ETHER // 100)
    treasury.contribute(citizens[4], scenario.round_id, 1, ETHER // 25)
    treasury.contribute(signers[0], scenario.round_id, 1, ETHER // 25)  # not a citizen: unmatched
    control.increase_time(round_info.end - control.time() + 1)
    treasury.finalize_round(citizens[0], scenario.round_id)
    treasury.claim_round_payout(citizens[0], scenario.round_id, 0)
    claimed = treasury.claim_grant(citizens[3], scenario.grant_id)
    scenario.extra["grant_claimed"] = claimed.amount

    # a defeated proposal and a still-active one (with an override vote)
    fee = Action.call(Exchange.from_suite(suite).settings.functions.setFeeBps(2, 0), description="tool fee 0")
    defeated = governance.propose(citizens[1], [fee], "Free tools").proposal_id
    control.increase_time(governance.voting_delay() + 1)
    governance.vote(citizens[0], defeated, VoteType.AGAINST)
    governance.vote(citizens[1], defeated, VoteType.FOR)
    governance.vote(citizens[2], defeated, VoteType.AGAINST)
    deadline = governance.deadline(defeated)
    control.increase_time(deadline - control.time() + 1)
    scenario.proposals["defeated"] = defeated
    active = governance.propose(citizens[2], [fee], "Free tools, second try").proposal_id
    control.increase_time(governance.voting_delay() + 1)
    governance.vote(citizens[0], active, VoteType.FOR)
    governance.override_vote(citizens[4], active, VoteType.AGAINST)
    scenario.proposals["active"] = active
    control.mine()
    return scenario


def capped_web3(chain: LocalChain, cap: int, message: str, asked: list[tuple[int, int]]) -> Web3:
    """A Web3 whose node refuses eth_getLogs over more than ``cap`` blocks, as public providers do."""
    w3 = Web3(HTTPProvider(chain.rpc_url))
    original = w3.provider.make_request

    def make_request(method: Any, params: Any) -> Any:
        if method == "eth_getLogs":
            low, high = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            asked.append((low, high))
            if high - low + 1 > cap:
                error = {"code": -32005, "message": message.format(low=low, high=low + cap - 1)}
                return {"jsonrpc": "2.0", "id": 1, "error": error}
        return original(method, params)

    w3.provider.make_request = make_request  # type: ignore[method-assign]
    return w3
