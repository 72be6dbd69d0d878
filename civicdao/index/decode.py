"""Decoders built from the shipped ABIs: every event of every indexed contract, and calls in proposals.

Nothing here names an event: a contract added to the manifest, or an event added to an ABI, is decoded
and indexed as soon as its artifact ships. Arguments become JSON-ready values — addresses checksummed,
bytes as ``0x`` hex, integers as decimal strings (exact in any database), arrays and tuples as lists.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import event_abi_to_log_topic, function_abi_to_4byte_selector
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from civicdao.artifacts import abi_type, load_artifact
from civicdao.contracts import create_address
from civicdao.index.store import EventRow

__all__ = ["CallDecoder", "DecodedCall", "EventDecoder", "EventSpec", "jsonable"]

#: Checksumming hashes the address: the same few thousand addresses recur in every batch of logs.
_checksum = functools.lru_cache(maxsize=65_536)(to_checksum_address)


def as_hex(value: Any) -> str:
    """``0x`` hex of a raw RPC string or of bytes (lower case)."""
    return value.lower() if isinstance(value, str) else HexBytes(value).to_0x_hex()


def as_int(value: Any) -> int:
    """An int from a raw RPC quantity (``0x1f``) or an int."""
    return int(value, 16) if isinstance(value, str) else int(value)


def jsonable(kind: str, value: Any) -> Any:
    """A decoded ABI value as JSON: ints as strings, bytes as hex, addresses checksummed."""
    if kind.endswith("]"):
        inner = kind[: kind.rindex("[")]
        return [jsonable(inner, item) for item in value]
    if kind.startswith("("):
        parts = _split_tuple(kind[1:-1])
        return [jsonable(part, item) for part, item in zip(parts, value, strict=True)]
    if kind == "address":
        return _checksum(value)
    if kind.startswith(("uint", "int")):
        return str(int(value))
    if kind == "bool":
        return bool(value)
    if kind == "string":
        return str(value)
    return HexBytes(value).to_0x_hex()  # bytes, bytesN


def _split_tuple(body: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    if body:
        parts.append(body[start:])
    return parts


@dataclass(frozen=True)
class EventSpec:
    """How to decode one event of one contract."""

    contract: str
    name: str
    topic0: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    indexed: tuple[bool, ...]
    ref_arg: str | None

    @classmethod
    def from_abi(cls, contract: str, entry: Mapping[str, Any]) -> EventSpec:
        inputs = list(entry.get("inputs", ()))
        names = tuple(str(i["name"]) or f"arg{n}" for n, i in enumerate(inputs))
        ref = next((n for n in names if n.endswith("Id")), None)
        return cls(
            contract=contract,
            name=str(entry["name"]),
            topic0=HexBytes(event_abi_to_log_topic(dict(entry))).to_0x_hex(),  # type: ignore[arg-type]
            names=names,
            types=tuple(abi_type(i) for i in inputs),
            indexed=tuple(bool(i.get("indexed")) for i in inputs),
            ref_arg=ref,
        )

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """The arguments of a log of this event, as JSON-ready values."""
        data_types = [t for t, ix in zip(self.types, self.indexed, strict=True) if not ix]
        if all(_is_word(t) for t in data_types):  # the common case: a word each, no offsets
            if len(data) < 32 * len(data_types):
                raise ValueError(f"{self.name}: {len(data)} bytes of data for {len(data_types)} words")
            data_values = iter([_word(t, data[32 * i : 32 * i + 32]) for i, t in enumerate(data_types)])
        else:
            decoded = abi_decode(data_types, data) if data_types else ()
            data_values = iter([jsonable(t, v) for t, v in zip(data_types, decoded, strict=True)])
        topic_values = iter(topics[1:])
        args: dict[str, Any] = {}
        for name, kind, is_indexed in zip(self.names, self.types, self.indexed, strict=True):
            if not is_indexed:
                args[name] = next(data_values)
                continue
            topic = bytes(next(topic_values))
            if _is_word(kind):
                args[name] = _word(kind, topic)
            elif _is_static(kind):
                args[name] = jsonable(kind, abi_decode([kind], topic)[0])
            else:  # a dynamic indexed value is only its hash
                args[name] = HexBytes(topic).to_0x_hex()
        return args


def _is_static(kind: str) -> bool:
    return not (kind in ("string", "bytes") or kind.endswith("[]") or kind.startswith("("))


_ELEMENTARY = re.compile(r"address|bool|u?int\d*|bytes\d+")


def _is_word(kind: str) -> bool:
    """An elementary static type: one 32-byte word, read without eth_abi's machinery."""
    return bool(_ELEMENTARY.fullmatch(kind))


def _word(kind: str, word: bytes) -> Any:
    """The JSON value of one ABI word of an elementary static type (as :func:`jsonable` gives it)."""
    if kind == "address":
        return _checksum("0x" + word[12:].hex())
    if kind.startswith("uint"):
        return str(int.from_bytes(word, "big"))
    if kind.startswith("int"):
        return str(int.from_bytes(word, "big", signed=True))
    if kind == "bool":
        return word != bytes(32)
    return "0x" + word[: int(kind[5:])].hex()  # bytesN


class EventDecoder:
    """Decodes logs of the contracts at known addresses, table-driven from their artifacts' ABIs."""

    def __init__(self, contracts: Mapping[str, str]) -> None:
        """``contracts`` maps each address to the name of its artifact."""
        self.contracts: dict[str, str] = {to_checksum_address(a): name for a, name in contracts.items()}
        self.specs: dict[tuple[str, str], EventSpec] = {}
        for name in sorted(set(self.contracts.values())):
            for entry in load_artifact(name).abi:
                if entry.get("type") == "event" and not entry.get("anonymous"):
                    spec = EventSpec.from_abi(name, entry)
                    self.specs.setdefault((name, spec.topic0), spec)

    @property
    def addresses(self) -> list[str]:
        return sorted(self.contracts)

    def all_specs(self) -> list[EventSpec]:
        return sorted(self.specs.values(), key=lambda s: (s.contract, s.name))

    def decode(self, log: Mapping[str, Any]) -> EventRow | None:
        """The row of one ``eth_getLogs`` entry (raw JSON-RPC or web3-formatted), or None for a log no ABI
        explains."""
        address = _checksum(log["address"])
        contract = self.contracts.get(address)
        topics = log["topics"]
        if contract is None or not topics:
            return None
        spec = self.specs.get((contract, as_hex(topics[0])))
        if spec is None:
            return None
        args = spec.decode([bytes(HexBytes(t)) for t in topics], bytes(HexBytes(log["data"])))
        return EventRow(
            block_number=as_int(log["blockNumber"]),
            log_index=as_int(log["logIndex"]),
            tx_hash=as_hex(log["transactionHash"]),
            contract=contract,
            address=address,
            event=spec.name,
            ref=str(args[spec.ref_arg]) if spec.ref_arg else None,
            args=args,
        )


@dataclass(frozen=True)
class DecodedCall:
    """A proposal action read back: which contract and function, with named arguments."""

    contract: str | None
    function: str | None
    args: Mapping[str, Any]

    def describe(self) -> str:
        if self.function is None:
            return "(unknown call)" if self.contract is None else f"{self.contract}: (unknown call)"
        inner = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.contract}.{self.function}({inner})"


#: The contracts the exchange's constructor creates, in order (its contract nonces 1, 2, 3): proposals call
#: the settings one, so its calls are decoded by name too.
EXCHANGE_SIBLINGS = ("ExchangeClaims", "ExchangeLens", "ExchangeSettings")


class CallDecoder:
    """Decodes calldata sent to the known contracts (and the exchange's siblings), by 4-byte selector."""

    def __init__(self, contracts: Mapping[str, str]) -> None:
        self.contracts: dict[str, str] = {to_checksum_address(a): name for a, name in contracts.items()}
        for address, name in list(self.contracts.items()):
            if name == "CommonsExchange":
                for nonce, sibling in enumerate(EXCHANGE_SIBLINGS, start=1):
                    self.contracts[create_address(address, nonce)] = sibling
        self._functions: dict[tuple[str, bytes], Mapping[str, Any]] = {}
        for name in set(self.contracts.values()):
            for entry in load_artifact(name).abi:
                if entry.get("type") == "function":
                    selector = bytes(function_abi_to_4byte_selector(dict(entry)))  # type: ignore[arg-type]
                    self._functions[(name, selector)] = entry

    def decode(self, target: str, calldata: str | bytes) -> DecodedCall:
        data = bytes(HexBytes(calldata))
        contract = self.contracts.get(to_checksum_address(target))
        if contract is None or len(data) < 4:
            function = "(receive ETH)" if not data else None
            return DecodedCall(contract, function, {})
        entry = self._functions.get((contract, data[:4]))
        if entry is None:
            return DecodedCall(contract, None, {})
        inputs = list(entry.get("inputs", ()))
        types = [abi_type(i) for i in inputs]
        try:
            values = abi_decode(types, data[4:])
        except Exception:  # malformed calldata: show it as unknown rather than fail the listing
            return DecodedCall(contract, str(entry["name"]), {"calldata": data.hex()})
        args = {
            str(i["name"]) or f"arg{n}": jsonable(t, v)
            for n, (i, t, v) in enumerate(zip(inputs, types, values, strict=True))
        }
        return DecodedCall(contract, str(entry["name"]), args)


def view_specs(specs: Iterable[EventSpec]) -> list[tuple[str, str, Sequence[str]]]:
    """``(contract, event, argument names)`` for :meth:`civicdao.index.store.Store.create_views`."""
    return [(s.contract, s.name, s.names) for s in specs]
