"""Data: datasets, a mini-batch loader, and the handouts' CSV format.

>>> import numpy as np
>>> from nn.data import TensorDataset, DataLoader
>>> data = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> [y.tolist() for _, y in DataLoader(data, batch_size=2)]
[[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Tensor


class DataError(ValueError):
    """A data file could not be read; the message names the file and the line."""


class TensorDataset:
    """Examples stored as arrays with a common first axis; item i is a tuple of rows i."""

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        self.arrays = [np.asarray(a.data if isinstance(a, Tensor) else a) for a in arrays]
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            raise ValueError(f"TensorDataset: arrays have different lengths {[len(a) for a in self.arrays]}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Iterate over a dataset in mini-batches of Tensors.

    Args:
        dataset: a ``TensorDataset`` (batched by one fancy-indexing per array) or any
            sequence of tuples (stacked per field).
        batch_size: examples per batch.
        shuffle: visit the examples in a new random order every epoch.
        drop_last: skip a last, smaller batch.
        generator: the ``numpy.random.Generator`` for shuffling (seed it to repeat runs).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | None = None,
    ) -> None:
        if batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be positive, not {batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator if generator is not None else np.random.default_rng()

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            index = order[start : start + self.batch_size]
            if self.drop_last and len(index) < self.batch_size:
                return
            if isinstance(self.dataset, TensorDataset):
                fields = self.dataset[index]
            else:
                rows = [self.dataset[int(i)] for i in index]
                fields = tuple(np.stack(column) for column in zip(*rows))
            yield tuple(Tensor(f) for f in fields)


def load_csv_classification(
    path: str | Path, num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read the handouts' format: one example per line, the integer label, then the features.

    Returns ``(features, labels)``: a float64 array (N, M) and an int64 array (N,).
    The number of features is whatever the file has (the tiny set has 5, the letters
    128), but every row must have the same.

    Raises:
        DataError: naming the file and line for an empty file, a ragged row, a value that
            is not a number, a label that is not a whole number or out of range.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error})") from None
    labels: list[int] = []
    rows: list[list[float]] = []
    width: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split(",")
        if width is None:
            width = len(cells)
            if width < 2:
                raise DataError(f"{path}:{number}: a row needs a label and at least one feature")
        elif len(cells) != width:
            raise DataError(f"{path}:{number}: {len(cells)} values, but earlier rows have {width}")
        try:
            values = [float(c) for c in cells]
        except ValueError:
            bad = next(c for c in cells if not _is_number(c))
            raise DataError(f"{path}:{number}: {bad.strip()!r} is not a number") from None
        if not all(math.isfinite(v) for v in values):
            raise DataError(f"{path}:{number}: values must be finite numbers")
        label = values[0]
        if label != int(label) or label < 0 or (num_classes is not None and label >= num_classes):
            valid = f"0..{num_classes - 1}" if num_classes else "a whole number >= 0"
            raise DataError(f"{path}:{number}: label {cells[0].strip()} is out of range ({valid})")
        labels.append(int(label))
        rows.append(values[1:])
    if not rows:
        raise DataError(f"{path}: the file is empty")
    return np.array(rows, dtype=np.float64), np.array(labels, dtype=np.int64)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


__all__ = ["DataError", "TensorDataset", "DataLoader", "load_csv_classification"]
