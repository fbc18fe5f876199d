"""chain_rule_trace, and the ``rule`` text every op carries next to its backward.

Two guarantees are tested: each op's formula, evaluated with numpy, gives what the op's
``backward`` returns (so the text cannot drift from the code), and the numbers a trace
shows are the engine's gradients (read back from the rows the text is written from, and
parsed back from the text itself).
"""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest

import autograd
from autograd import Tensor
from autograd.graph import Op
from autograd.ops import elementwise as ew
from autograd.ops import linear as lin
from autograd.ops import matmul as mm
from autograd.ops import reduce as rd
from autograd.ops import shape as sh
from autograd.ops import softmax as sm
from autograd.teaching import ChainRuleTrace, chain_rule_trace
from autograd.teaching.formula import (
    FormulaError,
    evaluate,
    is_sentence,
    names_in,
    parse,
    substitute,
)
from autograd.teaching.formula_text import render
from autograd.teaching.replay import input_names, op_constants, rule_entry
from autograd.viz.demo import dag_homework

rng = np.random.default_rng(7)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def signed(*shape):
    return rng.standard_normal(shape)


# (op, inputs) on which each formula is checked; kinks are included (ties, zeros).
FORMULA_CASES = [
    (ew.Add(), [signed(3), signed(3)]),
    (ew.Sub(), [signed(3), signed(3)]),
    (ew.Mul(), [signed(3), signed(3)]),
    (ew.Div(), [signed(3), positive(3)]),
    (ew.Pow(), [positive(3), signed(3)]),
    (ew.PowScalar(3), [signed(3)]),
    (ew.PowScalar(0.5), [positive(3)]),
    (ew.PowScalar(-2), [positive(3)]),
    (ew.Neg(), [signed(3)]),
    (ew.Exp(), [signed(3)]),
    (ew.Log(), [positive(3)]),
    (ew.Sqrt(), [positive(3)]),
    (ew.Abs(), [np.array([-1.5, 0.0, 2.0])]),
    (ew.Sin(), [signed(3)]),
    (ew.Cos(), [signed(3)]),
    (ew.Tanh(), [signed(3)]),
    (ew.Sigmoid(), [signed(3)]),
    (ew.Softplus(), [signed(3)]),
    (ew.ReLU(), [np.array([-1.0, 0.0, 2.0])]),
    (ew.LeakyReLU(0.1), [np.array([-1.0, 0.0, 2.0])]),
    (ew.Heaviside(0.5), [np.array([-1.0, 0.0, 2.0])]),
    (ew.Clip(-0.5, 0.5), [np.array([-1.0, -0.5, 0.2, 0.5, 3.0])]),
    (ew.Clip(None, 0.5), [np.array([-1.0, 0.2, 3.0])]),
    (ew.Clip(0.0, None), [np.array([-1.0, 0.2, 3.0])]),
    (ew.Maximum(), [np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])]),
    (ew.Minimum(), [np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])]),
    (ew.Where(), [np.array([True, False, True]), signed(3), signed(3)]),
    (ew.Cast(np.float32), [signed(3)]),
    (mm.MatMul(), [signed(3, 4), signed(4, 2)]),
    (lin.Linear(), [signed(5, 4), signed(3, 4), signed(3)]),
    (rd.LogSumExp(), [signed(3, 4)]),
    (rd.LogSumExp(axis=1, keepdims=True), [signed(3, 4)]),
    (sm.Softmax(axis=1), [signed(3, 4)]),
    (sm.LogSoftmax(axis=0), [signed(3, 4)]),
]


def op_classes():
    for module in (ew, rd, mm, sh, lin, sm):
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, Op) and value.__module__ == module.__name__:
                if not name.startswith("_"):
                    yield value


def test_every_op_writes_its_rule_out_next_to_its_backward():
    for kind in op_classes():
        rule = getattr(kind, "rule", None)
        assert isinstance(rule, tuple) and rule, f"{kind.__name__} has no rule: add one above its backward"
        names = set(inspect.signature(kind.backward).parameters) - {"self"}
        for entry in rule:
            if entry is None:
                continue
            if is_sentence(entry):
                slots = set(re.findall(r"\{(\w+)\}", entry))
                assert slots <= names, (kind.__name__, entry)
            else:
                tree = parse(entry)  # a formula must be in the notation
                unknown = names_in(tree) - names
                assert all(not n.startswith("_") for n in unknown), (kind.__name__, entry)


@pytest.mark.parametrize("op, inputs", FORMULA_CASES, ids=lambda v: type(v).__name__ if isinstance(v, Op) else "")
def test_each_formula_gives_what_its_backward_gives(op, inputs):
    out = op.forward(*inputs)
    g = rng.standard_normal(np.shape(out))
    expected = op.backward(g, out, *inputs)
    names = input_names(op)
    values = dict(zip(names, inputs), g=g, out=out)
    checked = 0
    for argument, want in enumerate(expected):
        entry = rule_entry(op.rule, argument, len(inputs))
        if want is None:
            assert entry is None
            continue
        if is_sentence(entry):
            continue
        tree = substitute(parse(entry), op_constants(op))
        got = np.broadcast_to(evaluate(tree, values, axis=getattr(op, "axis", None)), np.shape(want))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=f"{type(op).__name__}: {entry}")
        checked += 1
    assert checked


def test_formulas_are_written_as_a_course_writes_them():
    def text(formula, **constants):
        return render(parse(formula), lambda n: {"g": "v̄3", "a": "v1", "b": "v2"}.get(n, n), constants=constants)

    assert text("g · b") == "v̄3 · v2"
    assert text("−g · a / b²") == "−v̄3 · v1 / v2²"
    assert text("g · exponent · a^(exponent − 1)", exponent=3) == "v̄3 · 3 · v1²"
    assert text("g · exponent · a^(exponent − 1)", exponent=2) == "v̄3 · 2 · v1"
    assert text("g · [low ≤ a ≤ high]", low=None, high=1) == "v̄3 · [−∞ ≤ v1 ≤ 1]"
    numbers = render(parse("g · b"), {"g": "1", "b": "2"}.get, numbers=True)
    assert numbers == "(1)(2)"
    assert render(parse("g · cos(a)"), {"g": "−1.5", "a": "2"}.get, numbers=True) == "(−1.5) · cos(2)"
    latex = render(parse("g · σ(a) · (1 − σ(a))"), {"g": r"\bar{v}_{3}", "a": "v_{1}"}.get, latex=True)
    assert latex == r"\bar{v}_{3} \cdot \sigma\left(v_{1}\right) \cdot \left(1 - \sigma\left(v_{1}\right)\right)"
    with pytest.raises(FormulaError):
        parse("g ·· a")


# ---- the traces -------------------------------------------------------------------------------


def graphs():
    """Graphs to trace: the DAG homework, a node used twice, broadcasting, tensors, matmul."""
    x1 = Tensor(2.0, requires_grad=True, name="x1")
    x2 = Tensor(5.0, requires_grad=True, name="x2")
    yield "Baydin et al.'s example", (x1 * x2).log() + x1 * x2 - x2.sin()  # ln(x1) + x1 x2 − sin x2
    J, _ = dag_homework()
    yield "CMU 10-601 homework 5, the DAG", J
    x = Tensor(0.7, requires_grad=True, name="x")
    yield "x used three times", x * x * x.exp()
    W = Tensor(signed(2, 3), requires_grad=True, name="W")
    b = Tensor(0.5, requires_grad=True, name="b")
    v = Tensor([1.0, -2.0, 3.0], name="v")
    yield "matmul and a broadcast bias", ((W @ v + b).sigmoid() ** 2).sum()
    A = Tensor(signed(4, 5), requires_grad=True, name="A")
    c = Tensor(signed(5), requires_grad=True, name="c")
    yield "large tensors", (A.relu() * c).mean()


@pytest.mark.parametrize("label, output", list(graphs()), ids=[label for label, _ in graphs()])
def test_the_traces_numbers_are_the_engines_gradients(label, output):
    trace = ChainRuleTrace(output)
    leaves = trace.leaves
    received: dict = {}
    for row in trace.adjoint:
        if row.kind == "edge":
            edge = row.edge
            received.setdefault(row.tensor, []).append(row.value)
            entry = edge.rule
            node = edge.consumer.grad_fn
            if entry is not None and not is_sentence(entry) and not edge.broadcast and node.op.name != "matmul":
                # the row's number is its formula evaluated on the recorded values
                values = {"g": trace.replay.gradients[edge.consumer], "out": edge.consumer.data}
                values.update(zip(input_names(node.op), (t.data for t in node.inputs)))
                tree = substitute(parse(entry), op_constants(node.op))
                got = evaluate(tree, values, axis=getattr(node.op, "axis", None))
                np.testing.assert_allclose(np.broadcast_to(got, row.value.shape), row.value, rtol=1e-12)
        elif row.kind == "sum":
            np.testing.assert_allclose(sum(row.terms), row.value, rtol=1e-12)
            assert len(row.terms) == len(received[row.tensor])
    output.backward()
    for leaf in leaves:  # the totals are what backward() stores in .grad
        total = sum(received[leaf])
        np.testing.assert_allclose(total, leaf.grad.data, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(trace.replay.gradients[leaf], leaf.grad.data, rtol=1e-12, atol=1e-15)


def test_numbers_parsed_back_from_the_text_match_the_engine():
    J, theta = dag_homework()
    text = chain_rule_trace(J)
    J.backward()
    gradients = dict(re.findall(r"∂J/∂(\w+) = \S+ = (\S+)", text))
    assert set(gradients) == set(theta)
    for name, parameter in theta.items():
        value = float(gradients[name].replace("−", "-"))
        assert math.isclose(value, parameter.grad.item(), rel_tol=5e-4), name
    # every adjoint line's last number is its row's value, to 4 significant digits
    trace = ChainRuleTrace(J)
    lines = text.split("Reverse (adjoint) trace, in the engine's order\n")[1].split("\n\n")[0].splitlines()
    assert len(lines) == len(trace.adjoint)
    for line, row in zip(lines, trace.adjoint):
        shown = re.split(r"\s{2,}\(", line.strip())[0].rsplit(" = ", 1)[-1]
        assert math.isclose(float(shown.replace("−", "-")), float(row.value), rel_tol=5e-4, abs_tol=1e-12), line


def test_the_text_has_both_traces_in_the_engines_order():
    x1 = Tensor(2.0, requires_grad=True, name="x1")
    x2 = Tensor(5.0, requires_grad=True, name="x2")
    v3 = x1 * x2
    text = chain_rule_trace(v3 + x1)
    assert "  v1 = x1 · x2 = 10" in text
    assert "  x̄2 += v̄1 · x1 = (1)(2) = 2" in text
    assert "  x̄1 = 1 + 5 = 6  (x1 is used twice: the sum of what it received)" in text
    order = [line.split(" ")[2] for line in text.splitlines() if " += " in line]
    assert order == ["v̄1", "x̄1", "x̄1", "x̄2"]  # the add's step, then the mul's


def test_broadcasting_is_summed_explicitly_and_tensors_are_summarised():
    W = Tensor(np.arange(6.0).reshape(2, 3) / 10, requires_grad=True, name="W")
    b = Tensor(0.5, requires_grad=True, name="b")
    x = Tensor([1.0, 2.0, 3.0], name="x")
    text = chain_rule_trace(((W @ x + b) ** 2).sum())
    assert "b̄ += Σ(v̄2) = Σ([" in text
    assert "(b was broadcast to shape (2,): Σ adds its copies back into one number)" in text
    assert "W = 2×3: mean 0.25" in text and "W̄ += v̄1 @ xᵀ" in text
    big = Tensor(np.linspace(-1, 1, 20).reshape(4, 5), requires_grad=True, name="A")
    text = chain_rule_trace(big.relu().sum())
    assert "Ā += v̄1 · [A > 0] = 4×5: mean" in text  # no wall of numbers


def test_markdown_and_latex():
    x = Tensor(0.0, requires_grad=True, name="x")
    y = (x.relu() + x.sin())
    markdown = chain_rule_trace(y, "markdown")
    assert "| node | computed as | value |" in markdown and "| # | adjoint update | in numbers | value |" in markdown
    assert r"x̄ += v̄1 · \[x > 0\]" in markdown  # Markdown's brackets escaped
    assert ChainRuleTrace(y)._repr_markdown_() == markdown
    latex = chain_rule_trace(y, "latex", conventions="cmu-10601")
    assert latex.count(r"\begin{align*}") == latex.count(r"\end{align*}") == 2
    assert r"\bar{x} &\mathrel{+}= \bar{v}_{1} \cdot \left[x \geq 0\right]" in latex  # ReLU'(0) = 1
    depth = 0
    for ch in latex.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    with pytest.raises(ValueError, match="format must be"):
        chain_rule_trace(y, "html")


def test_ops_without_a_rule_text_still_trace():
    class Square(Op):
        name = "square"

        def forward(self, a):
            return a * a

        def backward(self, g, out, a):
            return (2 * a * g,)

    x = Tensor(3.0, requires_grad=True, name="x")
    text = chain_rule_trace(Square()(x))
    assert "x̄ += o̅u̅t̅ · ∂out/∂x = 6" in text


def test_the_trace_needs_something_to_backpropagate():
    with pytest.raises(ValueError, match="nothing to backpropagate"):
        chain_rule_trace(Tensor(1.0) * 2)
    with pytest.raises(TypeError, match="Tensor"):
        chain_rule_trace(2.0)
    assert autograd.teaching.chain_rule_trace is chain_rule_trace


def test_cli_trace(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "autograd", "trace", "x*y + sin(x)", "--at", "x=2", "--at",
                             "y=-1", "--format", "latex", "-o", "trace.tex"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "trace.tex").read_text().count(r"\begin{align*}") == 2
    bad = subprocess.run([sys.executable, "-m", "autograd", "trace", "x", "--at", "x=2", "--wrt", ""],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "nothing to trace" in bad.stderr


def test_an_output_with_several_entries_starts_from_ones():
    v = Tensor([1.0, 2.0], requires_grad=True, name="v")
    text = chain_rule_trace(v * 3)
    assert "o̅u̅t̅ = [1, 1]  (start: out has several entries; this is the gradient of their sum)" in text
    assert "∂out/∂v = v̄ = [3, 3]" in text
