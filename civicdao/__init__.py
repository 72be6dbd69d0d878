"""CivicDAO: residents govern their city's commons on Ethereum.

One verified resident, one vote (a soulbound membership); proposals that execute through a timelock;
a peer-to-peer exchange for the city's idle capacity; and a public-good treasury that only the
citizens' vote can spend.

Start with :class:`CivicDAO`, the one object a user holds: ``CivicDAO.local()`` (Anvil, deployed, stopped
on exit), ``CivicDAO.deploy``, ``CivicDAO.load`` or ``CivicDAO.connect``, then ``dao.citizens``,
``dao.governance``, ``dao.exchange``, ``dao.treasury`` and ``dao.budget``. The root also exports what a
user's code names: ``ETH`` (the token address that stands for ether), ``Kind``, ``ListingSpec``, ``VoteType``,
``credential_hash``.

Underneath, the library works over an explicit ``web3.Web3`` instance: launch or connect a chain
(:mod:`civicdao.chain`), load a signer (:mod:`civicdao.accounts`), deploy the suite
(:func:`deploy_suite`), then act through one class per contract — :class:`Citizens`,
:class:`Governance`, :class:`Exchange`, :class:`Treasury` — each built with ``.from_suite(suite)``.
Wallet signing lives in :mod:`civicdao.signing`, the relayer in :mod:`civicdao.relayer`. Every error is a
:class:`~civicdao.errors.CivicDAOError`.
"""

from civicdao._version import __version__
from civicdao.accounts import LocalSigner, NodeSigner, Signer
from civicdao.artifacts import Artifact, list_artifacts, load_artifact
from civicdao.chain import ChainControl, LocalChain, connect, launch
from civicdao.citizens import Citizens, credential_hash
from civicdao.config import DeployConfig, load_config
from civicdao.contracts import bind, deploy_contract
from civicdao.dao import CivicDAO
from civicdao.deploy import Suite, deploy_suite, load_suite
from civicdao.errors import CivicDAOError, ContractRevert
from civicdao.exchange import Exchange, Kind, ListingSpec
from civicdao.governance import Action, Governance, VoteType
from civicdao.tokens import ETH
from civicdao.treasury import Treasury
from civicdao.tx import Event, TxRecord, call, send_transaction, transact

__all__ = [
    "ETH",
    "Action",
    "Artifact",
    "ChainControl",
    "Citizens",
    "CivicDAO",
    "CivicDAOError",
    "ContractRevert",
    "DeployConfig",
    "Event",
    "Exchange",
    "Governance",
    "Kind",
    "ListingSpec",
    "LocalChain",
    "LocalSigner",
    "NodeSigner",
    "Signer",
    "Suite",
    "Treasury",
    "TxRecord",
    "VoteType",
    "__version__",
    "bind",
    "call",
    "connect",
    "credential_hash",
    "deploy_contract",
    "deploy_suite",
    "launch",
    "list_artifacts",
    "load_artifact",
    "load_config",
    "load_suite",
    "send_transaction",
    "transact",
]
