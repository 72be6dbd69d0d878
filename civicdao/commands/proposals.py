"""``proposals propose|vote|queue|execute``: the governor's lifecycle, written through :class:`Governance`.

Actions come from a TOML file, one ``[[action]]`` table each::

    description = "# Free tool lending\\n\\nWhy: ..."   # optional; --description wins

    [[action]]
    target = "exchange.settings"        # a manifest key (registry, treasury, …), exchange.settings or 0x…
    signature = "setFeeBps(uint8,uint16)"
    args = [2, 0]                       # numbers, "0x…" bytes, addresses, strings, booleans, lists
    value = "0"                         # wei sent with the call (optional)

``proposals show ID`` decodes them back from the index.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import click
from eth_abi.abi import encode
from eth_abi.exceptions import EncodingError
from eth_utils.address import is_address, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from civicdao.artifacts import abi_signature
from civicdao.commands._common import Opened, print_result, tx_json, write_command
from civicdao.contracts import bind
from civicdao.deploy import SUITE_CONTRACTS, Suite
from civicdao.errors import ConfigError
from civicdao.governance import Action, Governance, VoteType
from civicdao.tx import call

__all__ = ["COMMANDS", "load_actions"]

#: The action target naming the exchange's settings contract (not in the manifest: the exchange creates it).
SETTINGS_TARGET = "exchange.settings"


def load_actions(path: str | Path, suite: Suite) -> tuple[list[Action], str | None]:
    """The actions (and optional description) of a proposal TOML file, encoded for ``suite``.

    Raises:
        ConfigError: naming the action (by its number) and what is wrong with it.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the actions file {path}: {exc}") from None
    tables = data.get("action")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{path} has no [[action]] table: add one per call the Timelock should make")
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        raise ConfigError(f"{path}: description must be a string")
    actions = [_action(suite, number, table, path) for number, table in enumerate(tables, start=1)]
    return actions, description


def _action(suite: Suite, number: int, table: Any, path: str | Path) -> Action:
    where = f"{path}, action {number}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table with target, signature, args, value")
    unknown = set(table) - {"target", "signature", "args", "value"}
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}; use target, signature, args, value")
    target = str(table.get("target", ""))
    targets = _targets(suite)
    if target in targets:
        address = to_checksum_address(targets[target].address)
    elif is_address(target):
        address = to_checksum_address(target)
    else:
        raise ConfigError(
            f"{where}: target {target!r} is neither a manifest key "
            f"({', '.join([*SUITE_CONTRACTS, SETTINGS_TARGET])}) nor an address"
        )
    value = _value(table.get("value", 0), where)
    signature = str(table.get("signature", "")).replace(" ", "")
    args = table.get("args", [])
    if not isinstance(args, list):
        raise ConfigError(f"{where}: args must be a list")
    if not signature:
        if args:
            raise ConfigError(f"{where}: args without a signature")
        return Action(address, value, b"", f"send {value} wei to {address}")
    name, types = _parse_signature(signature, where)
    _check_known_function(suite, address, signature, where)
    if len(types) != len(args):
        raise ConfigError(f"{where}: {signature} takes {len(types)} argument(s), args has {len(args)}")
    converted = [_convert(t, a, where) for t, a in zip(types, args, strict=True)]
    try:
        calldata = Web3.keccak(text=signature)[:4] + encode(types, converted)
    except (EncodingError, TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(f"{where}: the args do not fit {signature}: {exc}") from None
    return Action(address, value, calldata, f"{name}{tuple(args)}")


def _check_known_function(suite: Suite, address: str, signature: str, where: str) -> None:
    """A call to one of the suite's contracts must name one of its functions (else it would fail only at
    execution, after the whole vote)."""
    for key, contract in _targets(suite).items():
        if contract.address != address:
            continue
        known = {abi_signature(entry) for entry in contract.abi if entry.get("type") == "function"}
        if signature not in known:
            close = sorted(k for k in known if k.split("(")[0] == signature.split("(")[0])
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"{where}: the {key} has no function {signature}{hint}")


def _targets(suite: Suite) -> dict[str, Contract]:
    """The contracts an action may name: the manifest's, and the exchange's settings contract (the DAO's
    exchange setters live there)."""
    targets: dict[str, Contract] = {key: getattr(suite, key) for key in SUITE_CONTRACTS}
    targets[SETTINGS_TARGET] = bind(suite.w3, "ExchangeSettings", call(suite.exchange.functions.settings()))
    return targets


def _value(raw: Any, where: str) -> int:
    try:
        value = int(raw, 0) if isinstance(raw, str) else int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: value must be a whole number of wei, got {raw!r}") from None
    if value < 0 or isinstance(raw, bool | float):
        raise ConfigError(f"{where}: value must be a whole number of wei, 0 or more, got {raw!r}")
    return value


def _parse_signature(signature: str, where: str) -> tuple[str, list[str]]:
    if "(" not in signature or not signature.endswith(")"):
        raise ConfigError(f"{where}: signature must look like setFeeBps(uint8,uint16), got {signature!r}")
    name, _, inner = signature.partition("(")
    return name, _split_types(inner[:-1])


def _split_types(text: str) -> list[str]:
    """``uint8,(address,uint256)[],bytes`` → its top-level types."""
    types: list[str] = []
    depth, current = 0, ""
    for char in text:
        if char == "," and depth == 0:
            types.append(current)
            current = ""
            continue
        depth += (char == "(") - (char == ")")
        current += char
    if current:
        types.append(current)
    return types


def _convert(abi_type: str, value: Any, where: str) -> Any:
    """TOML values to what eth_abi encodes: hex strings to bytes, numeric strings to ints."""
    if abi_type.endswith("]"):
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {abi_type} needs a list, got {value!r}")
        inner = abi_type[: abi_type.rindex("[")]
        return [_convert(inner, v, where) for v in value]
    if abi_type.startswith("("):
        if not isinstance(value, list):
            raise ConfigError(f"{where}: the tuple {abi_type} needs a list, got {value!r}")
        return tuple(_convert(t, v, where) for t, v in zip(_split_types(abi_type[1:-1]), value, strict=False))
    if abi_type.startswith(("uint", "int")) and isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not a number for {abi_type}") from None
    if abi_type.startswith("bytes") and isinstance(value, str):
        try:
            return bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not hex for {abi_type}") from None
    if abi_type == "address" and isinstance(value, str):
        if not is_address(value):
            raise ConfigError(f"{where}: {value!r} is not an address")
        return to_checksum_address(value)
    return value


@click.command("propose")
@write_command
@click.option(
    "--actions",
    "actions_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="TOML file of [[action]] tables (target, signature, args, value).",
)
@click.option("--description", help="The proposal's text (first line is its title) [the file's description].")
def propose(opened: Opened, *, as_json: bool, actions_file: str, description: str | None) -> None:
    """Create a proposal from a TOML file of actions (the signer needs the proposal threshold's votes)."""
    actions, from_file = load_actions(actions_file, opened.suite)
    text = description or from_file
    if not text:
        raise ConfigError("a proposal needs a description: pass --description or set it in the actions file")
    governance = Governance.from_suite(opened.suite)
    # The grantees' code is pinned, but code that can change after the vote (SELFDESTRUCT, DELEGATECALL, a
    # proxy) deserves the voters' attention: say so before the proposal goes out.
    warnings = [report.warning() for report in governance.grantee_warnings(actions)]
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    proposed = governance.propose(opened.signer, actions, text)
    proposal_id, record = proposed.proposal_id, proposed.tx
    print_result(
        as_json,
        {"proposalId": str(proposal_id), "actions": len(actions), "warnings": warnings, **tx_json(record)},
        f"proposal {proposal_id} created with {len(actions)} action(s) (tx {record.tx_hash})",
    )


@click.command("vote")
@write_command
@click.argument("proposal_id")
@click.argument("support", type=click.Choice(["for", "against", "abstain"]))
@click.option("--reason", default="", help="Why (public, kept in the vote's event).")
def vote(opened: Opened, *, as_json: bool, proposal_id: str, support: str, reason: str) -> None:
    """Vote on PROPOSAL_ID: for, against or abstain."""
    pid = _proposal_id(proposal_id)
    record = (
        Governance.from_suite(opened.suite)
        .vote(opened.signer, pid, VoteType[support.upper()], reason=reason)
        .tx
    )
    print_result(
        as_json,
        {"proposalId": str(pid), "support": support, "reason": reason, **tx_json(record)},
        f"{record.sender} voted {support} on proposal {pid} (tx {record.tx_hash})",
    )


@click.command("queue")
@write_command
@click.argument("proposal_id")
def queue(opened: Opened, *, as_json: bool, proposal_id: str) -> None:
    """Queue a succeeded proposal in the Timelock (anyone may)."""
    _lifecycle(opened, as_json, proposal_id, "queue")


@click.command("execute")
@write_command
@click.argument("proposal_id")
def execute(opened: Opened, *, as_json: bool, proposal_id: str) -> None:
    """Execute a queued proposal once its Timelock delay has passed (anyone may)."""
    _lifecycle(opened, as_json, proposal_id, "execute")


def _lifecycle(opened: Opened, as_json: bool, proposal_id: str, step: str) -> None:
    pid = _proposal_id(proposal_id)
    governance = Governance.from_suite(opened.suite)
    record = (
        governance.queue(opened.signer, pid) if step == "queue" else governance.execute(opened.signer, pid)
    ).tx
    state = governance.state(pid).name.lower()
    print_result(
        as_json,
        {"proposalId": str(pid), "state": state, **tx_json(record)},
        f"proposal {pid} {step}d: now {state} (tx {record.tx_hash})",
    )


def _proposal_id(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise ConfigError(f"a proposal id is a number, got {text!r}") from None
    if not 0 <= value < 2**256:
        raise ConfigError(f"a proposal id is between 0 and 2**256-1, got {text!r}")
    return value


COMMANDS: tuple[click.Command, ...] = (propose, vote, queue, execute)
