"""Code that can change under a pin: the warning the CLI prints for addresses a proposal hands power to.

A code-hash pin (see :meth:`civicdao.governance.Governance.pin_grantees`) proves that the address receiving
a role or custody holds, when the proposal executes, the code the citizens voted on. It cannot prove that the
code will *stay* what it is: a contract that can self-destruct (before Cancun) can be replaced at the same
address, and a contract that delegate-calls, or an upgradeable proxy, runs code that lives elsewhere. This
module reads an address's code and says which of those applies, so a proposer and the voters can see it.

Upgradeable proxies remain a limit of pinning: the pin covers the proxy's own code, not its implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_typing import ChecksumAddress
from web3 import Web3

from civicdao.accounts import checksum

__all__ = [
    "EIP1822_PROXIABLE_SLOT",
    "EIP1967_BEACON_SLOT",
    "EIP1967_IMPLEMENTATION_SLOT",
    "MutableCode",
    "code_hash",
    "mutable_code",
    "opcodes_present",
]

#: ``bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)``
EIP1967_IMPLEMENTATION_SLOT = int.from_bytes(Web3.keccak(text="eip1967.proxy.implementation")) - 1
#: ``bytes32(uint256(keccak256("eip1967.proxy.beacon")) - 1)``
EIP1967_BEACON_SLOT = int.from_bytes(Web3.keccak(text="eip1967.proxy.beacon")) - 1
#: ``keccak256("PROXIABLE")`` (EIP-1822 UUPS)
EIP1822_PROXIABLE_SLOT = int.from_bytes(Web3.keccak(text="PROXIABLE"))

SELFDESTRUCT = 0xFF
DELEGATECALL = 0xF4
CALLCODE = 0xF2
_PUSH1, _PUSH32 = 0x60, 0x7F


@dataclass(frozen=True)
class MutableCode:
    """Why the code behind ``address`` can change after a pin (no ``reasons``: it cannot, as we see it)."""

    address: ChecksumAddress
    reasons: tuple[str, ...]

    @property
    def mutable(self) -> bool:
        return bool(self.reasons)

    def warning(self) -> str:
        """One line for the CLI, e.g. ``0xAb… holds code that can change: SELFDESTRUCT opcode``."""
        if not self.reasons:
            return f"{self.address} holds code that cannot change"
        return (
            f"{self.address} holds code that can change after the vote ({'; '.join(self.reasons)}): "
            "the pin checks its code at execution only, so give it power only if you trust what it can become"
        )


def opcodes_present(code: bytes, wanted: Sequence[int]) -> set[int]:
    """Which of ``wanted`` occur in ``code`` as real opcodes (bytes inside PUSH1..PUSH32 data are skipped).

    Metadata and data appended after the code are scanned too, which can only add a false warning, never
    hide one.
    """
    targets, found = set(wanted), set()
    i, n = 0, len(code)
    while i < n:
        op = code[i]
        if op in targets:
            found.add(op)
        i += 1 + (op - _PUSH1 + 1 if _PUSH1 <= op <= _PUSH32 else 0)
    return found


def code_hash(w3: Web3, address: str, *, code: bytes | None = None) -> bytes:
    """The normalised code hash the CivicTimelock pins: keccak256 of the code, 32 zero bytes without code.

    ``code`` is ``address``'s code when the caller already read it (else it is read from the chain).
    """
    if code is None:
        code = bytes(w3.eth.get_code(checksum(address, what="address")))
    return bytes(Web3.keccak(code)) if code else b"\x00" * 32


def mutable_code(w3: Web3, address: str, *, code: bytes | None = None) -> MutableCode:
    """Read ``address``'s code and storage and report every way its code can change.

    Flags a SELFDESTRUCT opcode (the code can be removed and, for a CREATE2 address, replaced),
    DELEGATECALL or CALLCODE opcodes (the code runs other code, which can change), and a set EIP-1967
    implementation or beacon slot or EIP-1822 ``PROXIABLE`` slot (an upgradeable proxy). An address without
    code gets no warning: the pin of "no code" already refuses any code that appears there. ``code`` is
    ``address``'s code when the caller already read it (else it is read from the chain).
    """
    who = checksum(address, what="address")
    if code is None:
        code = bytes(w3.eth.get_code(who))
    reasons: list[str] = []
    if not code:
        return MutableCode(who, ())
    ops = opcodes_present(code, (SELFDESTRUCT, DELEGATECALL, CALLCODE))
    if SELFDESTRUCT in ops:
        reasons.append("SELFDESTRUCT opcode: the code can be destroyed and redeployed")
    if DELEGATECALL in ops or CALLCODE in ops:
        reasons.append("DELEGATECALL opcode: it runs code stored elsewhere")
    for slot, name in (
        (EIP1967_IMPLEMENTATION_SLOT, "EIP-1967 implementation slot"),
        (EIP1967_BEACON_SLOT, "EIP-1967 beacon slot"),
        (EIP1822_PROXIABLE_SLOT, "EIP-1822 proxiable slot"),
    ):
        if any(bytes(w3.eth.get_storage_at(who, slot))):
            reasons.append(f"{name} set: an upgradeable proxy")
    return MutableCode(who, tuple(reasons))
