"""Print the invariant campaign's figures from `forge test --json`: calls (steps) and time per invariant.

Usage: ``forge test --json | python toolchain/forge_report.py`` (the Makefile's ``invariants`` and ``fuzz``
targets). Exits 1 when any test failed or when no invariant ran, so the pipe fails like the campaign would.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def seconds(duration: object) -> float:
    """Forge's duration ("13s 325ms 151µs", or {"secs", "nanos"}) in seconds."""
    if isinstance(duration, dict):
        return float(duration.get("secs", 0)) + float(duration.get("nanos", 0)) / 1e9
    return sum(
        float(n) * _UNITS[u] for n, u in re.findall(r"([\d.]+)\s*(h|ms|µs|us|ns|m|s)\b", str(duration))
    )


def activity(results: dict[str, Any]) -> dict[str, int]:
    """Sum the "activity: <action> <count>" lines the campaign logs after each run (present with ``-vv``)."""
    totals: dict[str, int] = {}
    for suite in results.values():
        for test in suite["test_results"].values():
            for line in test.get("decoded_logs", []):
                match = re.fullmatch(r"activity: (.+) (\d+)", line)
                if match:
                    totals[match[1]] = totals.get(match[1], 0) + int(match[2])
    return totals


def main() -> int:
    results = json.load(sys.stdin)
    rows = []
    failed = []
    for suite in results.values():
        for name, test in suite["test_results"].items():
            if test["status"] != "Success":
                failed.append(f"{name}: {test.get('reason') or test['status']}")
            kind = test.get("kind", {}).get("Invariant")
            if kind:
                rows.append(
                    (name.removesuffix("()"), kind["runs"], kind["calls"], kind["reverts"], test["duration"])
                )
    print(f"{'invariant':<48} {'runs':>5} {'steps':>7} {'reverts':>8} {'seconds':>8} {'steps/s':>8}")
    for name, runs, calls, reverts, duration in rows:
        secs = seconds(duration)
        rate = calls / secs if secs else 0.0
        print(f"{name:<48} {runs:>5} {calls:>7} {reverts:>8} {secs:>8.1f} {rate:>8.0f}")
    reach = activity(results)
    if reach:
        print("actions that went through (the last run of every campaign, summed; set-up included):")
        print("  " + ", ".join(f"{name} {count}" for name, count in sorted(reach.items())))
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    print(f"{len(rows) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
