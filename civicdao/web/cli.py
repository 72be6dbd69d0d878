"""``civicdao serve``: the residents' web app, its read API and the relayer in one process."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import click

from civicdao.errors import ConfigError

__all__ = ["serve_command"]


@click.command("serve")
@click.option(
    "--network",
    help="A network name: anvil or ganache (local, default URL http://127.0.0.1:8545), or a public "
    "one (sepolia, mainnet, …); checks the chain id.",
)
@click.option(
    "--rpc-url",
    envvar="CIVICDAO_RPC_URL",
    help="Node URL (or $CIVICDAO_RPC_URL), e.g. http://127.0.0.1:8545.",
)
@click.option("--chain-id", type=click.IntRange(1), help="Fail unless the node serves this chain id.")
@click.option(
    "--key-env",
    default="CIVICDAO_PRIVATE_KEY",
    show_default=True,
    help="Env var holding the relayer's private key.",
)
@click.option("--keystore", type=click.Path(dir_okay=False), help="The relayer's encrypted JSON keystore.")
@click.option(
    "--password-env",
    default="CIVICDAO_KEYSTORE_PASSWORD",
    show_default=True,
    help="Env var holding the keystore password (prompted for when unset).",
)
@click.option(
    "--unlocked", "unlocked_index", type=click.IntRange(0), help="Use the node's unlocked account N (local)."
)
@click.option(
    "--manifest", type=click.Path(dir_okay=False), help="The suite's manifest [deployments/<chain id>.json]."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8600, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--db",
    envvar="CIVICDAO_INDEX_DB",
    help="The event index the lists read: a SQLite path or postgresql:// URL "
    "[<manifest>.index.sqlite]; or $CIVICDAO_INDEX_DB.",
)
@click.option(
    "--relayer-db",
    default="relayer.sqlite",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The relayer's SQLite file of accepted signatures.",
)
@click.option(
    "--follow-seconds",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="How often the background indexer polls the chain.",
)
@click.option(
    "--batch-seconds",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="The relayer submits signed votes at least this often.",
)
@click.option("--no-relayer", is_flag=True, help="Serve pages only; signed votes cannot be relayed.")
def _serve_command(
    network: str | None,
    rpc_url: str | None,
    chain_id: int | None,
    key_env: str,
    keystore: str | None,
    password_env: str,
    unlocked_index: int | None,
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
    # imported here: civicdao.cli imports this module to register the command
    from civicdao.cli import load_signer, open_web3, stderr
    from civicdao.deploy import load_suite
    from civicdao.index.cli import default_db
    from civicdao.web.data import WebData

    w3 = open_web3(network, rpc_url, chain_id)
    path = Path(manifest or f"deployments/{w3.eth.chain_id}.json")
    if not path.exists():
        raise ConfigError(f"no manifest at {path}: pass --manifest, or deploy first with `civicdao deploy`")
    suite = load_suite(w3, path)
    relayer_app = None
    if no_relayer:
        stderr.print("[yellow]no relayer[/yellow]: pages only, signed votes cannot be relayed")
    else:
        if unlocked_index is None and keystore is None and not os.environ.get(key_env):
            raise ConfigError(
                f"no relayer account: set ${key_env}, or pass --keystore or --unlocked N "
                "(or --no-relayer to serve pages only)"
            )
        signer = load_signer(w3, key_env, keystore, password_env, unlocked_index)
        settings = RelayerSettings(batch_interval=batch_seconds)
        relayer = Relayer(suite, signer, Store(relayer_db), settings)
        relayer_app = create_app(relayer, run_batcher=True, poll_seconds=min(0.5, batch_seconds))
        stderr.print(f"relayer {signer.address} pays the gas (database {relayer_db})")
    index_db = db or default_db(path)
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


#: Registered on the ``civicdao`` group by :mod:`civicdao.cli`. The options repeat cli.py's
#: ``connection_options`` and ``signer_options``: importing those here would make the two modules
#: import each other (and break ``python -m civicdao.cli``).
serve_command: click.Command = _serve_command
