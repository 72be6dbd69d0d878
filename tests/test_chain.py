"""Local chains start, answer, travel in time, and never outlive the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from web3 import Web3

from civicdao.chain import ChainControl, LocalChain, connect
from civicdao.errors import BinaryNotFoundError, ChainIdMismatchError, ConfigError, RPCUnreachableError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): look at its state
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def _wait_dead(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.ganache
def test_snapshot_revert_and_time_travel(w3: Web3, control: ChainControl) -> None:
    start = control.time()
    snapshot = control.snapshot()
    assert control.increase_time(3_600) >= start + 3_600
    block = w3.eth.block_number
    control.mine(2)
    assert w3.eth.block_number == block + 2
    control.revert(snapshot)
    assert control.time() < start + 3_600


@pytest.mark.ganache
def test_set_code_and_balance(w3: Web3, control: ChainControl) -> None:
    target = "0x" + "42" * 20
    control.set_code(target, "0x6000")
    control.set_balance(target, 123)
    assert w3.eth.get_code(Web3.to_checksum_address(target)) == bytes.fromhex("6000")
    assert w3.eth.get_balance(Web3.to_checksum_address(target)) == 123


def test_time_cannot_go_backwards(control: ChainControl) -> None:
    with pytest.raises(ConfigError):
        control.increase_time(-1)


@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_local_chain_starts_and_stops(kind: str) -> None:
    chain = LocalChain(kind, chain_id=1337)  # type: ignore[arg-type]
    with chain:
        pid = chain.pid
        assert pid is not None
        assert chain.w3.eth.chain_id == 1337
        assert len(chain.w3.eth.accounts) == 10
    assert _wait_dead(pid)
    chain.stop()  # a second stop is harmless
    with pytest.raises(Exception, match="not running"):
        _ = chain.w3


def test_unknown_chain_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown local chain 'hardhat'"):
        LocalChain("hardhat")  # type: ignore[arg-type]


def test_missing_binary_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICDAO_ANVIL", "/nonexistent/anvil")
    with pytest.raises(BinaryNotFoundError, match="CIVICDAO_ANVIL points to /nonexistent/anvil"):
        LocalChain("anvil").start()


def test_connect_refuses_a_non_http_url() -> None:
    with pytest.raises(ConfigError, match="must start with http"):
        connect("localhost:8545")


def test_connect_reports_an_unreachable_node() -> None:
    with pytest.raises(RPCUnreachableError, match=r"no Ethereum node answers at http://127\.0\.0\.1:9"):
        connect("http://127.0.0.1:9", timeout=2)


def test_connect_checks_the_chain_id(chain: LocalChain) -> None:
    assert connect(chain.rpc_url, expected_chain_id=chain.chain_id).eth.chain_id == chain.chain_id
    with pytest.raises(ChainIdMismatchError, match="serves chain id 31337, expected 1"):
        connect(chain.rpc_url, expected_chain_id=1)


_LAUNCHER = textwrap.dedent(
    """
    import sys, time
    from civicdao.chain import LocalChain
    chain = LocalChain(sys.argv[1]).start()
    print(chain.pid, flush=True)
    time.sleep(120)
    """
)


@pytest.mark.parametrize(
    ("kind", "signum"),
    [
        ("anvil", signal.SIGINT),  # Ctrl-C: the parent unwinds and atexit stops the chain
        ("anvil", signal.SIGKILL),  # the parent dies at once: the kernel's parent-death signal stops it
        ("ganache", signal.SIGTERM),
    ],
)
def test_no_orphan_chain_when_the_parent_is_interrupted(kind: str, signum: int) -> None:
    parent = subprocess.Popen([sys.executable, "-c", _LAUNCHER, kind], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert _alive(child_pid)
    parent.send_signal(signum)
    parent.wait(timeout=15)
    assert _wait_dead(child_pid), f"{kind} (pid {child_pid}) outlived its parent after signal {signum}"


def test_block_time_mines_on_an_interval_not_per_transaction() -> None:
    with pytest.raises(ConfigError, match="block_time must be more than 0"):
        LocalChain(block_time=0)
    with LocalChain(block_time=1) as chain:
        w3 = chain.w3
        start = w3.eth.block_number
        time.sleep(2.5)
        assert w3.eth.block_number >= start + 2  # empty blocks, one a second
        sender = w3.eth.accounts[0]
        tx_hash = w3.eth.send_transaction({"from": sender, "to": sender, "value": 1})
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)
        assert receipt["status"] == 1
