"""examples/ocr/neuralnet.py: the handout's trace, a hand-derived reference, its formats and its errors."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "ocr" / "neuralnet.py"
TINY = ROOT.parent / "shared" / "data" / "ocr-tiny"


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def parse_trace(text):
    """[(label, value)] from the handout's log: arrays after 'name:' lines, numbers inline."""
    entries = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("INFO:") and "Cross entropy:" in line:
            entries.append(("cross entropy", float(line.rsplit(":", 1)[1])))
        elif line.startswith("INFO:") and line.rstrip().endswith(":") and i + 1 < len(lines):
            label = line.split(":", 2)[2].strip()
            block = []
            i += 1
            while i < len(lines) and not lines[i].startswith("INFO:"):
                block.append(lines[i])
                i += 1
            numbers = re.findall(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", " ".join(block))
            entries.append((label, np.array([float(n) for n in numbers])))
            continue
        i += 1
    return entries


@pytest.mark.skipif(not TINY.is_dir(), reason="the CMU 10-601 handout's tiny OCR data and trace are not available here (course materials, not part of chainrule)")
def test_reproduces_the_handouts_tiny_trace(tmp_path):
    result = run(TINY / "tinyTrain.csv", TINY / "tinyValidation.csv", tmp_path / "t.labels",
                 tmp_path / "v.labels", tmp_path / "m.txt", 1, 4, 2, 0.1, "--trace")  # fmt: skip
    assert result.returncode == 0, result.stderr
    ours = parse_trace(result.stderr)
    reference = parse_trace((TINY / "tinyOutput.txt").read_text())
    assert [label for label, _ in ours] == [label for label, _ in reference]
    assert len(reference) == 2 * 12  # per step: 5 forward values, 5 gradients, 2 updated matrices
    for (label, value), (_, expected) in zip(ours, reference):
        if label == "cross entropy":
            assert value == pytest.approx(expected, rel=1e-12)
        else:
            # the handout prints arrays with numpy's 8 decimals
            np.testing.assert_allclose(value, expected, atol=1e-8 + 1e-12, err_msg=label)


def reference_sgd(x_train, y_train, x_valid, y_valid, alpha, beta, epochs, rate):
    """CMU 10-601 homework 5, A.1, derived by hand in numpy (no autodiff): the independent reference."""

    def forward(x, alpha, beta):
        a = alpha @ np.concatenate([[1.0], x])
        z = 1 / (1 + np.exp(-a))
        b = beta @ np.concatenate([[1.0], z])
        y_hat = np.exp(b - b.max()) / np.exp(b - b.max()).sum()
        return z, y_hat

    def mean_ce(xs, ys, alpha, beta):
        return float(np.mean([-np.log(forward(x, alpha, beta)[1][y]) for x, y in zip(xs, ys)]))

    metrics = []
    for _ in range(epochs):
        for x, y in zip(x_train, y_train):
            z, y_hat = forward(x, alpha, beta)
            g_b = y_hat - np.eye(10)[y]  # softmax + cross-entropy
            g_beta = np.outer(g_b, np.concatenate([[1.0], z]))
            g_z = beta[:, 1:].T @ g_b
            g_a = g_z * z * (1 - z)
            g_alpha = np.outer(g_a, np.concatenate([[1.0], x]))
            alpha = alpha - rate * g_alpha
            beta = beta - rate * g_beta
        metrics.append((mean_ce(x_train, y_train, alpha, beta), mean_ce(x_valid, y_valid, alpha, beta)))

    def predict(xs):
        return np.array([np.argmax(forward(x, alpha, beta)[1]) for x in xs])

    return metrics, predict(x_train), predict(x_valid)


def write_csv(path, x, y):
    path.write_text("\n".join(",".join([str(label)] + [str(int(v)) for v in row]) for row, label in zip(x, y)))


def test_matches_a_hand_derived_reference_on_synthetic_letters(tmp_path):
    rng = np.random.default_rng(0)
    prototypes = rng.random((10, 24)) < 0.4
    def make(n):  # noqa: E306
        y = rng.integers(0, 10, n)
        x = prototypes[y] ^ (rng.random((n, 24)) < 0.1)
        return x.astype(float), y

    (x_train, y_train), (x_valid, y_valid) = make(60), make(20)
    write_csv(tmp_path / "train.csv", x_train, y_train)
    write_csv(tmp_path / "valid.csv", x_valid, y_valid)
    result = run("train.csv", "valid.csv", "train.labels", "valid.labels", "metrics.txt", 3, 7, 1, 0.1,
                 "--seed", 5, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr

    # the same RANDOM initial weights the program draws (weights in order, then biases zero)
    init = np.random.default_rng(5)
    w_hidden = init.uniform(-0.1, 0.1, size=(7, 24))
    w_output = init.uniform(-0.1, 0.1, size=(10, 7))
    alpha = np.column_stack([np.zeros(7), w_hidden])
    beta = np.column_stack([np.zeros(10), w_output])
    metrics, train_pred, valid_pred = reference_sgd(x_train, y_train, x_valid, y_valid, alpha, beta, 3, 0.1)

    lines = (tmp_path / "metrics.txt").read_text().splitlines()
    assert len(lines) == 3 * 2 + 2
    for epoch, (train_ce, valid_ce) in enumerate(metrics, start=1):
        assert lines[2 * epoch - 2].startswith(f"epoch={epoch} crossentropy(train): ")
        assert lines[2 * epoch - 1].startswith(f"epoch={epoch} crossentropy(validation): ")
        assert float(lines[2 * epoch - 2].split(": ")[1]) == pytest.approx(train_ce, rel=1e-10)
        assert float(lines[2 * epoch - 1].split(": ")[1]) == pytest.approx(valid_ce, rel=1e-10)
    assert lines[-2].startswith("error(train): ") and lines[-1].startswith("error(validation): ")
    assert float(lines[-2].split(": ")[1]) == pytest.approx(np.mean(train_pred != y_train))
    assert float(lines[-1].split(": ")[1]) == pytest.approx(np.mean(valid_pred != y_valid))
    labels = (tmp_path / "train.labels").read_text()
    assert labels.endswith("\n") and [int(v) for v in labels.split()] == train_pred.tolist()
    assert metrics[-1][0] < metrics[0][0]  # it learns


def test_metric_numbers_use_the_handouts_format(tmp_path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import neuralnet
    finally:
        sys.path.pop(0)
    assert neuralnet._number(2.185062761143456) == "2.18506276114"
    assert neuralnet._number(0.77) == "0.77"
    assert neuralnet._number(1.0) == "1.0" and neuralnet._number(0.0) == "0.0"


@pytest.fixture
def tiny_files(tmp_path):
    (tmp_path / "train.csv").write_text("7,0,1,1,1,0\n9,0,0,0,1,0")
    (tmp_path / "valid.csv").write_text("3,0,0,0,0,0\n6,1,0,0,1,1")
    return tmp_path


OUTPUTS = ["t.labels", "v.labels", "m.txt"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["train.csv", "valid.csv"], "expected 9 arguments, got 2; usage: neuralnet.py"),
        (["missing.csv", "valid.csv", *OUTPUTS, 1, 4, 2, 0.1], "missing.csv: cannot read"),
        (["ragged.csv", "valid.csv", *OUTPUTS, 1, 4, 2, 0.1], "ragged.csv:2: 5 values, but earlier rows have 6"),
        (["text.csv", "valid.csv", *OUTPUTS, 1, 4, 2, 0.1], "text.csv:1: 'x' is not a number"),
        (["label.csv", "valid.csv", *OUTPUTS, 1, 4, 2, 0.1], "label.csv:1: label 10 is out of range (0..9)"),
        (["train.csv", "valid.csv", *OUTPUTS, 0, 4, 2, 0.1], "num_epoch must be a positive integer, not '0'"),
        (["train.csv", "valid.csv", *OUTPUTS, 1, "four", 2, 0.1], "hidden_units must be a positive integer"),
        (["train.csv", "valid.csv", *OUTPUTS, 1, 4, 3, 0.1], "init_flag must be 1 (RANDOM) or 2 (ZERO), not '3'"),
        (["train.csv", "valid.csv", *OUTPUTS, 1, 4, 2, -0.1], "learning_rate must be a positive number"),
        (["train.csv", "valid.csv", *OUTPUTS, 1, 4, 2, "fast"], "learning_rate must be a positive number"),
        (["train.csv", "valid.csv", "t.labels", "v.labels", "nodir/m.txt", 1, 4, 2, 0.1],
         "cannot write nodir/m.txt: directory nodir does not exist"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line_and_no_output(tiny_files, args, message):
    (tiny_files / "ragged.csv").write_text("7,0,1,1,1,0\n9,0,0,1,0")
    (tiny_files / "text.csv").write_text("7,0,x,1,1,0\n")
    (tiny_files / "label.csv").write_text("10,0,1,1,1,0\n")
    before = set(p.name for p in tiny_files.iterdir())
    result = run(*args, cwd=tiny_files)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert set(p.name for p in tiny_files.iterdir()) == before  # nothing created, nothing half-written
