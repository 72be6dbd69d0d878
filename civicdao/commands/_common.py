"""What every write command shares: its options, opening the suite and the signer, and printing results."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from civicdao.accounts import Signer
from civicdao.cli import connection_options, json_option, load_signer, open_web3, signer_options, stdout
from civicdao.deploy import Suite, load_suite
from civicdao.errors import ConfigError
from civicdao.tx import TxRecord

__all__ = ["Opened", "parse_eth", "parse_time", "print_result", "tx_json", "write_command"]

WEI_PER_ETH = 10**18


@dataclass(frozen=True)
class Opened:
    """The suite on its chain and who signs."""

    suite: Suite
    signer: Signer


def manifest_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--manifest",
        type=click.Path(dir_okay=False),
        help="The suite's manifest [deployments/<chain id>.json].",
    )(fn)


def open_suite(network: str | None, rpc_url: str | None, chain_id: int | None, manifest: str | None) -> Suite:
    """Connect to the node and bind the suite of the manifest (default ``deployments/<chain id>.json``)."""
    w3 = open_web3(network, rpc_url, chain_id)
    path = Path(manifest or f"deployments/{w3.eth.chain_id}.json")
    if not path.exists():
        raise ConfigError(f"no manifest at {path}: deploy first (`civicdao deploy`) or pass --manifest")
    return load_suite(w3, path)


def write_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the connection, signer, --manifest and --json options; call ``fn(opened, as_json=…, **own)``."""

    @functools.wraps(fn)
    def wrapper(
        network: str | None,
        rpc_url: str | None,
        chain_id: int | None,
        key_env: str,
        keystore: str | None,
        password_env: str,
        unlocked_index: int | None,
        manifest: str | None,
        as_json: bool,
        **kwargs: Any,
    ) -> Any:
        suite = open_suite(network, rpc_url, chain_id, manifest)
        signer = load_signer(suite.w3, key_env, keystore, password_env, unlocked_index)
        return fn(Opened(suite, signer), as_json=as_json, **kwargs)

    return connection_options(signer_options(manifest_option(json_option(wrapper))))


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
        click.echo(json.dumps(data, indent=2, default=str))
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


def when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC") if timestamp else "-"


def eth(wei: int) -> str:
    return f"{Decimal(wei) / WEI_PER_ETH:f}".rstrip("0").rstrip(".") + " ETH" if wei else "0 ETH"
