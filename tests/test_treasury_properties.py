"""Property tests of the PublicTreasury against plain Python references.

* QF payouts equal an independent reference of (Σ√c)² - Σc normalised to the pool, exactly, on random
  rounds with citizen and non-citizen contributors, and on rounds where citizens rotate keys between
  contributions (the reference counts each membership once, whichever keys it gave from).
* Conservation under random sequences of inflows, grants, claims, cancellations and rounds, with key
  rotations and revocations of the citizens the grants and a project are owed to (claims go to the current
  key; the DAO takes back what a revoked membership was owed): fees + donations = free balance + public
  money paid out + public money still committed, and the committed amount equals what grants and rounds
  still owe.
* Epoch caps hold under many small grants across epoch boundaries, with raises pending to the next epoch.

Each example runs inside its own snapshot on a standalone treasury (1-day epochs) administered by the
deployer; times are set exactly with ``evm_setNextBlockTimestamp`` (Anvil).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as s
from web3 import Web3
from web3.contract import Contract

from civicdao import treasury as tr
from civicdao._custom_errors import (
    TreasuryEpochCapExceeded,
    TreasuryGrantAlreadyCancelled,
    TreasuryInsufficientFreeBalance,
    TreasuryNothingToClaim,
    TreasuryProjectAlreadyClaimed,
    TreasuryRecipientNotRevoked,
    TreasuryRecipientRevoked,
    TreasuryRoundAlreadyFinalized,
    TreasuryRoundNotActive,
    TreasuryRoundNotEnded,
    TreasuryRoundNotFinalized,
    TreasuryTrancheAlreadyReleased,
)
from civicdao.accounts import NodeSigner
from civicdao.chain import ChainControl
from civicdao.contracts import deploy_contract
from civicdao.deploy import Suite
from civicdao.tx import TxRecord, call, send_transaction, transact

ETH = tr.ETH
DAY = 86_400
ETHER = 10**18
SCALE = 10**18  # the contract documents √(c·1e18), rounded down
HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]


@dataclass(frozen=True)
class Bench:
    w3: Web3
    control: ChainControl
    treasury: Contract
    registry: Contract  # a MockCitizenRegistry
    api: tr.Treasury  # the library's typed calls over the same contract
    admin: NodeSigner
    citizens: tuple[NodeSigner, ...]
    outsiders: tuple[NodeSigner, ...]
    spares: tuple[NodeSigner, ...]  # keys nobody holds a membership on at first
    anchor: int
    epoch_at_anchor: int

    def run(self, action: tr.Action) -> TxRecord:
        return send_transaction(self.w3, self.admin, to=action.target, data=action.calldata)

    def at(self, timestamp: int) -> None:
        """The latest block, and the next one, carry exactly ``timestamp``."""
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]
        self.control.mine()
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]

    def epoch_of(self, timestamp: int) -> int:
        return self.epoch_at_anchor + (timestamp - self.anchor) // DAY


@pytest.fixture(scope="module")
def bench(suite: Suite, w3: Web3, control: ChainControl, accounts: list[NodeSigner]) -> Iterator[Bench]:
    snapshot = control.snapshot()
    admin = accounts[0]
    registry, _ = deploy_contract(w3, admin, "MockCitizenRegistry")
    treasury, _ = deploy_contract(w3, admin, "PublicTreasury", admin.address, registry.address, DAY)
    transact(w3, admin, treasury.functions.setEpochCap(ETH, tr.UNCAPPED))
    citizens, outsiders = tuple(accounts[1:4]), tuple(accounts[4:7])
    for citizen in citizens:
        transact(w3, admin, registry.functions.setCitizen(citizen.address, True))
    control.increase_time(DAY)
    _, anchor, at_anchor, *_ = call(treasury.functions.epochClock())
    api = tr.Treasury(w3, treasury)
    spares = tuple(accounts[7:10])
    yield Bench(
        w3, control, treasury, registry, api, admin, citizens, outsiders, spares, int(anchor), int(at_anchor)
    )
    control.revert(snapshot)


@pytest.fixture
def isolated(bench: Bench) -> Iterator[Any]:
    """A context factory: each hypothesis example runs in its own snapshot."""

    class _Example:
        def __enter__(self) -> Bench:
            self.snapshot = bench.control.snapshot()
            return bench

        def __exit__(self, *exc: object) -> None:
            bench.control.revert(self.snapshot)

    yield _Example


# ─────────────────────────────────────── quadratic funding ───────────────────────────────────────


def reference_qf(
    contributions: list[tuple[int, str, int]], citizens: set[str], projects: int, pool: int
) -> tuple[list[int], list[int]]:
    """Raw matches and payouts: per project, citizens' totals c_i; raw = ⌊(Σ⌊√(c_i·1e18)⌋)² / 1e18⌋ - Σc_i
    (floored at 0); when Σ raw exceeds the pool each payout is ⌊pool·raw/Σraw⌋, else raw."""
    totals: list[dict[str, int]] = [{} for _ in range(projects)]
    for project, who, amount in contributions:
        if who in citizens:
            totals[project][who] = totals[project].get(who, 0) + amount
    raw = []
    for per_citizen in totals:
        roots = sum(math.isqrt(c * SCALE) for c in per_citizen.values())
        raw.append(max(roots * roots // SCALE - sum(per_citizen.values()), 0))
    total = sum(raw)
    if total <= pool:
        return raw, raw
    return raw, [math.floor(Fraction(pool) * r / total) for r in raw]


def test_reference_qf_on_known_numbers() -> None:
    a, b, c = "a", "b", "c"
    contributions = [(0, a, ETHER), (0, b, ETHER), (0, c, ETHER), (0, "x", 50 * ETHER), (1, a, 4 * ETHER)]
    assert reference_qf(contributions, {a, b, c}, 2, 100 * ETHER) == ([6 * ETHER, 0], [6 * ETHER, 0])
    assert reference_qf(contributions, {a, b, c}, 2, 3 * ETHER) == ([6 * ETHER, 0], [3 * ETHER, 0])


amounts = s.one_of(s.integers(1, 1_000), s.integers(10**9, 10**15), s.integers(10**16, 20 * ETHER))
pools = s.one_of(s.just(0), s.integers(1, 10**6), s.integers(10**15, 30 * ETHER))


@settings(max_examples=25, deadline=None, suppress_health_check=HEALTH)
@given(
    projects=s.integers(1, 4),
    pool=pools,
    contributions=s.lists(s.tuples(s.integers(0, 5), s.integers(0, 3), amounts), min_size=1, max_size=9),
)
def test_qf_payouts_equal_python_reference(
    isolated: Any, projects: int, pool: int, contributions: list[tuple[int, int, int]]
) -> None:
    with isolated() as b:
        people = b.citizens + b.outsiders
        b.api.donate(b.admin, 40 * ETHER)
        now = b.control.time()
        recipients = [b.outsiders[i % 3].address for i in range(projects)]
        b.run(b.api.open_round_action(projects=recipients, matching_pool=pool, start=now, end=now + DAY))
        made = []
        for who, project, amount in contributions:
            signer, index = people[who], project % projects
            b.api.contribute(signer, 0, index, amount)
            made.append((index, signer.address, amount))
        b.control.increase_time(DAY)
        final = b.api.finalize_round(b.admin, 0)
        info = b.api.get_round(0)

        raw, payouts = reference_qf(made, {c.address for c in b.citizens}, projects, pool)
        assert [p.raw_matching for p in info.projects] == raw
        assert [p.matching for p in info.projects] == payouts
        assert final.total_matching == sum(payouts) <= pool
        assert final.leftover == pool - sum(payouts)
        contributed = [sum(a for i, _, a in made if i == p) for p in range(projects)]
        assert [p.contributions for p in info.projects] == contributed


gifts = s.tuples(s.just("give"), s.integers(0, 8), s.integers(0, 5), amounts)
rotations = s.tuples(s.just("rotate"), s.integers(0, 8), s.integers(0, 8))


@settings(max_examples=20, deadline=None, suppress_health_check=HEALTH)
@given(
    projects=s.integers(1, 3),
    pool=pools,
    steps=s.lists(s.one_of(gifts, gifts, rotations), min_size=1, max_size=12),
)
@example(  # always: one citizen, two keys, one project (keyed by address this would match 2 ETH)
    projects=1, pool=10 * ETHER, steps=[("give", 0, 0, ETHER), ("rotate", 0, 6), ("give", 6, 0, ETHER)]
)
def test_qf_payouts_count_each_membership_once_across_key_rotations(
    isolated: Any, projects: int, pool: int, steps: list[tuple[Any, ...]]
) -> None:
    """Random gifts from nine keys while memberships move between keys: the reference keys each citizen's
    total by the membership the test itself tracked (its own model of who holds what), never by address."""
    with isolated() as b:
        keys = b.citizens + b.outsiders + b.spares
        holder: dict[str, str] = {c.address: f"member-{i}" for i, c in enumerate(b.citizens)}  # key -> member
        b.api.donate(b.admin, 40 * ETHER)
        now = b.control.time()
        recipients = [b.outsiders[i % 3].address for i in range(projects)]
        b.run(b.api.open_round_action(projects=recipients, matching_pool=pool, start=now, end=now + DAY))
        made: list[tuple[int, str, int]] = []
        ids: dict[str, int] = {}  # member -> the membership id the contract reported
        for step in steps:
            if step[0] == "rotate":
                old, new = keys[step[1]].address, keys[step[2]].address
                if old not in holder or new in holder:
                    continue  # the registry refuses these (no membership / already a member)
                fns = b.registry.functions
                transact(b.w3, b.admin, fns.setMembership(new, call(fns.membershipOf(old))))
                transact(b.w3, b.admin, fns.setMembership(old, 0))
                holder[new] = holder.pop(old)
                continue
            signer, index, amount = keys[step[1]], step[2] % projects, step[3]
            contribution = b.api.contribute(signer, 0, index, amount)
            member = holder.get(signer.address)
            assert contribution.matched == (member is not None)
            if member is not None:
                assert ids.setdefault(member, contribution.membership) == contribution.membership
            made.append((index, member or signer.address, amount))
        totals = {
            (p, who): sum(a for i, w, a in made if (i, w) == (p, who)) for p, who, _ in made if who in ids
        }
        for key, member in holder.items():
            for p in range(projects):
                assert b.api.matched_contribution_of(0, p, key) == totals.get((p, member), 0)
        b.control.increase_time(DAY)
        final = b.api.finalize_round(b.admin, 0)
        info = b.api.get_round(0)

        raw, payouts = reference_qf(made, set(holder.values()), projects, pool)
        assert [p.raw_matching for p in info.projects] == raw
        assert [p.matching for p in info.projects] == payouts
        assert final.total_matching == sum(payouts) <= pool
        assert len(set(ids.values())) == len(ids)  # distinct people, distinct ids


# ─────────────────────────────────────── conservation ───────────────────────────────────────


def reference_vested(amount: int, start: int, cliff: int, duration: int, now: int) -> int:
    if now < start + cliff:
        return 0
    if now >= start + duration:
        return amount
    return amount * (now - start) // duration


EXPECTED_REVERTS = (
    TreasuryInsufficientFreeBalance,
    TreasuryNothingToClaim,
    TreasuryGrantAlreadyCancelled,
    TreasuryTrancheAlreadyReleased,
    TreasuryRoundNotActive,
    TreasuryRoundNotEnded,
    TreasuryRoundAlreadyFinalized,
    TreasuryRoundNotFinalized,
    TreasuryProjectAlreadyClaimed,
    TreasuryRecipientRevoked,
    TreasuryRecipientNotRevoked,
)

small = s.integers(1, 5 * ETHER)
operations = s.one_of(
    s.tuples(s.just("donate"), small),
    s.tuples(s.just("fee"), small, s.integers(0, 4)),
    s.tuples(s.just("transfer"), small),
    s.tuples(s.just("stream"), small, s.integers(0, 2 * DAY), s.integers(0, DAY), s.integers(1, 3 * DAY)),
    s.tuples(s.just("milestone"), s.lists(s.integers(1, ETHER), min_size=1, max_size=3)),
    s.tuples(s.just("release"), s.integers(0, 7), s.integers(0, 2)),
    s.tuples(s.just("cancel"), s.integers(0, 7)),
    s.tuples(s.just("claim"), s.integers(0, 7)),
    s.tuples(s.just("claim"), s.integers(0, 7)),
    s.tuples(s.just("wait"), s.integers(1, DAY // 2)),
    s.tuples(s.just("wait"), s.integers(DAY // 2, 2 * DAY)),
    s.tuples(s.just("round"), s.integers(0, 3 * ETHER)),
    s.tuples(s.just("contribute"), s.integers(0, 5), s.integers(0, 1), small),
    s.tuples(s.just("contribute"), s.integers(0, 5), s.integers(0, 1), small),
    s.tuples(s.just("finalize")),
    s.tuples(s.just("payout"), s.integers(0, 3)),
    s.tuples(s.just("rotate"), s.integers(0, 2), s.integers(0, 2)),
    s.tuples(s.just("revoke"), s.integers(0, 2)),
    s.tuples(s.just("cancel_payout"), s.integers(0, 3)),
)


class _Ledger:
    """What the test itself saw flow in and out, from the calls it made and the events they emitted."""

    def __init__(self) -> None:
        self.total_in = 0
        self.total_out = 0
        self.held = 0  # contributions received and not yet paid to projects

    def observe(self, record: TxRecord) -> None:
        for event in record.events:
            if event.name in ("FeeReceived", "DonationReceived"):
                self.total_in += event["amount"]
            elif event.name in ("Transferred", "GrantClaimed"):
                self.total_out += event["amount"]
            elif event.name == "Contributed":
                self.held += event["amount"]
            elif event.name == "RoundClaimed":
                self.total_out += event["matching"]
                self.held -= event["contributions"]
            elif event.name == "ProjectPayoutCancelled":  # the contributions became a donation
                self.total_in += event["contributions"]
                self.held -= event["contributions"]


def _owed(b: Bench) -> int:
    """Committed, recomputed from what each grant and round still owes (raw views: this runs every step)."""
    fns = b.treasury.functions
    owed = 0
    for grant_id in range(int(call(fns.grantCount()))):
        grant = call(fns.getGrant(grant_id))
        owed += grant[7] - grant[8]  # amount (reduced to the entitlement on cancel) - claimed
    for round_id in range(int(call(fns.roundCount()))):
        round_ = call(fns.getRound(round_id))
        finalized, pool, total, count = round_[3], round_[5], round_[6], round_[8]
        if not finalized:
            owed += pool + total
            continue
        for index in range(count):
            project = call(fns.getProject(round_id, index))
            claimed, contributions, matching = project[1], project[3], project[6]
            owed += 0 if claimed else contributions + matching
    return owed


def _check_conservation(b: Bench, ledger: _Ledger) -> None:
    balance = b.api.token_balance()
    assert (balance.total_in, balance.total_out) == (ledger.total_in, ledger.total_out)
    assert balance.balance >= balance.committed
    assert balance.free + balance.committed == balance.balance
    # inflows = free balance + outflows + public money still committed (committed minus contributions held)
    assert balance.total_in == balance.free + balance.total_out + (balance.committed - ledger.held)
    assert balance.committed == _owed(b)


def _step(b: Bench, op: tuple[Any, ...], people: tuple[NodeSigner, ...]) -> TxRecord | None:
    """Apply one operation; those that need a grant or round aim at one where they can act, when any."""
    kind, args = op[0], op[1:]
    if kind == "wait":
        b.control.increase_time(args[0])
        return None
    return _STEPS[kind](b, people, *args)


def _stream(b: Bench, _: Any, amount: int, offset: int, cliff: int, duration: int) -> TxRecord:
    start = b.control.time() + offset - DAY
    action = b.api.stream_grant_action(
        recipient=b.citizens[0].address,
        amount=amount,
        start=start,
        cliff=min(cliff, duration),
        duration=duration,
    )
    return b.run(action)


def _release(b: Bench, _: Any, choice: int, index: int) -> TxRecord | None:
    milestones = [g for g in b.api.grants() if g.kind == "milestone"]
    if not milestones:
        return None
    grant = milestones[choice % len(milestones)]
    return b.api.release_tranche(b.admin, grant.grant_id, index % len(grant.tranches)).tx


def _cancel(b: Bench, _: Any, choice: int) -> TxRecord | None:
    count = int(call(b.treasury.functions.grantCount()))
    return b.run(b.api.cancel_grant_action(choice % count)) if count else None


def _claim(b: Bench, _: Any, choice: int) -> TxRecord | None:
    every = b.api.grants()
    if not every:
        return None
    ready = [g for g in every if g.claimable] or every  # none ready: expect TreasuryNothingToClaim
    grant = ready[choice % len(ready)]
    claimant = grant.claimant or grant.recipient  # revoked: nobody may claim (TreasuryRecipientRevoked)
    claim = b.api.claim_grant(_signer_for(b, claimant), grant.grant_id)
    if grant.kind == "stream" and not grant.cancelled:
        now = int(b.w3.eth.get_block(claim.tx.block_number)["timestamp"])
        vested = reference_vested(grant.amount, grant.start, grant.cliff, grant.duration, now)
        assert claim.amount == vested - grant.claimed
    return claim.tx


def _open_round(b: Bench, _: Any, pool: int) -> TxRecord:
    now = b.control.time()
    projects = [b.citizens[2].address, b.outsiders[2].address]  # a citizen's project and an organisation's
    return b.run(b.api.open_round_action(projects=projects, matching_pool=pool, start=now, end=now + DAY))


def _rounds(b: Bench) -> list[tr.RoundInfo]:
    return [b.api.get_round(i) for i in range(int(call(b.treasury.functions.roundCount())))]


def _contribute(
    b: Bench, people: tuple[NodeSigner, ...], who: int, project: int, amount: int
) -> TxRecord | None:
    rounds = _rounds(b)
    if not rounds:
        return None
    return b.api.contribute(people[who], rounds[-1].round_id, project, amount).tx


def _finalize(b: Bench, _: Any) -> TxRecord | None:
    open_rounds = [r for r in _rounds(b) if not r.finalized] or _rounds(b)
    if not open_rounds:
        return None
    return b.api.finalize_round(b.admin, open_rounds[0].round_id).tx


def _payout(b: Bench, _: Any, choice: int) -> TxRecord | None:
    rounds = _rounds(b)
    due = [(r.round_id, p.index) for r in rounds if r.finalized for p in r.projects if not p.claimed]
    due = due or [(r.round_id, choice % 2) for r in rounds[-1:]]  # none due: expect a named revert
    if not due:
        return None
    round_id, index = due[choice % len(due)]
    project = rounds[round_id].projects[index]
    return b.api.claim_round_payout(_signer_for(b, project.claimant or project.recipient), round_id, index).tx


def _cancel_payout(b: Bench, _: Any, choice: int) -> TxRecord | None:
    due = [(r.round_id, p.index) for r in _rounds(b) if r.finalized for p in r.projects if not p.claimed]
    if not due:
        return None
    round_id, index = due[choice % len(due)]
    return b.run(
        b.api.cancel_project_payout_action(round_id, index)
    )  # refused unless the recipient is revoked


def _holder(b: Bench, membership: int) -> str | None:
    for key in (*b.citizens, *b.spares):
        if int(call(b.registry.functions.membershipOf(key.address))) == membership:
            return key.address
    return None


def _rotate(b: Bench, _: Any, citizen: int, spare: int) -> TxRecord | None:
    """The mock's stand-in for a lost-key rotation of membership ``citizen + 1`` to a free spare key."""
    membership, fns = citizen + 1, b.registry.functions
    holder = _holder(b, membership)
    free = [k.address for k in b.spares if int(call(fns.membershipOf(k.address))) == 0]
    if holder is None or not free:
        return None
    transact(b.w3, b.admin, fns.setMembership(free[spare % len(free)], membership))
    return transact(b.w3, b.admin, fns.setMembership(holder, 0))


def _revoke(b: Bench, _: Any, citizen: int) -> TxRecord | None:
    holder = _holder(b, citizen + 1)
    if holder is None:
        return None
    return transact(b.w3, b.admin, b.registry.functions.setMembership(holder, 0))


_STEPS: dict[str, Any] = {
    "donate": lambda b, _, amount: b.api.donate(b.outsiders[0], amount).tx,
    "fee": lambda b, _, amount, kind: b.api.deposit_fee(b.outsiders[1], amount, category=kind).tx,
    "transfer": lambda b, _, amount: b.run(b.api.transfer_action(to=b.outsiders[2].address, amount=amount)),
    "stream": _stream,
    "milestone": lambda b, _, tranches: b.run(
        b.api.milestone_grant_action(recipient=b.citizens[1].address, tranches=tranches)
    ),
    "release": _release,
    "cancel": _cancel,
    "claim": _claim,
    "round": _open_round,
    "contribute": _contribute,
    "finalize": _finalize,
    "payout": _payout,
    "rotate": _rotate,
    "revoke": _revoke,
    "cancel_payout": _cancel_payout,
}


def _signer_for(b: Bench, address: str) -> NodeSigner:
    return next(p for p in (*b.citizens, *b.outsiders, *b.spares, b.admin) if p.address == address)


ROTATED_PAYOUTS = [
    ("contribute", 0, 0, ETHER), ("contribute", 1, 0, ETHER), ("rotate", 2, 0), ("wait", DAY),
    ("finalize",), ("payout", 0), ("payout", 1), ("claim", 0), ("rotate", 0, 1), ("wait", DAY), ("claim", 0),
]  # fmt: skip
REVOKED_PAYOUTS = [
    ("contribute", 0, 0, ETHER), ("contribute", 1, 0, ETHER), ("revoke", 2), ("wait", DAY), ("finalize",),
    ("payout", 0), ("cancel_payout", 0), ("cancel_payout", 0), ("release", 0, 0), ("revoke", 1),
    ("cancel", 1), ("cancel", 1), ("claim", 1),
]  # fmt: skip


@settings(max_examples=12, deadline=None, suppress_health_check=HEALTH)
@given(ops=s.lists(operations, min_size=4, max_size=16))
@example(ops=ROTATED_PAYOUTS)  # the citizen's project is paid to its new key, the grants too
@example(ops=REVOKED_PAYOUTS)  # revoked: payouts and grants refused, the DAO takes them back
def test_conservation_under_random_sequences(isolated: Any, ops: list[tuple[Any, ...]]) -> None:
    with isolated() as b:
        ledger = _Ledger()
        people = b.citizens + b.outsiders
        ledger.observe(b.api.donate(b.admin, 5 * ETHER).tx)
        for seed in (
            ("stream", ETHER, DAY, 0, 2 * DAY),
            ("milestone", [3 * 10**17, 2 * 10**17]),
            ("round", ETHER),
        ):
            _step(b, seed, people)  # something to claim, release, cancel and contribute to from the start
        for op in ops:
            try:
                record = _step(b, op, people)
            except EXPECTED_REVERTS:
                record = None
            if record is not None:
                ledger.observe(record)
            _check_conservation(b, ledger)


# ─────────────────────────────────────── caps across epochs ───────────────────────────────────────

caps = s.one_of(s.sampled_from([0, 10**6, 5 * 10**17, ETHER, 2 * ETHER]), s.integers(0, 2 * ETHER))
cap_ops = s.one_of(
    s.tuples(s.just("grant"), s.integers(1, 3 * 10**17)),
    s.tuples(s.just("grant"), s.integers(1, 3 * 10**17)),
    s.tuples(s.just("grant"), s.integers(1, 10**6)),
    s.tuples(s.just("wait"), s.integers(1, 2 * DAY)),
    s.tuples(s.just("set_cap"), caps),
    s.tuples(s.just("cancel")),
)


class _CapModel:
    """The documented cap rules: lowering applies at once, raising from the next epoch."""

    def __init__(self, cap: int) -> None:
        self.cap, self.pending, self.pending_from = cap, 0, 0
        self.spent: dict[int, int] = {}

    def cap_at(self, epoch: int) -> int:
        return self.pending if self.pending_from and epoch >= self.pending_from else self.cap

    def set_cap(self, epoch: int, new: int) -> None:
        current = self.cap_at(epoch)
        if new > current:
            self.cap, self.pending, self.pending_from = current, new, epoch + 1
        else:
            self.cap, self.pending, self.pending_from = new, 0, 0


@settings(max_examples=15, deadline=None, suppress_health_check=HEALTH)
@given(initial_cap=caps, ops=s.lists(cap_ops, min_size=5, max_size=25))
def test_caps_hold_under_many_small_grants_across_epochs(
    isolated: Any, initial_cap: int, ops: list[tuple[Any, ...]]
) -> None:
    with isolated() as b:
        b.api.donate(b.admin, 100 * ETHER)
        now = b.control.time() + 1
        b.at(now)
        b.run(b.api.set_cap_action(cap=initial_cap))  # lowering from uncapped: at once
        model = _CapModel(initial_cap)
        grants: list[int] = []
        for op in ops:
            now += 1
            if op[0] == "wait":
                now += op[1]
                continue
            b.at(now)
            epoch = b.epoch_of(now)
            if op[0] == "set_cap":
                b.run(b.api.set_cap_action(cap=op[1]))
                model.set_cap(epoch, op[1])
            elif op[0] == "cancel" and grants:
                b.run(b.api.cancel_grant_action(grants.pop()))  # never refunds the allowance
            elif op[0] == "grant":
                amount, cap, spent = op[1], model.cap_at(epoch), model.spent.get(epoch, 0)
                action = b.api.milestone_grant_action(recipient=b.citizens[0].address, tranches=[amount])
                if spent + amount <= cap:
                    grants.append(int(b.run(action).event("MilestoneGrantCreated")["grantId"]))
                    model.spent[epoch] = spent + amount
                else:
                    with pytest.raises(TreasuryEpochCapExceeded) as err:
                        b.run(action)
                    assert (err.value.epoch, err.value.remaining) == (epoch, max(cap - spent, 0))
            status = b.api.epoch_status()
            assert status.epoch == epoch
            assert (status.cap, status.spent) == (model.cap_at(epoch), model.spent.get(epoch, 0))
        for epoch, spent in model.spent.items():
            assert int(call(b.treasury.functions.epochSpent(ETH, epoch))) == spent
