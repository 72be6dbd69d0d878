"""Money owed to a citizen follows the membership, not the key (issue 9, defect 4), on a REAL CitizenRegistry.

A stolen or lost key is rotated away (``CitizenRegistry.rotate`` by the registry's admin — the DAO's
Timelock in the suite, the deployer here so that each step is one call — or ``rotateWithAttestation`` with a
registrar's signature). From then on the old key claims nothing: not the stream or milestone grant made to the
citizen, not the payout of the QF project the citizen runs; the new key claims all of it. A revoked
membership claims nothing, and the DAO takes back what is left. Organisations keep address keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from web3 import Web3
from web3.contract import Contract

from civicdao import treasury as tr
from civicdao._custom_errors import (
    AccessControlUnauthorizedAccount,
    SafeCastOverflowedUintDowncast,
    TreasuryGrantAlreadyCancelled,
    TreasuryNotGrantRecipient,
    TreasuryNotProjectRecipient,
    TreasuryProjectAlreadyClaimed,
    TreasuryProjectOutOfRange,
    TreasuryRecipientNotRevoked,
    TreasuryRecipientRevoked,
    TreasuryRoundNotFinalized,
    TreasuryRoundNotFound,
)
from civicdao.accounts import LocalSigner, NodeSigner
from civicdao.chain import ChainControl
from civicdao.citizens import Citizens
from civicdao.contracts import deploy_contract
from civicdao.deploy import Suite
from civicdao.errors import ConfigError
from civicdao.governance import Action
from civicdao.tx import TxRecord, send_transaction, transact

ETH = tr.ETH
DAY = 86_400
EPOCH = 30 * DAY
ETHER = 10**18


@dataclass(frozen=True)
class Bench:
    w3: Web3
    control: ChainControl
    treasury: Contract
    api: tr.Treasury
    registry: Citizens  # a real CitizenRegistry, administered (and registered into) by ``admin``
    admin: NodeSigner
    registrar_key: LocalSigner  # the admin's key, to sign rotations as a registrar's wallet does
    citizens: tuple[NodeSigner, ...]  # accounts 1-4, registered
    spare_keys: tuple[NodeSigner, ...]  # accounts 5-7: new keys and organisations, never registered
    outsider: NodeSigner  # account 8: donor and bystander

    def run(self, action: Action) -> TxRecord:
        """Execute a library-built governance action as the Timelock would (one call from the governor)."""
        return send_transaction(
            self.w3, self.admin, to=action.target, data=action.calldata, value=action.value
        )

    def rotate(self, old: str, new: str) -> None:
        """The DAO's key recovery: the registry's admin moves the membership (``rotate(from, to)``)."""
        self.run(self.registry.rotate_action(old, new))

    def stream(self, recipient: str, amount: int, duration: int = 10 * DAY) -> int:
        action = self.api.stream_grant_action(
            recipient=recipient, amount=amount, start=self.control.time(), duration=duration
        )
        return int(self.run(action).event("StreamGrantCreated")["grantId"])

    def round(self, projects: list[str], pool: int) -> int:
        now = self.control.time()
        action = self.api.open_round_action(projects=projects, matching_pool=pool, start=now, end=now + DAY)
        return int(self.run(action).event("RoundOpened")["roundId"])


@pytest.fixture(scope="module")
def bench(
    suite: Suite,
    w3: Web3,
    control: ChainControl,
    accounts: list[NodeSigner],
    local_signers: list[LocalSigner],
) -> Iterator[Bench]:
    """A treasury and a real CitizenRegistry, both administered by accounts[0], ETH uncapped, 100 ETH free.

    Depends on ``suite`` so that the session deployment exists before this module's snapshot.
    """
    snapshot = control.snapshot()
    admin = accounts[0]
    registry_contract, _ = deploy_contract(w3, admin, "CitizenRegistry", admin.address)
    registry = Citizens(w3, registry_contract)
    transact(w3, admin, registry_contract.functions.grantRole(registry.registrar_role(), admin.address))
    for person in accounts[1:5]:
        registry.register(admin, person.address, Web3.keccak(text=f"treasury-rotation:{person.address}"))
    treasury, _ = deploy_contract(w3, admin, "PublicTreasury", admin.address, registry.address, EPOCH)
    transact(w3, admin, treasury.functions.setEpochCap(ETH, tr.UNCAPPED))
    control.increase_time(EPOCH)  # the raise from 0 applies from the next epoch
    api = tr.Treasury(w3, treasury)
    api.donate(accounts[8], 100 * ETHER, note="seed")
    yield Bench(
        w3, control, treasury, api, registry, admin, local_signers[0],
        tuple(accounts[1:5]), tuple(accounts[5:8]), accounts[8],
    )  # fmt: skip
    control.revert(snapshot)


def _balance_change(b: Bench, account: str, record: TxRecord) -> int:
    """What ``account`` gained from the transaction ``record`` (its gas added back if it sent it)."""
    before = b.w3.eth.get_balance(account, record.block_number - 1)  # type: ignore[arg-type]
    after = b.w3.eth.get_balance(account, record.block_number)  # type: ignore[arg-type]
    fee = 0
    if record.sender == account:
        receipt = b.w3.eth.get_transaction_receipt(record.tx_hash)  # type: ignore[arg-type]
        fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    return after - before + fee


# ───────────────────────────────────────── grants ─────────────────────────────────────────


def test_stream_grant_after_a_dao_rotation_pays_the_new_key_and_refuses_the_old(bench: Bench) -> None:
    b = bench
    old, new = b.citizens[0], b.spare_keys[0]
    membership = b.registry.membership_of(old.address)
    grant_id = b.stream(old.address, 10 * ETHER)
    info = b.api.get_grant(grant_id)
    assert (info.recipient, info.membership, info.claimant) == (old.address, membership, old.address)

    b.control.increase_time(2 * DAY)
    before = b.api.claim_grant(old, grant_id).amount  # before the loss the citizen claims with their key
    assert before > 0
    b.rotate(old.address, new.address)  # the key is lost (or stolen): the DAO moves the membership
    b.control.increase_time(3 * DAY)

    with pytest.raises(TreasuryNotGrantRecipient) as err:
        b.api.claim_grant(old, grant_id)  # the thief with the old key gets nothing
    assert (err.value.grantId, err.value.caller) == (grant_id, old.address)
    for stranger in (b.outsider, b.citizens[1]):
        with pytest.raises(TreasuryNotGrantRecipient):
            b.api.claim_grant(stranger, grant_id)
    info = b.api.get_grant(grant_id)
    assert (info.membership, info.claimant) == (membership, new.address)
    assert info.claimable > 0

    claimed = b.api.claim_grant(new, grant_id)
    assert claimed.recipient == new.address
    at = int(b.w3.eth.get_block(claimed.tx.block_number)["timestamp"])
    assert claimed.amount == 10 * ETHER * (at - info.start) // (10 * DAY) - before > 0  # all vested so far
    assert _balance_change(b, new.address, claimed.tx) == claimed.amount  # paid to the new key

    b.control.increase_time(10 * DAY)
    with pytest.raises(TreasuryNotGrantRecipient):
        b.api.claim_grant(old, grant_id)
    rest = b.api.claim_grant(new, grant_id)
    assert before + claimed.amount + rest.amount == 10 * ETHER


def test_milestone_grant_follows_a_registrar_signed_rotation(bench: Bench) -> None:
    b = bench
    old, new = b.citizens[1], b.spare_keys[1]
    action = b.api.milestone_grant_action(recipient=old.address, tranches=[ETHER, 2 * ETHER])
    grant_id = int(b.run(action).event("MilestoneGrantCreated")["grantId"])
    b.api.release_tranche(b.admin, grant_id, 0)
    signed = b.registry.attest_rotation(b.registrar_key, old.address, new.address)
    b.registry.rotate_with_attestation(b.outsider, signed)  # anyone relays the registrar's signature

    with pytest.raises(TreasuryNotGrantRecipient):
        b.api.claim_grant(old, grant_id)
    assert b.api.claim_grant(new, grant_id).amount == ETHER
    b.api.release_tranche(b.admin, grant_id, 1)
    with pytest.raises(TreasuryNotGrantRecipient):
        b.api.claim_grant(old, grant_id)
    assert b.api.claim_grant(new, grant_id).amount == 2 * ETHER


def test_grant_follows_two_rotations_and_the_middle_key_loses_it_too(bench: Bench) -> None:
    b = bench
    first, second, third = b.citizens[2], b.spare_keys[0], b.spare_keys[1]
    grant_id = b.stream(first.address, ETHER, duration=DAY)
    b.rotate(first.address, second.address)
    b.rotate(second.address, third.address)
    b.control.increase_time(DAY)
    for stale in (first, second):
        with pytest.raises(TreasuryNotGrantRecipient):
            b.api.claim_grant(stale, grant_id)
    assert b.api.claim_grant(third, grant_id).amount == ETHER


def test_organisation_grant_keeps_its_address_key_even_if_it_registers_later(bench: Bench) -> None:
    """A non-citizen recipient is keyed by address: registering afterwards moves nothing."""
    b = bench
    org = b.spare_keys[2]
    grant_id = b.stream(org.address, ETHER, duration=DAY)
    assert (b.api.get_grant(grant_id).membership, b.api.get_grant(grant_id).claimant) == (0, org.address)
    b.registry.register(b.admin, org.address, Web3.keccak(text="org-registers-later"))
    assert b.api.get_grant(grant_id).membership == 0
    b.control.increase_time(DAY)
    with pytest.raises(TreasuryNotGrantRecipient):
        b.api.claim_grant(b.outsider, grant_id)
    assert b.api.claim_grant(org, grant_id).amount == ETHER


# ───────────────────────────────────────── revoked memberships ─────────────────────────────────────────


def test_revoked_recipient_claims_nothing_and_the_dao_takes_back_everything_unclaimed(bench: Bench) -> None:
    b = bench
    citizen = b.citizens[3]
    membership = b.registry.membership_of(citizen.address)
    grant_id = b.stream(citizen.address, 10 * ETHER)
    b.control.increase_time(5 * DAY)
    paid = b.api.claim_grant(citizen, grant_id).amount
    b.control.increase_time(DAY)
    committed = b.api.token_balance().committed
    b.registry.revoke(b.admin, citizen.address, "fraud")

    with pytest.raises(TreasuryRecipientRevoked) as err:
        b.api.claim_grant(citizen, grant_id)
    assert err.value.membership == membership
    info = b.api.get_grant(grant_id)
    assert (info.claimant, info.claimable) == (None, 0)
    assert info.vested > paid  # vested, but nobody may claim it now

    cancelled = b.run(b.api.cancel_grant_action(grant_id)).event("GrantCancelled")
    assert (cancelled["returned"], cancelled["remainingEntitlement"]) == (10 * ETHER - paid, paid)
    assert b.api.token_balance().committed == committed - (10 * ETHER - paid)
    info = b.api.get_grant(grant_id)
    assert (info.amount, info.claimed, info.vested, info.cancelled) == (paid, paid, paid, True)
    with pytest.raises(TreasuryGrantAlreadyCancelled):
        b.run(b.api.cancel_grant_action(grant_id))
    with pytest.raises(TreasuryRecipientRevoked):
        b.api.claim_grant(citizen, grant_id)


def test_a_grant_cancelled_before_the_revocation_returns_its_entitlement_after_it(bench: Bench) -> None:
    b = bench
    citizen = b.citizens[0]
    grant_id = b.stream(citizen.address, 10 * ETHER)
    b.control.increase_time(DAY)
    first = b.run(b.api.cancel_grant_action(grant_id)).event("GrantCancelled")
    entitled = int(first["remainingEntitlement"])
    assert 0 < entitled < 10 * ETHER
    with pytest.raises(TreasuryGrantAlreadyCancelled):  # a living recipient keeps the entitlement
        b.run(b.api.cancel_grant_action(grant_id))
    b.registry.revoke(b.admin, citizen.address, "moved_away")
    second = b.run(b.api.cancel_grant_action(grant_id)).event("GrantCancelled")
    assert (second["returned"], second["remainingEntitlement"]) == (entitled, 0)
    with pytest.raises(TreasuryGrantAlreadyCancelled):
        b.run(b.api.cancel_grant_action(grant_id))
    free = b.api.token_balance()
    assert free.committed == 0 and free.free == free.balance


# ───────────────────────────────────────── quadratic funding ─────────────────────────────────────────


def _funded_round(b: Bench, citizen_project: str, org: str) -> int:
    """A 5 ETH round: project 0 run by a citizen, project 1 by an organisation; two citizens give to each."""
    round_id = b.round([citizen_project, org], 5 * ETHER)
    for giver in (b.citizens[2], b.citizens[3]):
        b.api.contribute(giver, round_id, 0, ETHER)
        b.api.contribute(giver, round_id, 1, ETHER)
    b.control.increase_time(DAY)
    b.api.finalize_round(b.outsider, round_id)
    return round_id


def test_qf_payout_after_a_dao_rotation_goes_to_the_new_key_and_the_old_key_fails(bench: Bench) -> None:
    b = bench
    runner, new, org = b.citizens[1], b.spare_keys[0], b.spare_keys[2]
    membership = b.registry.membership_of(runner.address)
    round_id = _funded_round(b, runner.address, org.address)
    info = b.api.get_round(round_id)
    assert info.registry == b.registry.address
    assert [(p.membership, p.claimant) for p in info.projects] == [
        (membership, runner.address),
        (0, org.address),
    ]
    matching = info.projects[0].matching
    assert matching == 2 * ETHER  # (1 + 1)² - 2

    b.rotate(runner.address, new.address)
    with pytest.raises(TreasuryNotProjectRecipient) as err:
        b.api.claim_round_payout(runner, round_id, 0)
    assert (err.value.roundId, err.value.projectIndex, err.value.caller) == (round_id, 0, runner.address)
    assert b.api.get_round(round_id).projects[0].claimant == new.address

    payout = b.api.claim_round_payout(new, round_id, 0)
    assert (payout.recipient, payout.contributions, payout.matching) == (new.address, 2 * ETHER, matching)
    assert _balance_change(b, new.address, payout.tx) == 2 * ETHER + matching
    with pytest.raises(TreasuryProjectAlreadyClaimed):
        b.api.claim_round_payout(new, round_id, 0)
    with pytest.raises(TreasuryNotProjectRecipient):  # the organisation is keyed by its address
        b.api.claim_round_payout(new, round_id, 1)
    assert b.api.claim_round_payout(org, round_id, 1).amount == 2 * ETHER + matching


def test_qf_payout_of_a_revoked_runner_is_refused_and_the_dao_returns_it_to_the_commons(bench: Bench) -> None:
    b = bench
    runner, org = b.citizens[0], b.spare_keys[2]
    membership = b.registry.membership_of(runner.address)
    round_id = b.round([runner.address, org.address], 5 * ETHER)
    with pytest.raises(TreasuryRoundNotFinalized):
        b.run(b.api.cancel_project_payout_action(round_id, 0))
    with pytest.raises(TreasuryRoundNotFound):
        b.run(b.api.cancel_project_payout_action(round_id + 1, 0))
    for giver in (b.citizens[2], b.citizens[3]):
        b.api.contribute(giver, round_id, 0, ETHER)
    b.control.increase_time(DAY)
    b.api.finalize_round(b.outsider, round_id)
    matching = b.api.get_round(round_id).projects[0].matching
    with pytest.raises(TreasuryRecipientNotRevoked) as not_revoked:  # a living citizen's payout stays theirs
        b.run(b.api.cancel_project_payout_action(round_id, 0))
    assert (not_revoked.value.roundId, not_revoked.value.projectIndex) == (round_id, 0)
    with pytest.raises(TreasuryRecipientNotRevoked):  # an organisation's payout is never taken back
        b.run(b.api.cancel_project_payout_action(round_id, 1))
    with pytest.raises(TreasuryProjectOutOfRange):
        b.run(b.api.cancel_project_payout_action(round_id, 2))

    b.registry.revoke(b.admin, runner.address, "fraud")
    with pytest.raises(TreasuryRecipientRevoked) as err:
        b.api.claim_round_payout(runner, round_id, 0)
    assert err.value.membership == membership
    assert b.api.get_round(round_id).projects[0].claimant is None
    with pytest.raises(AccessControlUnauthorizedAccount):
        transact(b.w3, b.outsider, b.treasury.functions.cancelProjectPayout(round_id, 0))

    before = b.api.token_balance()
    cancelled = b.run(b.api.cancel_project_payout_action(round_id, 0)).event("ProjectPayoutCancelled")
    assert (cancelled["contributions"], cancelled["matching"]) == (2 * ETHER, matching)
    after = b.api.token_balance()
    assert after.balance == before.balance
    assert after.committed == before.committed - 2 * ETHER - matching
    assert after.free == before.free + 2 * ETHER + matching
    assert after.total_in == before.total_in + 2 * ETHER  # the contributions became a donation
    assert after.inflow("donation") == before.inflow("donation") + 2 * ETHER
    with pytest.raises(TreasuryProjectAlreadyClaimed):
        b.run(b.api.cancel_project_payout_action(round_id, 0))
    with pytest.raises(TreasuryRecipientRevoked):
        b.api.claim_round_payout(runner, round_id, 0)

    report = b.api.treasury_report()
    assert report.unrecorded == ()
    (entry,) = [r for r in report.rounds if r.round_id == round_id]
    assert entry.matching_returned == matching
    assert report.inflows[-1].amount == 2 * ETHER
    assert report.inflows[-1].note == f"qf-{round_id}-0-payout-cancelled"
    totals = {(t.source, t.category): t.amount for t in report.inflow_totals}
    assert totals[("donation", "donation")] == after.inflow("donation")


# ───────────────────────────────────────── the mock registry's edge cases ─────────────────────────────────


@pytest.fixture
def mock_bench(bench: Bench) -> Iterator[tuple[Bench, Contract]]:
    """The same treasury pointed at a MockCitizenRegistry, to reach ids the real registry never hands out."""
    mock, _ = deploy_contract(bench.w3, bench.admin, "MockCitizenRegistry")
    bench.run(bench.api.set_citizen_registry_action(mock.address))
    yield bench, mock


def test_a_membership_id_beyond_64_bits_is_refused_at_creation(mock_bench: tuple[Bench, Contract]) -> None:
    b, mock = mock_bench
    who = b.spare_keys[0].address
    transact(b.w3, b.admin, mock.functions.setMembership(who, 2**64))
    with pytest.raises(SafeCastOverflowedUintDowncast) as err:
        b.stream(who, ETHER)
    assert (err.value.bits, err.value.value) == (64, 2**64)
    with pytest.raises(SafeCastOverflowedUintDowncast):
        b.round([who], 0)


def test_a_grant_membership_id_beyond_56_bits_is_refused(mock_bench: tuple[Bench, Contract]) -> None:
    """A grant packs its membership id in 56 bits (a round's project keeps 64)."""
    b, mock = mock_bench
    who = b.spare_keys[0].address
    transact(b.w3, b.admin, mock.functions.setMembership(who, 2**56))
    with pytest.raises(SafeCastOverflowedUintDowncast) as err:
        b.stream(who, ETHER)
    assert (err.value.bits, err.value.value) == (56, 2**56)
    b.round([who], 0)  # a project still records it


def test_grants_are_held_in_the_registry_of_their_time(mock_bench: tuple[Bench, Contract]) -> None:
    """After the DAO switches registries, id N of the new registry is someone else: they cannot claim."""
    b, mock = mock_bench
    citizen, stranger = b.spare_keys[0], b.spare_keys[1]
    transact(b.w3, b.admin, mock.functions.setCitizen(citizen.address, True))
    grant_id = b.stream(citizen.address, ETHER, duration=DAY)
    membership = b.api.get_grant(grant_id).membership
    other, _ = deploy_contract(b.w3, b.admin, "MockCitizenRegistry")
    transact(b.w3, b.admin, other.functions.setMembership(stranger.address, membership))
    b.run(b.api.set_citizen_registry_action(other.address))
    b.control.increase_time(DAY)
    with pytest.raises(TreasuryNotGrantRecipient):
        b.api.claim_grant(stranger, grant_id)
    assert b.api.get_grant(grant_id).claimant == citizen.address
    assert b.api.claim_grant(citizen, grant_id).amount == ETHER


def test_a_membership_the_registry_does_not_confirm_keeps_an_address_key(
    mock_bench: tuple[Bench, Contract],
) -> None:
    """`membershipOf(recipient)` says 7 but `ownerOf(7)` names someone else (a registry that cannot confirm
    the holder): the grant stays keyed by the recipient's address rather than going to the other holder."""
    b, mock = mock_bench
    recipient, other_holder = b.spare_keys[2], b.outsider
    transact(b.w3, b.admin, mock.functions.setMembership(recipient.address, 7))
    transact(b.w3, b.admin, mock.functions.setMembership(other_holder.address, 7))  # ownerOf(7) moves to it
    grant_id = b.stream(recipient.address, ETHER, duration=DAY)
    info = b.api.get_grant(grant_id)
    assert (info.membership, info.claimant) == (0, recipient.address)
    b.control.increase_time(DAY)
    with pytest.raises(TreasuryNotGrantRecipient):
        b.api.claim_grant(other_holder, grant_id)
    assert b.api.claim_grant(recipient, grant_id).amount == ETHER


def test_cancel_project_payout_action_refuses_bad_ids_before_sending(bench: Bench) -> None:
    for round_id, project in ((-1, 0), (0, -1), (True, 0), (0, "1")):
        with pytest.raises(ConfigError):
            bench.api.cancel_project_payout_action(round_id, project)  # type: ignore[arg-type]
    action = bench.api.cancel_project_payout_action(3, 1)
    assert action.target == bench.api.address and action.value == 0
    assert "project 1 of QF round 3" in action.description
