"""Gas ceilings: a citizen must never silently pay more for an action.

Gas is deterministic, so this is a regression test, not a timed one: every action in
``benchmarks/ceilings.json`` is measured at 10 citizens on the session chain with the same measuring
functions ``make bench`` uses, and must stay at or under its ceiling (the gas measured when the ceilings were
written, plus 2 %). After a deliberate change, refresh them with ``python -m benchmarks.gas_bench
--write-ceilings`` and commit the JSON with the change.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.gas_bench import CEILING_GROUPS, CEILING_ROWS, CEILINGS, SMALL, measure_world
from benchmarks.world import Gas, build_world
from civicdao.chain import LocalChain

CEILING_TABLE: dict[str, Any] = json.loads(CEILINGS.read_text())["ceilings"]


@pytest.fixture(scope="module")
def measured(chain: LocalChain) -> tuple[dict[str, Gas], dict[str, str]]:
    snapshot = chain.control.snapshot()
    try:
        world = build_world(chain.w3, chain.control, citizens=SMALL, anchors_too=False)
        world.trace = False
        try:
            return measure_world(world, CEILING_GROUPS)
        finally:
            world.release()
    finally:
        chain.control.revert(snapshot)


def test_ceilings_cover_every_ceiling_row() -> None:
    assert sorted(CEILING_TABLE) == sorted(CEILING_ROWS)


@pytest.mark.parametrize("action", CEILING_ROWS)
def test_gas_at_or_under_ceiling(measured: tuple[dict[str, Gas], dict[str, str]], action: str) -> None:
    rows, errors = measured
    assert not errors, f"measuring failed: {errors}"
    gas = rows[action].gas
    ceiling = CEILING_TABLE[action]["ceiling"]
    assert gas <= ceiling, (
        f"{action}: measured {gas:,} gas > ceiling {ceiling:,} "
        "(benchmarks/ceilings.json). If the increase is "
        "deliberate, refresh the ceilings: python -m benchmarks.gas_bench --write-ceilings"
    )
