"""The build: shipped artifacts match contracts/, warnings fail, an unchanged tree is not recompiled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from civicdao import build
from civicdao.artifacts import build_info, list_artifacts, load_artifact
from civicdao.errors import ArtifactError, CompilationError
from civicdao.toolchain import SOLC_VERSION, project_root

ROOT = project_root()
EIP170_LIMIT = 24_576


def test_shipped_artifacts_are_not_stale() -> None:
    stale = build.stale_sources(ROOT)
    assert stale == [], f"artifacts are stale for {stale}: run `civicdao compile` and commit the result"


def test_rebuild_of_an_unchanged_tree_uses_the_cache() -> None:
    result = build.compile_contracts(ROOT)
    assert result.cached
    assert set(result.contracts) == set(list_artifacts())


@pytest.mark.slow
def test_fresh_compile_reproduces_the_shipped_artifacts(tmp_path: Path) -> None:
    result = build.compile_contracts(ROOT, artifacts_dir=tmp_path, force=True)
    assert not result.cached
    shipped = build.package_artifacts_dir()
    for name in result.contracts:
        fresh = json.loads((tmp_path / f"{name}.json").read_text())
        assert fresh == json.loads((shipped / f"{name}.json").read_text()), (
            f"{name} differs from a fresh build"
        )
    generated = (tmp_path / "_custom_errors.py").read_text()
    assert generated == (Path(build.__file__).parent / "_custom_errors.py").read_text()


def test_build_info_records_compiler_and_settings() -> None:
    info = build_info()
    assert info["compiler"]["version"] == SOLC_VERSION
    assert info["compiler"]["settings"]["evmVersion"] == "shanghai"
    assert info["compiler"]["settings"]["optimizer"]["enabled"] is True
    assert set(info["sources"]) == set(build.source_hashes(ROOT))


def test_solc_version_matches_package_json() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"]["solc"] == SOLC_VERSION
    assert package["dependencies"]["@openzeppelin/contracts"] == "5.3.0"


#: Room every shipped contract keeps under EIP-170 for the next features (issue: "room to grow").
SPARE = 2_048


@pytest.mark.parametrize("name", list_artifacts())
def test_every_contract_leaves_2_kib_under_eip170(name: str) -> None:
    assert load_artifact(name).deployed_size <= EIP170_LIMIT - SPARE


@pytest.mark.parametrize("name", ["CivicGovernor", "CommonsExchange"])
def test_overridden_contracts_are_built_with_their_optimizer_runs(name: str) -> None:
    """An artifact records the runs it was built with (the overrides that keep the governor's and the
    exchange's room)."""
    artifact = json.loads((build.package_artifacts_dir() / f"{name}.json").read_text())
    assert artifact["compiler"]["settings"]["optimizer"] == {
        "enabled": True,
        "runs": build.OPTIMIZER_RUNS[f"contracts/{name}.sol"],
    }


def test_other_contracts_are_built_with_the_default_runs() -> None:
    registry = json.loads((build.package_artifacts_dir() / "CitizenRegistry.json").read_text())
    assert registry["compiler"]["settings"]["optimizer"] == build.COMPILER_SETTINGS["optimizer"]


def _scratch_project(tmp_path: Path, source: str) -> Path:
    (tmp_path / "contracts").mkdir(parents=True)
    (tmp_path / "contracts" / "Scratch.sol").write_text(source)
    for entry in ("node_modules", "toolchain", "package.json"):
        (tmp_path / entry).symlink_to(ROOT / entry)
    return tmp_path


def test_compiler_warnings_fail_the_build(tmp_path: Path) -> None:
    source = (
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\n"
        "contract Scratch { function f(uint256 unused) external pure returns (uint256) { return 1; } }\n"
    )
    root = _scratch_project(tmp_path / "p", source)
    with pytest.raises(CompilationError, match="Unused function parameter"):
        build.compile_contracts(root, artifacts_dir=tmp_path / "out")
    assert not (tmp_path / "out" / "build-info.json").exists()


def test_compiler_errors_fail_the_build(tmp_path: Path) -> None:
    source = "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract Scratch { uint256 x = ; }\n"
    root = _scratch_project(tmp_path / "p", source)
    with pytest.raises(CompilationError, match="ParserError"):
        build.compile_contracts(root, artifacts_dir=tmp_path / "out")


def test_missing_node_modules_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "contracts").mkdir(parents=True)
    (root / "contracts" / "A.sol").write_text("// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\n")
    with pytest.raises(CompilationError, match="make setup"):
        build.compile_contracts(root, artifacts_dir=tmp_path / "out")


def test_unknown_artifact_lists_the_shipped_ones() -> None:
    with pytest.raises(ArtifactError, match="MockReverter"):
        load_artifact("Missing")


def test_shim_answers_like_native_solc() -> None:
    import subprocess

    from civicdao.toolchain import ensure_solc_shim

    shim = ensure_solc_shim(ROOT)
    out = subprocess.run([str(shim), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {SOLC_VERSION}+commit" in out
    assert shutil.which("node")


def test_mocks_are_built_apart_from_the_shipped_artifacts() -> None:
    shipped = build.compile_contracts(ROOT)
    mocks = build.compile_contracts(ROOT, mocks=True)  # what tests/mock_contracts.py built: cached
    assert mocks.cached and mocks.artifacts_dir == build.mock_contracts_dir(ROOT)
    assert mocks.contracts and all(name.startswith("Mock") for name in mocks.contracts)
    assert not set(mocks.contracts) & set(shipped.contracts)
    assert all(name.startswith("contracts/mocks/") for name in build.source_hashes(ROOT, mocks=True))
    assert not [name for name in build.source_hashes(ROOT) if "mocks" in name]
    generated = (mocks.artifacts_dir / "_custom_errors.py").read_text()
    shipped_selectors = set(build_info()["errors"])
    assert shipped_selectors and not [s for s in shipped_selectors if s in generated]  # no second class
    assert "class MockReverterCustom(ContractRevert)" in generated
