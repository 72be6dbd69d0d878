"""``listings book|cancel|settle|withdraw|withdraw-deposit|flush-fees``: the commons exchange, written through
:class:`Exchange`."""

from __future__ import annotations

import click

from civicdao.cli_options import amount_of, eth, when
from civicdao.commands._common import Opened, parse_time, print_result, tx_json, write_command
from civicdao.exchange import Exchange
from civicdao.tokens import ETH

__all__ = ["COMMANDS"]


@click.command("book")
@write_command
@click.argument("listing_id", type=click.IntRange(0))
@click.option("--units", required=True, type=click.IntRange(1), help="How many hours, days or items.")
@click.option(
    "--start", help="First slot: unix time or ISO date/time in UTC (not for items), e.g. 2026-12-01."
)
def book(opened: Opened, *, as_json: bool, listing_id: int, units: int, start: str | None) -> None:
    """Book LISTING_ID: the price and deposit are escrowed by the exchange until settlement."""
    begin = parse_time(start, what="--start") if start else None
    done = Exchange.from_suite(opened.suite).book(opened.signer, listing_id, units=units, start=begin)
    print_result(
        as_json,
        {
            "bookingId": str(done.booking_id),
            "listingId": str(done.listing_id),
            "renter": done.renter,
            "start": done.start,
            "end": done.end,
            "units": done.units,
            "price": str(done.price),
            "deposit": str(done.deposit),
            "fee": str(done.fee),
            **tx_json(done.tx),
        },
        f"booking {done.booking_id} of listing {done.listing_id}: {when(done.start)} → {when(done.end)}, "
        f"{eth(done.price)} + {eth(done.deposit)} deposit escrowed (tx {done.tx.tx_hash})",
    )


@click.command("cancel")
@write_command
@click.argument("booking_id", type=click.IntRange(0))
def cancel(opened: Opened, *, as_json: bool, booking_id: int) -> None:
    """Cancel a booking, as its renter (refund by the listing's policy) or its lister (full refund)."""
    done = Exchange.from_suite(opened.suite).cancel(opened.signer, booking_id)
    print_result(
        as_json,
        {
            "bookingId": str(done.booking_id),
            "by": done.by,
            "refundToRenter": str(done.refund_to_renter),
            "toLister": str(done.to_lister),
            "fee": str(done.fee),
            **tx_json(done.tx),
        },
        f"booking {booking_id} cancelled: {eth(done.refund_to_renter)} back to the renter, "
        f"{eth(done.to_lister)} to the lister; withdraw to collect (tx {done.tx.tx_hash})",
    )


@click.command("settle")
@write_command
@click.argument("booking_id", type=click.IntRange(0))
def settle(opened: Opened, *, as_json: bool, booking_id: int) -> None:
    """Settle what a booking owes now (anyone may): after the end the lister is credited the price (less
    the fee, kept for `flush-fees`); after the claim window the renter may take the deposit
    (`withdraw-deposit`)."""
    done = Exchange.from_suite(opened.suite).settle(opened.signer, booking_id)
    print_result(
        as_json,
        {
            "bookingId": str(done.booking_id),
            "priceSettled": done.price_settled,
            "toLister": str(done.to_lister),
            "fee": str(done.fee),
            "feeDeferred": done.fee_deferred,
            "depositReleased": done.deposit_released,
            "depositToRenter": str(done.deposit_to_renter),
            "depositToLister": str(done.deposit_to_lister),
            **tx_json(done.tx),
        },
        f"booking {booking_id} settled: {eth(done.to_lister)} to the lister, {eth(done.fee)} fee kept for "
        f"the treasury (flush-fees), {eth(done.deposit_to_renter)} deposit back (withdraw-deposit) "
        f"(tx {done.tx.tx_hash})",
    )


@click.command("withdraw")
@write_command
@click.option("--token", default=ETH, show_default=True, help="Token address (the zero address is ETH).")
@click.option("--to", "recipient", help="Send to this address instead of the signer.")
def withdraw(opened: Opened, *, as_json: bool, token: str, recipient: str | None) -> None:
    """Withdraw everything the exchange credits the signer (refunds, claim payouts, earnings)."""
    done = Exchange.from_suite(opened.suite).withdraw(opened.signer, token, to=recipient)
    print_result(
        as_json,
        {
            "account": done.account,
            "token": done.token,
            "to": done.to,
            "amount": str(done.amount),
            **tx_json(done.tx),
        },
        f"{done.account} withdrew {amount_of(done.token, done.amount)} to {done.to} (tx {done.tx.tx_hash})",
    )


@click.command("withdraw-deposit")
@write_command
@click.argument("booking_id", type=click.IntRange(0))
def withdraw_deposit(opened: Opened, *, as_json: bool, booking_id: int) -> None:
    """As the renter, pull the deposit that settle returned into BOOKING_ID."""
    done = Exchange.from_suite(opened.suite).withdraw_deposit(opened.signer, booking_id)
    print_result(
        as_json,
        {
            "bookingId": str(booking_id),
            "to": done.to,
            "token": done.token,
            "amount": str(done.amount),
            **tx_json(done.tx),
        },
        f"deposit of booking {booking_id}: {amount_of(done.token, done.amount)} "
        f"to {done.to} (tx {done.tx.tx_hash})",
    )


@click.command("flush-fees")
@write_command
@click.option("--token", default=ETH, show_default=True, help="Token address (the zero address is ETH).")
@click.option("--kind", required=True, help="Listing kind: room_house, space, tool, skill or nature.")
def flush_fees(opened: Opened, *, as_json: bool, token: str, kind: str) -> None:
    """Deliver the fees the exchange kept for KIND to the treasury, in one payment (anyone may)."""
    done = Exchange.from_suite(opened.suite).flush_fees(opened.signer, token, kind)
    print_result(
        as_json,
        {"token": done.token, "kind": done.kind.name.lower(), "amount": str(done.amount), **tx_json(done.tx)},
        f"{amount_of(done.token, done.amount)} of {done.kind.name.lower()} fees "
        f"to the treasury (tx {done.tx.tx_hash})",
    )


COMMANDS: tuple[click.Command, ...] = (book, cancel, settle, withdraw, withdraw_deposit, flush_fees)
