"""How ``make bench`` judges a row against its target (pure functions, no chain)."""

from __future__ import annotations

from benchmarks.gas_bench import evaluate
from benchmarks.world import Gas


def test_an_eth_row_is_held_to_the_issue_number() -> None:
    assert evaluate("book/ETH", {"book/ETH": Gas(129_000, "0x")}, {})["met"] is True
    assert evaluate("book/ETH", {"book/ETH": Gas(131_000, "0x")}, {})["met"] is False


def test_an_erc20_row_may_add_the_tokens_own_transfer_measured_in_the_same_run() -> None:
    small = {"book/ERC-20": Gas(150_000, "0x"), "token:transfer_from": Gas(21_000, "0x")}
    row = evaluate("book/ERC-20", small, {})
    assert row["target_gas"] == 151_000
    assert row["met"] is True
    assert "token transferFrom (21,000)" in row["target"]
    small["book/ERC-20"] = Gas(152_000, "0x")
    assert evaluate("book/ERC-20", small, {})["met"] is False


def test_an_erc20_row_without_its_token_measurement_gets_no_verdict() -> None:
    row = evaluate("withdraw/ERC-20", {"withdraw/ERC-20": Gas(40_000, "0x")}, {})
    assert row["met"] is None


def test_the_large_world_is_held_to_its_own_token_measurement() -> None:
    small = {"withdraw/ERC-20": Gas(50_000, "0x"), "token:transfer": Gas(15_500, "0x")}
    large = {"withdraw/ERC-20": Gas(50_600, "0x"), "token:transfer": Gas(15_500, "0x")}
    assert evaluate("withdraw/ERC-20", small, large)["met"] is False


def test_small_batches_show_their_ratio_without_a_verdict() -> None:
    small = {"batch_10": Gas(54_000, "0x"), "stock:vote_by_sig": Gas(97_000, "0x")}
    row = evaluate("batch_10", small, {})
    assert row["met"] is None
    assert row["ratio_to_anchor"] == round(54_000 / 97_000, 3)
    assert "for batches of 100" in row["target"]


def test_the_batch_of_100_is_judged_at_10000_citizens() -> None:
    large = {"batch_100": Gas(48_000, "0x"), "stock:vote_by_sig": Gas(97_000, "0x")}
    row = evaluate("batch_100", {"stock:vote_by_sig": Gas(97_000, "0x")}, large)
    assert row["met"] is True
    assert row["ratio_to_anchor_10000"] == round(48_000 / 97_000, 3)
