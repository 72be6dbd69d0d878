"""The ``civicdao`` command line. Exit codes: 0 success, 1 a CivicDAO error, 2 a usage error."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from typing import Literal

import click

from civicdao import commands
from civicdao._version import __version__
from civicdao.budget.cli import budget_group
from civicdao.cli_options import (
    Node,
    SignerChoice,
    connection_options,
    emit,
    json_option,
    listen_options,
    manifest_option,
    node_urls,
    setting,
    signer_options,
    stderr,
    stdout,
)
from civicdao.errors import CivicDAOError
from civicdao.index import cli as index_cli
from civicdao.web.cli import serve_command

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="civicdao")
@click.option("-v", "--verbose", is_flag=True, help="Log what the library does (to stderr).")
def cli(verbose: bool) -> None:
    """CivicDAO: residents govern their city's commons on Ethereum."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


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
    node_urls.append(rpc_url)
    row = {"rpc_url": rpc_url, "chain_id": w3.eth.chain_id, "block": w3.eth.block_number}
    emit([row], as_json=as_json, title="Node", columns=["rpc_url", "chain_id", "block"])


@cli.command("deploy")
@connection_options
@signer_options
@click.option(
    "--preset", type=click.Choice(["pilot", "neighbourhood", "city"]), default="pilot", show_default=True
)
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="TOML overrides of the preset."
)
@manifest_option(help="Manifest path [deployments/<chain id>.json].")
@click.option(
    "--fresh",
    is_flag=True,
    help="Deploy anew even if the manifest exists (it is kept as <name>.replaced-<time>.json).",
)
@json_option
def deploy_command(
    node: Node,
    signer: SignerChoice,
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
    from civicdao.config import load_config
    from civicdao.deploy import deploy_suite
    from civicdao.manifest import manifest_path

    w3 = node.web3()
    config = load_config(preset, config_file)
    deployer = signer.load(w3)
    path = manifest_path(w3.eth.chain_id, manifest)
    if as_json:
        suite = deploy_suite(w3, deployer, config, manifest_path=path, fresh=fresh)
    else:
        # Each finished step stays on screen; a live spinner names the one under way (on a terminal only).
        with stderr.status("deploying the CivicDAO suite …") as status:

            def progress(message: str) -> None:
                stderr.print(f"[dim]·[/dim] {message}")
                status.update(f"{message} …")

            suite = deploy_suite(w3, deployer, config, manifest_path=path, progress=progress, fresh=fresh)
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
@manifest_option(required=True, help="The suite's manifest.")
@setting(
    "--db",
    "relayer.sqlite",
    click.STRING,
    "SQLite file, or postgresql:// URL, of accepted signatures (kept across restarts).",
)
@listen_options
@setting("--batch-size", 20, click.IntRange(1), "Submit once this many signatures wait…")
@setting("--batch-seconds", 30.0, click.FloatRange(min=0.1), "…or once the oldest waited this long.")
@setting("--max-batch", 100, click.IntRange(1), "Most ballots in one multicall.")
@click.option("--gas-budget-eth", help="Stop submitting once the relayer has spent this much ETH on gas.")
@setting("--rate-limit", 20, click.IntRange(1), "Messages one citizen may send per --rate-window.")
@setting("--rate-window", 3600.0, click.FloatRange(min=1), "Seconds of the rate-limit window.")
@setting("--max-body-bytes", 16_384, click.IntRange(256), "Larger request bodies get 413.")
def relay_command(
    node: Node,
    signer: SignerChoice,
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
    suite = node.suite(manifest)
    account = signer.load(suite.w3)
    store = Store(db)
    relayer = Relayer(suite, account, store, settings)
    stderr.print(
        f"relayer {account.address} on chain {suite.chain_id}: http://{host}:{port} (docs at /docs), "
        f"batches of {batch_size} or every {batch_seconds:g}s, database {store.display_name}"
    )
    serve(relayer, host=host, port=port)


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
    failure = node_failure(exc, url=node_urls[-1] if node_urls else "")
    if failure is not None:
        return str(failure)
    return (
        f"the node answered with an error ({type(exc).__name__}: {str(exc)[:200]}): check the node and retry"
    )


# The other groups: the read side over the index, with the write commands attached to the same groups.
for _group in (
    budget_group,
    serve_command,
    index_cli.index_group,
    index_cli.proposals_group,
    index_cli.listings_group,
    index_cli.treasury_group,
    index_cli.citizens_group,
):
    cli.add_command(_group)
commands.register(cli)

if __name__ == "__main__":
    sys.exit(main())
