"""The public treasury report: its figures agree with the chain, and it writes HTML, PNG charts and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from index_scenario import ETHER, Scenario
from web3 import Web3

from civicdao.accounts import NodeSigner
from civicdao.chain import LocalChain
from civicdao.config import KINDS, load_config
from civicdao.deploy import Suite, deploy_suite
from civicdao.index import Indexer, IndexReader, Store
from civicdao.report import treasury_figures, write_report
from civicdao.treasury import Treasury
from civicdao.tx import call

ETH = "0x0000000000000000000000000000000000000000"
PNG = b"\x89PNG\r\n\x1a\n"


def test_figures_agree_with_the_chain(
    w3: Web3, suite: Suite, scenario: Scenario, reader: IndexReader
) -> None:
    figures = treasury_figures(reader)
    head = reader.as_of_block
    treasury = Treasury.from_suite(suite)
    live = treasury.token_balance()
    assert figures.balances[ETH] == live.balance == w3.eth.get_balance(suite.treasury.address)
    history = figures.balance_over_time[ETH]
    assert history[-1][2] == live.balance
    assert [b for b, _, _ in history] == sorted({b for b, _, _ in history})
    # inflows by category: the contract's own per-category counters
    by_category = {r["category"]: r["amount"] for r in figures.inflows_by_category if r["token"] == ETH}
    assert set(by_category) == {*KINDS, "donation"}
    for category in (*KINDS, "donation"):
        assert by_category[category] == live.inflow(category), category
    assert by_category["donation"] == 3 * ETHER
    assert sum(by_category.values()) == live.total_in
    assert sum(r["amount"] for r in figures.outflows_by_kind) == live.total_out
    # grants: granted, vested (at the index's block) and claimed, as the treasury holds them
    (grant,) = figures.grants
    info = treasury.get_grant(grant["grantId"])
    vested = int(call(suite.treasury.functions.vestedAmount(grant["grantId"]), block=head))
    assert (grant["granted"], grant["vested"], grant["claimed"]) == (info.amount, vested, info.claimed)
    assert figures.outflows_per_grant == [{"grantId": grant["grantId"], "token": ETH, "amount": info.claimed}]
    # QF: contributions and matching per project as the round records them
    round_info = treasury.get_round(scenario.round_id)
    (qf_round,) = figures.qf_rounds
    assert qf_round["contributions"] == round_info.total_contributions
    assert qf_round["totalMatching"] == round_info.total_matching
    for match, project in zip(figures.qf_matches, round_info.projects, strict=True):
        assert match["contributions"] == project.contributions
        assert match["matchingClaimed"] == (project.matching if project.claimed else 0)
    assert figures.qf_matches[0]["matchingClaimed"] > 0
    # and the same as the library's raw-RPC report
    raw = treasury.treasury_report()
    assert [(r.block, r.amount, r.category) for r in raw.inflows] == [
        (r.block, r.amount, r.category) for r in reader.inflows()
    ]
    assert [(p.block, p.balance) for p in raw.balance_history] == [(b, v) for b, _, v in history]


def test_report_files(reader: IndexReader, tmp_path: Path) -> None:
    figures = treasury_figures(reader)
    files = write_report(figures, tmp_path / "out")
    assert {p.name for p in files.charts} == {
        "balance.png", "inflows.png", "outflows_per_grant.png", "grants.png", "qf_matches.png",
    }  # fmt: skip
    for chart in files.charts:
        assert chart.read_bytes().startswith(PNG)
    page = files.html.read_text()
    for chart in files.charts:
        assert f'src="{chart.name}"' in page
    assert "Grants: vested vs claimed" in page and "donation" in page
    assert json.loads(files.json.read_text()) == json.loads(json.dumps(figures.to_json()))


def test_report_of_an_empty_treasury(w3: Web3, deployer: NodeSigner, tmp_path: Path) -> None:
    fresh = deploy_suite(w3, deployer, load_config("pilot"))
    with Store(":memory:") as store:
        indexer = Indexer(w3, fresh.manifest, store)
        indexer.sync()
        figures = treasury_figures(IndexReader(store, indexer.deployment))
    files = write_report(figures, tmp_path)
    assert figures.balances == {ETH: 0} and figures.grants == [] and figures.qf_matches == []
    assert all(chart.read_bytes().startswith(PNG) for chart in files.charts)


def test_cli_lists_and_report_read_the_index(
    chain: LocalChain, suite: Suite, scenario: Scenario, tmp_path: Path
) -> None:
    from civicdao.cli import cli
    from civicdao.manifest import Manifest

    manifest = tmp_path / "deployments" / f"{suite.chain_id}.json"
    Manifest.from_dict(suite.manifest.to_dict(), manifest).save()
    common = ["--rpc-url", chain.rpc_url, "--manifest", str(manifest)]
    runner = CliRunner()

    synced = runner.invoke(cli, ["index", "sync", *common, "--json"])
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.output)["toBlock"] == chain.w3.eth.block_number
    assert (manifest.parent / f"{suite.chain_id}.index.sqlite").exists()  # next to the manifest

    listed = runner.invoke(cli, ["proposals", "list", *common, "--json", "--no-sync"])
    assert listed.exit_code == 0, listed.output
    ids = {row["id"] for row in json.loads(listed.output)}
    assert ids == {str(p) for p in scenario.proposals.values()}  # full ids, never shortened

    shown = runner.invoke(cli, ["proposals", "show", str(scenario.proposals["executed"]), *common, "--json"])
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    calls = [a["function"] for a in detail["actions"] if a["function"] != "requireCodeHash"]  # grantee pins
    assert detail["liveState"] == "executed" and calls == ["createStreamGrant", "openRound"]

    found = runner.invoke(cli, ["listings", "search", *common, "--kind", "room_house", "--json"])
    assert [r["listing_id"] for r in json.loads(found.output)] == [scenario.listings[0]]
    calendar = runner.invoke(cli, ["listings", "calendar", str(scenario.listings[0]), *common, "--json"])
    assert [b["booking_id"] for b in json.loads(calendar.output)] == [scenario.bookings["kept"]]

    citizens = runner.invoke(cli, ["citizens", "list", *common, "--json"])
    assert len(json.loads(citizens.output)) == 5

    out = tmp_path / "reports"
    report = runner.invoke(cli, ["treasury", "report", *common, "--out", str(out)])
    assert report.exit_code == 0, report.output
    assert (out / "report.html").exists() and (out / "report.json").exists()

    table = runner.invoke(cli, ["treasury", "grants", *common, "--no-sync"])
    assert table.exit_code == 0 and "stream" in table.output

    missing = runner.invoke(cli, ["proposals", "show", "12345", *common, "--no-sync"])
    assert missing.exit_code != 0 and "no proposal 12345" in str(missing.exception)
