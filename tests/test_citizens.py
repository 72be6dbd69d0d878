"""CitizenRegistry through civicdao.citizens: registration, attestations, soulbound tokens, revocation,
rotation, delegation, and the salted credential hash."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.contract.contract import ContractFunction

from civicdao import signing
from civicdao._custom_errors import (
    AccessControlUnauthorizedAccount,
    CitizenRegistryAlreadyMember,
    CitizenRegistryCredentialUsed,
    CitizenRegistryInvalidReason,
    CitizenRegistryInvalidSignature,
    CitizenRegistryNotMember,
    CitizenRegistrySignatureExpired,
    CitizenRegistrySignerNotRegistrar,
    CitizenRegistrySoulbound,
    CitizenRegistryUnauthorized,
    CitizenRegistryZeroAddress,
    CitizenRegistryZeroCredential,
    ERC721InvalidOwner,
    ERC721NonexistentToken,
    ERC5805FutureLookup,
)
from civicdao.accounts import LocalSigner, NodeSigner, from_private_key
from civicdao.chain import ChainControl
from civicdao.citizens import (
    AttestationMismatchError,
    Citizens,
    RevocationReason,
    credential_hash,
    new_salt,
)
from civicdao.deploy import Suite
from civicdao.errors import ConfigError, InvalidAddressError, StaleNonceError
from civicdao.governance import Governance
from civicdao.local import pass_proposal
from civicdao.relayer.policy import verify_rotation
from civicdao.signing import Attestation, registry_domain
from civicdao.tx import call, transact

SALT = b"registrar-secret-salt-for-tests!"
ZERO = "0x0000000000000000000000000000000000000000"
WEEK = 7 * 86_400


def cred(label: str) -> bytes:
    return credential_hash(label, salt=SALT)


@pytest.fixture
def registrar(local_signers: list[LocalSigner], suite: Suite) -> LocalSigner:
    """The deployer's key: it keeps REGISTRAR_ROLE in the pilot preset."""
    return local_signers[0]


# -- register ---------------------------------------------------------------------------------------------


def test_register_issues_soulbound_membership_with_a_live_vote(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    resident = accounts[1].address
    registration = citizens.register(deployer, resident, cred("permit-1"))
    assert registration.citizen == resident
    assert registration.membership_id >= 1
    assert registration.registrar == deployer.address
    assert registration.credential_hash == cred("permit-1")
    assert registration.tx.event("Locked")["tokenId"] == registration.membership_id
    info = citizens.info(resident)
    assert info.is_citizen and info.membership_id == registration.membership_id
    assert info.votes == 1 and info.delegatee == resident
    assert citizens.credential_used(cred("permit-1"))
    assert call(citizens.contract.functions.locked(registration.membership_id)) is True
    assert citizens.citizen_count() == 1


def test_register_by_non_registrar_reverts(citizens: Citizens, accounts: list[NodeSigner]) -> None:
    with pytest.raises(AccessControlUnauthorizedAccount) as err:
        citizens.register(accounts[2], accounts[3].address, cred("permit-x"))
    assert err.value.account == accounts[2].address


def test_register_second_membership_reverts(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    citizens.register(deployer, accounts[1].address, cred("permit-1"))
    with pytest.raises(CitizenRegistryAlreadyMember) as err:
        citizens.register(deployer, accounts[1].address, cred("permit-2"))
    assert err.value.account == accounts[1].address


def test_register_reused_credential_reverts_even_after_revocation(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    citizens.register(deployer, accounts[1].address, cred("permit-1"))
    with pytest.raises(CitizenRegistryCredentialUsed) as err:
        citizens.register(deployer, accounts[2].address, cred("permit-1"))
    assert err.value.credentialHash == cred("permit-1")
    citizens.revoke(deployer, accounts[1].address, RevocationReason.MOVED_AWAY)
    with pytest.raises(CitizenRegistryCredentialUsed):
        citizens.register(deployer, accounts[1].address, cred("permit-1"))
    # Retyping the same permit differently is the same credential.
    with pytest.raises(CitizenRegistryCredentialUsed):
        citizens.register(deployer, accounts[1].address, cred("  PERMIT-1 "))


def test_register_zero_address_and_zero_credential_refused(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    # The library refuses before sending anything ...
    with pytest.raises(InvalidAddressError):
        citizens.register(deployer, ZERO, cred("permit-z"))
    with pytest.raises(ConfigError):
        citizens.register(deployer, accounts[1].address, b"\x00" * 32)
    with pytest.raises(ConfigError):
        citizens.register(deployer, accounts[1].address, b"short")
    # ... and the contract refuses on its own when called directly.
    registry = citizens.contract
    with pytest.raises(CitizenRegistryZeroAddress):
        transact(citizens.w3, deployer, registry.functions.register(ZERO, cred("permit-z")))
    with pytest.raises(CitizenRegistryZeroCredential):
        transact(citizens.w3, deployer, registry.functions.register(accounts[1].address, b"\x00" * 32))


# -- attestations -----------------------------------------------------------------------------------------


def test_register_with_attestation_relayed_by_anyone(
    citizens: Citizens, registrar: LocalSigner, accounts: list[NodeSigner]
) -> None:
    resident = Account.create().address  # a fresh wallet with no ETH: someone else relays
    attestation = citizens.attest(registrar, resident, cred("permit-a"))
    assert attestation.recover_signer() == registrar.address
    assert Attestation.from_dict(attestation.to_dict()) == attestation
    registration = citizens.register_with_attestation(accounts[5], attestation)
    assert registration.tx.sender == accounts[5].address
    assert registration.citizen == resident and registration.registrar == registrar.address
    assert citizens.votes(resident) == 1


@pytest.mark.ganache
def test_attest_with_node_account_signs_through_the_node(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    attestation = citizens.attest(deployer, accounts[6].address, cred("permit-node"))
    assert attestation.recover_signer() == deployer.address
    registration = citizens.register_with_attestation(accounts[7], attestation)
    assert registration.registrar == deployer.address


def test_register_with_attestation_expired_reverts(
    citizens: Citizens, registrar: LocalSigner, accounts: list[NodeSigner], control: ChainControl
) -> None:
    attestation = citizens.attest(registrar, accounts[1].address, cred("permit-e"), valid_for=60)
    control.increase_time(61)
    with pytest.raises(CitizenRegistrySignatureExpired) as err:
        citizens.register_with_attestation(accounts[5], attestation)
    assert err.value.expiry == attestation.expiry


def test_register_with_attestation_for_another_chain_or_registry_refused(
    citizens: Citizens, registrar: LocalSigner, accounts: list[NodeSigner], w3: Web3
) -> None:
    resident = accounts[1].address
    for chain_id, registry in (
        (w3.eth.chain_id + 1, citizens.address),
        (w3.eth.chain_id, accounts[8].address),
    ):
        data = citizens.attest(registrar, resident, cred("permit-w")).typed_data()
        data["domain"] = {**data["domain"], "chainId": chain_id, "verifyingContract": registry}
        signature = registrar.sign_typed_data(data)
        forged = Attestation(
            registrar=registrar.address,
            citizen=resident,
            credential_hash=cred("permit-w"),
            expiry=int(data["message"]["expiry"]),  # uint256 travels as a decimal string
            signature=signature,
            domain=registry_domain(chain_id, registry),
        )
        # The library refuses to relay it ...
        with pytest.raises(AttestationMismatchError):
            citizens.register_with_attestation(accounts[5], forged)
        # ... and so does the registry: the signature recovers to someone who is not a registrar.
        here = registry_domain(w3.eth.chain_id, citizens.address)
        on_this_chain = dataclasses.replace(forged, domain=here)
        with pytest.raises(CitizenRegistrySignerNotRegistrar):
            citizens.register_with_attestation(accounts[5], on_this_chain)
    assert not citizens.is_citizen(resident)


def test_register_with_attestation_tampered_or_unauthorised_reverts(
    citizens: Citizens, registrar: LocalSigner, accounts: list[NodeSigner]
) -> None:
    attestation = citizens.attest(registrar, accounts[1].address, cred("permit-t"))
    # Used for another citizen: the digest changes, the recovered signer is nobody.
    with pytest.raises(CitizenRegistrySignerNotRegistrar):
        citizens.register_with_attestation(
            accounts[5], dataclasses.replace(attestation, citizen=accounts[2].address)
        )
    # Signed by someone who is not a registrar.
    stranger = from_private_key(Account.create().key)
    with pytest.raises(CitizenRegistrySignerNotRegistrar) as err:
        citizens.register_with_attestation(
            accounts[5], citizens.attest(stranger, accounts[1].address, cred("permit-t"))
        )
    assert err.value.signer == stranger.address
    # Garbage signature.
    with pytest.raises(CitizenRegistryInvalidSignature):
        citizens.register_with_attestation(
            accounts[5], dataclasses.replace(attestation, signature=b"\x01" * 64)
        )
    # The genuine one works once; replaying it finds the credential consumed.
    citizens.register_with_attestation(accounts[5], attestation)
    with pytest.raises(CitizenRegistryCredentialUsed):
        citizens.register_with_attestation(accounts[6], attestation)


def test_attest_bad_input_refused_before_signing(
    citizens: Citizens, registrar: LocalSigner, accounts: list[NodeSigner]
) -> None:
    with pytest.raises(InvalidAddressError):
        citizens.attest(registrar, "0x1234", cred("p"))
    with pytest.raises(ConfigError):
        citizens.attest(registrar, accounts[1].address, cred("p"), valid_for=0)
    with pytest.raises(ConfigError):
        citizens.attest(registrar, accounts[1].address, cred("p"), expiry=-1)
    with pytest.raises(ConfigError):
        Attestation.from_dict({"citizen": accounts[1].address})


# -- soulbound --------------------------------------------------------------------------------------------


def test_transfer_and_approve_revert_soulbound(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    holder, other = accounts[1], accounts[2].address
    token = citizens.register(deployer, holder.address, cred("permit-s")).membership_id
    f = citizens.contract.functions
    attempts = [
        f.transferFrom(holder.address, other, token),
        f.safeTransferFrom(holder.address, other, token),
        f.safeTransferFrom(holder.address, other, token, b""),
        f.approve(other, token),
    ]
    for attempt in attempts:
        with pytest.raises(CitizenRegistrySoulbound) as err:
            transact(citizens.w3, holder, attempt)
        assert err.value.tokenId == token
    with pytest.raises(CitizenRegistrySoulbound):
        transact(citizens.w3, holder, f.setApprovalForAll(other, True))
    assert call(f.ownerOf(token)) == holder.address
    assert call(f.supportsInterface(bytes.fromhex("b45a3c0e"))) is True  # ERC-5192
    with pytest.raises(ERC721NonexistentToken):
        call(f.locked(token + 1000))


# -- revoke -----------------------------------------------------------------------------------------------


def test_revoke_burns_membership_and_keeps_past_votes(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner], control: ChainControl
) -> None:
    resident = accounts[1].address
    token = citizens.register(deployer, resident, cred("permit-r")).membership_id
    before = control.increase_time(5)
    control.increase_time(5)
    revocation = citizens.revoke(deployer, resident, "moved away")
    assert revocation.reason is RevocationReason.MOVED_AWAY
    assert revocation.membership_id == token and revocation.revoked_by == deployer.address
    assert not citizens.is_citizen(resident) and citizens.votes(resident) == 0
    assert citizens.votes(resident, at=before) == 1
    assert citizens.citizen_count() == 0


def test_past_balance_and_erc721_balance_follow_every_holding(
    accounts: list[NodeSigner],
    citizens: Citizens,
    control: ChainControl,
    deployer: NodeSigner,
    registrar: LocalSigner,
) -> None:
    """getPastBalanceOf (the override vote's weight) and balanceOf across a registration, a rotation away, a
    rotation in, a revocation and a re-registration: the current holding is read from the member record, past
    holdings from the history written when each ends."""
    registry = citizens.contract.functions
    a, b = accounts[1].address, Account.create().address

    def past(who: str, at: int) -> int:
        return int(call(registry.getPastBalanceOf(who, at)))

    def moment() -> int:
        """A timepoint strictly between the action before and the action after."""
        control.increase_time(5)
        at = control.time()
        control.increase_time(5)
        return at

    before = moment()
    citizens.register(deployer, a, cred("permit-hist"))
    held_a = moment()
    citizens.rotate_with_attestation(accounts[7], citizens.attest_rotation(registrar, a, b))
    held_b = moment()
    citizens.revoke(deployer, b, RevocationReason.MOVED_AWAY)
    gone = moment()
    citizens.register(deployer, b, cred("permit-hist-2"))  # back in town
    back = moment()
    assert [past(a, t) for t in (before, held_a, held_b, gone, back)] == [0, 1, 0, 0, 0]
    assert [past(b, t) for t in (before, held_a, held_b, gone, back)] == [0, 0, 1, 0, 1]
    assert [int(call(registry.balanceOf(x))) for x in (a, b)] == [0, 1]
    with pytest.raises(ERC721InvalidOwner):
        call(registry.balanceOf("0x0000000000000000000000000000000000000000"))
    with pytest.raises(ERC5805FutureLookup):
        call(registry.getPastBalanceOf(b, control.time() + 10))


def test_revoke_refusals(citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner]) -> None:
    resident = accounts[1].address
    citizens.register(deployer, resident, cred("permit-r2"))
    with pytest.raises(ConfigError):
        citizens.revoke(deployer, resident, "bored")
    with pytest.raises(ConfigError):
        citizens.revoke(deployer, resident, 9)
    f = citizens.contract.functions
    for code in (0, 5):
        with pytest.raises(CitizenRegistryInvalidReason) as err:
            transact(citizens.w3, deployer, f.revoke(resident, code))
        assert err.value.reason == code
    with pytest.raises(CitizenRegistryUnauthorized) as unauthorised:
        citizens.revoke(accounts[3], resident, RevocationReason.FRAUD)
    assert unauthorised.value.caller == accounts[3].address
    with pytest.raises(CitizenRegistryNotMember):
        citizens.revoke(deployer, accounts[4].address, RevocationReason.OTHER)


def test_revocation_reason_parse_accepts_names_and_codes() -> None:
    assert RevocationReason.parse("moved-away") is RevocationReason.MOVED_AWAY
    assert RevocationReason.parse("Fraud") is RevocationReason.FRAUD
    assert RevocationReason.parse(3) is RevocationReason.DECEASED
    with pytest.raises(ConfigError):
        RevocationReason.parse(True)  # type: ignore[arg-type]


# -- rotate -----------------------------------------------------------------------------------------------


@pytest.fixture
def dao(suite: Suite, deployer: NodeSigner, accounts: list[NodeSigner], control: ChainControl) -> Governance:
    """Three registered citizens (accounts 1-3) who can pass proposals."""
    citizens = Citizens.from_suite(suite)
    for i in (1, 2, 3):
        citizens.register(deployer, accounts[i].address, cred(f"dao-{i}"))
    control.increase_time(1)
    return Governance.from_suite(suite)


def test_rotate_action_through_the_timelock(
    dao: Governance, citizens: Citizens, accounts: list[NodeSigner], control: ChainControl
) -> None:
    lost, new_key = accounts[3].address, Account.create().address
    token = citizens.membership_of(lost)
    action = citizens.rotate_action(lost, new_key)
    execution = pass_proposal(
        dao, control, accounts[1], accounts[1:3], [action], "recover a lost key"
    ).execution
    rotated = execution.event("CitizenRotated")
    assert rotated["from"] == lost and rotated["to"] == new_key
    assert rotated["authorizedBy"] == dao.timelock.address
    assert citizens.membership_of(new_key) == token and citizens.membership_of(lost) == 0
    assert citizens.votes(new_key) == 1 and citizens.delegate_of(new_key) == new_key


def test_rotate_direct_by_non_admin_reverts(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    citizens.register(deployer, accounts[1].address, cred("permit-k"))
    fn = citizens.contract.functions.rotate(accounts[1].address, accounts[2].address)
    with pytest.raises(AccessControlUnauthorizedAccount):
        transact(citizens.w3, deployer, fn)  # the deployer handed admin to the Timelock
    with pytest.raises(InvalidAddressError):
        citizens.rotate_action(accounts[1].address, ZERO)


def test_rotate_with_attestation_moves_vote_and_delegate(
    citizens: Citizens, registrar: LocalSigner, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    old, delegate = accounts[1], accounts[2].address
    citizens.register(deployer, old.address, cred("permit-o"))
    citizens.register(deployer, delegate, cred("permit-d"))
    citizens.delegate(old, delegate)
    new_key = Account.create().address
    permission = citizens.attest_rotation(registrar, old.address, new_key)
    assert permission.nonce == 1 and permission.recover_signer() == registrar.address  # its registration: 1
    rotation = citizens.rotate_with_attestation(accounts[7], permission)
    assert rotation.to_address == new_key and rotation.authorized_by == registrar.address
    assert citizens.delegate_of(new_key) == delegate  # the delegate choice follows the membership
    assert citizens.votes(delegate) == 2
    assert call(citizens.contract.functions.rotationNonces(old.address)) == 2
    assert call(citizens.contract.functions.rotationNonces(new_key)) == 1  # gaining a membership moves it too
    # The same signature cannot be replayed: the nonce moved, the digest no longer matches.
    with pytest.raises(CitizenRegistrySignerNotRegistrar):
        citizens.rotate_with_attestation(accounts[7], permission)


def test_rotate_with_attestation_refusals(
    citizens: Citizens,
    registrar: LocalSigner,
    deployer: NodeSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
    w3: Web3,
) -> None:
    a, b = accounts[1].address, accounts[2].address
    citizens.register(deployer, a, cred("permit-ra"))
    citizens.register(deployer, b, cred("permit-rb"))
    with pytest.raises(CitizenRegistryAlreadyMember):
        citizens.rotate_with_attestation(accounts[7], citizens.attest_rotation(registrar, a, b))
    with pytest.raises(CitizenRegistryNotMember):
        citizens.rotate_with_attestation(
            accounts[7], citizens.attest_rotation(registrar, accounts[4].address, accounts[5].address)
        )
    expiring = citizens.attest_rotation(registrar, a, accounts[6].address, valid_for=10)
    control.increase_time(11)
    with pytest.raises(CitizenRegistrySignatureExpired):
        citizens.rotate_with_attestation(accounts[7], expiring)
    with pytest.raises(AttestationMismatchError):
        citizens.rotate_with_attestation(
            accounts[7],
            dataclasses.replace(expiring, domain=registry_domain(w3.eth.chain_id + 1, citizens.address)),
        )
    with pytest.raises(ConfigError):
        citizens.attest_rotation(registrar, a, a)
    # A registrar-signed rotation to the zero address (the library would not build one) fails on-chain too.
    permission = citizens.attest_rotation(registrar, a, accounts[6].address)
    data = permission.typed_data()
    data["message"]["to"] = ZERO
    zero_target = citizens.contract.functions.rotateWithAttestation(
        a, ZERO, permission.expiry, registrar.sign_typed_data(data)
    )
    with pytest.raises(CitizenRegistryZeroAddress):
        transact(citizens.w3, deployer, zero_target)


def test_dao_rotation_voids_a_signed_rotation_not_yet_relayed(
    dao: Governance,
    citizens: Citizens,
    registrar: LocalSigner,
    deployer: NodeSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
) -> None:
    """A registrar signs A→C; the DAO rotates A→B instead; A is registered anew: the old signature is dead."""
    a, b, c = accounts[3].address, Account.create().address, Account.create().address
    pending = citizens.attest_rotation(registrar, a, c, valid_for=WEEK)  # outlives the vote
    assert pending.nonce == citizens.rotation_nonce(a) == 1  # A's registration (in the fixture) moved it once
    action = citizens.rotate_action(a, b)
    pass_proposal(dao, control, accounts[1], accounts[1:3], [action], "recover A's key by vote")
    assert citizens.rotation_nonce(a) == 2  # the DAO rotation moved the nonce once
    assert citizens.rotation_nonce(b) == 1  # B gained the membership: its nonce moved once
    citizens.register(deployer, a, cred("dao-3-again"))  # A holds a membership again: only the nonce refuses
    assert citizens.rotation_nonce(a) == 3  # and the re-registration moved it once more
    with pytest.raises(StaleNonceError):
        verify_rotation(citizens.contract, pending.typed_data(), pending.signature)
    with pytest.raises(CitizenRegistrySignerNotRegistrar):
        citizens.rotate_with_attestation(accounts[7], pending)
    assert citizens.is_citizen(a) and not citizens.is_citizen(c)
    fresh = citizens.attest_rotation(registrar, a, c)  # signed at the current nonce, it goes through
    assert fresh.nonce == 3
    assert citizens.rotate_with_attestation(accounts[7], fresh).to_address == c
    assert citizens.rotation_nonce(a) == 4  # a signed rotation moves it exactly once too
    assert citizens.rotation_nonce(c) == 1  # and C's, which gained the membership, once


def test_revocation_voids_a_signed_rotation_even_after_re_registration(
    citizens: Citizens, registrar: LocalSigner, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    a, c = accounts[1].address, Account.create().address
    first = citizens.register(deployer, a, cred("permit-rv-1")).membership_id
    pending = citizens.attest_rotation(registrar, a, c)
    assert pending.nonce == 1  # the registration moved it once
    citizens.revoke(deployer, a, RevocationReason.MOVED_AWAY)
    assert citizens.rotation_nonce(a) == 2
    second = citizens.register(deployer, a, cred("permit-rv-2")).membership_id  # back in town
    assert second != first and citizens.rotation_nonce(a) == 3
    with pytest.raises(CitizenRegistrySignerNotRegistrar):
        citizens.rotate_with_attestation(accounts[7], pending)
    assert citizens.membership_of(a) == second and citizens.membership_of(c) == 0
    rotation = citizens.rotate_with_attestation(accounts[7], citizens.attest_rotation(registrar, a, c))
    assert rotation.membership_id == second and citizens.rotation_nonce(a) == 4


def test_revoke_action_by_the_dao_moves_the_rotation_nonce(
    dao: Governance,
    citizens: Citizens,
    registrar: LocalSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
) -> None:
    a = accounts[3].address
    pending = citizens.attest_rotation(registrar, a, Account.create().address, valid_for=WEEK)
    action = citizens.revoke_action(a, RevocationReason.OTHER)
    pass_proposal(dao, control, accounts[1], accounts[1:3], [action], "revoke A by vote")
    assert pending.nonce == 1 and citizens.rotation_nonce(a) == 2  # registration (fixture), then revocation
    with pytest.raises(StaleNonceError):
        verify_rotation(citizens.contract, pending.typed_data(), pending.signature)
    with pytest.raises(CitizenRegistrySignerNotRegistrar):  # the stale digest is refused before membership
        citizens.rotate_with_attestation(accounts[7], pending)


def test_rotation_signed_for_a_non_member_is_void_once_it_gains_a_membership(
    citizens: Citizens, registrar: LocalSigner, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    """A registrar signs X→Y while X holds nothing; X is registered later: the old signature stays dead.
    The same holds when an address gains its membership by a rotation to it (Y below)."""
    x, y, z = accounts[4].address, Account.create().address, Account.create().address
    assert not citizens.is_citizen(x) and citizens.rotation_nonce(x) == 0
    pending = citizens.attest_rotation(registrar, x, y)  # signed while X is no citizen
    assert pending.nonce == 0
    pending_y = citizens.attest_rotation(registrar, y, z)  # signed while Y is no citizen
    assert pending_y.nonce == 0
    citizens.register(deployer, x, cred("permit-nm-x"))
    assert citizens.rotation_nonce(x) == 1  # gaining a membership moved it once
    with pytest.raises(StaleNonceError):
        verify_rotation(citizens.contract, pending.typed_data(), pending.signature)
    with pytest.raises(CitizenRegistrySignerNotRegistrar):
        citizens.rotate_with_attestation(accounts[7], pending)
    assert citizens.is_citizen(x) and not citizens.is_citizen(y)
    # Signed at the current nonce, X→Y goes through; Y gains the membership, so Y's old signature dies.
    citizens.rotate_with_attestation(accounts[7], citizens.attest_rotation(registrar, x, y))
    assert citizens.rotation_nonce(x) == 2 and citizens.rotation_nonce(y) == 1
    with pytest.raises(StaleNonceError):
        verify_rotation(citizens.contract, pending_y.typed_data(), pending_y.signature)
    with pytest.raises(CitizenRegistrySignerNotRegistrar):
        citizens.rotate_with_attestation(accounts[7], pending_y)
    assert citizens.is_citizen(y) and not citizens.is_citizen(z)


# -- registrars -------------------------------------------------------------------------------------------


def test_grant_registrar_action_through_the_timelock(
    dao: Governance, citizens: Citizens, accounts: list[NodeSigner], control: ChainControl
) -> None:
    new_registrar = accounts[9]
    assert not citizens.is_registrar(new_registrar.address)
    action = citizens.grant_registrar_action(new_registrar.address)
    pass_proposal(dao, control, accounts[1], accounts[1:3], [action], "a second registrar desk")
    assert citizens.is_registrar(new_registrar.address)
    registration = citizens.register(new_registrar, accounts[8].address, cred("permit-desk-2"))
    assert registration.registrar == new_registrar.address
    pass_proposal(
        dao,
        control,
        accounts[1],
        accounts[1:3],
        [citizens.revoke_registrar_action(new_registrar.address)],
        "close",
    )
    assert not citizens.is_registrar(new_registrar.address)


def test_revoke_action_through_the_timelock(
    dao: Governance, citizens: Citizens, accounts: list[NodeSigner], control: ChainControl
) -> None:
    action = citizens.revoke_action(accounts[3].address, RevocationReason.FRAUD)
    execution = pass_proposal(
        dao, control, accounts[1], accounts[1:3], [action], "fraudulent registration"
    ).execution
    event = execution.event("CitizenRevoked")
    assert event["reason"] == RevocationReason.FRAUD and event["revokedBy"] == dao.timelock.address
    assert not citizens.is_citizen(accounts[3].address)


def test_the_deployment_points_the_membership_hook_at_the_exchange_and_only_the_dao_moves_it(
    dao: Governance,
    citizens: Citizens,
    suite: Suite,
    deployer: NodeSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
) -> None:
    """Every rotation and revocation tells the exchange (its credits follow the membership); only the admin
    (the Timelock) changes the hook, by a proposal that pins the new hook's code."""
    assert citizens.membership_hook() == suite.exchange.address
    with pytest.raises(AccessControlUnauthorizedAccount):
        transact(citizens.w3, deployer, citizens.contract.functions.setMembershipHook(ZERO))
    with pytest.raises(InvalidAddressError):
        citizens.membership_hook_action("0xnope")
    new_hook = accounts[7].address
    action = citizens.membership_hook_action(new_hook)
    assert action.grantees == (new_hook,)
    execution = pass_proposal(
        dao,
        control,
        accounts[1],
        accounts[1:3],
        [citizens.membership_hook_action(None)],
        "detach the exchange",
    ).execution
    assert execution.event("MembershipHookSet")["hook"] == ZERO
    assert citizens.membership_hook() is None
    # with no hook a rotation still works (the registry calls nobody)
    rotated = pass_proposal(
        dao,
        control,
        accounts[1],
        accounts[1:3],
        [citizens.rotate_action(accounts[3].address, accounts[8].address)],
        "rotate without a hook",
    ).execution
    assert rotated.event("CitizenRotated")["to"] == accounts[8].address


# -- delegate ---------------------------------------------------------------------------------------------


def test_delegate_moves_the_vote_and_back(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    a, b = accounts[1], accounts[2]
    citizens.register(deployer, a.address, cred("permit-da"))
    citizens.register(deployer, b.address, cred("permit-db"))
    delegation = citizens.delegate(a, b.address)
    assert delegation.previous == a.address and delegation.delegatee == b.address
    assert citizens.info(a.address).votes == 0 and citizens.info(b.address).votes == 2
    assert citizens.info(a.address).is_citizen  # delegating keeps the membership
    citizens.delegate(a, a.address)
    assert citizens.votes(a.address) == 1 and citizens.votes(b.address) == 1
    with pytest.raises(InvalidAddressError):
        citizens.delegate(a, ZERO)


def _moment(control: ChainControl) -> int:
    """A timepoint strictly between the action before and the action after."""
    control.increase_time(5)
    at = control.time()
    control.increase_time(5)
    return at


def test_delegation_history_answers_every_past_timepoint(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner], control: ChainControl
) -> None:
    """The registry keeps its own delegate and vote histories (the latest entry in one slot, earlier ones
    moved out on a change): getPastVotes, getPastDelegate and getPastTotalSupply agree at every timepoint,
    including those behind the latest entry, while the holder's own vote is derived from its member record."""
    registry = citizens.contract.functions
    a, b, c = accounts[1], accounts[2], accounts[3]
    for who in (a, b, c):
        citizens.register(deployer, who.address, cred(f"hist-{who.address}"))
    moments = [_moment(control)]
    for target in (b, c, b, a):
        citizens.delegate(a, target.address)
        moments.append(_moment(control))
    citizens.revoke(deployer, b.address, RevocationReason.MOVED_AWAY)  # a delegate's own vote leaves
    moments.append(_moment(control))
    citizens.revoke(deployer, a.address, RevocationReason.OTHER)
    moments.append(_moment(control))

    def votes(who: NodeSigner) -> list[int]:
        return [int(call(registry.getPastVotes(who.address, t))) for t in moments]

    assert [call(registry.getPastDelegate(a.address, t)) for t in moments] == [
        a.address,
        b.address,
        c.address,
        b.address,
        a.address,
        a.address,
        a.address,
    ]
    assert votes(a) == [1, 0, 0, 0, 1, 1, 0]
    assert votes(b) == [1, 2, 1, 2, 1, 0, 0]
    assert votes(c) == [1, 1, 2, 1, 1, 1, 1]
    assert [int(call(registry.getPastTotalSupply(t))) for t in moments] == [3, 3, 3, 3, 3, 2, 1]
    assert [citizens.votes(x.address) for x in (a, b, c)] == [0, 0, 1]


def test_past_total_supply_is_found_at_every_depth_of_the_history(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner], control: ChainControl
) -> None:
    """The latest supply is one slot; older timepoints are searched back from the end of the history in
    doubling steps: every timepoint, from before the first change to after the last, gets the count it had."""
    registry = citizens.contract.functions
    start = int(call(registry.citizenCount()))
    expected: list[tuple[int, int]] = [(_moment(control), start)]
    members: list[str] = []
    for i in range(23):  # 23 changes: searches end between every probe of the doubling steps
        if i % 5 == 4:
            citizens.revoke(deployer, members.pop(0), RevocationReason.OTHER)
        else:
            members.append(Account.create().address)
            citizens.register(deployer, members[-1], cred(f"depth-{i}"))
        expected.append((_moment(control), start + len(members)))
    assert [int(call(registry.getPastTotalSupply(t))) for t, _ in expected] == [n for _, n in expected]
    assert int(call(registry.getPastTotalSupply(0))) == 0  # before the first registration


def test_registration_self_delegates_implicitly_and_says_so_once(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner], control: ChainControl
) -> None:
    """No delegate is stored at registration: a holder who never chose votes for itself. The events still tell
    the index (DelegateChanged from nobody to itself on the first membership only, DelegateVotesChanged on
    every one) and getPastDelegate is nobody before the first membership."""
    registry = citizens.contract.functions
    a = accounts[4].address
    assert citizens.delegate_of(a) is None
    before = _moment(control)
    first = citizens.register(deployer, a, cred("implicit-1")).tx
    assert [
        (e["delegator"], e["fromDelegate"], e["toDelegate"]) for e in first.events_named("DelegateChanged")
    ] == [(a, ZERO, a)]
    assert [
        (e["delegate"], e["previousVotes"], e["newVotes"]) for e in first.events_named("DelegateVotesChanged")
    ] == [(a, 0, 1)]
    held = _moment(control)
    citizens.revoke(deployer, a, RevocationReason.MOVED_AWAY)
    gone = _moment(control)
    again = citizens.register(deployer, a, cred("implicit-2")).tx
    assert again.events_named("DelegateChanged") == []  # still its own delegate
    assert [(e["previousVotes"], e["newVotes"]) for e in again.events_named("DelegateVotesChanged")] == [
        (0, 1)
    ]
    assert [call(registry.getPastDelegate(a, t)) for t in (before, held, gone)] == [ZERO, a, a]
    assert [int(call(registry.getPastVotes(a, t))) for t in (before, held, gone)] == [0, 1, 0]
    assert citizens.delegate_of(a) == a and citizens.votes(a) == 1


def test_a_choice_made_before_registering_carries_the_new_vote(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    """An address may choose a delegate before it is a citizen: its membership's vote goes there on
    registration. One that chose nobody (the zero address) is made its own delegate, so the vote is live."""
    member, early, nobody = accounts[1], accounts[5], accounts[6]
    citizens.register(deployer, member.address, cred("early-m"))
    transact(citizens.w3, early, citizens.contract.functions.delegate(member.address))
    assert citizens.delegate_of(early.address) == member.address and citizens.votes(member.address) == 1
    registration = citizens.register(deployer, early.address, cred("early-e")).tx
    assert registration.events_named("DelegateChanged") == []
    assert citizens.votes(member.address) == 2 and citizens.votes(early.address) == 0
    transact(citizens.w3, nobody, citizens.contract.functions.delegate(ZERO))
    assert citizens.delegate_of(nobody.address) is None
    moved = citizens.register(deployer, nobody.address, cred("early-n")).tx
    changed = moved.event("DelegateChanged")
    assert (changed["fromDelegate"], changed["toDelegate"]) == (ZERO, nobody.address)
    assert citizens.delegate_of(nobody.address) == nobody.address and citizens.votes(nobody.address) == 1
    assert citizens.citizen_count() == 3


def test_rotation_onto_its_own_delegate_keeps_the_votes(
    citizens: Citizens,
    registrar: LocalSigner,
    deployer: NodeSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
) -> None:
    """A member delegated to a key that holds no membership, then rotated onto that very key: the vote the key
    cast as a delegate becomes its own (self, implicitly); its power never changes."""
    registry = citizens.contract.functions
    old, new_key = accounts[1], accounts[8]
    citizens.register(deployer, old.address, cred("onto-delegate"))
    citizens.delegate(old, new_key.address)
    assert citizens.votes(new_key.address) == 1 and citizens.votes(old.address) == 0
    delegated = _moment(control)
    rotation = citizens.rotate_with_attestation(
        accounts[7], citizens.attest_rotation(registrar, old.address, new_key.address)
    )
    assert rotation.tx.events_named("DelegateVotesChanged") == []  # nobody's power changed
    rotated = _moment(control)
    assert citizens.delegate_of(new_key.address) == new_key.address and citizens.votes(new_key.address) == 1
    assert [int(call(registry.getPastVotes(new_key.address, t))) for t in (delegated, rotated)] == [1, 1]
    assert [int(call(registry.getPastBalanceOf(new_key.address, t))) for t in (delegated, rotated)] == [0, 1]
    citizens.revoke(deployer, new_key.address, RevocationReason.OTHER)
    assert citizens.votes(new_key.address) == 0 and citizens.citizen_count() == 0


def test_info_of_a_stranger_is_empty(citizens: Citizens, accounts: list[NodeSigner]) -> None:
    info = citizens.info(accounts[9].address)
    assert (info.is_citizen, info.membership_id, info.votes, info.delegatee) == (False, 0, 0, None)


# -- credential hash --------------------------------------------------------------------------------------


def test_credential_hash_normalises_text_and_depends_on_the_salt() -> None:
    salt = new_salt()
    assert len(salt) == 32 and salt != new_salt()
    assert credential_hash("AB 123", salt=salt) == credential_hash("  ab\t123 ", salt=salt)
    assert credential_hash("AB 123", salt=salt) != credential_hash("AB 124", salt=salt)
    assert credential_hash("AB 123", salt=salt) != credential_hash("AB 123", salt=new_salt())
    assert credential_hash(b"raw", salt=salt) != credential_hash(b"RAW", salt=salt)  # bytes are taken as-is
    assert b"AB 123" not in credential_hash("AB 123", salt=salt)


def test_credential_hash_bad_input_refused() -> None:
    with pytest.raises(ConfigError):
        credential_hash("AB 123", salt=b"short")
    with pytest.raises(ConfigError):
        credential_hash("   ", salt=SALT)
    with pytest.raises(ConfigError):
        credential_hash(123, salt=SALT)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip()), st.binary(min_size=16, max_size=64))
def test_credential_hash_property_deterministic_and_case_insensitive(text: str, salt: bytes) -> None:
    digest = credential_hash(text, salt=salt)
    assert len(digest) == 32 and any(digest)
    assert digest == credential_hash(f" {text} ", salt=salt)
    assert digest == credential_hash(text.casefold(), salt=salt)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.integers(1, 6), st.sampled_from(["register", "revoke", "delegate"])), max_size=8)
)
def test_registry_property_votes_sum_to_live_memberships(
    suite: Suite,
    deployer: NodeSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
    steps: list[tuple[int, str]],
) -> None:
    citizens = Citizens.from_suite(suite)
    snapshot = control.snapshot()
    try:
        for n, (who, op) in enumerate(steps):
            signer = accounts[who]
            member = citizens.is_citizen(signer.address)
            if op == "register" and not member:
                citizens.register(deployer, signer.address, cred(f"prop-{n}-{who}"))
            elif op == "revoke" and member:
                citizens.revoke(deployer, signer.address, RevocationReason.OTHER)
            elif op == "delegate":
                citizens.delegate(signer, accounts[(who % 6) + 1].address)
            live = [a.address for a in accounts[1:7] if citizens.is_citizen(a.address)]
            assert citizens.citizen_count() == len(live)
            assert sum(citizens.votes(a.address) for a in accounts[1:7]) == len(live)
    finally:
        control.revert(snapshot)


def test_delegate_survives_the_clock_ticking_between_estimate_and_mining(
    citizens: Citizens,
    deployer: NodeSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checkpoints written in a new second cost ~20k gas more each than the same-second estimate said."""
    for i in (1, 2):
        citizens.register(deployer, accounts[i].address, cred(f"tick-{i}"))
    original = ContractFunction.estimate_gas

    def estimate_then_tick(self: ContractFunction, *args: Any, **kwargs: Any) -> int:
        estimate = int(original(self, *args, **kwargs))
        control._rpc("evm_increaseTime", [5 if control.is_ganache else hex(5)])
        return estimate

    monkeypatch.setattr(ContractFunction, "estimate_gas", estimate_then_tick)
    delegation = citizens.delegate(accounts[2], accounts[1].address)
    assert delegation.tx.gas_used > 0 and citizens.votes(accounts[1].address) == 2


def test_attestation_and_rotation_typed_data_match_civicdao_signing(
    citizens: Citizens, registrar: LocalSigner, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    """Citizens signs in the registry's domain built offline (registry_domain); it must hash exactly like the
    typed data built from the domain the contract reports (eip712Domain)."""
    from eth_account.messages import encode_typed_data

    def digest(data: dict[str, Any]) -> bytes:
        message = encode_typed_data(full_message=data)
        return bytes(message.header) + bytes(message.body)  # domain separator + struct hash

    attestation = citizens.attest(registrar, accounts[1].address, cred("permit-sig"))
    shared = signing.attestation_typed_data(
        citizens.contract,
        citizen=attestation.citizen,
        credential_hash=attestation.credential_hash,
        expiry=attestation.expiry,
    )
    assert digest(attestation.typed_data()) == digest(shared)
    citizens.register(deployer, accounts[2].address, cred("permit-sig-2"))
    rotation = citizens.attest_rotation(registrar, accounts[2].address, accounts[3].address)
    shared_rotation = signing.rotation_typed_data(
        citizens.contract,
        from_address=rotation.from_address,
        to_address=rotation.to_address,
        expiry=rotation.expiry,
    )
    assert digest(rotation.typed_data()) == digest(shared_rotation)
