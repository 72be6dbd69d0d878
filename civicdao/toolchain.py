"""Find the npm toolchain of a CivicDAO checkout: the solc-js shim, Node, Anvil and Ganache.

Nothing here is needed to *use* the shipped artifacts; only compiling and launching local chains need a
checkout with ``node_modules`` (``make setup`` installs it).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from civicdao.errors import BinaryNotFoundError

__all__ = [
    "SOLC_VERSION",
    "anvil_binary",
    "ensure_solc_shim",
    "ganache_command",
    "node_binary",
    "project_root",
    "register_brownie_networks",
    "solc_shim_path",
]

#: The solc-js release pinned in package.json; the shim installs itself under this version for py-solc-x.
SOLC_VERSION = "0.8.28"


def project_root() -> Path:
    """The CivicDAO checkout to build from.

    ``$CIVICDAO_PROJECT_ROOT`` wins; then the checkout this package was imported from (an editable
    install); then the working directory or one of its parents.
    """
    override = os.environ.get("CIVICDAO_PROJECT_ROOT")
    if override:
        return Path(override).resolve()
    package_parent = Path(__file__).resolve().parent.parent
    candidates = [package_parent, Path.cwd(), *Path.cwd().parents]
    for candidate in candidates:
        if (candidate / "contracts").is_dir() and (candidate / "package.json").is_file():
            return candidate
    raise BinaryNotFoundError(
        "no CivicDAO checkout found (a folder with contracts/ and package.json): "
        "run from the project folder or set CIVICDAO_PROJECT_ROOT"
    )


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise BinaryNotFoundError("node is not on PATH: install Node.js 20 or newer")
    return node


def solc_shim_path() -> Path:
    """Where py-solc-x looks for the compiler of :data:`SOLC_VERSION`."""
    import solcx

    return Path(solcx.get_solcx_install_folder()) / f"solc-v{SOLC_VERSION}"


def ensure_solc_shim(root: Path | None = None) -> Path:
    """Install (or refresh) the launcher that lets py-solc-x and Brownie run solc-js as native solc."""
    root = root or project_root()
    script = root / "toolchain" / "solc-shim.js"
    if not (root / "node_modules" / "solc" / "package.json").is_file():
        raise BinaryNotFoundError("node_modules/solc is missing: run `make setup` (npm ci)")
    launcher = solc_shim_path()
    content = f'#!/bin/sh\nexec "{node_binary()}" "{script}" "$@"\n'
    if not launcher.is_file() or launcher.read_text() != content:
        launcher.parent.mkdir(parents=True, exist_ok=True)
        launcher.write_text(content)
        launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return launcher


def anvil_binary(root: Path | None = None) -> str:
    """The native anvil executable (not the npm wrapper, so that one pid is all there is to stop)."""
    explicit = os.environ.get("CIVICDAO_ANVIL")
    if explicit:
        return _existing(explicit, "CIVICDAO_ANVIL")
    bundled = _root_or_none(root) / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    if bundled.is_file():
        return str(bundled)
    found = shutil.which("anvil")
    if found:
        return found
    raise BinaryNotFoundError(
        "anvil is not installed: run `make setup` (npm ci installs @foundry-rs/anvil) "
        "or set CIVICDAO_ANVIL to an anvil executable"
    )


def ganache_command(root: Path | None = None) -> list[str]:
    """The command that starts Ganache 7.9.2 as a single Node process."""
    explicit = os.environ.get("CIVICDAO_GANACHE")
    if explicit:
        return [_existing(explicit, "CIVICDAO_GANACHE")]
    cli = _root_or_none(root) / "node_modules/ganache/dist/node/cli.js"
    if cli.is_file():
        return [node_binary(), str(cli)]
    found = shutil.which("ganache")
    if found:
        return [found]
    raise BinaryNotFoundError(
        "ganache is not installed: run `make setup` (npm ci installs ganache 7.9.2) "
        "or set CIVICDAO_GANACHE to a ganache executable"
    )


def _root_or_none(root: Path | None) -> Path:
    if root is not None:
        return root
    try:
        return project_root()
    except BinaryNotFoundError:
        return Path("/nonexistent")


def _existing(path: str, variable: str) -> str:
    if not Path(path).is_file():
        raise BinaryNotFoundError(f"{variable} points to {path}, which does not exist")
    return path


def register_brownie_networks(config_path: Path | None = None, *, ganache_port: int = 8545) -> list[str]:
    """Add CivicDAO's ``ganache-shanghai`` network to Brownie's ``network-config.yaml``; safe to run again.

    The network is Ganache 7.9.2 on Shanghai (its newest hardfork) with the development mnemonic Anvil uses,
    so both chains hand out the same accounts. Brownie 1.22 (as built here) refuses network settings in a
    project's ``brownie-config.yaml``, so the entry goes where ``brownie networks add`` would put it
    (``~/.brownie`` unless ``config_path`` says otherwise; a missing file starts from Brownie's packaged
    default). Then: ``brownie run <script> --network ganache-shanghai`` with ``node_modules/.bin`` on PATH.

    Returns:
        The ids of the networks added or corrected (empty when everything was already in place).
    """
    import importlib.util

    from civicdao._files import write_text_atomic

    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]  # comes with eth-brownie
    except ImportError:
        raise BinaryNotFoundError("PyYAML is missing: install civicdao[brownie]") from None
    wanted = {
        "name": "Ganache 7.9.2 (Shanghai, CivicDAO)",
        "id": "ganache-shanghai",
        "cmd": "ganache",
        "host": "http://127.0.0.1",
        "cmd_settings": {
            "port": ganache_port,
            "gas_limit": 30_000_000,
            "accounts": 10,
            "evm_version": "shanghai",
            "chain_id": 1337,
            "mnemonic": "test test test test test test test test test test test junk",
        },
    }
    path = config_path or Path.home() / ".brownie" / "network-config.yaml"
    if path.is_file():
        text = path.read_text()
    else:
        spec = importlib.util.find_spec("brownie")
        if spec is None or not spec.submodule_search_locations:
            raise BinaryNotFoundError("eth-brownie is not installed: install civicdao[brownie]")
        text = (
            Path(next(iter(spec.submodule_search_locations))) / "data" / "network-config.yaml"
        ).read_text()
    config = yaml.safe_load(text) or {}
    development = config.get("development") or []
    if [entry for entry in development if entry.get("id") == wanted["id"]] == [wanted]:
        return []
    config["development"] = [entry for entry in development if entry.get("id") != wanted["id"]] + [wanted]
    write_text_atomic(path, yaml.safe_dump(config, sort_keys=False, default_flow_style=False))
    return [str(wanted["id"])]
