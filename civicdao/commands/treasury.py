"""``treasury donate|epoch``: give to the public treasury; read its spending epoch and cap."""

from __future__ import annotations

import click

from civicdao.cli_options import Node, amount_of, connection_options, eth, json_option, manifest_option, when
from civicdao.commands._common import Opened, parse_eth, print_result, tx_json, write_command
from civicdao.tokens import ETH
from civicdao.treasury import Treasury

__all__ = ["COMMANDS"]


@click.command("donate")
@write_command
@click.option("--amount", required=True, help="ETH to give, e.g. 0.5.")
@click.option("--note", default="", help="A short public note (at most 32 bytes; no personal data).")
def donate(opened: Opened, *, as_json: bool, amount: str, note: str) -> None:
    """Donate ETH to the public treasury (counted under the donation category)."""
    wei = parse_eth(amount, what="--amount")
    done = Treasury.from_suite(opened.suite).donate(opened.signer, wei, note=note)
    print_result(
        as_json,
        {
            "donor": done.donor,
            "token": done.token,
            "amount": str(done.amount),
            "note": done.note,
            **tx_json(done.tx),
        },
        f"{done.donor} donated {eth(done.amount)} to the treasury (tx {done.tx.tx_hash})",
    )


@click.command("epoch")
@connection_options
@manifest_option()
@json_option
@click.option("--token", default=ETH, show_default=True, help="Token address (the zero address is ETH).")
def epoch(node: Node, manifest: str | None, as_json: bool, token: str) -> None:
    """The spending epoch now: its bounds, the token's cap, what was spent and what may still be."""
    suite = node.suite(manifest)
    status = Treasury.from_suite(suite).epoch_status(token)
    cap = "uncapped" if status.uncapped else amount_of(token, status.cap)
    print_result(
        as_json,
        {
            "token": status.token,
            "epoch": status.epoch,
            "length": status.length,
            "start": status.start,
            "end": status.end,
            "cap": str(status.cap),
            "uncapped": status.uncapped,
            "pendingCap": str(status.pending_cap),
            "pendingFromEpoch": status.pending_from_epoch,
            "spent": str(status.spent),
            "remaining": str(status.remaining),
            "pendingLength": status.pending_length,
        },
        f"epoch {status.epoch}: {when(status.start)} → {when(status.end)}; cap {cap}, "
        f"spent {status.spent} wei, {status.remaining} wei may still be spent",
    )


COMMANDS: tuple[click.Command, ...] = (donate, epoch)
