"""The ``civicdao`` command line. Exit codes: 0 success, 1 a CivicDAO error, 2 a usage error."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import click
from rich.console import Console
from rich.table import Table

from civicdao._version import __version__
from civicdao.errors import CivicDAOError

__all__ = ["main"]

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)


def emit(rows: Sequence[dict[str, Any]], *, as_json: bool, title: str, columns: Sequence[str]) -> None:
    """Print rows as a readable table, or as JSON for machines."""
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*(str(row.get(column, "")) for column in columns))
    stdout.print(table)


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="civicdao")
@click.option("-v", "--verbose", is_flag=True, help="Log what the library does (to stderr).")
def cli(verbose: bool) -> None:
    """CivicDAO: residents govern their city's commons on Ethereum."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


from civicdao.budget.cli import budget_group  # noqa: E402  (`civicdao budget …`, registered on `cli`)

cli.add_command(budget_group)


@cli.command("compile")
@click.option("--force", is_flag=True, help="Recompile even when no source changed.")
@click.option(
    "--mocks",
    is_flag=True,
    help="Build the test-only contracts (contracts/mocks) into build/test-contracts instead; never shipped.",
)
@json_option
def compile_command(force: bool, mocks: bool, as_json: bool) -> None:
    """Compile contracts/ into the artifacts shipped in the package (contracts/mocks excepted)."""
    from civicdao.build import compile_contracts

    if not as_json:
        stderr.print(f"[dim]compiling {'contracts/mocks' if mocks else 'contracts/'} with solc-js …[/dim]")
    result = compile_contracts(force=force, mocks=mocks)
    if as_json:
        click.echo(
            json.dumps({"contracts": result.contracts, "cached": result.cached, "seconds": result.seconds})
        )
        return
    how = "unchanged, cache used" if result.cached else "compiled"
    stdout.print(f"{len(result.contracts)} contracts {how} in {result.seconds:.2f}s → {result.artifacts_dir}")


@cli.command("artifacts")
@json_option
def artifacts_command(as_json: bool) -> None:
    """List the contract artifacts shipped in the package."""
    from civicdao.artifacts import list_artifacts, load_artifact

    rows = []
    for name in list_artifacts():
        artifact = load_artifact(name)
        rows.append(
            {"contract": name, "source": artifact.source_name, "deployed_bytes": artifact.deployed_size}
        )
    emit(rows, as_json=as_json, title="Shipped contracts", columns=["contract", "source", "deployed_bytes"])


@cli.command("chain")
@click.option("--kind", type=click.Choice(["anvil", "ganache"]), default="anvil", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 (default: a free one).")
@click.option("--chain-id", type=click.IntRange(1), default=31337, show_default=True)
def chain_command(kind: str, port: int | None, chain_id: int) -> None:
    """Run a local chain in the foreground until Ctrl-C."""
    from civicdao.chain import DEFAULT_MNEMONIC, LocalChain

    with LocalChain(kind, port=port, chain_id=chain_id) as chain:  # type: ignore[arg-type]
        stdout.print(f"{kind} ready at [bold]{chain.rpc_url}[/bold] (chain id {chain_id}, pid {chain.pid})")
        stdout.print(f"accounts from the development mnemonic: [dim]{DEFAULT_MNEMONIC}[/dim]")
        for index, address in enumerate(chain.w3.eth.accounts[:3]):
            stdout.print(f"  {index}: {address}")
        stdout.print("in another terminal, deploy (manifest in deployments/<chain id>.json), then read it:")
        stdout.print(f"  export CIVICDAO_RPC_URL={chain.rpc_url}")
        stdout.print("  civicdao deploy --unlocked 0")
        stdout.print("  civicdao proposals list")
        stdout.print("press Ctrl-C to stop")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            stdout.print("stopping")


@cli.command("check-rpc")
@click.option("--rpc-url", envvar="CIVICDAO_RPC_URL", required=True, help="Node URL (or $CIVICDAO_RPC_URL).")
@click.option("--chain-id", type=click.IntRange(1), help="Fail unless the node serves this chain.")
@json_option
def check_rpc_command(rpc_url: str, chain_id: int | None, as_json: bool) -> None:
    """Check that a node answers at an RPC URL and serves the expected chain."""
    from civicdao.chain import connect

    w3 = connect(rpc_url, expected_chain_id=chain_id)
    _node_url.append(rpc_url)
    row = {"rpc_url": rpc_url, "chain_id": w3.eth.chain_id, "block": w3.eth.block_number}
    emit([row], as_json=as_json, title="Node", columns=["rpc_url", "chain_id", "block"])


def connection_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--network / --rpc-url / --chain-id, shared by every command that talks to a node."""
    fn = click.option(
        "--chain-id", type=click.IntRange(1), help="Fail unless the node serves this chain id."
    )(fn)
    fn = click.option(
        "--rpc-url",
        envvar="CIVICDAO_RPC_URL",
        help="Node URL (or $CIVICDAO_RPC_URL), e.g. http://127.0.0.1:8545.",
    )(fn)
    return click.option(
        "--network",
        help="A network name: anvil or ganache (local, default URL http://127.0.0.1:8545), or a public "
        "one (sepolia, mainnet, …); checks the chain id.",
    )(fn)


def signer_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Where the signing key comes from: an env var, an encrypted keystore, or a node-unlocked account."""
    fn = click.option(
        "--unlocked",
        "unlocked_index",
        type=click.IntRange(0),
        help="Use the node's unlocked account N (local).",
    )(fn)
    fn = click.option(
        "--password-env",
        default="CIVICDAO_KEYSTORE_PASSWORD",
        show_default=True,
        help="Env var holding the keystore password (prompted for when unset).",
    )(fn)
    fn = click.option("--keystore", type=click.Path(dir_okay=False), help="Encrypted JSON keystore file.")(fn)
    return click.option(
        "--key-env", default="CIVICDAO_PRIVATE_KEY", show_default=True, help="Env var holding a private key."
    )(fn)


#: The node this command talks to, so an error can name it (one CLI command per process).
_node_url: list[str] = []


def open_web3(network: str | None, rpc_url: str | None, chain_id: int | None) -> Any:
    from civicdao.chain import connect
    from civicdao.errors import ConfigError
    from civicdao.networks import connect_network
    from civicdao.tx import rpc_url as url_of

    if network:
        w3 = connect_network(network, rpc_url=rpc_url, chain_id=chain_id)
    elif not rpc_url:
        raise ConfigError("no node to talk to: pass --rpc-url (or set CIVICDAO_RPC_URL) or --network")
    else:
        w3 = connect(rpc_url, expected_chain_id=chain_id)
    _node_url.append(url_of(w3))
    return w3


def load_signer(
    w3: Any, key_env: str, keystore: str | None, password_env: str, unlocked_index: int | None
) -> Any:
    import os

    from civicdao import accounts
    from civicdao.errors import ConfigError

    if unlocked_index is not None:
        unlocked = accounts.node_signers(w3)
        if unlocked_index >= len(unlocked):
            raise ConfigError(
                f"the node has {len(unlocked)} unlocked accounts; --unlocked {unlocked_index} is not one"
            )
        return unlocked[unlocked_index]
    if keystore:
        password = os.environ.get(password_env)
        if password is None:
            password = click.prompt(f"password for {keystore}", hide_input=True)
        return accounts.from_keystore(keystore, password)
    return accounts.from_env(key_env)


@cli.command("deploy")
@connection_options
@signer_options
@click.option(
    "--preset", type=click.Choice(["pilot", "neighbourhood", "city"]), default="pilot", show_default=True
)
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="TOML overrides of the preset."
)
@click.option(
    "--manifest", type=click.Path(dir_okay=False), help="Manifest path [deployments/<chain id>.json]."
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Deploy anew even if the manifest exists (it is kept as <name>.replaced-<time>.json).",
)
@json_option
def deploy_command(
    network: str | None,
    rpc_url: str | None,
    chain_id: int | None,
    key_env: str,
    keystore: str | None,
    password_env: str,
    unlocked_index: int | None,
    preset: str,
    config_file: str | None,
    manifest: str | None,
    fresh: bool,
    as_json: bool,
) -> None:
    """Deploy the CivicDAO suite (or resume an interrupted deployment) and write its manifest.

    An interrupted deployment resumes from its manifest: the rerun first waits for the transactions the
    interrupted run left pending, adopts what they created, and sends nothing twice.
    """
    from pathlib import Path

    from civicdao.config import load_config
    from civicdao.deploy import deploy_suite

    w3 = open_web3(network, rpc_url, chain_id)
    config = load_config(preset, config_file)
    signer = load_signer(w3, key_env, keystore, password_env, unlocked_index)
    path = Path(manifest or f"deployments/{w3.eth.chain_id}.json")
    if as_json:
        suite = deploy_suite(w3, signer, config, manifest_path=path, fresh=fresh)
    else:
        # Each finished step stays on screen; a live spinner names the one under way (on a terminal only).
        with stderr.status("deploying the CivicDAO suite …") as status:

            def progress(message: str) -> None:
                stderr.print(f"[dim]·[/dim] {message}")
                status.update(f"{message} …")

            suite = deploy_suite(w3, signer, config, manifest_path=path, progress=progress, fresh=fresh)
    rows = [{"contract": key, "address": address} for key, address in suite.addresses().items()]
    if as_json:
        click.echo(json.dumps({"manifest": str(path), "chainId": suite.chain_id, "contracts": rows}))
        return
    emit(rows, as_json=False, title=f"CivicDAO on chain {suite.chain_id}", columns=["contract", "address"])
    stdout.print(f"manifest written to {path}")


@cli.command("demo")
@click.option(
    "--kind",
    type=click.Choice(["anvil", "ganache"]),
    default=None,
    help="Which local chain to start [default: anvil].",
)
@click.option("--chain", "old_kind", type=click.Choice(["anvil", "ganache"]), hidden=True)
@click.option(
    "--preset", type=click.Choice(["pilot", "neighbourhood", "city"]), default="pilot", show_default=True
)
@click.option(
    "--keep-chain",
    is_flag=True,
    help="Keep the chain running afterwards (until Ctrl-C), its manifest in deployments/<chain id>.json.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Port of the kept chain on 127.0.0.1 [8545 with --keep-chain; else a free one].",
)
@click.option(
    "--report-dir",
    default="reports/treasury",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the demo writes the public treasury report.",
)
def demo_command(
    kind: Literal["anvil", "ganache"] | None,
    old_kind: Literal["anvil", "ganache"] | None,
    preset: str,
    keep_chain: bool,
    port: int | None,
    report_dir: str,
) -> None:
    """Run the civic demo on a local chain it starts (and stops, unless --keep-chain) itself."""
    from civicdao.demo import run_demo

    if kind and old_kind and kind != old_kind:
        raise click.UsageError("--chain is the old name of --kind: give one of them")
    run_demo(
        kind or old_kind or "anvil",
        preset=preset,
        say=lambda message: stdout.print(message),
        keep_chain=keep_chain,
        port=port,
        report_dir=report_dir,
    )


@cli.group("toolchain")
def toolchain_group() -> None:
    """The compiler toolchain of a source checkout."""


@toolchain_group.command("install")
def toolchain_install() -> None:
    """Install the solc-js shim where py-solc-x and Brownie look for solc."""
    from civicdao.toolchain import SOLC_VERSION, ensure_solc_shim

    path = ensure_solc_shim()
    stdout.print(f"solc {SOLC_VERSION} (solc-js) available to py-solc-x and Brownie at {path}")


@cli.command("relay")
@connection_options
@signer_options
@click.option("--manifest", required=True, type=click.Path(dir_okay=False), help="The suite's manifest.")
@click.option(
    "--db",
    default="relayer.sqlite",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite file of accepted signatures (kept across restarts).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8600, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--batch-size",
    default=20,
    show_default=True,
    type=click.IntRange(1),
    help="Submit once this many signatures wait…",
)
@click.option(
    "--batch-seconds",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="…or once the oldest waited this long.",
)
@click.option(
    "--max-batch",
    default=100,
    show_default=True,
    type=click.IntRange(1),
    help="Most ballots in one multicall.",
)
@click.option("--gas-budget-eth", help="Stop submitting once the relayer has spent this much ETH on gas.")
@click.option(
    "--rate-limit",
    default=20,
    show_default=True,
    type=click.IntRange(1),
    help="Messages one citizen may send per --rate-window.",
)
@click.option(
    "--rate-window",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds of the rate-limit window.",
)
@click.option(
    "--max-body-bytes",
    default=16_384,
    show_default=True,
    type=click.IntRange(256),
    help="Larger request bodies get 413.",
)
def relay_command(
    network: str | None,
    rpc_url: str | None,
    chain_id: int | None,
    key_env: str,
    keystore: str | None,
    password_env: str,
    unlocked_index: int | None,
    manifest: str,
    db: str,
    host: str,
    port: int,
    batch_size: int,
    batch_seconds: float,
    max_batch: int,
    gas_budget_eth: str | None,
    rate_limit: int,
    rate_window: float,
    max_body_bytes: int,
) -> None:
    """Run the relayer: verify wallet-signed ballots, delegations and attestations, submit them in batches."""
    from decimal import Decimal, InvalidOperation

    from civicdao.deploy import load_suite
    from civicdao.errors import ConfigError

    try:
        from civicdao.relayer import Relayer, RelayerSettings, Store, serve
    except ImportError as exc:
        raise ConfigError(
            f"the relayer needs FastAPI and uvicorn ({exc.name} is missing): pip install 'civicdao[relayer]'"
        ) from None

    budget = None
    if gas_budget_eth is not None:
        try:
            budget = int(Decimal(gas_budget_eth) * 10**18)
        except InvalidOperation:
            raise ConfigError(f"--gas-budget-eth must be a number of ETH, got {gas_budget_eth!r}") from None
    settings = RelayerSettings(
        batch_size=batch_size, batch_interval=batch_seconds, max_batch=max_batch, gas_budget_wei=budget,
        rate_limit=rate_limit, rate_window=rate_window, max_body_bytes=max_body_bytes,
    )  # fmt: skip
    w3 = open_web3(network, rpc_url, chain_id)
    suite = load_suite(w3, manifest)
    signer = load_signer(w3, key_env, keystore, password_env, unlocked_index)
    relayer = Relayer(suite, signer, Store(db), settings)
    stderr.print(
        f"relayer {signer.address} on chain {suite.chain_id}: http://{host}:{port} (docs at /docs), "
        f"batches of {batch_size} or every {batch_seconds:g}s, database {db}"
    )
    serve(relayer, host=host, port=port)


from civicdao.web.cli import serve_command  # noqa: E402  (bottom: it builds on the options above)

cli.add_command(serve_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI and map CivicDAO errors to one readable line and exit code 1."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="civicdao", standalone_mode=False
        )
    except click.exceptions.Abort:
        stderr.print("aborted")
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except CivicDAOError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except Exception as exc:
        line = _one_line(exc)  # a node that died or refused, a file we could not write; None: a bug
        if line is None:
            raise
        click.echo(f"error: {line}", err=True)
        return 1
    return result if isinstance(result, int) else 0


def _one_line(exc: BaseException) -> str | None:
    """A node or system failure as one line naming the problem and the fix; None for anything else."""
    from web3.exceptions import Web3Exception

    from civicdao.tx import node_failure

    if not isinstance(exc, OSError | Web3Exception):
        return None
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or exc} ({exc.filename}): check the path and its permissions"
    failure = node_failure(exc, url=_node_url[-1] if _node_url else "")
    if failure is not None:
        return str(failure)
    return (
        f"the node answered with an error ({type(exc).__name__}: {str(exc)[:200]}): check the node and retry"
    )


if (
    __name__ == "__main__"
):  # `python -m civicdao.cli`: run the package module, where every group is registered
    from civicdao.cli import main as package_main

    sys.exit(package_main())

# Read-side groups over the event index (civicdao/index/cli.py); write commands attach to the same groups.
from civicdao.index import cli as index_cli  # noqa: E402  (needs the helpers above)

cli.add_command(index_cli.index_group)
cli.add_command(index_cli.proposals_group)
cli.add_command(index_cli.listings_group)
cli.add_command(index_cli.treasury_group)
cli.add_command(index_cli.citizens_group)

# Write commands (civicdao/commands/) attach to the same groups, and `status` to the root.
from civicdao import commands as _write_commands  # noqa: E402

_write_commands.register(cli)
