"""PublicTreasury via civicdao.treasury: inflows, governor-only spending, caps, grants, QF, attacks, report.

Most tests use a standalone treasury whose admin is the deployer (so each revert is one quick call) and a
MockCitizenRegistry; governance actions built by the library are executed by sending their calldata from
that admin. The suite's own treasury is checked for who may spend; tests/test_treasury_dao.py drives it
through real proposals.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import FrozenInstanceError, dataclass
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract

from civicdao import treasury as tr
from civicdao._custom_errors import (
    AccessControlUnauthorizedAccount,
    CurrencyNativeTransferFailed,
    CurrencyTokenShortfall,
    CurrencyWrongValue,
    ERC20InsufficientAllowance,
    ReentrancyGuardReentrantCall,
    SafeCastOverflowedUintDowncast,
    TreasuryContributionTooLarge,
    TreasuryEpochCapExceeded,
    TreasuryGrantAlreadyCancelled,
    TreasuryGrantNotFound,
    TreasuryInsufficientFreeBalance,
    TreasuryInvalidCategory,
    TreasuryInvalidEpochLength,
    TreasuryInvalidProjectCount,
    TreasuryInvalidRoundWindow,
    TreasuryInvalidSchedule,
    TreasuryInvalidTrancheCount,
    TreasuryNotGrantRecipient,
    TreasuryNothingToClaim,
    TreasuryNotMilestoneGrant,
    TreasuryNotProjectRecipient,
    TreasuryNotReleaser,
    TreasuryProjectAlreadyClaimed,
    TreasuryProjectOutOfRange,
    TreasuryRoundAlreadyFinalized,
    TreasuryRoundNotActive,
    TreasuryRoundNotEnded,
    TreasuryRoundNotFinalized,
    TreasuryRoundNotFound,
    TreasuryTrancheAlreadyReleased,
    TreasuryTrancheOutOfRange,
    TreasuryZeroAddress,
    TreasuryZeroAmount,
)
from civicdao.accounts import NodeSigner
from civicdao.chain import ChainControl
from civicdao.contracts import deploy_contract
from civicdao.deploy import Suite
from civicdao.errors import ConfigError, InvalidAddressError, InvalidAmountError
from civicdao.governance import Action
from civicdao.reverts import decode_revert
from civicdao.tokens import ensure_allowance
from civicdao.tx import TxRecord, call, send_transaction, transact

ETH = tr.ETH
DAY = 86_400
EPOCH = 30 * DAY
ETHER = 10**18
TOKEN_CAP = 1_000 * ETHER
GOVERNOR_ROLE = Web3.keccak(text="GOVERNOR_ROLE")
NO_NOTE = b"\x00" * 32


@dataclass(frozen=True)
class Standalone:
    w3: Web3
    control: ChainControl
    treasury: Contract
    api: tr.Treasury  # the library's typed calls over the same contract
    registry: Contract
    token: Contract
    admin: NodeSigner
    citizens: tuple[NodeSigner, ...]
    outsiders: tuple[NodeSigner, ...]

    def gov(self, fn: Any, *, value: int = 0) -> TxRecord:
        """Send a governor-only call from the admin."""
        return transact(self.w3, self.admin, fn, value=value)

    def run(self, action: Action) -> TxRecord:
        """Execute a library-built governance action as the Timelock would (one call from the governor)."""
        return send_transaction(
            self.w3, self.admin, to=action.target, data=action.calldata, value=action.value
        )

    def now(self) -> int:
        return self.control.time()


@pytest.fixture(scope="module")
def st(suite: Suite, w3: Web3, control: ChainControl, accounts: list[NodeSigner]) -> Iterator[Standalone]:
    """A treasury administered by accounts[0], ETH uncapped and the token capped, in epoch 1.

    Depends on ``suite`` so that the session deployment exists before this module's snapshot, which is
    reverted at the end (this module moves the clock).
    """
    snapshot = control.snapshot()
    admin = accounts[0]
    registry, _ = deploy_contract(w3, admin, "MockCitizenRegistry")
    treasury, _ = deploy_contract(w3, admin, "PublicTreasury", admin.address, registry.address, EPOCH)
    token, _ = deploy_contract(w3, admin, "MockERC20", "Commons Token", "CT", 18)
    transact(w3, admin, treasury.functions.setEpochCap(ETH, tr.UNCAPPED))
    transact(w3, admin, treasury.functions.setEpochCap(token.address, TOKEN_CAP))
    citizens = tuple(accounts[1:5])
    for citizen in citizens:
        transact(w3, admin, registry.functions.setCitizen(citizen.address, True))
    for account in accounts[1:8]:
        transact(w3, admin, token.functions.mint(account.address, 10_000 * ETHER))
    control.increase_time(EPOCH)  # raises apply from the next epoch
    api = tr.Treasury(w3, treasury)
    yield Standalone(w3, control, treasury, api, registry, token, admin, citizens, tuple(accounts[5:8]))
    control.revert(snapshot)


def _warp(st: Standalone, timestamp: int) -> None:
    """Make the latest block, and the next one, carry exactly ``timestamp`` (Anvil allows equal stamps)."""
    st.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]
    st.control.mine()
    st.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]


def _fund(st: Standalone, amount: int = 100 * ETHER) -> None:
    st.api.donate(st.outsiders[0], amount, note="seed")


def _stream(st: Standalone, amount: int, start: int, cliff: int, duration: int, who: str = "") -> int:
    recipient = who or st.citizens[0].address
    action = st.api.stream_grant_action(
        recipient=recipient, amount=amount, start=start, cliff=cliff, duration=duration
    )
    return st.api.grant_id_of(st.run(action)).grant_id


def _round(st: Standalone, projects: list[str], pool: int, *, length: int = DAY, token: str = ETH) -> int:
    now = st.now()
    action = st.api.open_round_action(
        projects=projects, matching_pool=pool, start=now, end=now + length, token=token
    )
    opened = st.api.qf_round_id_of(st.run(action))
    assert (opened.matching_pool, opened.project_count, opened.token) == (pool, len(projects), token)
    return opened.round_id


# ───────────────────────────────────────── who may spend ─────────────────────────────────────────


def _governor_calls(treasury: Contract, someone: str) -> dict[str, Any]:
    return {
        "transfer": treasury.functions.transfer(ETH, someone, 1, NO_NOTE),
        "createStreamGrant": treasury.functions.createStreamGrant(ETH, someone, 1, 0, 0, 10),
        "createMilestoneGrant": treasury.functions.createMilestoneGrant(ETH, someone, [1]),
        "cancelGrant": treasury.functions.cancelGrant(0),
        "cancelProjectPayout": treasury.functions.cancelProjectPayout(0, 0),
        "openRound": treasury.functions.openRound(ETH, 0, [someone], 0, 2**40),
        "setEpochCap": treasury.functions.setEpochCap(ETH, 1),
        "setEpochLength": treasury.functions.setEpochLength(DAY),
        "setRegistry": treasury.functions.setRegistry(someone),
    }


GOVERNOR_FUNCTIONS = [
    "transfer", "createStreamGrant", "createMilestoneGrant", "cancelGrant", "cancelProjectPayout",
    "openRound", "setEpochCap", "setEpochLength", "setRegistry",
]  # fmt: skip


@pytest.mark.parametrize("name", GOVERNOR_FUNCTIONS)
def test_governor_entry_point_reverts_for_anyone_but_the_timelock(
    name: str, suite: Suite, w3: Web3, accounts: list[NodeSigner]
) -> None:
    citizen = accounts[3]
    for caller in (accounts[0], citizen):  # the deployer handed every role over; a citizen never had one
        fn = _governor_calls(suite.treasury, citizen.address)[name]
        with pytest.raises(AccessControlUnauthorizedAccount) as err:
            transact(w3, caller, fn)
        assert err.value.account == caller.address
        assert err.value.neededRole == GOVERNOR_ROLE


def test_suite_treasury_governor_role_is_held_by_the_timelock_alone(suite: Suite, w3: Web3) -> None:
    logs = suite.treasury.events.RoleGranted.get_logs(from_block=0)
    revoked = suite.treasury.events.RoleRevoked.get_logs(from_block=0)
    holders = {e.args.account for e in logs if e.args.role == GOVERNOR_ROLE} - {
        e.args.account for e in revoked if e.args.role == GOVERNOR_ROLE
    }
    assert holders == {suite.timelock.address}
    assert call(suite.treasury.functions.hasRole(GOVERNOR_ROLE, suite.timelock.address))


def test_standalone_governor_calls_revert_for_a_citizen(st: Standalone) -> None:
    citizen = st.citizens[1]
    for name, fn in _governor_calls(st.treasury, citizen.address).items():
        with pytest.raises(AccessControlUnauthorizedAccount) as err:
            transact(st.w3, citizen, fn)
        assert err.value.account == citizen.address, name


def test_constructor_rejects_zero_admin_zero_registry_and_bad_epoch(st: Standalone) -> None:
    registry = st.registry.address
    with pytest.raises(TreasuryZeroAddress):
        deploy_contract(st.w3, st.admin, "PublicTreasury", ETH, registry, EPOCH)
    with pytest.raises(TreasuryZeroAddress):
        deploy_contract(st.w3, st.admin, "PublicTreasury", st.admin.address, ETH, EPOCH)
    for length in (DAY - 1, 365 * DAY + 1):
        with pytest.raises(TreasuryInvalidEpochLength) as err:
            deploy_contract(st.w3, st.admin, "PublicTreasury", st.admin.address, registry, length)
        assert err.value.length == length


# ───────────────────────────────────────── inflows ─────────────────────────────────────────


def test_donate_eth_counts_a_donation_with_its_note(st: Standalone) -> None:
    donor = st.outsiders[1]
    result = st.api.donate(donor, 3 * ETHER, note="spring-fair")
    assert (result.donor, result.token, result.amount, result.note) == (
        donor.address,
        ETH,
        3 * ETHER,
        "spring-fair",
    )
    balance = st.api.token_balance()
    assert (balance.balance, balance.free, balance.committed) == (3 * ETHER, 3 * ETHER, 0)
    assert balance.total_in == 3 * ETHER
    assert balance.inflow("donation") == 3 * ETHER
    with pytest.raises(FrozenInstanceError):
        balance.free = 0  # type: ignore[misc]


def test_donate_token_approves_and_pulls(st: Standalone) -> None:
    donor = st.outsiders[1]
    result = st.api.donate(donor, 5 * ETHER, token=st.token.address, note=b"\x01\x02")
    assert result.note == "0x0102" + "00" * 30  # bytes that are not text are shown as hex
    balance = st.api.token_balance(st.token.address)
    assert (balance.balance, balance.total_in, balance.inflow("donation")) == (5 * ETHER,) * 3
    assert call(st.token.functions.allowance(donor.address, st.treasury.address)) == 0


def test_donate_token_without_approval_reverts_when_told_not_to_approve(st: Standalone) -> None:
    with pytest.raises(ERC20InsufficientAllowance):
        st.api.donate(st.outsiders[1], ETHER, token=st.token.address, approve=False)


def test_plain_eth_send_counts_as_donation_with_empty_note(st: Standalone) -> None:
    record = send_transaction(st.w3, st.outsiders[2], to=st.treasury.address, value=ETHER)
    event = record.event("DonationReceived")
    assert (event["amount"], event["note"]) == (ETHER, NO_NOTE)
    assert st.api.token_balance().inflow("donation") == ETHER


def test_donate_zero_reverts_and_donate_token_zero_address_reverts(st: Standalone) -> None:
    with pytest.raises(TreasuryZeroAmount):
        transact(st.w3, st.outsiders[0], st.treasury.functions.donate(NO_NOTE))
    with pytest.raises(TreasuryZeroAmount):
        send_transaction(st.w3, st.outsiders[0], to=st.treasury.address, value=0)
    with pytest.raises(TreasuryZeroAddress):
        transact(st.w3, st.outsiders[0], st.treasury.functions.donateToken(ETH, 1, NO_NOTE))


def test_donate_token_refuses_fee_on_transfer_token(st: Standalone) -> None:
    fee_token, _ = deploy_contract(st.w3, st.admin, "MockFeeOnTransferERC20")
    donor = st.outsiders[0]
    transact(st.w3, donor, fee_token.functions.mint(donor.address, 1_000))
    with pytest.raises(CurrencyTokenShortfall) as err:
        st.api.donate(donor, 1_000, token=fee_token.address)
    assert (err.value.expected, err.value.received) == (1_000, 990)


def test_deposit_fee_records_each_category(st: Standalone) -> None:
    payer = st.outsiders[0]
    st.api.deposit_fee(payer, 300, category="room_house")
    st.api.deposit_fee(payer, 200, category=1)
    result = st.api.deposit_fee(payer, 7 * ETHER, category="tool", token=st.token.address)
    assert (result.category, result.amount, result.token) == ("tool", 7 * ETHER, st.token.address)
    eth = st.api.token_balance()
    assert dict(eth.inflow_by_category) == {
        "room_house": 300, "space": 200, "tool": 0, "skill": 0, "nature": 0, "donation": 0,
    }  # fmt: skip
    assert eth.total_in == 500
    assert st.api.token_balance(st.token.address).inflow("tool") == 7 * ETHER


def test_deposit_fee_reverts_on_bad_category_value_or_eth(st: Standalone) -> None:
    payer, fns = st.outsiders[0], st.treasury.functions
    with pytest.raises(TreasuryInvalidCategory) as err:
        transact(st.w3, payer, fns.depositFee(ETH, 1, 5), value=1)
    assert err.value.category == 5
    with pytest.raises(CurrencyWrongValue) as mismatch:
        transact(st.w3, payer, fns.depositFee(ETH, 10, 0), value=9)
    assert (mismatch.value.expected, mismatch.value.sent) == (10, 9)
    with pytest.raises(CurrencyWrongValue) as unexpected:
        transact(st.w3, payer, fns.depositFee(st.token.address, 10, 0), value=1)
    assert (unexpected.value.expected, unexpected.value.sent) == (0, 1)
    with pytest.raises(TreasuryZeroAmount):
        transact(st.w3, payer, fns.depositFee(ETH, 0, 0))


@pytest.mark.parametrize(
    ("call_it", "error"),
    [
        (lambda s: s.api.donate(s.admin, -1), InvalidAmountError),
        (lambda s: s.api.donate(s.admin, 0), InvalidAmountError),
        (lambda s: s.api.donate(s.admin, True), InvalidAmountError),
        (lambda s: s.api.donate(s.admin, 1.5), InvalidAmountError),
        (lambda s: s.api.donate(s.admin, 1, note="x" * 33), ConfigError),
        (lambda s: s.api.donate(s.admin, 1, token="0x123"), InvalidAddressError),
        (lambda s: s.api.deposit_fee(s.admin, 1, category="donation"), ConfigError),
        (lambda s: s.api.deposit_fee(s.admin, 1, category=5), ConfigError),
        (lambda s: s.api.claim_grant(s.admin, -1), ConfigError),
        (lambda s: s.api.contribute(s.admin, 0, 0, 0), InvalidAmountError),
        (lambda s: s.api.release_tranche(s.admin, 0, 32), ConfigError),
        (lambda s: tr.Treasury(s.w3, "not a treasury").token_balance(ETH), ConfigError),  # type: ignore[arg-type]
        (lambda s: tr.Treasury.from_suite(s.treasury), ConfigError),  # type: ignore[arg-type]
        (lambda s: tr.Treasury.at(s.w3, "0x123"), InvalidAddressError),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(st: Standalone, call_it: Any, error: type) -> None:
    block = st.w3.eth.block_number
    with pytest.raises(error):
        call_it(st)
    assert st.w3.eth.block_number == block


# ───────────────────────────────────────── transfers and caps ─────────────────────────────────────


def test_transfer_action_pays_and_counts_out(st: Standalone) -> None:
    _fund(st, 10 * ETHER)
    receiver = st.outsiders[2].address
    before = st.w3.eth.get_balance(receiver)
    action = st.api.transfer_action(to=receiver, amount=4 * ETHER, memo="prop-7")
    assert (action.target, action.value) == (st.treasury.address, 0)
    assert "Transfer 4000000000000000000 wei (4 ETH)" in action.description
    record = st.run(action)
    assert record.event("Transferred")["memo"] == b"prop-7".ljust(32, b"\x00")
    assert st.w3.eth.get_balance(receiver) - before == 4 * ETHER
    balance = st.api.token_balance()
    assert (balance.balance, balance.total_out) == (6 * ETHER, 4 * ETHER)


def test_transfer_reverts_on_zero_receiver_zero_amount_and_short_free_balance(st: Standalone) -> None:
    _fund(st, ETHER)
    fns = st.treasury.functions
    with pytest.raises(TreasuryZeroAddress):
        st.gov(fns.transfer(ETH, ETH, 1, NO_NOTE))
    with pytest.raises(TreasuryZeroAmount):
        st.gov(fns.transfer(ETH, st.admin.address, 0, NO_NOTE))
    with pytest.raises(TreasuryInsufficientFreeBalance) as err:
        st.gov(fns.transfer(ETH, st.admin.address, ETHER + 1, NO_NOTE))
    assert (err.value.requested, err.value.available) == (ETHER + 1, ETHER)


def test_transfer_to_a_receiver_that_refuses_eth_reverts_whole(st: Standalone) -> None:
    _fund(st, ETHER)
    refuser, _ = deploy_contract(st.w3, st.admin, "MockRevertingReceiver")
    with pytest.raises(CurrencyNativeTransferFailed):
        st.run(st.api.transfer_action(to=refuser.address, amount=ETHER))
    assert st.api.token_balance().total_out == 0


def test_set_cap_lowering_applies_at_once_and_is_enforced(st: Standalone) -> None:
    _fund(st, 10 * ETHER)
    st.run(st.api.set_cap_action(cap=2 * ETHER))
    status = st.api.epoch_status()
    assert (status.cap, status.pending_cap, status.remaining) == (2 * ETHER, 0, 2 * ETHER)
    st.run(st.api.transfer_action(to=st.admin.address, amount=ETHER + 1))
    with pytest.raises(TreasuryEpochCapExceeded) as err:
        st.run(st.api.transfer_action(to=st.admin.address, amount=ETHER))
    assert (err.value.epoch, err.value.requested, err.value.remaining) == (status.epoch, ETHER, ETHER - 1)


def test_set_cap_raise_applies_only_from_the_next_epoch(st: Standalone) -> None:
    """A captured vote cannot raise the cap and drain in the same epoch."""
    _fund(st, 50 * ETHER)
    st.run(st.api.set_cap_action(cap=ETHER))
    record = st.run(st.api.set_cap_action(cap=40 * ETHER))
    status = st.api.epoch_status()
    assert record.event("EpochCapSet")["effectiveFromEpoch"] == status.epoch + 1
    assert (status.cap, status.pending_cap, status.pending_from_epoch) == (
        ETHER,
        40 * ETHER,
        status.epoch + 1,
    )
    with pytest.raises(TreasuryEpochCapExceeded):
        st.run(st.api.transfer_action(to=st.admin.address, amount=2 * ETHER))
    st.control.increase_time(status.end - st.now())
    later = st.api.epoch_status()
    assert (later.epoch, later.cap, later.pending_cap) == (status.epoch + 1, 40 * ETHER, 0)
    st.run(st.api.transfer_action(to=st.admin.address, amount=40 * ETHER))


def test_cap_zero_stops_spending_and_uncapped_allows_everything_free(st: Standalone) -> None:
    _fund(st, 10 * ETHER)
    st.run(st.api.set_cap_action(cap=0))
    with pytest.raises(TreasuryEpochCapExceeded) as err:
        st.run(st.api.transfer_action(to=st.admin.address, amount=1))
    assert err.value.remaining == 0
    fresh, _ = deploy_contract(st.w3, st.admin, "MockERC20", "New", "NEW", 6)
    assert st.api.epoch_status(fresh.address).cap == 0  # never set = nothing may be spent
    assert not st.api.epoch_status(fresh.address).uncapped


def test_set_epoch_length_applies_from_the_end_of_the_current_epoch(st: Standalone) -> None:
    before = st.api.epoch_status()
    record = st.run(st.api.set_epoch_length_action(7 * DAY))
    event = record.event("EpochLengthSet")
    assert (event["oldLength"], event["newLength"]) == (before.length, 7 * DAY)
    assert (event["anchor"], event["epochAtAnchor"]) == (before.end, before.epoch + 1)
    during = st.api.epoch_status()
    assert (during.epoch, during.length, during.start, during.end) == (
        before.epoch,
        before.length,
        before.start,
        before.end,
    )
    assert during.pending_length == 7 * DAY
    st.control.increase_time(before.end - st.now())
    after = st.api.epoch_status()
    assert (after.epoch, after.length, after.start, after.end) == (
        before.epoch + 1,
        7 * DAY,
        before.end,
        before.end + 7 * DAY,
    )
    assert after.pending_length == 0
    st.control.increase_time(7 * DAY)
    assert st.api.epoch_status().epoch == before.epoch + 2


def test_set_epoch_length_later_change_replaces_a_scheduled_one(st: Standalone) -> None:
    before = st.api.epoch_status()
    st.run(st.api.set_epoch_length_action(7 * DAY))
    st.run(st.api.set_epoch_length_action(2 * DAY))
    assert st.api.epoch_status().pending_length == 2 * DAY
    st.control.increase_time(before.end - st.now())
    assert st.api.epoch_status().length == 2 * DAY


def test_set_epoch_length_cannot_bring_a_cap_raise_forward(st: Standalone) -> None:
    """A captured vote that raises a cap and shortens epochs still waits for the current epoch's end."""
    token = st.token.address
    status = st.api.epoch_status(token)
    st.run(st.api.set_cap_action(cap=10 * TOKEN_CAP, token=token))
    st.run(st.api.set_epoch_length_action(DAY))
    st.control.increase_time(2 * DAY)
    still = st.api.epoch_status(token)
    assert (still.epoch, still.cap) == (status.epoch, status.cap)
    st.control.increase_time(status.end - st.now())
    raised = st.api.epoch_status(token)
    assert (raised.epoch, raised.cap, raised.length) == (status.epoch + 1, 10 * TOKEN_CAP, DAY)


def test_set_epoch_length_rejects_out_of_range(st: Standalone) -> None:
    for length in (DAY - 1, 365 * DAY + 1):
        with pytest.raises(TreasuryInvalidEpochLength):
            st.gov(st.treasury.functions.setEpochLength(length))
        with pytest.raises(ConfigError):
            st.api.set_epoch_length_action(length)


def test_set_citizen_registry_action_switches_matching_registry(st: Standalone) -> None:
    other, _ = deploy_contract(st.w3, st.admin, "MockCitizenRegistry")
    record = st.run(st.api.set_citizen_registry_action(other.address))
    assert record.event("RegistrySet")["newRegistry"] == other.address
    assert call(st.treasury.functions.registry()) == other.address
    with pytest.raises(TreasuryZeroAddress):
        st.gov(st.treasury.functions.setRegistry(ETH))


# ───────────────────────────────────────── stream grants ─────────────────────────────────────────


def test_stream_grant_vests_linearly_after_the_cliff_exact_amounts(st: Standalone) -> None:
    _fund(st, ETHER)
    start = st.now() + 100
    grant_id = _stream(st, 1_000_000, start, cliff=1_000, duration=10_000)
    recipient = st.citizens[0]
    info = st.api.get_grant(grant_id)
    assert (info.kind, info.amount, info.start, info.cliff, info.duration) == (
        "stream",
        1_000_000,
        start,
        1_000,
        10_000,
    )
    assert st.api.token_balance().committed == 1_000_000

    _warp(st, start + 999)
    with pytest.raises(TreasuryNothingToClaim) as err:
        st.api.claim_grant(recipient, grant_id)
    assert err.value.grantId == grant_id
    _warp(st, start + 1_000)
    assert st.api.claim_grant(recipient, grant_id).amount == 100_000  # 1e6 * 1000 / 10000
    _warp(st, start + 2_500)
    assert st.api.claim_grant(recipient, grant_id).amount == 150_000  # 250_000 vested - 100_000
    _warp(st, start + 10_000 + 5)
    assert st.api.claim_grant(recipient, grant_id).amount == 750_000
    info = st.api.get_grant(grant_id)
    assert (info.vested, info.claimed, info.claimable) == (1_000_000, 1_000_000, 0)
    balance = st.api.token_balance()
    assert (balance.committed, balance.total_out, balance.balance) == (0, 1_000_000, ETHER - 1_000_000)


def test_stream_vesting_rounds_down(st: Standalone) -> None:
    _fund(st, ETHER)
    start = st.now() + 10
    grant_id = _stream(st, 1_000_003, start, cliff=0, duration=7)
    _warp(st, start + 3)
    assert st.api.claim_grant(st.citizens[0], grant_id).amount == 428_572  # ⌊1_000_003·3/7⌋
    _warp(st, start + 6)
    assert st.api.claim_grant(st.citizens[0], grant_id).amount == 857_145 - 428_572
    _warp(st, start + 7)
    assert st.api.claim_grant(st.citizens[0], grant_id).amount == 1_000_003 - 857_145


def test_cancel_stream_returns_the_unvested_part_exactly(st: Standalone) -> None:
    _fund(st, ETHER)
    start = st.now() + 10
    grant_id = _stream(st, 1_000_000, start, cliff=0, duration=10_000)
    spent = st.api.epoch_status().spent
    _warp(st, start + 3_333)
    record = st.run(st.api.cancel_grant_action(grant_id))
    event = record.event("GrantCancelled")
    assert (event["returned"], event["remainingEntitlement"]) == (666_700, 333_300)
    balance = st.api.token_balance()
    assert (balance.committed, balance.free) == (333_300, ETHER - 333_300)
    assert st.api.epoch_status().spent == spent  # a cancellation does not refund the epoch allowance
    st.control.increase_time(20_000)
    info = st.api.get_grant(grant_id)
    assert (info.cancelled, info.amount, info.vested, info.claimable) == (True, 333_300, 333_300, 333_300)
    assert st.api.claim_grant(st.citizens[0], grant_id).amount == 333_300
    assert st.api.token_balance().committed == 0


def test_cancel_before_the_cliff_returns_everything(st: Standalone) -> None:
    _fund(st, ETHER)
    grant_id = _stream(st, 500, st.now() + 10, cliff=100, duration=1_000)
    event = st.run(st.api.cancel_grant_action(grant_id)).event("GrantCancelled")
    assert (event["returned"], event["remainingEntitlement"]) == (500, 0)
    with pytest.raises(TreasuryNothingToClaim):
        st.api.claim_grant(st.citizens[0], grant_id)


def test_stream_grant_reverts(st: Standalone) -> None:
    _fund(st, 10)
    fns, who = st.treasury.functions, st.citizens[0].address
    with pytest.raises(TreasuryInvalidSchedule) as err:
        st.gov(fns.createStreamGrant(ETH, who, 1, 5, 0, 0))
    assert (err.value.start, err.value.cliff, err.value.duration) == (5, 0, 0)
    with pytest.raises(TreasuryInvalidSchedule):
        st.gov(fns.createStreamGrant(ETH, who, 1, 5, 11, 10))
    with pytest.raises(TreasuryZeroAddress):
        st.gov(fns.createStreamGrant(ETH, ETH, 1, 5, 0, 10))
    with pytest.raises(TreasuryZeroAmount):
        st.gov(fns.createStreamGrant(ETH, who, 0, 5, 0, 10))
    with pytest.raises(TreasuryInsufficientFreeBalance):
        st.gov(fns.createStreamGrant(ETH, who, 11, 5, 0, 10))
    with pytest.raises(TreasuryGrantNotFound) as missing:
        st.api.claim_grant(st.citizens[0], 7)
    assert missing.value.grantId == 7
    with pytest.raises(TreasuryGrantNotFound):
        st.run(st.api.cancel_grant_action(7))


def test_schedules_and_windows_beyond_40_bits_revert(st: Standalone) -> None:
    """Grant schedules and round windows are stored in 40 bits (until the year 36,812)."""
    _fund(st, 10)
    fns, who, big = st.treasury.functions, st.citizens[0].address, 2**40
    with pytest.raises(TreasuryInvalidSchedule) as err:
        st.gov(fns.createStreamGrant(ETH, who, 1, big, 0, 10))
    assert (err.value.start, err.value.cliff, err.value.duration) == (big, 0, 10)
    with pytest.raises(TreasuryInvalidSchedule):
        st.gov(fns.createStreamGrant(ETH, who, 1, 5, 0, big))
    with pytest.raises(TreasuryInvalidRoundWindow) as window:
        st.gov(fns.openRound(ETH, 0, [who], st.now(), big))
    assert window.value.end == big
    with pytest.raises(ConfigError):
        st.api.stream_grant_action(recipient=who, amount=1, start=big, duration=10)
    with pytest.raises(ConfigError):
        st.api.open_round_action(projects=[who], matching_pool=0, start=0, end=big)
    grant_id = _stream(st, 1, 2**40 - 11, cliff=0, duration=10)  # the last representable schedule
    assert st.api.get_grant(grant_id).start == 2**40 - 11


def test_token_counters_beyond_128_bits_revert(st: Standalone) -> None:
    """Commitments and the paid-out total are 128-bit counters: a token amount beyond them reverts."""
    huge, _ = deploy_contract(st.w3, st.admin, "MockERC20", "Huge", "HUGE", 18)
    donor = st.outsiders[0]
    transact(st.w3, st.admin, huge.functions.mint(donor.address, 2**140))
    st.gov(st.treasury.functions.setEpochCap(huge.address, tr.UNCAPPED))
    st.control.increase_time(EPOCH)  # a raise applies from the next epoch
    st.api.donate(donor, 2**140, token=huge.address, note="huge")
    fns, who = st.treasury.functions, st.citizens[0].address
    with pytest.raises(SafeCastOverflowedUintDowncast) as err:
        st.gov(fns.createStreamGrant(huge.address, who, 2**129, st.now(), 0, 10))
    assert (err.value.bits, err.value.value) == (128, 2**129)
    with pytest.raises(SafeCastOverflowedUintDowncast):
        st.gov(fns.transfer(huge.address, who, 2**129, NO_NOTE))
    st.gov(fns.transfer(huge.address, who, 2**127, NO_NOTE))
    assert st.api.token_balance(huge.address).total_out == 2**127


def test_claim_by_someone_else_and_double_cancel_revert(st: Standalone) -> None:
    _fund(st, ETHER)
    grant_id = _stream(st, 1_000, st.now() - 100, cliff=0, duration=10)
    with pytest.raises(TreasuryNotGrantRecipient) as err:
        st.api.claim_grant(st.citizens[1], grant_id)
    assert (err.value.grantId, err.value.caller) == (grant_id, st.citizens[1].address)
    st.run(st.api.cancel_grant_action(grant_id))
    with pytest.raises(TreasuryGrantAlreadyCancelled):
        st.run(st.api.cancel_grant_action(grant_id))
    assert st.api.claim_grant(st.citizens[0], grant_id).amount == 1_000  # fully vested stays owed


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"duration": 0}, ConfigError),
        ({"cliff": 11, "duration": 10}, ConfigError),
        ({"amount": 0}, InvalidAmountError),
        ({"amount": -5}, InvalidAmountError),
        ({"recipient": ETH}, InvalidAddressError),
        ({"recipient": "alice"}, InvalidAddressError),
        ({"start": 2**64}, ConfigError),
        ({"token": "0xnope"}, InvalidAddressError),
    ],
)
def test_stream_grant_action_validates_input(st: Standalone, kwargs: dict[str, Any], error: type) -> None:
    args: dict[str, Any] = {"recipient": st.citizens[0].address, "amount": 10, "start": 0, "duration": 10}
    with pytest.raises(error):
        st.api.stream_grant_action(**(args | kwargs))


# ───────────────────────────────────────── milestone grants ─────────────────────────────────────────


def test_milestone_grant_steward_releases_recipient_claims_cancel_returns_rest(st: Standalone) -> None:
    _fund(st, ETHER)
    steward, recipient = st.outsiders[2], st.citizens[2]
    st.run(st.api.set_steward_action(steward.address))
    action = st.api.milestone_grant_action(recipient=recipient.address, tranches=[100, 250, 650])
    assert "1000 wei" in action.description and "3 tranches" in action.description
    created = st.api.grant_id_of(st.run(action))
    assert (created.kind, created.amount, created.recipient) == ("milestone", 1000, recipient.address)
    grant_id = created.grant_id
    released = st.api.release_tranche(steward, grant_id, 1)
    assert (released.amount, released.releaser, released.index) == (250, steward.address, 1)
    assert st.api.claim_grant(recipient, grant_id).amount == 250
    st.api.release_tranche(st.admin, grant_id, 0)  # the governor may release too
    info = st.api.get_grant(grant_id)
    assert (info.kind, info.tranches, info.released_tranches, info.claimable) == (
        "milestone",
        (100, 250, 650),
        (0, 1),
        100,
    )
    event = st.run(st.api.cancel_grant_action(grant_id)).event("GrantCancelled")
    assert (event["returned"], event["remainingEntitlement"]) == (650, 350)
    with pytest.raises(TreasuryGrantAlreadyCancelled):
        st.api.release_tranche(steward, grant_id, 2)
    assert st.api.claim_grant(recipient, grant_id).amount == 100
    assert st.api.token_balance().committed == 0
    st.run(st.api.set_steward_action(steward.address, appointed=False))
    with pytest.raises(TreasuryNotReleaser):
        st.api.release_tranche(steward, grant_id, 2)


def test_milestone_grant_reverts(st: Standalone) -> None:
    _fund(st, ETHER)
    fns, who = st.treasury.functions, st.citizens[0].address
    with pytest.raises(TreasuryInvalidTrancheCount) as err:
        st.gov(fns.createMilestoneGrant(ETH, who, []))
    assert err.value.count == 0
    with pytest.raises(TreasuryInvalidTrancheCount):
        st.gov(fns.createMilestoneGrant(ETH, who, [1] * 33))
    with pytest.raises(TreasuryZeroAmount):
        st.gov(fns.createMilestoneGrant(ETH, who, [1, 0]))
    grant_id = int(
        st.gov(fns.createMilestoneGrant(ETH, who, [5, 6])).event("MilestoneGrantCreated")["grantId"]
    )
    with pytest.raises(TreasuryNotReleaser) as outsider:
        st.api.release_tranche(st.outsiders[0], grant_id, 0)
    assert outsider.value.caller == st.outsiders[0].address
    with pytest.raises(TreasuryTrancheOutOfRange) as out_of_range:
        st.api.release_tranche(st.admin, grant_id, 2)
    assert out_of_range.value.index == 2
    st.api.release_tranche(st.admin, grant_id, 0)
    with pytest.raises(TreasuryTrancheAlreadyReleased):
        st.api.release_tranche(st.admin, grant_id, 0)
    with pytest.raises(TreasuryGrantNotFound):
        st.api.release_tranche(st.admin, 9, 0)
    stream_id = _stream(st, 10, st.now(), 0, 10)
    with pytest.raises(TreasuryNotMilestoneGrant):
        st.api.release_tranche(st.admin, stream_id, 0)
    unreleased = st.gov(fns.createMilestoneGrant(ETH, who, [1])).event("MilestoneGrantCreated")["grantId"]
    with pytest.raises(TreasuryNothingToClaim):
        st.api.claim_grant(st.citizens[0], unreleased)


def test_milestone_grant_action_validates_tranches(st: Standalone) -> None:
    who = st.citizens[0].address
    with pytest.raises(ConfigError):
        st.api.milestone_grant_action(recipient=who, tranches=[])
    with pytest.raises(ConfigError):
        st.api.milestone_grant_action(recipient=who, tranches=[1] * 33)
    with pytest.raises(InvalidAmountError):
        st.api.milestone_grant_action(recipient=who, tranches=[1, 0])


# ───────────────────────────────────────── quadratic funding ─────────────────────────────────────────


def test_qf_round_pays_three_projects_exact_matching(st: Standalone) -> None:
    """(Σ√c)² - Σc per project, scaled down to a pool smaller than the total, non-citizens unmatched."""
    _fund(st, 20 * ETHER)
    c1, c2, c3, c4 = st.citizens
    outsider = st.outsiders[0]
    projects = [a.address for a in st.outsiders[1:3]] + [st.admin.address]
    round_id = _round(st, projects, 7 * ETHER)
    assert st.api.token_balance().committed == 7 * ETHER
    for citizen in (c1, c2, c3, c4):
        assert st.api.contribute(citizen, round_id, 0, ETHER).matched
    st.api.contribute(c1, round_id, 1, 4 * ETHER)
    st.api.contribute(c2, round_id, 2, ETHER)
    st.api.contribute(c3, round_id, 2, ETHER)
    assert not st.api.contribute(outsider, round_id, 2, 100 * ETHER).matched
    info = st.api.get_round(round_id)
    assert [p.raw_matching for p in info.projects] == [12 * ETHER, 0, 2 * ETHER]
    assert [p.citizen_contributions for p in info.projects] == [4 * ETHER, 4 * ETHER, 2 * ETHER]
    with pytest.raises(TreasuryRoundNotEnded):
        st.api.finalize_round(outsider, round_id)
    st.control.increase_time(DAY)
    final = st.api.finalize_round(outsider, round_id)
    assert (final.total_matching, final.leftover) == (7 * ETHER, 0)
    assert [p.matching for p in st.api.get_round(round_id).projects] == [6 * ETHER, 0, ETHER]
    payouts = [
        st.api.claim_round_payout(signer, round_id, i)
        for i, signer in enumerate([st.outsiders[1], st.outsiders[2], st.admin])
    ]
    assert [(p.contributions, p.matching) for p in payouts] == [
        (4 * ETHER, 6 * ETHER), (4 * ETHER, 0), (102 * ETHER, ETHER),
    ]  # fmt: skip
    balance = st.api.token_balance()
    assert (balance.balance, balance.committed, balance.total_out) == (13 * ETHER, 0, 7 * ETHER)


def test_qf_round_with_pool_larger_than_matches_frees_the_leftover(st: Standalone) -> None:
    _fund(st, 20 * ETHER)
    round_id = _round(st, [st.outsiders[1].address], 10 * ETHER)
    st.api.contribute(st.citizens[0], round_id, 0, ETHER)
    st.api.contribute(st.citizens[1], round_id, 0, ETHER)
    st.api.contribute(st.citizens[0], round_id, 0, 3 * ETHER)  # a citizen's total counts once
    st.control.increase_time(DAY)
    final = st.api.finalize_round(st.outsiders[0], round_id)
    # (√4 + √1)² - 5 = 9 - 5 = 4 ETH; leftover 6 ETH returns to the free balance
    assert (final.total_matching, final.leftover) == (4 * ETHER, 6 * ETHER)
    balance = st.api.token_balance()
    assert (balance.committed, balance.free) == (5 * ETHER + 4 * ETHER, 20 * ETHER - 4 * ETHER)


def test_qf_token_round_contributions_are_pulled_after_approval(st: Standalone) -> None:
    st.api.donate(st.outsiders[0], 100 * ETHER, token=st.token.address)
    round_id = _round(st, [st.outsiders[1].address], 50 * ETHER, token=st.token.address)
    st.api.contribute(st.citizens[0], round_id, 0, 9 * ETHER)
    st.api.contribute(st.citizens[1], round_id, 0, 4 * ETHER)
    with pytest.raises(CurrencyWrongValue):
        transact(st.w3, st.citizens[2], st.treasury.functions.contribute(round_id, 0, 1), value=1)
    st.control.increase_time(DAY)
    st.api.finalize_round(st.outsiders[0], round_id)
    payout = st.api.claim_round_payout(st.outsiders[1], round_id, 0)
    assert (payout.contributions, payout.matching, payout.amount) == (13 * ETHER, 12 * ETHER, 25 * ETHER)
    assert call(st.token.functions.balanceOf(st.outsiders[1].address)) == 10_000 * ETHER + 25 * ETHER


def test_qf_round_reverts(st: Standalone) -> None:
    _fund(st, 10 * ETHER)
    fns, now = st.treasury.functions, st.now()
    who = st.outsiders[1].address
    with pytest.raises(TreasuryInvalidProjectCount) as count:
        st.gov(fns.openRound(ETH, 0, [], now, now + DAY))
    assert count.value.count == 0
    with pytest.raises(TreasuryInvalidProjectCount):
        st.gov(fns.openRound(ETH, 0, [who] * 51, now, now + DAY))
    with pytest.raises(TreasuryInvalidRoundWindow):
        st.gov(fns.openRound(ETH, 0, [who], now + DAY, now + DAY))
    with pytest.raises(TreasuryInvalidRoundWindow):
        st.gov(fns.openRound(ETH, 0, [who], now - 2 * DAY, now - DAY))
    with pytest.raises(TreasuryZeroAddress):
        st.gov(fns.openRound(ETH, 0, [who, ETH], now, now + DAY))
    with pytest.raises(TreasuryInsufficientFreeBalance):
        st.gov(fns.openRound(ETH, 11 * ETHER, [who], now, now + DAY))
    with pytest.raises(TreasuryRoundNotFound) as missing:
        st.api.contribute(st.citizens[0], 3, 0, 1)
    assert missing.value.roundId == 3
    with pytest.raises(TreasuryRoundNotFound):
        st.api.finalize_round(st.admin, 3)
    with pytest.raises(TreasuryRoundNotFound):
        st.api.claim_round_payout(st.admin, 3, 0)

    later = st.gov(fns.openRound(ETH, ETHER, [who], now + DAY, now + 2 * DAY)).event("RoundOpened")["roundId"]
    with pytest.raises(TreasuryRoundNotActive) as early:
        st.api.contribute(st.citizens[0], later, 0, 1)
    assert (early.value.start, early.value.end) == (now + DAY, now + 2 * DAY)
    with pytest.raises(TreasuryRoundNotFinalized):
        st.api.claim_round_payout(st.outsiders[1], later, 0)
    st.control.increase_time(DAY + 10)
    with pytest.raises(TreasuryProjectOutOfRange) as out_of_range:
        st.api.contribute(st.citizens[0], later, 1, 1)
    assert out_of_range.value.projectIndex == 1
    with pytest.raises(TreasuryZeroAmount):
        transact(st.w3, st.citizens[0], fns.contribute(later, 0, 0))
    with pytest.raises(CurrencyWrongValue):
        transact(st.w3, st.citizens[0], fns.contribute(later, 0, 5), value=4)
    st.api.contribute(st.citizens[0], later, 0, 5)
    _warp(st, now + 2 * DAY)
    with pytest.raises(TreasuryRoundNotActive):  # the end is exclusive
        st.api.contribute(st.citizens[0], later, 0, 1)
    st.api.finalize_round(st.admin, later)
    with pytest.raises(TreasuryRoundAlreadyFinalized):
        st.api.finalize_round(st.admin, later)
    with pytest.raises(TreasuryNotProjectRecipient) as stranger:
        st.api.claim_round_payout(st.citizens[0], later, 0)
    assert stranger.value.caller == st.citizens[0].address
    with pytest.raises(TreasuryProjectOutOfRange):
        st.api.claim_round_payout(st.outsiders[1], later, 1)
    st.api.claim_round_payout(st.outsiders[1], later, 0)
    with pytest.raises(TreasuryProjectAlreadyClaimed):
        st.api.claim_round_payout(st.outsiders[1], later, 0)


def test_qf_contributions_above_two_to_the_96_per_project_revert(st: Standalone) -> None:
    """A project's unmatched and (apart) its citizens' contributions stay below 2^96 (Σ√ fits 128 bits)."""
    whale, citizen = st.outsiders[2], st.citizens[1]
    for who in (whale, citizen):
        transact(st.w3, who, st.token.functions.mint(who.address, 2**97))
    round_id = _round(st, [st.outsiders[1].address, st.outsiders[0].address], 0, token=st.token.address)
    st.api.contribute(whale, round_id, 0, 2**96 - 10)
    with pytest.raises(TreasuryContributionTooLarge) as err:
        st.api.contribute(whale, round_id, 0, 11)
    assert err.value.total == 2**96 + 1
    st.api.contribute(citizen, round_id, 0, 2**96 - 10)  # the citizens' side is counted apart
    with pytest.raises(TreasuryContributionTooLarge) as err:
        st.api.contribute(citizen, round_id, 0, 11)
    assert err.value.total == 2**96 + 1
    st.api.contribute(whale, round_id, 1, 2**96 - 1)  # each project has its own bound
    assert st.api.get_round(round_id).total_contributions == 3 * 2**96 - 21


def test_open_round_action_validates_input(st: Standalone) -> None:
    who = st.outsiders[1].address
    with pytest.raises(ConfigError):
        st.api.open_round_action(projects=[], matching_pool=0, start=0, end=1)
    with pytest.raises(ConfigError):
        st.api.open_round_action(projects=[who] * 51, matching_pool=0, start=0, end=1)
    with pytest.raises(ConfigError):
        st.api.open_round_action(projects=[who], matching_pool=0, start=5, end=5)
    with pytest.raises(InvalidAddressError):
        st.api.open_round_action(projects=[who, ETH], matching_pool=0, start=0, end=1)
    with pytest.raises(InvalidAmountError):
        st.api.open_round_action(projects=[who], matching_pool=-1, start=0, end=1)


# ───────────────────────────────────────── attacks ─────────────────────────────────────────


def test_grant_claim_reentrancy_is_blocked(st: Standalone) -> None:
    _fund(st, 10 * ETHER)
    attacker, _ = deploy_contract(st.w3, st.admin, "MockReentrantAttacker")
    grant_id = _stream(st, 3 * ETHER, st.now() - 100, 0, 10, who=attacker.address)
    claim = st.treasury.encode_abi("claim", args=[grant_id])
    transact(st.w3, st.outsiders[0], attacker.functions.arm(st.treasury.address, claim))
    record = transact(st.w3, st.outsiders[0], attacker.functions.execute(st.treasury.address, claim))
    assert call(attacker.functions.lastReentryFailed())
    assert isinstance(decode_revert(call(attacker.functions.lastRevertData())), ReentrancyGuardReentrantCall)
    assert len(record.events_named("GrantClaimed")) == 1
    assert st.w3.eth.get_balance(attacker.address) == 3 * ETHER
    assert st.api.token_balance().balance == 7 * ETHER


def test_round_payout_reentrancy_is_blocked(st: Standalone) -> None:
    _fund(st, 10 * ETHER)
    attacker, _ = deploy_contract(st.w3, st.admin, "MockReentrantAttacker")
    round_id = _round(st, [attacker.address], ETHER)
    st.api.contribute(st.citizens[0], round_id, 0, ETHER)
    st.api.contribute(st.citizens[1], round_id, 0, ETHER)
    st.control.increase_time(DAY)
    st.api.finalize_round(st.admin, round_id)
    claim = st.treasury.encode_abi("claimRound", args=[round_id, 0])
    transact(st.w3, st.outsiders[0], attacker.functions.arm(st.treasury.address, claim))
    transact(st.w3, st.outsiders[0], attacker.functions.execute(st.treasury.address, claim))
    assert isinstance(decode_revert(call(attacker.functions.lastRevertData())), ReentrancyGuardReentrantCall)
    assert st.w3.eth.get_balance(attacker.address) == 3 * ETHER  # 2 contributed + 1 matching, once


def test_sybil_non_citizens_earn_no_matching(st: Standalone) -> None:
    """Many small non-citizen contributions (a Sybil swarm) move no matching; one citizen pair does."""
    _fund(st, 10 * ETHER)
    round_id = _round(st, [st.outsiders[1].address, st.outsiders[2].address], ETHER)
    for sybil in (st.admin, st.outsiders[0], st.outsiders[1], st.outsiders[2]):
        st.api.contribute(sybil, round_id, 0, 10**16)
    st.api.contribute(st.citizens[0], round_id, 1, 10**16)
    st.api.contribute(st.citizens[1], round_id, 1, 10**16)
    st.control.increase_time(DAY)
    st.api.finalize_round(st.admin, round_id)
    projects = st.api.get_round(round_id).projects
    assert (projects[0].citizen_contributions, projects[0].matching) == (0, 0)
    assert projects[1].matching == 2 * 10**16  # (2·√c)² - 2c = 2c (c·1e18 is a perfect square)


def test_revoked_citizen_contributes_unmatched(st: Standalone) -> None:
    _fund(st, ETHER)
    round_id = _round(st, [st.outsiders[1].address], ETHER)
    transact(st.w3, st.admin, st.registry.functions.setCitizen(st.citizens[3].address, False))
    contribution = st.api.contribute(st.citizens[3], round_id, 0, 100)
    assert (contribution.matched, contribution.membership) == (False, 0)
    assert call(st.treasury.functions.matchedContributionOf(round_id, 0, st.citizens[3].address)) == 0
    assert st.api.get_round(round_id).projects[0].citizen_contributions == 0


def test_mock_registry_gives_each_citizen_its_own_membership(st: Standalone) -> None:
    fns = st.registry.functions
    assert [call(fns.membershipOf(c.address)) for c in st.citizens] == [1, 2, 3, 4]
    transact(st.w3, st.admin, fns.setCitizen(st.citizens[0].address, True))  # already one: same id
    assert call(fns.membershipOf(st.citizens[0].address)) == 1
    transact(st.w3, st.admin, fns.setCitizen(st.citizens[0].address, False))
    assert call(fns.membershipOf(st.citizens[0].address)) == 0
    assert not call(fns.isCitizen(st.citizens[0].address))
    transact(st.w3, st.admin, fns.setCitizen(st.outsiders[0].address, True))
    assert call(fns.membershipOf(st.outsiders[0].address)) == 5  # ids are never handed out twice
    transact(st.w3, st.admin, fns.setMembership(st.outsiders[1].address, 9))
    assert call(fns.isCitizen(st.outsiders[1].address))


def _rotate_in_mock(st: Standalone, old: str, new: str) -> None:
    """What a key rotation does to the registry: the membership id moves from ``old`` to ``new``."""
    fns = st.registry.functions
    transact(st.w3, st.admin, fns.setMembership(new, call(fns.membershipOf(old))))
    transact(st.w3, st.admin, fns.setMembership(old, 0))


def test_qf_a_citizen_who_rotates_keys_is_matched_once(st: Standalone) -> None:
    """1 ETH from key A, the membership moves to key B, 1 ETH from B: one citizen giving 2 ETH, no match."""
    _fund(st, 10 * ETHER)
    round_id = _round(st, [st.outsiders[1].address, st.outsiders[2].address], 5 * ETHER)
    old, new = st.citizens[3], st.outsiders[0]
    first = st.api.contribute(old, round_id, 0, ETHER)
    _rotate_in_mock(st, old.address, new.address)
    second = st.api.contribute(new, round_id, 0, ETHER)
    assert first.matched and second.matched
    assert first.membership == second.membership == 4
    assert st.api.matched_contribution_of(round_id, 0, new.address) == 2 * ETHER  # both keys' contributions
    assert st.api.matched_contribution_of(round_id, 0, old.address) == 0  # the old key holds no membership
    assert not st.api.contribute(old, round_id, 0, ETHER).matched  # nor is it matched any more
    st.api.contribute(st.citizens[0], round_id, 1, 2 * ETHER)  # the same 2 ETH from one key, for comparison
    rotated, single = st.api.get_round(round_id).projects
    assert rotated.sum_sqrt == single.sum_sqrt == math.isqrt(2 * ETHER * 10**18)
    assert (rotated.citizen_contributions, rotated.contributions) == (2 * ETHER, 3 * ETHER)
    assert rotated.raw_matching == single.raw_matching == 0  # per key it would have been (1+1)² - 2 = 2 ETH
    st.control.increase_time(DAY)
    final = st.api.finalize_round(st.admin, round_id)
    assert (final.total_matching, final.leftover) == (0, 5 * ETHER)


def test_qf_a_rotated_citizen_and_a_second_citizen_match_as_two(st: Standalone) -> None:
    """A rotation merges one citizen's keys, not two citizens: (√2 + √1)² - 3 on the project."""
    _fund(st, 10 * ETHER)
    round_id = _round(st, [st.outsiders[1].address], 5 * ETHER)
    old, new, other = st.citizens[2], st.outsiders[0], st.citizens[1]
    st.api.contribute(old, round_id, 0, ETHER)
    _rotate_in_mock(st, old.address, new.address)
    st.api.contribute(new, round_id, 0, ETHER)
    st.api.contribute(other, round_id, 0, ETHER)
    roots = math.isqrt(2 * ETHER * 10**18) + math.isqrt(ETHER * 10**18)
    expected = roots * roots // 10**18 - 3 * ETHER
    assert st.api.get_round(round_id).projects[0].raw_matching == expected
    assert st.api.matched_contribution_of(round_id, 0, other.address) == ETHER


def test_qf_memberships_of_two_registries_are_kept_apart(st: Standalone) -> None:
    """Id 1 of a new registry is not id 1 of the old one: switching registries mid-round merges nobody."""
    _fund(st, 10 * ETHER)
    round_id = _round(st, [st.outsiders[1].address], 5 * ETHER)
    first = st.api.contribute(st.citizens[0], round_id, 0, ETHER)
    other, _ = deploy_contract(st.w3, st.admin, "MockCitizenRegistry")
    transact(st.w3, st.admin, other.functions.setCitizen(st.outsiders[0].address, True))
    st.run(st.api.set_citizen_registry_action(other.address))
    second = st.api.contribute(st.outsiders[0], round_id, 0, ETHER)
    assert first.membership == second.membership == 1  # the same number, in two registries
    assert st.api.get_round(round_id).projects[0].raw_matching == 2 * ETHER  # (1 + 1)² - 2: two people
    assert st.api.matched_contribution_of(round_id, 0, st.outsiders[0].address) == ETHER
    assert st.api.matched_contribution_of(round_id, 0, st.citizens[0].address) == 0  # no id in the new one


def test_many_small_grants_cannot_exceed_the_cap(st: Standalone) -> None:
    """Splitting a drain into small grants still hits the cap; cancelling does not restore allowance."""
    _fund(st, 10 * ETHER)
    st.run(st.api.set_cap_action(cap=ETHER))
    piece = ETHER // 4
    ids = [_stream(st, piece, st.now(), 0, DAY, who=st.outsiders[0].address) for _ in range(4)]
    with pytest.raises(TreasuryEpochCapExceeded) as err:
        _stream(st, 1, st.now(), 0, DAY)
    assert err.value.remaining == 0
    st.run(st.api.cancel_grant_action(ids[0]))
    with pytest.raises(TreasuryEpochCapExceeded):
        st.run(st.api.milestone_grant_action(recipient=st.admin.address, tranches=[1]))


# ───────────────────────────────────────── report ─────────────────────────────────────────


def test_treasury_report_inflows_outflows_and_balance_history(st: Standalone) -> None:
    first = st.w3.eth.block_number + 1
    payer, donor = st.outsiders[0], st.outsiders[1]
    st.api.deposit_fee(payer, 3 * ETHER, category="room_house")
    st.api.deposit_fee(payer, ETHER, category="room_house")
    st.api.deposit_fee(payer, 2 * ETHER, category="tool")
    st.api.donate(donor, 4 * ETHER, note="fair")
    st.api.donate(donor, 8 * ETHER, token=st.token.address)
    grant_id = _stream(st, 2 * ETHER, st.now() - 10, 0, 10, who=st.citizens[0].address)
    st.api.claim_grant(st.citizens[0], grant_id)
    cancelled = _stream(st, ETHER, st.now() + DAY, 0, DAY, who=st.citizens[1].address)
    st.run(st.api.cancel_grant_action(cancelled))
    st.run(st.api.transfer_action(to=st.admin.address, amount=ETHER, memo="equipment"))
    round_id = _round(st, [st.outsiders[2].address], ETHER)
    st.api.contribute(st.citizens[0], round_id, 0, ETHER)
    st.api.contribute(st.citizens[1], round_id, 0, ETHER)
    st.api.contribute(payer, round_id, 0, ETHER)
    st.control.increase_time(DAY)
    st.api.finalize_round(st.admin, round_id)
    st.api.claim_round_payout(st.outsiders[2], round_id, 0)

    report = st.api.treasury_report(from_block=first)
    assert report.tokens == (ETH, st.token.address)
    totals = {(t.token, t.source, t.category): (t.amount, t.count) for t in report.inflow_totals}
    assert totals == {
        (ETH, "fee", "room_house"): (4 * ETHER, 2),
        (ETH, "fee", "tool"): (2 * ETHER, 1),
        (ETH, "donation", "donation"): (4 * ETHER, 1),
        (st.token.address, "donation", "donation"): (8 * ETHER, 1),
    }
    assert report.inflows[3].note == "fair" and report.inflows[3].payer == donor.address
    assert [(o.kind, o.amount, o.reference) for o in report.outflows] == [
        ("grant", 2 * ETHER, grant_id), ("transfer", ETHER, None), ("qf_matching", ETHER, round_id),
    ]  # fmt: skip
    assert report.outflows[1].memo == "equipment"
    assert report.total_in() == 10 * ETHER and report.total_out() == 4 * ETHER
    grants = {g.grant_id: g for g in report.grants}
    assert (grants[grant_id].granted, grants[grant_id].claimed, grants[grant_id].outstanding) == (
        2 * ETHER,
        2 * ETHER,
        0,
    )
    assert (grants[cancelled].cancelled, grants[cancelled].returned, grants[cancelled].outstanding) == (
        True,
        ETHER,
        0,
    )
    (qf,) = report.rounds
    assert (qf.contributions, qf.citizen_contributions, qf.total_matching, qf.leftover) == (
        3 * ETHER, 2 * ETHER, ETHER, 0,
    )  # fmt: skip
    assert (qf.matching_paid, qf.contributions_paid, qf.finalized) == (ETHER, 3 * ETHER, True)
    eth_history = [p for p in report.balance_history if p.token == ETH]
    assert eth_history[0].balance == 3 * ETHER
    assert eth_history[-1].balance == st.api.token_balance().balance == 6 * ETHER
    assert all(a.block < b.block for a, b in itertools.pairwise(eth_history))
    assert [b.token for b in report.balances] == [ETH, st.token.address]


def test_treasury_report_from_genesis_flags_unrecorded_tokens(st: Standalone) -> None:
    st.api.donate(st.outsiders[0], 5, token=st.token.address)
    transact(st.w3, st.outsiders[0], st.token.functions.transfer(st.treasury.address, 7))  # no event
    report = st.api.treasury_report()
    assert report.from_block == 0
    assert report.unrecorded == ((st.token.address, 7),)
    assert report.balances[-1].free == 12  # unrecorded tokens are still spendable
    with pytest.raises(ConfigError):
        st.api.treasury_report(from_block=st.w3.eth.block_number + 5)


def test_module_exports_what_we_mean_to_export() -> None:
    methods = {
        "balances", "token_balance", "epoch_status", "get_grant", "grants", "get_round",
        "matched_contribution_of", "donate", "deposit_fee", "claim_grant", "release_tranche", "contribute",
        "finalize_round",
        "claim_round_payout", "stream_grant_action", "milestone_grant_action", "cancel_grant_action",
        "set_cap_action", "set_epoch_length_action", "open_round_action", "transfer_action",
        "set_steward_action", "set_citizen_registry_action", "treasury_report",
        "cancel_project_payout_action", "qf_round_id_of",
    }  # fmt: skip
    records = {
        "Action", "TokenBalance", "EpochStatus", "GrantInfo", "ProjectInfo", "RoundInfo", "Donation",
        "FeeDeposit", "GrantClaim", "TrancheRelease", "Contribution", "RoundFinalization", "RoundPayout",
        "InflowRecord", "OutflowRecord", "InflowTotal", "GrantOutflow", "RoundOutflow", "BalancePoint",
        "TreasuryReport", "GrantCreated", "QFRoundOpened",
    }  # fmt: skip
    constants = {
        "CATEGORIES", "DONATION_CATEGORY", "ETH", "UNCAPPED", "MAX_PROJECTS", "MAX_TRANCHES",
        "MIN_EPOCH_LENGTH", "MAX_EPOCH_LENGTH", "STEWARD_ROLE",
    }  # fmt: skip
    # grant_id_of reads any execution; the method of the same name only this treasury's grants
    assert set(tr.__all__) == {"Treasury", "grant_id_of"} | records | constants
    assert tr.grant_id_of.__doc__ and tr.Treasury.grant_id_of.__doc__
    assert tr.Action is Action  # the governance module's Action, proposed as is
    for name in records | {"Treasury"}:
        assert getattr(tr, name).__doc__, f"{name} has no docstring"
    for name in methods | {"from_suite", "at"}:
        assert getattr(tr.Treasury, name).__doc__, f"Treasury.{name} has no docstring"
    assert not any(hasattr(tr, name) for name in methods | {"TreasuryTarget"})  # one API: the class
    assert tr.CATEGORIES == ("room_house", "space", "tool", "skill", "nature", "donation")


def test_treasury_binds_from_a_suite_or_an_address(suite: Suite, w3: Web3) -> None:
    by_suite, by_address = tr.Treasury.from_suite(suite), tr.Treasury.at(w3, suite.treasury.address)
    assert by_suite.address == by_address.address == suite.treasury.address
    assert by_suite.epoch_status() == by_address.epoch_status()


def test_ensure_allowance_approves_only_when_short(st: Standalone) -> None:
    owner, spender = st.outsiders[2], st.registry.address  # a spender nobody approved before
    first = ensure_allowance(st.w3, owner, st.token.address, spender, 3 * ETHER)
    assert first is not None and first.event("Approval")["value"] == 3 * ETHER
    assert (
        ensure_allowance(st.w3, owner, st.token.address, spender, 2 * ETHER) is None
    )  # enough: nothing sent
    assert call(st.token.functions.allowance(owner.address, spender)) == 3 * ETHER
    raised = ensure_allowance(st.w3, owner, st.token.address, spender, 4 * ETHER)
    assert raised is not None and call(st.token.functions.allowance(owner.address, spender)) == 4 * ETHER


def test_python_limits_mirror_the_contract(st: Standalone) -> None:
    fns = st.treasury.functions
    assert call(fns.MAX_PROJECTS()) == tr.MAX_PROJECTS
    assert call(fns.MAX_TRANCHES()) == tr.MAX_TRANCHES
    assert call(fns.MIN_EPOCH_LENGTH()) == tr.MIN_EPOCH_LENGTH
    assert call(fns.MAX_EPOCH_LENGTH()) == tr.MAX_EPOCH_LENGTH
    assert call(fns.UNCAPPED()) == tr.UNCAPPED
    assert call(fns.DONATION()) == tr.DONATION_CATEGORY
