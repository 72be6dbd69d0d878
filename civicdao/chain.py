"""Local chains to launch, remote chains to connect to, and the test controls both local chains share.

``LocalChain`` starts Anvil (the default) or Ganache 7.9.2 on a free loopback port, waits until it answers,
and stops it on exit: one process, killed with the parent even when the parent dies abruptly (Linux
``PR_SET_PDEATHSIG``), and stopped by ``atexit`` otherwise. ``connect`` reaches any RPC URL and checks
the chain id. ``ChainControl`` hides the differences between Anvil's and Ganache's test RPCs.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import signal
import socket
import subprocess
import time
import weakref
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from eth_typing import ChecksumAddress
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception

from civicdao.accounts import checksum
from civicdao.errors import (
    ChainIdMismatchError,
    ChainStartError,
    ConfigError,
    NetworkError,
    RPCUnreachableError,
)
from civicdao.toolchain import anvil_binary, ganache_command

__all__ = [
    "DEFAULT_MNEMONIC",
    "ChainControl",
    "ChainKind",
    "LocalChain",
    "connect",
    "launch",
]

logger = logging.getLogger(__name__)

ChainKind = Literal["anvil", "ganache"]

#: The well-known development mnemonic (Anvil's and Hardhat's default): never hold real funds with it.
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"


def connect(rpc_url: str, *, expected_chain_id: int | None = None, timeout: float = 10.0) -> Web3:
    """A ``Web3`` for ``rpc_url``, after checking that a node answers (and serves the expected chain).

    Raises:
        ConfigError: the URL is not an http(s) URL.
        RPCUnreachableError: nothing answers there.
        ChainIdMismatchError: the node serves another chain than ``expected_chain_id``.
    """
    if not rpc_url.startswith(("http://", "https://")):
        raise ConfigError(f"RPC URL {rpc_url!r} must start with http:// or https://")
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        chain_id = w3.eth.chain_id
    except (OSError, Web3Exception, ValueError) as exc:
        raise RPCUnreachableError(
            f"no Ethereum node answers at {rpc_url} ({type(exc).__name__}): "
            "check the URL and that the node runs"
        ) from None
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise ChainIdMismatchError(expected_chain_id, chain_id, rpc_url)
    return w3


@dataclass(frozen=True)
class _LaunchSpec:
    kind: ChainKind
    port: int
    chain_id: int
    accounts: int
    balance_eth: int
    mnemonic: str
    hardfork: str
    block_time: float | None


class LocalChain:
    """A local development chain in a child process. Use it as a context manager.

    >>> with LocalChain() as chain:          # doctest: +SKIP
    ...     chain.w3.eth.block_number
    """

    def __init__(
        self,
        kind: ChainKind = "anvil",
        *,
        port: int | None = None,
        chain_id: int = 31337,
        accounts: int = 10,
        balance_eth: int = 10_000,
        mnemonic: str = DEFAULT_MNEMONIC,
        hardfork: str = "shanghai",
        block_time: float | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        """``block_time``: mine a block every so many seconds instead of one per transaction (transactions
        then wait in the node's pool, as on a public chain)."""
        if kind not in ("anvil", "ganache"):
            raise ConfigError(f"unknown local chain {kind!r}: choose 'anvil' or 'ganache'")
        if accounts < 1:
            raise ConfigError("a local chain needs at least one account")
        if block_time is not None and not block_time > 0:
            raise ConfigError(f"block_time must be more than 0 seconds, got {block_time}")
        self._spec = _LaunchSpec(
            kind, port or _free_port(), chain_id, accounts, balance_eth, mnemonic, hardfork, block_time
        )
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._w3: Web3 | None = None

    @property
    def kind(self) -> ChainKind:
        return self._spec.kind

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self._spec.port}"

    @property
    def chain_id(self) -> int:
        return self._spec.chain_id

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def w3(self) -> Web3:
        if self._w3 is None:
            raise ChainStartError(
                "the chain is not running: call start() or use `with LocalChain() as chain`"
            )
        return self._w3

    @property
    def control(self) -> ChainControl:
        return ChainControl(self.w3)

    def start(self) -> LocalChain:
        """Start the process and wait until it answers JSON-RPC."""
        if self._process is not None:
            return self
        command = self._command()
        logger.info("starting %s on %s", self.kind, self.rpc_url)
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        _RUNNING.add(self)
        try:
            self._w3 = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 5 s). Safe to call twice."""
        process, self._process, self._w3 = self._process, None, None
        _RUNNING.discard(self)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stderr:
            process.stderr.close()

    def __enter__(self) -> LocalChain:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self._process else "stopped"
        return f"<LocalChain {self.kind} {self.rpc_url} chain {self.chain_id} {state}>"

    def _command(self) -> list[str]:
        spec = self._spec
        if spec.kind == "anvil":
            interval = ["--block-time", f"{spec.block_time:g}"] if spec.block_time else []
            return [
                anvil_binary(),
                "--host", "127.0.0.1",
                "--port", str(spec.port),
                "--chain-id", str(spec.chain_id),
                "--accounts", str(spec.accounts),
                "--balance", str(spec.balance_eth),
                "--mnemonic", spec.mnemonic,
                "--hardfork", spec.hardfork,
                "--silent",
                *interval,
            ]  # fmt: skip
        interval = ["--miner.blockTime", f"{spec.block_time:g}"] if spec.block_time else []
        return [
            *ganache_command(),
            "--server.host", "127.0.0.1",
            "--server.port", str(spec.port),
            "--chain.chainId", str(spec.chain_id),
            "--chain.networkId", str(spec.chain_id),
            "--chain.hardfork", spec.hardfork,
            "--wallet.totalAccounts", str(spec.accounts),
            "--wallet.defaultBalance", str(spec.balance_eth),
            "--wallet.mnemonic", spec.mnemonic,
            "--logging.quiet",
            *interval,
        ]  # fmt: skip

    def _wait_ready(self) -> Web3:
        assert self._process is not None
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise ChainStartError(
                    f"{self.kind} exited with code {self._process.returncode} before it was ready: "
                    f"{stderr.strip()[-500:] or 'no output'}"
                )
            with contextlib.suppress(RPCUnreachableError):
                return connect(self.rpc_url, expected_chain_id=self.chain_id, timeout=2)
            time.sleep(0.1)
        raise ChainStartError(
            f"{self.kind} did not answer at {self.rpc_url} within {self._startup_timeout:.0f}s"
        )


def launch(kind: ChainKind = "anvil", **options: Any) -> LocalChain:
    """Start a :class:`LocalChain` and return it running (stop it with ``.stop()``)."""
    return LocalChain(kind, **options).start()


class ChainControl:
    """Snapshots, time travel and state overrides that work the same on Anvil and Ganache."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        client = str(w3.client_version).lower()
        self.is_ganache = "ganache" in client or "testrpc" in client

    def snapshot(self) -> str:
        """Take a snapshot; :meth:`revert` to it consumes it (take a new one to go back again)."""
        return str(self._rpc("evm_snapshot", []))

    def revert(self, snapshot_id: str) -> None:
        if not self._rpc("evm_revert", [snapshot_id]):
            raise NetworkError(f"snapshot {snapshot_id} is unknown or was already used")

    def time(self) -> int:
        """The latest block's timestamp."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def increase_time(self, seconds: int) -> int:
        """Move the clock forward by ``seconds`` and mine a block; returns the new block timestamp."""
        if seconds < 0:
            raise ConfigError("time only moves forward")
        self._rpc("evm_increaseTime", [seconds if self.is_ganache else hex(seconds)])
        self.mine()
        return self.time()

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self._rpc("evm_mine", [])

    def set_code(self, address: str, code: str) -> None:
        """Replace the code at ``address`` (what a metamorphic-contract attack does)."""
        method = "evm_setAccountCode" if self.is_ganache else "anvil_setCode"
        self._rpc(method, [checksum(address), code])

    def set_balance(self, address: str, wei: int) -> None:
        method = "evm_setAccountBalance" if self.is_ganache else "anvil_setBalance"
        self._rpc(method, [checksum(address), hex(wei)])

    def unlocked_accounts(self) -> list[ChecksumAddress]:
        return [checksum(a) for a in self.w3.eth.accounts]

    def _rpc(self, method: str, params: list[Any]) -> Any:
        response = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in response:
            raise NetworkError(f"{method} failed: {response['error'].get('message', response['error'])}")
        return response.get("result")


# -- process hygiene ---------------------------------------------------------------------------------

_RUNNING: weakref.WeakSet[LocalChain] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for chain in list(_RUNNING):
        chain.stop()


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM us when the parent dies, and leave the parent's Ctrl-C alone."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
