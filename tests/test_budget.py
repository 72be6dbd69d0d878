"""Participatory budgeting end to end: a DAO-opened round on the deployed suite (projects, ballots
relayed for zero-ETH residents, tally by MES from the chain, posting, challenge window, payouts), a wrong
outcome caught by `verify` and challenged, MES against greedy, pabulib export/read, the Assen 2024 replay."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from index_scenario import capped_web3
from web3 import Web3

from civicdao.accounts import LocalSigner, NodeSigner, from_private_key
from civicdao.budget import (
    BallotRejectedError,
    BudgetError,
    Outcome,
    ParticipatoryBudget,
    RoundStatus,
    ballot_digest,
    bitmap_of,
    read_pabulib,
    tally,
    web_rounds,
)
from civicdao.budget.replay import register_many
from civicdao.budget.types import BadBallotError
from civicdao.chain import ChainControl, LocalChain
from civicdao.cli import main
from civicdao.deploy import Suite
from civicdao.governance import Governance
from civicdao.index import Indexer, IndexReader, Store
from civicdao.local import pass_proposal
from civicdao.signing import sign_typed_data
from civicdao.treasury import Treasury
from civicdao.tx import call, transact

DATA = Path(__file__).parent / "data"
ASSEN = DATA / "Netherlands_Assen_2024.pb"
BUDGET = 10**18  # 1 ETH
UNIT = 10**15  # add1 raises each share by 0.001 ETH a step
COSTS = [500_000_000_000_000_000, 400_000_000_000_000_000, 300_000_000_000_000_000, 200_000_000_000_000_000]
# 7 residents approve the "park" projects 0, 1; 3 approve project 3 (a 30 % minority).
BALLOTS = [[0, 1]] * 7 + [[3]] * 3


@dataclass(frozen=True)
class Round:
    suite: Suite
    budget: ParticipatoryBudget
    round_id: int
    residents: Sequence[LocalSigner]
    recipients: Sequence[NodeSigner]
    relayer: NodeSigner
    manifest: Path


@pytest.fixture(scope="module")
def opened(
    suite: Suite,
    w3: Web3,
    control: ChainControl,
    accounts: list[NodeSigner],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Round]:
    """Two founders pass the DAO proposal that funds the round from the treasury and opens it; four projects
    are submitted; ten residents with zero ETH are registered. Reverted after the module, so other modules
    see a clean suite."""
    snapshot = control.snapshot()
    deployer, founders = accounts[0], accounts[1:3]
    for founder in founders:
        transact(
            w3,
            deployer,
            suite.registry.functions.register(founder.address, Web3.keccak(text=founder.address)),
        )
    treasury = Treasury.from_suite(suite)
    treasury.donate(deployer, 2 * BUDGET, note="pb test")
    control.increase_time(int(call(suite.treasury.functions.epochClock())[5]) - control.time() + 1)
    budget = ParticipatoryBudget.from_suite(suite)
    actions = budget.open_round_actions(
        treasury,
        budget=BUDGET,
        submission_period=86_400,
        voting_period=86_400,
        challenge_period=3_600,
        max_approvals=3,
    )
    pass_proposal(
        Governance.from_suite(suite), control, founders[0], founders, actions, "Parks or playgrounds"
    )
    round_id = budget.round_count() - 1
    recipients = accounts[3:7]
    for index, cost in enumerate(COSTS):
        budget.submit_project(
            founders[0],
            round_id,
            recipient=recipients[index].address,
            cost=cost,
            metadata_uri=f"ipfs://project-{index}",
        )
    residents = [from_private_key(Web3.keccak(text=f"pb resident {i}")) for i in range(len(BALLOTS))]
    register_many(
        w3, control, suite, deployer, [r.address for r in residents], lambda i: Web3.keccak(text=f"r{i}")
    )
    manifest = tmp_path_factory.mktemp("pb") / "suite.json"
    manifest.write_text(json.dumps(suite.manifest.to_dict()))
    yield Round(suite, budget, round_id, residents, recipients, accounts[8], manifest)
    control.revert(snapshot)


def vote_and_close(r: Round, control: ChainControl) -> None:
    info = r.budget.get_round(r.round_id)
    control.increase_time(info.voting_start - control.time())
    signed = [
        r.budget.sign_ballot(resident, r.round_id, ballot)
        for resident, ballot in zip(r.residents, BALLOTS, strict=True)
    ]
    r.budget.relay(r.relayer, r.round_id, signed, batch_size=4)
    control.increase_time(info.voting_end - control.time())


def cli(capsys: pytest.CaptureFixture[str], r: Round, *args: str) -> tuple[int, str, str]:
    endpoint = r.suite.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    code = main(["budget", *args, "--rpc-url", endpoint, "--manifest", str(r.manifest), "--unit", str(UNIT)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_round_end_to_end(
    opened: Round, w3: Web3, control: ChainControl, capsys: pytest.CaptureFixture[str]
) -> None:
    r = opened
    assert call(r.suite.budget.functions.reserved("0x" + "00" * 20)) == BUDGET
    assert all(w3.eth.get_balance(resident.address) == 0 for resident in r.residents)
    vote_and_close(r, control)

    result = r.budget.tally(r.round_id, unit=UNIT)
    # 1 ETH over 10 voters: the 7 afford project 0 (0.5) but not 0 and 1 (0.9 > 0.7); the 3 afford 3 (0.2)
    assert result.selected == (0, 3) and result.cost == 7 * 10**17
    assert r.budget.tally(r.round_id, "greedy", unit=UNIT).selected == (0, 1)  # greedy gives the 30 % nothing
    code, out, _ = cli(capsys, r, "tally", str(r.round_id), "--json")
    assert code == 0 and json.loads(out)["selected"] == [0, 3]
    code, out, _ = cli(capsys, r, "tally", str(r.round_id))
    assert code == 0 and f"ballot digest {result.ballot_digest}" in out and "supporters" in out

    r.budget.post_outcome(r.relayer, r.round_id, result)
    code, out, _ = cli(capsys, r, "verify", str(r.round_id))
    assert code == 0 and "matches" in out
    recipients_before = [w3.eth.get_balance(p.address) for p in r.recipients]
    with pytest.raises(Exception, match="BudgetChallengeWindowOpen"):
        r.budget.finalize(r.relayer, r.round_id)  # nothing moves before the window ends
    control.increase_time(3_600)
    treasury_before = w3.eth.get_balance(r.suite.treasury.address)
    r.budget.finalize(r.relayer, r.round_id)
    assert w3.eth.get_balance(r.suite.treasury.address) - treasury_before == 3 * 10**17  # unspent budget
    for index in (0, 3):
        assert r.budget.claim_payout(r.recipients[index], r.round_id, index) == COSTS[index]
    gained = [
        w3.eth.get_balance(p.address) - before
        for p, before in zip(r.recipients, recipients_before, strict=True)
    ]
    assert gained[1] == gained[2] == 0 and 0 < gained[0] <= COSTS[0] and 0 < gained[3] <= COSTS[3]
    assert r.budget.get_round(r.round_id).status is RoundStatus.FINALIZED


def test_wrong_outcome_is_caught_and_challenged(
    opened: Round, control: ChainControl, accounts: list[NodeSigner], capsys: pytest.CaptureFixture[str]
) -> None:
    r = opened
    vote_and_close(r, control)
    honest = r.budget.tally(r.round_id, unit=UNIT)
    wrong = Outcome((0, 1), honest.ballot_digest, honest.rule_id)  # greedy's winners posted as MES
    r.budget.post_outcome(r.relayer, r.round_id, wrong)
    check = r.budget.verify(r.round_id, unit=UNIT)
    assert not check.matches and check.recomputed.winners == (0, 3)
    code, _, err = cli(capsys, r, "verify", str(r.round_id))
    assert code == 1 and "differs from its ballots" in err and "civicdao budget challenge" in err

    code, _, err = cli(capsys, r, "challenge", str(r.round_id), "--unlocked", "9")
    assert code == 0, err
    assert r.budget.get_round(r.round_id).status is RoundStatus.DISPUTED
    founders = accounts[1:3]
    action = r.budget.resolve_dispute_action(r.round_id, check.recomputed)
    pass_proposal(
        Governance.from_suite(r.suite), control, founders[0], founders, [action], "Settle the PB round"
    )
    r.budget.finalize(r.relayer, r.round_id)
    assert r.budget.get_round(r.round_id).winners == (0, 3)
    assert r.budget.claim_payout(r.recipients[3], r.round_id, 3) == COSTS[3]


def test_export_writes_a_pabulib_file_pabutools_reads(
    opened: Round, control: ChainControl, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = opened
    vote_and_close(r, control)
    target = tmp_path / "round.pb"
    code, _, err = cli(capsys, r, "export", str(r.round_id), str(target))
    assert code == 0, err
    election = read_pabulib(target)
    assert election.budget == BUDGET and [p.cost for p in election.projects] == COSTS
    assert sorted(election.ballots) == sorted(tuple(str(i) for i in b) for b in BALLOTS)
    assert election.selected == ("0", "3")


def test_ballots_read_must_reproduce_the_onchain_log(opened: Round, control: ChainControl) -> None:
    r = opened
    vote_and_close(r, control)
    partial = ParticipatoryBudget(r.budget.w3, r.budget.contract, from_block=r.budget.w3.eth.block_number)
    with pytest.raises(BudgetError, match="incomplete"):
        partial.ballots(r.round_id)


def test_ballots_and_projects_from_the_index_equal_the_chains(
    opened: Round, control: ChainControl, chain: LocalChain
) -> None:
    r = opened
    with Store(":memory:") as store:
        indexer = Indexer(r.suite.w3, r.suite.manifest, store)
        indexer.sync()  # before the ballots: the index is behind
        reader = IndexReader(store, indexer.deployment)
        indexed = ParticipatoryBudget.from_suite(r.suite, index=reader)
        assert indexed.projects(r.round_id) == r.budget.projects(r.round_id)
        vote_and_close(r, control)
        with pytest.raises(BudgetError, match="sync it"):
            indexed.ballots(r.round_id)
        indexer.sync()
        ballots = r.budget.ballots(r.round_id)
        assert len(ballots) == len(BALLOTS)
        assert indexed.ballots(r.round_id) == ballots
    # the raw path behind a provider that refuses eth_getLogs over 5 blocks
    asked: list[tuple[int, int]] = []
    w3c = capped_web3(chain, 5, "query returned more than 10000 results", asked)
    capped = ParticipatoryBudget.at(w3c, r.budget.address, from_block=r.budget.from_block)
    assert capped.ballots(r.round_id) == ballots
    assert capped.projects(r.round_id) == r.budget.projects(r.round_id)
    assert any(high - low + 1 > 5 for low, high in asked)


def test_verify_before_posting_names_the_fix(opened: Round) -> None:
    with pytest.raises(BudgetError, match="no posted outcome"):
        opened.budget.verify(opened.round_id)


# -- the count, off-chain ------------------------------------------------------------------------------------


def test_mes_gives_a_minority_its_share_where_greedy_does_not() -> None:
    costs = [5_000, 5_000, 5_000, 5_000]
    ballots = {m: bitmap_of([0, 1, 2]) for m in range(1, 52)} | {m: bitmap_of([3]) for m in range(52, 101)}
    assert tally(costs, ballots, 10_000, "greedy").selected == (0, 1)
    mes = tally(costs, ballots, 10_000, "mes")
    assert mes.selected == (0, 3) and mes.label == "equalshares/add1"
    assert {p.project: p.supporters for p in mes.payments} == {0: 51, 3: 49}


def test_ballot_digest_is_order_independent_and_sensitive() -> None:
    assert ballot_digest({1: 3, 2: 5}) == ballot_digest({2: 5, 1: 3})
    assert ballot_digest({1: 3, 2: 5}) != ballot_digest({1: 3, 2: 4})


def test_tally_bad_input() -> None:
    with pytest.raises(BudgetError, match="unknown rule"):
        tally([1], {1: 1}, 1, "borda")
    with pytest.raises(BudgetError, match="does not exist"):
        tally([1], {1: 0b10}, 1)
    with pytest.raises(BudgetError, match="positive"):
        tally([0], {1: 1}, 1)
    with pytest.raises(BudgetError, match="coarser unit"):
        tally([10**18], {1: 1}, 10**18)  # one wei a step would take forever
    with pytest.raises(BadBallotError):
        bitmap_of([256])
    with pytest.raises(BadBallotError):
        bitmap_of([1, 1])


def test_read_pabulib_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BudgetError, match="no pabulib file"):
        read_pabulib(tmp_path / "missing.pb")
    broken = tmp_path / "broken.pb"
    broken.write_text("META\nkey;value\nbudget;abc\n")
    with pytest.raises(BudgetError):
        read_pabulib(broken)


def test_assen_file_tally_matches_the_official_outcome() -> None:
    election = read_pabulib(ASSEN)
    index = {p.project_id: i for i, p in enumerate(election.projects)}
    ballots = {m + 1: bitmap_of(index[p] for p in b) for m, b in enumerate(election.ballots)}
    result = tally([p.cost for p in election.projects], ballots, election.budget)
    assert tuple(sorted(election.projects[i].project_id for i in result.selected)) == election.selected
    assert election.rule == "equalshares/add1" and len(election.ballots) == 84


def test_replay_assen_2024_selects_the_official_projects(capsys: pytest.CaptureFixture[str]) -> None:
    """`civicdao budget replay` on the real Assen Top Idee 2024 election: its own Anvil, 84 synthetic
    residents, every ballot signed and relayed, the tally from the chain."""
    assert main(["budget", "replay", str(ASSEN), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["selected"] == ["11", "12", "13", "14", "2", "3", "5", "6", "9"]
    assert result["matches"] is True and result["rule"] == "equalshares/add1" and result["voters"] == 84
    assert result["gas"]["per_ballot"] <= 45_000


def test_replay_of_a_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["budget", "replay", "no-such-file.pb"]) == 2


def test_docs_worked_example_runs(opened: Round, control: ChainControl, accounts: list[NodeSigner]) -> None:
    """docs/budget.md's worked example runs as written (registered founders, zero-ETH residents)."""
    import re

    doc = (Path(__file__).resolve().parent.parent / "docs" / "budget.md").read_text()
    (snippet,) = re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL)[:1]
    namespace: dict[str, object] = {
        "suite": opened.suite,
        "control": control,
        "founder": accounts[1],
        "founders": accounts[1:3],
        "teams": accounts[3:7],
        "residents": opened.residents,
        "relayer": opened.relayer,
    }
    exec(compile(snippet, "docs/budget.md", "exec"), namespace)  # noqa: S102 - our own documentation
    assert namespace["result"].selected == (0, 3)  # type: ignore[attr-defined]
    assert opened.budget.get_round(int(namespace["round_id"])).status is RoundStatus.FINALIZED  # type: ignore[call-overload]


def test_web_rounds_follow_the_round(opened: Round, control: ChainControl) -> None:
    r = opened
    (shown,) = [row for row in web_rounds(r.suite) if row["roundId"] == r.round_id]
    assert shown["phase"] == "submission" and shown["budget"] == str(BUDGET) and shown["results"] is None
    assert [p["cost"] for p in shown["projects"]] == [str(c) for c in COSTS]
    assert shown["projects"][0]["title"] == "ipfs://project-0"
    vote_and_close(r, control)
    r.budget.post_outcome(r.relayer, r.round_id, r.budget.tally(r.round_id, unit=UNIT))
    (shown,) = [row for row in web_rounds(r.suite) if row["roundId"] == r.round_id]
    assert shown["phase"] == "challenge" and shown["voters"] == len(BALLOTS)
    assert shown["results"]["selected"] == [0, 3]
    assert shown["results"]["payments"] == [
        {"index": 0, "paid": str(COSTS[0]), "voters": 7},
        {"index": 3, "paid": str(COSTS[3]), "voters": 3},
    ]


def test_signed_ballot_checked_before_relaying(opened: Round, control: ChainControl) -> None:
    r, resident = opened, opened.residents[0]
    typed = r.budget.ballot_template(r.round_id, resident.address, [0, 1])
    signature = sign_typed_data(resident, typed)
    with pytest.raises(BallotRejectedError, match="not open for voting"):
        r.budget.check_signed_ballot(typed, signature)
    control.increase_time(r.budget.get_round(r.round_id).voting_start - control.time())
    ballot = r.budget.check_signed_ballot(typed, signature)
    assert ballot.voter == resident.address and ballot.approvals == 0b11
    r.budget.relay(r.relayer, r.round_id, [ballot])
    with pytest.raises(BallotRejectedError, match="replayed"):
        r.budget.check_signed_ballot(typed, signature)
    outsider = from_private_key(Web3.keccak(text="not a resident"))
    foreign = r.budget.ballot_template(r.round_id, resident.address, [2])
    with pytest.raises(BallotRejectedError, match="no membership"):
        r.budget.check_signed_ballot(foreign, sign_typed_data(outsider, foreign))
    too_long = r.budget.ballot_template(r.round_id, resident.address, [0, 1, 2, 3])
    with pytest.raises(BallotRejectedError, match="approves 4 projects"):
        r.budget.check_signed_ballot(too_long, sign_typed_data(resident, too_long))
    elsewhere = {**typed, "domain": {**typed["domain"], "chainId": 1}}
    with pytest.raises(BallotRejectedError, match="another contract, chain"):
        r.budget.check_signed_ballot(elsewhere, sign_typed_data(resident, elsewhere))
    with pytest.raises(BallotRejectedError, match="malformed"):
        r.budget.check_signed_ballot(typed, "0x1234")
