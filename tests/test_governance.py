"""CivicGovernor + CivicTimelock through civicdao.governance: the lifecycle, vote counting at the snapshot,
delegation with override, quorum and its late extension, the guardian, the timelock delay, target pinning,
relayed signed ballots, and the attacks each guard is there for."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.contract import Contract

from civicdao._custom_errors import (
    AccessControlUnauthorizedAccount,
    CivicGovernorGuardianExpired,
    GovernorAlreadyCastVote,
    GovernorAlreadyOverriddenVote,
    GovernorInsufficientProposerVotes,
    GovernorInvalidSignature,
    GovernorNonexistentProposal,
    GovernorOnlyExecutor,
    GovernorRestrictedProposer,
    GovernorUnableToCancel,
    GovernorUnexpectedProposalState,
    TimelockUnexpectedOperationState,
)
from civicdao.accounts import LocalSigner, NodeSigner
from civicdao.artifacts import load_artifact
from civicdao.chain import ChainControl
from civicdao.citizens import Citizens, RevocationReason, credential_hash
from civicdao.contracts import deploy_contract
from civicdao.deploy import Suite
from civicdao.errors import ConfigError, TargetCodeChangedError
from civicdao.governance import Action, Governance, ProposalState, SignedBallot, VoteType
from civicdao.local import pass_proposal
from civicdao.signing import EIP712_DOMAIN_TYPE, batch_ballot_typed_data
from civicdao.tx import call, send_transaction, transact

SALT = b"governance-tests-registrar-salt!"
FOR, AGAINST, ABSTAIN = VoteType.FOR, VoteType.AGAINST, VoteType.ABSTAIN


def cred(label: str) -> bytes:
    return credential_hash(label, salt=SALT)


@pytest.fixture
def voters(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner], control: ChainControl
) -> list[NodeSigner]:
    """Accounts 1-4 registered as citizens (four votes in all), one second old so they may propose."""
    for i in (1, 2, 3, 4):
        citizens.register(deployer, accounts[i].address, cred(f"voter-{i}"))
    control.increase_time(1)
    return accounts[1:5]


@pytest.fixture
def target(w3: Web3, deployer: NodeSigner) -> Contract:
    """A plain contract for proposals to call (``setValue``)."""
    contract, _ = deploy_contract(w3, deployer, "MockReverter")
    return contract


def set_value(target: Contract, value: int) -> Action:
    return Action.call(target.functions.setValue(value))


def start_voting(gov: Governance, control: ChainControl) -> None:
    control.increase_time(gov.voting_delay() + 1)


def end_voting(gov: Governance, control: ChainControl, proposal_id: int) -> None:
    control.increase_time(max(gov.deadline(proposal_id) - control.time(), 0) + 1)


def register_many(citizens: Citizens, deployer: NodeSigner, count: int, label: str) -> None:
    for i in range(count):
        citizens.register(deployer, Account.create().address, cred(f"{label}-{i}"))


# -- the lifecycle ----------------------------------------------------------------------------------------


@pytest.mark.ganache
def test_lifecycle_timelock_transfer_from_proposal_to_execution(
    gov: Governance,
    voters: list[NodeSigner],
    deployer: NodeSigner,
    control: ChainControl,
    w3: Web3,
) -> None:
    assert gov.timelock is not None
    send_transaction(w3, deployer, to=gov.timelock.address, value=3 * 10**18)
    recipient = Account.create().address
    action = Action.transfer(recipient, 10**18, description="fund the community garden")
    proposer = voters[0]

    proposed = gov.propose(proposer, [action], "Fund the community garden")
    proposal_id, created = proposed.proposal_id, proposed.tx
    assert created.event("ProposalCreated")["proposalId"] == proposal_id
    assert proposed.proposer == proposer.address and proposed.actions == (action,)
    assert proposed.description == f"Fund the community garden#proposer={proposer.address}"
    assert proposal_id == gov.proposal_id([action], "Fund the community garden", proposer.address)
    assert gov.state(proposal_id) is ProposalState.PENDING
    start_voting(gov, control)
    assert gov.state(proposal_id) is ProposalState.ACTIVE
    gov.vote(voters[0], proposal_id, FOR, reason="shade for the playground")
    gov.vote(voters[1], proposal_id, "for")
    gov.vote(voters[2], proposal_id, AGAINST)
    gov.vote(voters[3], proposal_id, ABSTAIN)
    assert gov.has_voted(proposal_id, voters[3].address)
    end_voting(gov, control, proposal_id)
    assert gov.state(proposal_id) is ProposalState.SUCCEEDED
    gov.queue(proposer, proposal_id)
    assert gov.state(proposal_id) is ProposalState.QUEUED
    control.increase_time(gov.timelock_delay() + 1)
    gov.execute(voters[2], proposal_id)  # anyone may trigger the execution

    assert gov.state(proposal_id) is ProposalState.EXECUTED
    assert w3.eth.get_balance(recipient) == 10**18
    proposal = gov.get(proposal_id)
    assert proposal.proposer == proposer.address
    assert proposal.description == f"Fund the community garden#proposer={proposer.address}"
    assert (proposal.tally.for_, proposal.tally.against, proposal.tally.abstain) == (2, 1, 1)
    assert proposal.targets == (recipient,) and proposal.values == (10**18,)
    assert proposal.eta > 0
    assert [p.id for p in gov.proposals()] == [proposal_id]


def test_propose_by_non_citizen_reverts(
    gov: Governance, target: Contract, accounts: list[NodeSigner]
) -> None:
    with pytest.raises(GovernorInsufficientProposerVotes) as err:
        gov.propose(accounts[8], [set_value(target, 1)], "not a citizen")
    assert err.value.proposer == accounts[8].address


def test_propose_with_another_proposers_suffix_reverts(
    gov: Governance, target: Contract, voters: list[NodeSigner]
) -> None:
    """Front-running protection: a copied description naming its author cannot be proposed by someone else."""
    action = set_value(target, 1)
    description = f"Repaint the library#proposer={voters[0].address}"
    fn = gov.contract.functions.propose([action.target], [0], [action.calldata], description)
    with pytest.raises(GovernorRestrictedProposer) as err:
        transact(gov.w3, voters[1], fn)
    assert err.value.proposer == voters[1].address


@pytest.mark.parametrize(
    "spelling",
    ["checksum", "lower", "upper", "no 0x", "not hex"],
)
def test_proposer_suffix_fast_path_agrees_with_openzeppelin(
    gov: Governance, target: Contract, voters: list[NodeSigner], spelling: str
) -> None:
    """CivicGovernor compares `#proposer=0x<40 digits>` a word at a time and leaves anything else to
    OpenZeppelin's parser: every spelling of the proposer's own address is accepted, any other refused,
    and a suffix that is not an address (control characters that equal hex digits once OR-ed with 0x20, or 40
    digits without 0x, which OpenZeppelin does not look at) is plain text anyone may propose."""
    action = set_value(target, 1)
    own, other = voters[0].address, voters[1].address
    digits = {
        "checksum": lambda a: a,
        "lower": lambda a: a.lower(),
        "upper": lambda a: "0x" + a[2:].upper(),
        "no 0x": lambda a: a[2:],
        "not hex": lambda a: "0x" + "".join(chr(ord(c) - 0x20) if c.isdigit() else c for c in a[2:].lower()),
    }[spelling]

    def propose(author: NodeSigner, named: str, text: str) -> Any:
        fn = gov.contract.functions.propose(
            [action.target], [0], [action.calldata], f"{text}#proposer={digits(named)}"
        )
        return transact(gov.w3, author, fn)

    propose(voters[0], own, f"own {spelling}")
    if spelling in ("not hex", "no 0x"):  # not an address, or not where OpenZeppelin looks: plain text
        propose(voters[1], own, f"text {spelling}")
    else:
        with pytest.raises(GovernorRestrictedProposer):
            propose(voters[0], other, f"other {spelling}")


def test_propose_bad_input_refused(gov: Governance, target: Contract, voters: list[NodeSigner]) -> None:
    with pytest.raises(ConfigError):
        gov.propose(voters[0], [], "nothing to do")
    with pytest.raises(ConfigError):
        gov.propose(voters[0], [set_value(target, 1)], "   ")
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "ok").proposal_id
    with pytest.raises(ConfigError):
        gov.vote(voters[0], proposal_id, "maybe")


def test_queue_before_success_and_vote_after_end_revert(
    gov: Governance, target: Contract, voters: list[NodeSigner], control: ChainControl
) -> None:
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "too early").proposal_id
    with pytest.raises(GovernorUnexpectedProposalState):
        gov.vote(voters[0], proposal_id, FOR)  # still pending
    start_voting(gov, control)
    with pytest.raises(GovernorUnexpectedProposalState):
        gov.queue(voters[0], proposal_id)  # still active
    end_voting(gov, control, proposal_id)
    with pytest.raises(GovernorUnexpectedProposalState):
        gov.vote(voters[1], proposal_id, FOR)


# -- counting at the snapshot -----------------------------------------------------------------------------


def test_vote_registered_after_snapshot_counts_zero(
    gov: Governance,
    citizens: Citizens,
    target: Contract,
    voters: list[NodeSigner],
    deployer: NodeSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
) -> None:
    """A flash registration after voting opened cannot sway the proposal: weight is read at the snapshot."""
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "snapshot").proposal_id
    start_voting(gov, control)
    late = accounts[7]
    citizens.register(deployer, late.address, cred("late"))
    cast = gov.vote(late, proposal_id, AGAINST)
    assert (cast.voter, cast.proposal_id, cast.support, cast.weight) == (
        late.address,
        proposal_id,
        AGAINST,
        0,
    )
    assert gov.tally(proposal_id).against == 0
    assert citizens.votes(late.address) == 1  # a vote for the next proposals


def test_vote_registered_during_voting_delay_counts(
    gov: Governance,
    citizens: Citizens,
    target: Contract,
    voters: list[NodeSigner],
    deployer: NodeSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
) -> None:
    """The snapshot is creation + voting delay (OpenZeppelin): residents registered in between take part."""
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "delay").proposal_id
    citizens.register(deployer, accounts[7].address, cred("in-delay"))
    start_voting(gov, control)
    assert gov.vote(accounts[7], proposal_id, FOR).weight == 1


def test_vote_revoked_before_snapshot_not_counted(
    gov: Governance,
    citizens: Citizens,
    target: Contract,
    voters: list[NodeSigner],
    deployer: NodeSigner,
    control: ChainControl,
) -> None:
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "revoked").proposal_id
    citizens.revoke(deployer, voters[3].address, RevocationReason.FRAUD)
    start_voting(gov, control)
    assert gov.vote(voters[3], proposal_id, FOR).weight == 0
    assert gov.tally(proposal_id).for_ == 0
    assert gov.quorum(gov.snapshot(proposal_id)) == 0  # 3 live citizens x 10 % rounds down


def test_vote_revoked_after_snapshot_still_counts(
    gov: Governance,
    citizens: Citizens,
    target: Contract,
    voters: list[NodeSigner],
    deployer: NodeSigner,
    control: ChainControl,
) -> None:
    """Snapshot semantics cut both ways: a membership live at the snapshot keeps its ballot there."""
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "revoked later").proposal_id
    start_voting(gov, control)
    citizens.revoke(deployer, voters[3].address, RevocationReason.MOVED_AWAY)
    assert gov.vote(voters[3], proposal_id, FOR).weight == 1


def test_vote_twice_reverts(
    gov: Governance, target: Contract, voters: list[NodeSigner], control: ChainControl
) -> None:
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "twice").proposal_id
    start_voting(gov, control)
    gov.vote(voters[0], proposal_id, FOR)
    with pytest.raises(GovernorAlreadyCastVote):
        gov.vote(voters[0], proposal_id, AGAINST)


# -- delegation and override ------------------------------------------------------------------------------


def test_override_after_delegate_voted_counts_once(
    gov: Governance, citizens: Citizens, target: Contract, voters: list[NodeSigner], control: ChainControl
) -> None:
    delegator, delegate = voters[0], voters[1]
    citizens.delegate(delegator, delegate.address)
    proposal_id = gov.propose(delegate, [set_value(target, 1)], "override").proposal_id
    start_voting(gov, control)
    assert gov.vote(delegate, proposal_id, FOR).weight == 2
    overridden = gov.override_vote(delegator, proposal_id, AGAINST, reason="I disagree with my delegate")
    assert overridden.reason == "I disagree with my delegate" and overridden.voter == delegator.address
    reduced = overridden.tx.event("VoteReduced")
    assert reduced["delegate"] == delegate.address and reduced["weight"] == 1
    tally = gov.tally(proposal_id)
    assert (tally.for_, tally.against) == (1, 1)  # the delegator's vote counted once, against
    with pytest.raises(GovernorAlreadyOverriddenVote):
        gov.override_vote(delegator, proposal_id, FOR)


def test_override_before_delegate_votes_reduces_the_delegate(
    gov: Governance, citizens: Citizens, target: Contract, voters: list[NodeSigner], control: ChainControl
) -> None:
    delegator, delegate = voters[0], voters[1]
    citizens.delegate(delegator, delegate.address)
    citizens.delegate(voters[2], delegate.address)
    proposal_id = gov.propose(delegate, [set_value(target, 1)], "override first").proposal_id
    start_voting(gov, control)
    gov.override_vote(delegator, proposal_id, ABSTAIN)
    assert gov.vote(delegate, proposal_id, FOR).weight == 2  # 3 delegated - 1 overridden
    tally = gov.tally(proposal_id)
    assert (tally.for_, tally.against, tally.abstain) == (2, 0, 1)


# -- quorum -----------------------------------------------------------------------------------------------


def test_quorum_not_reached_is_defeated(
    gov: Governance,
    citizens: Citizens,
    target: Contract,
    voters: list[NodeSigner],
    deployer: NodeSigner,
    control: ChainControl,
) -> None:
    register_many(citizens, deployer, 16, "quorum")  # 20 citizens: quorum 10 % = 2 votes
    control.increase_time(1)
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "quorum").proposal_id
    start_voting(gov, control)
    assert gov.quorum(gov.snapshot(proposal_id)) == 2
    gov.vote(voters[0], proposal_id, FOR)  # unanimous, but one vote of twenty
    end_voting(gov, control, proposal_id)
    assert gov.state(proposal_id) is ProposalState.DEFEATED
    with pytest.raises(GovernorUnexpectedProposalState):
        gov.queue(voters[0], proposal_id)


def test_quorum_reached_late_extends_the_deadline(
    gov: Governance,
    citizens: Citizens,
    target: Contract,
    voters: list[NodeSigner],
    deployer: NodeSigner,
    control: ChainControl,
) -> None:
    register_many(citizens, deployer, 16, "late")
    control.increase_time(1)
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "late quorum").proposal_id
    start_voting(gov, control)
    gov.vote(voters[0], proposal_id, FOR)
    original = gov.deadline(proposal_id)
    control.increase_time(original - control.time() - 30)  # 30 s before the end
    record = gov.vote(voters[1], proposal_id, ABSTAIN).tx  # abstain counts toward quorum
    extended = record.event("ProposalExtended")["extendedDeadline"]
    block_time = int(gov.w3.eth.get_block(record.block_number)["timestamp"])
    extension = int(call(gov.contract.functions.lateQuorumVoteExtension()))
    assert extended == gov.deadline(proposal_id) == block_time + extension > original
    control.increase_time(original - control.time() + 1)
    assert gov.state(proposal_id) is ProposalState.ACTIVE  # past the original deadline, still open
    gov.vote(voters[2], proposal_id, AGAINST)  # the others get their hour to answer
    end_voting(gov, control, proposal_id)
    assert gov.state(proposal_id) is ProposalState.DEFEATED  # 1 for, 1 against


# -- guardian ---------------------------------------------------------------------------------------------


def test_guardian_cancels_active_and_queued_proposals(
    gov: Governance,
    target: Contract,
    voters: list[NodeSigner],
    deployer: NodeSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
) -> None:
    assert call(gov.contract.functions.proposalGuardian()) == deployer.address  # pilot: the deployer
    hostile = gov.propose(voters[0], [set_value(target, 666)], "hostile").proposal_id
    start_voting(gov, control)
    with pytest.raises(GovernorUnableToCancel):
        gov.cancel(accounts[8], hostile)  # neither guardian nor (pending-stage) proposer
    with pytest.raises(GovernorUnableToCancel):
        gov.cancel(voters[0], hostile)  # the proposer only while pending
    gov.cancel(deployer, hostile)
    assert gov.state(hostile) is ProposalState.CANCELED

    queued = gov.propose(voters[0], [set_value(target, 7)], "queued then cancelled").proposal_id
    start_voting(gov, control)
    gov.vote(voters[0], queued, FOR)
    end_voting(gov, control, queued)
    gov.queue(voters[0], queued)
    gov.cancel(deployer, queued)
    assert gov.state(queued) is ProposalState.CANCELED
    control.increase_time(gov.timelock_delay() + 1)
    with pytest.raises(GovernorUnexpectedProposalState):
        gov.execute(voters[0], queued)
    assert call(target.functions.value()) == 0


def test_guardian_expired_cannot_cancel(
    gov: Governance, target: Contract, voters: list[NodeSigner], deployer: NodeSigner, control: ChainControl
) -> None:
    """The DAO sets an expiry through a real proposal; once it passed, the guardian's veto is gone."""
    expiry = control.time() + 3 * 24 * 3600
    pass_proposal(
        gov, control, voters[0], voters[:2], [gov.guardian_expiry_action(expiry)], "sunset the guardian"
    )
    assert call(gov.contract.functions.proposalGuardianExpiry()) == expiry
    control.increase_time(expiry - control.time() + 1)
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "after the sunset").proposal_id
    start_voting(gov, control)
    with pytest.raises(CivicGovernorGuardianExpired) as err:
        gov.cancel(deployer, proposal_id)
    assert err.value.guardian == deployer.address and err.value.expiry == expiry
    with pytest.raises(GovernorOnlyExecutor):
        transact(gov.w3, deployer, gov.contract.functions.setProposalGuardianExpiry(0))


# -- timelock ---------------------------------------------------------------------------------------------


def test_execute_before_timelock_delay_reverts(
    gov: Governance, target: Contract, voters: list[NodeSigner], control: ChainControl
) -> None:
    proposal_id = gov.propose(voters[0], [set_value(target, 5)], "wait for it").proposal_id
    start_voting(gov, control)
    gov.vote(voters[0], proposal_id, FOR)
    end_voting(gov, control, proposal_id)
    gov.queue(voters[0], proposal_id)
    with pytest.raises(TimelockUnexpectedOperationState):
        gov.execute(voters[0], proposal_id)
    control.increase_time(gov.timelock_delay() - 120)
    with pytest.raises(TimelockUnexpectedOperationState):
        gov.execute(voters[0], proposal_id)
    control.increase_time(121)
    gov.execute(voters[0], proposal_id)
    assert call(target.functions.value()) == 5


def test_timelock_cannot_be_driven_around_the_governor(
    gov: Governance, target: Contract, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    """Only the governor proposes, cancels and executes on the Timelock (no open executor)."""
    assert gov.timelock is not None
    tl = gov.timelock.functions
    zero = "0x" + "00" * 32
    action = set_value(target, 9)
    attempts = [
        tl.schedule(action.target, 0, action.calldata, zero, zero, 3600),
        tl.execute(action.target, 0, action.calldata, zero, zero),
    ]
    for attempt in attempts:
        with pytest.raises(AccessControlUnauthorizedAccount):
            transact(gov.w3, deployer, attempt)
    executor = call(tl.EXECUTOR_ROLE())
    assert call(tl.hasRole(executor, gov.contract.address))
    assert not call(tl.hasRole(executor, "0x0000000000000000000000000000000000000000"))


# -- target pinning (metamorphic-contract attack) ---------------------------------------------------------


def test_target_code_change_refused_at_queue_and_execute(
    gov: Governance, target: Contract, voters: list[NodeSigner], control: ChainControl, w3: Web3
) -> None:
    original = "0x" + bytes(w3.eth.get_code(target.address)).hex()
    impostor = "0x" + load_artifact("MockERC20").deployed_bytecode.removeprefix("0x")
    proposed = gov.propose(voters[0], [set_value(target, 42)], "pinned")
    proposal_id, created = proposed.proposal_id, proposed.tx
    pin = created.event("ProposalTargetPinned")
    assert pin["target"] == target.address and pin["codeHash"] == Web3.keccak(hexstr=original)
    start_voting(gov, control)
    gov.vote(voters[0], proposal_id, FOR)
    end_voting(gov, control, proposal_id)

    control.set_code(target.address, impostor)
    # the id commits to the targets' code (getProposalId): with other code it names no proposal
    assert gov.proposal_id(list(proposed.actions), "pinned", voters[0].address) != proposal_id
    with pytest.raises(TargetCodeChangedError, match=f"proposal {proposal_id} cannot be queued"):
        gov.queue(voters[0], proposal_id)
    raw_queue = gov.contract.functions.queue(
        [target.address],
        [0],
        [proposed.actions[0].calldata],
        Web3.keccak(text=proposed.tx.event("ProposalCreated")["description"]),
    )
    with pytest.raises(GovernorNonexistentProposal) as err:  # the governor itself: the id names no proposal
        transact(w3, voters[0], raw_queue)
    assert err.value.proposalId != proposal_id
    control.set_code(target.address, original)
    assert gov.proposal_id(list(proposed.actions), "pinned", voters[0].address) == proposal_id
    gov.queue(voters[0], proposal_id)
    control.increase_time(gov.timelock_delay() + 1)
    control.set_code(target.address, impostor)
    # the governor's id check comes first (the timelock's own per-call check: tests/test_governance_pins.py)
    with pytest.raises(TargetCodeChangedError, match="cannot be executed"):
        gov.execute(voters[0], proposal_id)
    control.set_code(target.address, original)
    gov.execute(voters[0], proposal_id)
    assert call(target.functions.value()) == 42


def test_target_without_code_that_gains_code_is_refused(
    gov: Governance, voters: list[NodeSigner], deployer: NodeSigner, control: ChainControl, w3: Web3
) -> None:
    eoa = Account.create().address
    proposal_id = gov.propose(voters[0], [Action.transfer(eoa, 0)], "pay an address").proposal_id
    send_transaction(w3, deployer, to=eoa, value=1)  # funding an address without code is not a change
    start_voting(gov, control)
    gov.vote(voters[0], proposal_id, FOR)
    end_voting(gov, control, proposal_id)
    control.set_code(eoa, "0x" + load_artifact("MockReverter").deployed_bytecode.removeprefix("0x"))
    with pytest.raises(TargetCodeChangedError):
        gov.queue(voters[0], proposal_id)


# -- signed ballots ---------------------------------------------------------------------------------------


def ballot_typed_data(
    gov: Governance, proposal_id: int, support: VoteType, voter: str, nonce: int, **domain: Any
) -> dict[str, Any]:
    """OpenZeppelin 5.3's Ballot, in the governor's EIP-712 domain (name, version "1")."""
    return {
        "types": {
            "EIP712Domain": [dict(f) for f in EIP712_DOMAIN_TYPE],
            "Ballot": [
                {"name": "proposalId", "type": "uint256"},
                {"name": "support", "type": "uint8"},
                {"name": "voter", "type": "address"},
                {"name": "nonce", "type": "uint256"},
            ],
        },
        "primaryType": "Ballot",
        "domain": {
            "name": call(gov.contract.functions.name()),
            "version": "1",
            "chainId": gov.w3.eth.chain_id,
            "verifyingContract": gov.contract.address,
            **domain,
        },
        "message": {"proposalId": proposal_id, "support": int(support), "voter": voter, "nonce": nonce},
    }


def sign_ballot(
    gov: Governance, signer: LocalSigner, proposal_id: int, support: VoteType, **domain: Any
) -> SignedBallot:
    data = ballot_typed_data(gov, proposal_id, support, signer.address, gov.nonce(signer.address), **domain)
    return SignedBallot(proposal_id, support, signer.address, signer.sign_typed_data(data))


@pytest.mark.ganache
def test_relay_ballots_in_one_multicall(
    gov: Governance,
    target: Contract,
    voters: list[NodeSigner],
    local_signers: list[LocalSigner],
    accounts: list[NodeSigner],
    control: ChainControl,
) -> None:
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "signed ballots").proposal_id
    start_voting(gov, control)
    ballots = [
        sign_ballot(gov, local_signers[1], proposal_id, FOR),
        sign_ballot(gov, local_signers[2], proposal_id, FOR),
        sign_ballot(gov, local_signers[3], proposal_id, AGAINST),
    ]
    relayed = gov.relay_ballots(accounts[9], ballots)  # the relayer pays; voters need no ETH
    assert [(v.voter, v.support) for v in relayed.votes] == [(b.voter, b.support) for b in ballots]
    tally = gov.tally(proposal_id)
    assert (tally.for_, tally.against) == (2, 1)
    assert gov.nonce(local_signers[1].address) == 1
    with pytest.raises(GovernorInvalidSignature) as err:
        gov.relay_ballots(accounts[9], ballots[:1])  # replay: the nonce moved on
    assert err.value.voter == local_signers[1].address
    with pytest.raises(ConfigError):
        gov.relay_ballots(accounts[9], [])


def test_cast_ballots_in_one_batch(
    accounts: list[NodeSigner],
    control: ChainControl,
    gov: Governance,
    local_signers: list[LocalSigner],
    target: Contract,
    voters: list[NodeSigner],
) -> None:
    """castVotesBySig counts each BatchBallot like castVoteBySig counts a Ballot, uses no nonce, and refuses
    by name a ballot with a bad signature, of another type or domain, or whose key has voted (the batch
    reverts as a whole)."""
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "batched ballots").proposal_id
    start_voting(gov, control)
    ballots = [
        gov.sign_batch_ballot(local_signers[1], proposal_id, FOR),
        gov.sign_batch_ballot(local_signers[2], proposal_id, "for"),
        gov.sign_batch_ballot(local_signers[3], proposal_id, ABSTAIN),
    ]
    relayed = gov.cast_ballots(accounts[9], ballots)  # the relayer pays; voters need no ETH
    cast = relayed.tx.events_named("VoteCast")
    assert [(v.voter, int(v.support)) for v in relayed.votes] == [(b.voter, int(b.support)) for b in ballots]
    assert [(e["voter"], e["support"], e["weight"]) for e in cast] == [
        (b.voter, int(b.support), 1) for b in ballots
    ]
    tally = gov.tally(proposal_id)
    assert (tally.for_, tally.against, tally.abstain) == (2, 0, 1)
    assert gov.nonce(local_signers[1].address) == 0  # no nonce: a key votes once per proposal anyway
    with pytest.raises(GovernorAlreadyCastVote) as again:
        gov.cast_ballots(accounts[9], ballots[:1])  # the same ballot twice
    assert again.value.voter == local_signers[1].address
    with pytest.raises(GovernorAlreadyCastVote):  # nor a castVoteBySig ballot of the same key
        gov.relay_ballots(accounts[9], [sign_ballot(gov, local_signers[1], proposal_id, AGAINST)])
    voter = local_signers[4]
    forged = SignedBallot(proposal_id, FOR, voter.address, ballots[0].signature)
    with pytest.raises(GovernorInvalidSignature) as bad:
        gov.cast_ballots(accounts[9], [forged])
    assert bad.value.voter == voter.address
    with pytest.raises(GovernorInvalidSignature):  # a castVoteBySig Ballot is not a BatchBallot
        gov.cast_ballots(accounts[9], [sign_ballot(gov, voter, proposal_id, FOR)])
    typed = batch_ballot_typed_data(gov.contract, proposal_id=proposal_id, support=1, voter=voter.address)
    typed["domain"] = {**typed["domain"], "chainId": gov.w3.eth.chain_id + 1}
    elsewhere = SignedBallot(proposal_id, FOR, voter.address, voter.sign_typed_data(typed))
    with pytest.raises(GovernorInvalidSignature):
        gov.cast_ballots(accounts[9], [elsewhere])
    assert not gov.has_voted(proposal_id, voter.address)
    with pytest.raises(ConfigError):
        gov.cast_ballots(accounts[9], [])
    second = gov.propose(voters[0], [set_value(target, 2)], "another proposal").proposal_id
    with pytest.raises(ConfigError, match="one proposal"):
        gov.cast_ballots(accounts[9], [ballots[0], gov.sign_batch_ballot(voter, second, FOR)])
    with pytest.raises(GovernorUnexpectedProposalState):  # still Pending
        gov.cast_ballots(accounts[9], [gov.sign_batch_ballot(voter, second, FOR)])


def test_quorum_is_the_snapshots_and_the_first_ballot_stores_it(
    citizens: Citizens,
    control: ChainControl,
    deployer: NodeSigner,
    gov: Governance,
    target: Contract,
    voters: list[NodeSigner],
) -> None:
    """OpenZeppelin's rule: the quorum fraction of the citizens at the snapshot (registrations during the
    voting delay count, later ones do not). The first ballot stores it, so no later vote looks it up."""
    register_many(citizens, deployer, 16, "early")  # 20 citizens: quorum 10 % = 2 votes
    control.increase_time(1)
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "snapshot quorum").proposal_id
    assert gov.proposal_quorum(proposal_id) == 2  # before the snapshot: with the citizens of now
    register_many(citizens, deployer, 10, "delay")  # 30 citizens at the snapshot: quorum 3
    assert gov.proposal_quorum(proposal_id) == 3
    start_voting(gov, control)
    register_many(citizens, deployer, 20, "late")  # 50 now; the snapshot's 30 stand
    assert gov.proposal_quorum(proposal_id) == 3 == gov.quorum(gov.snapshot(proposal_id))
    gov.vote(voters[0], proposal_id, FOR)  # the first ballot stores the quorum
    register_many(citizens, deployer, 20, "after")
    assert gov.proposal_quorum(proposal_id) == 3
    gov.vote(voters[1], proposal_id, FOR)
    gov.vote(voters[2], proposal_id, FOR)
    end_voting(gov, control, proposal_id)
    assert gov.state(proposal_id) is ProposalState.SUCCEEDED
    assert gov.proposal_quorum(proposal_id + 1) == 0  # unknown proposal


def test_a_proposal_without_ballots_is_defeated_by_its_snapshots_quorum(
    citizens: Citizens,
    control: ChainControl,
    deployer: NodeSigner,
    gov: Governance,
    target: Contract,
    voters: list[NodeSigner],
) -> None:
    register_many(citizens, deployer, 6, "few")  # 10 citizens: quorum 1
    control.increase_time(1)
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "nobody votes").proposal_id
    end_voting(gov, control, proposal_id)
    assert gov.proposal_quorum(proposal_id) == 1
    assert gov.state(proposal_id) is ProposalState.DEFEATED


def test_ballot_signed_for_another_chain_or_governor_refused(
    gov: Governance,
    target: Contract,
    voters: list[NodeSigner],
    local_signers: list[LocalSigner],
    accounts: list[NodeSigner],
    control: ChainControl,
    w3: Web3,
) -> None:
    proposal_id = gov.propose(voters[0], [set_value(target, 1)], "replay elsewhere").proposal_id
    start_voting(gov, control)
    voter = local_signers[1]
    for domain in ({"chainId": w3.eth.chain_id + 1}, {"verifyingContract": target.address}):
        with pytest.raises(GovernorInvalidSignature):
            gov.relay_ballots(accounts[9], [sign_ballot(gov, voter, proposal_id, FOR, **domain)])
    assert not gov.has_voted(proposal_id, voter.address)


# -- settings guards --------------------------------------------------------------------------------------


def test_late_quorum_extension_longer_than_voting_period_refused(
    gov: Governance, voters: list[NodeSigner], control: ChainControl
) -> None:
    period = gov.voting_period()
    with pytest.raises(ConfigError):
        gov.late_quorum_extension_action(period + 1)
    with pytest.raises(ConfigError):
        gov.late_quorum_extension_action(-1)
    raw = Action.call(gov.contract.functions.setLateQuorumVoteExtension(2**40))
    with pytest.raises(ConfigError):
        gov.propose(voters[0], [raw], "brick the governor")
    with pytest.raises(ConfigError):
        gov.propose(voters[0], [Action.call(gov.contract.functions.setVotingPeriod(60))], "too short")
    gov.check_actions([Action(raw.target, 0, b"\xde\xad\xbe\xef")])  # unknown selector: not ours to judge
    same_period = Action.call(gov.contract.functions.setVotingPeriod(period))
    settings_ = [gov.guardian_action(voters[1].address), same_period]
    with pytest.raises(ConfigError, match="without a code-hash pin"):
        gov.check_actions(settings_)  # appointing a guardian hands it power: its code must be pinned
    gov.check_actions(gov.pin_grantees(settings_))
    ok = gov.late_quorum_extension_action(period // 2)
    pass_proposal(gov, control, voters[0], voters[:2], [ok], "shorter extension")
    assert call(gov.contract.functions.lateQuorumVoteExtension()) == period // 2


def test_quorum_numerator_change_fixes_later_proposals_only(
    gov: Governance, target: Contract, voters: list[NodeSigner], control: ChainControl
) -> None:
    """The governor keeps a one-slot copy of the numerator for propose; OpenZeppelin's history stays the
    record."""
    g = gov.contract.functions
    before = int(call(g.quorumNumerator()))
    open_id = gov.propose(voters[0], [set_value(target, 3)], "open during the change").proposal_id
    open_quorum = gov.proposal_quorum(open_id)
    changed = pass_proposal(
        gov, control, voters[0], voters[:2], [Action.call(g.updateQuorumNumerator(100))], "everyone must vote"
    )
    assert int(call(g.quorumNumerator())) == 100
    assert int(call(g.quorumNumerator(gov.snapshot(changed.proposal_id)))) == before
    assert gov.proposal_quorum(open_id) == open_quorum  # fixed when it was proposed
    later = gov.propose(voters[0], [set_value(target, 4)], "after the change").proposal_id
    citizens = Citizens.at(gov.w3, call(g.token()))
    assert gov.proposal_quorum(later) == citizens.citizen_count()


# -- property ---------------------------------------------------------------------------------------------


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from([None, FOR, AGAINST, ABSTAIN]), min_size=4, max_size=4),
    st.lists(st.integers(0, 3), min_size=4, max_size=4),
)
def test_tally_property_matches_weights_and_outcome(
    suite: Suite,
    deployer: NodeSigner,
    accounts: list[NodeSigner],
    control: ChainControl,
    choices: list[VoteType | None],
    delegate_to: list[int],
) -> None:
    """Any delegation and any ballots: tallies sum the snapshot weights; the outcome follows the rules."""
    gov, citizens = Governance.from_suite(suite), Citizens.from_suite(suite)
    snapshot = control.snapshot()
    try:
        people = accounts[1:5]
        for i, person in enumerate(people):
            citizens.register(deployer, person.address, cred(f"prop-{i}"))
        for person, index in zip(people, delegate_to, strict=True):
            citizens.delegate(person, people[index].address)
        control.increase_time(1)
        proposer = people[max(range(len(people)), key=delegate_to.count)]  # holds at least one delegated vote
        proposal_id = gov.propose(proposer, [Action.transfer(deployer.address, 0)], "property").proposal_id
        start_voting(gov, control)
        # The model: each person's weight is the number of memberships delegated to them (their own included),
        # taken from the delegations this test generated, not from the contract.
        model_weight = [delegate_to.count(i) for i in range(len(people))]
        expected = {FOR: 0, AGAINST: 0, ABSTAIN: 0}
        for i, (person, choice) in enumerate(zip(people, choices, strict=True)):
            if choice is not None:
                weight = gov.vote(person, proposal_id, choice).weight
                assert weight == model_weight[i]
                expected[choice] += model_weight[i]
        tally = gov.tally(proposal_id)
        assert (tally.for_, tally.against, tally.abstain) == (
            expected[FOR],
            expected[AGAINST],
            expected[ABSTAIN],
        )
        assert sum(expected.values()) <= len(people)  # one vote per membership, however delegated
        end_voting(gov, control, proposal_id)
        quorum = gov.quorum(gov.snapshot(proposal_id))  # 10 % of 4 rounds down to 0
        wins = tally.for_ > tally.against and tally.for_ + tally.abstain >= quorum
        assert gov.state(proposal_id) is (ProposalState.SUCCEEDED if wins else ProposalState.DEFEATED)
    finally:
        control.revert(snapshot)
