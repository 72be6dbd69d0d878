"""What the web app shows of the participatory budget (``civicdao.web`` reads ``web_rounds``).

Amounts are decimal strings (JavaScript reads them with ``BigInt``); a round's ``phase`` is one of
``submission``, ``voting``, ``counting`` (voting closed, no outcome yet), ``challenge`` (outcome posted,
window open), ``disputed``, ``final`` (window over or the DAO decided, not yet finalized), ``finalized``,
``cancelled``. ``results`` is the posted outcome (None before one is posted), with each winner's supporters
and what they paid (under MES the supporters of a winner pay exactly its cost).

The lists (projects, ballots) come from the contract's ``ProjectSubmitted`` and ``BallotCast`` events, as
:class:`~civicdao.budget.ParticipatoryBudget` reads them: from an event index when ``index`` is given (the
web app passes its own), else with ``eth_getLogs``; a round's own fields are read from the chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from civicdao.budget.client import ParticipatoryBudget
from civicdao.budget.tally import RULES, rule_id, rule_label
from civicdao.budget.types import RoundInfo, RoundStatus, indexes_of
from civicdao.deploy import Suite

if TYPE_CHECKING:
    from civicdao.index import IndexReader

__all__ = ["round_phase", "web_rounds"]


def round_phase(info: RoundInfo, now: int) -> str:
    """Where a round stands at time ``now``, in one word."""
    status = info.status
    if status is RoundStatus.OPEN:
        if now < info.voting_start:
            return "submission"
        return "voting" if now < info.voting_end else "counting"
    if status is RoundStatus.POSTED:
        ends = info.challenge_ends or 0
        return "challenge" if now < ends else "final"
    return {
        RoundStatus.DISPUTED: "disputed",
        RoundStatus.RESOLVED: "final",
        RoundStatus.FINALIZED: "finalized",
        RoundStatus.CANCELLED: "cancelled",
    }.get(status, "unknown")


def web_rounds(suite: Suite, *, index: IndexReader | None = None) -> list[dict[str, Any]]:
    """Every round of the suite's participatory budget, newest first, in the web app's shape.

    ``index``: the event index the projects and ballots are read from; by default the node's logs.
    """
    budget = ParticipatoryBudget.from_suite(suite, index=index)
    now = int(suite.w3.eth.get_block("latest")["timestamp"])
    # the rule's label for ids counted with add1 units of 1, 10, …, 10**18 token units
    labels = {rule_id(name, 10**k): rule_label(name, 10**k) for name in RULES for k in range(19)}
    rounds = []
    for round_id in reversed(range(budget.round_count())):
        info = budget.get_round(round_id)
        # the round was read once: the lists need neither it again nor each project's claims
        projects = tuple(budget._submitted(round_id))
        results = None
        if info.posted_at:
            supporters = [0] * len(projects)
            for ballot in budget._ballots(info).values():
                for project in indexes_of(ballot.approvals):
                    if project < len(supporters):
                        supporters[project] += 1
            results = {
                "rule": labels.get(info.rule_id, info.rule_id),
                "selected": list(info.winners),
                "payments": [
                    {"index": i, "paid": str(projects[i].cost), "voters": supporters[i]} for i in info.winners
                ],
            }
        rounds.append(
            {
                "roundId": round_id,
                "budget": str(info.budget),
                "token": info.token,
                "phase": round_phase(info, now),
                "minApprovals": info.min_approvals,
                "maxApprovals": info.max_approvals,
                "votingStart": info.voting_start,
                "votingEnd": info.voting_end,
                "voters": info.voter_count,
                "projects": [
                    {"index": p.index, "title": p.metadata_uri, "cost": str(p.cost), "recipient": p.recipient}
                    for p in projects
                ],
                "results": results,
            }
        )
    return rounds
