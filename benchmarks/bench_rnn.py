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
The workload and the engines are in ``benchmarks/training/rnn.py``; this script checks, times
and reports them (every name defined there can still be imported from here).

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
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_compile as bc  # noqa: E402  (the round-robin harness: Row, measure, report)
import bench_training as bt  # noqa: E402  (load, numpy_blas, code_fingerprint, max_diff)
from machine import threadpoolctl, torch  # noqa: E402  (each None where not installed)
from training.rnn import (  # noqa: E402, F401  (re-exported: they were defined here before)
    BATCHES,
    HIDDEN,
    INPUT,
    LR,
    OUTPUT,
    PARAMETERS,
    STEPS_T,
    CompiledTrainer,
    EagerTrainer,
    NumpyBatchedBPTT,
    NumpyBPTT,
    Problem,
    StepTrainer,
    TanhRNN,
    TorchTrainer,
    make_problem,
    torch_F,
)

from autograd import Tensor  # noqa: E402

CHECK_STEPS = 5
TOLERANCE = 1e-10  # vs the floor, absolute, float64 (losses and parameters)
GOALS = {1: 1.20, 64: 1.12}  # compiled / floor, issue 13


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
