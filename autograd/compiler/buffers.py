"""Reused storage for a training step: the plain lines rewritten with ``out=`` buffers.

A compiled training step (``compile_step``) is one function, and nothing it computes is
kept after it returns but the loss (a float), the parameters and the optimiser's state,
which it updates in place. So its arrays can live in buffers allocated once per compiled
version and refilled at every call, and a buffer whose value is dead can hold a later
value of the same shape and dtype.

``lower`` takes the step's plain statements (what ``.source`` shows) and, for the ones whose
template has an ``out=`` form (``Template.forward_into``/``backward_into``: the same numpy
calls, so the same bits), writes that form into a buffer instead. A value is dead after the
last statement that reads it, directly or through a value that may share its memory (a
view: a reshape, a transpose, a kernel that returns its argument); the backward lines read
only what each op declares in ``backward_reads`` (checked by ``codegen``), so a forward value
that no later backward reads is dead as soon as the forward has used it. A value that leaves
the step (the model's output with ``return_output``, the gradients handed to an optimiser
that is not nn.optim's own) gets no buffer, nor does anything it may share memory with.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Block:
    """One statement (or the update section) of the step; ``write``: its ``out=`` form."""

    lines: list[str]
    name: str | None = None  # the value an out= form writes
    shape: tuple[int, ...] = ()
    dtype: Any = None
    write: Callable[[str], list[str]] | None = None
    reads: set[str] = field(default_factory=set)
    binds: set[str] = field(default_factory=set)


def _scan(block: Block) -> None:
    """The names a block reads, and those it binds to a (possibly shared) array."""
    tree = ast.parse(_dedent(block.lines))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            block.reads.add(node.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            block.reads.add(node.target.id)  # x += y reads x and changes it in place: no new binding
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for n in ast.walk(target):
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                        block.binds.add(n.id)


def _dedent(lines: list[str]) -> str:
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines)


def lower(blocks: list[Block], escaping: set[str],
          fresh: Callable[[str], str]) -> tuple[list[str], dict[str, Any]]:
    """The executed lines, and the buffers they use ({name: empty array}, allocated here)."""
    for block in blocks:
        _scan(block)
    last_use: dict[str, int] = {}
    for k, block in enumerate(blocks):
        for name in block.reads:
            last_use[name] = k
    buffered = {k for k, b in enumerate(blocks) if b.write is not None}
    while True:  # drop the candidates that may leave the step (each round can only drop more)
        shares: dict[str, set[int]] = {}  # value -> the candidates (block indices) whose memory it may hold
        for k, block in enumerate(blocks):
            if k in buffered:
                shares[block.name] = {k}
                continue
            held = set().union(*(shares.get(r, set()) for r in block.reads)) if block.reads else set()
            for name in block.binds:
                shares[name] = held
        leaving = set().union(*(shares.get(n, set()) for n in escaping)) if escaping else set()
        if not leaving & buffered:
            break
        buffered -= leaving
    end = {k: k for k in buffered}
    for name, held in shares.items():
        for k in held:
            end[k] = max(end[k], last_use.get(name, k))
    free: dict[tuple[Any, ...], list[tuple[str, int]]] = {}  # (shape, dtype) -> [(buffer, busy until)]
    buffers: dict[str, Any] = {}
    lines: list[str] = []
    for k, block in enumerate(blocks):
        if k not in buffered:
            lines += block.lines
            continue
        key = (tuple(block.shape), np.dtype(block.dtype))
        pool = free.setdefault(key, [])
        for i, (buffer, busy) in enumerate(pool):
            if busy < k:  # (the block that read it last has run: block k may overwrite it)
                pool[i] = (buffer, end[k])
                break
        else:
            buffer = fresh("buffer")
            buffers[buffer] = np.empty(key[0], dtype=key[1])
            pool.append((buffer, end[k]))
        lines += block.write(buffer)
    return lines, buffers
