"""The ``CivicDAO`` facade: the four ways in, the clients bound to the right contracts, the local
walk-throughs and their typed records, and the errors a newcomer meets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from web3 import Web3

from civicdao import ETH, CivicDAO, Kind, credential_hash
from civicdao.accounts import NodeSigner
from civicdao.chain import LocalChain
from civicdao.dao import GrantCreated, ManifestNotFoundError, NotLocalChainError, grant_id_of
from civicdao.deploy import Suite
from civicdao.errors import CivicDAOError, ConfigError, DeploymentError, UnknownNetworkError
from civicdao.local import PassedProposal, ProposalFailedError

SALT = b"a registrar's secret salt for the tests"
ETHER = 10**18


def _register(dao: CivicDAO, registrar: NodeSigner, residents: list[NodeSigner]) -> None:
    for number, resident in enumerate(residents):
        dao.citizens.register(registrar, resident.address, credential_hash(f"permit {number}", salt=SALT))


def test_deploy_binds_each_client_to_its_contract_and_caches_it(
    w3: Web3, deployer: NodeSigner, tmp_path: Path
) -> None:
    said: list[str] = []
    dao = CivicDAO.deploy(
        w3, deployer, preset="pilot", manifest_path=tmp_path / "m.json", progress=said.append
    )
    assert "deployment complete" in said
    assert dao.chain_id == 31337 == w3.eth.chain_id
    assert dao.w3 is w3 and dao.suite.manifest.path == tmp_path / "m.json"
    addresses = dao.addresses
    assert set(addresses) == {"registry", "timelock", "governor", "treasury", "exchange", "budget"}
    assert all(Web3.is_checksum_address(a) for a in addresses.values())
    assert dao.citizens.contract.address == addresses["registry"]
    assert dao.governance.contract.address == addresses["governor"]
    assert dao.governance.timelock.address == addresses["timelock"]
    assert dao.exchange.contract.address == addresses["exchange"]
    assert dao.treasury.contract.address == addresses["treasury"]
    assert dao.budget.contract.address == addresses["budget"]
    assert dao.citizens is dao.citizens and dao.treasury is dao.treasury and dao.exchange is dao.exchange
    assert dao.index is None and dao.exchange.index is None


def test_deploy_applies_config_overrides_to_the_preset(w3: Web3, deployer: NodeSigner) -> None:
    dao = CivicDAO.deploy(w3, deployer, preset="pilot", config={"quorum_percent": 7})
    assert dao.manifest.config["quorum_percent"] == 7


def test_deploy_refuses_an_unknown_preset_before_sending_anything(w3: Web3, deployer: NodeSigner) -> None:
    nonce = w3.eth.get_transaction_count(deployer.address)
    with pytest.raises(ConfigError, match="unknown preset 'village'"):
        CivicDAO.deploy(w3, deployer, preset="village")
    assert w3.eth.get_transaction_count(deployer.address) == nonce


def test_load_binds_the_suite_a_manifest_records(w3: Web3, deployer: NodeSigner, tmp_path: Path) -> None:
    deployed = CivicDAO.deploy(w3, deployer, manifest_path=tmp_path / "m.json")
    loaded = CivicDAO.load(w3, tmp_path / "m.json")
    assert loaded.addresses == deployed.addresses
    assert CivicDAO.load(w3, deployed.manifest).addresses == deployed.addresses


def test_load_without_a_manifest_names_the_fix(w3: Web3, tmp_path: Path) -> None:
    with pytest.raises(ManifestNotFoundError, match="deploy first") as caught:
        CivicDAO.load(w3, tmp_path / "missing.json")
    assert isinstance(caught.value, DeploymentError) and isinstance(caught.value, FileNotFoundError)
    assert str(tmp_path / "missing.json") in str(caught.value)


def test_connect_by_url_finds_the_manifest_in_deployments(
    chain: LocalChain, w3: Web3, deployer: NodeSigner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    deployed = CivicDAO.deploy(w3, deployer, manifest_path=tmp_path / "deployments" / "31337.json")
    connected = CivicDAO.connect(chain.rpc_url, expected_chain_id=31337)
    assert connected.addresses == deployed.addresses
    assert connected.treasury.contract.address == deployed.addresses["treasury"]


def test_connect_by_network_name_with_an_explicit_manifest(
    chain: LocalChain, w3: Web3, deployer: NodeSigner, tmp_path: Path
) -> None:
    deployed = CivicDAO.deploy(w3, deployer, manifest_path=tmp_path / "m.json")
    connected = CivicDAO.connect("anvil", rpc_url=chain.rpc_url, manifest=tmp_path / "m.json")
    assert connected.addresses == deployed.addresses


def test_connect_without_a_manifest_names_the_default_path(
    chain: LocalChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ManifestNotFoundError, match=r"deployments/31337\.json: deploy first"):
        CivicDAO.connect(chain.rpc_url)


def test_connect_to_an_unknown_network_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNetworkError, match="unknown network 'atlantis': choose one of anvil, ganache"):
        CivicDAO.connect("atlantis")


def test_facade_refuses_what_is_not_a_suite() -> None:
    with pytest.raises(ConfigError, match="expected a deployed Suite"):
        CivicDAO("not a suite")  # type: ignore[arg-type]


def test_pass_proposal_returns_the_proposal_id_and_its_execution(
    suite: Suite, accounts: list[NodeSigner]
) -> None:
    dao = CivicDAO(suite)
    registrar, *residents = accounts[:4]
    _register(dao, registrar, residents)
    assert dao.exchange.fee_bps(Kind.TOOL) > 0
    passed = dao.pass_proposal(residents[0], residents, [dao.exchange.fee_action(Kind.TOOL, 0)], "Free tools")
    assert isinstance(passed, PassedProposal)
    assert passed.execution.event("ProposalExecuted")["proposalId"] == passed.proposal_id
    assert dao.governance.state(passed.proposal_id).name == "EXECUTED"
    assert dao.exchange.fee_bps(Kind.TOOL) == 0
    with pytest.raises(ConfigError, match="created 0 grants"):
        grant_id_of(passed.execution)


def test_pass_proposal_without_enough_votes_says_how_it_ended(
    suite: Suite, accounts: list[NodeSigner]
) -> None:
    dao = CivicDAO(suite)
    registrar, *residents = accounts[:8]
    _register(dao, registrar, residents)
    with pytest.raises(ProposalFailedError, match="ended DEFEATED, not SUCCEEDED") as caught:
        dao.pass_proposal(residents[0], [], [dao.exchange.fee_action("tool", 0)], "nobody votes")
    assert isinstance(caught.value, CivicDAOError) and isinstance(caught.value, AssertionError)


def test_stream_grant_after_the_first_epoch_returns_the_grant_id(
    suite: Suite, accounts: list[NodeSigner]
) -> None:
    dao = CivicDAO(suite)
    registrar, *residents = accounts[:4]
    _register(dao, registrar, residents)
    dao.treasury.donate(residents[2], 2 * ETHER, note="street fair")
    first = dao.treasury.epoch_status()
    assert first.cap == 0  # the deployed cap waits for the next epoch
    now = dao.wait_for_next_epoch()
    assert now.epoch == first.epoch + 1 and now.cap > 0
    grant = dao.stream_grant(
        residents[0], residents, recipient=residents[2].address, amount=ETHER, duration=30 * 86_400
    )
    assert isinstance(grant, GrantCreated)
    assert (grant.recipient, grant.token, grant.amount) == (residents[2].address, ETH, ETHER)
    assert grant.proposal_id is not None
    assert grant.execution.event("ProposalExecuted")["proposalId"] == grant.proposal_id
    held = dao.treasury.get_grant(grant.grant_id)
    assert (held.kind, held.recipient, held.amount) == ("stream", residents[2].address, ETHER)
    assert CivicDAO.grant_id_of(grant.execution).grant_id == grant.grant_id


def test_wait_until_settleable_lets_settle_pay_price_and_deposit(
    suite: Suite, accounts: list[NodeSigner]
) -> None:
    from civicdao import ListingSpec

    dao = CivicDAO(suite)
    registrar, lister, renter = accounts[:3]
    _register(dao, registrar, [lister, renter])
    start = dao.control.time() + 3_600
    spec = ListingSpec(
        kind=Kind.ROOM_HOUSE, unit="day", price=10**16, deposit=10**17, available_from=start,
        available_until=start + 10 * 86_400, max_units=3, metadata_uri="ipfs://room",
    )  # fmt: skip
    room = dao.exchange.list(lister, spec)
    stay = dao.exchange.book(renter, room.listing_id, start=start, units=2)
    claim_window = dao.exchange.windows().claim
    assert dao.wait_until_settleable(stay) == stay.end + claim_window + 1
    settled = dao.exchange.settle(registrar, stay.booking_id)
    assert settled.price_settled and settled.deposit_released
    assert dao.wait_until_settleable(stay.booking_id) == dao.control.time()  # already due: no move


def test_sync_index_feeds_the_clients_lists(suite: Suite, accounts: list[NodeSigner]) -> None:
    dao = CivicDAO(suite)
    registrar, *residents = accounts[:4]
    _register(dao, registrar, residents)
    passed = dao.pass_proposal(residents[0], residents, [dao.exchange.fee_action("tool", 0)], "Free tools")
    before = dao.governance
    report = dao.sync_index()
    assert report.events > 0 and dao.index is not None
    assert dao.governance is not before and dao.governance.index is dao.index
    assert (
        dao.treasury.index is dao.index and dao.exchange.index is dao.index and dao.budget.index is dao.index
    )
    assert [p.id for p in dao.governance.proposals()] == [passed.proposal_id]
    dao.close()
    assert dao.index is None


def test_clock_helpers_refuse_a_chain_whose_time_cannot_be_moved() -> None:
    with LocalChain(chain_id=4_242) as other:
        dao = CivicDAO.deploy(other.w3, NodeSigner(other.w3.eth.accounts[0]))
        assert not dao.is_local
        with pytest.raises(NotLocalChainError, match="chain 4242 is not a local development chain"):
            dao.wait_for_next_epoch()
        with pytest.raises(NotLocalChainError):
            dao.pass_proposal(dao.accounts[1], [], [], "x")


def test_local_starts_deploys_and_stops_the_chain() -> None:
    with CivicDAO.local(accounts=5) as dao:
        chain = dao.chain
        assert chain is not None and chain.pid is not None
        pid = chain.pid
        assert len(dao.accounts) == 5
        assert dao.is_local and dao.control.time() > 0
        assert dao.citizens.is_registrar(dao.accounts[0].address)  # the pilot preset's registrar
    assert chain.pid is None
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_quickstart_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    guide = Path(__file__).resolve().parent.parent / "docs" / "quickstart.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), flags=re.DOTALL)
    namespace: dict[str, object] = {}
    exec(compile("\n".join(blocks), str(guide), "exec"), namespace)  # noqa: S102 - our own documentation
    printed = capsys.readouterr().out
    assert "3 citizens" in printed
    assert "executed; tool fee now 0 bp" in printed
    assert (
        "Bob withdrew 29100000000000000 wei, Carol 100000000000000000 wei; "
        "the treasury got 900000000000000 wei of fees" in printed
    )
    assert re.search(r"grant 0 created by proposal \d+", printed)
    assert re.search(r"Carol claims [1-9]\d* wei", printed)
    assert re.search(r"\d+ events indexed; 2 proposals", printed)
    dao = namespace["dao"]
    assert dao.chain.pid is None  # type: ignore[attr-defined]  # session.close() stopped the chain
