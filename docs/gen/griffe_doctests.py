"""A griffe extension: doctest examples in docstrings render as code on the site.

chainrule's docstrings end with ``>>>`` examples written straight after the prose (as
in PyTorch), not under an ``Examples:`` heading. Markdown would read ``>>>`` as three
nested quotes. This extension wraps each run of doctest lines (``>>>``, ``...`` and the
expected output up to a blank line) in a ```` ```pycon ```` fence when griffe loads a
docstring, and drops ``# doctest:`` flags, which mean nothing to a reader. The source
files are not changed; ``python -m pytest --doctest-modules`` still reads them as they are.

mkdocs.yml loads it with ``extensions: [docs/gen/griffe_doctests.py]``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_FLAGS = re.compile(r"\s*#\s*doctest:.*$")


def fence_doctests(text: str) -> str:
    """``text`` with every run of doctest lines inside a ```` ```pycon ```` fence.

    Fenced blocks already in the text are left alone (tested in
    ``tests/test_docs_snippets.py``).
    """
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if in_fence or not stripped.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():  # the example runs to a blank line
            out.append(_FLAGS.sub("", lines[i]))
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence the doctest examples of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
