"""Named networks: which chain id a name means, and how to reach it.

Public chains are reached by an RPC URL from ``--rpc-url`` or ``$CIVICDAO_RPC_URL`` (never a committed
file); the chain id the node reports must match the name. ``anvil`` and ``ganache`` are local chains
that CivicDAO starts itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType

from web3 import Web3

from civicdao.chain import connect
from civicdao.errors import ConfigError, UnknownNetworkError

__all__ = ["LOCAL_NETWORKS", "PUBLIC_NETWORKS", "RPC_URL_ENV", "connect_network"]

RPC_URL_ENV = "CIVICDAO_RPC_URL"
LOCAL_NETWORKS = ("anvil", "ganache")
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
    """The chain id of a public network name."""
    try:
        return PUBLIC_NETWORKS[network]
    except KeyError:
        known = ", ".join([*LOCAL_NETWORKS, *PUBLIC_NETWORKS])
        raise UnknownNetworkError(f"unknown network {network!r}: choose one of {known}") from None


def connect_network(network: str, *, rpc_url: str | None = None) -> Web3:
    """Connect to public network ``network`` through ``rpc_url`` (or ``$CIVICDAO_RPC_URL``)."""
    chain_id = expected_chain_id(network)
    url = rpc_url or os.environ.get(RPC_URL_ENV, "")
    if not url:
        raise ConfigError(f"no RPC URL for {network}: pass --rpc-url or set {RPC_URL_ENV}")
    return connect(url, expected_chain_id=chain_id)
