"""The report's figures, computed from the index: the same numbers feed the charts, the HTML and JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from civicdao.deploy import ETH
from civicdao.index.queries import IndexReader, TreasuryFigures

__all__ = ["ReportFigures", "treasury_figures"]


@dataclass(frozen=True)
class ReportFigures:
    """Every figure of the treasury report, JSON-ready through :meth:`to_json`."""

    chain_id: int
    treasury: str | None
    as_of_block: int
    as_of: int
    balances: dict[str, int]
    balance_over_time: dict[str, list[tuple[int, int, int]]]
    inflows_by_category: list[dict[str, Any]]
    outflows_by_kind: list[dict[str, Any]]
    outflows_per_grant: list[dict[str, Any]]
    grants: list[dict[str, Any]]
    qf_rounds: list[dict[str, Any]]
    qf_matches: list[dict[str, Any]]
    inflow_count: int
    outflow_count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "treasury": self.treasury,
            "asOfBlock": self.as_of_block,
            "asOf": self.as_of,
            "balances": self.balances,
            "balanceOverTime": {
                token: [{"block": b, "timestamp": t, "balance": v} for b, t, v in points]
                for token, points in self.balance_over_time.items()
            },
            "inflowsByCategory": self.inflows_by_category,
            "outflowsByKind": self.outflows_by_kind,
            "outflowsPerGrant": self.outflows_per_grant,
            "grantsVestedVsClaimed": self.grants,
            "qfRounds": self.qf_rounds,
            "qfMatchesPerProject": self.qf_matches,
            "inflowCount": self.inflow_count,
            "outflowCount": self.outflow_count,
        }


def treasury_figures(reader: IndexReader) -> ReportFigures:
    """The report's figures as of the index's last block."""
    folded = reader.treasury()
    return figures_from(folded, reader)


def figures_from(folded: TreasuryFigures, reader: IndexReader) -> ReportFigures:
    history: dict[str, list[tuple[int, int, int]]] = {}
    for point in folded.balance_history:
        history.setdefault(point.token, []).append((point.block, point.timestamp, point.balance))
    by_kind: dict[tuple[str, str], list[int]] = {}
    for out in folded.outflows:
        entry = by_kind.setdefault((out.token, out.kind), [0, 0])
        entry[0] += out.amount
        entry[1] += 1
    per_grant: dict[int, int] = {}
    for out in folded.outflows:
        if out.kind == "grant" and out.reference is not None:
            per_grant[out.reference] = per_grant.get(out.reference, 0) + out.amount
    grant_tokens = {g.grant_id: g.token for g in folded.grants}
    return ReportFigures(
        chain_id=reader.deployment.chain_id,
        treasury=reader.deployment.address_of("PublicTreasury"),
        as_of_block=reader.as_of_block,
        as_of=reader.as_of,
        balances=folded.balances or {ETH: 0},
        balance_over_time=history,
        inflows_by_category=folded.inflow_totals(),
        outflows_by_kind=[
            {"token": t, "kind": k, "amount": v[0], "count": v[1]} for (t, k), v in sorted(by_kind.items())
        ],
        outflows_per_grant=[
            {"grantId": gid, "token": grant_tokens.get(gid, ETH), "amount": amount}
            for gid, amount in sorted(per_grant.items())
        ],
        grants=[
            {
                "grantId": g.grant_id,
                "kind": g.kind,
                "token": g.token,
                "recipient": g.recipient,
                "granted": g.granted,
                "vested": g.vested,
                "claimed": g.claimed,
                "returned": g.returned,
                "cancelled": g.cancelled,
            }
            for g in folded.grants
        ],
        qf_rounds=[
            {
                "roundId": r.round_id,
                "token": r.token,
                "matchingPool": r.matching_pool,
                "contributions": r.contributions,
                "citizenContributions": r.citizen_contributions,
                "totalMatching": r.total_matching,
                "leftover": r.leftover,
                "finalized": r.finalized,
            }
            for r in folded.rounds
        ],
        qf_matches=[
            {
                "roundId": m.round_id,
                "projectIndex": m.project_index,
                "contributions": m.contributions,
                "contributors": m.contributors,
                "matchingClaimed": m.matching_claimed,
                "recipient": m.recipient,
            }
            for m in folded.matches
        ],
        inflow_count=len(folded.inflows),
        outflow_count=len(folded.outflows),
    )
