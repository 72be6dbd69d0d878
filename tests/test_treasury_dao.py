"""The suite's treasury spent the only way it can be: citizens vote, the Timelock executes.

Exchange fees and donations arrive; a citizen vote creates a streaming grant the recipient claims over
time; a cap change waits for the next epoch; a quadratic-funding round pays three projects. The grant and
QF tests also run on Ganache.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from test_docs import python_blocks
from web3 import Web3

from civicdao import treasury as tr
from civicdao._custom_errors import TreasuryEpochCapExceeded, TreasuryNothingToClaim
from civicdao.accounts import LocalSigner, NodeSigner
from civicdao.chain import ChainControl
from civicdao.citizens import Citizens
from civicdao.deploy import Suite
from civicdao.governance import Action, Governance
from civicdao.local import pass_proposal
from civicdao.tx import TxRecord, call, transact

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


def _into_spending_epoch(treasury: tr.Treasury, control: ChainControl) -> tr.EpochStatus:
    """After deployment nothing may be spent until epoch 1 (the pilot cap was a raise from 0)."""
    status = treasury.epoch_status()
    if status.cap == 0:
        control.increase_time(status.end - control.time())
        status = treasury.epoch_status()
    assert status.cap == 10 * ETHER
    return status


def _vote(
    suite: Suite, control: ChainControl, voters: list[NodeSigner], actions: list[Action], description: str
) -> TxRecord:
    """Pass a proposal with every voter for; returns the execution (its events include the treasury's)."""
    governance = Governance.from_suite(suite)
    return pass_proposal(governance, control, voters[0], voters, actions, description).execution


@pytest.fixture
def citizens(suite: Suite, w3: Web3, control: ChainControl, accounts: list[NodeSigner]) -> list[NodeSigner]:
    return _citizens(suite, w3, control, accounts[0], accounts[1:5])


@pytest.mark.ganache
def test_dao_stream_grant_funded_by_exchange_fees_is_claimed_over_time(
    suite: Suite, w3: Web3, control: ChainControl, accounts: list[NodeSigner], citizens: list[NodeSigner]
) -> None:
    treasury = tr.Treasury.from_suite(suite)
    first, start_at = w3.eth.block_number + 1, treasury.token_balance()  # other modules may have paid in
    exchange_stand_in, donor, recipient = accounts[5], accounts[6], accounts[7]
    treasury.deposit_fee(exchange_stand_in, 2 * ETHER, category="room_house")
    treasury.deposit_fee(exchange_stand_in, ETHER, category="tool")
    treasury.donate(donor, 5 * ETHER, note="founding-gift")
    balance = treasury.token_balance()
    assert balance.total_in - start_at.total_in == 8 * ETHER
    assert balance.inflow("room_house") - start_at.inflow("room_house") == 2 * ETHER
    assert balance.inflow("tool") - start_at.inflow("tool") == ETHER

    _into_spending_epoch(treasury, control)
    start = control.time() + 3 * DAY  # after the vote has executed
    grant = treasury.stream_grant_action(
        recipient=recipient.address, amount=3 * ETHER, start=start, cliff=DAY, duration=10 * DAY
    )
    executed = _vote(suite, control, citizens, [grant], "Stream 3 ETH to the tool library over 10 days")
    grant_id = treasury.grant_id_of(executed).grant_id
    info = treasury.get_grant(grant_id)
    assert (info.recipient, info.amount, info.start, info.claimable) == (
        recipient.address,
        3 * ETHER,
        start,
        0,
    )
    assert treasury.token_balance().committed - start_at.committed == 3 * ETHER

    control.increase_time(start + DAY // 2 - control.time())
    with pytest.raises(TreasuryNothingToClaim):
        treasury.claim_grant(recipient, grant_id)
    claimed = 0
    for day in (4, 10):
        control.increase_time(start + day * DAY - control.time())
        claim = treasury.claim_grant(recipient, grant_id)
        now = w3.eth.get_block(claim.tx.block_number)["timestamp"]
        vested = min(3 * ETHER * (now - start) // (10 * DAY), 3 * ETHER)
        assert claim.amount == vested - claimed
        claimed += claim.amount
    assert claimed == 3 * ETHER
    balance = treasury.token_balance()
    assert balance.balance - start_at.balance == 5 * ETHER
    assert (balance.committed, balance.total_out - start_at.total_out) == (start_at.committed, 3 * ETHER)

    report = treasury.treasury_report(from_block=first)
    totals = {(t.source, t.category): t.amount for t in report.inflow_totals}
    assert totals == {
        ("fee", "room_house"): 2 * ETHER,
        ("fee", "tool"): ETHER,
        ("donation", "donation"): 5 * ETHER,
    }
    assert [(o.kind, o.recipient) for o in report.outflows] == [("grant", recipient.address)] * 2
    assert [(g.grant_id, g.claimed) for g in report.grants] == [(grant_id, 3 * ETHER)]
    assert report.balance_history[-1].balance == start_at.balance + 5 * ETHER


def test_dao_cap_raise_waits_for_the_next_epoch(
    suite: Suite, w3: Web3, control: ChainControl, accounts: list[NodeSigner], citizens: list[NodeSigner]
) -> None:
    treasury = tr.Treasury.from_suite(suite)
    treasury.donate(accounts[6], 40 * ETHER)
    _into_spending_epoch(treasury, control)
    raise_cap = treasury.set_cap_action(cap=25 * ETHER)
    drain = treasury.transfer_action(to=accounts[8].address, amount=15 * ETHER)
    with pytest.raises(TreasuryEpochCapExceeded) as err:  # raise and spend in one vote: refused
        _vote(suite, control, citizens, [raise_cap, drain], "Raise the cap and pay out at once")
    assert err.value.remaining == 10 * ETHER

    _vote(suite, control, citizens, [raise_cap], "Raise the treasury cap to 25 ETH")
    status = treasury.epoch_status()
    assert (status.cap, status.pending_cap, status.pending_from_epoch) == (
        10 * ETHER,
        25 * ETHER,
        status.epoch + 1,
    )
    control.increase_time(status.end - control.time())
    before = w3.eth.get_balance(accounts[8].address)
    _vote(suite, control, citizens, [drain], "Pay 15 ETH for the community garden")
    assert w3.eth.get_balance(accounts[8].address) - before == 15 * ETHER
    assert treasury.epoch_status().cap == 25 * ETHER


@pytest.mark.ganache
def test_dao_qf_round_pays_three_projects(
    suite: Suite, w3: Web3, control: ChainControl, accounts: list[NodeSigner], citizens: list[NodeSigner]
) -> None:
    treasury = tr.Treasury.from_suite(suite)
    start_at = treasury.token_balance()
    treasury.donate(accounts[6], 20 * ETHER)
    outsider = accounts[9]
    assert not call(suite.registry.functions.isCitizen(outsider.address))
    _into_spending_epoch(treasury, control)
    projects = [accounts[5], accounts[6], accounts[7]]
    now = control.time()
    action = treasury.open_round_action(
        projects=[p.address for p in projects], matching_pool=9 * ETHER, start=now, end=now + 5 * DAY
    )
    executed = _vote(suite, control, citizens, [action], "Quadratic funding: three neighbourhood projects")
    round_id = treasury.qf_round_id_of(executed).round_id
    c1, c2, c3, c4 = citizens
    for citizen in citizens:
        treasury.contribute(citizen, round_id, 0, ETHER)
    treasury.contribute(c1, round_id, 1, 4 * ETHER)
    treasury.contribute(c2, round_id, 1, ETHER)
    treasury.contribute(c3, round_id, 2, ETHER)
    treasury.contribute(c4, round_id, 2, ETHER)
    assert not treasury.contribute(outsider, round_id, 2, 10 * ETHER).matched
    control.increase_time(now + 5 * DAY - control.time())
    final = treasury.finalize_round(outsider, round_id)
    # raw (Σ√c)² - Σc: 16-4 = 12, 9-5 = 4, 4-2 = 2 ETH; pool 9 of 18 -> 6, 2, 1 ETH
    assert (final.total_matching, final.leftover) == (9 * ETHER, 0)
    payouts = [treasury.claim_round_payout(p, round_id, i) for i, p in enumerate(projects)]
    assert [(p.contributions, p.matching) for p in payouts] == [
        (4 * ETHER, 6 * ETHER),
        (5 * ETHER, 2 * ETHER),
        (12 * ETHER, ETHER),
    ]
    balance = treasury.token_balance()
    assert balance.balance - start_at.balance == 11 * ETHER
    assert (balance.committed, balance.total_out - start_at.total_out) == (start_at.committed, 9 * ETHER)


def test_dao_qf_a_citizen_who_rotates_keys_is_matched_once(
    suite: Suite,
    w3: Web3,
    control: ChainControl,
    accounts: list[NodeSigner],
    local_signers: list[LocalSigner],
    citizens: list[NodeSigner],
) -> None:
    """The suite's own registry: a citizen gives from key A, the membership moves to key B (by a DAO vote on
    project 0, by a registrar's signature on project 1), and gives again from B. Each project is matched as
    if one citizen had given the sum — not as two people."""
    treasury, registry = tr.Treasury.from_suite(suite), Citizens.from_suite(suite)
    treasury.donate(accounts[6], 20 * ETHER)
    _into_spending_epoch(treasury, control)
    projects = [accounts[5], accounts[7]]
    now = control.time()
    action = treasury.open_round_action(
        projects=[p.address for p in projects], matching_pool=5 * ETHER, start=now, end=now + 10 * DAY
    )
    round_id = treasury.qf_round_id_of(_vote(suite, control, citizens, [action], "QF: two projects")).round_id
    c1, c2, c3, c4 = citizens
    by_vote, by_signature = accounts[8], accounts[9]  # the new keys, not citizens yet
    membership_of_c4, membership_of_c3 = (
        registry.membership_of(c4.address),
        registry.membership_of(c3.address),
    )

    first = treasury.contribute(c4, round_id, 0, ETHER)
    rotate = registry.rotate_action(c4.address, by_vote.address)
    _vote(suite, control, [c1, c2, c3], [rotate], "c4 lost their phone: move the membership to a new key")
    assert registry.membership_of(by_vote.address) == membership_of_c4
    second = treasury.contribute(by_vote, round_id, 0, ETHER)
    assert first.membership == second.membership == membership_of_c4

    treasury.contribute(c3, round_id, 1, ETHER)
    signed = registry.attest_rotation(local_signers[0], c3.address, by_signature.address)  # the registrar
    registry.rotate_with_attestation(accounts[6], signed)
    assert treasury.contribute(by_signature, round_id, 1, ETHER).membership == membership_of_c3
    treasury.contribute(c1, round_id, 1, ETHER)  # a second citizen on project 1

    assert treasury.matched_contribution_of(round_id, 0, by_vote.address) == 2 * ETHER
    assert treasury.matched_contribution_of(round_id, 0, c4.address) == 0  # rotated away
    assert treasury.matched_contribution_of(round_id, 1, by_signature.address) == 2 * ETHER
    roots = math.isqrt(2 * ETHER * 10**18) + math.isqrt(ETHER * 10**18)
    two_people = roots * roots // 10**18 - 3 * ETHER  # c3's 2 ETH (from two keys) and c1's 1 ETH
    raw = [p.raw_matching for p in treasury.get_round(round_id).projects]
    assert raw == [0, two_people]  # per key: (1+1)² - 2 = 2 ETH and (1+1+1)² - 3 = 6 ETH
    control.increase_time(now + 10 * DAY - control.time())
    final = treasury.finalize_round(c1, round_id)
    assert (final.total_matching, final.leftover) == (two_people, 5 * ETHER - two_people)
    payouts = [treasury.claim_round_payout(p, round_id, i) for i, p in enumerate(projects)]
    assert [(p.contributions, p.matching) for p in payouts] == [(2 * ETHER, 0), (3 * ETHER, two_people)]


def test_docs_walkthrough_pays_what_it_says() -> None:
    """docs/treasury.md runs as written (tests/test_docs.py) and its numbers are the contract's rules."""
    page: dict[str, Any] = {}
    try:
        for block in python_blocks(Path(__file__).resolve().parents[1] / "docs" / "treasury.md"):
            exec(compile(block, "docs/treasury.md", "exec"), page)  # noqa: S102 - our own documentation
    finally:
        page["session"].close()
    assert (page["balance"].total_in, page["balance"].inflow("tool")) == (13 * ETHER, ETHER)
    grant, qf, first = page["grant"], page["qf"], page["first"]
    assert (grant.kind, grant.amount, grant.recipient) == ("stream", 2 * ETHER, page["library"].address)
    assert (qf.matching_pool, qf.project_count) == (3 * ETHER, 3)
    # claimed 10 days after `now` (a few seconds later at most): 8 of the stream's 30 days have vested
    assert 2 * ETHER * 8 * DAY // (30 * DAY) <= first.amount <= 2 * ETHER * (8 * DAY + 60) // (30 * DAY)
    c = 10**17
    roots = 2 * math.isqrt(c * 10**18)  # two citizens gave c each to project 0; the donor's c is unmatched
    expected = roots * roots // 10**18 - 2 * c
    assert [(p.contributions, p.matching) for p in page["payouts"]] == [(3 * c, expected), (c, 0), (c, 0)]
    assert page["finalized"].leftover == 3 * ETHER - expected
    report = page["report"]
    assert report.unrecorded == ()
    assert [(i.source, i.category, i.amount) for i in report.inflows] == [
        ("donation", "donation", 12 * ETHER),
        ("fee", "tool", ETHER),
    ]
    assert report.total_out() == first.amount + expected + 10**17  # the grant, the matching, one tranche
