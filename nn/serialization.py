"""Saving and loading state dicts as ``.npz`` files (no pickle: safe to load from anyone).

>>> import tempfile, os, numpy as np
>>> from nn import Linear, save, load
>>> layer = Linear(3, 2, generator=np.random.default_rng(0))
>>> path = os.path.join(tempfile.mkdtemp(), "layer.npz")
>>> save(layer, path)
>>> sorted(load(path))
['bias', 'weight']
"""

from __future__ import annotations

import os
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np


def save(module_or_state: Any, path: str | Path) -> None:
    """Write a module's state dict (or a state dict) to ``path`` as ``.npz``, atomically."""
    state = module_or_state.state_dict() if hasattr(module_or_state, "state_dict") else module_or_state
    arrays = {key: np.asarray(value) for key, value in state.items()}
    for key, array in arrays.items():
        if array.dtype == object:
            raise TypeError(f"save: {key!r} is not a numeric array")
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".npz.tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load(path: str | Path) -> OrderedDict[str, np.ndarray]:
    """Read a state dict written by ``save`` (in the order it was saved)."""
    with np.load(path, allow_pickle=False) as archive:
        return OrderedDict((key, archive[key]) for key in archive.files)
