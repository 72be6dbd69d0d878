"""CivicDAO: residents govern their city's commons on Ethereum.

One verified resident, one vote (a soulbound membership); proposals that execute through a timelock;
a peer-to-peer exchange for the city's idle capacity; and a public-good treasury that only the
citizens' vote can spend.

Start with :class:`CivicDAO`, the one object a user holds: ``CivicDAO.local()`` (Anvil, deployed, stopped
on exit), ``CivicDAO.deploy``, ``CivicDAO.load`` or ``CivicDAO.connect``, then ``dao.citizens``,
``dao.governance``, ``dao.exchange``, ``dao.treasury`` and ``dao.budget``. The root also exports what a
user's code names: ``ETH`` (the token address that stands for ether), ``Kind``, ``ListingSpec``, ``VoteType``,
``credential_hash``, and the errors worth catching (every one is a :class:`CivicDAOError`; the whole
hierarchy is in :mod:`civicdao.errors`).

The plumbing stays in its modules: chains in :mod:`civicdao.chain` (``LocalChain``, ``connect``, ``launch``),
signers in :mod:`civicdao.accounts`, deployment in :mod:`civicdao.deploy` (``deploy_suite``, ``load_suite``,
``Suite``), the transaction path in :mod:`civicdao.tx` (``transact``, ``call``), contracts and artifacts in
:mod:`civicdao.contracts` and :mod:`civicdao.artifacts`, one client per contract (:mod:`civicdao.citizens`,
:mod:`civicdao.governance`, :mod:`civicdao.exchange`, :mod:`civicdao.treasury`), wallet signing in
:mod:`civicdao.signing` and the relayer in :mod:`civicdao.relayer`.
"""

from civicdao._version import __version__
from civicdao.citizens import credential_hash
from civicdao.dao import CivicDAO
from civicdao.errors import (
    AlreadyCitizenError,
    AlreadyVotedError,
    CivicDAOError,
    ConfigError,
    ContractRevert,
    NetworkError,
    NotCitizenError,
    RefusedError,
    SigningError,
    TransactionError,
)
from civicdao.exchange import Kind, ListingSpec
from civicdao.governance import VoteType
from civicdao.tokens import ETH

__all__ = [
    "ETH",
    "AlreadyCitizenError",
    "AlreadyVotedError",
    "CivicDAO",
    "CivicDAOError",
    "ConfigError",
    "ContractRevert",
    "Kind",
    "ListingSpec",
    "NetworkError",
    "NotCitizenError",
    "RefusedError",
    "SigningError",
    "TransactionError",
    "VoteType",
    "__version__",
    "credential_hash",
]
