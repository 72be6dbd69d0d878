"""The installed package: a small, explicit public API, and it works without Node or node_modules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import civicdao
from civicdao.artifacts import list_artifacts
from civicdao.toolchain import project_root

EXPECTED_EXPORTS = {
    # the facade and what a user's code names (issue 10); plumbing stays in its submodules
    "CivicDAO", "ETH", "Kind", "ListingSpec", "VoteType", "credential_hash", "__version__",
    # the errors a user catches: the branches of the hierarchy and the common refusals
    "CivicDAOError", "ConfigError", "NetworkError", "SigningError", "RefusedError", "TransactionError",
    "ContractRevert", "AlreadyVotedError", "AlreadyCitizenError", "NotCitizenError",
}  # fmt: skip
PLUMBING = (
    "bind", "call", "connect", "deploy_contract", "deploy_suite", "launch", "LocalChain", "Suite",
    "load_suite", "Artifact", "transact", "send_transaction", "LocalSigner", "NodeSigner",
)  # fmt: skip


def test_public_api_is_what_we_mean_to_export() -> None:
    assert set(civicdao.__all__) == EXPECTED_EXPORTS
    for name in civicdao.__all__:
        assert hasattr(civicdao, name)
    assert not [name for name in PLUMBING if name in civicdao.__all__]


def test_importing_civicdao_never_imports_the_error_generator_or_the_compiler() -> None:
    """The generator and the build run only at ``civicdao compile``; importing the library has no side effect
    on eth-account (the HD-wallet switch is flipped inside the mnemonic loader only)."""
    script = (
        "import sys, civicdao, civicdao.tx, civicdao.signing, civicdao.relayer.policy, civicdao.dao\n"
        "from eth_account import Account\n"
        "loaded = [m for m in ('civicdao._errorgen', 'civicdao.build', 'solcx') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "assert not Account._use_unaudited_hdwallet_features\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_wheel_works_without_node_or_node_modules(tmp_path: Path) -> None:
    # Build from a copy: an in-tree build/ folder (setuptools, Brownie) may hold stale files.
    source = tmp_path / "src"
    root = project_root()
    shutil.copytree(root / "civicdao", source / "civicdao", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("civicdao-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "civicdao/_artifacts/build-info.json" in names
    assert "civicdao/py.typed" in names
    assert "civicdao/relayer/app.py" in names
    assert not [name for name in names if "/Mock" in name], "test-only contracts must not ship"
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
    )
    # Dependencies come from this venv's site-packages on PYTHONPATH: .pth files there (the editable
    # checkout's hook) are not processed, so `civicdao` can only come from the wheel.
    env = {
        "PATH": str(tmp_path / "empty-bin"),  # no node, no anvil, no npm
        "PYTHONPATH": os.pathsep.join([str(site), sysconfig.get_paths()["purelib"]]),
        "HOME": str(tmp_path),
    }
    script = (
        "import civicdao, shutil; assert shutil.which('node') is None; "
        f"assert civicdao.__file__.startswith({str(site)!r}), civicdao.__file__; "
        "from civicdao.artifacts import list_artifacts; print(','.join(list_artifacts()))"
    )
    base_python = getattr(sys, "_base_executable", sys.executable)  # outside the venv: no editable hook
    result = subprocess.run(
        [base_python, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.strip().split(",")) == set(list_artifacts())
