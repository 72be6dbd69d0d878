"""What every write command shares: its options, opening the suite and the signer, and printing results."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from civicdao.accounts import Signer
from civicdao.cli_options import (
    WEI_PER_ETH,
    Node,
    SignerChoice,
    connection_options,
    json_option,
    manifest_option,
    print_json,
    signer_options,
    stdout,
)
from civicdao.deploy import Suite
from civicdao.errors import ConfigError
from civicdao.tx import TxRecord

__all__ = ["Opened", "parse_eth", "parse_time", "print_result", "tx_json", "write_command"]


@dataclass(frozen=True)
class Opened:
    """The suite on its chain and who signs."""

    suite: Suite
    signer: Signer


def write_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the connection, signer, --manifest and --json options; call ``fn(opened, as_json=…, **own)``."""

    @functools.wraps(fn)
    def wrapper(*, node: Node, signer: SignerChoice, manifest: str | None, **kwargs: Any) -> Any:
        suite = node.suite(manifest)
        return fn(Opened(suite, signer.load(suite.w3)), **kwargs)

    return connection_options(signer_options(manifest_option()(json_option(wrapper))))


def tx_json(record: TxRecord) -> dict[str, Any]:
    """A transaction as JSON: the full hash, block, gas and sender."""
    return {
        "txHash": record.tx_hash,
        "block": record.block_number,
        "gasUsed": record.gas_used,
        "sender": record.sender,
    }


def print_result(as_json: bool, data: dict[str, Any], line: str) -> None:
    """JSON for machines (ids as full decimal strings when they may exceed 2**53), or one readable line."""
    if as_json:
        print_json(data)
    else:
        stdout.print(line)


def parse_eth(text: str, *, what: str) -> int:
    """``"0.5"`` (ETH) → wei; refuses negatives and more than 18 decimals."""
    try:
        amount = Decimal(text.strip().removesuffix("ETH").removesuffix("eth").strip())
    except InvalidOperation:
        raise ConfigError(f"{what} must be an amount of ETH such as 0.5, got {text!r}") from None
    wei = amount * WEI_PER_ETH
    if amount < 0 or wei != wei.to_integral_value():
        raise ConfigError(f"{what} must be 0 or more ETH with at most 18 decimals, got {text!r}")
    return int(wei)


def parse_time(text: str, *, what: str) -> int:
    """A unix time, or an ISO date/time (UTC unless it names a zone), e.g. ``2026-12-01T14:00``."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{what} must be a unix time or an ISO date such as 2026-12-01T14:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
