"""The one whole-number check: ints in bounds pass, bools and out-of-range values raise the caller's error."""

from __future__ import annotations

import pytest

from civicdao._validate import UINT64_MAX, whole_number
from civicdao.errors import ConfigError, InvalidAmountError


def test_whole_number_returns_values_in_bounds() -> None:
    assert whole_number(0, "n") == 0
    assert whole_number(UINT64_MAX, "n", maximum=UINT64_MAX) == UINT64_MAX


@pytest.mark.parametrize("value", [True, 1.0, "1", None])
def test_whole_number_refuses_non_integers(value: object) -> None:
    with pytest.raises(ConfigError, match="units must be a whole number, got"):
        whole_number(value, "units")


def test_whole_number_names_the_bounds_and_raises_the_callers_error() -> None:
    with pytest.raises(
        InvalidAmountError, match=r"start must be between 0 and 2\*\*64-1, got 18446744073709551616"
    ):
        whole_number(UINT64_MAX + 1, "start", maximum=UINT64_MAX, error=InvalidAmountError)
    with pytest.raises(ConfigError, match="id must be between 1 and 2\\*\\*256-1, got 0"):
        whole_number(0, "id", minimum=1)
