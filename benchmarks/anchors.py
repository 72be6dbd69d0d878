"""The anchors the benchmark compares against, deployed in the same run on the same chain.

* OpenZeppelin 5.3's stock governor (``anchors/StockGovernor.sol``: ERC20Votes + Governor + Settings +
  CountingSimple + Votes + VotesQuorumFraction), compiled from ``node_modules/@openzeppelin`` with the
  project's own solc-js and settings. It lives here, not in ``contracts/``, so it never ships.
* Sablier's own ``SablierLockup`` bytecode from the npm package ``@sablier/lockup`` (its artifacts), with its
  ``LockupHelpers`` and ``LockupMath`` libraries deployed and linked, behind Sablier's own
  ``SablierComptroller`` (from ``@sablier/evm-utils``, behind its ERC-1967 proxy, minimum fees 0).
* Allo's QF ``allocate`` median, quoted from the issue (not measured here).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from civicdao.accounts import Signer
from civicdao.build import COMPILER_SETTINGS
from civicdao.toolchain import SOLC_VERSION, ensure_solc_shim, project_root
from civicdao.tx import TxRecord, calldata, send_transaction

ANCHOR_SOURCE = "benchmarks/anchors/StockGovernor.sol"
SABLIER_ARTIFACTS = Path("node_modules/@sablier/lockup/artifacts")
SABLIER_UTILS_ARTIFACTS = Path("node_modules/@sablier/evm-utils/artifacts")

#: Allo v2 QF ``allocate``: the median the issue quotes (not measured in this run).
ALLO_ALLOCATE_MEDIAN = 75_134


@dataclass(frozen=True)
class Compiled:
    abi: list[dict[str, Any]]
    bytecode: str


@cache
def compile_stock_governor() -> dict[str, Compiled]:
    """Compile the stock-governor anchor with the project's compiler and settings, cached by source hash."""
    root = project_root()
    source = (root / ANCHOR_SOURCE).read_text()
    key = hashlib.sha256(
        json.dumps([source, COMPILER_SETTINGS, SOLC_VERSION, _oz_version()], sort_keys=True).encode()
    ).hexdigest()
    cache_file = root / "benchmarks/anchors/.build" / f"{key}.json"
    if cache_file.exists():
        raw = json.loads(cache_file.read_text())
    else:
        raw = _compile(root, source)
        cache_file.parent.mkdir(exist_ok=True)
        cache_file.write_text(json.dumps(raw))
    return {name: Compiled(c["abi"], c["bytecode"]) for name, c in raw.items()}


def _oz_version() -> str:
    package = project_root() / "node_modules/@openzeppelin/contracts/package.json"
    return str(json.loads(package.read_text())["version"])


def _compile(root: Path, source: str) -> dict[str, Any]:
    import solcx

    ensure_solc_shim(root)
    standard_input = {
        "language": "Solidity",
        "sources": {ANCHOR_SOURCE: {"content": source}},
        "settings": {
            **COMPILER_SETTINGS,
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    cwd = os.getcwd()
    try:
        os.chdir(root)
        output = solcx.compile_standard(
            standard_input, solc_version=SOLC_VERSION, base_path=str(root), allow_paths=[str(root)]
        )
    finally:
        os.chdir(cwd)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError("\n".join(e.get("formattedMessage", "") for e in errors))
    contracts = output["contracts"][ANCHOR_SOURCE]
    return {
        name: {"abi": c["abi"], "bytecode": "0x" + c["evm"]["bytecode"]["object"]}
        for name, c in contracts.items()
    }


def deploy(w3: Web3, signer: Signer, abi: list[dict[str, Any]], bytecode: str, *args: Any) -> Contract:
    data = w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*args).data_in_transaction
    record = send_transaction(w3, signer, data=data)
    assert record.contract_address is not None
    return w3.eth.contract(address=record.contract_address, abi=abi)


@dataclass(frozen=True)
class StockGovernance:
    token: Contract
    governor: Contract


def deploy_stock_governor(
    w3: Web3, signer: Signer, *, voting_delay: int, voting_period: int, quorum_percent: int
) -> StockGovernance:
    compiled = compile_stock_governor()
    token = deploy(w3, signer, compiled["StockVotesToken"].abi, compiled["StockVotesToken"].bytecode)
    governor = deploy(
        w3,
        signer,
        compiled["StockGovernor"].abi,
        compiled["StockGovernor"].bytecode,
        token.address,
        voting_delay,
        voting_period,
        quorum_percent,
    )
    return StockGovernance(token, governor)


# -- Sablier ------------------------------------------------------------------------------------------------


@cache
def _artifact(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project_root() / path).read_text())
    return data


def sablier_version() -> str:
    package = project_root() / "node_modules/@sablier/lockup/package.json"
    return str(json.loads(package.read_text())["version"])


def _link(
    bytecode: str, references: dict[str, dict[str, list[dict[str, int]]]], at: Mapping[str, str]
) -> str:
    code = bytecode.removeprefix("0x")
    for libraries in references.values():
        for name, spots in libraries.items():
            address = at[name].removeprefix("0x").lower()
            for spot in spots:
                start, end = 2 * spot["start"], 2 * (spot["start"] + spot["length"])
                code = code[:start] + address + code[end:]
    return "0x" + code


def _deploy_artifact(
    w3: Web3, signer: Signer, artifact: dict[str, Any], *args: Any, linked: str = ""
) -> Contract:
    bytecode = linked or artifact["bytecode"]["object"]
    return deploy(w3, signer, artifact["abi"], bytecode, *args)


def deploy_sablier(w3: Web3, signer: Signer) -> Contract:
    """Sablier's own comptroller (proxied, fees 0), libraries and SablierLockup; returns the lockup."""
    comptroller_art = _artifact(SABLIER_UTILS_ARTIFACTS / "SablierComptroller.json")
    proxy_art = _artifact(SABLIER_UTILS_ARTIFACTS / "ERC1967Proxy.json")
    implementation = _deploy_artifact(w3, signer, comptroller_art, signer.address)
    init = implementation.encode_abi("initialize", args=[signer.address, 0, 0, 0, 0, "0x" + "00" * 20])
    proxy = _deploy_artifact(w3, signer, proxy_art, implementation.address, init)
    libraries = {}
    for name in ("LockupHelpers", "LockupMath"):
        library = _deploy_artifact(w3, signer, _artifact(SABLIER_ARTIFACTS / "libraries" / f"{name}.json"))
        libraries[name] = library.address
    lockup_art = _artifact(SABLIER_ARTIFACTS / "SablierLockup.json")
    linked = _link(lockup_art["bytecode"]["object"], lockup_art["bytecode"]["linkReferences"], libraries)
    # The NFT descriptor only serves tokenURI, which no measured action calls.
    return _deploy_artifact(w3, signer, lockup_art, proxy.address, signer.address, linked=linked)


def sablier_create_linear(
    w3: Web3, lockup: Contract, sender: Signer, *, recipient: str, token: str, amount: int, duration: int
) -> TxRecord:
    """``createWithDurationsLL``: a linear stream without cliff or unlocks, cancelable, transferable."""
    params = (sender.address, recipient, amount, token, True, True, "linear")
    fn = lockup.functions.createWithDurationsLL(params, (0, 0), 1, (0, duration))
    return send_transaction(w3, sender, to=lockup.address, data=calldata(fn))
