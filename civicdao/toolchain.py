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
