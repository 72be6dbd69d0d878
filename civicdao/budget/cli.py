"""``civicdao budget``: tally, verify, post, challenge, export and replay participatory-budgeting rounds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from civicdao import cli_options as options
from civicdao.budget.client import ParticipatoryBudget
from civicdao.budget.tally import RULES, TallyResult
from civicdao.budget.types import BudgetError
from civicdao.cli_options import Node, SignerChoice, stderr, stdout

if TYPE_CHECKING:
    from civicdao.budget.client import ParticipatoryBudget

__all__ = ["budget_group"]

_RULE = click.Choice(sorted(RULES))


def _unit_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--unit", type=click.IntRange(1), default=1, show_default=True,
        help="add1's step per voter in token units (e.g. 1000000000000000 = 0.001 ETH for a wei round).",
    )(fn)  # fmt: skip


def _node_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--network / --rpc-url / --chain-id / --manifest (required): where the suite lives."""
    fn = options.manifest_option(required=True, help="The suite's manifest.")(fn)
    return options.connection_options(fn)


def _open(node: Node, manifest: str) -> ParticipatoryBudget:
    return ParticipatoryBudget.from_suite(node.suite(manifest))


@click.group("budget")
def budget_group() -> None:
    """Participatory budgeting: count rounds by the Method of Equal Shares, check, export and replay them."""


@budget_group.command("tally")
@_unit_option
@click.argument("round_id", metavar="ROUND", type=click.IntRange(0))
@_node_options
@click.option("--rule", type=_RULE, default="mes", show_default=True, help="mes = equalshares/add1; greedy.")
@options.json_option
def tally_command(round_id: int, node: Node, manifest: str, rule: str, as_json: bool, unit: int) -> None:
    """Count ROUND from the chain's ballots: winners, each winner's supporters and payments, ballot digest."""
    budget = _open(node, manifest)
    result = budget.tally(round_id, rule, unit=unit)
    projects = budget.projects(round_id)
    if as_json:
        options.print_json(_tally_json(round_id, result, projects))
        return
    payments = {p.project: p for p in result.payments}
    table = Table(title=f"Round {round_id}: {result.label}, {result.voters} voters, budget {result.budget}")
    for column in ("project", "label", "cost", "supporters", "paid by supporters", "largest share"):
        table.add_column(column)
    for index in result.selected:
        payment = payments.get(index)
        table.add_row(
            str(index), projects[index].label, str(projects[index].cost),
            str(payment.supporters) if payment else "", f"{float(payment.paid):.2f}" if payment else "",
            f"{float(payment.largest_share):.2f}" if payment else "",
        )  # fmt: skip
    stdout.print(table)
    stdout.print(f"cost {result.cost} of {result.budget}; ballot digest {result.ballot_digest}")


@budget_group.command("verify")
@_unit_option
@click.argument("round_id", metavar="ROUND", type=click.IntRange(0))
@_node_options
@options.json_option
def verify_command(
    round_id: int,
    node: Node,
    manifest: str,
    as_json: bool,
    unit: int,
) -> None:
    """Recompute ROUND's posted outcome from the chain; exit 1 when it differs (then challenge it)."""
    budget = _open(node, manifest)
    result = budget.verify(round_id, unit=unit)
    info = budget.get_round(round_id)
    if as_json:
        options.print_json({
            "round": round_id, "rule": result.rule, "matches": result.matches,
            "posted": {"winners": list(result.posted.winners), "ballotDigest": result.posted.ballot_digest,
                       "ruleId": result.posted.rule_id},
            "recomputed": {"winners": list(result.recomputed.winners),
                           "ballotDigest": result.recomputed.ballot_digest,
                           "ruleId": result.recomputed.rule_id},
        })  # fmt: skip
    else:
        table = Table(title=f"Round {round_id}: posted outcome against the chain ({result.rule})")
        for column in ("", "winners", "ballot digest"):
            table.add_column(column)
        table.add_row("posted", _ids(result.posted.winners), result.posted.ballot_digest)
        table.add_row("recomputed", _ids(result.recomputed.winners), result.recomputed.ballot_digest)
        stdout.print(table)
    if not result.matches:
        raise BudgetError(
            f"round {round_id}'s posted outcome differs from its ballots: challenge it before "
            f"{info.challenge_ends} with `civicdao budget challenge {round_id}"
            + (f" --unit {unit}`" if unit != 1 else "`")
        )
    if not as_json:
        stdout.print("the posted outcome matches the chain's ballots")


@budget_group.command("post")
@_unit_option
@click.argument("round_id", metavar="ROUND", type=click.IntRange(0))
@_node_options
@options.signer_options
@click.option("--rule", type=_RULE, default="mes", show_default=True)
def post_command(
    round_id: int, node: Node, manifest: str, signer: SignerChoice, rule: str, unit: int
) -> None:
    """Tally ROUND from the chain and post the outcome (after voting closed); the challenge window starts."""
    budget = _open(node, manifest)
    result = budget.tally(round_id, rule, unit=unit)
    posted = budget.post_outcome(signer.load(budget.w3), round_id, result)
    stdout.print(f"posted winners {_ids(result.selected)} ({result.label}) in {posted.tx.tx_hash}")


@budget_group.command("challenge")
@_unit_option
@click.argument("round_id", metavar="ROUND", type=click.IntRange(0))
@_node_options
@options.signer_options
def challenge_command(round_id: int, node: Node, manifest: str, signer: SignerChoice, unit: int) -> None:
    """Challenge ROUND's posted outcome with the one recomputed from the chain; the DAO then decides."""
    budget = _open(node, manifest)
    check = budget.verify(round_id, unit=unit)
    if check.matches:
        raise BudgetError(
            f"round {round_id}'s posted outcome matches its ballots: there is nothing to challenge"
        )
    challenged = budget.challenge(signer.load(budget.w3), round_id, check.recomputed)
    stdout.print(
        f"challenged with winners {_ids(check.recomputed.winners)} in {challenged.tx.tx_hash}: "
        "the DAO decides"
    )


@budget_group.command("export")
@_unit_option
@click.argument("round_id", metavar="ROUND", type=click.IntRange(0))
@click.argument("file", metavar="FILE.pb", type=click.Path(dir_okay=False, writable=True))
@_node_options
@click.option("--rule", type=_RULE, default="mes", show_default=True, help="Rule that marks `selected`.")
def export_command(round_id: int, file: str, node: Node, manifest: str, rule: str, unit: int) -> None:
    """Write ROUND (after voting) as a pabulib file: projects, ballots by membership, and the winners."""
    from civicdao.budget.pabulib import write_pabulib

    budget = _open(node, manifest)
    info = budget.get_round(round_id)
    result = budget.tally(round_id, rule, unit=unit)
    path = write_pabulib(file, info, budget.projects(round_id), budget.ballots(round_id), result)
    stdout.print(f"round {round_id} written to {path} ({result.voters} ballots)")


@budget_group.command("replay")
@click.argument("file", metavar="FILE.pb", type=click.Path(exists=True, dir_okay=False))
@click.option("--rule", type=_RULE, default="mes", show_default=True, help="mes = equalshares/add1; greedy.")
@click.option(
    "--batch-size", type=click.IntRange(1, 500), default=100, show_default=True, help="Ballots per tx."
)
@options.json_option
def replay_command(file: str, rule: str, batch_size: int, as_json: bool) -> None:
    """Replay a pabulib election on a local Anvil chain it starts: one synthetic resident per voter, every
    ballot signed and relayed in batches, the tally from the chain, compared with the file's `selected`."""
    from civicdao.budget.replay import replay

    with _progress(quiet=as_json) as progress:
        result = replay(file, rule, batch_size=batch_size, progress=progress)
    if as_json:
        options.print_json(result.as_json())
        return
    stdout.print(f"selected ({result.tally.label}): {', '.join(result.selected)}")
    stdout.print(f"official:  {', '.join(result.official)}")
    verdict = "[green]match[/green]" if result.matches else "[red]differ[/red]"
    stdout.print(
        f"{verdict} — {result.voters} voters, {result.projects} projects, "
        f"{result.gas_per_ballot:,.0f} gas per relayed ballot in batches of {result.batch_size}"
    )


def _ids(indexes: tuple[int, ...]) -> str:
    return ", ".join(str(i) for i in indexes) or "(none)"


def _tally_json(round_id: int, result: TallyResult, projects: Any) -> dict[str, Any]:
    return {
        "round": round_id,
        "rule": result.label,
        "ruleId": result.rule_id,
        "selected": list(result.selected),
        "labels": [projects[i].label for i in result.selected],
        "cost": result.cost,
        "budget": result.budget,
        "voters": result.voters,
        "ballotDigest": result.ballot_digest,
        "payments": [
            {
                "project": p.project,
                "supporters": p.supporters,
                "paid": str(p.paid),
                "largestShare": str(p.largest_share),
            }
            for p in result.payments
        ],
    }


@contextmanager
def _progress(*, quiet: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    if quiet:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        yield update
