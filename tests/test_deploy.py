"""Suite deployment: presets, the hand-over to the Timelock, the manifest, resuming an interrupted deployment
(nothing deployed or granted twice), adopting a creation that was mined but not recorded, loading a suite
back, and configuration validation."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import TransactionNotFound

from civicdao import deploy as deploy_module
from civicdao._custom_errors import ExchangeGuardianExpired
from civicdao.accounts import NodeSigner
from civicdao.chain import ChainControl, LocalChain
from civicdao.config import DAY, PRESETS, DeployConfig, load_config
from civicdao.deploy import SUITE_CONTRACTS, Suite, deploy_suite, load_suite
from civicdao.errors import ConfigError, DeploymentError, NetworkError
from civicdao.exchange import Exchange
from civicdao.manifest import Manifest
from civicdao.tx import call, transact

ZERO = "0x0000000000000000000000000000000000000000"
ADMIN = b"\x00" * 32


class Interrupted(Exception):
    """Stands for a crash, a Ctrl-C or a dropped connection in the middle of a deployment."""


def interrupt_after(steps: int) -> Any:
    seen: list[str] = []

    def progress(message: str) -> None:
        seen.append(message)
        if len(seen) >= steps:
            raise Interrupted(message)

    return progress


def creations_by(w3: Web3, sender: str, since_block: int) -> list[str]:
    """Contract-creation transactions ``sender`` sent after ``since_block``."""
    found = []
    for number in range(since_block + 1, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == sender and tx.get("to") is None:
                found.append(tx["hash"].to_0x_hex())
    return found


def grants_by(w3: Web3, suite: Suite, since_block: int) -> list[tuple[str, bytes, str]]:
    """Every RoleGranted event on the suite's contracts since ``since_block``."""
    grants = []
    for contract in (suite.registry, suite.timelock, suite.treasury, suite.exchange):
        for log in contract.events.RoleGranted().get_logs(from_block=since_block + 1):
            grants.append((contract.address, bytes(log["args"]["role"]), log["args"]["account"]))
    return grants


# -- a fresh deployment -----------------------------------------------------------------------------------


@pytest.mark.ganache
def test_deploy_suite_hands_every_admin_role_to_the_timelock(
    w3: Web3, deployer: NodeSigner, tmp_path: Path
) -> None:
    path = tmp_path / "deployment.json"
    messages: list[str] = []
    suite = deploy_suite(w3, deployer, load_config("pilot"), manifest_path=path, progress=messages.append)
    timelock, governor, me = suite.timelock.address, suite.governor.address, deployer.address
    for contract in (suite.registry, suite.treasury, suite.exchange):
        assert call(contract.functions.hasRole(ADMIN, timelock))
        assert not call(contract.functions.hasRole(ADMIN, me))
    for contract in (
        suite.treasury,
        suite.exchange,
        suite.budget,
    ):  # the DAO's power: GOVERNOR_ROLE everywhere
        governor_role = call(contract.functions.GOVERNOR_ROLE())
        assert call(contract.functions.hasRole(governor_role, timelock))
        assert not call(contract.functions.hasRole(governor_role, me))
    assert not call(suite.timelock.functions.hasRole(ADMIN, me))
    tl = suite.timelock.functions
    for role in (tl.PROPOSER_ROLE(), tl.CANCELLER_ROLE(), tl.EXECUTOR_ROLE()):
        assert call(tl.hasRole(call(role), governor))
    assert not call(tl.hasRole(call(tl.EXECUTOR_ROLE()), ZERO))  # no open executor
    assert call(suite.registry.functions.hasRole(call(suite.registry.functions.REGISTRAR_ROLE()), me))
    assert call(suite.governor.functions.token()) == suite.registry.address
    assert call(suite.governor.functions.timelock()) == timelock
    assert call(suite.governor.functions.CLOCK_MODE()) == "mode=timestamp"
    saved = json.loads(path.read_text())
    assert saved["complete"] is True and saved["chainId"] == w3.eth.chain_id and not saved["pending"]
    assert {k: v["address"] for k, v in saved["contracts"].items()} == suite.addresses()
    assert messages[-1] == "deployment complete"


def test_deploy_suite_presets_configure_the_governor(
    w3: Web3, deployer: NodeSigner, control: ChainControl
) -> None:
    neighbourhood = deploy_suite(w3, deployer, load_config("neighbourhood"))
    g = neighbourhood.governor.functions
    assert (call(g.votingDelay()), call(g.votingPeriod()), call(g.quorumNumerator())) == (DAY, 5 * DAY, 15)
    assert call(g.lateQuorumVoteExtension()) == DAY
    expiry = call(g.proposalGuardianExpiry())
    assert 0 < expiry - control.time() <= 365 * DAY
    assert call(neighbourhood.timelock.functions.getMinDelay()) == DAY

    city = deploy_suite(w3, deployer, load_config("city", {"registrars": [w3.eth.accounts[5]]}))
    registry = city.registry.functions
    role = call(registry.REGISTRAR_ROLE())
    assert not call(registry.hasRole(role, deployer.address))  # the city onboards through its registrars
    assert call(registry.hasRole(role, w3.eth.accounts[5]))
    assert call(city.governor.functions.quorumNumerator()) == 20
    assert call(city.timelock.functions.getMinDelay()) == 2 * DAY


# -- resuming ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [1, 2, 5, 9, 16, 30])
def test_deploy_suite_resumes_after_an_interruption_without_repeating_anything(
    w3: Web3, deployer: NodeSigner, tmp_path: Path, steps: int
) -> None:
    path = tmp_path / "deployment.json"
    start = w3.eth.block_number
    with pytest.raises(Interrupted):
        deploy_suite(w3, deployer, load_config("pilot"), manifest_path=path, progress=interrupt_after(steps))
    before = Manifest.load(path)
    assert not before.complete
    recorded = {key: entry.address for key, entry in before.contracts.items()}

    suite = deploy_suite(w3, deployer, manifest_path=path)  # resume: same manifest, config from it

    assert Manifest.load(path).complete
    assert {key: suite.addresses()[key] for key in recorded} == recorded  # nothing moved
    creations = creations_by(w3, deployer.address, start)
    assert len(creations) == len(SUITE_CONTRACTS)  # each contract created exactly once
    grants = grants_by(w3, suite, start)
    assert len(grants) == len(set(grants))  # no role granted twice
    assert not call(suite.registry.functions.hasRole(ADMIN, deployer.address))


def test_deploy_suite_adopts_a_creation_mined_but_not_recorded(
    w3: Web3, deployer: NodeSigner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "deployment.json"
    start = w3.eth.block_number
    original = deploy_module._Deployment._record

    def crash_before_recording_the_governor(self: Any, key: str, *args: Any, **kwargs: Any) -> None:
        if key == "governor":
            raise Interrupted("the process died after the governor was mined")
        original(self, key, *args, **kwargs)

    monkeypatch.setattr(deploy_module._Deployment, "_record", crash_before_recording_the_governor)
    with pytest.raises(Interrupted):
        deploy_suite(w3, deployer, load_config("pilot"), manifest_path=path)
    interrupted = Manifest.load(path)
    assert "governor" not in interrupted.contracts and "governor" in interrupted.pending
    predicted = interrupted.pending["governor"]["address"]
    assert w3.eth.get_code(predicted)  # it is on-chain, only the manifest does not know

    monkeypatch.setattr(deploy_module._Deployment, "_record", original)
    messages: list[str] = []
    suite = deploy_suite(w3, deployer, manifest_path=path, progress=messages.append)
    assert suite.governor.address == predicted
    assert any("found at" in m and "CivicGovernor" in m for m in messages)
    assert len(creations_by(w3, deployer.address, start)) == len(SUITE_CONTRACTS)
    assert not Manifest.load(path).pending


def test_deploy_suite_redeploys_a_pending_creation_that_never_landed(
    w3: Web3, deployer: NodeSigner, tmp_path: Path
) -> None:
    path = tmp_path / "deployment.json"
    start = w3.eth.block_number

    def crash_when_sending_the_treasury(message: str) -> None:
        if message == "deploying PublicTreasury":
            raise Interrupted(message)

    with pytest.raises(Interrupted):
        deploy_suite(
            w3, deployer, load_config("pilot"), manifest_path=path, progress=crash_when_sending_the_treasury
        )
    pending = Manifest.load(path).pending["treasury"]["address"]
    assert not w3.eth.get_code(pending)
    suite = deploy_suite(w3, deployer, manifest_path=path)
    assert suite.treasury.address == pending  # same nonce, same address
    assert len(creations_by(w3, deployer.address, start)) == len(SUITE_CONTRACTS)


def test_deploy_suite_resume_refuses_another_config_chain_or_deployer(
    w3: Web3, deployer: NodeSigner, accounts: list[NodeSigner], tmp_path: Path
) -> None:
    path = tmp_path / "deployment.json"
    with pytest.raises(Interrupted):
        deploy_suite(w3, deployer, load_config("pilot"), manifest_path=path, progress=interrupt_after(2))
    with pytest.raises(DeploymentError, match="another config"):
        deploy_suite(w3, deployer, load_config("city"), manifest_path=path)
    with pytest.raises(DeploymentError, match="deployed by"):
        deploy_suite(w3, accounts[1], manifest_path=path)
    data = json.loads(path.read_text())
    data["chainId"] = 1
    path.write_text(json.dumps(data))
    with pytest.raises(DeploymentError, match="chain 1"):
        deploy_suite(w3, deployer, manifest_path=path)


# -- loading ----------------------------------------------------------------------------------------------


@pytest.mark.ganache
def test_load_suite_binds_the_recorded_contracts(w3: Web3, deployer: NodeSigner, tmp_path: Path) -> None:
    path = tmp_path / "deployment.json"
    deployed = deploy_suite(w3, deployer, manifest_path=path)
    loaded = load_suite(w3, path)
    assert loaded.addresses() == deployed.addresses()
    assert loaded.chain_id == w3.eth.chain_id
    assert call(loaded.governor.functions.name()) == "CivicDAO Governor"


def test_load_suite_refuses_a_manifest_of_another_chain(
    w3: Web3, deployer: NodeSigner, tmp_path: Path
) -> None:
    path = tmp_path / "deployment.json"
    deploy_suite(w3, deployer, manifest_path=path)
    data = json.loads(path.read_text())
    data["chainId"] = 11155111
    path.write_text(json.dumps(data))
    with pytest.raises(DeploymentError, match="chain 11155111"):
        load_suite(w3, path)


def test_load_suite_refuses_addresses_without_code(
    w3: Web3, deployer: NodeSigner, control: ChainControl, tmp_path: Path
) -> None:
    """Same chain id, other chain (a restarted dev node): the recorded addresses hold no code."""
    path = tmp_path / "deployment.json"
    before = control.snapshot()
    deploy_suite(w3, deployer, manifest_path=path)
    control.revert(before)
    with pytest.raises(DeploymentError, match="no code"):
        load_suite(w3, path)


def test_load_suite_refuses_missing_or_malformed_manifests(w3: Web3, tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match="does not exist"):
        load_suite(w3, tmp_path / "nothing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(DeploymentError, match="not valid JSON"):
        load_suite(w3, broken)
    broken.write_text(json.dumps({"format": 1, "chainId": 31337}))
    with pytest.raises(DeploymentError, match="malformed"):
        load_suite(w3, broken)


# -- configuration ----------------------------------------------------------------------------------------


def test_load_config_presets_and_overrides() -> None:
    assert set(PRESETS) == {"pilot", "neighbourhood", "city"}
    assert load_config() == PRESETS["pilot"]
    custom = load_config("neighbourhood", {"quorum_percent": 25, "registrars": ["0x" + "11" * 20]})
    assert custom.quorum_percent == 25 and custom.registrars == ("0x" + "11" * 20,)
    assert custom.voting_period == PRESETS["neighbourhood"].voting_period
    assert PRESETS["city"].deployer_is_registrar is False


def test_load_config_unknown_preset_or_key_refused() -> None:
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config("metropolis")
    with pytest.raises(ConfigError, match="unknown config keys"):
        load_config("pilot", {"quorum": 10})


@pytest.mark.parametrize(
    "overrides",
    [
        {"voting_delay": -1},
        {"voting_period": 0},
        {"timelock_delay": 1.5},
        {"treasury_eth_cap": True},
        {"quorum_percent": 0},
        {"quorum_percent": 101},
        {"vote_extension": 2 * DAY},  # longer than the pilot's one-day vote
        {"exchange_fee_bps": {"room_house": 1001}},
        {"exchange_fee_bps": {"castle": 10}},
    ],
)
def test_load_config_out_of_range_values_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        load_config("pilot", overrides)


def test_load_config_from_toml(tmp_path: Path) -> None:
    good = tmp_path / "civic.toml"
    good.write_text('preset = "city"\nquorum_percent = 30\n[exchange_fee_bps]\ntool = 50\n')
    config = load_config(overrides=good)
    assert isinstance(config, DeployConfig)
    assert (config.preset, config.quorum_percent, config.exchange_fee_bps["tool"]) == ("city", 30, 50)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(overrides=tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("quorum_percent = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(overrides=bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('preset = "village"\n')
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config(overrides=unknown)


def test_deploy_suite_refuses_a_config_nobody_could_register_under(
    w3: Web3, deployer: NodeSigner, tmp_path: Path
) -> None:
    path = tmp_path / "deployment.json"
    block = w3.eth.block_number
    with pytest.raises(DeploymentError, match="nobody able to register citizens"):
        deploy_suite(w3, deployer, load_config("city"), manifest_path=path)
    assert w3.eth.block_number == block
    assert not path.exists()


def test_load_config_refuses_a_guardian_that_never_expires() -> None:
    with pytest.raises(ConfigError, match="guardian_expiry_after must be more than 0"):
        load_config("pilot", {"guardian_expiry_after": 0})
    for preset in PRESETS.values():
        assert preset.guardian_expiry_after > 0


def test_deploy_suite_guardian_expires_and_resolvers_are_appointed(
    w3: Web3, deployer: NodeSigner, accounts: list[NodeSigner]
) -> None:
    resolver = accounts[6].address
    suite = deploy_suite(w3, deployer, load_config("pilot", {"resolvers": [resolver]}))
    expiry = call(suite.governor.functions.proposalGuardianExpiry())
    deployed_at = w3.eth.get_block(suite.manifest.contracts["governor"].block)["timestamp"]
    assert deployed_at - 5 <= expiry - 90 * DAY <= deployed_at  # counted from the start of the deployment
    role = call(suite.exchange.functions.RESOLVER_ROLE())
    assert call(suite.exchange.functions.hasRole(role, resolver))
    assert not call(suite.exchange.functions.hasRole(role, deployer.address))


def test_deploy_suite_exchange_guardian_expires_with_the_governor_guardian(
    w3: Web3, deployer: NodeSigner, control: ChainControl, tmp_path: Path
) -> None:
    path = tmp_path / "deployment.json"
    suite = deploy_suite(w3, deployer, load_config("pilot"), manifest_path=path)
    expiry = call(suite.governor.functions.proposalGuardianExpiry())
    assert expiry > control.time()
    assert Exchange.from_suite(suite).guardian_expiry() == expiry
    assert "exchange.guardianExpiry" in Manifest.load(path).steps
    guardian = call(suite.exchange.functions.GUARDIAN_ROLE())
    assert call(suite.exchange.functions.hasRole(guardian, deployer.address))  # the pilot's guardian
    control.increase_time(expiry - control.time() + 1)
    with pytest.raises(ExchangeGuardianExpired) as raised:  # its pause ends with its cancel power
        transact(w3, deployer, suite.exchange.functions.pause())
    assert (raised.value.guardian, raised.value.expiry) == (deployer.address, expiry)


# -- faults: a killed deployment, a chain restarted empty ---------------------------------------------------


def _deploy_command(rpc_url: str, manifest: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "civicdao.cli", "deploy",
        "--rpc-url", rpc_url, "--unlocked", "0", "--manifest", str(manifest), *extra,
    ]  # fmt: skip


class _Deploying:
    """``civicdao deploy`` running in a child process, its stderr collected line by line."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.reader.join(timeout=10)

    def finish(self, timeout: float = 300) -> int:
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code


def _mining(w3: Web3, seconds: int) -> None:
    """Anvil's interval mining: a block every ``seconds`` seconds, or paused with 0 (transactions wait)."""
    assert "error" not in w3.provider.make_request("evm_setIntervalMining", [seconds])  # type: ignore[arg-type]


def _pool_size(w3: Web3, account: str) -> int:
    return w3.eth.get_transaction_count(account, "pending") - w3.eth.get_transaction_count(account, "latest")  # type: ignore[arg-type]


def _kill_when_pending(run: _Deploying, manifest: Path, w3: Web3, is_target: Any) -> tuple[str, str]:
    """SIGKILL ``run`` while the transaction recorded under a pending manifest key that ``is_target`` picks is
    broadcast but not mined; mining is left paused, so it stays pending. Returns the key and the hash."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert run.process.poll() is None, "".join(run.lines)
        try:
            pending = json.loads(manifest.read_text())["pending"]
        except (FileNotFoundError, ValueError):
            pending = {}
        sent = [key for key, entry in pending.items() if is_target(key) and entry.get("txHash")]
        if sent and _pool_size(w3, w3.eth.accounts[0]) > 0:
            _mining(w3, 0)
            run.kill()
            tx_hash = pending[sent[0]]["txHash"]
            with pytest.raises(TransactionNotFound):  # killed before its transaction was mined
                w3.eth.get_transaction_receipt(tx_hash)
            return sent[0], tx_hash
        time.sleep(0.02)
    raise AssertionError("the deployment never had a transaction pending")


def _rerun_while_pending(command: list[str], w3: Web3) -> _Deploying:
    """Rerun at once, while the killed run's transaction is still in the pool; mining resumes once the rerun
    has shown what it does about it (waits, or sends something of its own)."""
    deployer = w3.eth.accounts[0]
    run = _Deploying(command)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.process.poll() is None:
        if run.said("waiting for 1 pending transaction(s)") or _pool_size(w3, deployer) > 1:
            break
        time.sleep(0.02)
    _mining(w3, 2)
    assert run.said("waiting for 1 pending transaction(s)"), "".join(run.lines)
    return run


def _transactions_by(w3: Web3, sender: str) -> list[Any]:
    return [
        tx
        for number in range(w3.eth.block_number + 1)
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]
        if tx["from"] == sender
    ]


@pytest.mark.slow
def test_deploy_killed_while_a_creation_or_a_grant_is_pending_resumes_without_doubling_anything(
    tmp_path: Path,
) -> None:
    """Two-second blocks, so a transaction waits in the pool: kill the CLI while the CivicTimelock creation is
    pending, rerun at once, kill it again while a role grant is pending, rerun to the end. Mining pauses from
    each kill until the rerun has shown what it does, so every rerun starts with the transaction pending."""
    manifest = tmp_path / "deployment.json"
    with LocalChain(block_time=2) as chain:
        w3, command = chain.w3, _deploy_command(chain.rpc_url, manifest)
        deployer = w3.eth.accounts[0]
        first = _Deploying(command)
        key, timelock_tx = _kill_when_pending(first, manifest, w3, lambda key: key == "timelock")
        assert key == "timelock" and "timelock" not in Manifest.load(manifest).contracts

        second = _rerun_while_pending(command, w3)
        step, step_tx = _kill_when_pending(second, manifest, w3, lambda key: key.startswith("step:"))
        assert Manifest.load(manifest).contracts.keys() == SUITE_CONTRACTS.keys()  # got past the creations
        assert second.said("CivicTimelock found at")  # adopted from the killed run's transaction

        third = _rerun_while_pending(command, w3)
        assert third.finish() == 0, "".join(third.lines)

        suite = load_suite(w3, manifest)
        sent = _transactions_by(w3, deployer)
        assert len(sent) == w3.eth.get_transaction_count(deployer)  # every nonce used once, all mined
        creations = [tx for tx in sent if tx.get("to") is None]
        assert len(creations) == len(SUITE_CONTRACTS)
        created = [w3.eth.get_transaction_receipt(tx["hash"])["contractAddress"] for tx in creations]
        assert sorted(created) == sorted(suite.addresses().values())
        timelock_code = w3.eth.get_code(suite.timelock.address)
        assert [a for a in created if w3.eth.get_code(a) == timelock_code] == [suite.timelock.address]
        calls = [(tx["to"], bytes(tx["input"])) for tx in sent if tx.get("to") is not None]
        assert len(calls) == len(set(calls))  # no grant, setting or renounce sent twice
        recorded = Manifest.load(manifest)
        assert recorded.complete and not recorded.pending
        assert recorded.contracts["timelock"].tx_hash == timelock_tx  # the killed runs' transactions,
        assert recorded.steps[step.removeprefix("step:")]["txHash"] == step_tx  # adopted, not sent again
        for contract in (suite.registry, suite.treasury, suite.exchange, suite.timelock):
            assert not call(contract.functions.hasRole(ADMIN, deployer))


def test_deploy_refuses_a_manifest_whose_contracts_are_not_on_the_chain(
    chain: LocalChain, control: ChainControl, tmp_path: Path
) -> None:
    """A development node restarted empty: one line naming the manifest and the fix, then --fresh works."""
    manifest = tmp_path / "deployment.json"
    empty = control.snapshot()
    first = subprocess.run(
        _deploy_command(chain.rpc_url, manifest), capture_output=True, text=True, timeout=180, check=False
    )
    assert first.returncode == 0, first.stderr
    control.revert(empty)  # the chain forgets the deployment, the manifest does not
    block = chain.w3.eth.block_number

    again = subprocess.run(
        _deploy_command(chain.rpc_url, manifest), capture_output=True, text=True, timeout=180, check=False
    )
    assert again.returncode == 1
    assert again.stderr.count("\n") == 1 and "Traceback" not in again.stderr
    assert again.stderr.startswith(f"error: {manifest} records CitizenRegistry (registry) at 0x")
    assert "has no code there" in again.stderr and "--fresh" in again.stderr
    assert chain.w3.eth.block_number == block  # nothing was sent

    fresh = subprocess.run(
        _deploy_command(chain.rpc_url, manifest, "--fresh"),
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    assert Manifest.load(manifest).complete
    [aside] = tmp_path.glob("deployment.replaced-*.json")  # the old record is kept, not lost
    assert json.loads(aside.read_text())["complete"] is True


def test_a_call_to_a_contract_the_chain_lost_is_a_network_error(
    w3: Web3, deployer: NodeSigner, control: ChainControl
) -> None:
    empty = control.snapshot()
    suite = deploy_suite(w3, deployer)
    control.revert(empty)
    with pytest.raises(NetworkError, match=f"no contract answers at {suite.governor.address}"):
        call(suite.governor.functions.votingDelay())
