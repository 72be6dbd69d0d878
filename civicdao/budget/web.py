"""What the web app shows of the participatory budget (``civicdao.web`` reads ``web_rounds``).

Amounts are decimal strings (JavaScript reads them with ``BigInt``); a round's ``phase`` is one of
``submission``, ``voting``, ``counting`` (voting closed, no outcome yet), ``challenge`` (outcome posted,
window open), ``disputed``, ``final`` (window over or the DAO decided, not yet finalised), ``finalized``,
``cancelled``. ``results`` is the posted outcome (None before one is posted), with each winner's supporters
and what they paid (under MES the supporters of a winner pay exactly its cost).

The lists (projects, ballots) come from the contract's ``ProjectSubmitted`` and ``BallotCast`` events:
read with ``eth_getLogs`` by default, or from an event index when ``events`` is given (the web app passes
the index's, where every ABI event is decoded generically); a round's own fields are read from the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from civicdao.budget.client import ParticipatoryBudget
from civicdao.budget.tally import RULES, rule_id, rule_label
from civicdao.budget.types import ProjectInfo, RoundInfo, RoundStatus, indexes_of
from civicdao.deploy import Suite

__all__ = ["EventSource", "round_phase", "web_rounds"]

#: ``events(name)``: the decoded arguments of every ``ParticipatoryBudget`` event called ``name``, in chain
#: order (integers may be decimal strings, as the index stores them).
EventSource = Callable[[str], Sequence[Mapping[str, Any]]]


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


def web_rounds(suite: Suite, events: EventSource | None = None) -> list[dict[str, Any]]:
    """Every round of the suite's participatory budget, newest first, in the web app's shape.

    ``events``: where to read the lists from (an event index); by default the node's logs.
    """
    budget = ParticipatoryBudget.from_suite(suite)
    now = int(suite.w3.eth.get_block("latest")["timestamp"])
    # the rule's label for ids counted with add1 units of 1, 10, …, 10**18 token units
    labels = {rule_id(name, 10**k): rule_label(name, 10**k) for name in RULES for k in range(19)}
    indexed = _Indexed(events) if events is not None else None
    rounds = []
    for round_id in reversed(range(budget.round_count())):
        info = budget.get_round(round_id)
        # the round was read once: the lists need neither it again nor each project's claims
        projects = indexed.projects(round_id) if indexed else tuple(budget._submitted(round_id))
        results = None
        if info.posted_at:
            supporters = [0] * len(projects)
            if indexed:
                ballots = indexed.ballots(round_id)
            else:
                ballots = [b.approvals for b in budget._ballots(info).values()]
            for approvals in ballots:
                for index in indexes_of(approvals):
                    if index < len(supporters):
                        supporters[index] += 1
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


class _Indexed:
    """Projects and current ballots folded from indexed events."""

    def __init__(self, events: EventSource) -> None:
        self._submitted = list(events("ProjectSubmitted"))
        self._cast = list(events("BallotCast"))

    def projects(self, round_id: int) -> tuple[ProjectInfo, ...]:
        found = [
            ProjectInfo.from_event(args) for args in self._submitted if int(str(args["roundId"])) == round_id
        ]
        return tuple(sorted(found, key=lambda p: p.index))

    def ballots(self, round_id: int) -> list[int]:
        """The approvals that count: each membership's last ballot in the round."""
        last: dict[int, int] = {}
        for args in self._cast:
            if int(str(args["roundId"])) == round_id:
                last[int(str(args["membership"]))] = int(str(args["approvals"]))
        return list(last.values())
