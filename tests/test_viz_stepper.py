"""The backprop story (``autograd.viz.stepper``): frames in the engine's order, one layout, one page.

Uses ``test_viz.py``'s small DOT reader; tests that render need Graphviz's ``dot``.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from test_viz import HAVE_DOT, HAVE_WASI, find, label_text, needs_dot, parse_dot, unrolled_rnn

import autograd
from autograd import Tensor
from autograd.viz import drawing as draw_module
from autograd.viz import renderers, stepper
from autograd.viz.demo import dag_homework
from autograd.viz.graph import GraphView


def test_frames_follow_the_engines_order():
    J, parameters = dag_homework()
    view = GraphView([J])
    frames = list(autograd.backprop_frames(J))
    assert len(frames) == len(view.computed) + 2  # start, one per computed tensor, end
    assert "Start" in frames[0].source and "Done" in frames[-1].source
    # step k processes the computed tensors by decreasing clock (the engine's order)
    order = sorted(view.computed, key=lambda t: t.grad_fn.clock, reverse=True)
    for frame, tensor in zip(frames[1:-1], order):
        nodes, _, _ = parse_dot(frame.source)
        current = [n for n, a in nodes.items() if a.get("id") == "current"]
        assert current == [f"t{view.position(tensor)}"]
    last = parse_dot(frames[-1].source)[0]
    J.backward()
    for name, tensor in parameters.items():
        assert f"∂J/∂{name} = {tensor.grad.item():.4g}" in label_text(last[find(last, f"{name} = ")])


def test_frames_show_unknown_partial_and_complete_gradients():
    x = Tensor(3.0, requires_grad=True, name="x")
    y = x * x + x.sin()  # x is used three times: its gradient is summed
    y.name = "y"
    frames = [parse_dot(f.source)[0] for f in autograd.backprop_frames(y)]
    first, middle, last = frames[0], frames[2], frames[-1]
    assert "∂y/∂x = ?" in label_text(first[find(first, "x = 3")])
    assert "so far" in "".join(label_text(a) for a in middle.values())
    expected = 2 * 3 + np.cos(3.0)
    assert f"∂y/∂x = {expected:.4g}" in label_text(last[find(last, "x = 3")])


@needs_dot
def test_frames_keep_the_same_layout():
    """Nodes keep their size from frame to frame, so the page's slider does not jump."""
    J, _ = dag_homework()
    options = draw_module.Options("both", rankdir="TB")
    frames = stepper.story(J, options, captions_in_graph=False)

    def positions(frame):
        layout = json.loads(renderers.render_with_dot(frame.graph.source, "json"))
        return {obj["name"]: (obj["pos"], obj["width"]) for obj in layout["objects"] if "pos" in obj}

    first = positions(frames[0])
    assert len(first) > 40
    for frame in (frames[1], frames[len(frames) // 2], frames[-1]):
        assert positions(frame) == first


def test_story_refuses_graphs_too_large_to_tell():
    J = unrolled_rnn(200, scoped=True)
    with pytest.raises(ValueError, match="max_nodes"):
        list(autograd.backprop_frames(J))
    with pytest.raises(ValueError, match="nothing to backpropagate"):
        list(autograd.backprop_frames(Tensor(1.0) * 2))


def test_frames_do_not_touch_grad_or_the_graph():
    J, parameters = dag_homework()
    list(autograd.backprop_frames(J))
    assert all(p.grad is None for p in parameters.values())
    J.backward()
    assert parameters["w11"].grad is not None


@pytest.mark.skipif(not (HAVE_DOT or HAVE_WASI), reason="install Graphviz or the render extra to test SVG drawings")
def test_backprop_html_is_one_self_contained_page(tmp_path):
    J, _ = dag_homework()
    path = autograd.save_backprop_html(J, tmp_path / "steps.html")
    page = path.read_text(encoding="utf-8")
    frames = len(GraphView([J]).computed) + 2
    assert page.count("<svg") == frames and page.count('class="frame"') == frames
    assert 'type="range"' in page and 'id="previous"' in page and 'id="next"' in page
    assert "<script>" in page and "<script src" not in page and "<link" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from the network
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # the inline SVGs' ids do not collide
    assert "Step 1 of" in page and "∂J/∂w11" in page
    assert os.listdir(tmp_path) == ["steps.html"]
