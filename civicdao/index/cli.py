"""Read-side CLI groups over the index: ``index``, ``proposals``, ``listings``, ``treasury``, ``citizens``.

Every command takes ``--network``/``--rpc-url`` (the node), ``--manifest`` (default
``deployments/<chain id>.json``) and ``--db`` (default: ``<manifest>.index.sqlite`` next to the manifest,
or a ``postgresql://`` URL), syncs the index first (``--no-sync`` reads it as it is, without a node
when ``--manifest`` is given) and prints a table, or JSON with ``--json``.

Write commands (``proposals propose``, ``listings book``, …) attach to these same groups
(:func:`civicdao.commands.register`). The options and output helpers come from :mod:`civicdao.cli_options`.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from civicdao.cli_options import (
    Node,
    connection_options,
    emit,
    eth,
    existing_manifest,
    json_option,
    manifest_option,
    print_json,
    stderr,
    stdout,
    when,
)
from civicdao.errors import ConfigError
from civicdao.index.queries import IndexReader
from civicdao.index.store import Store
from civicdao.index.sync import Deployment, Indexer, SyncReport
from civicdao.manifest import Manifest, index_db_path
from civicdao.tokens import ETH

__all__ = ["citizens_group", "index_group", "listings_group", "proposals_group", "treasury_group"]


# -- shared options and opening ---------------------------------------------------------------------------


@dataclass
class Opened:
    w3: Any
    manifest: Manifest
    deployment: Deployment
    store: Store
    reader: IndexReader


#: ``--db``: the index's database (``civicdao serve`` takes the same option).
db_option = click.option(
    "--db",
    envvar="CIVICDAO_INDEX_DB",
    help="Index database: a SQLite path or postgresql:// URL "
    "[<manifest>.index.sqlite]; or $CIVICDAO_INDEX_DB.",
)


def index_options(*, sync_flag: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--network/--rpc-url/--chain-id, --manifest, --db, --confirmations, (--no-sync) and --json."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = json_option(fn)
        if sync_flag:
            fn = click.option(
                "--no-sync", is_flag=True, help="Read the index as it is (no node needed with --manifest)."
            )(fn)
        fn = click.option(
            "--confirmations",
            type=click.IntRange(0),
            default=0,
            show_default=True,
            help="Stay this many blocks behind the head.",
        )(fn)
        return connection_options(manifest_option()(db_option(fn)))

    return decorate


def open_index(node: Node, manifest: str | None, db: str | None, *, need_node: bool = True) -> Opened:
    """Open the index of the manifest's suite (connecting to the node unless ``need_node`` is false and
    ``manifest`` names the manifest)."""
    w3 = node.web3() if need_node or not manifest else None
    path = existing_manifest(w3.eth.chain_id if w3 is not None else 0, manifest)  # no node: manifest given
    loaded = Manifest.load(path)
    deployment = Deployment.from_manifest(loaded)
    store = Store(db or str(index_db_path(path)))
    return Opened(w3, loaded, deployment, store, IndexReader(store, deployment))


def run_sync(opened: Opened, *, confirmations: int, quiet: bool) -> SyncReport:
    """Sync with a rich progress bar on stderr (none when ``quiet``)."""
    indexer = Indexer(opened.w3, opened.deployment, opened.store, confirmations=confirmations)
    if quiet:
        return indexer.sync()
    indexer.prepare()
    start = indexer.cursor
    with Progress(
        TextColumn("[dim]indexing[/dim]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocks"),
        TextColumn("{task.fields[events]} events"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    ) as progress:
        task = progress.add_task("sync", total=None, events=0)

        def update(done: int, target: int, events: int) -> None:
            progress.update(task, total=max(1, target - start), completed=done - start, events=events)

        return indexer.sync(progress=update)


def with_index(*, sync_flag: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Open (and sync) the index, then call the command with ``opened`` and its own arguments."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(
            *,
            node: Node,
            manifest: str | None,
            db: str | None,
            confirmations: int,
            as_json: bool,
            no_sync: bool = False,
            **kwargs: Any,
        ) -> Any:
            opened = open_index(node, manifest, db, need_node=not no_sync)
            try:
                if not no_sync:
                    run_sync(opened, confirmations=confirmations, quiet=as_json)
                return fn(opened, as_json=as_json, **kwargs)
            finally:
                opened.store.close()

        return index_options(sync_flag=sync_flag)(wrapper)

    return decorate


def _group(name: str, help: str) -> click.Group:
    return click.Group(name, help=help, context_settings={"help_option_names": ["-h", "--help"]})


def _show(
    opened: Opened,
    rows: Sequence[Any],
    as_json: bool,
    title: str,
    columns: Sequence[str],
    table_row: Callable[[Any], dict[str, Any]],
) -> None:
    if as_json:
        print_json([r.to_json() for r in rows])
        return
    emit([table_row(r) for r in rows], as_json=False, title=title, columns=columns)
    stderr.print(f"[dim]{len(rows)} rows, index as of block {opened.reader.as_of_block}[/dim]")


# -- index ------------------------------------------------------------------------------------------------


index_group: click.Group = _group(
    "index", "The event index every list reads (SQLite next to the manifest, or PostgreSQL)."
)


@index_group.command("sync")
@index_options(sync_flag=False)
def index_sync(node: Node, manifest: str | None, db: str | None, confirmations: int, as_json: bool) -> None:
    """Index the suite's events up to the head (minus --confirmations); resumes where it stopped."""
    opened = open_index(node, manifest, db)
    try:
        report = run_sync(opened, confirmations=confirmations, quiet=as_json)
        status = opened.reader.status()
    finally:
        opened.store.close()
    if as_json:
        print_json({**report.to_json(), "database": status["database"], "totalEvents": status["events"]})
        return
    stdout.print(
        f"indexed blocks {report.from_block}..{report.to_block}: {report.events} new events "
        f"({status['events']} in total) in {report.seconds:.2f}s → {status['database']}"
    )
    if report.rolled_back_to is not None:
        stdout.print(f"[yellow]a reorg was detected: rolled back to block {report.rolled_back_to}[/yellow]")


@index_group.command("follow")
@index_options(sync_flag=False)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=2.0,
    show_default=True,
    help="Seconds between polls.",
)
def index_follow(
    node: Node, manifest: str | None, db: str | None, confirmations: int, as_json: bool, interval: float
) -> None:
    """Keep the index in step with the chain until Ctrl-C (one line per new batch of events)."""
    opened = open_index(node, manifest, db)
    indexer = Indexer(opened.w3, opened.deployment, opened.store, confirmations=confirmations)

    def report(r: SyncReport) -> None:
        if as_json:
            click.echo(json.dumps(r.to_json()))
        else:
            note = f" (reorg: rolled back to {r.rolled_back_to})" if r.rolled_back_to is not None else ""
            stdout.print(f"block {r.to_block}: {r.events} new events{note}")

    if not as_json:
        stderr.print(f"following chain {opened.deployment.chain_id} into {opened.store.url}; Ctrl-C stops")
    stop = threading.Event()
    try:
        indexer.follow(poll_interval=interval, stop=stop, on_sync=report)
    except KeyboardInterrupt:
        stop.set()
    finally:
        opened.store.close()


@index_group.command("status")
@with_index(sync_flag=False)
def index_status(opened: Opened, *, as_json: bool) -> None:
    """What the index holds: its block range and events per contract and name (no sync)."""
    status = opened.reader.status()
    if as_json:
        print_json(status)
        return
    rows = [{"event": k, "count": v} for k, v in status["byEvent"].items()]
    emit(
        rows,
        as_json=False,
        title=f"Index {status['database']} (blocks {status['fromBlock']}..{status['toBlock']})",
        columns=["event", "count"],
    )


# -- proposals --------------------------------------------------------------------------------------------


proposals_group: click.Group = _group("proposals", "Proposals of the governor (lists read the index).")


@proposals_group.command("list")
@with_index()
@click.option(
    "--state",
    type=click.Choice(
        ["pending", "active", "canceled", "defeated", "succeeded", "queued", "expired", "executed"]
    ),
    help="Only proposals in this state.",
)
def proposals_list(opened: Opened, *, as_json: bool, state: str | None) -> None:
    """Every proposal, newest first, with its state, tally and deadline (as of the index's last block)."""
    rows = opened.reader.proposals(state=state)
    _show(
        opened,
        rows,
        as_json,
        "Proposals",
        ["id", "state", "for", "against", "abstain", "deadline", "title"],
        lambda p: {
            "id": p.id,
            "state": p.state,
            "for": p.for_votes,
            "against": p.against_votes,
            "abstain": p.abstain_votes,
            "deadline": when(p.deadline),
            "title": p.title[:60],
        },
    )


@proposals_group.command("show")
@with_index()
@click.argument("proposal_id")
def proposals_show(opened: Opened, *, as_json: bool, proposal_id: str) -> None:
    """One proposal in full: description, decoded actions, tally, deadlines, eta, and its live state."""
    try:
        wanted = int(proposal_id, 0)
    except ValueError:
        raise ConfigError(f"a proposal id is a number, got {proposal_id!r}") from None
    proposal = opened.reader.proposal(wanted)
    if proposal is None:
        raise ConfigError(f"the index has no proposal {proposal_id}: check the id, or sync the index")
    live = None
    if opened.w3 is not None:
        from civicdao.deploy import load_suite
        from civicdao.governance import Governance

        live = Governance.from_suite(load_suite(opened.w3, opened.manifest)).state(wanted).name.lower()
    if as_json:
        print_json({**proposal.to_json(), "liveState": live})
        return
    stdout.print(f"[bold]Proposal {proposal.id}[/bold]")
    stdout.print(
        f"state {proposal.state} (index, block {opened.reader.as_of_block})"
        + (f", {live} (chain, now)" if live else "")
    )
    stdout.print(
        f"proposer {proposal.proposer}; created {when(proposal.created_at)} (block {proposal.created_block})"
    )
    stdout.print(f"voting {when(proposal.snapshot)} → {when(proposal.deadline)}; eta {when(proposal.eta)}")
    stdout.print(
        f"tally: {proposal.for_votes} for, {proposal.against_votes} against, "
        f"{proposal.abstain_votes} abstain ({proposal.voters} voters, quorum {proposal.quorum})"
    )
    stdout.print("[bold]description[/bold]")
    stdout.print(proposal.description, markup=False)
    emit(
        [
            {"#": i, "target": a.target, "value": a.value, "call": a.describe()}
            for i, a in enumerate(proposal.actions)
        ],
        as_json=False,
        title="Actions",
        columns=["#", "target", "value", "call"],
    )


# -- listings ---------------------------------------------------------------------------------------------


listings_group: click.Group = _group(
    "listings", "The commons exchange's listings, calendars and bookings (read from the index)."
)


@listings_group.command("search")
@with_index()
@click.option("--kind", type=click.Choice(["room_house", "space", "tool", "skill", "nature"]))
@click.option("--status", type=click.Choice(["open", "paused", "closed"]), default="open", show_default=True)
@click.option("--any-status", is_flag=True, help="Include paused and closed listings.")
@click.option("--lister", help="Only this lister's listings.")
@click.option("--text", help="Only listings whose metadata URI contains this text.")
@click.option("--limit", type=click.IntRange(1), help="At most this many.")
def listings_search(
    opened: Opened,
    *,
    as_json: bool,
    kind: str | None,
    status: str,
    any_status: bool,
    lister: str | None,
    text: str | None,
    limit: int | None,
) -> None:
    """Find listings by kind, status, lister or text."""
    rows = opened.reader.listings(
        kind=kind, status=None if any_status else status, lister=lister, text=text, limit=limit
    )
    _show(
        opened,
        rows,
        as_json,
        "Listings",
        ["id", "kind", "unit", "price", "deposit", "status", "bookings", "lister", "metadata"],
        lambda r: {
            "id": r.listing_id,
            "kind": r.kind,
            "unit": r.unit,
            "price": eth(r.price),
            "deposit": eth(r.deposit),
            "status": r.status,
            "bookings": r.bookings,
            "lister": r.lister,
            "metadata": r.metadata_uri,
        },
    )


@listings_group.command("show")
@with_index()
@click.argument("listing_id", type=click.IntRange(0))
def listings_show(opened: Opened, *, as_json: bool, listing_id: int) -> None:
    """One listing with its bookings."""
    listing = opened.reader.listing(listing_id)
    if listing is None:
        raise ConfigError(f"the index has no listing {listing_id}: check the id, or sync the index")
    bookings = opened.reader.bookings(listing_id=listing_id)
    if as_json:
        print_json({**listing.to_json(), "bookingList": [b.to_json() for b in bookings]})
        return
    emit(
        [{"field": k, "value": v} for k, v in listing.to_json().items()],
        as_json=False,
        title=f"Listing {listing_id}",
        columns=["field", "value"],
    )
    _booking_table(bookings, f"Bookings of listing {listing_id}")


def _booking_table(rows: Sequence[Any], title: str) -> None:
    emit(
        [
            {
                "id": b.booking_id,
                "renter": b.renter,
                "start": when(b.start),
                "end": when(b.end),
                "units": b.units,
                "price": eth(b.price),
                "status": b.status,
                "deposit": b.deposit_status,
            }
            for b in rows
        ],
        as_json=False,
        title=title,
        columns=["id", "renter", "start", "end", "units", "price", "status", "deposit"],
    )


@listings_group.command("calendar")
@with_index()
@click.argument("listing_id", type=click.IntRange(0))
@click.option("--from", "start", type=click.IntRange(0), help="Unix time: only bookings ending after it.")
@click.option("--to", "end", type=click.IntRange(0), help="Unix time: only bookings starting before it.")
def listings_calendar(
    opened: Opened, *, as_json: bool, listing_id: int, start: int | None, end: int | None
) -> None:
    """The taken periods of a listing (bookings not cancelled), in time order."""
    if opened.reader.listing(listing_id) is None:
        raise ConfigError(f"the index has no listing {listing_id}: check the id, or sync the index")
    rows = opened.reader.calendar(listing_id, start=start, end=end)
    if as_json:
        print_json([b.to_json() for b in rows])
        return
    _booking_table(rows, f"Calendar of listing {listing_id}")


# -- treasury ---------------------------------------------------------------------------------------------


treasury_group: click.Group = _group(
    "treasury", "The public treasury: balance, grants and the public report."
)


@treasury_group.command("balance")
@with_index()
def treasury_balance(opened: Opened, *, as_json: bool) -> None:
    """The live balance (from the chain when connected) beside inflows and outflows from the index."""
    figures = opened.reader.treasury()
    live: dict[str, int] = {}
    if opened.w3 is not None:
        from civicdao.treasury import Treasury

        treasury = Treasury.at(opened.w3, str(opened.deployment.address_of("PublicTreasury")))
        tokens = sorted(set(figures.balances) | {ETH})
        live = {b.token: b.balance for b in treasury.balances(tokens)}
    tokens = sorted(set(figures.balances) | set(live))
    rows = [
        {
            "token": t,
            "balance": live.get(t),
            "events_balance": figures.balances.get(t, 0),
            "inflows": sum(r.amount for r in figures.inflows if r.token == t),
            "outflows": sum(r.amount for r in figures.outflows if r.token == t),
        }
        for t in tokens
    ]
    if as_json:
        print_json(
            {
                "asOfBlock": opened.reader.as_of_block,
                "balances": rows,
                "inflowsByCategory": figures.inflow_totals(),
            }
        )
        return
    emit(
        rows,
        as_json=False,
        title="Treasury balance (wei)",
        columns=["token", "balance", "events_balance", "inflows", "outflows"],
    )
    emit(
        figures.inflow_totals(),
        as_json=False,
        title="Inflows by category (wei)",
        columns=["token", "category", "amount", "count"],
    )


@treasury_group.command("grants")
@with_index()
def treasury_grants(opened: Opened, *, as_json: bool) -> None:
    """Every grant: granted, vested, claimed, returned (vesting as of the index's last block)."""
    rows = opened.reader.grants()
    _show(
        opened,
        rows,
        as_json,
        "Grants",
        ["id", "kind", "recipient", "granted", "vested", "claimed", "returned", "cancelled"],
        lambda g: {
            "id": g.grant_id,
            "kind": g.kind,
            "recipient": g.recipient,
            "granted": eth(g.granted),
            "vested": eth(g.vested),
            "claimed": eth(g.claimed),
            "returned": eth(g.returned),
            "cancelled": "yes" if g.cancelled else "no",
        },
    )


@treasury_group.command("report")
@with_index()
@click.option(
    "--out",
    "out_dir",
    default="reports/treasury",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Directory for report.html, report.json and charts.",
)
def treasury_report(opened: Opened, *, as_json: bool, out_dir: str) -> None:
    """Write the public treasury report: report.html with PNG charts, and report.json with the figures."""
    from civicdao.report import treasury_figures, write_report

    figures = treasury_figures(opened.reader)
    files = write_report(figures, out_dir)
    if as_json:
        print_json(
            {"html": str(files.html), "json": str(files.json), "charts": [str(c) for c in files.charts]}
        )
        return
    stdout.print(f"report written: {files.html} ({len(files.charts)} charts, figures in {files.json})")


# -- citizens ---------------------------------------------------------------------------------------------


citizens_group: click.Group = _group(
    "citizens", "Citizens: memberships and the delegation graph (no personal data exists on chain)."
)


@citizens_group.command("list")
@with_index()
@click.option("--revoked", is_flag=True, help="Include revoked memberships.")
@click.option("--delegations", is_flag=True, help="Print the delegation graph instead.")
def citizens_list(opened: Opened, *, as_json: bool, revoked: bool, delegations: bool) -> None:
    """Every membership with its holder, delegate and votes; or the delegation graph."""
    if delegations:
        edges = opened.reader.delegation_graph()
        if as_json:
            print_json([{"delegator": a, "delegate": b} for a, b in edges])
        else:
            emit(
                [{"delegator": a, "delegate": b} for a, b in edges],
                as_json=False,
                title="Delegations",
                columns=["delegator", "delegate"],
            )
        return
    rows = opened.reader.citizens(include_revoked=revoked)
    _show(
        opened,
        rows,
        as_json,
        f"Citizens ({len(rows)})",
        ["id", "holder", "active", "delegate", "votes", "registered"],
        lambda c: {
            "id": c.token_id,
            "holder": c.holder,
            "active": "yes" if c.active else "no",
            "delegate": c.delegate or "-",
            "votes": c.votes,
            "registered": when(c.registered_at),
        },
    )


@citizens_group.command("info")
@with_index()
@click.argument("who")
def citizens_info(opened: Opened, *, as_json: bool, who: str) -> None:
    """One membership by holder address or membership id, with who delegates to it."""
    row = opened.reader.citizen(who)
    if row is None:
        raise ConfigError(f"the index has no citizen {who!r}: pass a holder address or a membership id")
    delegators = [a for a, b in opened.reader.delegation_graph() if b.lower() == row.holder.lower()]
    if as_json:
        print_json({**row.to_json(), "delegators": delegators})
        return
    data = {**row.to_json(), "registered_at": when(row.registered_at), "delegators": ", ".join(delegators)}
    emit(
        [{"field": k, "value": v} for k, v in data.items()],
        as_json=False,
        title=f"Citizen {row.token_id}",
        columns=["field", "value"],
    )
