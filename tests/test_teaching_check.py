"""check_gradients and ``chainrule check``: hand-derived gradients against the engine's.

The main graph is the DAG homework of CMU 10-601 homework 5 (section 2). Its answers are
computed here from the handout's own formulas (dJ/dŷ1 = −2/(y1 − ŷ1), ...), not by the
engine, so "all right" means the checker agrees with the handout.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import autograd
from autograd import Tensor
from autograd.teaching import CONVENTIONS, check_gradients
from autograd.viz.demo import DAG_POINT, dag_homework
from autograd.viz.render import can_render

RELU_AT_ZERO = ((1.0, 2.0, 0.5), (0.4, 1.0), (1.0, -0.5, 0.3, 0.2, 0.6, 0.9, -0.4, 0.1, 0.2))  # w11 x1 + w21 x2 = 0


def handout_answers(x, y, params, relu_prime_at_zero=0.0, cos_rule_sign=-1.0):
    """The handout's hand derivation, in plain Python; ``cos_rule_sign=+1`` is the classic
    mistake d cos(z)/dz = +sin(z), carried on consistently to what depends on it."""
    w11, w21, w22, w32, m11, m12, m22, b2, c1 = params
    x1, x2, x3 = x
    pre = w11 * x1 + w21 * x2
    z1 = max(pre, 0.0)
    z2 = w22 * x2**2 + w32 * x3 + b2
    y1_hat = 1 / (1 + math.exp(-(m11 * z1**3 + c1)))
    y2_hat = m12 * math.sin(z1) + m22 * math.cos(z2)
    dy1 = -2 / (y[0] - y1_hat)
    dy2 = -2 / (y[1] - y2_hat)
    dz1 = dy1 * (3 * m11 * y1_hat * (1 - y1_hat) * z1**2) + dy2 * (m12 * math.cos(z1))
    dz2 = dy2 * m22 * cos_rule_sign * math.sin(z2)
    relu_prime = 1.0 if pre > 0 else (relu_prime_at_zero if pre == 0 else 0.0)
    return {
        "J": 1.0, "ŷ1": dy1, "ŷ2": dy2, "z1": dz1, "z2": dz2,
        "w11": relu_prime * dz1 * x1, "w21": relu_prime * dz1 * x2, "w22": dz2 * x2**2, "w32": dz2 * x3,
        "m11": dy1 * y1_hat * (1 - y1_hat) * z1**3, "m12": dy2 * math.sin(z1), "m22": dy2 * math.cos(z2),
        "b2": dz2, "c1": dy1 * y1_hat * (1 - y1_hat),
    }


def demo_point():
    return DAG_POINT["x"], DAG_POINT["y"], DAG_POINT["parameters"]


# ---- the DAG homework -------------------------------------------------------------------------


def test_the_handouts_answers_are_all_right_and_nothing_is_changed():
    J, theta = dag_homework()
    report = check_gradients(J, handout_answers(*demo_point()))
    assert report.ok and report.first_error is None
    assert len(report.right) == 14 and not report.consequences
    assert theta["w11"].grad is None  # the check replays; it does not call backward()
    text = str(report)
    assert text.startswith("Checked 14 answers for the gradients of J")
    assert "All right: ∂J/∂J, " in text and "✗" not in text
    J.backward()  # the graph is still usable
    assert theta["w11"].grad is not None


def test_every_node_of_the_drawing_can_be_answered_by_its_v_name():
    J, _ = dag_homework()
    view = autograd.viz.graph.GraphView([J])
    gradients = autograd.viz.graph.final_gradients(view)
    answers = {view.name(t): gradients[t] for t in gradients}
    assert {"v12", "v13", "z1", "ŷ2", "w11"} <= set(answers)  # as drawings print them
    report = check_gradients(J, answers)
    assert report.ok and len(report.checks) == len(gradients)
    # in the engine's backward order: the output first, every leaf after every computed node
    names = [c.name for c in report.checks]
    assert names[0] == "J" and names.index("v12") < names.index("z2") < names.index("w22")


def test_one_wrong_local_rule_is_found_and_what_follows_from_it_is_marked():
    J, _ = dag_homework()
    answers = handout_answers(*demo_point(), cos_rule_sign=+1.0)  # d cos z / dz = +sin z: wrong
    report = check_gradients(J, answers)
    assert not report.ok
    first = report.first_error
    assert first.name == "z2" and first.status == "wrong"
    assert {c.name for c in report.consequences} == {"b2", "w22", "w32"}
    assert all(c.follows_from == ["z2"] for c in report.consequences)
    assert {c.name for c in report.right} == {"J", "ŷ1", "ŷ2", "z1", "w11", "w21", "m11", "m12", "m22", "c1"}
    assert not report.other_mistakes
    given, expected = first.values()
    assert expected == "0.5968" and given == "−0.5968"
    assert first.explanation() == ["∂J/∂z2 = −∂J/∂v12 · sin(z2)", "= −(0.6697) · sin(−1.1)", "= 0.5968"]
    text = str(report)
    assert "✗ First mistake: ∂J/∂z2." in text
    assert "You wrote −0.5968; it should be 0.5968." in text
    assert "z2 is used by v12 = cos(z2)." in text
    assert "in this step or in ∂J/∂v12, which you did not give" in text
    assert "✗ ∂J/∂b2 follows from the first mistake (∂J/∂z2)" in text
    assert "Right (10):" in text


def test_with_the_upstream_answered_the_mistake_is_placed_in_the_step():
    J, _ = dag_homework()
    view = autograd.viz.graph.GraphView([J])
    v12 = next(t for t in view.tensors if view.name(t) == "v12")
    answers = handout_answers(*demo_point(), cos_rule_sign=+1.0)
    answers["v12"] = float(autograd.viz.graph.final_gradients(view)[v12])
    report = check_gradients(J, answers)
    assert report.first_error.name == "z2"
    assert "were answered right, so the mistake is in this step: the local rule or the arithmetic" in str(report)


def test_the_issue_example_v12():
    """∂J/∂v12 should be 0.6697 = ∂J/∂v13 (−1.116) × m22 (−0.6)."""
    J, _ = dag_homework()
    report = check_gradients(J, {"v13": -1.1161775795583317, "v12": 0.5})
    first = report.first_error
    assert first.name == "v12"
    assert first.explanation() == ["∂J/∂v12 = ∂J/∂v13 · m22", "= (−1.116)(−0.6)", "= 0.6697"]
    assert "v12 is used by v13 = m22 · v12." in str(report)


def test_a_later_mistake_of_its_own_is_told_apart_from_a_consequence():
    J, _ = dag_homework()
    answers = handout_answers(*demo_point(), cos_rule_sign=+1.0)
    answers["m11"] = 1.0  # wrong, and not because of z2
    report = check_gradients(J, answers)
    assert report.first_error.name == "z2"
    assert [c.name for c in report.other_mistakes] == ["m11"]
    assert "✗ ∂J/∂m11 is also wrong: you wrote 1; it should be −2.441." in str(report)


# ---- ReLU at 0: the engine's convention (PyTorch's) and CMU 10-601's ----------------------


def test_relu_at_zero_under_both_conventions():
    J, theta = dag_homework(*RELU_AT_ZERO)
    homework = handout_answers(*RELU_AT_ZERO, relu_prime_at_zero=1.0)
    pytorch = handout_answers(*RELU_AT_ZERO, relu_prime_at_zero=0.0)
    assert homework["w11"] != 0 and pytorch["w11"] == 0
    assert check_gradients(J, homework, conventions="cmu-10601").ok
    assert check_gradients(J, pytorch).ok
    assert check_gradients(J, pytorch, conventions="pytorch").ok
    against_engine = check_gradients(J, homework)
    assert against_engine.first_error.name in ("w11", "w21")
    assert {c.name for c in against_engine.checks if not c.ok} == {"w11", "w21"}
    assert "conventions='cmu-10601'" in str(against_engine)  # the hint
    assert not check_gradients(J, pytorch, conventions="cmu-10601").ok
    assert check_gradients(J, homework, conventions={"relu_grad_at_0": 1}).ok
    # the engine keeps PyTorch's ReLU'(0) = 0
    J.backward()
    assert theta["w11"].grad.item() == 0
    assert "CMU 10-601 homework 5" in CONVENTIONS["cmu-10601"][0]


def test_conventions_are_checked():
    J, _ = dag_homework()
    with pytest.raises(ValueError, match="unknown conventions 'cmu'.*'cmu-10601'"):
        check_gradients(J, {}, conventions="cmu")
    with pytest.raises(ValueError, match="unknown convention 'relu'.*relu_grad_at_0"):
        check_gradients(J, {}, conventions={"relu": 1})
    with pytest.raises(TypeError, match="must be a number"):
        check_gradients(J, {}, conventions={"relu_grad_at_0": "1"})
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True, name="x")
    y = x.relu().sum()
    assert check_gradients(y, {"x": [0, 0.5, 1]}, conventions={"relu_grad_at_0": 0.5}).ok
    assert check_gradients(x.abs().sum(), {"x": [-1, 1, 1]}, conventions={"abs_grad_at_0": 1}).ok
    assert check_gradients(autograd.leaky_relu(x, 0.1).sum(), {"x": [0.1, 0.3, 1]},
                           conventions={"leaky_relu_grad_at_0": 0.3}).ok


# ---- names, values, tensors ---------------------------------------------------------------------


def test_unknown_names_list_the_valid_ones():
    J, _ = dag_homework()
    with pytest.raises(KeyError, match=r"no node named 'w99'.*nodes with gradients are: J, b2, c1, m11, m12, m22,"):
        check_gradients(J, {"w99": 1.0})
    with pytest.raises(KeyError, match="'x1' has no gradient: it is data"):
        check_gradients(J, {"x1": 1.0})
    with pytest.raises(TypeError, match="the answer for w11 must be a number"):
        check_gradients(J, {"w11": "0.5"})
    with pytest.raises(ValueError, match="rtol"):
        check_gradients(J, {}, rtol=-1)
    with pytest.raises(TypeError, match="dict"):
        check_gradients(J, [("w11", 1.0)])


def test_two_nodes_with_one_name_cannot_be_checked_by_it():
    x = Tensor(1.0, requires_grad=True, name="x")
    a, b = x * 2, x * 3
    a.name = b.name = "h"
    with pytest.raises(KeyError, match="2 nodes are named 'h'"):
        check_gradients(a + b, {"h": 1.0})


def test_tensor_nodes_give_the_first_wrong_index_and_keys_may_be_tensors():
    W = Tensor(np.arange(6.0).reshape(2, 3) / 10, requires_grad=True, name="W")
    x = Tensor([1.0, 2.0, 3.0], name="x")
    b = Tensor(0.5, requires_grad=True, name="b")  # broadcast over the 2 outputs
    L = ((W @ x + b) ** 2).sum()
    L.name = "L"
    h = W.data @ x.data + 0.5
    right_W = np.outer(2 * h, x.data)
    assert check_gradients(L, {W: right_W, "b": 2 * h.sum()}).ok
    wrong_W = right_W.copy()
    wrong_W[1, 2] += 1
    report = check_gradients(L, {"W": wrong_W.tolist(), "b": 2 * h.sum()})
    first = report.first_error
    assert first.name == "W" and first.index == (1, 2) and first.wrong_count == 1
    assert "At [1, 2] you wrote" in str(report) and "(1 of 6 entries are wrong)" in str(report)
    shape = check_gradients(L, {"b": [1.0, 2.0]})
    assert shape.first_error.shape_problem.startswith("your answer has shape (2,), but b is one number")


def test_tolerances():
    x = Tensor(2.0, requires_grad=True, name="x")
    y = x * x
    assert check_gradients(y, {"x": 4.003}).ok  # within 1e-3 relative
    assert not check_gradients(y, {"x": 4.003}, rtol=1e-4).ok
    assert check_gradients(y, {"x": 4.1}, rtol=0.05).ok


def test_the_drawing_shows_the_verdicts():
    J, _ = dag_homework()
    report = check_gradients(J, handout_answers(*demo_point(), cos_rule_sign=+1.0))
    graph = report.draw(rankdir="TB")
    source = graph.source
    statements = {}
    for line in source.splitlines():  # the last statement about a node wins, as in DOT
        match = re.match(r"\s*(t\d+) \[(.*)\]$", line)
        if match:
            statements.setdefault(match.group(1), []).append(match.group(2))
    view = report.replay.view
    by_name = {view.name(t): f"t{view.position(t)}" for t in view.tensors}

    def last(name, attribute):
        found = [re.search(rf'\b{attribute}="?([^" \]]+)', s) for s in statements[by_name[name]]]
        return [m.group(1) for m in found if m][-1]

    assert last("z2", "fillcolor") == "#f7b6b6" and last("z2", "penwidth") == "4"  # red: the first mistake
    assert last("b2", "fillcolor") == "#dddddd"  # grey: follows
    assert last("m22", "fillcolor") == "#c8ecc8"  # green: right
    assert last("x1", "fillcolor") == "#ffffff"  # not answered
    assert "∂J/∂z2 = -0.5968, should be 0.5968" in source
    assert "follows from an earlier mistake" in source and "the first mistake" in source  # legend
    if can_render("svg"):
        assert b"<svg" in autograd.viz.render.render(graph, "svg")


def test_a_graph_already_used_by_backward_is_checked_from_its_recorded_values():
    x = Tensor(3.0, requires_grad=True, name="x")
    y = (x * x).sin()
    y.backward()  # frees nothing the replay needs (the values are recorded)
    assert check_gradients(y, {"x": math.cos(9) * 6}).ok


# ---- the command ------------------------------------------------------------------------------


def run(folder, *arguments, stdin=None):
    return subprocess.run([sys.executable, "-m", "autograd", *arguments], cwd=folder, input=stdin,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


def write(folder, name, data):
    path = folder / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_cli_exit_0_when_all_answers_are_right(tmp_path):
    write(tmp_path, "answers.json", {"x": -1 + math.cos(2), "y": 2, "f": 1})
    result = run(tmp_path, "check", "x*y + sin(x)", "--at", "x=2", "--at", "y=-1", "--answers", "answers.json")
    assert result.returncode == 0, result.stderr
    assert "All right: ∂f/∂f, ∂f/∂x, ∂f/∂y." in result.stdout


def test_cli_exit_1_with_the_report_and_the_drawing(tmp_path):
    write(tmp_path, "answers.json", {"x": -1, "y": 2})
    result = run(tmp_path, "check", "x*y + sin(x)", "--at", "x=2", "--at", "y=-1", "--answers",
                 "answers.json", "-o", "report.dot")
    assert result.returncode == 1, result.stderr
    assert "✗ First mistake: ∂f/∂x." in result.stdout and "wrote report.dot" in result.stdout
    assert "∂f/∂x = ∂f/∂v2 · cos(x) + ∂f/∂v1 · y" in result.stdout
    assert (tmp_path / "report.dot").read_text().startswith("digraph")


def test_cli_the_homeworks_convention(tmp_path):
    write(tmp_path, "answers.json", {"x": [0.0, 1.0, 1.0]})
    arguments = ["check", "sum(relu(x))", "--at", "x=[-1, 0, 2]", "--answers", "answers.json"]
    assert run(tmp_path, *arguments).returncode == 1
    assert run(tmp_path, *arguments, "--conventions", "cmu-10601").returncode == 0


@pytest.mark.parametrize("answers, fragment", [
    ('{"q": 1}', "there is no node named 'q' in the graph of f; the nodes with gradients are: f, v1, v2, x, y"),
    ('{"x": 1, "x": 2}', "'x' is given twice"),
    ('{"x": "one"}', "the answer for x must be a number or a list of numbers"),
    ('{"x": true}', "the answer for x must be a number"),
    ("[1, 2]", "must hold a JSON object"),
    ("{}", "there are no answers"),
    ('{"x": 1', "not valid JSON"),
    ('{"x": ' + "[" * 5000 + "]" * 5000 + "}", "answers.json"),
    ('{"x": 1e999999}', None),  # inf: a number (wrong), not bad input
])
def test_cli_exit_2_on_bad_answers_with_one_line_and_no_file(tmp_path, answers, fragment):
    write(tmp_path, "answers.json", answers)
    result = run(tmp_path, "check", "x*y + sin(x)", "--at", "x=2", "--at", "y=-1", "--answers",
                 "answers.json", "-o", "report.svg")
    if fragment is None:
        assert result.returncode == 1
        return
    assert result.returncode == 2, (result.stdout, result.stderr)
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message and message.startswith("chainrule: error:")
    assert fragment in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.json"]  # no report, no temporary file


def test_cli_exit_2_on_other_bad_input(tmp_path):
    write(tmp_path, "answers.json", {"x": 1})
    cases = [
        (["check", "x*y", "--at", "x=2", "--at", "y=3", "--answers", "missing.json"], "no such file"),
        (["check", "x*y", "--at", "x=2", "--answers", "answers.json"], "undefined variable 'y'"),
        (["check", "x*y", "--at", "x=2", "--at", "y=3"], "--answers"),
        (["check", "x*y", "--at", "x=2", "--at", "y=3", "--answers", "answers.json", "-o", "r.gif"], ".gif"),
        (["check", "x*y", "--at", "x=2", "--at", "y=3", "--answers", "answers.json", "--rtol", "-1"], "--rtol"),
        (["check", "x*y", "--at", "x=2", "--at", "y=3", "--answers", "answers.json", "--conventions", "mit"],
         "cmu-10601"),
        (["check", "x*y", "--at", "x=2", "--at", "y=3", "--answers", "."], "folder"),
        (["check", "__import__('os')", "--answers", "answers.json"], "chainrule"),
    ]
    for arguments, fragment in cases:
        result = run(tmp_path, *arguments)
        assert result.returncode == 2, (arguments, result.stdout, result.stderr)
        message = result.stderr.strip()
        assert "\n" not in message and "Traceback" not in message, message
        assert fragment in message, (fragment, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.json"]


def test_cli_answers_from_standard_input(tmp_path):
    result = run(tmp_path, "check", "x*x", "--at", "x=3", "--answers", "-", stdin='{"x": 6}')
    assert result.returncode == 0, result.stderr


def test_the_drawing_takes_drawing_options_only():
    x = Tensor(2.0, requires_grad=True, name="x")
    report = check_gradients(x * x, {"x": 4})
    assert "rankdir=TB" in report.draw(rankdir="TB").source
    with pytest.raises(TypeError, match="unknown option 'colour'"):
        report.draw(colour="red")
    assert repr(report) == "<GradientReport: 1 answer, all right>"
