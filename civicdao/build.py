"""Compile ``contracts/`` into the artifacts shipped inside the package (build time only).

The compiler is solc-js behind the shim in ``toolchain/solc-shim.js``, which py-solc-x runs as if it were a
native ``solc`` (see :mod:`civicdao.toolchain`). A build writes one JSON artifact per deployable contract
into ``civicdao/_artifacts/``, a ``build-info.json`` with the source hashes and compiler settings, and the
generated exception classes in ``civicdao/_custom_errors.py`` (:mod:`civicdao._errorgen` writes them; the
library never imports the generator). An unchanged tree is not recompiled: the build is keyed by a hash of
every source, the settings, the compiler and the OpenZeppelin version.

The test-only contracts under ``contracts/mocks/`` ship in neither the package's artifacts nor its error
classes: ``compile_contracts(mocks=True)`` builds them apart, into ``build/test-contracts/`` with their own
error classes, and :func:`use_mock_contracts` (what the tests and benchmarks call) builds them when they are
missing or stale and makes them loadable by name.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civicdao import _errorgen
from civicdao._files import write_json_atomic
from civicdao.artifacts import use_artifacts_dir
from civicdao.errors import CompilationError, ContractRevert
from civicdao.reverts import register_errors
from civicdao.toolchain import SOLC_VERSION, ensure_solc_shim, project_root

__all__ = [
    "COMPILER_SETTINGS",
    "MOCKS_FOLDER",
    "OPTIMIZER_RUNS",
    "BuildResult",
    "compile_contracts",
    "mock_contracts_dir",
    "source_hashes",
    "stale_sources",
    "use_mock_contracts",
]

logger = logging.getLogger(__name__)

#: Compiler settings for every build. ``shanghai`` runs on Ganache 7.9.2, Anvil and every public chain.
COMPILER_SETTINGS: Mapping[str, Any] = {
    "evmVersion": "shanghai",
    "optimizer": {"enabled": True, "runs": 200},
    "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
    "metadata": {"bytecodeHash": "ipfs"},
}

#: Per-source optimizer ``runs`` that differ from :data:`COMPILER_SETTINGS` (like Hardhat's per-file
#: ``overrides``). CivicGovernor composes seven OpenZeppelin governor modules and the batched ballot entry
#: point: at 200 runs it leaves less than the 2 KiB under EIP-170 that every shipped contract keeps for the
#: next features (22,685 bytes); at 100 runs it is 22,221 bytes, for a few gas more per call (see
#: benchmarks/REPORT.md). CommonsExchange, once a citizen's credits moved with the membership by the
#: registry's hook (so that a withdrawal reads one slot, issue 11), was 22,841 bytes at 200 runs and is
#: 22,464 at 50, for a few gas more per call (benchmarks/REPORT.md). Slither, Forge and Brownie keep 200
#: runs: the same code, analysed and tested.
OPTIMIZER_RUNS: Mapping[str, int] = {"contracts/CivicGovernor.sol": 100, "contracts/CommonsExchange.sol": 50}


def settings_for(source_name: str) -> dict[str, Any]:
    """The compiler settings ``source_name`` is built with (:data:`COMPILER_SETTINGS`, with its
    :data:`OPTIMIZER_RUNS` override if it has one)."""
    settings = dict(COMPILER_SETTINGS)
    if source_name in OPTIMIZER_RUNS:
        settings["optimizer"] = {"enabled": True, "runs": OPTIMIZER_RUNS[source_name]}
    return settings


#: Bump when what a build writes changes, so cached builds are redone.
ARTIFACT_FORMAT = 3
#: The test-only contracts: built apart (``compile_contracts(mocks=True)``), never shipped.
MOCKS_FOLDER = "contracts/mocks"

_OUTPUTS = [
    "abi",
    "devdoc",
    "userdoc",
    "evm.bytecode.object",
    "evm.bytecode.linkReferences",
    "evm.deployedBytecode.object",
]


@dataclass(frozen=True)
class BuildResult:
    """What a build did: which contracts it wrote, and whether the cache made compiling unnecessary."""

    contracts: tuple[str, ...]
    cached: bool
    seconds: float
    artifacts_dir: Path


def package_artifacts_dir() -> Path:
    return Path(__file__).resolve().parent / "_artifacts"


def mock_contracts_dir(root: Path | None = None) -> Path:
    """Where ``compile_contracts(mocks=True)`` writes the test-only contracts: ``build/test-contracts``."""
    return (root or project_root()) / "build" / "test-contracts"


def source_hashes(root: Path, *, mocks: bool = False) -> dict[str, str]:
    """SHA-256 of every ``.sol`` file under ``root/contracts``, keyed by its path relative to ``root``: the
    shipped sources, or with ``mocks=True`` only the test-only ones under ``contracts/mocks``."""
    sources = sorted((root / "contracts").rglob("*.sol"))
    hashes = {path.relative_to(root).as_posix(): _sha256(path.read_bytes()) for path in sources}
    return {name: digest for name, digest in hashes.items() if _is_mock(name) == mocks}


def _is_mock(source_name: str) -> bool:
    return source_name.startswith(MOCKS_FOLDER + "/")


def stale_sources(root: Path | None = None, artifacts_dir: Path | None = None) -> list[str]:
    """Sources whose shipped artifacts no longer match ``contracts/`` (added, changed or removed)."""
    root = root or project_root()
    info = _read_build_info(artifacts_dir or package_artifacts_dir())
    built: dict[str, str] = info.get("sources", {}) if info else {}
    current = source_hashes(root)
    return sorted(name for name in set(built) | set(current) if built.get(name) != current.get(name))


def compile_contracts(
    root: Path | None = None,
    *,
    artifacts_dir: Path | None = None,
    force: bool = False,
    mocks: bool = False,
) -> BuildResult:
    """Compile ``root/contracts`` and write artifacts; skip the compiler when nothing changed.

    By default the shipped contracts (everything but ``contracts/mocks``) go to the package. With
    ``mocks=True`` only the test-only contracts are built, into :func:`mock_contracts_dir` unless
    ``artifacts_dir`` is given, with a ``_custom_errors.py`` holding only the errors the shipped build lacks.

    Raises:
        CompilationError: the compiler reported an error or a warning (warnings fail the build).
        BinaryNotFoundError: Node or the npm toolchain is missing (run ``make setup``).
    """
    started = time.monotonic()
    root = (root or project_root()).resolve()
    out_dir = artifacts_dir or (mock_contracts_dir(root) if mocks else package_artifacts_dir())
    hashes = source_hashes(root, mocks=mocks)
    if not hashes:
        raise CompilationError(f"no Solidity sources under {root / (MOCKS_FOLDER if mocks else 'contracts')}")
    # a mock imports shipped sources: its build is stale when they change too
    key = _cache_key(root, {**hashes, **source_hashes(root)} if mocks else hashes)
    info = _read_build_info(out_dir)
    if not force and info and info.get("cacheKey") == key:
        names = tuple(sorted(p.stem for p in out_dir.glob("*.json") if p.name != "build-info.json"))
        return BuildResult(names, cached=True, seconds=time.monotonic() - started, artifacts_dir=out_dir)

    output = _run_compiler(root, hashes)
    artifacts = _collect_artifacts(output, hashes)
    specs = _errorgen.collect_errors(output)
    if mocks:  # the shipped classes already stand for every error the shipped build knows
        known = set(_shipped_error_selectors())
        specs = [spec for spec in specs if spec.selector not in known]
    shipped_module = artifacts_dir is None and not mocks
    errors_module = _errorgen.MODULE_PATH if shipped_module else out_dir / "_custom_errors.py"
    what = "the test-only contracts" if mocks else "the shipped ABIs"
    _errorgen.write_module(specs, errors_module, what=what)
    _write_outputs(out_dir, artifacts, hashes, key, errors=[spec.selector for spec in specs])
    seconds = time.monotonic() - started
    logger.info("compiled %d contracts in %.1fs", len(artifacts), seconds)
    return BuildResult(tuple(sorted(artifacts)), cached=False, seconds=seconds, artifacts_dir=out_dir)


@functools.cache
def use_mock_contracts(root: Path | None = None) -> BuildResult:
    """Build the test-only contracts when missing or stale, then make them loadable like shipped ones.

    Their artifacts join :func:`civicdao.artifacts.load_artifact` (and the event decoding of
    :mod:`civicdao.tx`) through :func:`~civicdao.artifacts.use_artifacts_dir`, and their error classes join
    the revert decoder through :func:`~civicdao.reverts.register_errors`. The tests and the benchmarks call
    this; nothing in the library does. Once per process (the classes stay the same objects).
    """
    result = compile_contracts(root, mocks=True)
    module = _load_module(result.artifacts_dir / "_custom_errors.py", "civicdao_test_contract_errors")
    errors: Mapping[str, type[ContractRevert]] = module.CUSTOM_ERRORS
    use_artifacts_dir(result.artifacts_dir)
    register_errors(errors.values())
    return result


# -- internals ------------------------------------------------------------------------------------------


def _shipped_error_selectors() -> list[str]:
    info = _read_build_info(package_artifacts_dir())
    if not info or "errors" not in info:
        raise CompilationError("build the shipped contracts first (`civicdao compile`), then the mocks")
    return list(info["errors"])


def _load_module(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CompilationError(f"cannot load the generated module {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _openzeppelin_version(root: Path) -> str:
    package = root / "node_modules" / "@openzeppelin" / "contracts" / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "missing"


def _cache_key(root: Path, hashes: Mapping[str, str]) -> str:
    material = {
        "sources": dict(hashes),
        "settings": COMPILER_SETTINGS,
        "overrides": dict(OPTIMIZER_RUNS),
        "solc": SOLC_VERSION,
        "openzeppelin": _openzeppelin_version(root),
        "generator": _errorgen.GENERATOR_VERSION,
        "format": ARTIFACT_FORMAT,
    }
    return _sha256(json.dumps(material, sort_keys=True).encode())


def _read_build_info(out_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((out_dir / "build-info.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _run_compiler(root: Path, hashes: Mapping[str, str]) -> dict[str, Any]:
    """Compile every source with :data:`COMPILER_SETTINGS`; a source with an :data:`OPTIMIZER_RUNS` override
    is compiled again on its own with it, and that output replaces its contracts'."""
    if _openzeppelin_version(root) == "missing":
        raise CompilationError("node_modules/@openzeppelin/contracts is missing: run `make setup` (npm ci)")
    ensure_solc_shim(root)
    output = _compile_standard(root, list(hashes), COMPILER_SETTINGS)
    for source_name in sorted(set(OPTIMIZER_RUNS) & set(hashes)):
        alone = _compile_standard(root, [source_name], settings_for(source_name))
        output["contracts"][source_name] = alone["contracts"][source_name]
    return output


def _compile_standard(root: Path, sources: list[str], settings: Mapping[str, Any]) -> dict[str, Any]:
    import solcx  # imported late: `import civicdao` must work without the compiler toolchain
    from solcx.exceptions import SolcError

    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": (root / name).read_text()} for name in sources},
        "settings": {**settings, "outputSelection": {"*": {"*": _OUTPUTS}}},
    }
    cwd = os.getcwd()
    try:
        os.chdir(root)  # the shim resolves imports relative to the base path and the working directory
        output: dict[str, Any] = solcx.compile_standard(
            standard_input, solc_version=SOLC_VERSION, base_path=str(root), allow_paths=[str(root)]
        )
    except SolcError as exc:
        raise CompilationError(_format_diagnostics(getattr(exc, "stdout_data", "") or str(exc))) from None
    finally:
        os.chdir(cwd)
    diagnostics = [d for d in output.get("errors", []) if d.get("severity") in ("error", "warning")]
    if diagnostics:
        raise CompilationError(
            "the compiler reported problems (warnings fail the build):\n"
            + "\n".join(d.get("formattedMessage", d.get("message", "")) for d in diagnostics)
        )
    return output


def _format_diagnostics(raw: str) -> str:
    try:
        errors = json.loads(raw).get("errors", [])
        return "\n".join(e.get("formattedMessage", "") for e in errors) or raw
    except ValueError:
        return raw


def _collect_artifacts(output: Mapping[str, Any], hashes: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    artifacts: dict[str, dict[str, Any]] = {}
    for source_name, contracts in output.get("contracts", {}).items():
        if source_name not in hashes:
            continue  # OpenZeppelin sources: their errors reach us through our contracts' ABIs
        for name, compiled in contracts.items():
            bytecode = compiled["evm"]["bytecode"]["object"]
            if not bytecode or all(item.get("type") == "error" for item in compiled["abi"]):
                continue  # interfaces and abstract contracts deploy nothing; internal libraries are inlined
            if name in artifacts:
                raise CompilationError(
                    f"two contracts are named {name} ({artifacts[name]['sourceName']} and {source_name})"
                )
            artifacts[name] = {
                "contractName": name,
                "sourceName": source_name,
                "sourceHash": hashes[source_name],
                "abi": compiled["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
                "linkReferences": compiled["evm"]["bytecode"].get("linkReferences", {}),
                "userdoc": compiled.get("userdoc", {}),
                "compiler": {"version": SOLC_VERSION, "settings": settings_for(source_name)},
            }
    return artifacts


def _write_outputs(
    out_dir: Path,
    artifacts: Mapping[str, Mapping[str, Any]],
    hashes: Mapping[str, str],
    key: str,
    *,
    errors: list[str],
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "__init__.py").touch()
    for stale in out_dir.glob("*.json"):
        if stale.stem not in artifacts and stale.name != "build-info.json":
            stale.unlink()
    for name, artifact in artifacts.items():
        write_json_atomic(out_dir / f"{name}.json", artifact)
    info = {
        "cacheKey": key,
        "compiler": {"version": SOLC_VERSION, "settings": dict(COMPILER_SETTINGS)},
        "optimizerRuns": dict(OPTIMIZER_RUNS),
        "contracts": sorted(artifacts),
        "errors": sorted(errors),
        "sources": dict(hashes),
    }
    write_json_atomic(out_dir / "build-info.json", info)
