"""How fast can *any* graph-recording engine in Python run CMU 10-601 homework 5's per-example SGD?

Run from the repository root::

    python benchmarks/bare_engine.py            # 9,000 steps, 7 repeats
    python benchmarks/bare_engine.py --quick    # 2,000 steps, 5 repeats

``bench_training.py`` sets chainrule the goal "per-example SGD within 2x hand-written
numpy". This script measures the cost of recording a graph at all: a bare reverse-mode
engine (below, ~60 lines: a tensor, an apply that records, a topological backward, a
module call, and the update ``p.data -= lr * p.grad``) doing the same numpy formulas as
the floor and as chainrule (and, like them, no gradient for the data input). It has none
of chainrule's features (graph scopes for drawings, in-place version checks, hooks,
retain_grad, dtype rules, error messages, sigmoid's overflow check, an optimiser object),
so its time is a lower bound for an eager engine of this shape. The three run round-robin
on the same data and weights; every one is checked against the numpy floor (losses and
final parameters to 1e-8) before timing. Not a test.

Why this engine does not reuse ``autograd.engine.backward_steps``, the pass that
``Tensor.backward`` and the drawings share: it measures what recording a graph costs with
*none* of chainrule's machinery, so it must not run any of it. Borrowing chainrule's
backward would put chainrule's costs into the bound it is meant to be measured against.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_training as bt  # noqa: E402  (the workload, the numpy floor and chainrule's trainer)

try:
    import threadpoolctl
except ImportError:  # pragma: no cover - optional
    threadpoolctl = None


# ---- the bare engine ------------------------------------------------------------------------

_clock = itertools.count()


class BareTensor:
    __slots__ = ("data", "grad", "op", "inputs", "requires_grad", "tick")

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self.data, self.grad, self.op, self.requires_grad = data, None, None, requires_grad


def apply(op: Any, *inputs: BareTensor) -> BareTensor:
    out = BareTensor(op.forward(*[t.data for t in inputs]))
    if any(t.requires_grad for t in inputs):
        out.op, out.inputs, out.requires_grad, out.tick = op, inputs, True, next(_clock)
    return out


def backward(root: BareTensor) -> None:
    order, leaves, seen, queue = [], [], set(), [root]
    for t in queue:
        if t in seen or not t.requires_grad:
            continue
        seen.add(t)
        if t.op is None:
            leaves.append(t)
        else:
            order.append(t)
            queue.extend(t.inputs)
    order.sort(key=lambda t: t.tick, reverse=True)
    grads: dict[BareTensor, Any] = {root: np.float64(1.0)}
    for t in order:
        input_grads = t.op.backward(grads.pop(t), *[i.data for i in t.inputs])
        for i, g in zip(t.inputs, input_grads):
            if i.requires_grad:
                grads[i] = grads[i] + g if i in grads else g
    for leaf in leaves:
        leaf.grad = BareTensor(grads.pop(leaf))


class LinearOp:
    def __init__(self, needs_input_grad: bool) -> None:
        self.needs_input_grad = needs_input_grad  # False for the first layer: its input is data

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.dot(w, x)
        out += b
        return out

    def backward(self, g: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple:
        return (g @ w if self.needs_input_grad else None), g[:, None] * x, g


class SigmoidOp:
    def forward(self, a: np.ndarray) -> np.ndarray:
        e = np.negative(a)
        np.exp(e, out=e)
        e += 1.0
        # chainrule hands a rule its output; this engine does not, so the op keeps it
        self.out = np.reciprocal(e, out=e)
        return self.out

    def backward(self, g: np.ndarray, a: np.ndarray) -> tuple:
        slope = 1.0 - self.out
        slope *= self.out
        slope *= g
        return (slope,)


class CrossEntropyOp:
    def __init__(self, target: int) -> None:
        self.target = target

    def forward(self, z: np.ndarray) -> Any:
        shifted = z - np.maximum.reduce(z)
        p = np.exp(shifted)
        total = np.add.reduce(p)
        p /= total
        self.p = p
        return np.log(total) - shifted[self.target]

    def backward(self, g: Any, z: np.ndarray) -> tuple:
        p = self.p  # g is 1: the loss is the root (the floor assumes the same)
        p[self.target] -= 1.0
        return (p,)


class BareModule:
    def __call__(self, x: BareTensor) -> BareTensor:
        return self.forward(x)


class BareLinear(BareModule):
    def __init__(self, w: np.ndarray, b: np.ndarray) -> None:
        self.w, self.b = BareTensor(w.copy(), True), BareTensor(b.copy(), True)

    def forward(self, x: BareTensor) -> BareTensor:
        return apply(LinearOp(x.requires_grad), x, self.w, self.b)


class BareSigmoid(BareModule):
    def forward(self, x: BareTensor) -> BareTensor:
        return apply(SigmoidOp(), x)


class BareEngineTrainer(bt.Trainer):
    """The per-example loop on the bare engine: model(x), loss, backward, p.data -= lr * p.grad."""

    def __init__(self, work: bt.Workload) -> None:  # float64 only
        (W1, b1), (W2, b2) = work.weights
        linears = [BareLinear(W1, b1), BareLinear(W2, b2)]
        self.layers = [linears[0], BareSigmoid(), linears[1]]
        self.params = [t for layer in linears for t in (layer.w, layer.b)]
        self.lr = work.lr

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        layers, params, lr = self.layers, self.params, self.lr
        for x, y in data:
            h = x
            for layer in layers:
                h = layer(h)
            loss = apply(CrossEntropyOp(y), h)
            for p in params:
                p.grad = None
            backward(loss)
            for p in params:
                p.data -= lr * p.grad.data
            if losses is not None:
                losses.append(float(loss.data))

    def parameters(self) -> list[np.ndarray]:
        return [np.array(p.data, dtype=np.float64) for p in self.params]


# ---- measuring --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 steps, 5 repeats")
    args = parser.parse_args()
    steps, repeats = (bt.PE_EXAMPLES_QUICK, 5) if args.quick else (bt.PE_EXAMPLES, 7)
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(1, user_api="blas")

    work = bt.per_example_workload(steps)
    pairs = bt.batches(work, np.float64)
    engines = {
        "numpy (hand-written)": (lambda: bt.NumpyPerExample(work, np.float64), pairs),
        "bare engine": (lambda: BareEngineTrainer(work),
                        [(BareTensor(x), int(y)) for x, y in pairs]),
        "chainrule": (lambda: bt.ChainruleTrainer(work, np.float64), bt._chainrule_data(pairs)),
    }
    reference: tuple[list[float], list[np.ndarray]] | None = None
    for name, (make, data) in engines.items():  # agreement first, and a warm-up epoch
        losses: list[float] = []
        trainer = make()
        trainer.epoch(data, losses)
        params = trainer.parameters()
        if reference is None:
            reference = (losses, params)
            continue
        d_loss = max(abs(a - b) for a, b in zip(losses, reference[0]))
        d_param = bt.max_diff(params, reference[1])
        print(f"  {name:<22} max |loss diff| {d_loss:.1e}, max |param diff| {d_param:.1e} vs numpy")
        if d_loss > 1e-8 or d_param > 1e-8:
            raise SystemExit(f"{name} disagrees with the numpy floor")

    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(repeats):
        for name, (make, data) in engines.items():
            trainer = make()
            gc.collect()
            start = time.perf_counter()
            trainer.epoch(data)
            times[name].append(time.perf_counter() - start)
    base = times["numpy (hand-written)"]
    print(f"\nper-example SGD {'-'.join(map(str, bt.PE_SIZES))}, {steps:,} steps, {repeats} repeats "
          f"(BLAS on 1 thread{'' if threadpoolctl else ': threadpoolctl missing, not limited'}); ratios "
          "are medians of per-repeat ratios (engines run round-robin: drift cancels)")

    def ratio(a: list[float], b: list[float]) -> tuple[float, float, float]:
        paired = sorted(x / y for x, y in zip(a, b))
        return statistics.median(paired), paired[0], paired[-1]

    for name, values in times.items():
        t = statistics.median(values) / steps * 1e6
        if values is base:
            print(f"  {name:<22} {t:7.1f} µs/step      -")
            continue
        mid, low, high = ratio(values, base)
        print(f"  {name:<22} {t:7.1f} µs/step  {mid:5.2f}x numpy   (per repeat {low:.2f}x to {high:.2f}x)")
    print(f"  chainrule / bare engine: {ratio(times['chainrule'], times['bare engine'])[0]:.2f}x  "
          f"(the cost of chainrule's features on this loop); bare engine / numpy: "
          f"{ratio(times['bare engine'], base)[0]:.2f}x  (the cost of recording a graph at all)")
    try:  # instructions are steady where wall time is not (Linux only)
        from count_instructions import InstructionCounter

        counter = InstructionCounter()
    except (ImportError, OSError) as error:  # not Linux, or the counter is not readable
        print(f"  (no instruction counts: {error})")
        return
    print("  instructions per step (GC off):", end="")
    for name, (make, data) in engines.items():
        trainer, chunk = make(), data[:100]
        per_step = counter.per_call(lambda t=trainer, c=chunk: t.epoch(c), 3) / len(chunk)
        print(f"  {name} {per_step:,.0f}", end=";" if name != "chainrule" else "\n")


if __name__ == "__main__":
    main()
