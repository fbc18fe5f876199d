"""Scalar autodiff overhead: chainrule 0-d Tensors vs micrograd, PyTorch and plain floats.

Run from the repository root::

    python benchmarks/bench_scalar.py            # full: 7 repeats (21 for the cheap graph (a))
    python benchmarks/bench_scalar.py --quick    # 3 repeats (9 for (a))
    python benchmarks/bench_scalar.py --profile  # also cProfile chainrule on graph (a)

Two workloads, the same Python code for every engine:

(a) a scalar MLP (4 -> 16 -> 16 -> 1, ReLU, squared error) on a batch of 14 samples:
    ~9,900 recorded op nodes (mul, add, relu, pow), 369 shared parameter leaves.
    Only ``+ * ** relu`` are used because micrograd's PyPI release (0.1.0) has no
    tanh/exp/sigmoid, and ``-`` / ``/`` are composite in micrograd (several nodes each),
    which would make the graphs differ between engines.
(b) a 100,000-deep chain ``x = x * 1.0001 + 0.0001`` (200,000 op nodes);
    d x_N / d x_0 = 1.0001 ** N.

Every engine's gradients are checked against each other (and (b) against the closed
form) before anything is timed, so the comparison is like for like. Timings are medians
over repeats; the engines run round-robin within each repeat so machine noise spreads
over all of them. ``gc.collect()`` runs before each repeat; the collector stays enabled
while timing (realistic). This is a script, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import platform
import pstats
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import code_fingerprint, load, version  # noqa: E402  (shared with the other benchmarks)

try:
    from micrograd.engine import Value
except ImportError:  # pragma: no cover - optional
    Value = None

try:
    import torch
except ImportError:  # pragma: no cover - optional
    torch = None

# micrograd's backward() builds its topological order recursively (build_topo), one Python
# frame per level of graph depth; raise the limit so graph (a) never trips it.
RECURSION_LIMIT = 100_000

LAYERS = (4, 16, 16, 1)
BATCH = 14
CHAIN_DEPTH = 100_000
A_REPEATS_FACTOR = 3  # graph (a) takes a fraction of a second: more repeats, a steadier median
CHAIN_MUL, CHAIN_ADD = 1.0001, 0.0001


# ---- the workloads: plain Python, generic over the number type ----------------------------


def make_problem(seed: int = 0) -> tuple[list, list, list]:
    """Weights ``[[(ws, b), ...] per layer]``, inputs and negated targets, as floats."""
    rng = random.Random(seed)
    layers = []
    for fan_in, fan_out in zip(LAYERS[:-1], LAYERS[1:]):
        scale = 1.0 / math.sqrt(fan_in)
        layers.append(
            [([rng.uniform(-scale, scale) for _ in range(fan_in)], rng.uniform(-0.1, 0.1))
             for _ in range(fan_out)]
        )
    xs = [[rng.uniform(-1.0, 1.0) for _ in range(LAYERS[0])] for _ in range(BATCH)]
    neg_ys = [-rng.uniform(-1.0, 1.0) for _ in range(BATCH)]
    return layers, xs, neg_ys


def mlp_loss(layers: list, xs: list, neg_ys: list, relu: Callable[[Any], Any]) -> Any:
    """sum over the batch of (mlp(x) - y)^2, written with + * ** relu only."""
    last = len(layers) - 1
    total = None
    for x, neg_y in zip(xs, neg_ys):
        h = x
        for i, layer in enumerate(layers):
            out = []
            for ws, b in layer:
                s = b
                for w, hi in zip(ws, h):
                    s = s + w * hi
                out.append(relu(s) if i < last else s)
            h = out
        loss = (h[0] + neg_y) ** 2
        total = loss if total is None else total + loss
    return total


def chain(x: Any, depth: int) -> Any:
    for _ in range(depth):
        x = x * CHAIN_MUL + CHAIN_ADD
    return x


def float_relu(x: float) -> float:
    return x if x > 0.0 else 0.0


def count_chainrule_nodes(root: Tensor) -> int:
    seen, stack = set(), [root]
    while stack:
        t = stack.pop()
        node = t.grad_fn
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(node.inputs)
    return len(seen)


# ---- engines: how each one makes leaves, runs backward and reports gradients ---------------


@dataclass
class Engine:
    name: str
    param: Callable[[float], Any] | None  # a leaf that requires grad
    const: Callable[[float], Any] | None  # a leaf that does not
    relu: Callable[[Any], Any] | None
    backward: Callable[[Any], None] | None  # None: forward only
    grad: Callable[[Any], float] | None
    note: str = ""
    available: bool = True


def make_engines() -> list[Engine]:
    engines = [
        Engine(
            "chainrule",
            param=lambda v: Tensor(v, requires_grad=True),
            const=lambda v: Tensor(v),
            relu=lambda t: t.relu(),
            backward=lambda r: r.backward(),
            grad=lambda p: p.grad.item(),
        )
    ]
    if Value is not None:
        engines.append(
            Engine(
                "micrograd",
                param=Value,
                const=Value,
                relu=lambda v: v.relu(),
                backward=lambda r: r.backward(),
                grad=lambda p: float(p.grad),
                note=f"recursive backward; sys.setrecursionlimit({RECURSION_LIMIT})",
            )
        )
    else:
        engines.append(Engine("micrograd", None, None, None, None, None,
                              note="not installed (pip install micrograd)", available=False))
    if torch is not None:
        engines.append(
            Engine(
                "torch",
                param=lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True),
                const=lambda v: torch.tensor(v, dtype=torch.float64),
                relu=lambda t: t.relu(),
                backward=lambda r: r.backward(),
                grad=lambda p: p.grad.item(),
                note="0-d float64 tensors, 1 thread",
            )
        )
    else:
        engines.append(Engine("torch", None, None, None, None, None,
                              note="not installed", available=False))
    engines.append(
        Engine("python floats", param=float, const=float, relu=float_relu, backward=None,
               grad=None, note="forward only: the floor")
    )
    return engines


# ---- timing ---------------------------------------------------------------------------------


@dataclass
class Timings:
    build: list[float] = field(default_factory=list)
    backward: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    error: str = ""


def mlp_leaves(engine: Engine, problem: tuple) -> tuple[list, list, list]:
    """Fresh leaves of graph (a) for one engine (made outside the timed region)."""
    layers_f, xs_f, neg_ys_f = problem
    layers = [[([engine.param(w) for w in ws], engine.param(b)) for ws, b in layer]
              for layer in layers_f]
    xs = [[engine.const(v) for v in x] for x in xs_f]
    neg_ys = [engine.const(v) for v in neg_ys_f]
    return layers, xs, neg_ys


def run_mlp_once(engine: Engine, problem: tuple) -> tuple[float, float, list[float]]:
    """Build and backpropagate graph (a) once with fresh leaves; (build s, backward s, grads)."""
    layers, xs, neg_ys = mlp_leaves(engine, problem)
    t0 = time.perf_counter()
    root = mlp_loss(layers, xs, neg_ys, engine.relu)
    t1 = time.perf_counter()
    if engine.backward is None:
        return t1 - t0, 0.0, []
    engine.backward(root)
    t2 = time.perf_counter()
    grads = [engine.grad(p) for layer in layers for ws, b in layer for p in (*ws, b)]
    return t1 - t0, t2 - t1, grads


def run_chain_once(engine: Engine, depth: int) -> tuple[float, float, list[float]]:
    x0 = engine.param(0.5)
    t0 = time.perf_counter()
    root = chain(x0, depth)
    t1 = time.perf_counter()
    if engine.backward is None:
        return t1 - t0, 0.0, []
    engine.backward(root)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, [engine.grad(x0)]


def in_big_thread(fn: Callable[[], Any], stack_bytes: int = 1 << 30) -> Any:
    """Run fn in a thread with a large C stack and a huge recursion limit (for micrograd)."""
    result: dict[str, Any] = {}

    def target() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(10_000_000)
        try:
            result["value"] = fn()
        except BaseException as error:  # noqa: BLE001 - reported, not swallowed
            result["error"] = f"{type(error).__name__}: {error}"[:200]
        finally:
            sys.setrecursionlimit(old)

    previous = threading.stack_size(stack_bytes)
    try:
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(previous)
    if "error" in result:
        raise RuntimeError(result["error"])
    return result["value"]


def measure(engines: list[Engine], run: Callable[[Engine], tuple], repeats: int,
            reference: list[float] | None, rtol: float) -> dict[str, Timings]:
    """One untimed warm-up that also checks the gradients, then round-robin timed repeats."""
    results = {e.name: Timings() for e in engines if e.available}
    live = [e for e in engines if e.available]
    grads_by_engine: dict[str, list[float]] = {}
    for engine in list(live):
        gc.collect()
        try:
            _, _, grads = run(engine)
        except Exception as error:  # noqa: BLE001
            results[engine.name].error = str(error)
            live.remove(engine)
            continue
        if grads:
            grads_by_engine[engine.name] = grads
    check_gradients(grads_by_engine, reference, rtol)
    for _ in range(repeats):
        for engine in live:
            gc.collect()
            build, backward, _ = run(engine)
            t = results[engine.name]
            t.build.append(build)
            t.backward.append(backward)
            t.total.append(build + backward)
    gc.collect()
    return results


def check_gradients(grads: dict[str, list[float]], reference: list[float] | None,
                    rtol: float) -> None:
    names = list(grads)
    base_name = names[0]
    base = np.array(grads[base_name])
    if reference is not None:
        ref = np.array(reference)
        err = np.max(np.abs(base - ref) / np.maximum(np.abs(ref), 1e-300))
        print(f"  gradient check: {base_name} vs closed form: max rel err {err:.1e}")
        assert np.allclose(base, ref, rtol=rtol, atol=0), (base_name, base[:3], ref[:3])
    for name in names[1:]:
        other = np.array(grads[name])
        assert other.shape == base.shape, (name, other.shape, base.shape)
        diff = np.max(np.abs(other - base))
        print(f"  gradient check: {name} vs {base_name}: {len(base)} gradients, "
              f"max abs diff {diff:.1e}")
        assert np.allclose(other, base, rtol=rtol, atol=1e-12), (name, other[:3], base[:3])
    shown = ", ".join(f"{n}={grads[n][0]:.12g}" for n in names)
    print(f"  first leaf's gradient: {shown}")


# ---- reporting ------------------------------------------------------------------------------


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:10.1f}" if values else f"{'-':>10}"


def print_table(results: dict[str, Timings], engines: list[Engine], nodes: int,
                forward_only: set[str]) -> None:
    print(f"  {'engine':<14}{'build ms':>10}{'backward ms':>13}{'total ms':>10}"
          f"{'min total':>11}{'nodes/s':>12}   note")
    for engine in engines:
        t = results.get(engine.name)
        if t is None or t.error or not t.total:
            reason = t.error if t is not None and t.error else engine.note
            print(f"  {engine.name:<14}{'skipped':>10}   {reason}")
            continue
        total = statistics.median(t.total)
        backward = f"{'-':>13}" if engine.name in forward_only else f"{ms(t.backward):>13}"
        print(f"  {engine.name:<14}{ms(t.build)}{backward}{ms(t.total)}"
              f"{min(t.total) * 1e3:11.1f}{nodes / total:12,.0f}   {engine.note}")
    base = results.get("chainrule")
    for other in ("micrograd", "torch"):
        t = results.get(other)
        if base is None or t is None or t.error or not t.total:
            continue
        ratios = [statistics.median(getattr(base, k)) / statistics.median(getattr(t, k))
                  for k in ("build", "backward", "total")]
        print(f"  chainrule/{other:<10} build {ratios[0]:6.2f}x   backward {ratios[1]:6.2f}x"
              f"   total {ratios[2]:6.2f}x   (>1: chainrule slower)")
        # The engines run back to back within a repeat, so a repeat's own ratio cancels
        # the machine's drift; their spread shows how far one run can be trusted.
        paired = sorted(b / o for b, o in zip(base.total, t.total))
        if len(paired) > 1:
            print(f"  {'':<20} total per repeat: median {statistics.median(paired):.2f}x, "
                  f"{paired[0]:.2f}x to {paired[-1]:.2f}x over {len(paired)} repeats, "
                  f"chainrule faster in {sum(r < 1 for r in paired)}")


def versions() -> None:
    print(f"python {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.platform()}, {platform.machine()}")
    print(f"numpy {np.__version__}; chainrule {version('chainrule')}; "
          f"micrograd {version('micrograd')}; torch {torch.__version__ if torch else 'not installed'}"
          + (f" (threads={torch.get_num_threads()})" if torch else ""))
    print(f"chainrule code: {code_fingerprint()}")
    print(f"perf_counter resolution {time.get_clock_info('perf_counter').resolution:.0e} s; "
          f"gc enabled during timing: {gc.isenabled()}; {load()}")


def profile_chainrule(problem: tuple, top: int = 15) -> None:
    engine = make_engines()[0]
    run_mlp_once(engine, problem)  # warm-up
    layers, xs, neg_ys = mlp_leaves(engine, problem)
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    mlp_loss(layers, xs, neg_ys, engine.relu).backward()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    start = text.find("ncalls")
    header = text[:start].strip().splitlines()
    print(f"  {header[0].strip() if header else ''}")
    for line in text[start:].rstrip().splitlines():
        print("  " + line.replace("/work/main/", "").replace(sys.prefix, "<venv>"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    parser.add_argument("--repeats", type=int, help="override the number of timed repeats")
    parser.add_argument("--depth", type=int, default=CHAIN_DEPTH, help="chain depth for (b)")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of chainrule build+backward on graph (a)")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    if torch is not None:
        torch.set_num_threads(1)
    engines = make_engines()
    forward_only = {e.name for e in engines if e.backward is None}

    print("=" * 100)
    print(f"chainrule scalar benchmark: medians over {repeats} repeats"
          f"{' (--quick)' if args.quick else ''}, wall-clock time.perf_counter")
    versions()
    fingerprint = code_fingerprint()
    print("=" * 100)

    # (a)
    problem = make_problem()
    probe_leaves = [[([Tensor(w, requires_grad=True) for w in ws], Tensor(b, requires_grad=True))
                     for ws, b in layer] for layer in problem[0]]
    probe = mlp_loss(probe_leaves, [[Tensor(v) for v in x] for x in problem[1]],
                     [Tensor(v) for v in problem[2]], lambda t: t.relu())
    nodes = count_chainrule_nodes(probe)
    n_params = sum(len(ws) + 1 for layer in problem[0] for ws, _ in layer)
    del probe, probe_leaves
    print(f"\n(a) scalar MLP {'-'.join(map(str, LAYERS))} (ReLU, squared error), batch {BATCH}: "
          f"{nodes:,} op nodes (mul/add/relu/pow), {n_params} parameter leaves; "
          f"{A_REPEATS_FACTOR * repeats} repeats (it is cheap)")
    results = measure(engines, lambda e: run_mlp_once(e, problem), A_REPEATS_FACTOR * repeats, None,
                      rtol=1e-9)
    print_table(results, engines, nodes, forward_only)

    # (b)
    depth = args.depth
    chain_nodes = 2 * depth
    print(f"\n(b) chain x = x*{CHAIN_MUL} + {CHAIN_ADD}, depth {depth:,}: {chain_nodes:,} op nodes; "
          f"micrograd runs in a thread with a 1 GiB stack and recursion limit 10,000,000")

    def run_chain(engine: Engine) -> tuple:
        if engine.name == "micrograd":
            return in_big_thread(lambda: run_chain_once(engine, depth))
        return run_chain_once(engine, depth)

    # with the default recursion limit (1000) micrograd's backward raises RecursionError here
    chain_engines = [
        replace(e, note="recursive backward; big-stack thread, raised limit")
        if e.name == "micrograd" and e.available else e
        for e in engines
    ]
    results = measure(chain_engines, run_chain, repeats, [CHAIN_MUL ** depth], rtol=1e-9)
    print_table(results, chain_engines, chain_nodes, forward_only)

    if code_fingerprint() != fingerprint:
        print(f"\nWARNING: autograd/ or nn/ changed during the run (now {code_fingerprint()}); "
              "the numbers may mix two versions of the engine")

    if args.profile:
        print(f"\ncProfile of chainrule build+backward on graph (a) ({nodes:,} nodes), "
              "top 15 by tottime (profiling adds overhead):")
        profile_chainrule(problem)


if __name__ == "__main__":
    main()
