"""Code pinning against the Tornado Cash pattern: each call's target is checked right before that call
runs (CivicTimelock), and every address a proposal hands power to is pinned (requireCodeHash) and, when its
code can still change, warned about (civicdao.codecheck)."""

from __future__ import annotations

import pytest
from eth_account import Account
from hexbytes import HexBytes
from mock_contracts import MockMetamorphicFactoryDeployFailed
from web3 import Web3
from web3.contract import Contract

from civicdao._custom_errors import CivicTimelockCodeHashMismatch, CivicTimelockTargetCodeChanged
from civicdao.accounts import NodeSigner
from civicdao.artifacts import load_artifact
from civicdao.chain import ChainControl
from civicdao.citizens import Citizens, credential_hash
from civicdao.codecheck import (
    EIP1967_IMPLEMENTATION_SLOT,
    code_hash,
    mutable_code,
    opcodes_present,
)
from civicdao.contracts import deploy_contract
from civicdao.deploy import Suite
from civicdao.errors import ConfigError
from civicdao.governance import Action, Governance, VoteType
from civicdao.tx import call, calldata, send_transaction, transact

ZERO32 = b"\x00" * 32
#: Runtime code that self-destructs on any call (CALLER SELFDESTRUCT), in two variants with different hashes.
HONEST = bytes.fromhex("33ff00")
EVIL = bytes.fromhex("33ff0000")


@pytest.fixture
def voters(
    citizens: Citizens, deployer: NodeSigner, accounts: list[NodeSigner], control: ChainControl
) -> list[NodeSigner]:
    for i in (1, 2, 3):
        citizens.register(deployer, accounts[i].address, credential_hash(f"pin-{i}", salt=b"p" * 32))
    control.increase_time(1)
    return accounts[1:4]


@pytest.fixture
def factory(w3: Web3, deployer: NodeSigner) -> Contract:
    contract, _ = deploy_contract(w3, deployer, "MockMetamorphicFactory")
    return contract


@pytest.fixture
def target(w3: Web3, deployer: NodeSigner) -> Contract:
    contract, _ = deploy_contract(w3, deployer, "MockReverter")
    return contract


def reverter_runtime() -> bytes:
    return bytes.fromhex(load_artifact("MockReverter").deployed_bytecode.removeprefix("0x"))


def pass_and_queue(
    gov: Governance, control: ChainControl, voters: list[NodeSigner], proposal_id: int
) -> None:
    control.increase_time(gov.voting_delay() + 1)
    for voter in voters:
        gov.vote(voter, proposal_id, VoteType.FOR)
    control.increase_time(gov.deadline(proposal_id) - control.time() + 1)
    gov.queue(voters[0], proposal_id)
    control.increase_time(gov.timelock_delay() + 1)


def test_execute_target_given_code_by_an_earlier_call_reverts(
    gov: Governance, factory: Contract, voters: list[NodeSigner], control: ChainControl, w3: Web3
) -> None:
    """Call 1 CREATE2-deploys code at X; call 2 targets X, empty at proposal and queue time: refused."""
    salt = b"\x01" * 32
    x = call(factory.functions.addressOf(salt))
    runtime = reverter_runtime()
    at_x = w3.eth.contract(address=x, abi=load_artifact("MockReverter").abi)
    actions = [
        Action.call(factory.functions.deploy(salt, runtime)),
        Action.call(at_x.functions.setValue(666)),
    ]
    proposal_id = gov.propose(voters[0], actions, "deploy then call what was deployed").proposal_id
    pass_and_queue(gov, control, voters, proposal_id)  # the governor's queue check sees X still empty
    with pytest.raises(CivicTimelockTargetCodeChanged) as err:
        gov.execute(voters[0], proposal_id)
    assert err.value.target == x
    assert err.value.pinned == ZERO32
    assert err.value.actual == Web3.keccak(runtime)
    assert bytes(w3.eth.get_code(x)) == b""  # the whole batch reverted


def test_schedule_pins_every_call_target(
    gov: Governance, target: Contract, voters: list[NodeSigner], control: ChainControl, w3: Web3
) -> None:
    eoa = Account.create().address
    actions = [Action.call(target.functions.setValue(1)), Action.transfer(eoa, 0)]
    proposal_id = gov.propose(voters[0], actions, "two calls").proposal_id
    control.increase_time(gov.voting_delay() + 1)
    gov.vote(voters[0], proposal_id, VoteType.FOR)
    control.increase_time(gov.deadline(proposal_id) - control.time() + 1)
    queued = gov.queue(voters[0], proposal_id)
    assert queued.proposal_id == proposal_id and queued.eta == control.time() + gov.timelock_delay()
    pins = queued.tx.events_named("CallTargetPinned")
    assert [(p["index"], p["target"], bytes(p["codeHash"])) for p in pins] == [
        (0, target.address, bytes(Web3.keccak(w3.eth.get_code(target.address)))),
        (1, eoa, ZERO32),
    ]


def test_nested_execution_keeps_each_operations_pins(
    gov: Governance, target: Contract, voters: list[NodeSigner], control: ChainControl, w3: Web3
) -> None:
    """A call that executes another ready proposal (through the governor) does not disturb the outer pins."""
    inner_actions = [Action.call(target.functions.setValue(5))]
    inner_id = gov.propose(voters[0], inner_actions, "inner").proposal_id
    inner = gov.get(inner_id)
    run_inner = Action.call(
        gov.contract.functions.execute(
            list(inner.targets),
            list(inner.values),
            list(inner.calldatas),
            Web3.keccak(text=inner.description),
        )
    )
    outer_id = gov.propose(
        voters[0], [run_inner, Action.call(target.functions.setValue(7))], "outer"
    ).proposal_id
    control.increase_time(gov.voting_delay() + 1)
    for proposal_id in (inner_id, outer_id):
        for voter in voters:
            gov.vote(voter, proposal_id, VoteType.FOR)
    control.increase_time(gov.deadline(outer_id) - control.time() + 1)
    gov.queue(voters[0], inner_id)
    gov.queue(voters[0], outer_id)
    control.increase_time(gov.timelock_delay() + 1)
    gov.execute(voters[0], outer_id)
    assert call(target.functions.value()) == 7
    assert gov.state(inner_id).name == "EXECUTED"


# -- grantee pins -----------------------------------------------------------------------------------------


def test_metamorphic_grantee_swapped_after_the_vote_cannot_receive_the_role(
    gov: Governance,
    citizens: Citizens,
    factory: Contract,
    voters: list[NodeSigner],
    deployer: NodeSigner,
    control: ChainControl,
    w3: Web3,
) -> None:
    salt = b"\x02" * 32
    transact(w3, deployer, factory.functions.deploy(salt, HONEST))
    desk = call(factory.functions.addressOf(salt))
    with pytest.raises(
        MockMetamorphicFactoryDeployFailed
    ):  # the address is taken until the code self-destructs
        transact(w3, deployer, factory.functions.deploy(salt, EVIL))
    grant = citizens.grant_registrar_action(desk)

    warnings = gov.grantee_warnings([grant])
    assert [w.address for w in warnings] == [desk]
    assert "SELFDESTRUCT" in warnings[0].warning()

    proposal_id = gov.propose(voters[0], [grant], "a registrar desk").proposal_id
    proposal = gov.get(proposal_id)
    assert proposal.targets == (gov.timelock.address, citizens.address)
    pass_and_queue(gov, control, voters, proposal_id)

    send_transaction(w3, deployer, to=desk, value=0)  # the desk self-destructs (shanghai: code removed)
    assert bytes(w3.eth.get_code(desk)) == b""
    transact(w3, deployer, factory.functions.deploy(salt, EVIL))  # same address, other code
    with pytest.raises(CivicTimelockCodeHashMismatch) as err:
        gov.execute(voters[0], proposal_id)
    assert err.value.account == desk
    assert err.value.pinned == Web3.keccak(HONEST) and err.value.actual == Web3.keccak(EVIL)
    assert not citizens.is_registrar(desk)

    send_transaction(w3, deployer, to=desk, value=0)  # put back what the citizens voted for
    transact(w3, deployer, factory.functions.deploy(salt, HONEST))
    gov.execute(voters[0], proposal_id)
    assert citizens.is_registrar(desk)


def test_grantee_without_code_that_gains_code_cannot_receive_the_role(
    gov: Governance, citizens: Citizens, voters: list[NodeSigner], control: ChainControl
) -> None:
    grantee = Account.create().address
    proposal_id = gov.propose(
        voters[0], [citizens.grant_registrar_action(grantee)], "registrar key"
    ).proposal_id
    pass_and_queue(gov, control, voters, proposal_id)
    control.set_code(grantee, "0x" + EVIL.hex())
    with pytest.raises(CivicTimelockCodeHashMismatch) as err:
        gov.execute(voters[0], proposal_id)
    assert err.value.pinned == ZERO32
    assert not citizens.is_registrar(grantee)


def test_require_code_hash_view(gov: Governance, target: Contract, w3: Web3) -> None:
    timelock = gov.timelock
    assert timelock is not None
    eoa = Account.create().address
    call(timelock.functions.requireCodeHash(eoa, ZERO32))
    real = code_hash(w3, target.address)
    assert bytes(call(timelock.functions.codeHashOf(target.address))) == real
    call(timelock.functions.requireCodeHash(target.address, real))
    with pytest.raises(CivicTimelockCodeHashMismatch) as err:
        call(timelock.functions.requireCodeHash(target.address, ZERO32))
    assert err.value.account == target.address and err.value.actual == real


def test_grantees_are_recognised_pinned_once_and_required(
    gov: Governance, citizens: Citizens, suite: Suite, voters: list[NodeSigner]
) -> None:
    someone, other = Account.create().address, Account.create().address
    role = call(suite.treasury.functions.DEFAULT_ADMIN_ROLE())
    raw = Action.call(suite.treasury.functions.grantRole(role, someone))  # no builder declared it
    rotate = citizens.rotate_action(voters[0].address, other)
    assert raw.all_grantees() == (someone,)
    assert rotate.all_grantees() == (other,)
    with pytest.raises(ConfigError, match="without a code-hash pin"):
        gov.check_actions([raw])
    pinned = gov.pin_grantees([raw, rotate])
    assert len(pinned) == 4
    assert gov.pin_grantees(pinned) == pinned  # already pinned: nothing added
    assert gov.unpinned_grantees(pinned) == []
    gov.check_actions(pinned)
    with pytest.raises(ConfigError):
        gov.check_actions(
            [pinned[0], pinned[2], pinned[1], pinned[3]]
        )  # a pin must sit right before its grant


# -- codecheck --------------------------------------------------------------------------------------------


def test_opcodes_present_skips_push_data() -> None:
    assert opcodes_present(bytes.fromhex("60ff"), [0xFF]) == set()  # PUSH1 0xff: data, not an opcode
    assert opcodes_present(bytes.fromhex("61f4ff00"), [0xF4, 0xFF]) == set()  # PUSH2 0xf4ff
    assert opcodes_present(bytes.fromhex("7f" + "ff" * 32 + "f4"), [0xF4, 0xFF]) == {0xF4}
    assert opcodes_present(bytes.fromhex("6000ff"), [0xFF]) == {0xFF}


def test_mutable_code_flags_selfdestruct_delegatecall_and_proxy_slots(
    target: Contract, control: ChainControl, w3: Web3
) -> None:
    assert not mutable_code(w3, target.address).mutable  # MockReverter: no SELFDESTRUCT, no DELEGATECALL
    assert not mutable_code(w3, Account.create().address).mutable
    mutable = Account.create().address
    control.set_code(mutable, "0x" + HONEST.hex())
    assert any("SELFDESTRUCT" in r for r in mutable_code(w3, mutable).reasons)
    delegating = Account.create().address
    control.set_code(delegating, "0x60006000f4")
    assert any("DELEGATECALL" in r for r in mutable_code(w3, delegating).reasons)
    w3.provider.make_request(
        "anvil_setStorageAt",  # type: ignore[arg-type]
        [target.address, hex(EIP1967_IMPLEMENTATION_SLOT), "0x" + "00" * 31 + "01"],
    )
    report = mutable_code(w3, target.address)
    assert report.mutable and "EIP-1967 implementation slot" in report.warning()


def test_timelock_single_call_and_batch_are_checked_right_before_each_call(
    w3: Web3, deployer: NodeSigner, target: Contract, control: ChainControl
) -> None:
    """The timelock alone (the deployer as proposer and executor): `schedule`/`execute` and
    `scheduleBatch`/`executeBatch` both pin at scheduling and check when each call runs."""
    me = deployer.address
    timelock, _ = deploy_contract(w3, deployer, "CivicTimelock", 60, [me], [me], "0x" + "00" * 20)
    tl = timelock.functions
    original = "0x" + bytes(w3.eth.get_code(target.address)).hex()
    impostor = "0x" + EVIL.hex()
    zero = b"\x00" * 32
    data = bytes(HexBytes(calldata(target.functions.setValue(3))))

    scheduled = transact(w3, deployer, tl.schedule(target.address, 0, data, zero, zero, 60))
    assert bytes(scheduled.event("CallTargetPinned")["codeHash"]) == Web3.keccak(hexstr=original)
    control.increase_time(61)
    control.set_code(target.address, impostor)
    with pytest.raises(CivicTimelockTargetCodeChanged):
        transact(w3, deployer, tl.execute(target.address, 0, data, zero, zero))
    control.set_code(target.address, original)
    transact(w3, deployer, tl.execute(target.address, 0, data, zero, zero))
    assert call(target.functions.value()) == 3

    other = Account.create().address
    batch = ([target.address, other], [0, 0], [data, b""], zero, b"\x01" * 32)
    transact(w3, deployer, tl.scheduleBatch(*batch, 60))
    control.increase_time(61)
    control.set_code(other, impostor)  # the second call's target gains code after scheduling
    with pytest.raises(CivicTimelockTargetCodeChanged) as err:
        transact(w3, deployer, tl.executeBatch(*batch))
    assert err.value.target == other and err.value.pinned == ZERO32
    control.set_code(other, "0x")
    transact(w3, deployer, tl.executeBatch(*batch))
