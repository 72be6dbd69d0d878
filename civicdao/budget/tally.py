"""The reproducible count: winners of a round from its ballots, by ``pabutools``.

``mes`` is the Method of Equal Shares with cost utilities completed by add1: the per-voter budget is raised by
one unit at a time (``exhaustion_by_budget_increase`` with a step of one unit per voter) for as long as the
outcome still fits the real budget; pabulib calls this rule ``equalshares/add1``, and it is what Assen,
Świecie and Wieliczka used. The unit is a count parameter: pabulib costs are in whole currency units (one
euro), but a round in wei needs a coarser one (``unit=10**15`` raises each share by 0.001 ETH a step), or add1
would take billions of steps; a unit other than 1 is part of the rule's label (``equalshares/add1;unit=…``)
and so of the rule id posted on-chain, so anyone re-counting knows it. ``greedy`` funds projects by number of
approvals while they fit (what most cities use today). Arithmetic is exact (``gmpy2`` rationals inside
pabutools).

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

__all__ = ["RULES", "Payment", "TallyResult", "ballot_digest", "rule_id", "rule_label", "tally"]

#: Rule names the CLI takes → the pabulib ``rule`` label (whose keccak256 is the on-chain rule id).
RULES: dict[str, str] = {"mes": "equalshares/add1", "greedy": "greedy"}
#: Above this many potential add1 steps (total cost / unit), a count asks for a coarser unit.
_MAX_ADD1_STEPS = 2_000_000


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
    unit: int
    selected: tuple[int, ...]
    cost: int
    budget: int
    voters: int
    ballot_digest: str
    payments: tuple[Payment, ...] = ()

    @property
    def rule_id(self) -> str:
        return rule_id(self.rule, self.unit)

    @property
    def winners_bitmap(self) -> int:
        return sum(1 << index for index in self.selected)


def rule_id(rule: str, unit: int = 1) -> str:
    """The on-chain id of a rule: keccak256 of its label (with the add1 unit when not 1), as 0x hex."""
    return Web3.keccak(text=rule_label(rule, unit)).to_0x_hex()


def rule_label(rule: str, unit: int = 1) -> str:
    """``equalshares/add1`` (``;unit=N`` appended for a unit other than 1), or ``greedy``."""
    label = _label(rule)
    return f"{label};unit={unit}" if rule == "mes" and unit != 1 else label


def ballot_digest(ballots: Mapping[int, int]) -> str:
    """keccak256 over (membership, approvals) pairs as two uint256 each, memberships in increasing order."""
    body = b"".join(encode(["uint256", "uint256"], [m, ballots[m]]) for m in sorted(ballots))
    return Web3.keccak(body).to_0x_hex()


def tally(
    costs: Sequence[int], ballots: Mapping[int, int], budget: int, rule: str = "mes", *, unit: int = 1
) -> TallyResult:
    """The winners of a round: ``costs[i]`` is project i's cost, ``ballots`` maps membership → bitmap;
    ``unit`` is add1's step per voter (in the costs' units).

    Raises:
        BudgetError: an unknown rule, a non-positive budget, cost or unit, a unit so fine that add1 could
            take millions of steps, or a ballot naming an unknown project.
    """
    label = rule_label(rule, unit)
    if budget <= 0 or any(cost <= 0 for cost in costs):
        raise BudgetError("a tally needs a positive budget and positive project costs")
    if not isinstance(unit, int) or unit < 1:
        raise BudgetError(f"the add1 unit is a whole number of token units, at least 1, got {unit!r}")
    if rule == "mes" and sum(costs) // unit > _MAX_ADD1_STEPS:
        raise BudgetError(
            f"costs total {sum(costs)} units: add1 in steps of {unit} could take millions of MES runs; "
            f"count with a coarser unit (--unit {10 ** max(len(str(sum(costs) // _MAX_ADD1_STEPS)), 1)})"
        )
    instance, profile, projects = _election(costs, ballots, budget)
    if rule == "mes":
        allocation = _mes_add1(instance, profile, unit)
    else:
        from pabutools.election import Cost_Sat
        from pabutools.rules import greedy_utilitarian_welfare

        allocation = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    selected = tuple(sorted(projects.index(p) for p in allocation))
    payments = _payments(allocation, profile, projects) if rule == "mes" else ()
    return TallyResult(
        rule=rule,
        label=label,
        unit=unit,
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


def _mes_add1(instance: Any, profile: Any, unit: int) -> Any:
    from pabutools.election import Cost_Sat
    from pabutools.rules import exhaustion_by_budget_increase, method_of_equal_shares

    return exhaustion_by_budget_increase(
        instance,
        profile,
        method_of_equal_shares,
        {"sat_class": Cost_Sat, "analytics": True},
        budget_step=max(len(profile), 1) * unit,
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
