"""Named networks: which chain id a name means, and how to reach it.

Public chains are reached by an RPC URL from ``--rpc-url`` or ``$CIVICDAO_RPC_URL`` (never a committed
file); the chain id the node reports must match the name. ``anvil`` and ``ganache`` are local development
chains (``civicdao chain`` starts one): the node at ``--rpc-url`` (default ``http://127.0.0.1:8545``) must
be that client and serve a development chain id (31337 or 1337, or the ``--chain-id`` given).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType

from web3 import Web3

from civicdao.accounts import LOCAL_CHAIN_IDS
from civicdao.chain import connect
from civicdao.errors import ChainIdMismatchError, ConfigError, RPCUnreachableError, UnknownNetworkError

__all__ = [
    "DEFAULT_LOCAL_RPC_URL",
    "LOCAL_NETWORKS",
    "PUBLIC_NETWORKS",
    "RPC_URL_ENV",
    "connect_network",
    "expected_chain_id",
]

RPC_URL_ENV = "CIVICDAO_RPC_URL"
#: Where ``--network anvil`` / ``--network ganache`` look when no RPC URL is given.
DEFAULT_LOCAL_RPC_URL = "http://127.0.0.1:8545"
#: Local network name → its client's default chain id (``civicdao chain`` uses 31337 for both).
LOCAL_NETWORKS: Mapping[str, int] = MappingProxyType({"anvil": 31_337, "ganache": 1_337})
PUBLIC_NETWORKS: Mapping[str, int] = MappingProxyType(
    {
        "mainnet": 1,
        "sepolia": 11_155_111,
        "holesky": 17_000,
        "gnosis": 100,
        "optimism": 10,
        "base": 8_453,
        "arbitrum": 42_161,
        "polygon": 137,
    }
)


def expected_chain_id(network: str) -> int:
    """The chain id a network name stands for (a local client's default chain id for anvil/ganache)."""
    if network in LOCAL_NETWORKS:
        return LOCAL_NETWORKS[network]
    try:
        return PUBLIC_NETWORKS[network]
    except KeyError:
        known = ", ".join([*LOCAL_NETWORKS, *PUBLIC_NETWORKS])
        raise UnknownNetworkError(f"unknown network {network!r}: choose one of {known}") from None


def connect_network(network: str, *, rpc_url: str | None = None, chain_id: int | None = None) -> Web3:
    """Connect to ``network`` through ``rpc_url`` (or ``$CIVICDAO_RPC_URL``).

    A public network needs a URL and must serve its chain id. ``anvil``/``ganache`` default to
    ``http://127.0.0.1:8545``; the node must be that client, serving ``chain_id`` if given, otherwise a
    development chain id (31337 or 1337).
    """
    expected = expected_chain_id(network)
    url = rpc_url or os.environ.get(RPC_URL_ENV, "")
    if network not in LOCAL_NETWORKS:
        if not url:
            raise ConfigError(f"no RPC URL for {network}: pass --rpc-url or set {RPC_URL_ENV}")
        if chain_id is not None and chain_id != expected:
            raise ConfigError(f"--chain-id {chain_id} contradicts --network {network} (chain id {expected})")
        return connect(url, expected_chain_id=expected)
    return _connect_local(network, url or DEFAULT_LOCAL_RPC_URL, chain_id)


def _connect_local(network: str, url: str, chain_id: int | None) -> Web3:
    try:
        w3 = connect(url, expected_chain_id=chain_id)
    except RPCUnreachableError:
        raise RPCUnreachableError(
            f"no {network} node answers at {url}: start one with `civicdao chain --kind {network} "
            "--port 8545`, or pass --rpc-url"
        ) from None
    client = str(w3.client_version)
    if network not in client.lower():
        raise ConfigError(f"--network {network}: the node at {url} is {client!r}, not {network}")
    actual = int(w3.eth.chain_id)
    if chain_id is None and actual not in LOCAL_CHAIN_IDS:
        raise ChainIdMismatchError(LOCAL_NETWORKS[network], actual, url)
    return w3
