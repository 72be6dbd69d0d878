"""Checking and encoding what callers pass to the treasury (shared by the client and the action builders).

Every input is validated before anything is sent: a bad address raises
:class:`~civicdao.errors.InvalidAddressError`, a bad amount :class:`~civicdao.errors.InvalidAmountError`,
any other bad argument :class:`~civicdao.errors.ConfigError`.
"""

from __future__ import annotations

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from civicdao.accounts import checksum
from civicdao.config import KINDS
from civicdao.errors import ConfigError, InvalidAddressError, InvalidAmountError
from civicdao.tokens import ETH
from civicdao.treasury.types import UNCAPPED


def token_of(token: str) -> ChecksumAddress:
    """A token address (``"ETH"`` or the zero address for ether)."""
    if isinstance(token, str) and token.upper() == "ETH":
        return to_checksum_address(ETH)
    return checksum(token, what="token")


def nonzero(address: str, what: str) -> ChecksumAddress:
    """A checksummed address that is not the zero address."""
    checked = checksum(address, what=what)
    if checked == ETH:
        raise InvalidAddressError(f"{what} must not be the zero address")
    return checked


def amount_of(value: int, what: str, *, allow_zero: bool = False) -> int:
    """A whole, positive (or, with ``allow_zero``, non-negative) uint256 amount."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidAmountError(f"{what} must be a whole number of wei (int), got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "more than 0"
        raise InvalidAmountError(f"{what} must be {bound}, got {value}")
    if value > UNCAPPED:
        raise InvalidAmountError(f"{what} {value} does not fit in 256 bits")
    return value


def fee_category(category: str | int) -> int:
    """A fee category's index: a listing kind's name or its index 0..4."""
    if isinstance(category, str) and category in KINDS:
        return KINDS.index(category)
    if isinstance(category, int) and not isinstance(category, bool) and 0 <= category < len(KINDS):
        return category
    raise ConfigError(f"unknown fee category {category!r}: use one of {list(KINDS)} or 0..{len(KINDS) - 1}")


def note_bytes(note: str | bytes) -> bytes:
    """A short tag (≤ 32 bytes) as the contract's ``bytes32`` note or memo."""
    raw = note.encode() if isinstance(note, str) else note
    if not isinstance(raw, bytes):
        raise ConfigError(f"a note must be text or bytes, got {type(note).__name__}")
    if len(raw) > 32:
        raise ConfigError(
            f"a note holds at most 32 bytes, got {len(raw)}: use a short tag, not personal data"
        )
    return raw.ljust(32, b"\x00")


def decode_note(raw: bytes) -> str:
    """A ``bytes32`` note as text (``0x`` hex when it is not printable UTF-8)."""
    trimmed = bytes(raw).rstrip(b"\x00")
    try:
        text = trimmed.decode()
    except UnicodeDecodeError:
        return "0x" + bytes(raw).hex()
    return text if text.isprintable() else "0x" + bytes(raw).hex()


def claimant_of(address: str) -> ChecksumAddress | None:
    """A claimant view's answer: None for the zero address (a revoked membership)."""
    checked = to_checksum_address(address)
    return None if checked == ETH else checked


def shown(amount: int, token: str) -> str:
    """An amount as an action's description shows it."""
    if token == ETH:
        return f"{amount} wei ({amount / 10**18:g} ETH)"
    return f"{amount} of token {token}"
