"""The compiled contracts shipped inside the package (no compiler or Node needed to use them).

:func:`use_artifacts_dir` adds a folder of artifacts built the same way (your own contracts, or the test-only
ones :func:`civicdao.build.use_mock_contracts` builds): :func:`load_artifact` finds them by name after the
shipped ones, while :func:`list_artifacts` (and ``civicdao artifacts``) keeps to what the package ships.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from civicdao.errors import ArtifactError

__all__ = [
    "Artifact",
    "abi_signature",
    "abi_type",
    "artifact_dirs",
    "build_info",
    "list_artifacts",
    "load_artifact",
    "use_artifacts_dir",
]


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


#: Folders added by :func:`use_artifacts_dir`, searched after the package's own.
_EXTRA_DIRS: list[Path] = []


def use_artifacts_dir(path: str | Path) -> None:
    """Also load artifacts from ``path`` (a folder of ``<Contract>.json`` written by ``civicdao compile``).

    A name the package ships keeps the shipped artifact. Adding the same folder twice changes nothing.
    """
    folder = Path(path).resolve()
    if not folder.is_dir():
        raise ArtifactError(f"{folder} is not a folder of artifacts")
    if folder not in _EXTRA_DIRS:
        _EXTRA_DIRS.append(folder)


def artifact_dirs() -> tuple[Path, ...]:
    """The folders added by :func:`use_artifacts_dir`, in the order they were added."""
    return tuple(_EXTRA_DIRS)


def _artifact_files(*, include_extra: bool = True) -> dict[str, Traversable]:
    folders: list[Traversable] = [resources.files("civicdao._artifacts")]
    if include_extra:
        folders += _EXTRA_DIRS
    files: dict[str, Traversable] = {}
    for folder in folders:
        for entry in folder.iterdir():
            if entry.name.endswith(".json") and entry.name != "build-info.json":
                files.setdefault(entry.name[: -len(".json")], entry)
    return files


def list_artifacts(*, include_extra: bool = False) -> list[str]:
    """Names of every shipped contract artifact, sorted (with ``include_extra``, also those of the folders
    added by :func:`use_artifacts_dir`)."""
    return sorted(_artifact_files(include_extra=include_extra))


@functools.cache
def load_artifact(name: str) -> Artifact:
    """Load the shipped artifact of contract ``name``.

    Raises:
        ArtifactError: no such contract is shipped (the message lists the ones that are).
    """
    files = _artifact_files()
    if name not in files:
        known = ", ".join(sorted(files)) or "none (run `civicdao compile`)"
        raise ArtifactError(f"no artifact for contract {name!r}; known: {known}")
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


def abi_type(param: Mapping[str, Any]) -> str:
    """The canonical ABI type of a parameter, with tuples spelled out: ``(uint256,address)[]``."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(component) for component in param.get("components", ()))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def abi_signature(entry: Mapping[str, Any]) -> str:
    """The canonical signature of an ABI function, event or error: ``Transfer(address,address,uint256)``."""
    return f"{entry['name']}({','.join(abi_type(param) for param in entry.get('inputs', ()))})"
