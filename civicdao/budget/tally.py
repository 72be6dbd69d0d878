"""The reproducible count: winners of a round from its ballots, by ``pabutools``.

``mes`` is the Method of Equal Shares with cost utilities completed by add1: the per-voter budget is raised by
one unit at a time (``exhaustion_by_budget_increase`` with a step of one unit per voter) for as long as the
outcome still fits the real budget; pabulib calls this rule ``equalshares/add1``, and it is what Assen,
Świecie and Wieliczka used. ``greedy`` funds projects by number of approvals while they fit (what most cities
use today). Arithmetic is exact (``gmpy2`` rationals inside pabutools).

Projects are named by their zero-padded index, so pabutools' lexicographic tie-breaking is "lower index
first"; a replay of a pabulib file submits projects in the lexicographic order of their ids, which keeps the
file's own tie-breaking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from eth_abi.abi import encode
from web3 import Web3

from civicdao.budget.types import BudgetError, indexes_of

__all__ = ["RULES", "Payment", "TallyResult", "ballot_digest", "rule_id", "tally"]

#: Rule names the CLI takes → the pabulib ``rule`` label (whose keccak256 is the on-chain rule id).
RULES: dict[str, str] = {"mes": "equalshares/add1", "greedy": "greedy"}


@dataclass(frozen=True)
class Payment:
    """What the supporters of one winning project paid for it under MES (virtual budget units)."""

    project: int
    supporters: int
    paid: Fraction
    largest_share: Fraction


@dataclass(frozen=True)
class TallyResult:
    """The winners a rule picks from a ballot set, with the set's digest."""

    rule: str
    label: str
    selected: tuple[int, ...]
    cost: int
    budget: int
    voters: int
    ballot_digest: str
    payments: tuple[Payment, ...] = ()

    @property
    def rule_id(self) -> str:
        return rule_id(self.rule)

    @property
    def winners_bitmap(self) -> int:
        return sum(1 << index for index in self.selected)


def rule_id(rule: str) -> str:
    """The on-chain id of a rule: keccak256 of its pabulib label, as 0x hex."""
    return Web3.keccak(text=_label(rule)).to_0x_hex()


def ballot_digest(ballots: Mapping[int, int]) -> str:
    """keccak256 over (membership, approvals) pairs as two uint256 each, memberships in increasing order."""
    body = b"".join(encode(["uint256", "uint256"], [m, ballots[m]]) for m in sorted(ballots))
    return Web3.keccak(body).to_0x_hex()


def tally(costs: Sequence[int], ballots: Mapping[int, int], budget: int, rule: str = "mes") -> TallyResult:
    """The winners of a round: ``costs[i]`` is project i's cost, ``ballots`` maps membership → bitmap.

    Raises:
        BudgetError: an unknown rule, a non-positive budget or cost, or a ballot naming an unknown project.
    """
    label = _label(rule)
    if budget <= 0 or any(cost <= 0 for cost in costs):
        raise BudgetError("a tally needs a positive budget and positive project costs")
    instance, profile, projects = _election(costs, ballots, budget)
    if rule == "mes":
        allocation = _mes_add1(instance, profile)
    else:
        from pabutools.election import Cost_Sat
        from pabutools.rules import greedy_utilitarian_welfare

        allocation = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    selected = tuple(sorted(projects.index(p) for p in allocation))
    payments = _payments(allocation, profile, projects) if rule == "mes" else ()
    return TallyResult(
        rule=rule,
        label=label,
        selected=selected,
        cost=sum(costs[i] for i in selected),
        budget=budget,
        voters=len(ballots),
        ballot_digest=ballot_digest(ballots),
        payments=payments,
    )


def _label(rule: str) -> str:
    if rule not in RULES:
        raise BudgetError(f"unknown rule {rule!r}: use one of {', '.join(RULES)}")
    return RULES[rule]


def _election(costs: Sequence[int], ballots: Mapping[int, int], budget: int) -> tuple[Any, Any, list[Any]]:
    from pabutools.election import ApprovalBallot, ApprovalProfile, Instance, Project

    projects = [Project(f"{index:03d}", cost) for index, cost in enumerate(costs)]
    instance = Instance(projects, budget_limit=budget)
    profile = ApprovalProfile(instance=instance)
    for membership in sorted(ballots):
        indexes = indexes_of(ballots[membership])
        if indexes and indexes[-1] >= len(projects):
            raise BudgetError(
                f"membership {membership}'s ballot names project {indexes[-1]}, which does not exist"
            )
        profile.append(ApprovalBallot(projects[i] for i in indexes))
    return instance, profile, projects


def _mes_add1(instance: Any, profile: Any) -> Any:
    from pabutools.election import Cost_Sat
    from pabutools.rules import exhaustion_by_budget_increase, method_of_equal_shares

    return exhaustion_by_budget_increase(
        instance,
        profile,
        method_of_equal_shares,
        {"sat_class": Cost_Sat, "analytics": True},
        budget_step=max(len(profile), 1),
    )


def _payments(allocation: Any, profile: Any, projects: list[Any]) -> tuple[Payment, ...]:
    details = getattr(allocation, "details", None)
    if details is None:
        return ()
    rows = []
    for iteration in details.iterations:
        project = iteration.selected_project
        if project is None:
            continue
        before, after = iteration.voters_budget, iteration.voters_budget_after_selection
        shares = [
            Fraction(int(b.numerator), int(b.denominator)) - Fraction(int(a.numerator), int(a.denominator))
            for b, a in zip(before, after, strict=True)
        ]
        paid = [share for share in shares if share > 0]
        supporters = sum(1 for ballot in profile if project in ballot)
        rows.append(
            Payment(
                projects.index(project), supporters, sum(paid, Fraction(0)), max(paid, default=Fraction(0))
            )
        )
    return tuple(sorted(rows, key=lambda row: row.project))
