"""Draw the report: PNG charts with matplotlib (Agg, no display needed), one HTML page, one JSON file."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from civicdao.errors import ConfigError
from civicdao.report.figures import ReportFigures
from civicdao.tokens import ETH

__all__ = ["ReportFiles", "write_report"]

UNIT = 10**18
MAX_LINE_POINTS = 2_000  # the chart thins a long balance history; the JSON keeps every point
DPI = 80
#: Fixed margins (tight_layout measures every label first and costs more than drawing the chart).
LAYOUT = {"left": 0.1, "right": 0.98, "top": 0.9, "bottom": 0.3}


@dataclass(frozen=True)
class _Bars:
    """One bar chart: which rows of the figures it draws, how each is labelled, and its series."""

    file: str
    title: str
    rows: str
    label: Callable[[dict[str, Any]], str]
    #: (legend name, the rows' key) for each series.
    series: tuple[tuple[str, str], ...]


def _token_suffix(token: str) -> str:
    return "" if token == ETH else f" ({token[:8]}…)"


_BARS = (
    _Bars(
        "inflows.png",
        "Inflows by category",
        "inflows_by_category",
        lambda r: f"{r['category']}{_token_suffix(r['token'])}",
        (("amount", "amount"),),
    ),
    _Bars(
        "outflows_per_grant.png",
        "Outflows per grant (claimed)",
        "outflows_per_grant",
        lambda r: f"grant {r['grantId']}",
        (("paid", "amount"),),
    ),
    _Bars(
        "grants.png",
        "Grants: vested vs claimed",
        "grants",
        lambda g: f"grant {g['grantId']}",
        (("granted", "granted"), ("vested", "vested"), ("claimed", "claimed")),
    ),
    _Bars(
        "qf_matches.png",
        "QF: contributions and matching per project",
        "qf_matches",
        lambda m: f"round {m['roundId']} / #{m['projectIndex']}",
        (("contributions", "contributions"), ("matching claimed", "matchingClaimed")),
    ),
)


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    json: Path
    charts: tuple[Path, ...]


def write_report(figures: ReportFigures, out_dir: str | Path) -> ReportFiles:
    """Write ``report.html``, ``report.json`` and the charts into ``out_dir`` (created if missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        raise ConfigError("the treasury report needs matplotlib: pip install 'civicdao[report]'") from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    charts = [_balance_chart(plt, figures, out / "balance.png")]
    for bar in _BARS:
        rows: list[dict[str, Any]] = getattr(figures, bar.rows)
        series = {name: [row[key] for row in rows] for name, key in bar.series}
        charts.append(_bar_chart(plt, out / bar.file, bar.title, [bar.label(row) for row in rows], series))
    json_path = out / "report.json"
    json_path.write_text(json.dumps(figures.to_json(), indent=2))
    html_path = out / "report.html"
    html_path.write_text(_html(figures, charts))
    return ReportFiles(html=html_path, json=json_path, charts=tuple(charts))


def _balance_chart(plt: Any, figures: ReportFigures, path: Path) -> Path:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    fig, ax = plt.subplots(figsize=(7, 3.2))
    for token, points in figures.balance_over_time.items():
        step = max(1, len(points) // MAX_LINE_POINTS)
        thinned = points[::step] + ([points[-1]] if (len(points) - 1) % step else [])
        xs = [datetime.fromtimestamp(t, UTC) for _, t, _ in thinned]
        ys = [v / UNIT for _, _, v in thinned]
        ax.step(xs, ys, where="post", label="ETH" if token == ETH else token)
    _style(ax, "Treasury balance over time")
    locator = AutoDateLocator(minticks=3, maxticks=6)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    if figures.balance_over_time:
        ax.legend(loc="upper left", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no movements yet", ha="center", va="center", transform=ax.transAxes)
    fig.subplots_adjust(**{**LAYOUT, "bottom": 0.15})
    fig.savefig(path, dpi=DPI, pil_kwargs={"compress_level": 1})
    plt.close(fig)
    return path


def _style(ax: Any, title: str) -> None:
    """Title at a fixed height (matplotlib's automatic title placement measures every tick label) and a
    few y ticks: drawing tick labels is most of a small chart's cost."""
    from matplotlib.ticker import MaxNLocator

    ax.set_title(title, y=1.02)
    ax.set_ylabel("tokens")
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))


def _bar_chart(plt: Any, path: Path, title: str, labels: Sequence[str], series: dict[str, list[int]]) -> Path:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    if labels:
        width = 0.8 / max(1, len(series))
        for n, (name, values) in enumerate(series.items()):
            positions = [i + n * width for i in range(len(labels))]
            ax.bar(positions, [v / UNIT for v in values], width=width, label=name)
        ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))])
        ax.set_xticklabels(labels, rotation=20, ha="right", fontsize="small")
        if len(series) > 1:
            ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "none yet", ha="center", va="center", transform=ax.transAxes)
    _style(ax, title)
    fig.subplots_adjust(**LAYOUT)
    fig.savefig(path, dpi=DPI, pil_kwargs={"compress_level": 1})
    plt.close(fig)
    return path


def _amount(value: int, token: str) -> str:
    if token == ETH:
        return f"{value / UNIT:,.6f} ETH"
    return f"{value} (token {token})"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _totals(rows: Sequence[dict[str, Any]], key: str) -> str:
    """A table of amounts and counts per token and ``key`` (an inflow's category, an outflow's kind)."""
    cells = [(r["token"], r[key], _amount(r["amount"], r["token"]), r["count"]) for r in rows]
    return _table(["token", key, "amount", "count"], cells)


def _html(f: ReportFigures, charts: Sequence[Path]) -> str:
    when = datetime.fromtimestamp(f.as_of, UTC).strftime("%Y-%m-%d %H:%M UTC") if f.as_of else "-"
    img = {p.stem: f'<img src="{html.escape(p.name)}" alt="{html.escape(p.stem)}">' for p in charts}
    sections = [
        f"<h1>Public treasury report</h1><p>Chain {f.chain_id}, treasury <code>{html.escape(str(f.treasury))}"
        f"</code>, as of block {f.as_of_block} ({when}). Every figure comes from the treasury's events; "
        "the same figures are in <a href='report.json'>report.json</a>.</p>",
        "<h2>Balance</h2>"
        + _table(["token", "balance"], [(t, _amount(v, t)) for t, v in f.balances.items()])
        + img["balance"],
        "<h2>Inflows by category</h2>" + _totals(f.inflows_by_category, "category") + img["inflows"],
        "<h2>Outflows</h2>" + _totals(f.outflows_by_kind, "kind") + img["outflows_per_grant"],
        "<h2>Grants: vested vs claimed</h2>"
        + _table(
            ["grant", "kind", "recipient", "granted", "vested", "claimed", "returned", "cancelled"],
            [
                (
                    g["grantId"],
                    g["kind"],
                    g["recipient"],
                    _amount(g["granted"], g["token"]),
                    _amount(g["vested"], g["token"]),
                    _amount(g["claimed"], g["token"]),
                    _amount(g["returned"], g["token"]),
                    "yes" if g["cancelled"] else "no",
                )
                for g in f.grants
            ],
        )
        + img["grants"],
        "<h2>Quadratic funding</h2>"
        + _table(
            ["round", "pool", "contributions", "from citizens", "matching", "leftover", "finalized"],
            [
                (
                    r["roundId"],
                    _amount(r["matchingPool"], r["token"]),
                    _amount(r["contributions"], r["token"]),
                    _amount(r["citizenContributions"], r["token"]),
                    _amount(r["totalMatching"], r["token"]),
                    _amount(r["leftover"], r["token"]),
                    "yes" if r["finalized"] else "no",
                )
                for r in f.qf_rounds
            ],
        )
        + _table(
            ["round", "project", "contributions", "contributors", "matching claimed", "recipient"],
            [
                (
                    m["roundId"],
                    m["projectIndex"],
                    m["contributions"],
                    m["contributors"],
                    m["matchingClaimed"],
                    m["recipient"] or "-",
                )
                for m in f.qf_matches
            ],
        )
        + img["qf_matches"],
    ]
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
        "font-size:.9rem;text-align:left}img{display:block;max-width:100%;margin:.5rem 0 1.5rem}"
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Public treasury report</title>"
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>\n"
    )
