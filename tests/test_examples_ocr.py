"""Smoke tests of the OCR example scripts: they run, write what they say, and their outputs make sense."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
OCR = ROOT / "examples" / "ocr"

pytest.importorskip("matplotlib", reason="install the examples extra (pip install -e \".[examples]\") to run the OCR example tests")  # the examples extra: fonts for the letters, plots


def run(script, *args, cwd):
    return subprocess.run([sys.executable, str(OCR / script), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)  # fmt: skip


def test_make_letters_is_deterministic_and_in_the_handout_format(tmp_path):
    for name in ("a", "b"):
        result = run("make_letters.py", "--out", tmp_path / name, "--train", 3, "--valid", 2, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    first = (tmp_path / "a" / "train.csv").read_text()
    assert first == (tmp_path / "b" / "train.csv").read_text()
    rows = np.array([[int(v) for v in line.split(",")] for line in first.splitlines()])
    assert rows.shape == (30, 129)  # 3 per class, label + 16x8 pixels
    assert sorted(set(rows[:, 0])) == list(range(10)) and set(np.unique(rows[:, 1:])) <= {0, 1}
    # letters differ from one another: the mean image of each class is distinct
    means = np.array([rows[rows[:, 0] == k, 1:].mean(0) for k in range(10)])
    distances = np.linalg.norm(means[:, None] - means[None], axis=2)
    assert distances[~np.eye(10, dtype=bool)].min() > 1.0


def test_train_generates_data_trains_and_plots(tmp_path):
    result = run("train.py", "--epochs", 3, "--hidden", 20, "--lr", 0.1, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    losses = [float(line.split(": ")[1]) for line in lines if "crossentropy(train)" in line]
    assert len(losses) == 3 and losses[-1] < losses[0] < 2.4
    assert any(line.startswith("error(validation): ") for line in lines)
    plot = tmp_path / "out" / "ocr_learning_curve.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000


def test_experiments_quick_answers_the_three_questions(tmp_path):
    result = run("experiments.py", "--quick", "--out", tmp_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "ocr_experiments.md").read_text()
    for heading in ("hidden units", "Learning rate", "ZERO against RANDOM"):
        assert heading in report
    zero_row = next(line for line in report.splitlines() if line.startswith("| ZERO |"))
    assert float(zero_row.split("|")[4]) < 1e-12  # the symmetry problem: identical hidden units
    for name in ("ocr_hidden_units.png", "ocr_learning_rates.png", "ocr_zero_vs_random.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_experiments_bad_data_dir_is_one_line(tmp_path):
    result = run("experiments.py", "--quick", "--data-dir", tmp_path / "nothing", cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "no train.csv" in result.stderr
