"""The input checks behind every module's validation: whole numbers, 32-byte values, enums by name.

Each module raises its own error class (``ConfigError``, ``ExchangeInputError``, …) before anything is
sent; the rule — an ``int`` that is not a ``bool``, within bounds — is written once, here.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Any, Self

from hexbytes import HexBytes

from civicdao.errors import ConfigError

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1

_BOUND_NAMES = {UINT32_MAX: "2**32-1", UINT64_MAX: "2**64-1", UINT256_MAX: "2**256-1"}


def whole_number(
    value: Any,
    what: str,
    *,
    minimum: int = 0,
    maximum: int = UINT256_MAX,
    error: type[ConfigError] = ConfigError,
) -> int:
    """``value`` if it is a whole number (not a bool) in ``[minimum, maximum]``; else raise ``error``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{what} must be a whole number, got {value!r}")
    if not minimum <= value <= maximum:
        upper = _BOUND_NAMES.get(maximum, str(maximum))
        raise error(f"{what} must be between {minimum} and {upper}, got {value}")
    return value


def bytes32(value: Any, what: str, *, nonzero: bool = False, error: type[ConfigError] = ConfigError) -> bytes:
    """``value`` (32 bytes, or ``0x`` and 64 hex digits) as bytes; else raise ``error``.

    With ``nonzero=True`` 32 zero bytes are refused too (a hash that hashes nothing).
    """
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    elif isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            raw = bytes(HexBytes(value))
        except ValueError:
            raise error(f"{what} is not valid hex: {value[:80]!r}") from None
    else:
        raise error(f"{what} must be 32 bytes or 0x-prefixed hex, got {str(value)[:80]!r}")
    if len(raw) != 32:
        raise error(f"{what} must be 32 bytes (64 hex digits), got {len(raw)} bytes")
    if nonzero and not any(raw):
        raise error(f"{what} must not be all zeros")
    return raw


class ParsableEnum(IntEnum):
    """An enum read from user input: the member, its name (any case; ``-`` or space for ``_``) or its number.

    ``parse`` raises :meth:`_input_error` (``ConfigError`` unless a subclass says otherwise) naming the
    choices, so every enum of the library answers a typo the same way.
    """

    @classmethod
    def _input_error(cls) -> type[ConfigError]:
        return ConfigError

    @classmethod
    def parse(cls, value: Self | str | int) -> Self:
        """The member ``value`` names (itself, its name in any case, or its number)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            key = value.strip().upper().replace("-", "_").replace(" ", "_")
            if key in cls.__members__:
                return cls[key]
        elif isinstance(value, int) and not isinstance(value, bool):
            try:
                return cls(value)
            except ValueError:
                pass
        what = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()
        names = ", ".join(member.name.lower() for member in cls)
        raise cls._input_error()(f"unknown {what} {value!r}: choose one of {names}")
