"""Training-loop speed: chainrule vs hand-written numpy and PyTorch on the course documents' two networks.

Run from the repository root::

    python benchmarks/bench_training.py             # full: 5 repeats (20 minibatch), 9,000 per-example steps
    python benchmarks/bench_training.py --quick     # 3 repeats (12 minibatch), 2,000 per-example steps
    python benchmarks/bench_training.py --profile   # also cProfile chainrule on both workloads

Two workloads, each one epoch of (forward, loss, zero_grad, backward, step):

(1) the MLP of CMU 11-785 homework 1 (MyTorch), 784-64-64-32-10, sigmoid hidden
    activations (``--activation relu`` for ReLU), softmax cross-entropy (mean over the
    batch), batch 100, SGD lr 0.008 with momentum 0.9 (PyTorch's form b <- 0.9 b + g;
    p <- p - lr b), on 5,000 synthetic MNIST-shaped examples (784 values in [0, 1),
    10 classes): 50 steps.
(2) the per-example SGD of CMU 10-601 homework 5: 128-50-10, sigmoid hidden layer,
    softmax cross-entropy, plain SGD lr 0.1, batch size 1 (1-d input vectors), over
    9,000 synthetic binary 0/1 inputs once (2,000 with --quick).

Engines: hand-written numpy (the floor: explicit forward/backward formulas, in-place
updates; the goals are judged against it), for (2) also CMU 10-315 homework 2's own
procedural numpy code as the handout has students write it (context only), chainrule
(``nn.MLP``, ``nn.functional.cross_entropy``, ``nn.optim.SGD``) and PyTorch on the CPU with one
thread (``torch.nn.Sequential``, ``F.cross_entropy``, ``torch.optim.SGD``); float64 rows
and, for (1), float32 rows. Every engine starts from the same initial weights (PyTorch's
U[-1/sqrt(in), 1/sqrt(in)], copied) and sees the
same batches in the same order.

Before anything is timed, every engine trains 3 steps and then one full (untimed,
warm-up) epoch from the initial weights; per-step losses and final parameters must
match the numpy float64 engine to 1e-8 (float64 rows) or 1e-3 (float32 rows), else the
script stops. Timings are medians over repeats of one epoch; the engines run round-robin
within each repeat (each from freshly copied weights and a fresh optimiser, built outside
the timed region), ``gc.collect()`` runs before each, and the collector stays enabled
while timing. A second, instrumented pass splits each step into phases. This is a
script, not a test.

The pieces live in ``benchmarks/training/``: ``workloads.py`` (the two networks and their
data), ``trainers.py`` and ``numpy_trainers.py`` (each engine's loop), ``harness.py``
(checking and timing), ``report.py`` (the tables and goals), ``profiling.py``
(``--profile``); ``benchmarks/machine.py`` describes the machine (shared with the other
scripts). Every name they define stays importable from here (``bench_compile.py``,
``bench_rnn.py`` and ``count_instructions.py`` import them as ``bench_training.X``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when imported as benchmarks.bench_training

from machine import (  # noqa: E402, F401  (re-exported: the other scripts use bench_training.X)
    ROOT,
    code_fingerprint,
    environment,
    load,
    numpy_blas,
    threadpoolctl,
    version,
)
from training.harness import (  # noqa: E402, F401
    CHECK_STEPS,
    PHASES,
    TOLERANCE,
    Engine,
    Result,
    _chainrule_data,
    _numpy_data,
    _seed_data,
    _torch_data,
    check_agreement,
    count_nodes,
    key,
    make_engines,
    max_diff,
    measure,
    median,
    phased_epoch,
)
from training.numpy_trainers import NumpyMinibatch, NumpyPerExample, SeedProcedural, procedural  # noqa: E402, F401
from training.profiling import _category, _op_classes, op_rule_split, profile_chainrule  # noqa: E402, F401
from training.report import (  # noqa: E402, F401
    GOAL_MINIBATCH,
    GOAL_PER_EXAMPLE,
    NOISY,
    goal_line,
    goals,
    noisy,
    print_overhead,
    print_phases,
    print_table,
)
from training.trainers import (  # noqa: E402, F401
    ChainruleTrainer,
    CompiledStepLoop,
    TorchTrainer,
    Trainer,
    torch,
    torch_F,
)
from training.workloads import (  # noqa: E402, F401
    MB_BATCH,
    MB_EXAMPLES,
    MB_LR,
    MB_MOMENTUM,
    MB_SIZES,
    PE_EXAMPLES,
    PE_EXAMPLES_QUICK,
    PE_LR,
    PE_SIZES,
    Workload,
    batches,
    init_weights,
    minibatch_workload,
    per_example_workload,
)

MB_REPEATS_FACTOR = 4  # a minibatch epoch takes ~0.1 s: more repeats, a steadier median


def run_workload(work: Workload, dtypes: tuple[str, ...], repeats: int,
                 phase_repeats: int) -> dict[str, Result]:
    nodes = count_nodes(work)
    print(f"\n{work.title}")
    print(f"  {len(work.X):,} examples -> {work.steps:,} steps per epoch; chainrule records "
          f"{nodes} graph nodes per step")
    engines = make_engines(work, dtypes)
    results = measure(work, engines, repeats, phase_repeats)
    print(f"  {load()} after timing")
    print()
    print_table(work, results)
    print()
    print_phases(work, results)
    print_overhead(work, results, nodes)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"3 repeats, {PE_EXAMPLES_QUICK:,} per-example steps")
    parser.add_argument("--repeats", type=int, help="override the number of timed repeats")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of chainrule (float64) on both workloads")
    parser.add_argument("--activation", choices=("sigmoid", "relu"), default="sigmoid",
                        help="hidden activation of the minibatch MLP (default sigmoid)")
    parser.add_argument("--only", choices=("minibatch", "per-example"), help="run one workload")
    parser.add_argument("--blas-threads", type=int,
                        help="limit numpy's BLAS threads via threadpoolctl (default: leave as is)")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    phase_repeats = min(3, repeats)
    per_example_n = PE_EXAMPLES_QUICK if args.quick else PE_EXAMPLES

    limiter = None
    if args.blas_threads is not None:
        if threadpoolctl is None:
            raise SystemExit("--blas-threads needs threadpoolctl")
        limiter = threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas")
    if torch is not None:
        torch.set_num_threads(1)

    print("=" * 110)
    minibatch_note = ("" if args.only == "per-example"
                      else f" ({MB_REPEATS_FACTOR * repeats} for the short minibatch epoch)")
    print(f"chainrule training benchmark: medians over {repeats} repeats of one epoch{minibatch_note}"
          f"{' (--quick)' if args.quick else ''}, wall-clock time.perf_counter")
    environment()
    fingerprint = code_fingerprint()
    print("=" * 110)

    mb = pe = None
    if args.only in (None, "minibatch"):
        mb = run_workload(minibatch_workload(args.activation), ("float64", "float32"),
                          MB_REPEATS_FACTOR * repeats, phase_repeats)
    if args.only in (None, "per-example"):
        pe = run_workload(per_example_workload(per_example_n), ("float64",), repeats, phase_repeats)

    print("\nGoals")
    for line in goals(mb, pe):
        print(line)

    now = code_fingerprint()
    if now.rsplit(" ", 1)[-1] != fingerprint.rsplit(" ", 1)[-1]:  # the sources' hash, not git HEAD
        print(f"\nWARNING: autograd/ or nn/ changed during the run (now {now}); "
              "the numbers may mix two versions of the engine")

    if args.profile:
        runs = ([(minibatch_workload(args.activation), mb)] if mb is not None else []) + (
            [(per_example_workload(per_example_n), pe)] if pe is not None else [])
        for work, results in runs:
            floor = next((r for r in results.values() if r.engine.kind == "numpy"
                          and r.engine.dtype == "float64" and r.phases), None)
            floor_math = sum(median(floor.phases[p]) for p in ("forward", "loss", "backward")) \
                if floor else None
            print(f"\ncProfile of chainrule float64, one epoch of {work.key} ({work.steps:,} steps), "
                  f"top 20 by tottime (profiling adds overhead):")
            profile_chainrule(work)
            op_rule_split(work, floor_math)
    if limiter is not None:
        limiter.restore_original_limits()


if __name__ == "__main__":
    main()
