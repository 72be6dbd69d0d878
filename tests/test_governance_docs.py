"""docs/governance.md says what the code does: its preset table is the presets' real values, and its
proposal walk-through stays short. (``tests/test_docs.py`` runs every Python block of the page.)"""

from __future__ import annotations

import re
from pathlib import Path

from civicdao.config import DAY, HOUR, PRESETS, DeployConfig

DOC = Path(__file__).resolve().parent.parent / "docs" / "governance.md"


def python_blocks_under(heading: str) -> list[str]:
    text = DOC.read_text()
    section = text[text.index(heading) :].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_proposal_walk_through_is_under_twenty_statements() -> None:
    blocks = python_blocks_under("## A proposal, step by step")
    assert len(blocks) >= 2, "the step-by-step section shows the vote, then queue and execute"
    steps = [line for block in blocks[:2] for line in block.splitlines() if line.strip()]
    assert len(steps) < 20
    assert any("governance.propose(" in line for line in steps)
    assert any("governance.execute(" in line for line in steps)


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
