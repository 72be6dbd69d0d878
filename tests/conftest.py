"""Shared fixtures: one local chain per kind for the whole session, and a snapshot around every test.

Tests that take the ``chain`` fixture run on Anvil; those marked ``@pytest.mark.ganache`` run on Ganache
7.9.2 too. Each test starts from the chain state its module's fixtures built, and leaves nothing behind.
The test-only contracts (``contracts/mocks/``) are built on demand and loadable by name (mock_contracts.py).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import mock_contracts  # noqa: F401  (builds and registers the test-only contracts)
import pytest
from index_scenario import Scenario, build_scenario
from web3 import Web3

from civicdao.accounts import LocalSigner, NodeSigner, from_mnemonic, node_signers
from civicdao.chain import DEFAULT_MNEMONIC, ChainControl, LocalChain
from civicdao.citizens import Citizens
from civicdao.config import load_config
from civicdao.deploy import Suite, deploy_suite
from civicdao.governance import Governance
from civicdao.index import Indexer, IndexReader, Store


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "chain" in metafunc.fixturenames:
        kinds = ["anvil", "ganache"] if metafunc.definition.get_closest_marker("ganache") else ["anvil"]
        metafunc.parametrize("chain", kinds, indirect=True, scope="session")


@pytest.fixture(scope="session")
def chain(request: pytest.FixtureRequest) -> Iterator[LocalChain]:
    with LocalChain(request.param) as running:
        yield running


@pytest.fixture(scope="session")
def w3(chain: LocalChain) -> Web3:
    return chain.w3


@pytest.fixture(scope="session")
def control(chain: LocalChain) -> ChainControl:
    return chain.control


@pytest.fixture(autouse=True)
def _isolate(request: pytest.FixtureRequest) -> Iterator[None]:
    """Snapshot before each chain test and revert after it."""
    if "chain" not in request.fixturenames:
        yield
        return
    control: ChainControl = request.getfixturevalue("control")
    snapshot = control.snapshot()
    yield
    control.revert(snapshot)


@pytest.fixture(scope="session")
def accounts(w3: Web3) -> list[NodeSigner]:
    """The node's unlocked accounts (what Brownie and Ganache hand out)."""
    return node_signers(w3)


@pytest.fixture(scope="session")
def deployer(accounts: list[NodeSigner]) -> NodeSigner:
    return accounts[0]


@pytest.fixture(scope="session")
def local_signers(w3: Web3) -> list[LocalSigner]:
    """Key-holding signers for the same development accounts (they sign locally, as wallets do)."""
    return [from_mnemonic(DEFAULT_MNEMONIC, index, chain_id=w3.eth.chain_id) for index in range(10)]


@pytest.fixture(scope="session")
def suite(w3: Web3, deployer: NodeSigner) -> Suite:
    """The whole CivicDAO (pilot preset) deployed once per chain; tests revert their changes."""
    return deploy_suite(w3, deployer, load_config("pilot"))


@pytest.fixture
def gov(suite: Suite) -> Governance:
    """The session suite's governance client."""
    return Governance.from_suite(suite)


@pytest.fixture
def citizens(suite: Suite) -> Citizens:
    """The session suite's citizen registry client (modules may override it with their own residents)."""
    return Citizens.from_suite(suite)


@pytest.fixture(scope="module")
def scenario(suite: Suite, control: ChainControl, accounts: list[NodeSigner]) -> Iterator[Scenario]:
    """The index tests' history (tests/index_scenario.py), written once per module that asks for it and
    reverted after that module, so other modules see a clean suite."""
    before = control.snapshot()
    yield build_scenario(suite, control, list(accounts))
    control.revert(before)


@pytest.fixture
def reader(w3: Web3, suite: Suite, scenario: Scenario) -> Iterator[IndexReader]:
    """An in-memory event index of the scenario, synced to the head of the chain."""
    with Store(":memory:") as store:
        indexer = Indexer(w3, suite.manifest, store)
        indexer.sync()
        yield IndexReader(store, indexer.deployment)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A real PostgreSQL server (pgserver's bundled binaries), started once for the session.

    As root, pgserver runs PostgreSQL as its own ``pgserver`` user, which must reach the data directory:
    so it lives in a fresh directory right under the system temp dir, not under pytest's private one.
    """
    import pgserver

    folder = tempfile.mkdtemp(prefix="civicdao-pg-")
    server = pgserver.get_server(folder, cleanup_mode="stop")
    # a throwaway server: no fsync, so commits and the shutdown checkpoint do not wait for the disk
    server.psql("ALTER SYSTEM SET fsync = off;")
    server.psql("ALTER SYSTEM SET synchronous_commit = off;")
    server.psql("SELECT pg_reload_conf();")
    yield server
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)
