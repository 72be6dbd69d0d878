"""The compiled contracts shipped inside the package (no compiler or Node needed to use them)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from civicdao.errors import ArtifactError

__all__ = ["Artifact", "build_info", "list_artifacts", "load_artifact"]


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: what deploying it and talking to it needs."""

    name: str
    source_name: str
    source_hash: str
    abi: tuple[Mapping[str, Any], ...] = field(repr=False)
    bytecode: str = field(repr=False)
    deployed_bytecode: str = field(repr=False)
    link_references: Mapping[str, Any] = field(repr=False, default_factory=dict)

    @property
    def deployed_size(self) -> int:
        """Size of the runtime code in bytes (EIP-170 caps it at 24,576)."""
        return (len(self.deployed_bytecode) - 2) // 2

    def abi_list(self) -> list[dict[str, Any]]:
        """The ABI as plain lists and dicts, as web3.py wants it."""
        return [dict(entry) for entry in self.abi]


def _artifact_files() -> dict[str, Any]:
    folder = resources.files("civicdao._artifacts")
    return {
        entry.name[: -len(".json")]: entry
        for entry in folder.iterdir()
        if entry.name.endswith(".json") and entry.name != "build-info.json"
    }


def list_artifacts() -> list[str]:
    """Names of every shipped contract artifact, sorted."""
    return sorted(_artifact_files())


@functools.cache
def load_artifact(name: str) -> Artifact:
    """Load the shipped artifact of contract ``name``.

    Raises:
        ArtifactError: no such contract is shipped (the message lists the ones that are).
    """
    files = _artifact_files()
    if name not in files:
        known = ", ".join(sorted(files)) or "none (run `civicdao compile`)"
        raise ArtifactError(f"no artifact for contract {name!r}; shipped: {known}")
    try:
        data = json.loads(files[name].read_text())
        return Artifact(
            name=data["contractName"],
            source_name=data["sourceName"],
            source_hash=data["sourceHash"],
            abi=tuple(data["abi"]),
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            link_references=data.get("linkReferences", {}),
        )
    except (ValueError, KeyError) as exc:
        raise ArtifactError(
            f"artifact {name!r} is malformed ({exc}): rebuild with `civicdao compile`"
        ) from None


def build_info() -> dict[str, Any]:
    """Compiler version, settings and source hashes of the shipped build."""
    try:
        text = resources.files("civicdao._artifacts").joinpath("build-info.json").read_text()
        data: dict[str, Any] = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ArtifactError(
            f"build-info.json is missing or malformed ({exc}): run `civicdao compile`"
        ) from None
    return data
