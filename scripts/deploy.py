"""Deploy the CivicDAO suite from Brownie, through the same library as ``civicdao deploy``.

    brownie run scripts/deploy.py --network development        # Anvil, started by Brownie
    brownie run scripts/deploy.py --network ganache-shanghai   # Ganache 7 (`make brownie-networks` first)
    CIVICDAO_ACCOUNT=city-deployer brownie run scripts/deploy.py --network sepolia

Settings come from the environment, or from a local, uncommitted ``.env`` when there is one:

``CIVICDAO_PRESET``    pilot (default), neighbourhood or city
``CIVICDAO_CONFIG``    a TOML file of overrides on top of the preset
``CIVICDAO_MANIFEST``  where to write the manifest; default ``deployments/<chain id>.json`` on live
                       networks, ``deployments/<chain id>.local.json`` on development ones (git-ignored)
``CIVICDAO_ACCOUNT``   a Brownie keystore id (``brownie accounts new <id>``); required on live networks.
                       ``CIVICDAO_ACCOUNT_PASSWORD`` unlocks it without a prompt.

Development accounts are unlocked by the node, so they sign as ``NodeSigner``s; a keystore account signs
locally as a ``LocalSigner`` (the key never reaches the node). Re-running with the same manifest resumes an
interrupted deployment without deploying anything twice.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from brownie import accounts, network, web3
from brownie._config import CONFIG
from dotenv import load_dotenv

from civicdao.accounts import NodeSigner, Signer, checksum, from_private_key
from civicdao.config import DeployConfig, load_config
from civicdao.deploy import SUITE_CONTRACTS, Suite, deploy_suite
from civicdao.errors import ConfigError
from civicdao.manifest import Manifest

PROJECT = Path(__file__).resolve().parent.parent
load_dotenv(PROJECT / ".env")  # optional: a missing .env is simply skipped


def is_development() -> bool:
    """Whether Brownie is connected to a local development chain (one it launched or attached to)."""
    return str(CONFIG.network_type) == "development"


def signer_for(account: Any) -> Signer:
    """A civicdao signer for a Brownie account: keystore accounts sign locally, dev accounts on the node."""
    key = getattr(account, "private_key", None)
    if key:
        return from_private_key(key)
    return NodeSigner(checksum(str(account.address), what="Brownie account"))


def deployer() -> Signer:
    """The deploying account: ``CIVICDAO_ACCOUNT`` from Brownie's keystore, or the first dev account."""
    keystore_id = os.environ.get("CIVICDAO_ACCOUNT", "").strip()
    if keystore_id:
        password = os.environ.get("CIVICDAO_ACCOUNT_PASSWORD")
        return signer_for(accounts.load(keystore_id, password=password))
    if not is_development():
        raise ConfigError(
            f"network {network.show_active()} is live: set CIVICDAO_ACCOUNT to a Brownie keystore id "
            "(brownie accounts new <id>)"
        )
    return signer_for(accounts[0])


def manifest_path(chain_id: int) -> Path:
    explicit = os.environ.get("CIVICDAO_MANIFEST", "").strip()
    if explicit:
        return Path(explicit)
    suffix = ".local.json" if is_development() else ".json"
    return PROJECT / "deployments" / f"{chain_id}{suffix}"


def deploy_config() -> DeployConfig:
    overrides = os.environ.get("CIVICDAO_CONFIG", "").strip() or None
    return load_config(os.environ.get("CIVICDAO_PRESET", "pilot").strip(), overrides)


def forget_stale_manifest(path: Path) -> None:
    """A development chain starts empty each run: a manifest from an earlier run points at nothing."""
    if not (is_development() and path.exists()):
        return
    manifest = Manifest.load(path)
    first = manifest.contracts.get(next(iter(SUITE_CONTRACTS)))
    if first is None or not web3.eth.get_code(first.address):
        print(f"  {path.name} describes an earlier development chain: starting afresh")
        path.unlink()


def deploy() -> Suite:
    """Deploy (or resume deploying) the suite on Brownie's active network; returns it."""
    chain_id = web3.eth.chain_id
    path = manifest_path(chain_id)
    forget_stale_manifest(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = deployer()
    config = None if path.exists() else deploy_config()
    print(f"CivicDAO: deploying on {network.show_active()} (chain {chain_id}) from {signer.address}")
    suite = deploy_suite(
        web3, signer, config, manifest_path=path, progress=lambda message: print(f"  {message}")
    )
    print(f"CivicDAO suite ({suite.manifest.config['preset']} preset):")
    for key, address in suite.addresses().items():
        print(f"  {key:<9} {address}")
    print(f"manifest: {path}")
    return suite


def main() -> Suite:
    return deploy()
