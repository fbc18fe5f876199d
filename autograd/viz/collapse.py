"""Collapsing large graphs: which nodes to draw in full, which to put into boxes.

When a drawing would have more than ``max_nodes`` nodes, the subgraph recorded inside
one ``autograd.scope(...)`` block (one RNN time step, one module call) becomes a single
labelled box, and if that is still too many, runs of boxes and operations in the middle
of the computation become one "⋯" box, keeping the start and the end (near the output)
in view. ``plan_collapse`` makes that plan; ``drawing.Drawer`` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograd.viz.graph import GraphView


@dataclass
class Box:
    """One node standing for many operations (a scope block, or a run of them)."""

    members: list[int]  # positions of the computed tensors inside
    title: str  # plain text; escaped when drawn
    path: tuple[str, ...]  # the cluster the box sits in
    blocks: int = 0  # for a run: how many scope blocks it merges


@dataclass
class Plan:
    """What to draw in full, what to put into boxes, and which leaves to fold away."""

    box_of: dict[int, int] = field(default_factory=dict)  # computed position -> box
    boxes: list[Box] = field(default_factory=list)
    absorbed: dict[int, int] = field(default_factory=dict)  # leaf position -> box hiding it
    folded: list[int] = field(default_factory=list)  # leaves drawn as one "⋯ more" node
    count: int = 0  # nodes drawn, not counting the legend


@dataclass
class Item:
    """A unit of the computation in forward order: one op, or one scope block."""

    members: list[int]
    prefix: tuple[str, ...] | None  # the scope labels of a block; None for a single op


def plan_collapse(view: GraphView, budget: int, use_scopes: bool = True) -> Plan:
    """Choose boxes so that at most ``budget`` nodes are drawn (when at all possible).

    1. Box scope blocks, from the innermost scopes outwards: the finest drawing that
       fits wins.
    2. If none fits, merge the middle of the computation into "⋯" boxes, keeping up
       to ``READABLE_ITEMS`` items (blocks or single ops) at the two ends, more of
       them near the output; as many as fit (a binary search on that number).
    3. Then draw the kept blocks nearest the output in full, while that still fits:
       a student sees what one time step or one module call is made of.
    4. If even the smallest plan is too big (very many leaves), fold leaves into one
       "⋯ more inputs" node, keeping parameters in view first.
    """
    computed = [view.position(t) for t in view.computed]
    leaves = [i for i in range(len(view)) if view.tensors[i].grad_fn is None]
    if 2 * len(computed) + len(leaves) <= budget:
        return Plan(count=2 * len(computed) + len(leaves))
    depth = max((len(view.tensors[i].grad_fn.scope or ()) for i in computed), default=0)
    if not use_scopes:
        depth = 0
    for level in range(depth, 0, -1):
        items = _items(view, computed, level)
        keep = [True] * len(items)
        plan = _plan_for(view, items, keep, leaves)
        if plan.count <= budget:
            return _expand_blocks(view, items, keep, leaves, plan, budget)
    items = _items(view, computed, 1 if depth else 0)
    root_items = _items_holding_roots(view, items)

    def keeping(k: int) -> list[bool]:
        tail = k - k // 3  # keep more near the output, where the loss is
        return [i < k // 3 or i >= len(items) - tail or i in root_items for i in range(len(items))]

    low, high = 0, min(len(items) - 1, READABLE_ITEMS)
    best_k, best = 0, _plan_for(view, items, keeping(0), leaves)
    while low < high:  # the largest k whose plan fits
        middle = (low + high + 1) // 2
        candidate = _plan_for(view, items, keeping(middle), leaves)
        if candidate.count <= budget:
            best_k, best, low = middle, candidate, middle
        else:
            high = middle - 1
    if best.count > budget:
        _fold_leaves(view, best, budget)
        return best
    return _expand_blocks(view, items, keeping(best_k), leaves, best, budget)


READABLE_ITEMS = 16  # blocks or ops kept at the two ends of a collapsed computation


def _expand_blocks(
    view: GraphView, items: list[Item], keep: list[bool], leaves: list[int], plan: Plan, budget: int
) -> Plan:
    """Draw kept blocks in full instead of as boxes, nearest the output first, while they fit."""
    expand: set[int] = set()
    for k in reversed(range(len(items))):
        if not keep[k] or items[k].prefix is None:
            continue
        candidate = _plan_for(view, items, keep, leaves, expand | {k})
        if candidate.count > budget:
            break
        expand.add(k)
        plan = candidate
    return plan


def _items(view: GraphView, computed: list[int], level: int) -> list[Item]:
    """Computed tensors in forward order, grouping neighbours that share a scope prefix.

    With ``level`` 0 every op is its own item.
    """
    items: list[Item] = []
    for position in computed:
        scope = view.tensors[position].grad_fn.scope or ()
        prefix = tuple(scope[:level]) if level and len(scope) >= level else None
        if prefix is not None and items and items[-1].prefix == prefix:
            items[-1].members.append(position)
        else:
            items.append(Item([position], prefix))
    return items


def _items_holding_roots(view: GraphView, items: list[Item]) -> set[int]:
    roots = {view.position(r) for r in view.roots}
    return {k for k, item in enumerate(items) if roots.intersection(item.members)}


def _plan_for(
    view: GraphView, items: list[Item], keep: list[bool], leaves: list[int], expand: set[int] = frozenset()
) -> Plan:
    """Kept blocks become boxes (or are drawn in full if in ``expand``), kept single ops
    are drawn in full, and each run of items that are not kept merges into one box."""
    plan = Plan()
    run: list[Item] = []

    def close_run() -> None:
        if not run:
            return
        members = [m for item in run for m in item.members]
        blocks = [item for item in run if item.prefix is not None]
        if blocks:
            title = f"⋯ {len(blocks):,} blocks: {blocks[0].prefix[-1]} … {blocks[-1].prefix[-1]}"
            if len(blocks) == 1:
                title = f"⋯ {blocks[0].prefix[-1]}"
        else:
            title = f"⋯ {len(members):,} operations"
        _add_box(plan, Box(members, title, (), blocks=len(blocks)))
        run.clear()

    expanded = 0
    for k, (item, kept) in enumerate(zip(items, keep)):
        if not kept:
            run.append(item)
            continue
        close_run()
        if item.prefix is None or k in expand:
            expanded += len(item.members)
        else:
            _add_box(plan, Box(list(item.members), item.prefix[-1], item.prefix[:-1]))
    close_run()
    visible = 0
    for leaf in leaves:
        homes = {plan.box_of.get(c) for c in view.consumers[leaf]}
        if len(homes) == 1 and None not in homes:
            plan.absorbed[leaf] = homes.pop()
        else:
            visible += 1
    plan.count = len(plan.boxes) + 2 * expanded + visible
    return plan


def _add_box(plan: Plan, box: Box) -> None:
    number = len(plan.boxes)
    plan.boxes.append(box)
    for member in box.members:
        plan.box_of[member] = number


def _fold_leaves(view: GraphView, plan: Plan, budget: int) -> None:
    """Fold leaves into one "⋯ more inputs" node, keeping parameters in view first."""
    visible = [
        i for i in range(len(view)) if view.tensors[i].grad_fn is None and i not in plan.absorbed
    ]
    visible.sort(key=lambda i: (not view.tensors[i].requires_grad, i))
    allowed = max(budget - (plan.count - len(visible)) - 1, 0)
    plan.folded = sorted(visible[allowed:])
    plan.count = plan.count - len(visible) + allowed + 1
