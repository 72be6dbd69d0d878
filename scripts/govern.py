"""Walk one CivicDAO proposal from creation to execution on a local chain, printing every step.

    brownie run scripts/govern.py --network development
    brownie run scripts/govern.py --network ganache-shanghai

Deploys the suite first when the manifest does not describe this chain (see scripts/deploy.py), registers
three residents, funds the Timelock, then proposes — in one proposal — to appoint a second registrar desk
and to pay a neighbourhood project from the Timelock; votes, waits, queues, waits, executes. Time is moved
forward with the local chain's test RPC, so this script refuses live networks: there, time passes by itself
and each step is a separate call of ``civicdao.governance.Governance``.
"""

from __future__ import annotations

from brownie import accounts, network, web3

from civicdao.chain import ChainControl
from civicdao.citizens import Citizens, credential_hash
from civicdao.deploy import Suite, load_suite
from civicdao.errors import ConfigError, DeploymentError
from civicdao.governance import Action, Governance, ProposalState, VoteType
from civicdao.tx import send_transaction

from .deploy import deploy, is_development, manifest_path, signer_for

#: A demo salt. A real registrar generates its own once (civicdao.citizens.new_salt) and keeps it secret.
DEMO_SALT = b"civicdao-demo-salt-not-a-secret!"
GRANT = 10**17  # 0.1 ETH


def step(text: str) -> None:
    print(f"==> {text}")


def suite_here() -> Suite:
    """The suite the manifest records on this chain, or a fresh deployment."""
    try:
        return load_suite(web3, manifest_path(web3.eth.chain_id))
    except DeploymentError:
        return deploy()


def main() -> int:
    if not is_development():
        raise ConfigError(
            f"{network.show_active()} is a live network: govern.py moves the clock of local chains only"
        )
    suite = suite_here()
    control = ChainControl(web3)
    citizens, gov = Citizens.from_suite(suite), Governance.from_suite(suite)
    registrar = signer_for(accounts[0])  # the pilot preset keeps the deployer as the first registrar desk
    residents = [signer_for(accounts[i]) for i in (1, 2, 3)]
    desk, project = accounts[4].address, accounts[5].address

    step("registering three residents (only salted credential hashes go on-chain)")
    for number, resident in enumerate(residents, start=1):
        registration = citizens.register(
            registrar, resident.address, credential_hash(f"residence-permit-{number}", salt=DEMO_SALT)
        )
        print(f"    {resident.address} holds membership #{registration.membership_id}")
    control.increase_time(1)  # voting power counts from the second after registration

    step(f"funding the Timelock with {GRANT * 3} wei")
    send_transaction(web3, registrar, to=suite.timelock.address, value=GRANT * 3)

    actions = [
        citizens.grant_registrar_action(desk),
        Action.transfer(project, GRANT, description="community garden tools"),
    ]
    proposal_id = gov.propose(
        residents[0], actions, "Open a second registrar desk and fund the garden"
    ).proposal_id
    step(f"proposal {proposal_id} created: {gov.state(proposal_id).name}")

    control.increase_time(gov.voting_delay() + 1)
    step(f"voting opens: {gov.state(proposal_id).name}")
    for resident, choice in zip(residents, (VoteType.FOR, VoteType.FOR, VoteType.ABSTAIN), strict=True):
        gov.vote(resident, proposal_id, choice)
        print(f"    {resident.address} votes {choice.name}")
    tally = gov.tally(proposal_id)
    print(f"    tally: for {tally.for_}, against {tally.against}, abstain {tally.abstain}")

    control.increase_time(gov.deadline(proposal_id) - control.time() + 1)
    step(f"voting closed: {gov.state(proposal_id).name}")
    gov.queue(residents[0], proposal_id)
    step(f"queued in the Timelock: {gov.state(proposal_id).name}")
    control.increase_time(gov.timelock_delay() + 1)
    before = web3.eth.get_balance(project)
    gov.execute(residents[1], proposal_id)
    state = gov.state(proposal_id)
    step(f"executed: {state.name}")
    print(f"    {desk} is a registrar: {citizens.is_registrar(desk)}")
    print(f"    {project} received {web3.eth.get_balance(project) - before} wei")
    if state is not ProposalState.EXECUTED:
        raise RuntimeError(f"proposal {proposal_id} ended {state.name}")
    return proposal_id
