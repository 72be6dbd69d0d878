"""The README's Python example runs as written, prints what the README says, and stays short."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_example_is_two_imports_and_twenty_statements_at_most() -> None:
    # Issue 10's bar for the newcomer's path: at most 2 import lines and 20 statements.
    tree = ast.parse(_blocks("python")[0])
    statements = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    imports = [node for node in statements if isinstance(node, ast.Import | ast.ImportFrom)]
    assert len(imports) <= 2
    assert len(statements) <= 20
    assert all(node.module == "civicdao" for node in imports if isinstance(node, ast.ImportFrom))


def test_readme_python_example_runs_and_prints_what_the_readme_shows() -> None:
    snippet = _blocks("python")[0]
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet, str(README), "exec"), namespace)  # noqa: S102 - our own documentation
    passed = namespace["passed"]
    (event,) = passed.execution.events_named("ProposalExecuted")  # type: ignore[attr-defined]
    assert event["proposalId"] == passed.proposal_id  # type: ignore[attr-defined]
    grant = namespace["grant"]
    (created,) = grant.execution.events_named("StreamGrantCreated")  # type: ignore[attr-defined]
    assert created["grantId"] == grant.grant_id  # type: ignore[attr-defined]

    printed = out.getvalue().splitlines()
    shown = next(block for block in _blocks("text") if block.startswith("proposal "))
    expected = shown.splitlines()
    assert len(printed) == len(expected)
    assert printed[0].startswith(f"proposal {passed.proposal_id} ")  # type: ignore[attr-defined]
    # the README shortens the proposal id, which commits to the targets' code (getProposalId): any
    # id shape matches, so a change to a target contract does not break the README
    abbreviated = re.sub(r"\d+…\d+", lambda _: r"\d+", re.escape(expected[0]))
    assert re.fullmatch(abbreviated, printed[0])
    assert printed[1:] == expected[1:]
