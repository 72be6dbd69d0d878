"""The Brownie scripts, run the way a developer runs them: ``brownie run scripts/… --network …``.

Each run gets its own HOME (so its own ~/.brownie) with both networks on free ports: the test neither
touches the developer's Brownie settings nor collides with a node already listening on 8545.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
import solcx
import yaml  # type: ignore[import-untyped,unused-ignore]
from eth_account import Account

from civicdao.chain import DEFAULT_MNEMONIC
from civicdao.deploy import SUITE_CONTRACTS
from civicdao.toolchain import register_brownie_networks

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def brownie_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("brownie-home")
    config = home / ".brownie" / "network-config.yaml"
    config.parent.mkdir()
    assert register_brownie_networks(config, ganache_port=free_port()) == ["ganache-shanghai"]
    data = yaml.safe_load(config.read_text())
    for entry in data["development"]:
        if entry["id"] == "development":
            entry["cmd_settings"]["port"] = free_port()
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return home


def brownie_run(home: Path, script: str, network: str, **env: str) -> str:
    environment = {
        **os.environ,
        "HOME": str(home),
        "PATH": os.pathsep.join(
            [str(ROOT / ".venv/bin"), str(ROOT / "node_modules/.bin"), os.environ["PATH"]]
        ),
        "SOLCX_BINARY_PATH": str(solcx.get_solcx_install_folder()),  # the solc-js shim `make setup` installed
        **env,
    }
    for variable in ("CIVICDAO_ACCOUNT", "CIVICDAO_ACCOUNT_PASSWORD", "CIVICDAO_PRESET", "CIVICDAO_CONFIG"):
        if variable not in env:
            environment.pop(variable, None)
    result = subprocess.run(
        ["brownie", "run", script, "--network", network],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    return output


def test_register_brownie_networks_is_idempotent(tmp_path: Path) -> None:
    config = tmp_path / "network-config.yaml"
    assert register_brownie_networks(config) == ["ganache-shanghai"]  # starts from Brownie's default file
    first = config.read_text()
    assert register_brownie_networks(config) == []
    assert config.read_text() == first
    entries = [e for e in yaml.safe_load(first)["development"] if e["id"] == "ganache-shanghai"]
    assert len(entries) == 1 and entries[0]["cmd_settings"]["evm_version"] == "shanghai"
    assert any(e["id"] == "development" for e in yaml.safe_load(first)["development"])  # Brownie's own kept
    assert register_brownie_networks(config, ganache_port=9545) == ["ganache-shanghai"]  # corrected
    assert (
        len([e for e in yaml.safe_load(config.read_text())["development"] if e["id"] == "ganache-shanghai"])
        == 1
    )


def test_brownie_deploy_on_development_writes_the_manifest(brownie_home: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "deployments" / "dev.json"
    output = brownie_run(brownie_home, "scripts/deploy.py", "development", CIVICDAO_MANIFEST=str(manifest))
    assert "deployment complete" in output
    data = json.loads(manifest.read_text())
    assert data["complete"] is True and data["chainId"] == 31337
    assert set(data["contracts"]) == set(SUITE_CONTRACTS)
    for key, entry in data["contracts"].items():
        assert f"{key:<9} {entry['address']}" in output
    # A second run starts a new development chain: the stale manifest is replaced, not resumed into nothing.
    again = brownie_run(brownie_home, "scripts/deploy.py", "development", CIVICDAO_MANIFEST=str(manifest))
    assert "earlier development chain" in again and "deployment complete" in again


def test_brownie_govern_walks_a_proposal_to_execution_on_ganache(brownie_home: Path, tmp_path: Path) -> None:
    output = brownie_run(
        brownie_home,
        "scripts/govern.py",
        "ganache-shanghai",
        CIVICDAO_MANIFEST=str(tmp_path / "ganache.json"),
    )
    states = [
        line.split(": ")[-1] for line in output.splitlines() if line.startswith("==> ") and ": " in line
    ]
    assert states == ["PENDING", "ACTIVE", "SUCCEEDED", "QUEUED", "EXECUTED"]
    assert "tally: for 2, against 0, abstain 1" in output
    assert "is a registrar: True" in output
    assert "received 100000000000000000 wei" in output
    assert json.loads((tmp_path / "ganache.json").read_text())["chainId"] == 1337


def test_brownie_deploy_with_a_keystore_account_signs_locally(brownie_home: Path, tmp_path: Path) -> None:
    """What a live deployment does (CIVICDAO_ACCOUNT=<keystore id>), tried on a development chain."""
    Account.enable_unaudited_hdwallet_features()  # as civicdao.accounts.from_mnemonic does (test alone)
    account = Account.from_mnemonic(DEFAULT_MNEMONIC, account_path="m/44'/60'/0'/0/1")  # funded on Anvil
    keystore = brownie_home / ".brownie" / "accounts" / "civic-test-deployer.json"
    keystore.parent.mkdir(exist_ok=True)
    keystore.write_text(json.dumps(Account.encrypt(account.key, "correct horse")))
    manifest = tmp_path / "keystore.json"
    output = brownie_run(
        brownie_home,
        "scripts/deploy.py",
        "development",
        CIVICDAO_MANIFEST=str(manifest),
        CIVICDAO_ACCOUNT="civic-test-deployer",
        CIVICDAO_ACCOUNT_PASSWORD="correct horse",
    )
    assert f"from {account.address}" in output and "deployment complete" in output
    assert json.loads(manifest.read_text())["deployer"] == account.address
