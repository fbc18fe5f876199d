"""Compiled training loops: ``autograd.compiler.compile`` + the user's own update loop.

Run from the repository root::

    python benchmarks/bench_compile.py            # full: 9,000 per-example steps, 5 repeats (minibatch 20)
    python benchmarks/bench_compile.py --quick    # 2,000 per-example steps, 3 repeats (minibatch 12)
    #   --repeats N, --only per-example|minibatch|scalar

Three workloads (the first two are bench_training.py's, with its hand-written numpy floors):

(1) CMU 10-601 homework 5's per-example SGD (the OCR network, as in CMU 10-315 homework 2):
    128-50-10, sigmoid, softmax cross-entropy, plain SGD lr 0.1, one 1-d example per step,
    9,000 examples;
(2) CMU 11-785 homework 1's minibatch MLP 784-64-64-32-10, sigmoid, batch 100, SGD momentum
    0.9, float64 and float32;
(3) a micrograd-style scalar MLP 4-16-16-1 (ReLU, squared error, 14 samples: bench_scalar.py's
    graph (a), ~9,900 nodes of 0-d tensors), 20 steps of gradient descent.

Engines: the floor (hand-written numpy; for (3) micrograd, if ``pip install micrograd``),
eager chainrule, ``compile`` + the user's update loop (``p.data -= lr * p.grad.data`` or
an ``nn.optim`` optimiser), ``compile_step`` (forward, backward and the optimiser's update
fused in one generated function), and PyTorch on the CPU (one thread) where installed. BLAS runs
on one thread (threadpoolctl, else the environment variables, set before numpy loads).

Every engine is first checked against the floor (losses and parameters, 1e-8 in float64,
1e-3 in float32; compiled against eager bitwise); a mismatch stops the script. Timings are
medians over repeats in which the engines run round-robin (so machine drift is shared);
each engine's ratio to the floor is taken per repeat and its median printed. The
collector stays on while timing. Compilation happens before timing and is reported apart.
This is a benchmark, not a test.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads: one BLAS thread, as torch gets one

import argparse  # noqa: E402
import gc  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scalar as bs  # noqa: E402
import bench_training as bt  # noqa: E402
from machine import threadpoolctl, torch  # noqa: E402  (each None where not installed)

from autograd import Tensor  # noqa: E402
from autograd.compiler import compile  # noqa: E402
from autograd.compiler.step import compile_step  # noqa: E402
from nn import functional as F  # noqa: E402

try:
    from micrograd.engine import Value
except ImportError:  # pragma: no cover - optional
    Value = None


# ---- the compiled engine: the user's loop around a compiled loss function ------------------


class CompiledTrainer(bt.ChainruleTrainer):
    """``nn.MLP``; the loss function compiled; the user's update loop (manual or an optimiser)."""

    def __init__(self, work: bt.Workload, dtype: Any, manual: bool = False) -> None:
        super().__init__(work, dtype, manual)
        model = self.model
        self.loss_fn = compile(lambda x, y: F.cross_entropy(model(x), y))

    def warm(self, data: list) -> None:
        """Compile before timing: one call per signature the epoch will meet (a short last batch too)."""
        seen = set()
        for x, y in data:
            key = (np.shape(x), np.shape(y))
            if key not in seen:
                seen.add(key)
                self.loss_fn(x, y)

    @property
    def compile_seconds(self) -> float:
        return self.loss_fn.last.compile_seconds

    def step_loss(self, x: Any, y: Any) -> Any:
        """The compiled loss, run by the eager trainer's own loop (bench_training's ``epoch``)."""
        return self.loss_fn(x, y)


class StepTrainer(bt.CompiledStepLoop, bt.ChainruleTrainer):
    """``nn.MLP``, ``F.cross_entropy`` and ``nn.optim.SGD`` fused by ``compile_step``."""

    def __init__(self, work: bt.Workload, dtype: Any) -> None:
        super().__init__(work, dtype)
        self.step = compile_step(self.model, F.cross_entropy, self.opt)

    def warm(self, data: list) -> None:
        for x, y in data:
            self.step.prepare(x, y)  # (compiles each signature once, takes no step)


@dataclass
class Row:
    name: str
    dtype: str
    kind: str  # "floor", "eager", "compiled", "torch"
    make: Callable[[], Any]
    data: list
    times: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    compile_seconds: float | None = None


def training_rows(work: bt.Workload, dtypes: tuple[str, ...]) -> list[Row]:
    rows = []
    per_example = work.batch is None
    for dtype in dtypes:
        d = np.dtype(dtype)
        pairs = bt.batches(work, d)
        floor = bt.NumpyPerExample if per_example else bt.NumpyMinibatch
        rows.append(Row("numpy (hand-written)", dtype, "floor", lambda c=floor, d=d: c(work, d), pairs))
        optimiser = "nn.optim.SGD" + ("" if per_example else "(momentum=0.9)")
        rows.append(Row(f"chainrule eager, {optimiser}", dtype, "eager",
                        lambda d=d: bt.ChainruleTrainer(work, d), bt._chainrule_data(pairs)))
        if per_example:
            rows.append(Row("chainrule eager, p.data -= lr * p.grad.data", dtype, "eager",
                            lambda d=d: bt.ChainruleTrainer(work, d, manual=True), bt._chainrule_data(pairs)))
            rows.append(Row("compile + p.data -= lr * p.grad.data", dtype, "compiled",
                            lambda d=d: CompiledTrainer(work, d, manual=True), pairs))
        rows.append(Row(f"compile + {optimiser}", dtype, "compiled",
                        lambda d=d: CompiledTrainer(work, d), pairs))
        rows.append(Row(f"compile_step({optimiser.replace('nn.optim.', '')})", dtype, "compiled",
                        lambda d=d: StepTrainer(work, d), pairs))
        if torch is not None:
            t = getattr(torch, dtype)
            rows.append(Row("torch (1 thread)", dtype, "torch", lambda t=t: bt.TorchTrainer(work, t),
                            bt._torch_data(pairs)))
    return rows


def check(work: bt.Workload, rows: list[Row], steps: int) -> None:
    """Every engine against the floor of its dtype (and compiled against eager, bitwise)."""
    reference: dict[str, tuple[list[float], list[np.ndarray]]] = {}
    eager: dict[str, tuple[list[float], list[np.ndarray]]] = {}
    for row in rows:
        trainer = row.make()
        if hasattr(trainer, "warm"):
            trainer.warm(row.data[:steps])
        losses: list[float] = []
        trainer.epoch(row.data[:steps], losses)
        params = trainer.parameters()
        if row.kind == "floor":
            reference[row.dtype] = (losses, params)
            continue
        ref_losses, ref_params = reference.get("float64", reference[row.dtype])
        tol = bt.TOLERANCE[row.dtype]
        d_loss = max(abs(a - b) for a, b in zip(losses, ref_losses))
        d_param = bt.max_diff(params, ref_params)
        note = ""
        if row.kind == "eager" and "optim" in row.name:
            eager[row.dtype] = (losses, params)
        if row.kind == "compiled" and row.dtype in eager and ("optim" in row.name or "step" in row.name):
            same = losses == eager[row.dtype][0] and all(
                np.array_equal(a, b) for a, b in zip(params, eager[row.dtype][1]))
            note = ", bitwise equal to eager" if same else ", NOT bitwise equal to eager"
        print(f"  check {steps} steps: {row.name} {row.dtype}: |loss diff| {d_loss:.1e}, "
              f"|param diff| {d_param:.1e} (tol {tol:.0e}){note}")
        if d_loss > tol or d_param > tol:
            raise SystemExit(f"{work.key}: {row.name} {row.dtype} disagrees with the floor")


def measure(rows: list[Row], repeats: int) -> None:
    for _ in range(repeats):
        floor_time: dict[str, float] = {}
        for row in rows:
            trainer = row.make()
            if hasattr(trainer, "warm"):
                trainer.warm(row.data)
                row.compile_seconds = trainer.compile_seconds
            gc.collect()
            start = time.perf_counter()
            trainer.epoch(row.data)
            seconds = time.perf_counter() - start
            row.times.append(seconds)
            if row.kind == "floor":
                floor_time[row.dtype] = seconds
            row.ratios.append(seconds / floor_time[row.dtype])
            del trainer


def report(title: str, rows: list[Row], steps: int) -> None:
    print(f"\n{title}")
    print(f"  {'engine':<46} {'dtype':<8} {'s/epoch':>8} {'min':>8} {'µs/step':>8} "
          f"{'÷ floor':>8}  per-repeat range   compile")
    for row in rows:
        med, low = statistics.median(row.times), min(row.times)
        ratio = statistics.median(row.ratios)
        spread = f"{min(row.ratios):.2f}-{max(row.ratios):.2f}"
        compiled = f"{row.compile_seconds * 1e3:.1f} ms" if row.compile_seconds is not None else ""
        print(f"  {row.name:<46} {row.dtype:<8} {med:8.3f} {low:8.3f} {med / steps * 1e6:8.1f} "
              f"{ratio:7.2f}x  {spread:<17} {compiled}")


# ---- (3) the scalar MLP -----------------------------------------------------------------


def scalar_engines() -> dict[str, Callable[[], Callable[[], list[float]]]]:
    layers, xs, neg_ys = bs.make_problem(0)
    lr = 0.01

    def chainrule(compiled: bool) -> Callable[[], list[float]]:
        params = [[([Tensor(w, requires_grad=True) for w in ws], Tensor(b, requires_grad=True))
                   for ws, b in layer] for layer in layers]
        X = [[Tensor(v) for v in x] for x in xs]
        Y = [Tensor(v) for v in neg_ys]
        flat = [p for layer in params for ws, b in layer for p in (*ws, b)]
        loss_fn = lambda: bs.mlp_loss(params, X, Y, lambda t: t.relu())  # noqa: E731
        if compiled:
            loss_fn = compile(loss_fn)
            loss_fn()  # compile before timing
            chainrule.compile_seconds = loss_fn.last.compile_seconds

        def train() -> list[float]:
            for _ in range(20):
                loss = loss_fn()
                loss.backward()
                for p in flat:
                    p.data -= lr * p.grad.data
                    p.grad = None
            return [p.item() for p in flat]

        return train

    def micrograd() -> Callable[[], list[float]]:
        params = [[([Value(w) for w in ws], Value(b)) for ws, b in layer] for layer in layers]
        X = [[Value(v) for v in x] for x in xs]
        Y = [Value(v) for v in neg_ys]
        flat = [p for layer in params for ws, b in layer for p in (*ws, b)]

        def train() -> list[float]:
            for _ in range(20):
                loss = bs.mlp_loss(params, X, Y, lambda v: v.relu())
                for p in flat:
                    p.grad = 0.0
                loss.backward()
                for p in flat:
                    p.data -= lr * p.grad
            return [p.data for p in flat]

        return train

    engines: dict[str, Callable[[], Callable[[], list[float]]]] = {}
    if Value is not None:
        engines["micrograd"] = micrograd
    engines["chainrule eager"] = lambda: chainrule(False)
    engines["chainrule compile"] = lambda: chainrule(True)
    engines["_chainrule"] = chainrule  # (for the compile time)
    return engines


def run_scalar(repeats: int) -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), bs.RECURSION_LIMIT))  # micrograd recurses
    engines = scalar_engines()
    names = [n for n in engines if not n.startswith("_")]
    results = {}
    for name in names:  # check: the same parameters after 20 steps
        results[name] = engines[name]()()
    reference = results["chainrule eager"]
    for name in names:
        diff = max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(results[name], reference))
        print(f"  check 20 steps: {name}: max relative parameter difference to eager {diff:.1e}")
        if diff > 1e-9:
            raise SystemExit(f"scalar: {name} disagrees with eager")
    times: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(repeats):
        for name in names:
            train = engines[name]()
            gc.collect()
            start = time.perf_counter()
            train()
            times[name].append(time.perf_counter() - start)
    floor = "micrograd" if "micrograd" in names else "chainrule eager"
    print(f"\n(3) micrograd-style scalar MLP 4-16-16-1, 14 samples (~9,900 nodes), 20 GD steps; "
          f"floor: {floor}{'' if Value is not None else ' (micrograd not installed: pip install micrograd)'}")
    print(f"  {'engine':<24} {'s / 20 steps':>12} {'min':>8} {'÷ ' + floor:>20}")
    for name in names:
        ratios = [a / b for a, b in zip(times[name], times[floor])]
        print(f"  {name:<24} {statistics.median(times[name]):12.3f} {min(times[name]):8.3f} "
              f"{statistics.median(ratios):19.3f}x  (speed-up {1 / statistics.median(ratios):.0f}x)")
    print(f"  compile time (trace twice, analyse, generate, check): "
          f"{engines['_chainrule'].compile_seconds * 1e3:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--only", choices=("per-example", "minibatch", "scalar"))
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(1, user_api="blas")
    if torch is not None:
        torch.set_num_threads(1)
    print(f"bench_compile: medians over {repeats} round-robin repeats; BLAS {bt.numpy_blas()}; {bt.load()}")
    if args.only in (None, "per-example"):
        work = bt.per_example_workload(bt.PE_EXAMPLES_QUICK if args.quick else bt.PE_EXAMPLES)
        rows = training_rows(work, ("float64",))
        check(work, rows, 50)
        measure(rows, repeats)
        report(f"(1) {work.title}, {work.steps:,} steps", rows, work.steps)
    if args.only in (None, "minibatch"):
        work = bt.minibatch_workload("sigmoid")
        rows = training_rows(work, ("float64", "float32"))
        check(work, rows, 10)
        measure(rows, 4 * repeats)
        report(f"(2) {work.title}, {work.steps} steps", rows, work.steps)
    if args.only in (None, "scalar"):
        run_scalar(repeats)
    print(f"\n{bt.load()} after timing")


if __name__ == "__main__":
    main()
