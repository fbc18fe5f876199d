"""Saving and loading state dicts as ``.npz`` files (no pickle: safe to load from anyone).

>>> import tempfile, os, numpy as np
>>> from nn import Linear, save, load
>>> layer = Linear(3, 2, generator=np.random.default_rng(0))
>>> path = os.path.join(tempfile.mkdtemp(), "layer.npz")
>>> save(layer, path)
>>> sorted(load(path))
['bias', 'weight']

The file is a zip of one ``.npy`` array per key (``numpy.load`` reads it too). ``load``
trusts nothing in it: before it decompresses a byte it checks every member's declared
size against ``max_bytes``, and it reads only numeric arrays, never pickles.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zipfile
import zlib
from collections import OrderedDict
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from autograd.files import write_atomically

MAX_BYTES = 2**30
"""``load``'s default limit on the bytes a file may decompress to (1 GiB)."""

_NUMERIC_KINDS = "biufc"  # bool, signed and unsigned integers, floats, complex
_MAX_HEADER = 10_000  # numpy's own limit on the text of a .npy header (``max_header_size``)
_CHUNK = 16 * 2**20  # read array data in pieces this size: no second full-size copy


class LoadError(ValueError):
    """``load`` refused a file or could not read it; the message names the file and the member."""


# ---- save --------------------------------------------------------------------------------------


def save(module_or_state: Any, path: str | os.PathLike[str]) -> None:
    """Write a module's state dict (or a state dict) to ``path`` as ``.npz``, atomically.

    Any string key is kept as it is (``file`` and ``allow_pickle`` too). The arrays must
    be numeric (bool, integer, float, complex): the ones ``load`` reads. The file is
    written atomically (``autograd.files``): to a temporary beside ``path``, renamed over
    it only once complete, with the permissions a plain ``open`` would give (an existing
    file's, or 0666 less the umask).

    Raises:
        TypeError: a key that is not a string, or an array that is not numeric.
        ValueError: a key containing a NUL character (a zip member name cannot hold one).
        OSError: the file cannot be written (a ``WriteError``); the message names ``path``.
    """
    state = module_or_state.state_dict() if hasattr(module_or_state, "state_dict") else module_or_state
    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, not {key!r}")
        if "\0" in key:
            raise ValueError(f"save: key {key!r} contains a NUL character")
        array = np.asarray(value)
        if array.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"save: {key!r} is not a numeric array (dtype {array.dtype})")
        arrays[key] = array

    def write_zip(stream: Any) -> None:
        # np.savez(file, **arrays) would take a key named "file" or "allow_pickle" as its
        # own argument: write the zip directly, one .npy member per key, as numpy does
        with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for key, array in arrays.items():
                with archive.open(key + ".npy", "w", force_zip64=True) as member:
                    npy_format.write_array(member, array, allow_pickle=False)

    write_atomically(path, write_zip)


# ---- load ----------------------------------------------------------------------------------------


def load(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> OrderedDict[str, np.ndarray]:
    """Read a state dict written by ``save`` (in the order it was saved).

    Nothing in the file is trusted. It must be a zip of ``.npy`` members holding numeric
    arrays (bool, integer, float, complex: no strings, dates, objects or records, and
    never a pickle), and the sizes its members declare, in the zip directory and in each
    ``.npy`` header, must add up to at most ``max_bytes`` (1 GiB unless you say more):
    a file that would decompress to more is refused before any of it is decompressed.
    An array whose data is shorter or longer than its header says is refused too.

    Raises:
        LoadError: (a ``ValueError``) naming the file and the member at fault.
        OSError: the file cannot be opened.
    """
    where = os.fspath(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise LoadError(f"{where}: not an .npz file ({error})") from None
    with archive:
        members = archive.infolist()
        total, names = 0, set()
        for info in members:  # the zip directory only: nothing decompressed yet
            name = info.filename
            if not name.endswith(".npy"):
                raise LoadError(f"{where}: member {name!r} is not a .npy array")
            if name in names:
                raise LoadError(f"{where}: member {name!r} appears twice")
            names.add(name)
            total += info.file_size
            if total > max_bytes:
                so_far = "" if total == info.file_size else f", which brings the file to {_size(total)}"
                raise LoadError(
                    f"{where}: member {name!r} declares {_size(info.file_size)}{so_far}, over the limit "
                    f"of {_size(max_bytes)} (pass max_bytes= to allow more)"
                )
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        total = 0
        for info in members:
            array = _read_member(archive, info, where, max_bytes - total, max_bytes)
            total += array.nbytes
            state[info.filename[: -len(".npy")]] = array
    return state


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, budget: int, max_bytes: int
) -> np.ndarray:
    """One member's array, checked against its header, its zip entry and the bytes left (``budget``)."""
    name = info.filename
    try:
        with archive.open(info) as stream:
            shape, fortran_order, dtype, header_bytes = _read_header(stream, where, name)
            if dtype.kind not in _NUMERIC_KINDS or dtype.hasobject:
                raise LoadError(f"{where}: member {name!r} is not a numeric array (dtype {dtype})")
            if any(n < 0 for n in shape):
                raise LoadError(f"{where}: member {name!r} declares a negative shape {shape}")
            count = math.prod(shape)
            nbytes = count * dtype.itemsize
            if nbytes > budget:
                limit = f"the limit of {_size(max_bytes)}"
                if budget < max_bytes:
                    limit = f"the {_size(budget)} left of {limit}"
                raise LoadError(
                    f"{where}: member {name!r} declares a {shape} {dtype} array of {_size(nbytes)}, "
                    f"over {limit} (pass max_bytes= to allow more)"
                )
            if header_bytes + nbytes != info.file_size:
                held = info.file_size - header_bytes
                raise LoadError(
                    f"{where}: member {name!r} declares a {shape} {dtype} array of {_size(nbytes)}, "
                    f"but holds {_size(held)} of data ({'truncated' if held < nbytes else 'extra data'})"
                )
            flat = np.empty(count, dtype=dtype)
            buffer = memoryview(flat.view(np.uint8))
            done = 0
            while done < nbytes:
                got = stream.readinto(buffer[done : done + _CHUNK])
                if not got:
                    break
                done += got
            if done < nbytes or stream.read(1):  # reading to the end also checks the CRC
                raise LoadError(
                    f"{where}: member {name!r} declares {_size(nbytes)} of data but holds "
                    f"{'fewer' if done < nbytes else 'more'} (truncated or corrupt)"
                )
    except LoadError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        # a bad CRC, a damaged deflate stream, an unsupported compression, a password
        raise LoadError(f"{where}: member {name!r} cannot be read: {error}") from None
    if fortran_order:
        return flat.reshape(shape[::-1]).transpose()
    return flat.reshape(shape)


def _size(n: int) -> str:
    """``4294967424 bytes (4.0 GiB)``: exact, and readable."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n} bytes ({n / scale:.1f} {unit})"
    return f"{n} bytes"


def _read_header(stream: Any, where: str, name: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Shape, Fortran order, dtype and the header's length in bytes; the header is bounded too."""
    try:
        magic = stream.read(npy_format.MAGIC_LEN)
        version = npy_format.read_magic(io.BytesIO(magic))
        if version == (1, 0):
            length_format, read_header = "<H", npy_format.read_array_header_1_0
        elif version == (2, 0):
            length_format, read_header = "<I", npy_format.read_array_header_2_0
        else:  # (3, 0) only holds non-Latin-1 field names of record arrays, refused anyway
            raise LoadError(f"{where}: member {name!r} is .npy format {version}, not 1.0 or 2.0")
        length_bytes = stream.read(struct.calcsize(length_format))
        (length,) = struct.unpack(length_format, length_bytes)
        if length > _MAX_HEADER + 64:  # never read an unbounded header into memory
            raise LoadError(f"{where}: member {name!r} has a {length}-byte .npy header (too long)")
        text = stream.read(length)
        header = io.BytesIO(length_bytes + text)
        shape, fortran_order, dtype = read_header(header, max_header_size=_MAX_HEADER)
    except LoadError:
        raise
    except (ValueError, struct.error, SyntaxError, RecursionError, TypeError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise LoadError(f"{where}: member {name!r} is not a valid .npy array: {message}") from None
    return shape, fortran_order, dtype, npy_format.MAGIC_LEN + len(length_bytes) + len(text)
