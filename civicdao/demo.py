"""The civic demo: a neighbourhood deploys CivicDAO on a local chain and governs itself.

It starts its own chain, deploys the suite, onboards residents (the registrar records only a salted
credential hash), walks one proposal from creation to execution through the Timelock, shares a spare
room through the exchange (whose fee goes to the public treasury), funds a streaming grant by a
citizen vote, and runs a short participatory-budgeting round counted by the Method of Equal Shares. It
ends by indexing the chain's events and writing the public treasury report. It stops the chain when done,
whatever happens, unless asked to keep it: then the chain stays up on a fixed port with the manifest in
``deployments/<chain id>.json``, for the CLI and the web app to use, until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from civicdao.accounts import Signer, node_signers
from civicdao.chain import ChainKind, LocalChain
from civicdao.citizens import credential_hash
from civicdao.config import DAY, load_config
from civicdao.dao import CivicDAO
from civicdao.errors import ChainStartError
from civicdao.exchange import CancellationPolicy, Kind, ListingSpec, SlotsTakenError, Unit
from civicdao.governance import VoteType
from civicdao.manifest import DEFAULT_DEPLOYMENTS_DIR, index_db_path
from civicdao.tokens import ETH

__all__ = ["run_demo", "spare_room"]

RESIDENTS = ("Amara", "Bo", "Chidi", "Dana")
#: The port a kept chain listens on unless told otherwise (the usual local node port).
KEEP_PORT = 8545
ETHER = 10**18
#: The demo registrar's secret salt (a real registrar generates one with ``civicdao.citizens.new_salt()``).
DEMO_SALT = b"demo-salt: the registrar keeps it off-chain"
Say = Callable[[str], None]


def run_demo(
    kind: ChainKind = "anvil",
    *,
    preset: str = "pilot",
    say: Say = print,
    keep_chain: bool = False,
    port: int | None = None,
    deployments_dir: str | Path = DEFAULT_DEPLOYMENTS_DIR,
    report_dir: str | Path = "reports/treasury",
) -> None:
    """Run the demo end to end, narrating each step through ``say``.

    With ``keep_chain``, the chain listens on ``port`` (default 8545), the manifest is written to
    ``deployments_dir/<chain id>.json`` (an older one there is moved aside), and after the last step the
    call blocks, printing the commands to try next, until KeyboardInterrupt; then it stops the chain.
    The treasury report is written to ``report_dir`` either way.
    """
    config = load_config(preset)
    if keep_chain:
        port = port or KEEP_PORT
        _check_port_free(port)
    manifest_path = Path(deployments_dir) / "31337.json" if keep_chain else None
    if manifest_path is not None:
        _move_aside(manifest_path, say)
    with LocalChain(kind, port=port) as chain:
        w3 = chain.w3
        say(f"[bold]1. A local {kind} chain[/bold] at {chain.rpc_url}")
        say(f"   chain id {chain.chain_id}, (pid {chain.pid})")
        registrar, *people = node_signers(w3)
        residents = dict(zip(RESIDENTS, people, strict=False))

        say(
            f"[bold]2. Deploy CivicDAO[/bold] ({config.preset} preset): "
            "registry, timelock, governor, treasury, exchange"
        )
        dao = CivicDAO.deploy(
            w3, registrar, config=config, manifest_path=manifest_path, progress=lambda m: say(f"   · {m}")
        )
        control = dao.control
        for key, address in dao.addresses.items():
            say(f"   {key:<9} {address}")

        say(
            "[bold]3. Residents join[/bold]: the registrar checks residency off-chain; "
            "the chain keeps only a salted hash"
        )
        for name, signer in residents.items():
            credential = credential_hash(f"{name} residency proof", salt=DEMO_SALT)
            dao.citizens.register(registrar, signer.address, credential)
            membership = dao.citizens.membership_of(signer.address)
            say(f"   {name:<6} {signer.address} is citizen #{membership}")
        control.increase_time(1)

        governance = dao.governance
        before = dao.exchange.fee_bps(Kind.TOOL)
        action = dao.exchange.fee_action(Kind.TOOL, 0)
        say(f"[bold]4. Amara proposes[/bold]: make lending tools free of fees (now {before} bp)")
        proposal_id = governance.propose(
            residents["Amara"], [action], "Tool lending should be free"
        ).proposal_id
        control.increase_time(governance.voting_delay() + 1)

        say("[bold]5. Residents vote[/bold]: one resident, one vote")
        for name, support in (("Amara", VoteType.FOR), ("Bo", VoteType.FOR), ("Chidi", VoteType.AGAINST)):
            governance.vote(
                residents[name], proposal_id, support, reason=f"{name} votes {support.name.lower()}"
            )
            say(f"   {name} votes {support.name.lower()}")
        control.increase_time(governance.voting_period() + config.vote_extension + 1)
        tally = governance.tally(proposal_id)
        outcome = governance.state(proposal_id).name
        say(f"   tally: {tally.for_} for, {tally.against} against, {tally.abstain} abstain → {outcome}")

        say("[bold]6. Queue, wait out the timelock, execute[/bold]")
        governance.queue(residents["Dana"], proposal_id)
        control.increase_time(governance.timelock_delay() + 1)
        governance.execute(residents["Dana"], proposal_id)
        after = dao.exchange.fee_bps(Kind.TOOL)
        say(f"   executed: the tool lending fee is now {after} bp ({governance.state(proposal_id).name})")

        _share_a_room(say, dao, residents)
        _fund_the_commons(say, dao, residents)
        _decide_together(say, dao, registrar, residents)
        _write_report(say, dao, report_dir, manifest_path)
        if manifest_path is None:
            say("[green]Done.[/green] The chain stops now; nothing is left running.")
        else:
            _open_a_vote(say, dao, residents)
            _keep_running(say, chain, manifest_path)


def spare_room(start: int) -> ListingSpec:
    """The demo's listing: a spare room by the park, 0.02 ETH a night (0.1 ETH deposit), for up to 7 nights
    in the 30 days from ``start``; free cancellation until 48 hours before, half refunded after."""
    return ListingSpec(
        kind=Kind.ROOM_HOUSE,
        unit=Unit.DAY,
        price=ETHER // 50,
        deposit=ETHER // 10,
        available_from=start,
        available_until=start + 30 * DAY,
        max_units=7,
        policy=CancellationPolicy(free_cancel_hours=48, late_refund_bps=5_000),
        metadata_uri="ipfs://spare-room-by-the-park",
    )


def _share_a_room(say: Say, dao: CivicDAO, residents: Mapping[str, Signer]) -> None:
    exchange, control = dao.exchange, dao.control
    start = (control.time() // DAY + 1) * DAY
    spec = spare_room(start)
    listed = exchange.list(residents["Bo"], spec)
    say(f"[bold]7. Bo lists a spare room[/bold] (listing {listed.listing_id}): {_eth(spec.price)} a night")
    booking = exchange.book(residents["Chidi"], listed.listing_id, start=start + DAY, units=3)
    say(f"   Chidi books 3 nights: {_eth(booking.price)} escrowed with a {_eth(booking.deposit)} deposit")
    try:
        exchange.book(residents["Dana"], listed.listing_id, start=start + 2 * DAY, units=1)
    except SlotsTakenError as clash:
        say(f"   Dana tries an overlapping night and is refused: {clash}")
    dao.wait_until_settleable(booking)
    exchange.settle(residents["Dana"], booking.booking_id)
    owed_to_bo = exchange.credits(residents["Bo"].address)
    say(f"   after the stay and the claim window anyone settles: Bo is owed {_eth(owed_to_bo)} to withdraw")
    returned = exchange.withdraw_deposit(residents["Chidi"], booking.booking_id)
    say(f"   and Chidi takes his {_eth(returned.amount)} deposit back from the booking")
    exchange.flush_fees(residents["Dana"], ETH, Kind.ROOM_HOUSE)
    fees = dao.treasury.token_balance().inflow("room_house")
    say(
        f"   anyone sends the kept fees on: the {_eth(booking.fee)} fee reaches the public treasury "
        f"(room fees: {_eth(fees)})"
    )


def _fund_the_commons(say: Say, dao: CivicDAO, residents: Mapping[str, Signer]) -> None:
    treasury = dao.treasury
    treasury.donate(residents["Dana"], 2 * ETHER, note="spring-fair")
    say("[bold]8. The treasury[/bold]: Dana's street fair donates 2 ETH; only a citizen vote can spend it")
    if treasury.epoch_status().cap == 0:  # the first cap applies from the first epoch after deployment
        dao.wait_for_next_epoch()
    gardeners = residents["Dana"]
    grant = dao.stream_grant(
        residents["Amara"],
        list(residents.values()),
        recipient=gardeners.address,
        amount=ETHER,
        start=dao.control.time() + DAY,
        duration=30 * DAY,
        description="Trees for Elm Street",
    )
    say("   citizens vote a 1 ETH grant to the tree planters, streaming over 30 days")
    dao.control.increase_time(15 * DAY)
    claimed = treasury.claim_grant(gardeners, grant.grant_id)
    balance = treasury.token_balance()
    say(f"   half-way, the planters claim {_eth(claimed.amount)}")
    say(f"   the treasury holds {_eth(balance.balance)}; {_eth(balance.committed)} is still committed")


def _decide_together(say: Say, dao: CivicDAO, relayer: Signer, residents: Mapping[str, Signer]) -> None:
    budget, treasury, control = dao.budget, dao.treasury, dao.control
    say("[bold]9. Participatory budget[/bold]: citizens vote to put 0.5 ETH to a round residents decide")
    actions = budget.open_round_actions(
        treasury, budget=ETHER // 2, submission_period=DAY, voting_period=3 * DAY, challenge_period=DAY
    )
    voters = list(residents.values())
    passed = dao.pass_proposal(residents["Amara"], voters, actions, "Neighbourhood budget 2026")
    round_id = budget.round_id_of(passed).round_id
    ideas = (
        ("Bo", "benches by the park", 20),
        ("Chidi", "a community fridge", 20),
        ("Dana", "a skate ramp", 12),
    )
    for name, idea, hundredths in ideas:
        budget.submit_project(
            residents[name], round_id, recipient=residents[name].address, cost=hundredths * ETHER // 100,
            metadata_uri=f"ipfs://{idea.replace(' ', '-')}",
        )  # fmt: skip
        say(f"   {name} proposes {idea} ({_eth(hundredths * ETHER // 100)})")
    control.increase_time(DAY)
    approvals = {"Amara": [0, 1], "Bo": [0, 1], "Chidi": [0, 1], "Dana": [2]}
    signed = [budget.sign_ballot(residents[name], round_id, chosen) for name, chosen in approvals.items()]
    relayed = budget.relay(relayer, round_id, signed)
    gas = relayed[0].tx.gas_used
    say(f"   4 ballots signed in wallets, relayed in one transaction ({gas:,} gas, the relayer pays)")
    control.increase_time(3 * DAY)
    result = budget.tally(round_id, unit=ETHER // 1000)
    greedy = budget.tally(round_id, "greedy", unit=ETHER // 1000)
    names = [idea for _, idea, _ in ideas]
    say(f"   Method of Equal Shares funds: {', '.join(names[i] for i in result.selected)}")
    say(f"   greedy by votes would fund: {', '.join(names[i] for i in greedy.selected)}")
    say("   (with equal shares the quarter of residents who want the ramp get it; with greedy, nothing)")
    budget.post_outcome(relayer, round_id, result)
    say(f"   outcome posted with ballot digest {result.ballot_digest[:18]}…; anyone may challenge for a day")
    control.increase_time(DAY)
    budget.finalize(relayer, round_id)
    paid = budget.claim_payout(residents["Bo"], round_id, 0).amount
    say(f"   after the window the winners are paid: Bo claims {_eth(paid)} for the benches")


def _check_port_free(port: int) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ChainStartError(
                f"port {port} is in use (another node?): stop it, or pass --port N to keep the chain there"
            ) from None


def _move_aside(manifest_path: Path, say: Say) -> None:
    """A kept demo chain is new: an older manifest (and its index) for chain 31337 describes a dead chain."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for old in (manifest_path, index_db_path(manifest_path)):
        if old.exists():
            moved = old.with_name(f"{old.name}.{stamp}.old")
            old.rename(moved)
            say(f"   (moved the older {old} aside to {moved})")
        for extra in ("-wal", "-shm"):
            Path(f"{old}{extra}").unlink(missing_ok=True)


def _write_report(say: Say, dao: CivicDAO, report_dir: str | Path, manifest_path: Path | None) -> None:
    """Index the demo's events, then write the public treasury report from the index."""
    import tempfile

    from civicdao.index import Deployment, Indexer, IndexReader, Store
    from civicdao.report import treasury_figures, write_report

    with contextlib.ExitStack() as stack:
        if manifest_path is not None:
            db = str(index_db_path(manifest_path))
        else:
            db = str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "index.sqlite")
        store = stack.enter_context(Store(db))
        deployment = Deployment.from_manifest(dao.manifest)
        synced = Indexer(dao.w3, deployment, store).sync()
        files = write_report(treasury_figures(IndexReader(store, deployment)), report_dir)
    say(f"[bold]10. The public treasury report[/bold]: {synced.events} events indexed")
    say(f"   {files.html} ({len(files.charts)} charts; the figures in {files.json})")


def _open_a_vote(say: Say, dao: CivicDAO, residents: Mapping[str, Signer]) -> int:
    """Leave a proposal open on the kept chain, for residents to vote on in the web app."""
    governance, control = dao.governance, dao.control
    action = dao.exchange.fee_action(Kind.NATURE, 0)
    text = "# Free nature walks\n\nGuided walks in the park should cost nothing to book."
    proposal_id = governance.propose(residents["Bo"], [action], text).proposal_id
    control.increase_time(governance.voting_delay() + 1)
    say(f"[bold]11. Bo proposes free nature walks[/bold]: proposal {proposal_id} is open for a day")
    return proposal_id


def _keep_running(say: Say, chain: LocalChain, manifest_path: Path) -> None:
    url = chain.rpc_url
    say(f"[green]Done.[/green] The chain keeps running at [bold]{url}[/bold] (pid {chain.pid});")
    say(f"its manifest is {manifest_path}. In another terminal, try:")
    for command in (
        f"export CIVICDAO_RPC_URL={url}",
        "civicdao proposals list",
        "civicdao listings search",
        "civicdao treasury report",
        "civicdao status",
        "civicdao serve --unlocked 9",
    ):
        say(f"   {command}")
    say("then open http://127.0.0.1:8600 with a test wallet holding a development account of this chain's")
    say("well-known test mnemonic: accounts 1-4 are the residents, who can vote on the open proposal;")
    say("the relayer (account 9) pays the gas of their signed votes.")
    say("Press Ctrl-C here to stop the chain.")
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(1)
    say("stopping the chain")


def _eth(wei: int) -> str:
    return f"{wei / ETHER:.4f}".rstrip("0").rstrip(".") + " ETH"
