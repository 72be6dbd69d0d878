"""The operator's write commands: each signs with --unlocked/--key-env, prints JSON with full ids and
transaction hashes, refuses bad input with one line and exit 1 before sending anything, and the lists read
back what it did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from civicdao.accounts import NodeSigner
from civicdao.chain import ChainControl, LocalChain
from civicdao.citizens import Citizens
from civicdao.cli import main
from civicdao.config import DAY, KINDS
from civicdao.deploy import Suite
from civicdao.exchange import CancellationPolicy, Exchange, Kind, ListingSpec, Unit
from civicdao.governance import Governance
from civicdao.treasury import Treasury


@pytest.fixture
def manifest(suite: Suite, tmp_path: Path) -> Path:
    path = tmp_path / "deployments" / "31337.json"
    path.parent.mkdir()
    path.write_text(json.dumps(suite.manifest.to_dict()))
    return path


class Cli:
    def __init__(self, chain: LocalChain, manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.base = ["--rpc-url", chain.rpc_url, "--manifest", str(manifest)]
        self.capsys = capsys

    def run(self, *args: str, signer: int | None = 0) -> tuple[int, str, str]:
        self.capsys.readouterr()
        who = ["--unlocked", str(signer)] if signer is not None else []
        code = main([*args, *self.base, *who])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str, signer: int | None = 0) -> Any:
        code, out, err = self.run(*args, "--json", signer=signer)
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(chain: LocalChain, manifest: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(chain, manifest, capsys)


def _hash(n: int) -> str:
    return Web3.keccak(text=f"salt:{n}").to_0x_hex()


def _csv(path: Path, accounts: list[NodeSigner], numbers: range, extra: str = "") -> Path:
    lines = ["address,credential_hash", *(f"{accounts[n].address},{_hash(n)}" for n in numbers)]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def test_import_is_resumable_and_refuses_bad_rows_whole(
    cli: Cli, suite: Suite, accounts: list[NodeSigner], tmp_path: Path
) -> None:
    citizens = Citizens.from_suite(suite)
    bad = _csv(
        tmp_path / "bad.csv",
        accounts,
        range(1, 3),
        "not-an-address,0x12\n" + f"{accounts[1].address},{_hash(9)}\n",
    )
    code, _, err = cli.run("citizens", "import", str(bad))
    assert code == 1
    assert err.count("\n") == 1 and "line 4" in err and "line 5" in err and "nothing was sent" in err
    assert citizens.citizen_count() == 0
    good = _csv(tmp_path / "a.csv", accounts, range(1, 3))
    code, _, err = cli.run("citizens", "import", str(good), signer=3)  # not a registrar
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"error: line 2 ({accounts[1].address}) failed after 0 new registrations")
    assert "run the same command again to continue" in err

    first = cli.json("citizens", "import", str(good))
    assert [row["address"] for row in first["registered"]] == [accounts[1].address, accounts[2].address]
    assert all(row["txHash"].startswith("0x") and len(row["txHash"]) == 66 for row in first["registered"])
    again = cli.json("citizens", "import", str(_csv(tmp_path / "b.csv", accounts, range(1, 5))))
    assert [row["line"] for row in again["skipped"]] == [2, 3]
    assert [row["address"] for row in again["registered"]] == [accounts[3].address, accounts[4].address]
    assert citizens.citizen_count() == 4

    code, out, _ = cli.run("citizens", "import", str(tmp_path / "b.csv"))
    assert code == 0 and "0 residents registered, 4 skipped" in out


def test_register_delegate_rotate_revoke(cli: Cli, suite: Suite, accounts: list[NodeSigner]) -> None:
    citizens = Citizens.from_suite(suite)
    done = cli.json("citizens", "register", accounts[5].address, "--credential-hash", _hash(5))
    assert done["citizen"] == accounts[5].address and done["membershipId"] == "1"
    cli.json("citizens", "register", accounts[6].address, "--credential-hash", _hash(6))
    delegated = cli.json("citizens", "delegate", accounts[6].address, signer=5)
    assert delegated["delegate"] == accounts[6].address
    assert citizens.votes(accounts[6].address) == 2
    rotated = cli.json("citizens", "rotate", accounts[5].address, accounts[7].address)
    assert rotated["membershipId"] == "1" and citizens.is_citizen(accounts[7].address)
    revoked = cli.json("citizens", "revoke", accounts[7].address, "--reason", "moved_away")
    assert revoked["reason"] == "moved_away" and not citizens.is_citizen(accounts[7].address)
    listed = cli.json("citizens", "list", "--revoked", signer=None)
    assert {row["holder"] for row in listed if row["active"]} == {accounts[6].address}

    code, _, err = cli.run("citizens", "register", accounts[8].address, "--credential-hash", "0x12")
    assert code == 1 and err.startswith("error: --credential-hash must be 0x + 64 hex digits")
    code, _, err = cli.run(
        "citizens", "register", accounts[8].address, "--credential-hash", _hash(8), signer=3
    )
    assert code == 1 and err.count("\n") == 1  # not a registrar: the revert, by name, on one line


def test_proposal_from_toml_through_execution(
    cli: Cli, suite: Suite, accounts: list[NodeSigner], control: ChainControl, tmp_path: Path
) -> None:
    citizens = Citizens.from_suite(suite)
    for n in (1, 2, 3):
        citizens.register(accounts[0], accounts[n].address, bytes.fromhex(_hash(n)[2:]))
    control.increase_time(1)
    actions = tmp_path / "free-tools.toml"
    tool = KINDS.index("tool")
    actions.write_text(
        'description = "# Free tool lending\\n\\nTools are for sharing."\n'
        f'[[action]]\ntarget = "exchange.settings"\nsignature = "setFeeBps(uint8, uint16)"\n'
        f"args = [{tool}, 0]\n"
    )
    made = cli.json("proposals", "propose", "--actions", str(actions), signer=1)
    pid = made["proposalId"]
    assert int(pid) > 2**53 and made["actions"] == 1  # the full id, never shortened
    governance = Governance.from_suite(suite)
    control.increase_time(governance.voting_delay() + 1)
    for n, support in ((1, "for"), (2, "for"), (3, "against")):
        voted = cli.json("proposals", "vote", pid, support, "--reason", f"resident {n}", signer=n)
        assert voted["support"] == support and len(voted["txHash"]) == 66
    control.increase_time(governance.voting_period() + 3 * DAY)
    assert cli.json("proposals", "queue", pid, signer=2)["state"] == "queued"
    control.increase_time(governance.timelock_delay() + 1)
    assert cli.json("proposals", "execute", pid, signer=2)["state"] == "executed"
    assert Exchange.from_suite(suite).fee_bps("tool") == 0

    shown = cli.json("proposals", "show", pid, signer=None)
    assert shown["actions"][0]["function"] == "setFeeBps" and shown["actions"][0]["contract"] is not None
    assert shown["for_votes"] == 2 and "Tools are for sharing." in shown["description"]

    broken = tmp_path / "broken.toml"
    broken.write_text('[[action]]\ntarget = "nowhere"\nsignature = "f()"\n')
    code, _, err = cli.run("proposals", "propose", "--actions", str(broken), "--description", "x", signer=1)
    assert code == 1 and "action 1: target 'nowhere' is neither a manifest key" in err
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(
        '[[action]]\ntarget = "exchange.settings"\nsignature = "setFeeBps(uint8,uint16)"\nargs = [1]\n'
    )
    code, _, err = cli.run("proposals", "propose", "--actions", str(wrong), "--description", "x", signer=1)
    assert code == 1 and "takes 2 argument(s), args has 1" in err
    typo = tmp_path / "typo.toml"
    typo.write_text(
        '[[action]]\ntarget = "exchange.settings"\nsignature = "setFeeBps(uint256,uint16)"\nargs = [1, 0]\n'
    )
    code, _, err = cli.run("proposals", "propose", "--actions", str(typo), "--description", "x", signer=1)
    assert code == 1 and "the exchange.settings has no function setFeeBps(uint256,uint16)" in err
    assert "did you mean setFeeBps(uint8,uint16)?" in err


def test_book_cancel_withdraw_donate_epoch_and_status(
    cli: Cli, suite: Suite, accounts: list[NodeSigner], control: ChainControl
) -> None:
    citizens = Citizens.from_suite(suite)
    for n in (1, 2):
        citizens.register(accounts[0], accounts[n].address, bytes.fromhex(_hash(n)[2:]))
    start = (control.time() // DAY + 5) * DAY
    spec = ListingSpec(
        kind=Kind.SPACE, unit=Unit.DAY, price=10**16, deposit=10**17, available_from=start,
        available_until=start + 30 * DAY, max_units=5,
        policy=CancellationPolicy(free_cancel_hours=48, late_refund_bps=5_000), metadata_uri="ipfs://hall",
    )  # fmt: skip
    listed = Exchange.from_suite(suite).list(accounts[1], spec)
    booked = cli.json(
        "listings", "book", str(listed.listing_id), "--units", "2", "--start", str(start), signer=2
    )
    assert booked["start"] == start and booked["units"] == 2 and booked["price"] == str(2 * 10**16)
    calendar = cli.json("listings", "calendar", str(listed.listing_id), signer=None)
    assert [row["booking_id"] for row in calendar] == [int(booked["bookingId"])]
    cancelled = cli.json("listings", "cancel", booked["bookingId"], signer=2)
    assert cancelled["refundToRenter"] == str(2 * 10**16)  # inside the free-cancellation window
    withdrawn = cli.json("listings", "withdraw", signer=2)
    assert withdrawn["amount"] == str(2 * 10**16 + 10**17)
    stay = cli.json(
        "listings", "book", str(listed.listing_id), "--units", "1", "--start", str(start), signer=2
    )
    ex = Exchange.from_suite(suite)
    control.increase_time(int(stay["end"]) + ex.windows().claim - control.time() + 1)
    settled = cli.json("listings", "settle", stay["bookingId"], signer=3)
    assert settled["feeDeferred"] is True and settled["depositToRenter"] == str(10**17)
    pulled = cli.json("listings", "withdraw-deposit", stay["bookingId"], signer=2)
    assert (pulled["to"], pulled["amount"]) == (accounts[2].address, str(10**17))
    flushed = cli.json("listings", "flush-fees", "--kind", "space", signer=3)
    assert flushed["kind"] == "space" and flushed["amount"] == settled["fee"] != "0"

    donated = cli.json("treasury", "donate", "--amount", "0.5", "--note", "fair", signer=3)
    assert donated["amount"] == str(5 * 10**17)
    assert Treasury.from_suite(suite).token_balance().inflow("donation") == 5 * 10**17
    epoch = cli.json("treasury", "epoch", signer=None)
    assert epoch["end"] > epoch["start"] and "remaining" in epoch
    code, _, err = cli.run("treasury", "donate", "--amount", "-1", signer=3)
    assert code == 1 and "--amount must be 0 or more ETH" in err

    status = cli.json("status", signer=None)
    assert status["deployerHoldsNoAdminRole"] is True
    held = {(r["contract"], r["role"], r["holder"]) for r in status["roles"]}
    assert ("timelock", "PROPOSER_ROLE", suite.governor.address) in held
    assert ("treasury", "GOVERNOR_ROLE", suite.timelock.address) in held
    assert all(s["underEip170"] and s["bytes"] > 0 for s in status["sizes"])
    assert status["guardians"] and status["guardians"][0]["contract"] == "governor"
    assert status["membershipHook"] == suite.exchange.address and status["creditsFollowRotations"] is True
    code, out, _ = cli.run("status", signer=None)
    assert code == 0 and "holds no admin role" in out
    assert "credits follow rotations" in out


def test_propose_warns_when_a_grantee_holds_code_that_can_change(
    cli: Cli, suite: Suite, accounts: list[NodeSigner], control: ChainControl, tmp_path: Path
) -> None:
    """Issue 9, defect 2: the grantee's code is pinned, but code that can still change after the vote
    (here SELFDESTRUCT) is named to the proposer before the proposal goes out."""
    Citizens.from_suite(suite).register(accounts[0], accounts[1].address, bytes.fromhex(_hash(1)[2:]))
    control.increase_time(1)
    sink = Web3.to_checksum_address("0x" + "5e" * 20)
    control.set_code(sink, "0x6000ff")  # PUSH1 0, SELFDESTRUCT
    actions = tmp_path / "sink.toml"
    actions.write_text(
        'description = "# A new fee sink"\n'
        f'[[action]]\ntarget = "exchange.settings"\nsignature = "setFeeSink(address)"\nargs = ["{sink}"]\n'
    )
    code, out, err = cli.run("proposals", "propose", "--actions", str(actions), "--json", signer=1)
    assert code == 0, err
    made = json.loads(out)
    [warning] = made["warnings"]
    assert sink in warning and "SELFDESTRUCT" in warning
    assert err.startswith(f"warning: {sink} holds code that can change after the vote")
