"""A tanh RNN trained by backpropagation through time: compiled chainrule vs hand-written numpy.

Run from the repository root::

    python benchmarks/bench_rnn.py                # 11 round-robin repeats of 40 steps, batch 1 and 64
    python benchmarks/bench_rnn.py --repeats 3 --steps 20   # quicker
    python benchmarks/bench_rnn.py --profile      # also time each part of the floor and the compiled paths
    #   --batch 1|64 (one workload only)

The workload (issue 13, "tanh RNN BPTT, T=50, batch 1 / batch 64"): a vanilla (Elman) RNN,
input 32, hidden 64, output 10, float64,

    h_1 = tanh(x_1 W_xhᵀ + b_h)                       (h_0 = 0, so the first step has no W_hh term)
    h_t = tanh(x_t W_xhᵀ + h_{t-1} W_hhᵀ + b_h),  t = 2 .. 50
    z   = h_50 W_hyᵀ + b_y                             (one linear readout, on the last hidden state)
    loss = mean over the batch of softmax cross-entropy(z, label)

trained with plain SGD (lr 0.05), one batch of sequences per step: inputs (T, N, 32) with
N = 1 or 64 (the batch axis stays even for N = 1, so every engine runs the same code for both),
one class label per sequence. The data is synthetic: standard-normal inputs, uniform labels.

Engines, all from the same initial weights (U[-1/√64, 1/√64], copied):

* **numpy BPTT (the floor)**: the forward loop stores every hidden state; the backward loop
  runs through time from the last step, accumulating the weight gradients at each step
  (``gW_xh += daᵀ x_t``, as min-char-rnn and course BPTT code write it); the update is in place.
* numpy BPTT, batched over time (context, not the floor): the input projection of all 50
  steps in one matmul before the loop, and the weight gradients in one matmul each after it
  (``gW_xh = Σ_t da_tᵀ x_t`` as one (64, 50N) @ (50N, 32) product). This is an algorithmic
  change no per-op compiler makes; it shows how far below the floor numpy can go.
* eager chainrule: an ``nn.Module`` whose forward takes the sequence and runs each step in
  ``autograd.scope(f"t={t}")`` (``autograd.linear`` and ``tanh``, an ``nn.Linear`` readout),
  ``F.cross_entropy``, ``opt.zero_grad()``, ``loss.backward()``, ``opt.step()`` (``nn.optim.SGD``);
* ``autograd.compile`` of the loss function + the same ``nn.optim.SGD`` loop;
* ``nn.compile_step(model, F.cross_entropy, opt)``: forward, backward and update in one function;
* PyTorch on the CPU, one thread: the same module written with ``torch.nn.functional.linear``,
  ``torch.tanh``, ``F.cross_entropy``, ``torch.optim.SGD`` (skipped if torch is not installed).

Before timing, every engine trains 5 steps from the initial weights; its losses and
parameters must match the floor's to 1e-10 (absolute; float64), else the script stops; the
compiled engines are also compared bitwise with eager. Timing uses the harness of
``bench_compile.py`` (``Row``, ``measure``, ``report``): in each repeat every engine trains
``--steps`` steps from fresh weights, round-robin (machine drift is shared), ``gc.collect()``
first, the collector on while timing; each engine's ratio to the floor is taken per repeat and
the median printed. Compilation happens before timing and is reported apart. BLAS runs on one
thread (threadpoolctl, else the environment variables set before numpy loads), torch on one.

``--profile`` times, for each batch size, the compiled paths' parts on their own over the same
steps: the generated forward and backward functions called directly, the compiled call and
``loss.backward()`` around them, ``zero_grad`` + ``step``, and the fused step's generated
function against ``step(x, y)``; and the floor's forward and backward. This is a benchmark,
not a test.
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
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_compile as bc  # noqa: E402  (the round-robin harness: Row, measure, report)
import bench_training as bt  # noqa: E402  (load, numpy_blas, code_fingerprint, max_diff)
from machine import threadpoolctl, torch  # noqa: E402  (each None where not installed)

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import Tensor, compile, scope  # noqa: E402
from nn import functional as F  # noqa: E402

torch_F = torch.nn.functional if torch is not None else None

INPUT, HIDDEN, OUTPUT = 32, 64, 10
STEPS_T = 50  # time steps per sequence
LR = 0.05
BATCHES = (1, 64)
CHECK_STEPS = 5
TOLERANCE = 1e-10  # vs the floor, absolute, float64 (losses and parameters)
GOALS = {1: 1.20, 64: 1.12}  # compiled / floor, issue 13
PARAMETERS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")  # the common layout of parameters()


# ---- the problem ------------------------------------------------------------------------------


@dataclass
class Problem:
    batch: int
    weights: list[np.ndarray]  # [W_xh (H, I), W_hh (H, H), b_h (H,), W_hy (O, H), b_y (O,)], float64
    data: list[tuple[np.ndarray, np.ndarray]]  # per training step: X (T, N, I), labels (N,) int64


def make_problem(batch: int, steps: int, seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(HIDDEN)  # PyTorch's nn.RNN initialisation (and nn.Linear's for the readout)
    shapes = ((HIDDEN, INPUT), (HIDDEN, HIDDEN), (HIDDEN,), (OUTPUT, HIDDEN), (OUTPUT,))
    weights = [rng.uniform(-bound, bound, shape) for shape in shapes]
    data = [(rng.standard_normal((STEPS_T, batch, INPUT)), rng.integers(0, OUTPUT, batch))
            for _ in range(steps)]
    return Problem(batch, weights, data)


# ---- the floor, and the context row -------------------------------------------------------------


class NumpyBPTT:
    """The floor: forward storing the hidden states, backward through time, SGD in place."""

    def __init__(self, problem: Problem) -> None:
        self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y = (w.copy() for w in problem.weights)

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        forward, loss_grad, backward, update = self.forward, self.loss_grad, self.backward, self.update
        for X, y in data:
            hs, z = forward(X)
            loss, dz = loss_grad(z, y)
            update(backward(X, hs, dz))
            if losses is not None:
                losses.append(float(loss))

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """hs[t] = tanh(x_t W_xhᵀ + h_{t-1} W_hhᵀ + b_h) with h_0 = 0; z = h_T W_hyᵀ + b_y."""
        W_xh, W_hh, b_h = self.W_xh, self.W_hh, self.b_h
        T, N = X.shape[:2]
        hs = np.empty((T, N, HIDDEN))
        a = X[0] @ W_xh.T
        a += b_h
        np.tanh(a, out=hs[0])
        for t in range(1, T):
            a = X[t] @ W_xh.T
            a += hs[t - 1] @ W_hh.T
            a += b_h
            np.tanh(a, out=hs[t])
        z = hs[-1] @ self.W_hy.T
        z += self.b_y
        return hs, z

    def loss_grad(self, z: np.ndarray, y: np.ndarray) -> tuple[Any, np.ndarray]:
        """Mean softmax cross-entropy (log-sum-exp, max subtracted) and dz = (softmax - onehot) / N, in z."""
        N = len(y)
        rows = np.arange(N)
        z -= z.max(axis=1, keepdims=True)
        picked = z[rows, y]
        np.exp(z, out=z)
        total = z.sum(axis=1, keepdims=True)
        loss = np.log(total).mean() - picked.mean()
        z /= total
        z[rows, y] -= 1.0
        z /= N
        return loss, z

    def backward(self, X: np.ndarray, hs: np.ndarray, dz: np.ndarray) -> tuple[np.ndarray, ...]:
        """Through time from the last step, the weight gradients accumulated at each step."""
        W_hh = self.W_hh
        gW_hy = dz.T @ hs[-1]
        gb_y = dz.sum(axis=0)
        dh = dz @ self.W_hy
        gW_xh = np.zeros_like(self.W_xh)
        gW_hh = np.zeros_like(W_hh)
        gb_h = np.zeros_like(self.b_h)
        for t in range(len(X) - 1, -1, -1):
            h = hs[t]
            da = dh * (1.0 - h * h)  # through tanh
            gW_xh += da.T @ X[t]
            gb_h += da.sum(axis=0)
            if t:
                gW_hh += da.T @ hs[t - 1]
                dh = da @ W_hh
        return gW_xh, gW_hh, gb_h, gW_hy, gb_y

    def update(self, grads: tuple[np.ndarray, ...]) -> None:
        for w, g in zip((self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y), grads):
            w -= LR * g

    def parameters(self) -> list[np.ndarray]:
        return [w.copy() for w in (self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y)]


class NumpyBatchedBPTT(NumpyBPTT):
    """Context: the input projection before the loop, the weight gradients after it, one matmul each."""

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        T, N = X.shape[:2]
        A = (X.reshape(T * N, INPUT) @ self.W_xh.T).reshape(T, N, HIDDEN)
        A += self.b_h
        hs = np.empty((T, N, HIDDEN))
        np.tanh(A[0], out=hs[0])
        for t in range(1, T):
            a = hs[t - 1] @ self.W_hh.T
            a += A[t]
            np.tanh(a, out=hs[t])
        z = hs[-1] @ self.W_hy.T
        z += self.b_y
        return hs, z

    def backward(self, X: np.ndarray, hs: np.ndarray, dz: np.ndarray) -> tuple[np.ndarray, ...]:
        T, N = X.shape[:2]
        W_hh = self.W_hh
        gW_hy = dz.T @ hs[-1]
        gb_y = dz.sum(axis=0)
        dh = dz @ self.W_hy
        das = np.empty((T, N, HIDDEN))
        for t in range(T - 1, -1, -1):
            h = hs[t]
            da = np.multiply(dh, 1.0 - h * h, out=das[t])
            if t:
                dh = da @ W_hh
        flat_da = das.reshape(T * N, HIDDEN)
        gW_xh = flat_da.T @ X.reshape(T * N, INPUT)
        gW_hh = flat_da[N:].T @ hs[:-1].reshape((T - 1) * N, HIDDEN)
        gb_h = flat_da.sum(axis=0)
        return gW_xh, gW_hh, gb_h, gW_hy, gb_y


# ---- chainrule: eager, compile + the user's loop, compile_step --------------------------------


class TanhRNN(nn.Module):
    """h_t = tanh(x_t W_xhᵀ + h_{t-1} W_hhᵀ + b_h) over the sequence x (T, N, I); a linear readout of h_T."""

    def __init__(self, weights: list[np.ndarray]) -> None:
        super().__init__()
        W_xh, W_hh, b_h, W_hy, b_y = (w.copy() for w in weights)
        self.weight_xh = nn.Parameter(W_xh)
        self.weight_hh = nn.Parameter(W_hh)
        self.bias_h = nn.Parameter(b_h)
        self.readout = nn.Linear(HIDDEN, OUTPUT)
        self.readout.weight.data = W_hy
        self.readout.bias.data = b_y

    def forward(self, x: Any) -> Tensor:
        h = None
        for t in range(x.shape[0]):
            with scope(f"t={t + 1}"):
                a = autograd.linear(x[t], self.weight_xh, self.bias_h)
                if h is not None:  # h_0 = 0: no W_hh term at the first step
                    a = a + autograd.linear(h, self.weight_hh)
                h = a.tanh()
        return self.readout(h)

    def flat_parameters(self) -> list[Any]:
        return [self.weight_xh, self.weight_hh, self.bias_h, self.readout.weight, self.readout.bias]


class EagerTrainer:
    """The model above, ``F.cross_entropy``, ``nn.optim.SGD``: zero_grad, backward, step."""

    def __init__(self, problem: Problem) -> None:
        self.model = model = TanhRNN(problem.weights)
        self.opt = nn.optim.SGD(model.flat_parameters(), lr=LR)
        self.loss_fn = lambda x, y: F.cross_entropy(model(x), y)

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        loss_fn, opt = self.loss_fn, self.opt
        for x, y in data:
            loss = loss_fn(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if losses is not None:
                losses.append(loss.item())

    def parameters(self) -> list[np.ndarray]:
        return [np.array(p.data, dtype=np.float64) for p in self.model.flat_parameters()]


class CompiledTrainer(EagerTrainer):
    """``autograd.compile`` of the same loss function; the same ``nn.optim.SGD`` loop around it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.loss_fn = compile(self.loss_fn)

    def warm(self, data: list) -> None:
        self.loss_fn(*data[0])  # compile before timing (every batch has the same signature)

    @property
    def compile_seconds(self) -> float:
        return self.loss_fn.last.compile_seconds


class StepTrainer(EagerTrainer):
    """``nn.compile_step(model, F.cross_entropy, opt)``: one generated function per step."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.step = nn.compile_step(self.model, F.cross_entropy, self.opt)

    def warm(self, data: list) -> None:
        self.step.prepare(*data[0])  # compiles, takes no step

    @property
    def compile_seconds(self) -> float:
        return self.step.last[0].compile_seconds

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        step = self.step
        if losses is None:
            for x, y in data:
                step(x, y)
        else:
            for x, y in data:
                losses.append(step(x, y))


# ---- PyTorch ----------------------------------------------------------------------------------


class TorchTrainer:
    """The same module in PyTorch (float64, one thread), ``torch.optim.SGD``."""

    def __init__(self, problem: Problem) -> None:
        self.params = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in problem.weights]
        self.opt = torch.optim.SGD(self.params, lr=LR)

    def epoch(self, data: list, losses: list[float] | None = None) -> None:
        W_xh, W_hh, b_h, W_hy, b_y = self.params
        linear, tanh, cross_entropy, opt = torch_F.linear, torch.tanh, torch_F.cross_entropy, self.opt
        for x, y in data:
            h = tanh(linear(x[0], W_xh, b_h))
            for t in range(1, x.shape[0]):
                h = tanh(linear(x[t], W_xh, b_h) + linear(h, W_hh))
            loss = cross_entropy(linear(h, W_hy, b_y), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if losses is not None:
                losses.append(loss.item())

    def parameters(self) -> list[np.ndarray]:
        return [p.detach().numpy().astype(np.float64) for p in self.params]


# ---- rows, checks, the summary ----------------------------------------------------------------


def rows_for(problem: Problem) -> list[bc.Row]:
    data = problem.data
    eager_data = [(Tensor(x), y) for x, y in data]  # inputs as Tensors made outside the timed loop
    rows = [
        bc.Row("numpy BPTT (the floor)", "float64", "floor", lambda: NumpyBPTT(problem), data),
        bc.Row("numpy BPTT batched over time (context)", "float64", "context",
               lambda: NumpyBatchedBPTT(problem), data),
        bc.Row("chainrule eager, nn.optim.SGD", "float64", "eager", lambda: EagerTrainer(problem),
               eager_data),
        bc.Row("compile + nn.optim.SGD loop", "float64", "compile", lambda: CompiledTrainer(problem), data),
        bc.Row("compile_step(SGD)", "float64", "compile_step", lambda: StepTrainer(problem), data),
    ]
    if torch is not None:
        torch_data = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in data]
        rows.append(bc.Row("torch (1 thread)", "float64", "torch", lambda: TorchTrainer(problem), torch_data))
    return rows


def check(problem: Problem, rows: list[bc.Row]) -> None:
    """Every engine trains CHECK_STEPS steps from the same weights: losses and parameters vs the floor."""
    results = {}
    for row in rows:
        trainer = row.make()
        if hasattr(trainer, "warm"):
            trainer.warm(row.data)
        losses: list[float] = []
        trainer.epoch(row.data[:CHECK_STEPS], losses)
        results[row.kind] = (losses, trainer.parameters())
    ref_losses, ref_params = results["floor"]
    for row in rows[1:]:
        losses, params = results[row.kind]
        d_loss = max(abs(a - b) for a, b in zip(losses, ref_losses))
        d_param = bt.max_diff(params, ref_params)
        note = ""
        if row.kind in ("compile", "compile_step"):
            eager_losses, eager_params = results["eager"]
            same = losses == eager_losses and all(map(np.array_equal, params, eager_params))
            note = ", bitwise equal to eager" if same else ", NOT bitwise equal to eager"
        print(f"  check {CHECK_STEPS} steps: {row.name:<40} |loss diff| {d_loss:.1e}, "
              f"|param diff| {d_param:.1e} (tol {TOLERANCE:.0e}){note}")
        if not d_loss <= TOLERANCE or not d_param <= TOLERANCE:
            raise SystemExit(f"batch {problem.batch}: {row.name} disagrees with the numpy floor")


def summary(results: dict[int, list[bc.Row]], steps: int) -> None:
    kinds = ("eager", "compile", "compile_step", "torch", "context")
    heads = ("eager", "compile+SGD", "compile_step", "torch", "numpy batched")
    print(f"\nSummary: tanh RNN BPTT, T={STEPS_T}, {INPUT}-{HIDDEN}-{OUTPUT}, float64, plain SGD; "
          f"median of per-repeat ratios to the floor ({steps} steps per repeat)")
    print(f"  {'batch':>5} {'floor µs/step':>14} " + " ".join(f"{h:>13}" for h in heads)
          + "   compile ms (compile / compile_step)")
    for batch, rows in results.items():
        by_kind = {row.kind: row for row in rows}
        floor = statistics.median(by_kind["floor"].times) / steps * 1e6
        cells = [f"{statistics.median(by_kind[k].ratios):12.2f}x" if k in by_kind else f"{'skipped':>13}"
                 for k in kinds]
        compiled = " / ".join(f"{by_kind[k].compile_seconds * 1e3:.0f}" for k in ("compile", "compile_step"))
        print(f"  {batch:>5} {floor:14.0f} " + " ".join(cells) + f"   {compiled}")
    print("  (numpy batched: context, not a goal; torch skipped when not installed)")
    print("\nGoals (issue 13: compiled within 1.20x of numpy BPTT at batch 1, 1.12x at batch 64)")
    for batch, rows in results.items():
        for row in rows:
            if row.kind in ("compile", "compile_step"):
                ratio, goal = statistics.median(row.ratios), GOALS.get(batch)
                if goal is not None:
                    verdict = "PASS" if ratio <= goal else "FAIL"
                    print(f"  batch {batch:>2}: {row.name:<30} {ratio:.2f}x  (goal {goal:.2f}x)  {verdict}")


# ---- profile: where the compiled paths' time goes ---------------------------------------------


def profile(problem: Problem, passes: int = 7) -> None:
    """Each part of the floor and of the compiled paths timed on its own, round-robin over passes.

    A part runs over all the steps' data in one pass; its median µs per step and its median
    per-pass ratio to the floor's whole step are printed. The generated functions are reached
    through ``loss_fn.last.program`` and ``step.last`` (the compiler's objects, not a public API:
    a part whose object is not there is left out).
    """
    data = problem.data
    parts: list[tuple[str, Any]] = []

    def add(label: str, fn: Any, inputs: list | None = None) -> None:
        def run() -> None:
            for args in inputs if inputs is not None else data:
                fn(*args)

        parts.append((label, run))

    floor = NumpyBPTT(problem)
    add("floor: whole step", lambda x, y: floor.epoch([(x, y)]))
    parted = NumpyBPTT(problem)  # its weights never change: forward and backward on fixed inputs
    add("floor: forward (stores hs)", lambda x, y: parted.forward(x))
    backward_inputs = []
    for x, y in data:
        hs, z = parted.forward(x)
        backward_inputs.append((x, hs, parted.loss_grad(z, y)[1]))
    add("floor: backward (BPTT loop)", parted.backward, backward_inputs)

    compiled = CompiledTrainer(problem)  # its parameters never change either
    compiled.warm(data)
    loss_fn, opt = compiled.loss_fn, compiled.opt
    program = getattr(loss_fn.last, "program", None)
    if hasattr(program, "forward") and hasattr(program, "backward"):
        fixed = [t.data for t in loss_fn.last.fixed]  # the parameters, in the generated function's order
        add("compile: generated forward alone", lambda x, y: program.forward(*fixed, x, y))
        seed = np.float64(1.0)
        saved = [(seed, program.forward(*fixed, x, y)[1]) for x, y in data]
        add("compile: generated backward alone", program.backward, saved)
    add("compile: loss_fn(x, y)", loss_fn)
    losses = [(loss_fn(x, y),) for x, y in data]

    def backward(loss: Tensor) -> None:
        opt.zero_grad()
        loss.backward(retain_graph=True)

    add("compile: zero_grad + loss.backward()", backward, losses)
    stepping = CompiledTrainer(problem)
    for p in stepping.model.flat_parameters():
        p.grad = Tensor(np.zeros_like(p.data))
    add("compile: opt.step() alone", lambda x, y: stepping.opt.step())
    whole = CompiledTrainer(problem)
    whole.warm(data)
    add("compile: whole step", lambda x, y: whole.epoch([(x, y)]))

    fused = StepTrainer(problem)
    fused.warm(data)
    entry, step_program = fused.step.last
    if hasattr(step_program, "step"):
        state, fixed_step = fused.opt.state, [t.data for t in entry.fixed]
        add("compile_step: generated function alone",
            lambda x, y: step_program.step(*fixed_step, x, y, state))
    fused_whole = StepTrainer(problem)
    fused_whole.warm(data)
    add("compile_step: step(x, y)", fused_whole.step)

    times: dict[str, list[float]] = {label: [] for label, _ in parts}
    ratios: dict[str, list[float]] = {label: [] for label, _ in parts}
    for _ in range(passes):
        for label, run in parts:
            gc.collect()
            start = time.perf_counter()
            run()
            times[label].append((time.perf_counter() - start) / len(data) * 1e6)
            ratios[label].append(times[label][-1] / times["floor: whole step"][-1])
    print(f"\nProfile, batch {problem.batch}: each part alone, µs per training step (median of {passes} "
          f"round-robin passes over {len(data)} steps) and its median ratio to the floor's whole step")
    for label, _ in parts:
        median, ratio = statistics.median(times[label]), statistics.median(ratios[label])
        print(f"  {label:<42} {median:9.1f} µs  {ratio:6.2f}x")


# ---- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11, help="round-robin repeats (default 11)")
    parser.add_argument("--steps", type=int, default=40, help="training steps per repeat (default 40)")
    parser.add_argument("--batch", type=int, choices=BATCHES, help="one batch size only")
    parser.add_argument("--profile", action="store_true", help="also time the compiled paths' parts")
    args = parser.parse_args()
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(1, user_api="blas")
    if torch is not None:
        torch.set_num_threads(1)
    fingerprint = bt.code_fingerprint()
    print(f"bench_rnn: tanh RNN BPTT, T={STEPS_T}, sizes {INPUT}-{HIDDEN}-{OUTPUT}, SGD lr {LR}, float64; "
          f"{args.steps} steps per repeat, medians over {args.repeats} round-robin repeats")
    about_torch = "not installed"
    if torch is not None:
        about_torch = f"{torch.__version__}, {torch.get_num_threads()} thread"
    print(f"BLAS {bt.numpy_blas()}; torch {about_torch}")
    print(f"chainrule code: {fingerprint}")
    print(f"{bt.load()} before timing")
    results: dict[int, list[bc.Row]] = {}
    for batch in (args.batch,) if args.batch else BATCHES:
        problem = make_problem(batch, max(args.steps, CHECK_STEPS))
        rows = rows_for(problem)
        print(f"\nbatch {batch}: inputs ({STEPS_T}, {batch}, {INPUT}), labels ({batch},)")
        check(problem, rows)
        for row in rows:
            row.data = row.data[: args.steps]
        bc.measure(rows, args.repeats)
        bc.report(f"batch {batch}, {args.steps} steps per repeat", rows, args.steps)
        results[batch] = rows
    print(f"\n{bt.load()} after timing")
    summary(results, args.steps)
    now = bt.code_fingerprint()
    if now.rsplit(" ", 1)[-1] != fingerprint.rsplit(" ", 1)[-1]:
        print(f"\nWARNING: autograd/ or nn/ changed during the run (now {now}); "
              "the numbers may mix two versions of the engine")
    if args.profile:
        for batch in results:
            profile(make_problem(batch, args.steps), args.repeats)


if __name__ == "__main__":
    main()
