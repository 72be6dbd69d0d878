"""Participatory-budgeting benchmark: a generated election of >= 5,000 voters and >= 60 projects replayed on
Anvil (register, sign, relay in batches of 100, tally from the chain), with the tally timed on its own.

    python benchmarks/budget_bench.py [--voters 5000] [--projects 64] [--out benchmarks/budget.json]

Targets (issue 13): the replay within 10 minutes on 2 cores, the tally within 2 minutes, a relayed approval
ballot at most 45,000 gas per ballot in a batch of 100. Writes its figures to ``benchmarks/budget.json``.
The election is seeded, so every run replays the same ballots.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from civicdao.budget import read_pabulib, replay, tally
from civicdao.budget.types import bitmap_of

HERE = Path(__file__).resolve().parent
TARGETS = {"replay_seconds": 600, "tally_seconds": 120, "gas_per_ballot": 45_000}


def generate(path: Path, *, voters: int, projects: int, seed: int = 2024) -> Path:
    """A city-like approval election: three districts with their own favourites plus city-wide projects.

    Costs are in hundreds of euros (so add1 raises each share by 100 euros a step), the budget is a quarter
    of the total cost, ballots approve 2 to 8 projects, and districts differ in size (50 %, 30 %, 20 %).
    """
    rng = random.Random(seed)
    costs = [rng.choice([50, 80, 100, 150, 200, 300, 400, 600, 800, 1_200]) for _ in range(projects)]
    budget = sum(costs) // 4
    district_of = [i % 4 for i in range(projects)]  # 0, 1, 2: a district's own; 3: city-wide
    popularity = [rng.uniform(0.2, 1.0) for _ in range(projects)]
    lines = [
        "META", "key;value", "description;CivicDAO benchmark election", "country;Nowhere", "unit;Benchmark",
        f"num_projects;{projects}", f"num_votes;{voters}", f"budget;{budget}", "vote_type;approval",
        "rule;equalshares/add1", "currency;EUR (hundreds)", "min_length;1", "max_length;8",
        "PROJECTS", "project_id;cost;name;selected",
    ]  # fmt: skip
    ballots = []
    for voter in range(voters):
        district = 0 if voter % 10 < 5 else 1 if voter % 10 < 8 else 2
        weights = [
            popularity[p] * (3.0 if district_of[p] == district else 1.5 if district_of[p] == 3 else 0.2)
            for p in range(projects)
        ]
        length = rng.randint(2, 8)
        chosen: set[int] = set()
        while len(chosen) < length:
            chosen.add(rng.choices(range(projects), weights)[0])
        ballots.append(sorted(chosen))
    ids = [str(p + 1) for p in range(projects)]
    names = sorted(ids)  # pabutools names projects by id; the tally's order is the ids' lexicographic order
    index = {pid: i for i, pid in enumerate(names)}
    costs_by_name = [costs[int(pid) - 1] for pid in names]
    official = tally(
        costs_by_name,
        {v + 1: bitmap_of(index[ids[p]] for p in b) for v, b in enumerate(ballots)},
        budget,
    )
    selected = {names[i] for i in official.selected}
    for p, pid in enumerate(ids):
        lines.append(f"{pid};{costs[p]};project {pid};{int(pid in selected)}")
    lines += ["VOTES", "voter_id;vote"]
    lines += [f"{v + 1};{','.join(ids[p] for p in b)}" for v, b in enumerate(ballots)]
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--voters", type=int, default=5_000)
    parser.add_argument("--projects", type=int, default=64)
    parser.add_argument("--out", type=Path, default=HERE / "budget.json")
    parser.add_argument(
        "--pb",
        type=Path,
        default=Path(tempfile.gettempdir()) / "civicdao_budget_bench.pb",
        help="Where the generated election is written (a pabulib file).",
    )
    args = parser.parse_args(argv)

    started = time.monotonic()
    generate(args.pb, voters=args.voters, projects=args.projects)
    generate_seconds = time.monotonic() - started

    election = read_pabulib(args.pb)
    index = {p.project_id: i for i, p in enumerate(election.projects)}
    ballots = {m + 1: bitmap_of(index[p] for p in b) for m, b in enumerate(election.ballots)}
    started = time.monotonic()
    offline = tally([p.cost for p in election.projects], ballots, election.budget)
    tally_seconds = time.monotonic() - started

    def progress(stage: str, done: int, total: int) -> None:
        if done == total or done % 1000 == 0:
            print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)

    started = time.monotonic()
    result = replay(args.pb, progress=progress)
    replay_seconds = time.monotonic() - started
    figures = {
        "voters": result.voters,
        "projects": result.projects,
        "budget": election.budget,
        "rule": result.tally.label,
        "selected": list(result.selected),
        "matches_offline_tally": result.matches
        and tuple(sorted(election.projects[i].project_id for i in offline.selected)) == result.selected,
        "replay_seconds": round(replay_seconds, 1),
        "replay_stage_seconds": {k: round(v, 1) for k, v in result.seconds.items()},
        "tally_seconds": round(tally_seconds, 1),
        "tally_from_chain_seconds": round(result.seconds.get("tally", 0.0), 1),
        "gas_per_ballot": round(result.gas_per_ballot),
        "batch_size": result.batch_size,
        "batches": result.batches,
        "generate_seconds": round(generate_seconds, 1),
        "targets": TARGETS,
        "within_targets": replay_seconds <= TARGETS["replay_seconds"]
        and tally_seconds <= TARGETS["tally_seconds"]
        and result.gas_per_ballot <= TARGETS["gas_per_ballot"],
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0 if figures["within_targets"] and figures["matches_offline_tally"] else 1


if __name__ == "__main__":
    sys.exit(main())
