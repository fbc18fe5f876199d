"""Smoke test of examples/rnn_bptt.py: the handout's BPTT formulas hold and the outputs are written."""

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd.viz.render import can_render

ROOT = Path(__file__).resolve().parents[1]


def test_rnn_bptt_example_runs_and_draws_the_unrolled_graph(tmp_path):
    pytest.importorskip("matplotlib", reason="install the examples extra (pip install -e \".[examples]\") to run the RNN example test")
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "rnn_bptt.py"), "--out", str(tmp_path),
                             "--steps", "40"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "engine gradients equal the handout's BPTT formulas" in result.stdout
    assert (tmp_path / "rnn_loss.png").read_bytes()[:4] == b"\x89PNG"
    if not can_render("svg"):  # no Graphviz and no render extra: the DOT text instead
        assert "t=3" in (tmp_path / "rnn_unrolled_forward.dot").read_text()
        return
    svg = ET.parse(tmp_path / "rnn_unrolled_forward.svg").getroot()
    text = " ".join(t for t in svg.itertext())
    assert "t=1" in text and "t=3" in text  # one box per time step
    assert (tmp_path / "rnn_loss.png").read_bytes()[:4] == b"\x89PNG"
    if shutil.which("dot"):
        assert (tmp_path / "rnn_unrolled_backward.png").read_bytes()[:4] == b"\x89PNG"


def test_linear_rnn_check_is_importable_and_agrees():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import rnn_bptt
    finally:
        sys.path.pop(0)
    for steps in (1, 2, 6):
        result = rnn_bptt.linear_rnn_check(steps=steps, seed=steps)  # asserts inside
        assert result["dJ/dh"].shape == (steps, 4)
