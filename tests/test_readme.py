"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_example_runs() -> None:
    (snippet,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)[:1]
    namespace: dict[str, object] = {}
    exec(compile(snippet, str(README), "exec"), namespace)  # noqa: S102 - our own documentation
    executed = namespace["executed"]
    (event,) = executed.events_named("ProposalExecuted")  # type: ignore[attr-defined]
    assert event["proposalId"] == namespace["proposal_id"]
