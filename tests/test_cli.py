"""The CLI: --help everywhere, tables and --json, one clear line and exit 1 on bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from civicdao.chain import LocalChain
from civicdao.cli import cli, main
from civicdao.manifest import Manifest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "civicdao.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(p) or "civicdao")
def test_every_command_has_help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*path, "--help"]) == 0
    assert "Usage:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "module", ["civicdao.index.cli", "civicdao.commands", "civicdao.web.cli", "civicdao.budget.cli"]
)
def test_command_modules_import_before_the_cli(module: str) -> None:
    """The command modules build on civicdao.cli_options, not on civicdao.cli: any import order works."""
    code = f"import {module}, civicdao.cli; print(len(civicdao.cli.cli.commands))"
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == 16  # every group and command registered whatever came first


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from civicdao import __version__

    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_artifacts_json_lists_the_shipped_contracts() -> None:
    result = run("artifacts", "--json")
    assert result.returncode == 0, result.stderr
    names = {row["contract"] for row in json.loads(result.stdout)}
    assert {"CitizenRegistry", "CivicGovernor", "CommonsExchange", "PublicTreasury"} <= names
    assert not [name for name in names if name.startswith("Mock")], "test-only contracts are not shipped"


def test_artifacts_table_is_readable() -> None:
    result = run("artifacts")
    assert result.returncode == 0
    assert "Shipped contracts" in result.stdout and "CivicGovernor" in result.stdout
    assert "Mock" not in result.stdout


def test_unreachable_rpc_is_one_clear_line_and_exit_1() -> None:
    result = run("check-rpc", "--rpc-url", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: no Ethereum node answers at http://127.0.0.1:9")


def test_chain_id_mismatch_exits_1(chain: LocalChain) -> None:
    result = run("check-rpc", "--rpc-url", chain.rpc_url, "--chain-id", "5")
    assert result.returncode == 1
    assert "serves chain id 31337, expected 5" in result.stderr


def test_check_rpc_json(chain: LocalChain) -> None:
    result = run("check-rpc", "--rpc-url", chain.rpc_url, "--chain-id", "31337", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["chain_id"] == 31337


def test_usage_error_exits_2() -> None:
    result = run("chain", "--kind", "hardhat")
    assert result.returncode == 2
    assert "Invalid value for '--kind'" in result.stderr


def test_missing_chain_binary_is_one_clear_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "civicdao.cli", "chain"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "CIVICDAO_ANVIL": "/nonexistent/anvil"},
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: CIVICDAO_ANVIL points to /nonexistent/anvil, which does not exist"


# -- a node that refuses or dies: one line, never a traceback -------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the with block ends


@pytest.mark.parametrize(
    "command",
    [
        ["check-rpc"],
        ["deploy", "--unlocked", "0"],
        ["deploy", "--network", "anvil", "--unlocked", "0"],
        ["proposals", "list", "--manifest", "suite.json"],
        ["relay", "--unlocked", "0", "--manifest", "suite.json"],
    ],
    ids=lambda c: " ".join(c[:3]),
)
def test_a_node_that_refuses_the_connection_is_one_line_naming_the_fix(command: list[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = run(*command, "--rpc-url", url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: no ") and f"answers at {url}" in result.stderr
    assert "check the URL" in result.stderr or "start one with `civicdao chain" in result.stderr


def test_a_node_that_dies_mid_deploy_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.json"
    with LocalChain(block_time=1) as chain:
        process = subprocess.Popen(
            [sys.executable, "-m", "civicdao.cli", "deploy", "--rpc-url", chain.rpc_url, "--unlocked", "0",
             "--manifest", str(manifest), "--json"],  # --json: no progress lines on stderr
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while "registry" not in _recorded(manifest) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "registry" in _recorded(manifest), "the deployment did not get going"
        chain.stop()  # the node dies while the deployment waits for its next transaction
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert stderr.startswith(f"error: the Ethereum node at {chain.rpc_url} stopped answering")
    assert stderr.rstrip().endswith("check that it runs and the RPC URL, then run the command again")
    assert not Manifest.load(manifest).complete  # and the manifest is there to resume from


def _recorded(manifest: Path) -> dict[str, object]:
    try:
        return dict(json.loads(manifest.read_text())["contracts"])
    except (FileNotFoundError, ValueError):
        return {}


# -- --network anvil / ganache ----------------------------------------------------------------------------


def test_network_anvil_deploys_to_the_local_node(chain: LocalChain, tmp_path: Path) -> None:
    manifest = tmp_path / "suite.json"
    result = run(
        "deploy", "--network", "anvil", "--rpc-url", chain.rpc_url, "--unlocked", "0",
        "--manifest", str(manifest), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["chainId"] == 31337


def test_network_names_are_checked_against_the_node(chain: LocalChain) -> None:
    wrong_client = run("deploy", "--network", "ganache", "--rpc-url", chain.rpc_url, "--unlocked", "0")
    assert wrong_client.returncode == 1
    assert wrong_client.stderr.startswith("error: --network ganache: the node at")
    assert "not ganache" in wrong_client.stderr
    wrong_chain = run(
        "deploy", "--network", "anvil", "--rpc-url", chain.rpc_url, "--chain-id", "5", "--unlocked", "0"
    )
    assert wrong_chain.returncode == 1 and "serves chain id 31337, expected 5" in wrong_chain.stderr
    public = run("deploy", "--network", "sepolia", "--rpc-url", chain.rpc_url, "--unlocked", "0")
    assert public.returncode == 1 and "serves chain id 31337, expected 11155111" in public.stderr
