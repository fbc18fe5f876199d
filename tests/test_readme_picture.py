"""The README's picture is drawn by the code, not by hand: the committed SVG is what it draws today."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from autograd.viz.render import can_render

ROOT = Path(__file__).resolve().parent.parent


def _texts(svg: bytes) -> list[str]:
    return sorted(re.findall(r"<text[^>]*>([^<]*)</text>", svg.decode("utf-8")))


@pytest.mark.skipif(not can_render("svg"), reason="install Graphviz or the render extra to draw the README's picture")
def test_the_readme_picture_is_the_current_drawing():
    script = runpy.run_path(str(ROOT / "examples" / "draw_graphs.py"))
    committed = (ROOT / "docs" / "images" / "dag_backward.svg").read_bytes()
    assert _texts(committed) == _texts(script["readme_picture"]()), (
        "docs/images/dag_backward.svg is out of date: run python examples/draw_graphs.py --readme"
    )
    assert "docs/images/dag_backward.svg" in (ROOT / "README.md").read_text()
