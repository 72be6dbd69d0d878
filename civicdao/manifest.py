"""The deployment manifest: what was deployed where, written atomically after every step.

A manifest records the chain id, each contract's address, deploying transaction and block, each wiring
step done, the configuration, and the hash of every artifact deployed. It is how a suite is loaded
back (:func:`civicdao.deploy.load_suite`) and how an interrupted deployment resumes without deploying
anything twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civicdao._files import write_json_atomic
from civicdao.errors import DeploymentError

__all__ = ["DEFAULT_DEPLOYMENTS_DIR", "ContractEntry", "Manifest", "index_db_path", "manifest_path"]

FORMAT_VERSION = 1

#: Where manifests live by default: ``deployments/<chain id>.json`` (the CLI, the web app and the demo).
DEFAULT_DEPLOYMENTS_DIR = Path("deployments")


def manifest_path(chain_id: int, manifest: str | Path | None = None) -> Path:
    """``manifest`` when given, else the default place of chain ``chain_id``'s: ``deployments/<id>.json``."""
    return Path(manifest) if manifest is not None else DEFAULT_DEPLOYMENTS_DIR / f"{chain_id}.json"


def index_db_path(manifest: str | Path) -> Path:
    """The event index's SQLite file next to a manifest: ``deployments/31337.json`` →
    ``deployments/31337.index.sqlite``."""
    path = Path(manifest)
    return path.with_name(f"{path.stem}.index.sqlite")


@dataclass(frozen=True)
class ContractEntry:
    """One deployed contract."""

    name: str
    address: str
    tx_hash: str
    block: int
    artifact_hash: str


@dataclass
class Manifest:
    """A deployment's record. Mutable while deploying; saved after every step."""

    chain_id: int
    deployer: str
    config: dict[str, Any]
    contracts: dict[str, ContractEntry] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    complete: bool = False
    path: Path | None = field(default=None, compare=False)

    def address(self, key: str) -> str:
        try:
            return self.contracts[key].address
        except KeyError:
            raise DeploymentError(f"the manifest has no contract {key!r}") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "chainId": self.chain_id,
            "deployer": self.deployer,
            "complete": self.complete,
            "config": self.config,
            "contracts": {
                key: {
                    "name": e.name,
                    "address": e.address,
                    "txHash": e.tx_hash,
                    "block": e.block,
                    "artifactHash": e.artifact_hash,
                }
                for key, e in self.contracts.items()
            },
            "steps": self.steps,
            "pending": self.pending,
        }

    def save(self) -> None:
        if self.path is not None:
            write_json_atomic(self.path, self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path | None = None) -> Manifest:
        try:
            if data.get("format") != FORMAT_VERSION:
                raise DeploymentError(f"manifest format {data.get('format')!r} is not {FORMAT_VERSION}")
            contracts = {
                key: ContractEntry(
                    name=e["name"],
                    address=e["address"],
                    tx_hash=e["txHash"],
                    block=int(e["block"]),
                    artifact_hash=e["artifactHash"],
                )
                for key, e in data["contracts"].items()
            }
            return cls(
                chain_id=int(data["chainId"]),
                deployer=str(data["deployer"]),
                config=dict(data["config"]),
                contracts=contracts,
                steps=dict(data.get("steps", {})),
                pending=dict(data.get("pending", {})),
                complete=bool(data.get("complete", False)),
                path=path,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DeploymentError(f"manifest {path or ''} is malformed: {exc}") from None

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        manifest_path = Path(path)
        try:
            data = json.loads(manifest_path.read_text())
        except FileNotFoundError:
            raise DeploymentError(f"manifest {manifest_path} does not exist: deploy first") from None
        except ValueError:
            raise DeploymentError(f"manifest {manifest_path} is not valid JSON") from None
        return cls.from_dict(data, manifest_path)
