"""Writing files atomically: a reader sees the old file or the whole new one, never half of it.

Each file is first written in full (and flushed to disk) to a temporary file beside it,
then renamed over it (``os.replace``, which cannot cross file systems: hence "beside").
The new file gets the permissions a plain ``open(path, "w")`` would leave: an existing
file's own, else 0666 less the umask. A failure, Ctrl-C included, removes the temporary
files and leaves every target as it was; its ``WriteError`` names the file asked for,
never the temporary one.

What to write is either the bytes, or a function that writes to the open binary file
(``lambda stream: figure.savefig(stream)``), for writers that stream their output.

Drawings (``autograd.save_graph``, the CLI, the teaching tools), ``nn.save`` and the
examples all write through here.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> write_atomically(os.path.join(folder, "notes.txt"), b"x = 3\\n").name
'notes.txt'
>>> os.listdir(folder)
['notes.txt']
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

Content = bytes | Callable[[BinaryIO], object]  # the bytes, or a function writing them

__all__ = ["write_atomically", "write_files_atomically", "WriteError", "Content"]


class WriteError(OSError):
    """A file could not be written: ``cannot write PATH: reason``.

    ``filename`` and ``path`` are the file asked for, ``errno`` and ``strerror`` the cause's;
    ``replaced`` lists the files of the same group already replaced (see
    ``write_files_atomically``).
    """

    def __init__(self, path: str | os.PathLike, cause: OSError, replaced: Sequence[Path] = ()) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))
        self.path = Path(path)
        self.replaced = list(replaced)

    def __str__(self) -> str:
        message = f"cannot write {self.path}: {self.strerror}"
        if self.replaced:
            message += (f"; already replaced: {', '.join(map(str, self.replaced))} "
                        "(the other files are unchanged)")
        return message


def write_atomically(path: str | os.PathLike, content: Content) -> Path:
    """Write ``content`` (bytes, or a function writing to the open file) to ``path``. Returns the path.

    Raises:
        WriteError: an ``OSError`` whose message names ``path`` (not the temporary file).
    """
    return write_files_atomically([(path, content)])[0]


def write_files_atomically(files: Sequence[tuple[str | os.PathLike, Content]],
                           replaced: list[Path] | None = None) -> list[Path]:
    """Write several files so that none is replaced unless all of them could be written.

    Every file is written to its temporary first; only when all are complete are they
    renamed over their targets, one after another. A rename that fails midway (rare: the
    data is on disk by then) raises a ``WriteError`` whose ``replaced`` says which targets
    are already new. ``replaced``, if given, is filled as the renames happen, so a caller
    interrupted by Ctrl-C during them can say the same. Returns the paths, in order.
    """
    staged: list[tuple[Path, Path]] = []  # (temporary, target)
    replaced = [] if replaced is None else replaced
    try:
        for path, content in files:
            target = Path(path)
            staged.append((_write_temporary(target, content), target))
        for temporary, target in staged:
            try:
                os.replace(temporary, target)
            except OSError as error:
                raise WriteError(target, error, replaced) from error
            replaced.append(target)
    except BaseException:
        for temporary, _ in staged[len(replaced):]:
            _remove_quietly(temporary)
        raise
    return [target for _, target in staged]


def _write_temporary(target: Path, content: Content) -> Path:
    """The content, complete and on disk, in a new file beside ``target``, with its future mode."""
    try:
        descriptor, temporary = _create_beside(target)
    except OSError as error:
        raise WriteError(target, error) from error
    try:
        with os.fdopen(descriptor, "wb") as stream:
            if isinstance(content, bytes):
                stream.write(content)
            else:
                content(stream)
            stream.flush()
            os.fsync(stream.fileno())  # after a crash the file is complete or absent, not empty
        existing = _regular_file_mode(target)
        if existing is not None:  # replacing a file keeps its permissions, as open() would
            os.chmod(temporary, existing)
    except BaseException as error:
        _remove_quietly(temporary)
        if isinstance(error, OSError):
            raise WriteError(target, error) from error
        raise
    return temporary


def _create_beside(target: Path) -> tuple[int, Path]:
    """A new empty file beside ``target``, created as ``open`` creates files (0666 less the umask).

    Its name is short and random; the target's name is cut so that a long one still
    leaves room for the suffix.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = target.parent / f".{target.name[:64]}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name beside it", str(target))


def _regular_file_mode(path: Path) -> int | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # nothing more can be done; the error being raised says what went wrong
