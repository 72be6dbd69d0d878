"""EIP-712 builders and off-chain verification: what wallets sign is what the contracts accept.

Every builder's output is signed with a local key and then consumed by the real contract (a transaction
sent by somebody else), so "matches the contract" is checked on-chain, not assumed. Each refusal of the
off-chain verifier is asserted by its named error.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from governance_scenario import citizens_vote_soon, open_proposal, register
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from civicdao._custom_errors import (
    CitizenRegistrySignerNotRegistrar,
    GovernorInvalidSignature,
    InvalidAccountNonce,
    VotesExpiredSignature,
)
from civicdao.accounts import LocalSigner, NodeSigner, from_private_key
from civicdao.chain import ChainControl
from civicdao.deploy import Suite
from civicdao.errors import (
    AlreadyCitizenError,
    AlreadyVotedError,
    ConfigError,
    DomainMismatchError,
    InvalidSignatureError,
    MalformedMessageError,
    NonceMismatchError,
    NotCitizenError,
    NotRegistrarError,
    NoVotingPowerError,
    ProposalNotActiveError,
    SignatureExpiredError,
    SigningError,
    StaleNonceError,
    UnknownProposalError,
    WrongChainError,
    WrongContractError,
)
from civicdao.governance import Governance
from civicdao.relayer.policy import verify_attestation, verify_ballot, verify_delegation, verify_rotation
from civicdao.signing import (
    EIP712_DOMAIN_TYPE,
    attestation_typed_data,
    ballot_typed_data,
    delegation_typed_data,
    normalize_signature,
    read_domain,
    recover_signer,
    rotation_typed_data,
    sign_typed_data,
    typed_data_digest,
)
from civicdao.toolchain import project_root
from civicdao.tx import call, transact

HOUR = 3_600


@dataclass(frozen=True)
class World:
    """Three citizens (local keys), an active proposal, and a citizen registered after its snapshot."""

    suite: Suite
    registrar: LocalSigner
    citizens: tuple[LocalSigner, ...]
    late: LocalSigner
    proposal_id: int


@pytest.fixture(scope="module")
def world(
    suite: Suite, control: ChainControl, deployer: NodeSigner, local_signers: list[LocalSigner]
) -> Iterator[World]:
    snapshot = control.snapshot()
    citizens = tuple(local_signers[1:4])
    proposal_id = citizens_vote_soon(
        suite, control, deployer, citizens, salt="resident", text="Raise the ETH cap"
    )
    late = local_signers[5]
    register(suite, deployer, late.address, "latecomer")
    yield World(suite, local_signers[0], citizens, late, proposal_id)
    control.revert(snapshot)


def now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def fresh_key() -> LocalSigner:
    return from_private_key(Account.create().key)


# -- builders: the contract accepts what they produce ------------------------------------------------


def test_read_domain_matches_the_contracts(world: World) -> None:
    governor_domain = read_domain(world.suite.governor)
    assert governor_domain.name == call(world.suite.governor.functions.name()) == "CivicDAO Governor"
    assert governor_domain.version == "1"
    assert governor_domain.chain_id == world.suite.w3.eth.chain_id
    assert governor_domain.verifying_contract == world.suite.governor.address
    registry_domain = read_domain(world.suite.registry)
    assert (registry_domain.name, registry_domain.version) == ("CivicDAO CitizenRegistry", "1")


def test_ballot_typed_data_is_eth_sign_typed_data_v4_json(world: World) -> None:
    voter = world.citizens[1]
    typed = ballot_typed_data(
        world.suite.governor, proposal_id=world.proposal_id, support=1, voter=voter.address
    )
    assert set(typed) == {"types", "primaryType", "domain", "message"}
    assert typed["primaryType"] == "Ballot"
    assert [f["name"] for f in typed["types"]["EIP712Domain"]] == [
        "name",
        "version",
        "chainId",
        "verifyingContract",
    ]
    assert typed["message"] == {
        "proposalId": str(world.proposal_id),
        "support": 1,
        "voter": voter.address,
        "nonce": "0",
    }
    assert json.loads(json.dumps(typed)) == typed  # plain JSON, big numbers as strings


@pytest.mark.ganache
def test_ballot_signed_locally_is_counted_by_the_governor(world: World, deployer: NodeSigner) -> None:
    suite, voter = world.suite, world.citizens[1]
    typed = ballot_typed_data(suite.governor, proposal_id=world.proposal_id, support=1, voter=voter.address)
    signature = sign_typed_data(voter, typed)
    ballot = verify_ballot(suite.governor, suite.registry, typed, signature)
    record = transact(suite.w3, deployer, ballot.call(suite.governor))  # someone else pays the gas
    cast = record.event("VoteCast")
    assert (cast["voter"], cast["support"], cast["weight"]) == (voter.address, 1, 1)
    assert Governance.from_suite(suite).tally(world.proposal_id).for_ == 1
    assert call(suite.governor.functions.nonces(voter.address)) == 1


def test_extended_ballot_with_reason_is_counted_with_its_reason(world: World, deployer: NodeSigner) -> None:
    suite, voter = world.suite, world.citizens[2]
    typed = ballot_typed_data(
        suite.governor, proposal_id=world.proposal_id, support=0, voter=voter.address, reason="too soon ✋"
    )
    assert typed["primaryType"] == "ExtendedBallot"
    assert typed["message"]["params"] == "0x"
    ballot = verify_ballot(suite.governor, suite.registry, typed, sign_typed_data(voter, typed))
    record = transact(suite.w3, deployer, ballot.call(suite.governor))
    assert record.event("VoteCast")["reason"] == "too soon ✋"
    assert Governance.from_suite(suite).tally(world.proposal_id).against == 1


def test_delegation_signed_by_a_zero_eth_citizen_moves_its_vote(world: World, deployer: NodeSigner) -> None:
    suite = world.suite
    citizen = fresh_key()
    register(suite, deployer, citizen.address, "zero-eth")
    assert suite.w3.eth.get_balance(citizen.address) == 0
    delegatee = world.citizens[0].address
    typed = delegation_typed_data(
        suite.registry, delegator=citizen.address, delegatee=delegatee, expiry=now(suite.w3) + HOUR
    )
    delegation = verify_delegation(suite.registry, typed, sign_typed_data(citizen, typed))
    assert delegation.delegator == citizen.address
    transact(suite.w3, deployer, delegation.call(suite.registry))
    assert call(suite.registry.functions.delegates(citizen.address)) == delegatee
    assert call(suite.registry.functions.getVotes(delegatee)) == 2
    assert suite.w3.eth.get_balance(citizen.address) == 0


def test_attestation_signed_by_the_registrar_registers_the_citizen(
    world: World, deployer: NodeSigner
) -> None:
    suite, resident = world.suite, fresh_key()
    typed = attestation_typed_data(
        suite.registry,
        citizen=resident.address,
        credential_hash=Web3.keccak(text="salted credential"),
        expiry=now(suite.w3) + HOUR,
    )
    attestation = verify_attestation(suite.registry, typed, sign_typed_data(world.registrar, typed))
    assert attestation.registrar == world.registrar.address
    record = transact(suite.w3, world.citizens[2], attestation.call(suite.registry))
    assert record.event("CitizenRegistered")["registrar"] == world.registrar.address
    assert call(suite.registry.functions.isCitizen(resident.address))
    assert call(suite.registry.functions.getVotes(resident.address)) == 1


def test_rotation_signed_by_the_registrar_moves_the_membership(world: World, deployer: NodeSigner) -> None:
    suite, old, new = world.suite, world.citizens[2], fresh_key()
    typed = rotation_typed_data(
        suite.registry, from_address=old.address, to_address=new.address, expiry=now(suite.w3) + HOUR
    )
    assert typed["message"]["nonce"] == "1"  # the registration (in the fixture) moved it once
    rotation = verify_rotation(suite.registry, typed, sign_typed_data(world.registrar, typed))
    transact(suite.w3, deployer, rotation.call(suite.registry))
    assert call(suite.registry.functions.isCitizen(new.address))
    assert not call(suite.registry.functions.isCitizen(old.address))
    with pytest.raises(StaleNonceError):  # the same rotation cannot be replayed
        verify_rotation(suite.registry, typed, sign_typed_data(world.registrar, typed))


def test_override_ballot_takes_back_a_delegated_vote(world: World, deployer: NodeSigner) -> None:
    suite, control = world.suite, ChainControl(world.suite.w3)
    delegator, delegate = world.citizens[1], world.citizens[0]
    transact(suite.w3, delegator, suite.registry.functions.delegate(delegate.address))
    proposal_id = open_proposal(suite, control, delegate, "A proposal after the delegation")
    plain = ballot_typed_data(suite.governor, proposal_id=proposal_id, support=0, voter=delegator.address)
    with pytest.raises(NoVotingPowerError, match="OverrideBallot"):
        verify_ballot(suite.governor, suite.registry, plain, sign_typed_data(delegator, plain))
    Governance.from_suite(suite).vote(delegate, proposal_id, "for")  # delegate votes with 2
    typed = ballot_typed_data(
        suite.governor, proposal_id=proposal_id, support=0, voter=delegator.address, override=True
    )
    assert typed["primaryType"] == "OverrideBallot"
    ballot = verify_ballot(suite.governor, suite.registry, typed, sign_typed_data(delegator, typed))
    transact(suite.w3, deployer, ballot.call(suite.governor))
    tally = Governance.from_suite(suite).tally(proposal_id)
    assert (tally.for_, tally.against) == (1, 1)
    with pytest.raises(AlreadyVotedError):
        again = ballot_typed_data(
            suite.governor, proposal_id=proposal_id, support=1, voter=delegator.address, override=True
        )
        verify_ballot(suite.governor, suite.registry, again, sign_typed_data(delegator, again))


# -- refusals ----------------------------------------------------------------------------------------------


def _signed_ballot(world: World, voter: LocalSigner, **changes: Any) -> tuple[dict[str, Any], str]:
    typed = ballot_typed_data(
        world.suite.governor, proposal_id=world.proposal_id, support=1, voter=voter.address
    )
    for path, value in changes.items():
        section, key = path.split("__")
        typed[section][key] = value
    return typed, sign_typed_data(voter, typed)


def test_verify_ballot_signed_for_another_chain(world: World) -> None:
    typed, signature = _signed_ballot(world, world.citizens[1], domain__chainId=1)
    with pytest.raises(WrongChainError) as caught:
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)
    assert (caught.value.expected, caught.value.actual) == (world.suite.w3.eth.chain_id, 1)


def test_verify_ballot_signed_for_another_governor(world: World) -> None:
    other = world.suite.registry.address  # any other contract address
    typed, signature = _signed_ballot(world, world.citizens[1], domain__verifyingContract=other)
    with pytest.raises(WrongContractError, match="signed for contract"):
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)


def test_verify_ballot_with_a_domain_rewritten_after_signing(world: World) -> None:
    typed, signature = _signed_ballot(world, world.citizens[1], domain__chainId=1)
    typed["domain"]["chainId"] = world.suite.w3.eth.chain_id  # the attacker fixes the domain: the key differs
    with pytest.raises(InvalidSignatureError, match="not by the voter"):
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)


def test_verify_ballot_with_another_domain_name(world: World) -> None:
    typed, signature = _signed_ballot(world, world.citizens[1], domain__name="Other Governor")
    with pytest.raises(DomainMismatchError, match="Other Governor"):
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)


def test_verify_ballot_with_a_stale_nonce(world: World, deployer: NodeSigner) -> None:
    typed, signature = _signed_ballot(world, world.citizens[1])
    ballot = verify_ballot(world.suite.governor, world.suite.registry, typed, signature)
    transact(world.suite.w3, deployer, ballot.call(world.suite.governor))
    with pytest.raises(StaleNonceError) as caught:
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)
    assert (caught.value.expected, caught.value.actual) == (1, 0)
    with pytest.raises(GovernorInvalidSignature):  # and the governor agrees: replay refused on-chain
        transact(world.suite.w3, deployer, ballot.call(world.suite.governor))


def test_verify_ballot_with_a_nonce_ahead_of_the_next(world: World) -> None:
    typed, signature = _signed_ballot(world, world.citizens[1], message__nonce="5")
    with pytest.raises(NonceMismatchError) as caught:
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)
    assert not isinstance(caught.value, StaleNonceError)
    ballot = verify_ballot(world.suite.governor, world.suite.registry, typed, signature, expected_nonce=5)
    assert ballot.nonce == 5


def test_verify_ballot_by_someone_who_is_not_a_citizen(world: World) -> None:
    stranger = fresh_key()
    typed, signature = _signed_ballot(world, stranger)
    with pytest.raises(NotCitizenError, match="at the proposal snapshot"):
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)


def test_verify_ballot_by_a_citizen_registered_after_the_snapshot(world: World) -> None:
    assert call(world.suite.registry.functions.isCitizen(world.late.address))
    typed, signature = _signed_ballot(world, world.late)
    with pytest.raises(NotCitizenError):
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)


def test_verify_ballot_by_a_citizen_who_already_voted(world: World) -> None:
    voter = world.citizens[2]
    Governance.from_suite(world.suite).vote(voter, world.proposal_id, "against")
    typed, signature = _signed_ballot(world, voter)
    with pytest.raises(AlreadyVotedError, match="already voted"):
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)


def test_verify_ballot_for_an_unknown_proposal(world: World) -> None:
    typed, signature = _signed_ballot(world, world.citizens[1], message__proposalId="12345")
    with pytest.raises(UnknownProposalError, match="no proposal 12345"):
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)


def test_verify_ballot_after_voting_ended(world: World, control: ChainControl) -> None:
    typed, signature = _signed_ballot(world, world.citizens[1])
    control.increase_time(2 * 86_400)
    with pytest.raises(ProposalNotActiveError, match="Defeated"):
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)


def test_verify_ballot_with_an_altered_support(world: World) -> None:
    typed, signature = _signed_ballot(world, world.citizens[1])
    typed["message"]["support"] = 0
    with pytest.raises(InvalidSignatureError):
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)


@pytest.mark.parametrize(
    ("signature", "match"),
    [
        ("0x1234", "65 bytes"),
        ("0xzz" + "00" * 64, "not valid hex"),
        ("1b" * 65, "0x-prefixed hex"),
        ("0x" + "11" * 64 + "05", "v must be 27 or 28"),
        ("0x" + "11" * 32 + "ff" * 32 + "1b", "upper half"),
    ],
)
def test_normalize_signature_refuses_malformed_signatures(signature: str, match: str) -> None:
    with pytest.raises(MalformedMessageError, match=match):
        normalize_signature(signature)


def test_normalize_signature_turns_v_0_1_into_27_28(world: World) -> None:
    typed, signature = _signed_ballot(world, world.citizens[1])
    raw = bytes.fromhex(signature[2:])
    low_v = raw[:64] + bytes([raw[64] - 27])
    assert normalize_signature(low_v) == raw
    assert recover_signer(typed, low_v) == world.citizens[1].address


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: t.pop("message"), "no 'message'"),
        (lambda t: t.update(primaryType="Mail"), "primaryType must be one of"),
        (lambda t: t["types"]["Ballot"].pop(), "must be exactly Ballot"),
        (lambda t: t["message"].update(support="yes"), "support must be a whole number"),
        (lambda t: t["message"].update(support=3), "support must be 0"),
        (lambda t: t["message"].update(voter="0x1234"), "voter must be an address"),
        (lambda t: t["message"].update(nonce=-1), "between 0 and 2"),
        (lambda t: t["message"].update(extra=1), "unexpected"),
        (lambda t: t["message"].update(proposalId=True), "boolean"),
    ],
)
def test_verify_ballot_refuses_malformed_typed_data(world: World, change: Any, match: str) -> None:
    typed, signature = _signed_ballot(world, world.citizens[1])
    change(typed)
    with pytest.raises((MalformedMessageError, ConfigError), match=match):
        verify_ballot(world.suite.governor, world.suite.registry, typed, signature)


def test_verify_delegation_expired(world: World, deployer: NodeSigner) -> None:
    suite, citizen = world.suite, world.citizens[1]
    typed = delegation_typed_data(
        suite.registry, delegator=citizen.address, delegatee=citizen.address, expiry=now(suite.w3) + 10
    )
    signature = sign_typed_data(citizen, typed)
    ChainControl(suite.w3).increase_time(60)
    with pytest.raises(SignatureExpiredError) as caught:
        verify_delegation(suite.registry, typed, signature)
    assert caught.value.expiry == int(typed["message"]["expiry"])
    fn = suite.registry.functions.delegateBySig(
        citizen.address, 0, caught.value.expiry, 27, b"\x00" * 32, b"\x00" * 32
    )
    with pytest.raises(VotesExpiredSignature):  # the registry agrees
        transact(suite.w3, deployer, fn)


def test_verify_delegation_stale_nonce(world: World, deployer: NodeSigner) -> None:
    suite, citizen = world.suite, world.citizens[1]
    typed = delegation_typed_data(
        suite.registry, delegator=citizen.address, delegatee=citizen.address, expiry=now(suite.w3) + HOUR
    )
    delegation = verify_delegation(suite.registry, typed, sign_typed_data(citizen, typed))
    transact(suite.w3, deployer, delegation.call(suite.registry))
    with pytest.raises(StaleNonceError):
        verify_delegation(suite.registry, typed, sign_typed_data(citizen, typed))
    with pytest.raises(InvalidAccountNonce):
        transact(suite.w3, deployer, delegation.call(suite.registry))


def test_verify_delegation_by_a_non_citizen(world: World) -> None:
    stranger = fresh_key()
    typed = delegation_typed_data(
        world.suite.registry,
        delegator=stranger.address,
        delegatee=world.citizens[0].address,
        expiry=now(world.suite.w3) + HOUR,
    )
    with pytest.raises(NotCitizenError):
        verify_delegation(world.suite.registry, typed, sign_typed_data(stranger, typed))


def test_verify_attestation_not_signed_by_a_registrar(world: World, deployer: NodeSigner) -> None:
    suite, impostor, resident = world.suite, world.citizens[0], fresh_key()
    typed = attestation_typed_data(
        suite.registry, citizen=resident.address, credential_hash=b"\x01" * 32, expiry=now(suite.w3) + HOUR
    )
    signature = sign_typed_data(impostor, typed)
    with pytest.raises(NotRegistrarError):
        verify_attestation(suite.registry, typed, signature)
    fn = suite.registry.functions.registerWithAttestation(
        resident.address, b"\x01" * 32, now(suite.w3) + HOUR, signature
    )
    with pytest.raises(CitizenRegistrySignerNotRegistrar):
        transact(suite.w3, deployer, fn)


def test_verify_attestation_of_a_citizen_or_a_used_credential(world: World) -> None:
    suite = world.suite
    typed = attestation_typed_data(
        suite.registry,
        citizen=world.citizens[0].address,
        credential_hash=b"\x02" * 32,
        expiry=now(suite.w3) + HOUR,
    )
    with pytest.raises(AlreadyCitizenError, match="already a citizen"):
        verify_attestation(suite.registry, typed, sign_typed_data(world.registrar, typed))
    used = attestation_typed_data(
        suite.registry,
        citizen=fresh_key().address,
        credential_hash=Web3.keccak(text="resident-0"),
        expiry=now(suite.w3) + HOUR,
    )
    with pytest.raises(AlreadyCitizenError, match="already used"):
        verify_attestation(suite.registry, used, sign_typed_data(world.registrar, used))


def test_builders_refuse_bad_input_before_reading_the_chain(world: World) -> None:
    governor, registry = world.suite.governor, world.suite.registry
    with pytest.raises(ConfigError, match="support must be"):
        ballot_typed_data(governor, proposal_id=1, support=7, voter=world.citizens[0].address)
    with pytest.raises(ConfigError, match="voter"):
        ballot_typed_data(governor, proposal_id=1, support=1, voter="0xnope")
    with pytest.raises(ConfigError, match="proposal_id"):
        ballot_typed_data(governor, proposal_id=-1, support=1, voter=world.citizens[0].address)
    with pytest.raises(MalformedMessageError, match="32 bytes"):
        attestation_typed_data(registry, citizen=world.citizens[0].address, credential_hash=b"\x01", expiry=1)


# -- an independent signer and properties --------------------------------------------------------------


def test_ethers_signs_the_same_bytes_as_eth_account(world: World) -> None:
    voter = world.citizens[1]
    typed = ballot_typed_data(
        world.suite.governor, proposal_id=world.proposal_id, support=2, voter=voter.address
    )
    key = voter.key.to_0x_hex()
    result = subprocess.run(
        ["node", str(project_root() / "tests" / "js" / "sign.mjs")],
        input=json.dumps({"privateKey": key, "typedData": typed}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    signed = json.loads(result.stdout)
    assert signed["digest"] == "0x" + typed_data_digest(typed).hex()
    assert signed["signature"] == sign_typed_data(voter, typed)  # RFC 6979: deterministic signatures


@settings(max_examples=40, deadline=None)
@given(
    key=st.integers(min_value=1, max_value=2**255),
    proposal_id=st.integers(min_value=0, max_value=2**256 - 1),
    support=st.integers(min_value=0, max_value=2),
    nonce=st.integers(min_value=0, max_value=2**256 - 1),
    reason=st.one_of(st.none(), st.text(max_size=40)),
)
def test_recover_signer_round_trips_and_any_change_breaks_it(
    key: int, proposal_id: int, support: int, nonce: int, reason: str | None
) -> None:
    signer = from_private_key(key.to_bytes(32, "big"))
    message: dict[str, Any] = {"proposalId": str(proposal_id), "support": support, "voter": signer.address}
    message["nonce"] = str(nonce)
    typed = _offline_typed(message, reason)
    signature = sign_typed_data(signer, typed)
    assert recover_signer(typed, signature) == signer.address
    altered = copy.deepcopy(typed)
    altered["message"]["support"] = (support + 1) % 3
    assert recover_signer(altered, signature) != signer.address
    # the canonical low-s form is what we produce, and its malleable twin is refused
    raw = bytes.fromhex(signature[2:])
    high_s = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 - int.from_bytes(
        raw[32:64], "big"
    )
    with pytest.raises(MalformedMessageError):
        normalize_signature(raw[:32] + high_s.to_bytes(32, "big") + bytes([55 - raw[64]]))


def _offline_typed(message: dict[str, Any], reason: str | None) -> dict[str, Any]:
    kind = "Ballot" if reason is None else "OverrideBallot"
    fields = [("proposalId", "uint256"), ("support", "uint8"), ("voter", "address"), ("nonce", "uint256")]
    if reason is not None:
        fields.append(("reason", "string"))
        message = {**message, "reason": reason}
    return {
        "types": {
            "EIP712Domain": [dict(f) for f in EIP712_DOMAIN_TYPE],
            kind: [{"name": n, "type": t} for n, t in fields],
        },
        "primaryType": kind,
        "domain": {
            "name": "CivicDAO Governor",
            "version": "1",
            "chainId": 31337,
            "verifyingContract": "0x" + "ab" * 20,
        },
        "message": message,
    }


@settings(max_examples=8, deadline=None)
@given(reason=st.text(max_size=60), support=st.integers(min_value=0, max_value=2))
def test_extended_ballot_any_reason_is_accepted_by_the_governor(
    world: World, deployer: NodeSigner, reason: str, support: int
) -> None:
    suite, control = world.suite, ChainControl(world.suite.w3)
    snapshot = control.snapshot()  # hypothesis runs many examples inside one test's snapshot
    try:
        voter = world.citizens[0]
        typed = ballot_typed_data(
            suite.governor, proposal_id=world.proposal_id, support=support, voter=voter.address, reason=reason
        )
        ballot = verify_ballot(suite.governor, suite.registry, typed, sign_typed_data(voter, typed))
        record = transact(suite.w3, deployer, ballot.call(suite.governor))
        assert (record.event("VoteCast")["reason"], record.event("VoteCast")["support"]) == (reason, support)
    finally:
        control.revert(snapshot)


# -- pluggable signers for typed data ----------------------------------------------------------------------


def test_a_bare_eth_account_signs_a_ballot_the_governor_counts(
    world: World, control: ChainControl, deployer: NodeSigner
) -> None:
    suite = world.suite
    resident = Account.create()  # eth-account's LocalAccount, used as it is
    register(suite, deployer, resident.address, "bare-account")
    proposal_id = open_proposal(suite, control, world.citizens[0], "A bare account votes")
    typed = ballot_typed_data(suite.governor, proposal_id=proposal_id, support=1, voter=resident.address)
    ballot = verify_ballot(suite.governor, suite.registry, typed, sign_typed_data(resident, typed))
    cast = transact(suite.w3, deployer, ballot.call(suite.governor)).event("VoteCast")
    assert (cast["voter"], cast["support"]) == (resident.address, 1)


def test_typed_data_goes_to_the_node_only_for_a_node_signer(world: World, deployer: NodeSigner) -> None:
    typed = ballot_typed_data(
        world.suite.governor, proposal_id=world.proposal_id, support=1, voter=deployer.address
    )
    with pytest.raises(SigningError, match="pass w3"):
        sign_typed_data(deployer, typed)
    by_node = sign_typed_data(deployer, typed, w3=world.suite.w3)
    assert recover_signer(typed, by_node) == deployer.address

    class AddressOnly:
        address = deployer.address

    with pytest.raises(SigningError, match="cannot sign typed data"):
        sign_typed_data(AddressOnly(), typed, w3=world.suite.w3)  # type: ignore[arg-type]
