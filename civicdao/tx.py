"""The one transaction path: build, estimate, sign, send, wait, decode.

Every state-changing call in CivicDAO goes through :func:`send_transaction` (or :func:`transact`, its
wrapper for a bound contract function) and comes back as a frozen :class:`TxRecord`. A revert, whether
found while estimating gas or after mining, is raised as a named :class:`~civicdao.errors.ContractRevert`.

Who signs is the caller's explicit choice (:mod:`civicdao.accounts`): a :class:`~civicdao.accounts.KeySigner`
(any eth-account ``LocalAccount``) signs here and the raw transaction is sent; a
:class:`~civicdao.accounts.NodeSigner` sends through the node's ``eth_sendTransaction``. Anything else is
refused, never silently handed to the node.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypedDict, TypeVar, Unpack

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import BadFunctionCallOutput, TimeExhausted, Web3Exception
from web3.types import BlockIdentifier

from civicdao.accounts import KeySigner, NodeSigner, Signer, sign_raw_transaction
from civicdao.artifacts import abi_signature, artifact_dirs, list_artifacts, load_artifact
from civicdao.errors import (
    CivicDAOError,
    ContractRevert,
    InvalidAmountError,
    NetworkError,
    RPCUnreachableError,
    SigningError,
    TransactionError,
    UnknownRevert,
)
from civicdao.reverts import revert_from_exception

__all__ = [
    "Event",
    "SendOptions",
    "TxRecord",
    "broadcast",
    "call",
    "calldata",
    "decode_logs",
    "estimate_gas",
    "fee_fields",
    "node_failure",
    "rpc_url",
    "send_transaction",
    "sign_locally",
    "transact",
    "wait_for_receipt",
]

#: Called with a transaction's hash as soon as it is known: before the broadcast for a key held here,
#: right after it for a node-unlocked account. A deployment records it so a rerun can find the transaction.
OnSent = Callable[[str], None]

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

#: Gas estimates are multiplied by this margin: estimates can fall short when state moves between
#: estimating and mining (late-quorum extensions, storage slots warmed by an earlier transaction).
DEFAULT_GAS_MARGIN = 1.25
#: ...and this much is added on top: an estimate runs in the latest block's second, where a Votes
#: checkpoint is overwritten in place, while the mined transaction lands in a new second and writes new
#: history slots (22,100 gas each: a re-delegation writes up to three, the delegator's choice and both
#: delegates' received votes; governance and the exchange write others). Only the gas used is paid.
DEFAULT_GAS_HEADROOM = 5 * 22_100


@dataclass(frozen=True)
class Event:
    """A decoded log."""

    name: str
    address: ChecksumAddress
    args: Mapping[str, Any]
    log_index: int

    def __getitem__(self, key: str) -> Any:
        return self.args[key]


@dataclass(frozen=True)
class TxRecord:
    """A mined, successful transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    sender: ChecksumAddress
    contract_address: ChecksumAddress | None = None
    events: tuple[Event, ...] = field(default=(), repr=False)

    def events_named(self, name: str) -> list[Event]:
        """Every decoded event called ``name``, in log order."""
        return [event for event in self.events if event.name == name]

    def event(self, name: str) -> Event:
        """The first event called ``name``; raises LookupError when there is none."""
        for event in self.events:
            if event.name == name:
                return event
        names = ", ".join(sorted({e.name for e in self.events})) or "none"
        raise LookupError(f"transaction {self.tx_hash} emitted no {name} event (emitted: {names})")


class SendOptions(TypedDict, total=False):
    """The options :func:`transact` passes on to :func:`send_transaction` (see there)."""

    value: int
    gas: int | None
    gas_margin: float
    timeout: float
    on_sent: OnSent | None


def transact(w3: Web3, signer: Signer, fn: ContractFunction, **options: Unpack[SendOptions]) -> TxRecord:
    """Send a bound contract function call (``contract.functions.f(args)``) as a transaction.

    ``options`` are :func:`send_transaction`'s: ``value``, ``gas``, ``gas_margin``, ``timeout``, ``on_sent``.
    """
    return send_transaction(w3, signer, to=fn.address, data=calldata(fn), **options)


def calldata(fn: ContractFunction) -> str:
    """The ``0x`` calldata of a bound contract function call (``contract.functions.f(args)``), encoded offline
    through web3.py's public ``Contract.encode_abi`` (no request to the node)."""
    single = fn.w3.eth.contract(abi=[fn.abi])
    return str(single.encode_abi(fn.signature, args=fn.args, kwargs=fn.kwargs))


def call(fn: ContractFunction, *, sender: str | None = None, block: BlockIdentifier = "latest") -> Any:
    """Run a view (or simulate a call) and turn a revert into a named exception.

    Raises:
        ContractRevert: the call reverts (decoded to its named subclass).
        NetworkError: the node stopped answering, or no contract answers at the address.
    """
    try:
        return fn.call({"from": sender} if sender else {}, block_identifier=block)
    except (Web3Exception, ValueError, OSError) as exc:
        named = _named_error(fn.w3, exc, address=fn.address)
        if named is None:
            raise
        raise named from None


def node_failure(exc: BaseException, *, url: str = "", address: str | None = None) -> NetworkError | None:
    """The :class:`NetworkError` that ``exc`` stands for, or None when it is not a node failure.

    A refused or dropped connection (``requests``' errors are ``OSError``s) becomes
    :class:`RPCUnreachableError`; ``BadFunctionCallOutput`` (a call answered with no data, because no contract
    is at the address on this chain) becomes a :class:`NetworkError` naming the address.
    """
    if isinstance(exc, NetworkError):
        return exc
    url = url or "the node"
    if isinstance(exc, OSError) or type(exc).__name__ == "ProviderConnectionError":
        return RPCUnreachableError(
            f"the Ethereum node at {url} stopped answering ({type(exc).__name__}): "
            "check that it runs and the RPC URL, then run the command again"
        )
    if isinstance(exc, BadFunctionCallOutput):
        where = f" at {address}" if address else ""
        return NetworkError(
            f"no contract answers{where} on the chain at {url}: the node was restarted empty or the "
            "manifest is for another chain (deploy again, or point --rpc-url at the right node)"
        )
    return None


def rpc_url(w3: Web3) -> str:
    """The URL of ``w3``'s node, or "" when its provider has none."""
    return str(getattr(w3.provider, "endpoint_uri", "") or "")


def send_transaction(
    w3: Web3,
    signer: Signer,
    *,
    to: str | None = None,
    data: str | bytes = b"",
    value: int = 0,
    gas: int | None = None,
    gas_margin: float = DEFAULT_GAS_MARGIN,
    timeout: float = 120.0,
    on_sent: OnSent | None = None,
) -> TxRecord:
    """Build, sign, send and wait for a transaction; decode its events.

    EIP-1559 fees where the chain has a base fee, a legacy gas price otherwise. Gas is estimated (with
    ``gas_margin``) unless ``gas`` is given. ``on_sent`` gets the transaction hash as soon as it is known
    (before the broadcast when the key is held here).

    Raises:
        ContractRevert: the call reverts, while estimating or once mined (decoded to its named subclass).
        TransactionError: the node refused the transaction or it was not mined within ``timeout``.
        NetworkError: the node stopped answering.
    """
    if value < 0:
        raise InvalidAmountError(f"value must be 0 or more wei, got {value}")
    tx: dict[str, Any] = {"from": signer.address, "value": value, "data": HexBytes(data).to_0x_hex()}
    if to is not None:
        tx["to"] = to_checksum_address(to)
    tx["gas"] = gas if gas is not None else estimate_gas(w3, tx, margin=gas_margin)
    tx.update(fee_fields(w3))
    tx_hash = broadcast(w3, signer, tx, on_sent=on_sent)
    receipt = wait_for_receipt(w3, tx_hash.to_0x_hex(), timeout=timeout)
    if receipt["status"] != 1:
        raise _revert_after_mining(w3, tx, receipt["blockNumber"])
    contract_address = receipt.get("contractAddress")
    return TxRecord(
        tx_hash=tx_hash.to_0x_hex(),
        block_number=receipt["blockNumber"],
        gas_used=receipt["gasUsed"],
        sender=signer.address,
        contract_address=to_checksum_address(contract_address) if contract_address else None,
        events=decode_logs(w3, receipt["logs"]),
    )


def wait_for_receipt(w3: Web3, tx_hash: str, *, timeout: float = 120.0) -> Any:
    """The receipt of ``tx_hash`` once mined.

    Raises:
        TransactionError: not mined within ``timeout`` seconds.
        NetworkError: the node stopped answering.
    """
    try:
        return w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=timeout)
    except TimeExhausted:
        raise TransactionError(f"transaction {tx_hash} was not mined within {timeout:.0f}s") from None
    except (Web3Exception, OSError) as exc:
        failure = node_failure(exc, url=rpc_url(w3))
        if failure is None:
            raise
        raise failure from None


def decode_logs(w3: Web3, logs: list[Any]) -> tuple[Event, ...]:
    """Decode every log whose signature appears in a shipped ABI; others are skipped."""
    decoded = []
    for log in logs:
        if not log["topics"]:
            continue
        for abi in _event_abis(artifact_dirs()).get(HexBytes(log["topics"][0]).to_0x_hex(), ()):
            try:
                data = w3.eth.contract(abi=[abi]).events[abi["name"]]().process_log(log)
            except Exception:  # noqa: S112 - a same-signature event indexed differently: try the next ABI
                continue
            decoded.append(
                Event(
                    name=data["event"],
                    address=to_checksum_address(log["address"]),
                    args=MappingProxyType(dict(data["args"])),
                    log_index=log["logIndex"],
                )
            )
            break
    return tuple(decoded)


@functools.cache
def _event_abis(extra_dirs: tuple[Path, ...]) -> Mapping[str, tuple[Any, ...]]:
    """Event ABIs by topic, of the shipped artifacts and those of ``extra_dirs`` (the cache key)."""
    by_topic: dict[str, list[Any]] = {}
    seen: set[str] = set()
    for name in list_artifacts(include_extra=bool(extra_dirs)):
        for entry in load_artifact(name).abi:
            if entry.get("type") != "event" or entry.get("anonymous"):
                continue
            key = repr(sorted((i["name"], i["type"], i["indexed"]) for i in entry["inputs"])) + entry["name"]
            if key in seen:
                continue
            seen.add(key)
            topic = Web3.keccak(text=abi_signature(entry)).to_0x_hex()
            by_topic.setdefault(topic, []).append(dict(entry))
    return MappingProxyType({topic: tuple(abis) for topic, abis in by_topic.items()})


def estimate_gas(
    w3: Web3, tx: dict[str, Any], *, margin: float = DEFAULT_GAS_MARGIN, headroom: int = DEFAULT_GAS_HEADROOM
) -> int:
    """A gas limit for ``tx``: the node's estimate times ``margin`` plus ``headroom``, within the block limit.

    Raises:
        ContractRevert: the call would revert (decoded).
        TransactionError: the node refused to estimate for another reason.
    """
    estimate = _refused_as_error(
        w3,
        lambda: w3.eth.estimate_gas(tx),  # type: ignore[arg-type]
        refusal="the node refused to estimate gas",
    )
    limit = w3.eth.get_block("latest")["gasLimit"]
    return min(int(estimate * margin) + headroom, limit)


def fee_fields(w3: Web3) -> dict[str, int]:
    """EIP-1559 fee fields where the chain has a base fee, a legacy ``gasPrice`` otherwise."""
    base_fee = w3.eth.get_block("latest").get("baseFeePerGas")
    if base_fee is None:
        return {"gasPrice": w3.eth.gas_price}
    priority = _max_priority_fee(w3)
    return {"maxFeePerGas": 2 * base_fee + priority, "maxPriorityFeePerGas": priority}


def _max_priority_fee(w3: Web3) -> int:
    try:
        return int(w3.eth.max_priority_fee)
    except (Web3Exception, ValueError):
        return 1_000_000_000  # 1 gwei, for nodes without eth_maxPriorityFeePerGas


def broadcast(w3: Web3, signer: Signer, tx: dict[str, Any], *, on_sent: OnSent | None = None) -> HexBytes:
    """Send a complete transaction (gas and fees filled in) from ``signer``; returns its hash.

    A :class:`~civicdao.accounts.KeySigner` signs here (the nonce and chain id are filled in) and
    ``on_sent`` hears the hash before the broadcast; a :class:`~civicdao.accounts.NodeSigner` sends through
    the node's ``eth_sendTransaction`` and ``on_sent`` hears the hash right after.

    Raises:
        SigningError: ``signer`` is neither (an object with only an ``address`` is not sent through the node).
        ContractRevert, TransactionError, NetworkError: the node refused the transaction.
    """
    if isinstance(signer, NodeSigner):
        tx_hash = _refused_as_error(w3, lambda: w3.eth.send_transaction(tx))  # type: ignore[arg-type]
        if on_sent is not None:
            on_sent(tx_hash.to_0x_hex())
        return tx_hash
    if not isinstance(signer, KeySigner):
        raise SigningError(
            f"{type(signer).__name__} cannot sign a transaction: give a key signer (an eth-account "
            "LocalAccount, or an object with sign_transaction and sign_typed_data), or NodeSigner(address) "
            "to send through the node's unlocked account"
        )
    raw = _refused_as_error(w3, lambda: sign_locally(w3, signer, tx))
    if on_sent is not None:
        on_sent(Web3.keccak(raw).to_0x_hex())  # recorded before it can be mined
    return _refused_as_error(w3, lambda: w3.eth.send_raw_transaction(raw))


def sign_locally(w3: Web3, signer: KeySigner, tx: dict[str, Any]) -> bytes:
    """Fill in the nonce and chain id, then sign ``tx`` with a local key; returns the raw transaction."""
    tx["nonce"] = w3.eth.get_transaction_count(signer.address, "pending")
    tx["chainId"] = w3.eth.chain_id
    return sign_raw_transaction(signer, tx)


def _refused_as_error(
    w3: Web3, step: Callable[[], _T], *, refusal: str = "the node refused the transaction"
) -> _T:
    """Run one node request; a refusal becomes a named revert, a TransactionError or a NetworkError."""
    try:
        return step()
    except (Web3Exception, ValueError, OSError) as exc:
        named = _named_error(w3, exc) or TransactionError(f"{refusal}: {_node_message(exc)}")
        raise named from None


def _named_error(w3: Web3, exc: BaseException, *, address: str | None = None) -> CivicDAOError | None:
    """The node failure or the decoded revert that ``exc`` stands for; None when it is neither."""
    return node_failure(exc, url=rpc_url(w3), address=address) or revert_from_exception(exc)


def _revert_after_mining(w3: Web3, tx: dict[str, Any], block: int) -> ContractRevert:
    replay = {key: tx[key] for key in ("from", "to", "data", "value", "gas") if key in tx}
    try:
        w3.eth.call(replay, block_identifier=block - 1)  # type: ignore[arg-type]
    except (Web3Exception, ValueError) as exc:
        revert = revert_from_exception(exc)
        if revert is not None:
            return revert
    return UnknownRevert("0x", message="the transaction reverted once mined (out of gas, or state changed)")


def _node_message(exc: BaseException) -> str:
    if exc.args and isinstance(exc.args[0], dict):
        return str(exc.args[0].get("message", exc))
    return str(exc)
