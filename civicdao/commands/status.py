"""``civicdao status``: who holds which role, the guardians and their expiries, the caps, the contract sizes,
whether the registry tells the exchange of rotations, and whether the deployer let go of every admin role
(as a deployment must)."""

from __future__ import annotations

from typing import Any

import click
from eth_utils.address import to_checksum_address

from civicdao.citizens import Citizens
from civicdao.cli_options import emit, eth, print_json, stdout, when
from civicdao.config import KINDS
from civicdao.contracts import bind
from civicdao.deploy import SUITE_CONTRACTS, load_suite
from civicdao.index.cli import Opened, with_index
from civicdao.tokens import ETH, ZERO_ADDRESS
from civicdao.tx import call

__all__ = ["EIP170_LIMIT", "status_command"]

#: EIP-170: the most bytes of deployed code a contract may have.
EIP170_LIMIT = 24_576
#: Roles that administer or spend: the deployer must hold none of them after the hand-over.
ADMIN_ROLES = ("DEFAULT_ADMIN_ROLE", "GOVERNOR_ROLE", "PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE")


@click.command("status")
@with_index()
def status_command(opened: Opened, *, as_json: bool) -> None:
    """The deployment's health: roles and holders, guardians and expiries, caps, sizes, whether the registry's
    membership hook is the exchange (credits follow rotations), the deployer's roles.

    Role holders are found from the index's RoleGranted events and confirmed on the chain now.
    """
    if opened.w3 is None:
        raise click.UsageError("status reads the chain: drop --no-sync and give --rpc-url or --network")
    suite = load_suite(opened.w3, opened.manifest)
    roles = _roles(opened, suite)
    deployer = to_checksum_address(suite.manifest.deployer)
    deployer_admin = [r for r in roles if r["holder"] == deployer and r["role"] in ADMIN_ROLES]
    now = int(opened.w3.eth.get_block("latest")["timestamp"])
    guardians = _guardians(suite, roles, now)
    caps = _caps(suite)
    sizes: list[dict[str, Any]] = [
        {"contract": key, "address": address, "bytes": len(opened.w3.eth.get_code(address))}
        for key, address in suite.addresses().items()
    ]
    hook = Citizens.from_suite(suite).membership_hook() or ZERO_ADDRESS
    data = {
        "chainId": suite.chain_id,
        "deployer": deployer,
        "deployerHoldsNoAdminRole": not deployer_admin,
        "membershipHook": hook,
        "creditsFollowRotations": hook == to_checksum_address(suite.exchange.address),
        "roles": roles,
        "guardians": guardians,
        "caps": caps,
        "sizes": [{**s, "underEip170": s["bytes"] <= EIP170_LIMIT} for s in sizes],
    }
    if as_json:
        print_json(data)
        return
    emit(roles, as_json=False, title="Roles (held now)", columns=["contract", "role", "holder"])
    emit(
        [
            {
                **g,
                "expiry": when(g["expiry"]) if g["expiry"] else "never",
                "expired": "yes" if g["expired"] else "no",
            }
            for g in guardians
        ],
        as_json=False,
        title="Guardians",
        columns=["contract", "guardian", "expiry", "expired"],
    )
    emit(caps, as_json=False, title="Caps", columns=["setting", "value"])
    emit(
        [{**s, "of_limit": f"{s['bytes'] / EIP170_LIMIT:.1%}"} for s in sizes],
        as_json=False,
        title=f"Contract sizes (EIP-170 limit {EIP170_LIMIT:,} bytes)",
        columns=["contract", "address", "bytes", "of_limit"],
    )
    if data["creditsFollowRotations"]:
        stdout.print("[green]credits follow rotations: the membership hook is the exchange[/green]")
    else:
        stdout.print(
            f"[red]the registry's membership hook is {hook}, not the exchange: a rotated-away key keeps its "
            "exchange credits (the DAO sets it with citizens.membership_hook_action)[/red]"
        )
    if deployer_admin:
        held = ", ".join(f"{r['contract']}.{r['role']}" for r in deployer_admin)
        stdout.print(f"[red]the deployer {deployer} still holds admin roles: {held}[/red]")
    else:
        stdout.print(f"[green]the deployer {deployer} holds no admin role[/green]")


def _roles(opened: Opened, suite: Any) -> list[dict[str, Any]]:
    """Every (contract, role, holder) true now, from the index's RoleGranted candidates."""
    granted = opened.reader.events(None, ["RoleGranted"])
    rows: list[dict[str, Any]] = []
    for key in SUITE_CONTRACTS:
        contract = getattr(suite, key)
        names = _role_names(contract)
        if not names:
            continue
        address = to_checksum_address(contract.address)
        candidates = sorted(
            {
                (str(e.args["role"]).lower(), to_checksum_address(str(e.args["account"])))
                for e in granted
                if to_checksum_address(e.address) == address
            }
        )
        for role_id, holder in candidates:
            name = names.get(role_id, role_id)
            if call(contract.functions.hasRole(bytes.fromhex(role_id.removeprefix("0x")), holder)):
                rows.append({"contract": key, "role": name, "holder": holder})
    return rows


def _role_names(contract: Any) -> dict[str, str]:
    """Role id (0x hex) → name, from the contract's ``*_ROLE`` constants."""
    names: dict[str, str] = {}
    for entry in contract.abi:
        name = entry.get("name", "")
        if entry.get("type") == "function" and name.endswith("_ROLE") and not entry.get("inputs"):
            names["0x" + bytes(call(getattr(contract.functions, name)())).hex()] = name
    return names


def _guardians(suite: Any, roles: list[dict[str, Any]], now: int) -> list[dict[str, Any]]:
    governor_guardian = str(call(suite.governor.functions.proposalGuardian()))
    governor_expiry = int(call(suite.governor.functions.proposalGuardianExpiry()))
    settings = bind(suite.w3, "ExchangeSettings", call(suite.exchange.functions.settings()))
    exchange_expiry = int(call(settings.functions.guardianExpiry()))
    rows = []
    if int(governor_guardian, 16) != 0:
        rows.append(
            {
                "contract": "governor",
                "guardian": to_checksum_address(governor_guardian),
                "expiry": governor_expiry,
                "expired": bool(governor_expiry) and governor_expiry <= now,
            }
        )
    for role in roles:
        if role["contract"] == "exchange" and role["role"] == "GUARDIAN_ROLE":
            rows.append(
                {
                    "contract": "exchange",
                    "guardian": role["holder"],
                    "expiry": exchange_expiry,
                    "expired": bool(exchange_expiry) and exchange_expiry <= now,
                }
            )
    return rows


def _caps(suite: Any) -> list[dict[str, Any]]:
    cap, pending, pending_from = call(suite.treasury.functions.epochCap(ETH))
    uncapped = int(call(suite.treasury.functions.UNCAPPED()))
    rows: list[dict[str, Any]] = [
        {
            "setting": "treasury epoch cap (ETH)",
            "value": "uncapped" if int(cap) == uncapped else eth(int(cap)),
            "wei": str(cap),
        }
    ]
    if int(pending):
        rows.append(
            {
                "setting": f"treasury pending cap from epoch {pending_from}",
                "value": eth(int(pending)),
                "wei": str(pending),
            }
        )
    ceiling = int(call(suite.exchange.functions.housingPriceCeiling(ETH)))
    rows.append(
        {
            "setting": "housing price ceiling (ETH)",
            "value": eth(ceiling) if ceiling else "none",
            "wei": str(ceiling),
        }
    )
    rows.append(
        {
            "setting": "housing listing cap",
            "value": str(int(call(suite.exchange.functions.housingListingCap()))),
        }
    )
    for index, kind in enumerate(KINDS):
        rows.append(
            {
                "setting": f"exchange fee: {kind}",
                "value": f"{int(call(suite.exchange.functions.feeBps(index)))} bp",
            }
        )
    return rows
