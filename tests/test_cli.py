"""The CLI: --help everywhere, tables and --json, one clear line and exit 1 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from civicdao.chain import LocalChain
from civicdao.cli import cli, main


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


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from civicdao import __version__

    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_artifacts_json_lists_the_shipped_contracts() -> None:
    result = run("artifacts", "--json")
    assert result.returncode == 0, result.stderr
    names = {row["contract"] for row in json.loads(result.stdout)}
    assert "MockReverter" in names


def test_artifacts_table_is_readable() -> None:
    result = run("artifacts")
    assert result.returncode == 0
    assert "Shipped contracts" in result.stdout and "MockReverter" in result.stdout


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
