"""The CLI deploys, lists proposals and runs the demo; bad networks and keys fail with one clear line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from civicdao.chain import LocalChain
from civicdao.errors import ConfigError, UnknownNetworkError
from civicdao.networks import connect_network, expected_chain_id


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "civicdao.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_deploy_then_list_proposals(chain: LocalChain, tmp_path: Path) -> None:
    manifest = tmp_path / "suite.json"
    deployed = run(
        "deploy", "--rpc-url", chain.rpc_url, "--unlocked", "0", "--manifest", str(manifest), "--json"
    )
    assert deployed.returncode == 0, deployed.stderr
    result = json.loads(deployed.stdout)
    assert {row["contract"] for row in result["contracts"]} == {
        "registry",
        "timelock",
        "governor",
        "treasury",
        "exchange",
        "budget",
    }
    assert json.loads(manifest.read_text())["complete"] is True
    listed = run("proposals", "list", "--rpc-url", chain.rpc_url, "--manifest", str(manifest), "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_deploy_with_env_key_that_is_missing(chain: LocalChain, tmp_path: Path) -> None:
    result = run(
        "deploy", "--rpc-url", chain.rpc_url, "--key-env", "NO_SUCH_KEY",
        "--manifest", str(tmp_path / "m.json"),
        env={"NO_SUCH_KEY": ""},
    )  # fmt: skip
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: environment variable NO_SUCH_KEY is not set: export the deployer's private key"
    )
    assert not (tmp_path / "m.json").exists()


def test_deploy_with_wrong_keystore_password(chain: LocalChain, tmp_path: Path) -> None:
    from eth_account import Account

    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt("0x" + "11" * 32, "right", iterations=2)))
    result = run(
        "deploy", "--rpc-url", chain.rpc_url, "--keystore", str(keystore),
        "--manifest", str(tmp_path / "m.json"),
        env={"CIVICDAO_KEYSTORE_PASSWORD": "wrong"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "wrong password for keystore" in result.stderr
    assert "11" * 32 not in result.stderr + result.stdout


def test_deploy_to_an_unknown_network() -> None:
    result = run("deploy", "--network", "atlantis", "--unlocked", "0")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: unknown network 'atlantis': choose one of anvil, ganache, mainnet"
    )


def test_deploy_with_an_invalid_config_file(chain: LocalChain, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("quorum_percent = 400\n")
    result = run("deploy", "--rpc-url", chain.rpc_url, "--unlocked", "0", "--config", str(config))
    assert result.returncode == 1
    assert "quorum_percent must be between 1 and 100" in result.stderr


def test_public_network_needs_an_rpc_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIVICDAO_RPC_URL", raising=False)
    assert expected_chain_id("sepolia") == 11_155_111
    with pytest.raises(ConfigError, match="no RPC URL for sepolia"):
        connect_network("sepolia")
    with pytest.raises(UnknownNetworkError):
        expected_chain_id("nope")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_demo_runs_and_leaves_no_chain(kind: str) -> None:
    result = run("demo", "--chain", kind)
    assert result.returncode == 0, result.stderr
    assert "executed: the tool lending fee is now 0 bp (EXECUTED)" in result.stdout
    assert "Dana tries an overlapping night and is refused" in result.stdout
    assert "fee reaches the public treasury" in result.stdout
    assert "the planters claim" in result.stdout
    assert "Method of Equal Shares funds: benches by the park, a skate ramp" in result.stdout
    pid = int(re.search(r"pid (\d+)\)", result.stdout).group(1))  # type: ignore[union-attr]
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
