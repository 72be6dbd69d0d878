"""``civicdao serve``: the residents' web app, its read API and the relayer in one process."""

from __future__ import annotations

import threading

import click

from civicdao.cli_options import (
    Node,
    SignerChoice,
    connection_options,
    listen_options,
    manifest_option,
    relayer_signer_options,
    setting,
    stderr,
)
from civicdao.errors import ConfigError
from civicdao.index.cli import db_option
from civicdao.manifest import index_db_path, manifest_path

__all__ = ["serve_command"]


@click.command("serve")
@connection_options
@relayer_signer_options
@manifest_option()
@listen_options
@db_option
@setting(
    "--relayer-db",
    "relayer.sqlite",
    click.STRING,
    "The relayer's SQLite file, or postgresql:// URL, of accepted signatures.",
)
@setting(
    "--follow-seconds", 1.0, click.FloatRange(min=0.1), "How often the background indexer polls the chain."
)
@setting(
    "--batch-seconds", 5.0, click.FloatRange(min=0.1), "The relayer submits signed votes at least this often."
)
@click.option("--no-relayer", is_flag=True, help="Serve pages only; signed votes cannot be relayed.")
def serve_command(
    node: Node,
    signer: SignerChoice,
    manifest: str | None,
    host: str,
    port: int,
    db: str | None,
    relayer_db: str,
    follow_seconds: float,
    batch_seconds: float,
    no_relayer: bool,
) -> None:
    """Serve the residents' web app (pages, read API at /api, relayer at /relay) until Ctrl-C.

    The lists read the event index (--db, default next to the manifest), which a background thread
    keeps in step with the chain.

    The relayer pays the gas of the votes and delegations residents sign in their wallet: give its
    account with --key-env (default $CIVICDAO_PRIVATE_KEY), --keystore or --unlocked N, or pass
    --no-relayer to serve pages only.
    """
    try:
        import uvicorn

        from civicdao.relayer import Relayer, RelayerSettings, Store, create_app
        from civicdao.web.app import create_web_app
    except ImportError as exc:
        raise ConfigError(
            f"the web app needs FastAPI and uvicorn ({exc.name} is missing): pip install 'civicdao[relayer]'"
        ) from None
    from civicdao.web.data import WebData

    suite = node.suite(manifest)
    relayer_app = None
    if no_relayer:
        stderr.print("[yellow]no relayer[/yellow]: pages only, signed votes cannot be relayed")
    else:
        if not signer.given:
            raise ConfigError(
                f"no relayer account: set ${signer.key_env}, or pass --keystore or --unlocked N "
                "(or --no-relayer to serve pages only)"
            )
        account = signer.load(suite.w3)
        settings = RelayerSettings(batch_interval=batch_seconds)
        store = Store(relayer_db)
        relayer = Relayer(suite, account, store, settings)
        relayer_app = create_app(relayer, run_batcher=True, poll_seconds=min(0.5, batch_seconds))
        stderr.print(f"relayer {account.address} pays the gas (database {store.display_name})")
    index_db = db or str(index_db_path(manifest_path(suite.chain_id, manifest)))
    data = WebData(suite, index_db=index_db)
    stderr.print(f"[dim]indexing the suite's events into {index_db} …[/dim]")
    synced = data.sync_index()
    stop = threading.Event()
    follower = threading.Thread(
        target=data.follow_index, args=(stop,), kwargs={"interval": follow_seconds}, daemon=True
    )
    follower.start()
    app = create_web_app(data, relayer_app)
    stderr.print(
        f"CivicDAO for residents on chain {suite.chain_id}: [bold]http://{host}:{port}[/bold] "
        f"(API docs at /api/docs; index at block {synced.to_block}, followed every {follow_seconds:g}s)"
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        stop.set()
        follower.join(timeout=10)
        data.close()
