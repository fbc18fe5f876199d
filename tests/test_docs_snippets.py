"""Every Python block in the README and docs/ runs, in page order, one namespace per page.

A block that is deliberately not runnable (a sketch with ``...``) is preceded by the
invisible HTML comment ``<!-- not-runnable -->``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
BLOCK = re.compile(r"(<!-- not-runnable -->\s*)?```python\n(.*?)```", re.DOTALL)


def _blocks(page: Path) -> list[str]:
    return [code for skip, code in BLOCK.findall(page.read_text(encoding="utf-8")) if not skip]


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(page: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # a block that writes files writes them here
    namespace: dict = {"__name__": "__doc_snippet__"}
    for number, code in enumerate(_blocks(page), 1):
        try:
            exec(compile(code, f"{page.name} block {number}", "exec"), namespace)
        except Exception as error:  # noqa: BLE001
            pytest.fail(f"{page.relative_to(ROOT)}, Python block {number} raised {error!r}")
