"""The suite's treasury spent the only way it can be: citizens vote, the Timelock executes.

Exchange fees and donations arrive; a citizen vote creates a streaming grant the recipient claims over
time; a cap change waits for the next epoch; a quadratic-funding round pays three projects. The grant and
QF tests also run on Ganache.
"""

from __future__ import annotations

import pytest
from web3 import Web3

from civicdao import treasury as tr
from civicdao._custom_errors import TreasuryEpochCapExceeded, TreasuryNothingToClaim
from civicdao.accounts import NodeSigner
from civicdao.chain import ChainControl
from civicdao.deploy import Suite
from civicdao.governance import Action, Governance
from civicdao.testing import pass_proposal
from civicdao.tx import call, transact

ETH = tr.ETH
DAY = 86_400
ETHER = 10**18


def _citizens(
    suite: Suite, w3: Web3, control: ChainControl, registrar: NodeSigner, people: list[NodeSigner]
) -> list[NodeSigner]:
    """Register ``people`` not yet citizens (the pilot deployer stays registrar); let their votes activate."""
    for person in people:
        if not call(suite.registry.functions.isCitizen(person.address)):
            credential = Web3.keccak(text=f"treasury-test-salt:{person.address}:residency")
            transact(w3, registrar, suite.registry.functions.register(person.address, credential))
    control.increase_time(1)
    return people


def _into_spending_epoch(suite: Suite, control: ChainControl) -> tr.EpochStatus:
    """After deployment nothing may be spent until epoch 1 (the pilot cap was a raise from 0)."""
    status = tr.epoch_status(suite)
    if status.cap == 0:
        control.increase_time(status.end - control.time())
        status = tr.epoch_status(suite)
    assert status.cap == 10 * ETHER
    return status


def _vote(
    suite: Suite, control: ChainControl, voters: list[NodeSigner], actions: list[Action], description: str
) -> None:
    governance = Governance.from_suite(suite)
    pass_proposal(governance, control, voters[0], voters, actions, description)


@pytest.fixture
def citizens(suite: Suite, w3: Web3, control: ChainControl, accounts: list[NodeSigner]) -> list[NodeSigner]:
    return _citizens(suite, w3, control, accounts[0], accounts[1:5])


@pytest.mark.ganache
def test_dao_stream_grant_funded_by_exchange_fees_is_claimed_over_time(
    suite: Suite, w3: Web3, control: ChainControl, accounts: list[NodeSigner], citizens: list[NodeSigner]
) -> None:
    first = w3.eth.block_number + 1
    exchange_stand_in, donor, recipient = accounts[5], accounts[6], accounts[7]
    tr.deposit_fee(suite, exchange_stand_in, 2 * ETHER, category="room_house")
    tr.deposit_fee(suite, exchange_stand_in, ETHER, category="tool")
    tr.donate(suite, donor, 5 * ETHER, note="founding-gift")
    balance = tr.token_balance(suite)
    assert (balance.total_in, balance.inflow("room_house"), balance.inflow("tool")) == (
        8 * ETHER,
        2 * ETHER,
        ETHER,
    )

    _into_spending_epoch(suite, control)
    start = control.time() + 3 * DAY  # after the vote has executed
    grant = tr.stream_grant_action(
        suite, recipient=recipient.address, amount=3 * ETHER, start=start, cliff=DAY, duration=10 * DAY
    )
    _vote(suite, control, citizens, [grant], "Stream 3 ETH to the tool library over 10 days")
    info = tr.get_grant(suite, 0)
    assert (info.recipient, info.amount, info.start, info.claimable) == (
        recipient.address,
        3 * ETHER,
        start,
        0,
    )
    assert tr.token_balance(suite).committed == 3 * ETHER

    control.increase_time(start + DAY // 2 - control.time())
    with pytest.raises(TreasuryNothingToClaim):
        tr.claim_grant(suite, recipient, 0)
    claimed = 0
    for day in (4, 10):
        control.increase_time(start + day * DAY - control.time())
        claim = tr.claim_grant(suite, recipient, 0)
        now = w3.eth.get_block(claim.tx.block_number)["timestamp"]
        vested = min(3 * ETHER * (now - start) // (10 * DAY), 3 * ETHER)
        assert claim.amount == vested - claimed
        claimed += claim.amount
    assert claimed == 3 * ETHER
    balance = tr.token_balance(suite)
    assert (balance.balance, balance.committed, balance.total_out) == (5 * ETHER, 0, 3 * ETHER)

    report = tr.treasury_report(suite, from_block=first)
    totals = {(t.source, t.category): t.amount for t in report.inflow_totals}
    assert totals == {
        ("fee", "room_house"): 2 * ETHER,
        ("fee", "tool"): ETHER,
        ("donation", "donation"): 5 * ETHER,
    }
    assert [(o.kind, o.recipient) for o in report.outflows] == [("grant", recipient.address)] * 2
    assert report.grants[0].claimed == 3 * ETHER
    assert report.balance_history[-1].balance == 5 * ETHER


def test_dao_cap_raise_waits_for_the_next_epoch(
    suite: Suite, w3: Web3, control: ChainControl, accounts: list[NodeSigner], citizens: list[NodeSigner]
) -> None:
    tr.donate(suite, accounts[6], 40 * ETHER)
    _into_spending_epoch(suite, control)
    raise_cap = tr.set_cap_action(suite, cap=25 * ETHER)
    drain = tr.transfer_action(suite, to=accounts[8].address, amount=15 * ETHER)
    with pytest.raises(TreasuryEpochCapExceeded) as err:  # raise and spend in one vote: refused
        _vote(suite, control, citizens, [raise_cap, drain], "Raise the cap and pay out at once")
    assert err.value.remaining == 10 * ETHER

    _vote(suite, control, citizens, [raise_cap], "Raise the treasury cap to 25 ETH")
    status = tr.epoch_status(suite)
    assert (status.cap, status.pending_cap, status.pending_from_epoch) == (
        10 * ETHER,
        25 * ETHER,
        status.epoch + 1,
    )
    control.increase_time(status.end - control.time())
    before = w3.eth.get_balance(accounts[8].address)
    _vote(suite, control, citizens, [drain], "Pay 15 ETH for the community garden")
    assert w3.eth.get_balance(accounts[8].address) - before == 15 * ETHER
    assert tr.epoch_status(suite).cap == 25 * ETHER


@pytest.mark.ganache
def test_dao_qf_round_pays_three_projects(
    suite: Suite, w3: Web3, control: ChainControl, accounts: list[NodeSigner], citizens: list[NodeSigner]
) -> None:
    tr.donate(suite, accounts[6], 20 * ETHER)
    outsider = accounts[9]
    assert not call(suite.registry.functions.isCitizen(outsider.address))
    _into_spending_epoch(suite, control)
    projects = [accounts[5], accounts[6], accounts[7]]
    now = control.time()
    action = tr.open_round_action(
        suite, projects=[p.address for p in projects], matching_pool=9 * ETHER, start=now, end=now + 5 * DAY
    )
    _vote(suite, control, citizens, [action], "Quadratic funding: three neighbourhood projects")
    c1, c2, c3, c4 = citizens
    for citizen in citizens:
        tr.contribute(suite, citizen, 0, 0, ETHER)
    tr.contribute(suite, c1, 0, 1, 4 * ETHER)
    tr.contribute(suite, c2, 0, 1, ETHER)
    tr.contribute(suite, c3, 0, 2, ETHER)
    tr.contribute(suite, c4, 0, 2, ETHER)
    assert not tr.contribute(suite, outsider, 0, 2, 10 * ETHER).matched
    control.increase_time(now + 5 * DAY - control.time())
    final = tr.finalize_round(suite, outsider, 0)
    # raw (Σ√c)² - Σc: 16-4 = 12, 9-5 = 4, 4-2 = 2 ETH; pool 9 of 18 -> 6, 2, 1 ETH
    assert (final.total_matching, final.leftover) == (9 * ETHER, 0)
    payouts = [tr.claim_round_payout(suite, p, 0, i) for i, p in enumerate(projects)]
    assert [(p.contributions, p.matching) for p in payouts] == [
        (4 * ETHER, 6 * ETHER),
        (5 * ETHER, 2 * ETHER),
        (12 * ETHER, ETHER),
    ]
    balance = tr.token_balance(suite)
    assert (balance.balance, balance.committed, balance.total_out) == (11 * ETHER, 0, 9 * ETHER)
