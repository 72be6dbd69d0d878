"""docs/governance.md says what the code does: its Python flow runs as written, its preset table is the
presets' real values."""

from __future__ import annotations

import re
from pathlib import Path

from civicdao.config import DAY, HOUR, PRESETS, DeployConfig

DOC = Path(__file__).resolve().parent.parent / "docs" / "governance.md"


def python_block_after(heading: str) -> str:
    text = DOC.read_text()
    section = text[text.index(heading) :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block after {heading!r}"
    return match.group(1)


def test_documented_flow_is_under_twenty_lines_and_runs() -> None:
    source = python_block_after("## The whole flow in Python")
    flow = [
        line for line in source.splitlines() if line.strip() and not line.startswith(("from ", "import "))
    ]
    assert len(flow) < 20
    assert f"{len(flow)} lines after the imports" in DOC.read_text().replace("sixteen", "16")
    # Checks appended inside the `with` block, while the snippet's chain still runs.
    checks = (
        "    assert citizens.is_registrar(residents[1].address)\n"
        '    assert gov.state(pid).name == "EXECUTED"\n'
        "    ran = True\n"
    )
    namespace: dict[str, object] = {}
    exec(compile(source + checks, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    assert namespace["ran"] is True


def _duration(seconds: int) -> str:
    if seconds < HOUR:
        return f"{seconds // 60} min"
    if seconds < DAY:
        return f"{seconds // HOUR} h"
    days = seconds // DAY
    return "1 day" if days == 1 else f"{days} days"


def _row(name: str, c: DeployConfig) -> str:
    cells = [
        name,
        _duration(c.voting_delay),
        _duration(c.voting_period),
        f"{c.quorum_percent} %",
        _duration(c.vote_extension),
        _duration(c.timelock_delay),
        "never" if not c.guardian_expiry_after else f"after {c.guardian_expiry_after // DAY} days",
        "yes" if c.deployer_is_registrar else "no",
        f"{c.treasury_eth_cap // 10**18} ETH",
        str(c.housing_listing_cap),
    ]
    return "| " + " | ".join(cells) + " |"


def test_documented_presets_match_the_code() -> None:
    text = DOC.read_text()
    for name, config in PRESETS.items():
        assert _row(name, config) in text, _row(name, config)
