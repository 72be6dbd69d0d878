"""The one whole-number check behind every module's input validation.

Each module raises its own error class (``ConfigError``, ``ExchangeInputError``, …) before anything is
sent; the rule — an ``int`` that is not a ``bool``, within bounds — is written once, here.
"""

from __future__ import annotations

from typing import Any

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
