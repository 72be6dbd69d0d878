"""A stolen key votes no more: after a lost-key rotation made during a vote, the new key casts the
membership's ballot on every proposal still open (with the old key's snapshot weight) and the old key none,
through direct, signed and override ballots, and no membership is counted twice."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from civicdao._custom_errors import (
    CivicGovernorVoterRotatedAway,
    GovernorAlreadyCastVote,
    GovernorAlreadyOverriddenVote,
)
from civicdao.accounts import LocalSigner, NodeSigner
from civicdao.chain import ChainControl
from civicdao.citizens import Citizens, credential_hash
from civicdao.contracts import deploy_contract
from civicdao.deploy import Suite
from civicdao.errors import NotCitizenError
from civicdao.governance import Action, Governance, SignedBallot, VoteType
from civicdao.relayer.policy import verify_ballot
from civicdao.signing import ballot_typed_data, normalize_signature, sign_typed_data

FOR, AGAINST = VoteType.FOR, VoteType.AGAINST


@pytest.fixture
def voters(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner], control: ChainControl
) -> list[NodeSigner]:
    """Accounts 1-4 are citizens; accounts 5-8 hold no membership (new keys)."""
    for i in (1, 2, 3, 4):
        citizens.register(deployer, accounts[i].address, credential_hash(f"rot-{i}", salt=b"r" * 32))
    control.increase_time(1)
    return accounts[1:5]


@pytest.fixture
def proposal(
    gov: Governance, voters: list[NodeSigner], w3: Web3, deployer: NodeSigner, control: ChainControl
) -> int:
    """An Active proposal whose snapshot precedes everything the test does next."""
    return open_vote(gov, voters[3], "open vote", w3=w3, deployer=deployer, control=control)


def open_vote(
    gov: Governance, proposer: NodeSigner, text: str, *, w3: Web3, deployer: NodeSigner, control: ChainControl
) -> int:
    """Propose a harmless call on a fresh contract and move the clock until voting opens."""
    target: Contract = deploy_contract(w3, deployer, "MockReverter")[0]
    proposal_id = gov.propose(proposer, [Action.call(target.functions.setValue(1))], text).proposal_id
    control.increase_time(gov.voting_delay() + 1)
    return proposal_id


def rotate(citizens: Citizens, deployer: NodeSigner, old: str, new: str) -> None:
    """A registrar-signed lost-key rotation (the deployer is the pilot's registrar)."""
    citizens.rotate_with_attestation(deployer, citizens.attest_rotation(deployer, old, new))


def test_rotated_away_key_cannot_vote_and_new_key_carries_the_ballot(
    gov: Governance,
    citizens: Citizens,
    voters: list[NodeSigner],
    accounts: list[NodeSigner],
    deployer: NodeSigner,
    proposal: int,
) -> None:
    thief_key, new_key = voters[0], accounts[5]
    rotate(citizens, deployer, thief_key.address, new_key.address)
    with pytest.raises(CivicGovernorVoterRotatedAway) as err:
        gov.vote(thief_key, proposal, AGAINST)
    assert err.value.account == thief_key.address
    with pytest.raises(CivicGovernorVoterRotatedAway):
        gov.override_vote(thief_key, proposal, AGAINST)

    snapshot = gov.snapshot(proposal)
    assert citizens.snapshot_voter(new_key.address, snapshot) == thief_key.address
    assert citizens.snapshot_voter(thief_key.address, snapshot) is None
    assert citizens.votes(new_key.address, at=snapshot) == 0  # the token's history is untouched
    assert gov.ballot_key(proposal, new_key.address) == thief_key.address
    assert gov.ballot_key(proposal, thief_key.address) is None

    cast = gov.vote(new_key, proposal, FOR).tx.event("VoteCast")
    assert cast["voter"] == thief_key.address  # the membership's receipt at the snapshot
    assert cast["weight"] == 1
    assert gov.tally(proposal).for_ == 1 and gov.tally(proposal).against == 0
    with pytest.raises(GovernorAlreadyCastVote):
        gov.vote(new_key, proposal, FOR)


def test_ballot_cast_by_the_old_key_before_rotation_stands_and_is_not_doubled(
    gov: Governance,
    citizens: Citizens,
    voters: list[NodeSigner],
    accounts: list[NodeSigner],
    deployer: NodeSigner,
    proposal: int,
) -> None:
    thief_key, new_key = voters[0], accounts[5]
    gov.vote(thief_key, proposal, AGAINST)
    rotate(citizens, deployer, thief_key.address, new_key.address)
    with pytest.raises(GovernorAlreadyCastVote) as err:
        gov.vote(new_key, proposal, FOR)
    assert err.value.voter == thief_key.address
    tally = gov.tally(proposal)
    assert (tally.for_, tally.against) == (0, 1)


def test_two_rotations_after_the_snapshot_leave_the_ballot_with_the_last_key(
    gov: Governance,
    citizens: Citizens,
    voters: list[NodeSigner],
    accounts: list[NodeSigner],
    deployer: NodeSigner,
    proposal: int,
    control: ChainControl,
) -> None:
    first, middle, last = voters[0], accounts[5], accounts[6]
    rotate(citizens, deployer, first.address, middle.address)
    control.increase_time(1)
    rotate(citizens, deployer, middle.address, last.address)
    for stale in (first, middle):
        with pytest.raises(CivicGovernorVoterRotatedAway):
            gov.vote(stale, proposal, AGAINST)
    assert gov.vote(last, proposal, FOR).weight == 1
    assert gov.tally(proposal).for_ == 1


def test_reused_key_votes_for_the_membership_it_received(
    gov: Governance,
    citizens: Citizens,
    voters: list[NodeSigner],
    accounts: list[NodeSigner],
    deployer: NodeSigner,
    proposal: int,
    control: ChainControl,
) -> None:
    """A key that rotated one membership away and then received another casts the other one's ballot only."""
    a, b, e = voters[0], accounts[5], voters[1]
    rotate(citizens, deployer, a.address, b.address)
    control.increase_time(1)
    rotate(citizens, deployer, e.address, a.address)
    assert gov.vote(a, proposal, FOR).voter == e.address
    assert gov.vote(b, proposal, FOR).voter == a.address
    with pytest.raises(CivicGovernorVoterRotatedAway):
        gov.vote(e, proposal, FOR)
    assert gov.tally(proposal).for_ == 2


def test_votes_delegated_to_the_old_key_follow_the_resident_and_can_be_overridden(
    gov: Governance,
    citizens: Citizens,
    voters: list[NodeSigner],
    accounts: list[NodeSigner],
    deployer: NodeSigner,
    control: ChainControl,
    w3: Web3,
) -> None:
    old_key, delegator, new_key = voters[0], voters[1], accounts[5]
    citizens.delegate(delegator, old_key.address)
    control.increase_time(1)
    proposal_id = open_vote(gov, voters[3], "delegated", w3=w3, deployer=deployer, control=control)
    rotate(citizens, deployer, old_key.address, new_key.address)

    assert gov.vote(new_key, proposal_id, FOR).weight == 2
    reduced = gov.override_vote(delegator, proposal_id, AGAINST).tx.event("VoteReduced")
    assert reduced["delegate"] == old_key.address and reduced["weight"] == 1
    tally = gov.tally(proposal_id)
    assert (tally.for_, tally.against) == (1, 1)


def test_new_key_overrides_the_delegate_the_old_key_chose(
    gov: Governance,
    citizens: Citizens,
    voters: list[NodeSigner],
    accounts: list[NodeSigner],
    deployer: NodeSigner,
    control: ChainControl,
    w3: Web3,
) -> None:
    old_key, delegate, new_key = voters[0], voters[1], accounts[5]
    citizens.delegate(old_key, delegate.address)
    control.increase_time(1)
    proposal_id = open_vote(gov, voters[3], "override", w3=w3, deployer=deployer, control=control)
    assert gov.vote(delegate, proposal_id, FOR).weight == 2
    rotate(citizens, deployer, old_key.address, new_key.address)

    with pytest.raises(CivicGovernorVoterRotatedAway):
        gov.override_vote(old_key, proposal_id, AGAINST)
    override = gov.override_vote(new_key, proposal_id, AGAINST)
    assert override.weight == 1 and override.support is AGAINST and override.proposal_id == proposal_id
    tally = gov.tally(proposal_id)
    assert (tally.for_, tally.against) == (1, 1)
    with pytest.raises(GovernorAlreadyOverriddenVote):
        gov.override_vote(new_key, proposal_id, FOR)


def test_proposals_made_after_the_rotation_count_the_new_key_only(
    gov: Governance,
    citizens: Citizens,
    voters: list[NodeSigner],
    accounts: list[NodeSigner],
    deployer: NodeSigner,
    control: ChainControl,
    w3: Web3,
) -> None:
    old_key, new_key = voters[0], accounts[5]
    rotate(citizens, deployer, old_key.address, new_key.address)
    control.increase_time(1)
    proposal_id = open_vote(gov, voters[3], "later", w3=w3, deployer=deployer, control=control)
    assert gov.vote(old_key, proposal_id, FOR).weight == 0
    cast = gov.vote(new_key, proposal_id, FOR).tx.event("VoteCast")
    assert (cast["voter"], cast["weight"]) == (new_key.address, 1)


def test_snapshot_voter_without_rotation_is_the_account(citizens: Citizens, voters: list[NodeSigner]) -> None:
    stranger = Account.create().address
    assert citizens.snapshot_voter(voters[0].address, 1) == voters[0].address
    assert citizens.snapshot_voter(stranger, 2**40) == stranger


def test_signed_ballots_follow_the_rotation_too(
    gov: Governance,
    citizens: Citizens,
    voters: list[NodeSigner],
    local_signers: list[LocalSigner],
    accounts: list[NodeSigner],
    deployer: NodeSigner,
    proposal: int,
) -> None:
    """Relayed ballots (castVoteBySig in a multicall) obey the same rule as direct ones."""
    thief, new = local_signers[1], local_signers[5]  # the keys of voters[0] and accounts[5]
    rotate(citizens, deployer, thief.address, new.address)

    def signed(signer: LocalSigner) -> SignedBallot:
        data = ballot_typed_data(gov.contract, proposal_id=proposal, support=int(FOR), voter=signer.address)
        return SignedBallot(proposal, FOR, signer.address, normalize_signature(sign_typed_data(signer, data)))

    with pytest.raises(CivicGovernorVoterRotatedAway):
        gov.relay_ballots(accounts[9], [signed(thief)])
    cast = gov.relay_ballots(accounts[9], [signed(new)]).tx.event("VoteCast")
    assert (cast["voter"], cast["weight"]) == (thief.address, 1)


def test_relayer_precheck_accepts_the_new_key_and_refuses_the_old(
    gov: Governance,
    citizens: Citizens,
    suite: Suite,
    local_signers: list[LocalSigner],
    deployer: NodeSigner,
    proposal: int,
) -> None:
    """The relayer's check before queueing (relayer.policy.verify_ballot) applies the rotation rule."""
    thief, new = local_signers[1], local_signers[5]
    rotate(citizens, deployer, thief.address, new.address)
    for override in (False, True):
        for signer in (thief, new):
            data = ballot_typed_data(
                gov.contract, proposal_id=proposal, support=int(FOR), voter=signer.address, override=override
            )
            signature = sign_typed_data(signer, data)
            if signer is thief:
                with pytest.raises(NotCitizenError, match="rotated its membership"):
                    verify_ballot(gov.contract, suite.registry, data, signature)
            else:
                assert verify_ballot(gov.contract, suite.registry, data, signature).voter == new.address
