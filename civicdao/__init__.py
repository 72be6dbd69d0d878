"""CivicDAO: residents govern their city's commons on Ethereum.

One verified resident, one vote (a soulbound membership); proposals that execute through a timelock;
a peer-to-peer exchange for the city's idle capacity; and a public-good treasury that only the
citizens' vote can spend.

The library works over an explicit ``web3.Web3`` instance: launch or connect a chain
(:mod:`civicdao.chain`), load a signer (:mod:`civicdao.accounts`), deploy and call contracts from the
shipped artifacts (:mod:`civicdao.contracts`, :mod:`civicdao.tx`). Every error is a
:class:`~civicdao.errors.CivicDAOError`.
"""

from civicdao._version import __version__
from civicdao.accounts import LocalSigner, NodeSigner, Signer
from civicdao.artifacts import Artifact, list_artifacts, load_artifact
from civicdao.chain import ChainControl, LocalChain, connect, launch
from civicdao.contracts import bind, deploy_contract
from civicdao.errors import CivicDAOError, ContractRevert
from civicdao.tx import Event, TxRecord, call, send_transaction, transact

__all__ = [
    "Artifact",
    "ChainControl",
    "CivicDAOError",
    "ContractRevert",
    "Event",
    "LocalChain",
    "LocalSigner",
    "NodeSigner",
    "Signer",
    "TxRecord",
    "__version__",
    "bind",
    "call",
    "connect",
    "deploy_contract",
    "launch",
    "list_artifacts",
    "load_artifact",
    "send_transaction",
    "transact",
]
