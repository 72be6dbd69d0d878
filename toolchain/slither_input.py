"""Write the solc standard-JSON input Slither analyses: the deployable contracts under the build's settings.

Slither compiles through crytic-compile, which only takes optimizer flags from its command line and never an
``evmVersion``; giving it a standard-JSON file instead makes it compile exactly what ``civicdao compile`` does
(optimizer, runs, ``shanghai``, the OpenZeppelin remapping), minus the test doubles in ``contracts/mocks``.
Usage: ``python toolchain/slither_input.py OUT.json`` (the Makefile's ``slither`` target).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from civicdao.build import COMPILER_SETTINGS, source_hashes

ROOT = Path(__file__).resolve().parent.parent


def standard_input(root: Path = ROOT) -> dict[str, object]:
    """The standard-JSON input for every ``contracts/**/*.sol`` outside ``contracts/mocks``."""
    return {
        "language": "Solidity",
        "sources": {name: {"urls": [name]} for name in sorted(source_hashes(root))},  # the shipped build's
        "settings": {
            **COMPILER_SETTINGS,
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode"], "": ["ast"]}},
        },
    }


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(standard_input(), indent=1) + "\n")
