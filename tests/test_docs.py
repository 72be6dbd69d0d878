"""Every Python block in the docs runs as written.

The blocks of one page form one Python session, run in order in one namespace (as a reader pastes them
into a REPL). A page that starts a local chain does it the way ``docs/quickstart.md`` does:
``session = contextlib.ExitStack()`` and ``dao = session.enter_context(CivicDAO.local())``; the harness
closes ``session`` when the page is done, so no chain outlives its page.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def python_blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text())


PAGES = sorted(page for page in DOCS.glob("*.md") if python_blocks(page))


def test_every_page_with_python_is_collected() -> None:
    assert {p.name for p in PAGES} >= {"exchange.md", "treasury.md", "governance.md", "quickstart.md"}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_runs_as_written(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # pages that write files (a manifest, an index, a report) write here
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    try:
        for number, block in enumerate(python_blocks(page), start=1):
            code = compile(block, f"{page} (python block {number})", "exec")
            exec(code, namespace)  # noqa: S102 - our own documentation
    finally:
        session = namespace.get("session")
        if isinstance(session, contextlib.ExitStack):
            session.close()
