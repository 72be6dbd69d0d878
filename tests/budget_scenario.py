"""A participatory-budgeting round opened the way a city opens one, for the relayer and web app tests:
a donation to the treasury, the DAO proposal that funds the round and opens it (passed by ``voters``),
projects submitted, then the clock moved to the voting window."""

from __future__ import annotations

from collections.abc import Sequence

from civicdao.accounts import Signer
from civicdao.budget import ParticipatoryBudget
from civicdao.chain import ChainControl
from civicdao.deploy import Suite
from civicdao.governance import Governance
from civicdao.local import pass_proposal
from civicdao.treasury import Treasury
from civicdao.tx import call

ETHER = 10**18


def open_budget_round(
    suite: Suite,
    control: ChainControl,
    voters: Sequence[Signer],
    projects: Sequence[tuple[str, int, str]],
    *,
    budget: int = ETHER,
    max_approvals: int = 3,
    voting_period: int = 7 * 86_400,
) -> int:
    """Open a round of ``budget`` wei with ``projects`` (title, cost, recipient) and move to its voting
    window; ``voters[0]`` donates, proposes and submits; every voter passes the proposal."""
    treasury = Treasury.from_suite(suite)
    treasury.donate(voters[0], 2 * budget, note="pb round")
    # the round's transfer counts against the treasury's epoch cap: start a fresh epoch
    control.increase_time(int(call(suite.treasury.functions.epochClock())[5]) - control.time() + 1)
    pb = ParticipatoryBudget.from_suite(suite)
    actions = pb.open_round_actions(
        treasury,
        budget=budget,
        submission_period=3_600,
        voting_period=voting_period,
        challenge_period=3_600,
        max_approvals=max_approvals,
    )
    governance = Governance.from_suite(suite)
    pass_proposal(governance, control, voters[0], voters, actions, "# Participatory budget for the parks")
    round_id = pb.round_count() - 1
    for title, cost, recipient in projects:
        pb.submit_project(voters[0], round_id, recipient=recipient, cost=cost, metadata_uri=title)
    control.increase_time(pb.get_round(round_id).voting_start - control.time())
    return round_id
