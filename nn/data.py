"""Data: datasets, a mini-batch loader, and the handouts' CSV format.

>>> import numpy as np
>>> from nn.data import TensorDataset, DataLoader
>>> data = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> [y.tolist() for _, y in DataLoader(data, batch_size=2)]
[[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import array
import math
import re
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


MAX_CSV_BYTES = 64 * 2**20
"""``load_csv_classification``'s default limit on a file's size (64 MiB; the handouts' largest is ~2.3 MB)."""

_CHUNK = 2**20  # read in pieces: a huge max_bytes allocates nothing up front
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines ends a line at
_LINES = re.compile(f"([^{_BREAKS}]*)(?:\r\n|[{_BREAKS}])?")  # one line (group 1), found lazily
_BREAK = re.compile(f"\r\n|[{_BREAKS}]")
_PIECE = 2**16  # characters of a line split into cells at a time
_SHOWN = 40  # characters of a bad cell quoted in a message


def load_csv_classification(
    path: str | Path, num_classes: int | None = None, *, max_bytes: int = MAX_CSV_BYTES
) -> tuple[np.ndarray, np.ndarray]:
    """Read the handouts' format: one example per line, the integer label, then the features.

    Returns ``(features, labels)``: a float64 array (N, M) and an int64 array (N,).
    The number of features is whatever the file has (the tiny set has 5, the letters
    128), but every row must have the same. The file must be UTF-8 text (ASCII is); a
    leading byte-order mark, as Excel writes, is skipped. A file larger than
    ``max_bytes`` (64 MiB unless given) is refused after reading at most that much, so a
    pipe or a device that never ends is refused too. Memory stays proportional to the
    file: 8 bytes a value, plus the text.

    Raises:
        DataError: naming the file and line for an unreadable or oversized file, one that
            is not UTF-8, an empty file, a ragged row, a value that is not a finite number,
            a label that is not a whole number in range (``0..num_classes-1``, or int64's).
        ValueError: ``num_classes`` or ``max_bytes`` is not a positive integer.
    """
    if num_classes is not None and (not _is_int(num_classes) or num_classes <= 0):
        raise ValueError(
            f"load_csv_classification: num_classes must be a positive integer, not {num_classes!r}"
        )
    if not _is_int(max_bytes) or max_bytes <= 0:
        raise ValueError(f"load_csv_classification: max_bytes must be a positive integer, not {max_bytes!r}")
    path = Path(path)
    raw = _read_bounded(path, max_bytes)
    try:
        text = raw.decode("utf-8-sig")  # -sig: drops the byte-order mark Excel writes first
    except UnicodeDecodeError as error:
        # error.start counts from after a byte-order mark: index what the decoder saw
        seen = error.object
        line = _BREAK.subn("", seen[: error.start].decode("utf-8"))[1] + 1
        raise DataError(
            f"{path}:{line}: not UTF-8 text (byte 0x{seen[error.start]:02x}); save it as UTF-8 or ASCII CSV"
        ) from None
    del raw
    limit = num_classes if num_classes is not None else 2**63  # labels are int64
    labels = array.array("q")
    values = array.array("d")  # every row's values, labels too until checked: 8 bytes each
    width: int | None = None
    for number, match in enumerate(_LINES.finditer(text), start=1):
        line = match.group(1)
        if not line or line.isspace():
            continue
        count = line.count(",") + 1
        if width is None:
            width = count
            if width < 2:
                raise DataError(f"{path}:{number}: a row needs a label and at least one feature")
        elif count != width:
            raise DataError(f"{path}:{number}: {count} values, but earlier rows have {width}")
        start, finite = len(values), True
        for cells in _pieces(line):
            try:
                row = [float(c) for c in cells]
            except ValueError:
                bad = next(c for c in cells if not _is_number(c))
                raise DataError(f"{path}:{number}: {_shown(bad)} is not a number") from None
            finite = finite and all(map(math.isfinite, row))
            values.extend(row)
        if not finite:  # said after any value that is not a number at all
            raise DataError(f"{path}:{number}: values must be finite numbers")
        label = values[start]
        if label != int(label) or not 0 <= label < limit:
            valid = f"0..{num_classes - 1}" if num_classes is not None else "a whole number, 0 to 2**63 - 1"
            shown = _shown(line[: line.find(",")], quote=False)
            raise DataError(f"{path}:{number}: label {shown} is out of range ({valid})")
        labels.append(int(label))
        del values[start]
    if width is None:
        raise DataError(f"{path}: the file is empty")
    features = np.frombuffer(values, dtype=np.float64).reshape(len(labels), width - 1)
    return features, np.frombuffer(labels, dtype=np.int64)


def _pieces(line: str) -> Iterator[list[str]]:
    """The line's cells, a list at a time: a line of millions of cells never makes millions of strings."""
    if len(line) <= _PIECE:
        yield line.split(",")
        return
    start = 0
    while True:
        cut = line.find(",", start + _PIECE)
        if cut < 0:
            yield line[start:].split(",")
            return
        yield line[start:cut].split(",")
        start = cut + 1


def _read_bounded(path: Path, max_bytes: int) -> bytearray:
    """The file's bytes, read a piece at a time; more than ``max_bytes`` of them is a ``DataError``."""
    data = bytearray()
    try:
        with open(path, "rb") as stream:
            while len(data) <= max_bytes:
                piece = stream.read(min(_CHUNK, max_bytes + 1 - len(data)))
                if not piece:
                    break
                data += piece
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error})") from None
    if len(data) > max_bytes:
        raise DataError(f"{path}: larger than {_size(max_bytes)}, more than this program reads")
    return data


def _size(n: int) -> str:
    for unit, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n % unit == 0:
            return f"{n // unit} {name}"
    return f"{n} bytes"


def _shown(cell: str, quote: bool = True) -> str:
    """A cell for a message: stripped, cut short, and (by default) quoted."""
    cell = cell.strip()
    if len(cell) > _SHOWN:
        cell = cell[:_SHOWN] + "..."
    return repr(cell) if quote else cell


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


__all__ = ["MAX_CSV_BYTES", "DataError", "TensorDataset", "DataLoader", "load_csv_classification"]
