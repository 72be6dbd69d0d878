"""The residents' web app (civicdao.web): its read API, the transactions it encodes, the relayer it mounts,
its security headers and the static app it ships. Browser tests are in test_web_browser.py.

The module builds a small demo-like city once (residents, a settled booking whose fee reached the treasury,
a donation, an open room listing, an open proposal) and every test starts from that state.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from budget_scenario import open_budget_round
from click.testing import CliRunner
from eth_account import Account
from governance_scenario import open_proposal
from web3 import Web3

from civicdao.accounts import LocalSigner, NodeSigner, from_private_key
from civicdao.budget import ParticipatoryBudget
from civicdao.chain import ChainControl
from civicdao.citizens import Citizens
from civicdao.config import DAY
from civicdao.deploy import Suite
from civicdao.exchange import CancellationPolicy, Exchange, Kind, ListingSpec, Unit
from civicdao.governance import Governance
from civicdao.local import pass_proposal
from civicdao.manifest import Manifest
from civicdao.relayer import Relayer, RelayerSettings, Store, create_app
from civicdao.tokens import ETH
from civicdao.toolchain import project_root
from civicdao.treasury import Treasury
from civicdao.tx import transact
from civicdao.web import WebData
from civicdao.web.app import CONTENT_SECURITY_POLICY, STATIC_DIR, create_web_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

ETHER = 10**18
HOUR = 3_600


@dataclass(frozen=True)
class World:
    """A small city: who lives there and what they did."""

    suite: Suite
    control: ChainControl
    funded: tuple[LocalSigner, ...]  # residents with ETH (book, donate)
    zero: LocalSigner  # a resident with zero ETH (votes through the relayer)
    delegator: LocalSigner  # a zero-ETH resident who will delegate, then override
    outsider: LocalSigner  # not a resident
    relayer: LocalSigner  # pays the relayer's gas
    proposal_id: int
    room_id: int
    room_start: int
    tool_booking_id: int
    grant_id: int


def fresh() -> LocalSigner:
    return from_private_key(Account.create().key)


def build_world(
    suite: Suite, control: ChainControl, deployer: NodeSigner, local_signers: list[LocalSigner]
) -> World:
    w3 = suite.w3
    funded = tuple(local_signers[1:5])
    zero, delegator, outsider = fresh(), fresh(), fresh()
    for index, person in enumerate((*funded, zero, delegator)):
        register = suite.registry.functions.register(person.address, Web3.keccak(text=f"web-{index}"))
        transact(w3, deployer, register)
    control.increase_time(1)
    exchange = Exchange.from_suite(suite)
    # a tool lent for an hour and settled: its fee reaches the treasury as a "tool" inflow
    hour = (control.time() // HOUR + 1) * HOUR
    tool = exchange.list(
        funded[0],
        ListingSpec(
            kind=Kind.TOOL, unit=Unit.HOUR, price=ETHER // 10, available_from=hour,
            available_until=hour + 48 * HOUR, max_units=4, metadata_uri="ipfs://ladder",
        ),
    )  # fmt: skip
    booking = exchange.book(funded[1], tool.listing_id, start=hour, units=1)
    control.increase_time(booking.end + exchange.windows().claim - control.time() + 1)
    exchange.settle(funded[2], booking.booking_id)
    exchange.flush_fees(funded[2], ETH, Kind.TOOL)  # the kept fee to the treasury
    treasury = Treasury.from_suite(suite)
    treasury.donate(funded[3], 2 * ETHER, note="spring-fair")
    # citizens vote a grant streaming 1 ETH over 10 days to funded[3] (the first epoch's cap is 0)
    status = treasury.epoch_status()
    if status.cap == 0:
        control.increase_time(status.end - control.time() + 1)
    grant = treasury.stream_grant_action(
        recipient=funded[3].address, amount=ETHER, start=control.time() + HOUR, cliff=0, duration=10 * DAY
    )
    governance = Governance.from_suite(suite)
    executed = pass_proposal(
        governance, control, funded[0], funded, [grant], "# Trees for Elm Street"
    ).execution
    grant_id = treasury.grant_id_of(executed).grant_id
    day = (control.time() // DAY + 1) * DAY
    room = exchange.list(
        funded[1],
        ListingSpec(
            kind=Kind.ROOM_HOUSE, unit=Unit.DAY, price=ETHER // 50, deposit=ETHER // 10,
            available_from=day, available_until=day + 30 * DAY, max_units=7,
            policy=CancellationPolicy(free_cancel_hours=48, late_refund_bps=5_000),
            metadata_uri="ipfs://spare-room-by-the-park",
        ),
    )  # fmt: skip
    text = "# Free tool lending\n\nLending tools should cost nothing.\n\nThe monthly cap rises to 1 ETH."
    proposal_id = open_proposal(suite, control, funded[0], text)
    return World(
        suite, control, funded, zero, delegator, outsider, local_signers[9],
        proposal_id, room.listing_id, day, booking.booking_id, grant_id,
    )  # fmt: skip


@pytest.fixture(scope="module")
def world(
    suite: Suite, control: ChainControl, deployer: NodeSigner, local_signers: list[LocalSigner]
) -> Iterator[World]:
    snapshot = control.snapshot()
    yield build_world(suite, control, deployer, local_signers)
    control.revert(snapshot)


@pytest.fixture
def client(world: World, tmp_path: Path) -> Iterator[TestClient]:
    relayer = Relayer(world.suite, world.relayer, Store(tmp_path / "relayer.sqlite"), RelayerSettings())
    app = create_web_app(WebData(world.suite), create_app(relayer))
    with TestClient(app) as running:
        yield running
    relayer.store.close()


# -- pages' data ---------------------------------------------------------------------------------------


def test_config_names_the_chain_and_the_contracts(client: TestClient, world: World) -> None:
    body = client.get("/api/config").json()
    assert body["chainId"] == world.suite.chain_id
    assert body["contracts"]["governor"] == world.suite.governor.address
    assert body["kinds"] == ["room_house", "space", "tool", "skill", "nature"]
    assert body["budget"] is True and body["contracts"]["budget"] == world.suite.budget.address
    assert WebData(without_budget(world.suite)).config()["budget"] is False


def test_proposals_list_and_detail_decode_the_actions(client: TestClient, world: World) -> None:
    listed = client.get("/api/proposals").json()
    assert listed[0]["id"] == str(world.proposal_id)  # newest first
    assert listed[0]["title"] == "Free tool lending"
    assert [p["state"] for p in listed[1:]] == ["executed"]  # the grant
    assert listed[0]["state"] == "active" and listed[0]["open"] is True
    detail = client.get(f"/api/proposals/{world.proposal_id}").json()
    assert "The monthly cap rises to 1 ETH." in detail["body"]
    assert "#proposer=" not in detail["description"]
    (action,) = detail["actions"]
    assert action["contract"] == "treasury"
    assert action["function"] == "setEpochCap"
    assert action["args"] == {"token": ETH, "cap": str(ETHER)}
    steps = [step["step"] for step in detail["timeline"]]
    assert steps[:3] == ["proposed", "voting_opens", "voting_closes"]
    assert detail["tally"] == {"for": 0, "against": 0, "abstain": 0}


def test_a_page_syncs_the_index_once_and_reads_it_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The proposal page (text and actions from the index, state and tally from the chain) and the lists each
    make one incremental sync and one read of the index, and never scan the chain's logs themselves."""
    data = WebData(world.suite)
    syncs: list[int] = []
    real_sync = data._indexer.sync
    monkeypatch.setattr(data._indexer, "sync", lambda: syncs.append(1) or real_sync())
    for reader in ("civicdao.logs.event_logs", "civicdao.governance.event_logs"):
        monkeypatch.setattr(reader, lambda *a, **k: pytest.fail("a page read the chain's logs itself"))
    try:
        for page in (
            lambda: data.proposal(str(world.proposal_id), account=world.funded[0].address),
            data.proposals,
            lambda: data.membership(world.funded[0].address),
            data.treasury_overview,
            data.budget,
        ):
            syncs.clear()
            page()
            assert len(syncs) == 1
    finally:
        data.close()


def test_proposal_detail_tells_an_account_whether_it_voted(client: TestClient, world: World) -> None:
    governance = Governance.from_suite(world.suite)
    voter = world.funded[1]
    before = client.get(f"/api/proposals/{world.proposal_id}", params={"account": voter.address}).json()
    assert before["you"]["hasVoted"] is False and before["you"]["votesAtSnapshot"] == 1
    governance.vote(voter, world.proposal_id, "for")
    after = client.get(f"/api/proposals/{world.proposal_id}", params={"account": voter.address}).json()
    assert after["you"]["hasVoted"] is True
    assert after["tally"]["for"] == 1


def test_unknown_proposal_is_404_and_a_bad_id_is_400(client: TestClient) -> None:
    missing = client.get("/api/proposals/12345")
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    bad = client.get("/api/proposals/abc")
    assert bad.status_code == 400 and bad.json()["error"] == "WebInputError"


def test_membership_shows_delegate_and_delegators(client: TestClient, world: World) -> None:
    citizens = Citizens.from_suite(world.suite)
    a, b, c = world.funded[:3]
    citizens.delegate(b, a.address)
    citizens.delegate(c, a.address)
    citizens.delegate(c, c.address)  # c took it back: no longer a delegator of a
    body = client.get(f"/api/membership/{a.address}").json()
    assert body["isCitizen"] is True
    assert body["delegators"] == [b.address]
    assert body["votes"] == 2
    assert client.get(f"/api/membership/{b.address}").json()["delegate"] == a.address
    outsider = client.get(f"/api/membership/{world.outsider.address}").json()
    assert outsider["isCitizen"] is False and outsider["membershipId"] == "0"
    assert outsider["isRegistrar"] is False and body["isRegistrar"] is False


def test_membership_says_who_holds_registrar_role(
    client: TestClient, world: World, local_signers: list[LocalSigner]
) -> None:
    registrar = local_signers[0]  # the pilot preset's deployer holds REGISTRAR_ROLE
    assert Citizens.from_suite(world.suite).is_registrar(registrar.address)
    assert client.get(f"/api/membership/{registrar.address}").json()["isRegistrar"] is True


def test_listings_by_kind_and_date(client: TestClient, world: World) -> None:
    rooms = client.get("/api/listings", params={"kind": "room_house"}).json()
    assert [r["listingId"] for r in rooms] == [str(world.room_id)]
    assert rooms[0]["metadataUri"] == "ipfs://spare-room-by-the-park"
    assert client.get("/api/listings", params={"kind": "skill"}).json() == []
    after_window = world.room_start + 40 * DAY
    assert client.get("/api/listings", params={"kind": "room_house", "on": after_window}).json() == []
    inside = client.get("/api/listings", params={"on": world.room_start + DAY}).json()
    assert str(world.room_id) in [r["listingId"] for r in inside]
    bad = client.get("/api/listings", params={"kind": "castle"})
    assert bad.status_code == 400 and "unknown kind" in bad.json()["detail"]


def test_book_transaction_is_encoded_and_appears_in_calendar_and_bookings(
    client: TestClient, world: World
) -> None:
    renter = world.funded[2]
    start = world.room_start + 2 * DAY
    tx = client.post(
        "/api/tx/book", json={"listingId": str(world.room_id), "start": start, "units": 2}
    ).json()
    assert tx["to"] == world.suite.exchange.address
    assert int(tx["value"], 16) == 2 * (ETHER // 50) + ETHER // 10  # price of two nights + deposit
    w3 = world.suite.w3
    sent = transact_raw(w3, renter, tx)
    assert sent["status"] == 1
    calendar = client.get(
        f"/api/listings/{world.room_id}/calendar", params={"start": world.room_start}
    ).json()
    taken = [slot["start"] for slot in calendar["slots"] if not slot["free"]]
    assert taken == [start, start + DAY]
    (booking,) = client.get(f"/api/bookings/{renter.address}").json()
    assert booking["listingId"] == str(world.room_id) and booking["status"] == "active"
    again = client.post("/api/tx/book", json={"listingId": str(world.room_id), "start": start, "units": 1})
    assert again.status_code == 400 and "not free" in again.json()["detail"]


def test_donation_transaction_reaches_the_treasury(client: TestClient, world: World) -> None:
    before = Treasury.from_suite(world.suite).token_balance().inflow("donation")
    tx = client.post("/api/tx/donate", json={"amountWei": str(ETHER // 4), "note": "bake sale"}).json()
    transact_raw(world.suite.w3, world.funded[0], tx)
    assert Treasury.from_suite(world.suite).token_balance().inflow("donation") == before + ETHER // 4
    too_long = client.post("/api/tx/donate", json={"amountWei": "1", "note": "x" * 40})
    assert too_long.status_code == 400 and "32 bytes" in too_long.json()["detail"]


def test_treasury_overview_agrees_with_the_chain(client: TestClient, world: World) -> None:
    body = client.get("/api/treasury").json()
    balance = Treasury.from_suite(world.suite).token_balance()
    assert body["balance"] == str(balance.balance)
    by_category = {row["category"]: int(row["amount"]) for row in body["inflowsByCategory"]}
    assert by_category["donation"] == 2 * ETHER
    assert by_category["tool"] == balance.inflow("tool") > 0
    assert int(body["balanceHistory"][-1]["balance"]) == balance.balance
    assert body["recentInflows"][0]["note"] == "spring-fair"
    (grant,) = body["grants"]
    assert grant["grantId"] == str(world.grant_id) and grant["amount"] == str(ETHER)
    assert grant["recipient"] == world.funded[3].address and int(grant["claimable"]) > 0


def test_grant_claim_transaction_pays_the_recipient(client: TestClient, world: World) -> None:
    recipient = world.funded[3]
    owed = Treasury.from_suite(world.suite).get_grant(world.grant_id).claimable
    tx = client.post("/api/tx/claim-grant", json={"grantId": str(world.grant_id)}).json()
    assert tx["to"] == world.suite.treasury.address and tx["value"] == "0x0"
    transact_raw(world.suite.w3, recipient, tx)
    assert Treasury.from_suite(world.suite).get_grant(world.grant_id).claimed >= owed > 0


def without_budget(suite: Suite) -> Suite:
    """The suite as an older manifest, written before the participatory budget existed, describes it."""
    manifest = Manifest.from_dict(suite.manifest.to_dict())
    del manifest.contracts["budget"]
    return dataclasses.replace(suite, manifest=manifest)


def test_budget_page_says_when_no_budget_contract_exists(world: World, tmp_path: Path) -> None:
    relayer = Relayer(world.suite, world.relayer, Store(tmp_path / "relayer.sqlite"), RelayerSettings())
    app = create_web_app(WebData(without_budget(world.suite)), create_app(relayer))
    with TestClient(app) as old:
        assert old.get("/api/budget").json() == {"available": False, "rounds": []}
    relayer.store.close()


def elm_street_projects(world: World) -> list[tuple[str, int, str]]:
    """Three projects for a budget round (title, cost, recipient); the fourth funded resident receives."""
    recipient = world.funded[3].address
    return [
        ("Benches on Elm Street", 4 * ETHER // 10, recipient),
        ("Tree planting", 5 * ETHER // 10, recipient),
        ("Longer library hours", 3 * ETHER // 10, recipient),
    ]


def test_budget_page_reads_rounds_projects_ballots_and_results(client: TestClient, world: World) -> None:
    """A real round: projects and ballots from the index, results after the tally with who paid for what."""
    projects = elm_street_projects(world)
    round_id = open_budget_round(world.suite, world.control, world.funded, projects)
    (opened,) = [p for p in client.get("/api/proposals").json() if p["title"].startswith("Participatory")]
    actions = client.get(f"/api/proposals/{opened['id']}").json()["actions"]
    calls = [(a["contract"], a["function"]) for a in actions]  # after the code pins
    assert calls[-2:] == [("treasury", "transfer"), ("budget", "openRound")]
    assert actions[-1]["args"]["budget"] == str(ETHER)
    (shown,) = [r for r in client.get("/api/budget").json()["rounds"] if r["roundId"] == round_id]
    assert shown["phase"] == "voting" and shown["budget"] == str(ETHER) and shown["results"] is None
    assert [(p["title"], p["cost"]) for p in shown["projects"]] == [(t, str(c)) for t, c, _ in projects]
    pb = ParticipatoryBudget.from_suite(world.suite)
    first = world.funded[0].address
    mine = client.get(f"/api/budget/{round_id}/ballot/{first}").json()
    assert mine == {"roundId": round_id, "member": True, "approvals": [], "ballots": 0}
    for voter, approvals in zip(world.funded, ([0, 2], [0, 2], [1], [0]), strict=True):
        pb.cast_ballot(voter, round_id, approvals)
    mine = client.get(f"/api/budget/{round_id}/ballot/{first}").json()
    assert (mine["member"], mine["approvals"], mine["ballots"]) == (True, [0, 2], 1)  # what the page ticks
    outsider = client.get(f"/api/budget/{round_id}/ballot/{fresh().address}").json()
    assert (outsider["member"], outsider["approvals"]) == (False, [])
    assert client.get(f"/api/budget/{round_id + 99}/ballot/{first}").status_code == 404
    assert client.get(f"/api/budget/{round_id}/ballot/0xnope").status_code == 400
    assert client.get(f"/api/budget/x/ballot/{first}").status_code == 400
    world.control.increase_time(pb.get_round(round_id).voting_end - world.control.time())
    assert _round(client, round_id)["phase"] == "counting"
    pb.post_outcome(world.relayer, round_id, pb.tally(round_id, unit=10**15))
    shown = _round(client, round_id)
    assert shown["phase"] == "challenge" and shown["voters"] == 4
    assert (
        shown["results"]["selected"] == [0, 2]
        and shown["results"]["rule"] == "equalshares/add1;unit=1000000000000000"
    )
    assert shown["results"]["payments"] == [
        {"index": 0, "paid": str(4 * ETHER // 10), "voters": 3},
        {"index": 2, "paid": str(3 * ETHER // 10), "voters": 2},
    ]


def _round(client: TestClient, round_id: int) -> dict[str, Any]:
    (shown,) = [r for r in client.get("/api/budget").json()["rounds"] if r["roundId"] == round_id]
    return dict(shown)


# -- relayer, headers, static app ----------------------------------------------------------------------


def test_relayer_is_mounted_under_relay(client: TestClient, world: World) -> None:
    health = client.get("/relay/health").json()
    assert health["relayer"] == world.relayer.address
    typed = client.get(
        "/relay/typed-data/ballot",
        params={"proposal_id": str(world.proposal_id), "voter": world.zero.address, "support": 1},
    ).json()
    assert typed["primaryType"] == "BatchBallot"  # a plain ballot: the batched, nonce-less castVotesBySig
    assert "nonce" not in typed["message"]
    assert client.get("/api/relayer").json() == {"mounted": True, "path": "/relay"}


def test_without_a_relayer_relay_paths_answer_503(world: World) -> None:
    with TestClient(create_web_app(WebData(world.suite))) as plain:
        answer = plain.post("/relay/ballots", json={})
        assert answer.status_code == 503 and answer.json()["error"] == "NoRelayer"
        assert plain.get("/api/relayer").json()["mounted"] is False


def test_pages_carry_a_same_origin_content_security_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY and "connect-src 'self'" in CONTENT_SECURITY_POLICY
    assert page.headers["referrer-policy"] == "no-referrer"
    assert client.get("/static/js/app.js").status_code == 200
    assert client.get("/api/proposals").headers["cache-control"] == "no-store"


def test_static_app_references_no_other_origin() -> None:
    """Every asset is local: no URL to another host anywhere in the shipped app (SVG's namespace aside)."""
    offenders = []
    for path in STATIC_DIR.rglob("*"):
        if path.is_file():
            for url in re.findall(
                r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"'`)]*", path.read_text("utf-8")
            ):
                if not url.startswith("http://www.w3.org/2000/svg"):
                    offenders.append(f"{path.name}: {url}")
    assert offenders == []


def test_translations_have_the_same_keys_and_cover_the_app() -> None:
    english = json.loads((STATIC_DIR / "i18n" / "en.json").read_text("utf-8"))
    korean = json.loads((STATIC_DIR / "i18n" / "ko.json").read_text("utf-8"))
    assert set(english) == set(korean)
    assert all(korean[key].strip() for key in korean)
    sources = "".join(p.read_text("utf-8") for p in (STATIC_DIR / "js").glob("*.js"))
    sources += (STATIC_DIR / "index.html").read_text("utf-8")
    used = set(re.findall(r"\bt\(\"([a-z_.]+)\"", sources)) | set(
        re.findall(r'data-i18n="([a-z_.]+)"', sources)
    )
    assert used - set(english) == set()


def test_serve_without_a_manifest_names_the_fix(world: World, tmp_path: Path) -> None:
    from civicdao.cli import cli

    rpc = world.suite.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    result = CliRunner().invoke(
        cli, ["serve", "--rpc-url", rpc, "--manifest", str(tmp_path / "none.json"), "--no-relayer"]
    )
    assert result.exit_code != 0
    assert "no manifest at" in str(result.exception)
    assert "serve" in CliRunner().invoke(cli, ["--help"]).output
    assert "--no-relayer" in CliRunner().invoke(cli, ["serve", "--help"]).output


def transact_raw(w3: Web3, signer: LocalSigner, tx: dict[str, str]) -> dict[str, int]:
    """Send {to, data, value} as a wallet would (sign locally, send raw) and wait for the receipt."""
    account = Account.from_key(signer._account.key)
    fields = {"from": account.address, "to": tx["to"], "data": tx["data"], "value": int(tx["value"], 16)}
    fields["gas"] = int(w3.eth.estimate_gas(fields) * 1.3)  # type: ignore[arg-type]
    fields.update(nonce=w3.eth.get_transaction_count(account.address), chainId=w3.eth.chain_id)
    fields["gasPrice"] = w3.eth.gas_price
    del fields["from"]
    signed = account.sign_transaction(fields)
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
    return {"status": int(receipt["status"])}


def test_wheel_ships_the_static_app(tmp_path: Path) -> None:
    """`pip install civicdao` serves the app without Node: every static file is inside the wheel."""
    source = tmp_path / "src"
    root = project_root()
    shutil.copytree(root / "civicdao", source / "civicdao", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*command, "-w", str(tmp_path), str(source)], check=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("civicdao-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    shipped = {
        "civicdao/web/" + path.relative_to(STATIC_DIR.parent).as_posix()
        for path in STATIC_DIR.rglob("*")
        if path.is_file()
    }
    assert "civicdao/web/static/index.html" in shipped
    assert shipped <= names


def test_cancel_and_withdraw_transactions_refund_the_renter(client: TestClient, world: World) -> None:
    renter = world.funded[2]
    start = world.room_start + 5 * DAY
    book = {"listingId": str(world.room_id), "start": start, "units": 1}
    transact_raw(world.suite.w3, renter, client.post("/api/tx/book", json=book).json())
    (booking,) = client.get(f"/api/bookings/{renter.address}").json()
    assert booking["canCancel"] is True
    cancel = client.post("/api/tx/cancel", json={"bookingId": booking["bookingId"]}).json()
    transact_raw(world.suite.w3, renter, cancel)
    (after,) = client.get(f"/api/bookings/{renter.address}").json()
    assert after["status"] == "cancelled" and after["canCancel"] is False
    calendar = client.get(f"/api/listings/{world.room_id}/calendar", params={"start": start}).json()
    assert calendar["slots"][0] == {"start": start, "end": start + DAY, "free": True}
    owed = int(client.get(f"/api/credits/{renter.address}").json()["eth"])
    assert owed == ETHER // 50 + ETHER // 10  # free cancellation: price and deposit come back as credit
    before = world.suite.w3.eth.get_balance(renter.address)
    transact_raw(world.suite.w3, renter, client.post("/api/tx/withdraw").json())
    assert client.get(f"/api/credits/{renter.address}").json() == {"eth": "0"}
    assert world.suite.w3.eth.get_balance(renter.address) > before


def test_a_deposit_settle_returned_is_taken_back_with_its_own_transaction(
    client: TestClient, world: World
) -> None:
    snapshot = world.control.snapshot()
    try:
        renter = world.funded[2]
        start = world.room_start + 9 * DAY
        book = {"listingId": str(world.room_id), "start": start, "units": 1}
        transact_raw(world.suite.w3, renter, client.post("/api/tx/book", json=book).json())
        (booking,) = client.get(f"/api/bookings/{renter.address}").json()
        assert booking["canWithdrawDeposit"] is False
        exchange = Exchange.from_suite(world.suite)
        world.control.increase_time(booking["end"] + exchange.windows().claim - world.control.time() + 1)
        transact_raw(
            world.suite.w3,
            renter,
            client.post("/api/tx/settle", json={"bookingId": booking["bookingId"]}).json(),
        )
        (settled,) = client.get(f"/api/bookings/{renter.address}").json()
        assert settled["deposit_status"] == "refundable" and settled["canWithdrawDeposit"] is True
        before = world.suite.w3.eth.get_balance(renter.address)
        tx = client.post("/api/tx/withdraw-deposit", json={"bookingId": booking["bookingId"]}).json()
        transact_raw(world.suite.w3, renter, tx)
        assert world.suite.w3.eth.get_balance(renter.address) > before
        (after,) = client.get(f"/api/bookings/{renter.address}").json()
        assert after["deposit_status"] == "released" and after["canWithdrawDeposit"] is False
    finally:
        world.control.revert(snapshot)


def test_civicdao_serve_runs_the_app_and_the_relayer(world: World, tmp_path: Path) -> None:
    """The command a city runs: `civicdao serve` in its own process answers pages, API and relayer."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(world.suite.manifest.to_dict()))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    rpc = world.suite.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    command = [sys.executable, "-m", "civicdao.cli", "serve", "--rpc-url", rpc, "--manifest", str(manifest)]
    command += ["--port", str(port), "--relayer-db", str(tmp_path / "relayer.sqlite"), "--unlocked", "9"]
    env = {**os.environ, "PYTHONPATH": str(project_root())}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                config = httpx.get(f"{base}/api/config", timeout=2).json()
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "civicdao serve did not answer in 30 s"
                time.sleep(0.2)
        assert config["chainId"] == world.suite.chain_id
        assert '<script type="module" src="/static/js/app.js">' in httpx.get(f"{base}/", timeout=5).text
        assert httpx.get(f"{base}/relay/health", timeout=5).json()["ok"] is True
        listed = httpx.get(f"{base}/api/proposals", timeout=10).json()
        assert str(world.proposal_id) in [p["id"] for p in listed]
        assert (tmp_path / "manifest.index.sqlite").exists()  # the index next to the manifest
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_lists_read_the_index_which_a_background_follow_keeps_current(world: World, tmp_path: Path) -> None:
    """The data layer's lists come from the event index; `follow_index` keeps it in step without a request."""
    data = WebData(world.suite, index_db=str(tmp_path / "index.sqlite"))
    stop = threading.Event()
    follower = threading.Thread(target=data.follow_index, args=(stop,), kwargs={"interval": 0.1})
    follower.start()
    try:
        donated = Treasury.from_suite(world.suite).donate(world.funded[2], ETHER // 8, note="follow me")
        deadline = time.monotonic() + 10
        while data._reader.as_of_block < donated.tx.block_number:
            assert time.monotonic() < deadline, "the background follow did not reach the donation's block"
            time.sleep(0.05)
        notes = [row.args for row in data._reader.events("PublicTreasury", ["DonationReceived"])]
        assert len(notes) == 2  # the world's spring-fair donation and this one, read from the index
        overview = data.treasury_overview()
        assert overview["recentInflows"][0]["note"] == "follow me"
        assert overview["recentInflows"][0]["amount"] == str(ETHER // 8)
    finally:
        stop.set()
        follower.join(timeout=10)
        data.close()
