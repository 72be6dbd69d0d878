"""Pabulib ``.pb`` files, the field's data format: read an election, write a finished round.

A file has three sections separated by their headers (``META``, ``PROJECTS``, ``VOTES``), each a
``;``-separated table. :func:`read_pabulib` parses one with ``pabutools`` and keeps what a replay needs;
:func:`write_pabulib` writes a round read from the chain so that pabutools (and pabulib's own tools) read it.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from civicdao.budget.tally import TallyResult
from civicdao.budget.types import Ballot, BudgetError, ProjectInfo, RoundInfo

__all__ = ["Election", "PabulibProject", "read_pabulib", "write_pabulib"]


@dataclass(frozen=True)
class PabulibProject:
    """One project of a pabulib file."""

    project_id: str
    cost: int
    name: str
    selected: bool


@dataclass(frozen=True)
class Election:
    """An approval election read from a pabulib file."""

    path: Path
    budget: int
    projects: tuple[PabulibProject, ...]
    ballots: tuple[tuple[str, ...], ...]
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def rule(self) -> str:
        return self.meta.get("rule", "")

    @property
    def selected(self) -> tuple[str, ...]:
        """The ids the file marks as selected (the official outcome), in the file's sort order."""
        return tuple(sorted(p.project_id for p in self.projects if p.selected))

    @property
    def min_length(self) -> int:
        """The ballot-length floor to replay with: the file's ``min_length``, lowered to what voters cast."""
        shortest = min((len(b) for b in self.ballots if b), default=1)
        return max(1, min(int(self.meta.get("min_length", 1)), shortest))

    @property
    def max_length(self) -> int:
        longest = max((len(b) for b in self.ballots), default=1)
        return max(longest, min(int(self.meta.get("max_length", longest)), 256))


def read_pabulib(path: str | Path) -> Election:
    """Read an approval election.

    Raises:
        BudgetError: the file is missing or not an approval election with whole-number costs, or has more
            than 256 projects.
    """
    from pabutools.election import parse_pabulib

    source = Path(path)
    if not source.is_file():
        raise BudgetError(f"no pabulib file at {source}: give the path of a .pb file")
    try:
        instance, profile = parse_pabulib(str(source))
    except Exception as exc:  # pabutools raises KeyError, ValueError, IndexError… on malformed files
        raise BudgetError(f"{source} is not a readable pabulib file: {exc}") from None
    meta = {str(k): str(v) for k, v in instance.meta.items()}
    if meta.get("vote_type", "approval") != "approval":
        raise BudgetError(f"{source} is a {meta['vote_type']} election; CivicDAO replays approval elections")
    if len(instance) > 256:
        raise BudgetError(f"{source} has {len(instance)} projects; a round holds at most 256")
    projects = tuple(
        sorted(
            (
                PabulibProject(
                    project_id=str(p.name),
                    cost=_whole(p.cost, f"project {p.name}'s cost"),
                    name=str(instance.project_meta.get(p, {}).get("name", "")),
                    selected=str(instance.project_meta.get(p, {}).get("selected", "0")).strip() == "1",
                )
                for p in instance
            ),
            key=lambda p: p.project_id,
        )
    )
    ballots = tuple(tuple(sorted(str(p.name) for p in ballot)) for ballot in profile)
    return Election(source, _whole(instance.budget_limit, "the budget"), projects, ballots, meta)


def write_pabulib(
    path: str | Path,
    info: RoundInfo,
    projects: Sequence[ProjectInfo],
    ballots: Mapping[int, Ballot],
    result: TallyResult | None = None,
    *,
    description: str = "CivicDAO participatory budget",
) -> Path:
    """Write a round as a pabulib file; voters are named by membership id, projects by their label."""
    target = Path(path)
    labels = [project.label for project in projects]
    votes = [0] * len(projects)
    for ballot in ballots.values():
        for index in ballot.projects:
            votes[index] += 1
    selected = set(result.selected if result is not None else info.winners)
    rows_meta = [
        ("description", description),
        ("num_projects", str(len(projects))),
        ("num_votes", str(len(ballots))),
        ("budget", str(info.budget)),
        ("vote_type", "approval"),
        ("rule", result.label if result is not None else "equalshares/add1"),
        ("min_length", str(info.min_approvals)),
        ("max_length", str(info.max_approvals)),
        ("round", str(info.round_id)),
    ]
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(["META"])
        writer.writerow(["key", "value"])
        writer.writerows(rows_meta)
        writer.writerow(["PROJECTS"])
        writer.writerow(["project_id", "cost", "votes", "name", "selected"])
        for project in projects:
            writer.writerow(
                [labels[project.index], project.cost, votes[project.index], project.metadata_uri,
                 int(project.index in selected)]
            )  # fmt: skip
        writer.writerow(["VOTES"])
        writer.writerow(["voter_id", "vote"])
        for membership in sorted(ballots):
            writer.writerow([membership, ",".join(labels[i] for i in ballots[membership].projects)])
    return target


def _whole(value: object, what: str) -> int:
    number = int(value)  # type: ignore[call-overload]
    if number != value or number <= 0:  # a fraction, or not positive
        raise BudgetError(f"{what} must be a positive whole number, got {value}")
    return int(number)
