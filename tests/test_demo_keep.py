"""Issues 12's and 14's "done when", tried as a new user would.

With a chain kept running after the demo (or started by ``civicdao chain`` and deployed to by ``civicdao
deploy``), ``proposals list``, ``listings search`` and ``treasury report`` work against its manifest in
``deployments/<chain id>.json``; ``civicdao serve`` shows the demo's proposals, listings and treasury, and a
vote signed there is counted on chain. Each test stops every process it started."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web3 import Web3

from civicdao.accounts import from_mnemonic
from civicdao.artifacts import load_artifact
from civicdao.chain import DEFAULT_MNEMONIC
from civicdao.manifest import Manifest
from civicdao.signing import sign_typed_data


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "civicdao.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def _env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[1])
    return {"PYTHONPATH": root, "COLUMNS": "200"}


class Kept:
    """A long-running ``civicdao`` command read line by line until it says it is ready."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "civicdao.cli", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **_env()},
        )
        self.output: list[str] = []

    def wait_for(self, text: str, timeout: float = 150) -> str:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
            self.output.append(line)
            if text in line:
                return "".join(self.output)
        raise AssertionError(f"never saw {text!r}; output:\n{''.join(self.output)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture
def kept() -> Iterator[list[Kept]]:
    started: list[Kept] = []
    yield started
    for item in started:
        item.stop()


def _gone(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split()[2] == "Z"


def _try_the_lists(cwd: Path, url: str) -> dict[str, object]:
    env = {**_env(), "CIVICDAO_RPC_URL": url}
    proposals = _cli(cwd, "proposals", "list", "--json", env=env)
    assert proposals.returncode == 0, proposals.stderr
    listings = _cli(cwd, "listings", "search", "--json", env=env)
    assert listings.returncode == 0, listings.stderr
    report = _cli(cwd, "treasury", "report", "--json", "--out", "reports/mine", env=env)
    assert report.returncode == 0, report.stderr
    files = json.loads(report.stdout)
    assert Path(cwd, files["html"]).exists() and Path(cwd, files["json"]).exists()
    table = _cli(cwd, "proposals", "list", env=env)
    assert table.returncode == 0, table.stderr
    return {
        "proposals": json.loads(proposals.stdout),
        "listings": json.loads(listings.stdout),
        "report": json.loads(Path(cwd, files["json"]).read_text()),
        "table": table.stdout,
    }


@pytest.mark.slow
def test_demo_keep_chain_then_the_cli_reads_its_manifest(tmp_path: Path, kept: list[Kept]) -> None:
    port = _free_port()
    demo = Kept(tmp_path, "demo", "--keep-chain", "--port", str(port))
    kept.append(demo)
    said = demo.wait_for("Press Ctrl-C")
    url = f"http://127.0.0.1:{port}"
    assert f"keeps running at {url}" in said
    for command in ("civicdao proposals list", "civicdao listings search", "civicdao treasury report"):
        assert command in said
    assert (tmp_path / "deployments" / "31337.json").exists()
    assert (tmp_path / "reports" / "treasury" / "report.html").exists()  # the demo ends by writing it

    seen = _try_the_lists(tmp_path, url)
    proposals = seen["proposals"]
    # tool fee, streaming grant, participatory-budget round, and the vote left open (newest first)
    assert isinstance(proposals, list) and len(proposals) == 4
    assert [p["state"] for p in proposals] == ["active", "executed", "executed", "executed"]
    assert any("Tool lending should be free" in p["description"] for p in proposals)
    assert "Tool lending should be free" in str(seen["table"])
    listings = seen["listings"]
    assert isinstance(listings, list) and [row["metadata_uri"] for row in listings] == [
        "ipfs://spare-room-by-the-park"
    ]
    # Dana's 2 ETH donation (the budget round's unspent part also comes back as a donation)
    donations = next(
        row
        for row in seen["report"]["inflowsByCategory"]
        if row["category"] == "donation"  # type: ignore[index]
    )
    assert donations["amount"] >= 2 * 10**18 and donations["count"] >= 1

    _serve_shows_the_demo_and_counts_a_vote(tmp_path, url, kept, open_id=int(proposals[0]["id"]))

    pid = int(re.search(r"\(pid (\d+)\)", said).group(1))  # type: ignore[union-attr]
    demo.stop()
    assert demo.process.returncode == 0
    assert _gone(pid)


def _serve_shows_the_demo_and_counts_a_vote(cwd: Path, url: str, kept: list[Kept], *, open_id: int) -> None:
    """Issue 14's "done when": `civicdao serve` on the kept chain shows the demo's proposals, listings and
    treasury, and a vote a resident signs there (relayed, the resident pays no gas) is counted on chain."""
    port = _free_port()
    serve = Kept(
        cwd, "serve", "--rpc-url", url, "--unlocked", "9", "--port", str(port), "--batch-seconds", "0.2"
    )
    kept.append(serve)
    serve.wait_for("CivicDAO for residents")
    base = f"http://127.0.0.1:{port}"
    listed = httpx.get(f"{base}/api/proposals", timeout=10).json()
    assert [p["state"] for p in listed] == ["active", "executed", "executed", "executed"]
    assert listed[0]["title"] == "Free nature walks"
    rooms = httpx.get(f"{base}/api/listings", params={"kind": "room_house"}, timeout=10).json()
    assert [r["metadataUri"] for r in rooms] == ["ipfs://spare-room-by-the-park"]
    treasury = httpx.get(f"{base}/api/treasury", timeout=10).json()
    notes = [inflow["note"] for inflow in treasury["recentInflows"]]
    assert int(treasury["balance"]) > 0 and "spring-fair" in notes  # the budget's unspent return is newer
    assert "<script" in httpx.get(f"{base}/", timeout=10).text

    chidi = from_mnemonic(DEFAULT_MNEMONIC, 3, chain_id=31337)  # a resident of the demo
    typed = httpx.get(
        f"{base}/relay/typed-data/ballot",
        params={"proposal_id": str(open_id), "voter": chidi.address, "support": 1},
        timeout=10,
    ).json()
    posted = httpx.post(
        f"{base}/relay/ballots",
        json={"typed_data": typed, "signature": sign_typed_data(chidi, typed)},
        timeout=10,
    )
    assert posted.status_code == 202, posted.text
    w3 = Web3(Web3.HTTPProvider(url))
    governor = Manifest.load(cwd / "deployments" / "31337.json").address("governor")
    contract = w3.eth.contract(
        address=Web3.to_checksum_address(governor), abi=load_artifact("CivicGovernor").abi_list()
    )
    deadline = time.monotonic() + 30
    while not contract.functions.hasVoted(open_id, chidi.address).call():
        assert time.monotonic() < deadline, "the relayed vote never reached the chain"
        time.sleep(0.2)
    tally = httpx.get(f"{base}/api/proposals", timeout=10).json()[0]["tally"]
    assert tally["for"] == 1  # the index-backed list counts it too
    serve.stop()


@pytest.mark.slow
def test_chain_then_deploy_leaves_a_usable_manifest(tmp_path: Path, kept: list[Kept]) -> None:
    port = _free_port()
    node = Kept(tmp_path, "chain", "--port", str(port))
    kept.append(node)
    said = node.wait_for("press Ctrl-C")
    url = f"http://127.0.0.1:{port}"
    assert url in said and "civicdao deploy" in said
    deployed = _cli(tmp_path, "deploy", "--unlocked", "0", env={**_env(), "CIVICDAO_RPC_URL": url})
    assert deployed.returncode == 0, deployed.stderr
    assert (tmp_path / "deployments" / "31337.json").exists()
    seen = _try_the_lists(tmp_path, url)
    assert seen["proposals"] == [] and seen["listings"] == []
    node.stop()
    assert node.process.returncode == 0


def test_keep_chain_on_a_busy_port_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    from civicdao.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["demo", "--keep-chain", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: port {port} is in use") and "--port N" in err and err.count("\n") == 1


def test_demo_kind_is_the_one_spelling_and_chain_its_hidden_alias(capsys: pytest.CaptureFixture[str]) -> None:
    from civicdao.cli import main

    assert main(["demo", "--help"]) == 0
    shown = capsys.readouterr().out
    assert "--kind [anvil|ganache]" in shown and "--chain" not in shown
    assert main(["demo", "--kind", "anvil", "--chain", "ganache"]) == 2
    assert "--chain is the old name of --kind" in capsys.readouterr().err
