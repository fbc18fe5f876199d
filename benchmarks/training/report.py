"""Printing a workload's results: the timing table, the phase split, the overhead per node, the goals."""

from __future__ import annotations

from .harness import PHASES, Result, key, median
from .workloads import Workload

NOISY = 1.25  # a row whose median is this much above its fastest repeat is flagged as noisy

GOAL_MINIBATCH = 1.2  # chainrule / numpy, minibatch
GOAL_PER_EXAMPLE = 2.0  # chainrule / numpy, per-example (and faster than torch)


def print_table(work: Workload, results: dict[str, Result]) -> None:
    steps = work.steps
    print(f"  {'engine':<22}{'dtype':<9}{'s/epoch':>9}{'min':>9}{'µs/step':>10}"
          f"{'s/1k steps':>11}{'vs numpy':>10}{'vs torch':>10}   note")
    by_kind = {(r.engine.kind, r.engine.dtype): r for r in results.values() if r.times}
    for r in results.values():
        e = r.engine
        if not r.times:
            print(f"  {e.name:<22}{e.dtype:<9}{'skipped':>9}   {r.error or e.note}")
            continue
        t = median(r.times)
        ratios = []
        for kind in ("numpy", "torch"):
            base = by_kind.get((kind, e.dtype))
            ratios.append(f"{t / median(base.times):9.2f}x" if base and base is not r else f"{'-':>10}")
        flag = f"NOISY (median {t / min(r.times):.1f}x min)" if noisy(r) else ""
        note = "; ".join(n for n in (flag, e.note, r.note) if n)
        print(f"  {e.name:<22}{e.dtype:<9}{t:9.3f}{min(r.times):9.3f}{t / steps * 1e6:10.1f}"
              f"{t / steps * 1e3:11.3f}{ratios[0]}{ratios[1]}   {note}")
    print(f"  (ratios are against the numpy / torch row of the same dtype; >1: slower; "
          f"{steps:,} steps per epoch)")
    # Engines run round-robin within a repeat, so each repeat's chainrule/numpy ratio compares
    # two runs made seconds apart: a drift in the machine's speed cancels out of it.
    for r in results.values():
        base = by_kind.get(("numpy", r.engine.dtype))
        if r.engine.kind != "chainrule" or base is None or len(r.times) != len(base.times):
            continue
        if len(r.times) < 2:
            continue
        paired = sorted(c / n for c, n in zip(r.times, base.times))
        print(f"  chainrule/numpy {r.engine.dtype} per repeat: median {median(paired):.2f}x, "
              f"{paired[0]:.2f}x to {paired[-1]:.2f}x over {len(paired)} repeats")


def noisy(r: Result) -> bool:
    return bool(r.times) and median(r.times) > NOISY * min(r.times)


def print_phases(work: Workload, results: dict[str, Result]) -> None:
    steps = work.steps
    print("  phase split, µs per step (median of instrumented epochs; numpy's 'loss' "
          "includes softmax, its zero_grad is nothing):")
    print(f"  {'engine':<22}{'dtype':<9}" + "".join(f"{p:>10}" for p in PHASES) + f"{'sum':>10}"
          f"{'/timed':>8}")
    for r in results.values():
        if not r.phases:
            continue
        values = [median(r.phases[p]) / steps * 1e6 for p in PHASES]
        ratio = sum(values) / (median(r.times) / steps * 1e6) if r.times else float("nan")
        flag = "   NOISY: disagrees with the timed median" if not 1 / NOISY <= ratio <= NOISY else ""
        print(f"  {r.engine.name:<22}{r.engine.dtype:<9}" + "".join(f"{v:10.1f}" for v in values)
              + f"{sum(values):10.1f}{ratio:7.2f}x{flag}")


def print_overhead(work: Workload, results: dict[str, Result], nodes: int) -> None:
    floor = next((r for r in results.values() if r.engine.kind == "numpy"
                  and r.engine.dtype == "float64" and r.times), None)
    if floor is None:
        return
    for kind in ("chainrule", "chainrule-manual"):
        r = next((r for r in results.values() if r.engine.kind == kind
                  and r.engine.dtype == "float64" and r.times), None)
        if r is None:
            continue
        extra = (median(r.times) - median(floor.times)) / work.steps
        print(f"  {r.engine.name} float64 above the numpy floor: {extra * 1e6:.1f} µs per step; "
              f"over its {nodes} graph nodes per step that is {extra / nodes * 1e6:.2f} µs per node "
              "(if it were all per-node overhead)")


def goal_line(label: str, ok: bool, detail: str) -> str:
    return f"  [{'PASS' if ok else 'FAIL'}] {label}: {detail}"


def goals(mb: dict[str, Result] | None, pe: dict[str, Result] | None) -> list[str]:
    shaky: list[str] = []

    def t(results: dict[str, Result], kind: str) -> float | None:
        r = next((r for r in results.values() if r.engine.kind == kind
                  and r.engine.dtype == "float64" and r.times), None)
        if r is not None and noisy(r):
            shaky.append(key(r.engine))
        return median(r.times) if r else None

    lines = []
    if mb is not None:
        c, n = t(mb, "chainrule"), t(mb, "numpy")
        if c and n:
            lines.append(goal_line(f"minibatch within {GOAL_MINIBATCH}x numpy", c / n <= GOAL_MINIBATCH,
                                   f"chainrule/numpy = {c / n:.2f}x (float64)"))
    if pe is not None:
        n, tt = t(pe, "numpy"), t(pe, "torch")
        for kind in ("chainrule", "chainrule-manual"):
            c = t(pe, kind)
            if not (c and n and tt):
                continue
            ok = c / n <= GOAL_PER_EXAMPLE and c < tt
            name = "" if kind == "chainrule" else " (manual-update row, for information)"
            lines.append(goal_line(
                f"per-example within {GOAL_PER_EXAMPLE}x numpy and faster than torch{name}", ok,
                f"chainrule/numpy = {c / n:.2f}x, chainrule/torch = {c / tt:.2f}x (float64)"))
        c, seed = t(pe, "chainrule"), t(pe, "seed")
        if c and seed and n:
            lines.append(f"  (context, not a goal: the 10-315 handout's own numpy code is "
                         f"{seed / n:.2f}x the floor; "
                         f"chainrule/handout code = {c / seed:.2f}x)")
    if shaky:
        lines.append(f"  (NOISY rows behind these verdicts: {', '.join(sorted(set(shaky)))}; the machine was "
                     "busy: rerun, or try --blas-threads 1)")
    return lines
