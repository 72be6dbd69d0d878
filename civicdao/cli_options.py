"""What every ``civicdao`` command shares: its node, signer, manifest and ``--json`` options, and its output.

A leaf of the command line: it imports no command module, so :mod:`civicdao.cli`, :mod:`civicdao.commands`,
:mod:`civicdao.index.cli`, :mod:`civicdao.web.cli` and :mod:`civicdao.budget.cli` all build on it, in any
import order.

- :func:`connection_options` adds ``--network``, ``--rpc-url`` and ``--chain-id`` and hands the command one
  ``node`` argument (a :class:`Node`: ``node.web3()``, ``node.suite(manifest)``);
- :func:`signer_options` adds ``--key-env``, ``--keystore``, ``--password-env`` and ``--unlocked`` and hands
  it one ``signer`` argument (a :class:`SignerChoice`: ``signer.load(w3)``);
- :func:`manifest_option` and :func:`json_option` add ``--manifest`` and ``--json``;
- :func:`emit` prints rows as a table (or JSON), :func:`print_json` prints JSON, on :data:`stdout`.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from civicdao.errors import ConfigError
from civicdao.manifest import manifest_path
from civicdao.tokens import ETH

if TYPE_CHECKING:
    from web3 import Web3

    from civicdao.accounts import Signer
    from civicdao.deploy import Suite

__all__ = [
    "WEI_PER_ETH",
    "Node",
    "SignerChoice",
    "connection_options",
    "emit",
    "eth",
    "existing_manifest",
    "json_option",
    "listen_options",
    "manifest_option",
    "node_urls",
    "print_json",
    "relayer_signer_options",
    "setting",
    "signer_options",
    "stderr",
    "stdout",
    "when",
]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)

#: The nodes this process's command talked to, so that an error can name the last one (one command a process).
node_urls: list[str] = []

WEI_PER_ETH = 10**18


# -- output -------------------------------------------------------------------------------------------------


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (anything JSON does not know as its ``str``)."""
    click.echo(json.dumps(data, indent=2, default=str))


def emit(rows: Sequence[dict[str, Any]], *, as_json: bool, title: str, columns: Sequence[str]) -> None:
    """Print rows as a readable table, or as JSON for machines."""
    if as_json:
        print_json(list(rows))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*(str(row.get(column, "")) for column in columns))
    stdout.print(table)


def when(timestamp: int) -> str:
    """A unix time as ``2026-12-01 14:00 UTC`` (``-`` for 0: not set)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC") if timestamp else "-"


def eth(wei: int) -> str:
    """Wei as an exact amount of ETH: ``1500000000000000000`` → ``1.5 ETH``."""
    return f"{Decimal(wei) / WEI_PER_ETH:f}".rstrip("0").rstrip(".") + " ETH" if wei else "0 ETH"


def amount_of(token: str, value: int) -> str:
    """An amount of ``token``: in ETH (:func:`eth`) for ETH, in the token's base units otherwise."""
    return eth(value) if token == ETH else str(value)


# -- options ------------------------------------------------------------------------------------------------


def _stack(fn: Callable[..., Any], options: Sequence[Decorator]) -> Callable[..., Any]:
    """Apply ``options`` so that ``--help`` lists them in the order given."""
    for option in reversed(options):
        fn = option(fn)
    return fn


def setting(name: str, default: Any, type: click.ParamType[Any], help: str) -> Decorator:
    """An option whose default ``--help`` shows: ``setting("--batch-size", 20, click.IntRange(1), "…")``."""
    return click.option(name, default=default, show_default=True, type=type, help=help)


def listen_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--host`` and ``--port`` of a server (``civicdao relay``, ``civicdao serve``)."""
    return _stack(
        fn,
        [
            setting("--host", "127.0.0.1", click.STRING, "Interface to listen on."),
            setting("--port", 8600, click.IntRange(1, 65535), "Port to listen on."),
        ],
    )


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--json``: the command gets ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")(fn)


def manifest_option(
    *, required: bool = False, help: str = "The suite's manifest [deployments/<chain id>.json]."
) -> Decorator:
    """``--manifest``: the command gets ``manifest`` (None: ``deployments/<chain id>.json``)."""
    return click.option("--manifest", required=required, type=click.Path(dir_okay=False), help=help)


@dataclass(frozen=True)
class Node:
    """The node a command talks to, as ``--network``, ``--rpc-url`` and ``--chain-id`` name it."""

    network: str | None
    rpc_url: str | None
    chain_id: int | None

    def web3(self) -> Web3:
        """Connect (checking the chain id when one is given); the URL is kept for error messages."""
        from civicdao.chain import connect
        from civicdao.networks import connect_network
        from civicdao.tx import rpc_url as url_of

        if self.network:
            w3 = connect_network(self.network, rpc_url=self.rpc_url, chain_id=self.chain_id)
        elif not self.rpc_url:
            raise ConfigError("no node to talk to: pass --rpc-url (or set CIVICDAO_RPC_URL) or --network")
        else:
            w3 = connect(self.rpc_url, expected_chain_id=self.chain_id)
        node_urls.append(url_of(w3))
        return w3

    def suite(self, manifest: str | Path | None) -> Suite:
        """Connect and bind the suite of ``manifest`` (default ``deployments/<chain id>.json``)."""
        from civicdao.deploy import load_suite

        w3 = self.web3()
        return load_suite(w3, existing_manifest(w3.eth.chain_id, manifest))


def existing_manifest(chain_id: int, manifest: str | Path | None) -> Path:
    """The manifest's path (default ``deployments/<chain id>.json``); a clear error when there is none."""
    path = manifest_path(chain_id, manifest)
    if not path.exists():
        raise ConfigError(f"no manifest at {path}: deploy first (`civicdao deploy`) or pass --manifest")
    return path


def connection_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--network`` / ``--rpc-url`` / ``--chain-id``: the command gets ``node`` (a :class:`Node`)."""

    @functools.wraps(fn)
    def wrapper(
        *args: Any, network: str | None, rpc_url: str | None, chain_id: int | None, **kwargs: Any
    ) -> Any:
        return fn(*args, node=Node(network, rpc_url, chain_id), **kwargs)

    return _stack(
        wrapper,
        [
            click.option(
                "--network",
                help="A network name: anvil or ganache (local, default URL http://127.0.0.1:8545), or a "
                "public one (sepolia, mainnet, …); checks the chain id.",
            ),
            click.option(
                "--rpc-url",
                envvar="CIVICDAO_RPC_URL",
                help="Node URL (or $CIVICDAO_RPC_URL), e.g. http://127.0.0.1:8545.",
            ),
            click.option(
                "--chain-id", type=click.IntRange(1), help="Fail unless the node serves this chain id."
            ),
        ],
    )


@dataclass(frozen=True)
class SignerChoice:
    """Where the signing key comes from: an env var, an encrypted keystore, or a node-unlocked account."""

    key_env: str
    keystore: str | None
    password_env: str
    unlocked_index: int | None

    @property
    def given(self) -> bool:
        """Whether any key was named: ``--unlocked``, ``--keystore`` or a set ``--key-env`` variable."""
        return (
            self.unlocked_index is not None or self.keystore is not None or bool(os.environ.get(self.key_env))
        )

    def load(self, w3: Web3) -> Signer:
        """The signer: node account N, the keystore (password from ``--password-env`` or a prompt), or the key
        in ``--key-env``."""
        from civicdao import accounts

        if self.unlocked_index is not None:
            unlocked = accounts.node_signers(w3)
            if self.unlocked_index >= len(unlocked):
                raise ConfigError(
                    f"the node has {len(unlocked)} unlocked accounts; "
                    f"--unlocked {self.unlocked_index} is not one"
                )
            return unlocked[self.unlocked_index]
        if self.keystore:
            password = os.environ.get(self.password_env)
            if password is None:
                password = click.prompt(f"password for {self.keystore}", hide_input=True)
            return accounts.from_keystore(self.keystore, password)
        return accounts.from_env(self.key_env)


def _signer_options(*, key_help: str, keystore_help: str) -> Decorator:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(
            *args: Any,
            key_env: str,
            keystore: str | None,
            password_env: str,
            unlocked_index: int | None,
            **kwargs: Any,
        ) -> Any:
            return fn(*args, signer=SignerChoice(key_env, keystore, password_env, unlocked_index), **kwargs)

        return _stack(
            wrapper,
            [
                click.option("--key-env", default="CIVICDAO_PRIVATE_KEY", show_default=True, help=key_help),
                click.option("--keystore", type=click.Path(dir_okay=False), help=keystore_help),
                click.option(
                    "--password-env",
                    default="CIVICDAO_KEYSTORE_PASSWORD",
                    show_default=True,
                    help="Env var holding the keystore password (prompted for when unset).",
                ),
                click.option(
                    "--unlocked",
                    "unlocked_index",
                    type=click.IntRange(0),
                    help="Use the node's unlocked account N (local).",
                ),
            ],
        )

    return decorate


#: ``--key-env`` / ``--keystore`` / ``--password-env`` / ``--unlocked``: the command gets ``signer``.
signer_options = _signer_options(
    key_help="Env var holding a private key.", keystore_help="Encrypted JSON keystore file."
)
#: The same options, worded for the account of the relayer that ``civicdao serve`` runs.
relayer_signer_options = _signer_options(
    key_help="Env var holding the relayer's private key.",
    keystore_help="The relayer's encrypted JSON keystore.",
)
