"""Where chainrule's time goes in one epoch: a cProfile by where the code lives, and the op-rule split."""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .harness import make_engines
from .workloads import Workload, batches

ROOT = Path(__file__).resolve().parents[2]


def _category(filename: str, function: str) -> str:
    path = filename.replace("\\", "/")
    if "/autograd/ops/" in path:
        return "op rules: autograd/ops/* forward/backward (numpy + BLAS run inside)"
    if "/autograd/" in path:
        return "engine: autograd/tensors.py, engine.py, graph.py, grad_mode.py"
    if "/nn/" in path and "site-packages" not in path:
        return "nn: layers, module, functional, optim"
    if "/numpy/" in path:
        return "numpy Python-level wrappers (fromnumeric, shape_base, ...)"
    if path == "~" or filename.startswith("<"):
        return "built-in / C calls (np.* C functions, isinstance, dict ops, ...)"
    if "/benchmarks/" in path:
        return "benchmark loop"
    return "other Python"


def profile_chainrule(work: Workload, top: int = 20) -> None:
    engine = next(e for e in make_engines(work, ("float64",)) if e.kind == "chainrule")
    data = engine.prepare(batches(work, np.float64))
    engine.make(work).epoch(data[:5])  # warm-up
    trainer = engine.make(work)
    gc.collect()
    t0 = time.perf_counter()
    trainer.epoch(data)
    plain = time.perf_counter() - t0
    trainer = engine.make(work)
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    trainer.epoch(data)
    profiler.disable()
    stats = pstats.Stats(profiler)
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    start = text.find("ncalls")
    header = text[:start].strip().splitlines()
    print(f"  unprofiled epoch {plain:.3f} s; {header[0].strip() if header else ''}")
    for line in text[start:].rstrip().splitlines():
        print("  " + line.replace(str(ROOT) + "/", "").replace(sys.prefix, "<venv>"))
    totals: dict[str, float] = {}
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():
        name = _category(filename, function)
        totals[name] = totals.get(name, 0.0) + tottime
    whole = sum(totals.values())
    print(f"  tottime by where the code lives (profiled total {whole:.3f} s; cProfile inflates "
          f"Python-heavy parts):")
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"    {seconds:8.3f} s {seconds / whole:6.1%}  {name}")


def _op_classes() -> list[type]:
    from autograd.graph import Op

    found, stack = [], [Op]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def op_rule_split(work: Workload, floor_seconds: float | None) -> None:
    """Time spent inside op rules (Op.forward / Op.backward: the numpy and BLAS work) vs outside.

    Every Op subclass's forward and backward is wrapped, for this one epoch only, with a
    perf_counter pair (outermost call only, so a rule calling another op is counted
    once). Outside the rules is everything else: graph recording, the backward pass's
    bookkeeping, module calls, loss plumbing, the optimiser (including its numpy update).
    """
    engine = next(e for e in make_engines(work, ("float64",)) if e.kind == "chainrule")
    data = engine.prepare(batches(work, np.float64))
    clock = time.perf_counter
    per_rule: dict[str, list] = {}  # "linear.backward" -> [seconds, calls]
    depth = [0]

    def timed(fn: Callable, label: str) -> Callable:
        def wrapper(self: Any, *args: Any) -> Any:
            if depth[0]:
                return fn(self, *args)
            depth[0] = 1
            t0 = clock()
            try:
                return fn(self, *args)
            finally:
                entry = per_rule.setdefault(f"{self.name}.{label}", [0.0, 0])
                entry[0] += clock() - t0
                entry[1] += 1
                depth[0] = 0

        return wrapper

    patched = []
    for cls in _op_classes():
        for name in ("forward", "backward"):
            if name in cls.__dict__:
                patched.append((cls, name, cls.__dict__[name]))
                setattr(cls, name, timed(cls.__dict__[name], name))
    try:
        engine.make(work).epoch(data[:5])  # warm-up
        per_rule.clear()
        trainer = engine.make(work)
        gc.collect()
        t0 = clock()
        trainer.epoch(data)
        total = clock() - t0
    finally:
        for cls, name, fn in patched:
            setattr(cls, name, fn)
    steps = work.steps
    rules = sum(seconds for seconds, _ in per_rule.values())
    calls = sum(n for _, n in per_rule.values())
    outside = total - rules
    print(f"  op-rule split, chainrule float64, {work.key} (wrapped epoch {total:.3f} s, "
          f"{calls / steps:.0f} rule calls per step):")
    print("    " + ", ".join(f"{label} {seconds / steps * 1e6:.1f}" for label, (seconds, _) in
                             sorted(per_rule.items(), key=lambda kv: -kv[1][0])) + "  (µs/step)")
    print(f"    inside op rules (numpy + BLAS)  {rules / steps * 1e6:9.1f} µs/step  {rules / total:6.1%}")
    print(f"    outside op rules (Python)       {outside / steps * 1e6:9.1f} µs/step  {outside / total:6.1%}"
          f"   ({outside / calls * 1e6:.2f} µs per rule call)")
    if floor_seconds:
        print(f"    numpy floor, forward+loss+backward {floor_seconds / steps * 1e6:6.1f} µs/step"
              f"   -> chainrule's op rules take {rules / floor_seconds:.2f}x as long")
