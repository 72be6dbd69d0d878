"""The report's figures, computed from the index: the same numbers feed the charts, the HTML and JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from civicdao.index.queries import IndexReader, TreasuryFigures
from civicdao.tokens import ETH

__all__ = ["ReportFigures", "treasury_figures"]

#: The index rows' fields the report shows (its JSON keys are their camelCase names).
_GRANT_FIELDS = (
    "grant_id", "kind", "token", "recipient", "granted", "vested", "claimed", "returned", "cancelled",
)  # fmt: skip
_ROUND_FIELDS = (
    "round_id", "token", "matching_pool", "contributions", "citizen_contributions", "total_matching",
    "leftover", "finalized",
)  # fmt: skip
_MATCH_FIELDS = (
    "round_id", "project_index", "contributions", "contributors", "matching_claimed", "recipient",
)  # fmt: skip


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
        grants=[_camel(g, _GRANT_FIELDS) for g in folded.grants],
        qf_rounds=[_camel(r, _ROUND_FIELDS) for r in folded.rounds],
        qf_matches=[_camel(m, _MATCH_FIELDS) for m in folded.matches],
        inflow_count=len(folded.inflows),
        outflow_count=len(folded.outflows),
    )


def _camel(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """``fields`` of an index row, keyed by their camelCase names (``grant_id`` → ``grantId``)."""
    return {_camel_name(name): getattr(row, name) for name in fields}


def _camel_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
