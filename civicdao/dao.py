"""``CivicDAO``: the one object a user holds.

It binds a deployed suite and hands out one client per system — :attr:`~CivicDAO.citizens`,
:attr:`~CivicDAO.governance`, :attr:`~CivicDAO.exchange`, :attr:`~CivicDAO.treasury`,
:attr:`~CivicDAO.budget` — built once and cached. Four ways to get one:

- :meth:`CivicDAO.deploy` deploys a new suite (a preset, optionally overridden) and binds it;
- :meth:`CivicDAO.load` binds a suite recorded in a manifest;
- :meth:`CivicDAO.connect` reaches a node by URL or network name and loads its manifest
  (``deployments/<chain id>.json`` by default);
- :meth:`CivicDAO.local` starts Anvil, deploys, and stops the chain when the ``with`` block ends.

On a local chain (chain id 31337 or 1337) the clock can be moved, so the facade also walks a proposal
through its whole life (:meth:`~CivicDAO.pass_proposal`), waits for the next spending epoch
(:meth:`~CivicDAO.wait_for_next_epoch`) or for a booking to become settleable
(:meth:`~CivicDAO.wait_until_settleable`), and passes a streaming grant in one call
(:meth:`~CivicDAO.stream_grant`).

>>> with CivicDAO.local() as dao:               # doctest: +SKIP
...     registrar, alice, bob = dao.accounts[:3]
...     dao.citizens.register(registrar, alice.address, credential_hash("permit 1", salt=SALT))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from eth_typing import ChecksumAddress
from web3 import Web3

from civicdao.accounts import LOCAL_CHAIN_IDS, NodeSigner, Signer, node_signers
from civicdao.budget import ParticipatoryBudget
from civicdao.chain import ChainControl, ChainKind, LocalChain
from civicdao.chain import connect as connect_url
from civicdao.citizens import Citizens
from civicdao.config import DeployConfig, load_config
from civicdao.deploy import Suite, deploy_suite, load_suite
from civicdao.errors import ConfigError, DeploymentError
from civicdao.exchange import Booking, BookingMade, Exchange
from civicdao.governance import Action, Governance
from civicdao.local import PassedProposal, pass_proposal
from civicdao.manifest import DEFAULT_DEPLOYMENTS_DIR, Manifest, manifest_path
from civicdao.networks import connect_network
from civicdao.tokens import ETH
from civicdao.treasury import EpochStatus, GrantCreated, Treasury, grant_id_of
from civicdao.tx import TxRecord

if TYPE_CHECKING:
    from civicdao.index import IndexReader, Store, SyncReport

__all__ = [
    "DEFAULT_DEPLOYMENTS_DIR",
    "CivicDAO",
    "GrantCreated",
    "ManifestNotFoundError",
    "NotLocalChainError",
    "PassedProposal",
    "grant_id_of",
]

_T = TypeVar("_T")


class ManifestNotFoundError(DeploymentError, FileNotFoundError):
    """No deployment manifest where one was expected."""


class NotLocalChainError(ConfigError):
    """A local-chain helper (moving the clock) was asked for on a chain whose time cannot be moved."""


class CivicDAO:
    """A deployed CivicDAO suite and one client per system, the object a user holds.

    Build it with :meth:`deploy`, :meth:`load`, :meth:`connect` or :meth:`local` rather than directly.
    """

    def __init__(self, suite: Suite, *, chain: LocalChain | None = None) -> None:
        if not isinstance(suite, Suite):
            raise ConfigError(f"expected a deployed Suite, got {type(suite).__name__}")
        self._suite = suite
        self._chain = chain
        self._clients: dict[str, Any] = {}
        self._store: Store | None = None
        self._index: IndexReader | None = None

    # -- the four ways in ------------------------------------------------------------------------------

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        deployer: Signer,
        *,
        preset: str = "pilot",
        config: DeployConfig | Mapping[str, Any] | str | Path | None = None,
        manifest_path: str | Path | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> CivicDAO:
        """Deploy a new suite (or finish an interrupted one recorded at ``manifest_path``) and bind it.

        ``config`` is a :class:`~civicdao.config.DeployConfig`, or overrides of ``preset`` (a mapping or a
        TOML file). Without ``manifest_path`` the manifest stays in memory.

        Raises:
            ConfigError: unknown preset or config key, or a value out of range.
            DeploymentError: see :func:`civicdao.deploy.deploy_suite`.
        """
        chosen = config if isinstance(config, DeployConfig) else load_config(preset, config)
        return cls(deploy_suite(w3, deployer, chosen, manifest_path=manifest_path, progress=progress))

    @classmethod
    def load(cls, w3: Web3, manifest: Manifest | str | Path) -> CivicDAO:
        """Bind the suite recorded in ``manifest`` (a :class:`~civicdao.manifest.Manifest` or its path).

        Raises:
            ManifestNotFoundError: no manifest at that path.
            DeploymentError: the manifest is for another chain, or its contracts are not on this one.
        """
        if not isinstance(manifest, Manifest) and not Path(manifest).is_file():
            raise ManifestNotFoundError(
                f"no deployment manifest at {manifest}: deploy first (`civicdao deploy` or "
                "CivicDAO.deploy(...)) or pass the manifest's path"
            )
        return cls(load_suite(w3, manifest))

    @classmethod
    def connect(
        cls,
        rpc_url_or_network: str,
        *,
        manifest: Manifest | str | Path | None = None,
        expected_chain_id: int | None = None,
        rpc_url: str | None = None,
    ) -> CivicDAO:
        """Reach a node and bind the suite deployed there.

        ``rpc_url_or_network`` is an ``http(s)://`` URL or a network name (``sepolia``, ``anvil``, … — see
        :mod:`civicdao.networks`; a public one takes its URL from ``rpc_url`` or ``$CIVICDAO_RPC_URL``).
        ``manifest`` defaults to ``deployments/<chain id>.json``.

        Raises:
            UnknownNetworkError: the name is neither a URL nor a known network.
            RPCUnreachableError, ChainIdMismatchError: no node there, or it serves another chain.
            ManifestNotFoundError: no manifest (deploy first, or pass ``manifest=``).
        """
        if rpc_url_or_network.startswith(("http://", "https://")):
            if rpc_url is not None:
                raise ConfigError("pass the RPC URL once: as the first argument or as rpc_url=, not both")
            w3 = connect_url(rpc_url_or_network, expected_chain_id=expected_chain_id)
        else:
            w3 = connect_network(rpc_url_or_network, rpc_url=rpc_url, chain_id=expected_chain_id)
        if manifest is None:
            manifest = manifest_path(w3.eth.chain_id)
        return cls.load(w3, manifest)

    @classmethod
    @contextlib.contextmanager
    def local(
        cls,
        *,
        kind: ChainKind = "anvil",
        preset: str = "pilot",
        config: DeployConfig | Mapping[str, Any] | str | Path | None = None,
        accounts: int = 10,
        port: int | None = None,
    ) -> Iterator[CivicDAO]:
        """Start a local chain, deploy a suite from its first account, and stop the chain on exit.

        ``dao.accounts`` are the node's funded, unlocked accounts (the first deployed the suite and, in the
        ``pilot`` preset, is the registrar); ``dao.control`` moves the clock.
        """
        with LocalChain(kind, accounts=accounts, port=port) as chain:
            deployer = node_signers(chain.w3)[0]
            chosen = config if isinstance(config, DeployConfig) else load_config(preset, config)
            dao = cls(deploy_suite(chain.w3, deployer, chosen), chain=chain)
            try:
                yield dao
            finally:
                dao.close()

    def close(self) -> None:
        """Close the event index's database, if :meth:`sync_index` opened one. Safe to call twice."""
        store, self._store, self._index = self._store, None, None
        if store is not None:
            store.close()

    def __enter__(self) -> CivicDAO:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<CivicDAO chain {self.chain_id} governor {self.addresses['governor']}>"

    # -- what it is ------------------------------------------------------------------------------------

    @property
    def suite(self) -> Suite:
        """The bound contracts and their manifest."""
        return self._suite

    @property
    def w3(self) -> Web3:
        return self._suite.w3

    @property
    def chain_id(self) -> int:
        return self._suite.chain_id

    @property
    def manifest(self) -> Manifest:
        return self._suite.manifest

    @property
    def addresses(self) -> dict[str, ChecksumAddress]:
        """Manifest key (``registry``, ``governor``, ``timelock``, ``treasury``, ``exchange``, ``budget``) →
        checksum address."""
        return self._suite.addresses()

    @property
    def is_local(self) -> bool:
        """Whether the chain is a development chain whose clock can be moved (chain id 31337 or 1337)."""
        return self._chain is not None or self.chain_id in LOCAL_CHAIN_IDS

    @property
    def chain(self) -> LocalChain | None:
        """The local chain :meth:`local` started (None otherwise)."""
        return self._chain

    @property
    def control(self) -> ChainControl:
        """Snapshots and time travel on a local chain.

        Raises:
            NotLocalChainError: the chain is not a local development chain.
        """
        if not self.is_local:
            raise NotLocalChainError(
                f"chain {self.chain_id} is not a local development chain: its clock cannot be moved "
                "(use CivicDAO.local() or a node on chain id 31337/1337)"
            )
        return self._client("control", lambda: ChainControl(self.w3))

    @property
    def accounts(self) -> list[NodeSigner]:
        """The node's unlocked accounts as signers (a local node's funded accounts; empty on most public
        nodes). Sending through them is an explicit choice."""
        return node_signers(self.w3)

    # -- the systems ------------------------------------------------------------------------------------

    @property
    def citizens(self) -> Citizens:
        """The citizen registry: register, attest, delegate, revoke, rotate."""
        return self._client("citizens", lambda: Citizens.from_suite(self._suite))

    @property
    def governance(self) -> Governance:
        """The governor and timelock: propose, vote, queue, execute (lists read the index when synced)."""
        return self._client("governance", lambda: Governance.from_suite(self._suite, index=self._index))

    @property
    def exchange(self) -> Exchange:
        """The commons exchange: list, book, settle, withdraw (lists read the index when synced)."""
        return self._client("exchange", lambda: Exchange.from_suite(self._suite, index=self._index))

    @property
    def treasury(self) -> Treasury:
        """The public treasury: donate, grants, caps per epoch (lists read the index when synced)."""
        return self._client("treasury", lambda: Treasury.from_suite(self._suite, index=self._index))

    @property
    def budget(self) -> ParticipatoryBudget:
        """Participatory budgeting rounds (lists read the index when synced)."""
        return self._client("budget", lambda: ParticipatoryBudget.from_suite(self._suite, index=self._index))

    @property
    def index(self) -> IndexReader | None:
        """The event index the clients' lists read, once :meth:`sync_index` has run (else None)."""
        return self._index

    def sync_index(self, db: str | Path | None = None) -> SyncReport:
        """Index the suite's events up to the chain's head, and let the clients' lists read the index.

        ``db`` is an SQLite path or a ``postgresql://`` URL; the default is an in-memory SQLite database
        that lives as long as this object. Call again to catch up; the first call's database is kept.
        """
        from civicdao.index import Deployment, Indexer, IndexReader, Store

        if self._store is not None and db is not None and str(db) != self._store.url:
            raise ConfigError(
                f"the index is already in {self._store.url}: call close() first to use another database"
            )
        if self._store is None:
            self._store = Store(db if db is not None else ":memory:")
        deployment = Deployment.from_manifest(self.manifest)
        report = Indexer(self.w3, deployment, self._store).sync()
        if self._index is None:
            self._index = IndexReader(self._store, deployment)
            for name in ("governance", "exchange", "treasury", "budget"):
                self._clients.pop(name, None)  # rebuilt with the index on next use
        return report

    # -- local walk-throughs ------------------------------------------------------------------------------

    def pass_proposal(
        self,
        proposer: Signer,
        voters: Sequence[Signer],
        actions: Sequence[Action],
        description: str,
    ) -> PassedProposal:
        """On a local chain: propose, vote FOR with every voter, queue and execute, moving the clock.

        The clock first moves one second, so that citizens registered in the latest block already count
        (voting power is read at a past timepoint). Returns the proposal id and the execution.

        Raises:
            NotLocalChainError: the chain's clock cannot be moved (do it step by step with ``.governance``).
            ProposalFailedError: the voters did not carry the vote.
        """
        control = self.control
        control.increase_time(1)
        return pass_proposal(self.governance, control, proposer, voters, actions, description)

    def wait_for_next_epoch(self, token: str = ETH) -> EpochStatus:
        """On a local chain: move the clock into the treasury's next spending epoch; returns its status.

        Why: the treasury caps what governance may spend per epoch, and a raised cap — including the
        preset's first cap, set while deploying — applies only **from the next epoch**. So nothing can be
        spent in the epoch the suite was deployed in: a grant proposal executed then reverts with
        ``TreasuryEpochCapExceeded``. Waiting one epoch makes the deployed cap the one in force.

        Raises:
            NotLocalChainError: the chain's clock cannot be moved (wait for the epoch's end instead).
        """
        control = self.control
        status = self.treasury.epoch_status(token)
        control.increase_time(max(status.end - control.time(), 0) + 1)
        return self.treasury.epoch_status(token)

    def wait_until_settleable(self, booking: BookingMade | Booking | int) -> int:
        """On a local chain: move the clock past a booking's end and its claim window, when
        :meth:`Exchange.settle <civicdao.exchange.Exchange.settle>` pays out both the price and the
        deposit. Returns the new time.

        Raises:
            NotLocalChainError: the chain's clock cannot be moved.
        """
        control = self.control
        end = self.exchange.get_booking(booking).end if isinstance(booking, int) else booking.end
        due = end + self.exchange.windows().claim + 1
        now = control.time()
        return control.increase_time(due - now) if due > now else now

    def stream_grant(
        self,
        proposer: Signer,
        voters: Sequence[Signer],
        *,
        recipient: str,
        amount: int,
        duration: int,
        start: int | None = None,
        cliff: int = 0,
        token: str = ETH,
        description: str | None = None,
    ) -> GrantCreated:
        """On a local chain: pass a proposal that creates a streaming grant; returns the new grant's id.

        The grant vests linearly over ``duration`` seconds from ``start`` (default: now), nothing before
        ``start + cliff``. Spending needs a cap in force: in the deployment's first epoch call
        :meth:`wait_for_next_epoch` first.

        Raises:
            NotLocalChainError: the chain's clock cannot be moved.
            ProposalFailedError: the voters did not carry the vote.
            ContractRevert: the execution reverted (the cap or the free balance is short, say).
        """
        control = self.control
        action = self.treasury.stream_grant_action(
            recipient=recipient,
            amount=amount,
            start=control.time() if start is None else start,
            cliff=cliff,
            duration=duration,
            token=token,
        )
        text = description or f"Stream {amount} wei to {recipient} over {duration} s"
        return self.treasury.grant_id_of(self.pass_proposal(proposer, voters, [action], text))

    @staticmethod
    def grant_id_of(execution: TxRecord | PassedProposal) -> GrantCreated:
        """The grant an executed proposal created (see :func:`civicdao.treasury.grant_id_of`)."""
        return grant_id_of(execution)

    # -- internals ------------------------------------------------------------------------------------------

    def _client(self, name: str, build: Callable[[], _T]) -> _T:
        if name not in self._clients:
            self._clients[name] = build()
        return cast(_T, self._clients[name])
