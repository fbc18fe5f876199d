"""autograd.files: the one atomic writer behind drawings, the CLI, nn.save and the examples."""

from __future__ import annotations

import errno
import os

import pytest

from autograd import files
from autograd.files import WriteError, write_atomically, write_files_atomically


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_bytes_or_a_writing_function_give_the_same_file(tmp_path):
    write_atomically(tmp_path / "a.bin", b"\x00\x01chain")
    write_atomically(tmp_path / "b.bin", lambda stream: stream.write(b"\x00\x01chain"))
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes() == b"\x00\x01chain"
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "b.bin"]  # no temporary left


def test_modes_are_the_ones_open_gives(tmp_path, umask_022):
    write_atomically(tmp_path / "new.txt", b"x")
    with open(tmp_path / "plain.txt", "w"):
        pass
    old = tmp_path / "old.txt"
    old.write_text("old")
    old.chmod(0o600)
    write_atomically(old, b"new")
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == (tmp_path / "plain.txt").stat().st_mode & 0o777 == 0o644
    assert old.stat().st_mode & 0o777 == 0o600 and old.read_bytes() == b"new"


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path, failure):
    path = tmp_path / "f.txt"
    path.write_bytes(b"old")

    def half(stream):
        stream.write(b"half")
        raise failure

    with pytest.raises(type(failure)) as raised:
        write_atomically(path, half)
    if isinstance(failure, OSError):
        error = raised.value
        assert isinstance(error, WriteError) and error.errno == errno.ENOSPC
        assert error.filename == str(path) and str(error) == f"cannot write {path}: No space left on device"
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.txt"]


def test_a_missing_folder_is_named_not_the_temporary(tmp_path):
    target = tmp_path / "missing" / "g.dot"
    with pytest.raises(WriteError) as raised:
        write_atomically(target, b"digraph {}")
    assert str(raised.value) == f"cannot write {target}: No such file or directory"
    assert raised.value.errno == errno.ENOENT and ".tmp" not in str(raised.value)


def test_a_group_is_all_or_nothing(tmp_path):
    (tmp_path / "a").write_bytes(b"old a")
    (tmp_path / "folder").mkdir()
    with pytest.raises(WriteError) as raised:
        write_files_atomically([(tmp_path / "a", b"new a"), (tmp_path / "folder" / "x" / "b", b"new b")])
    assert raised.value.replaced == []
    assert (tmp_path / "a").read_bytes() == b"old a" and sorted(os.listdir(tmp_path)) == ["a", "folder"]


class SecondRenameFails:
    """``os`` for autograd.files, except that the second ``os.replace`` raises ``error``."""

    def __init__(self, error):
        self.error, self.calls = error, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, source, target):
        self.calls += 1
        if self.calls == 2:
            raise self.error
        os.replace(source, target)


def test_a_rename_failing_midway_says_what_was_replaced(tmp_path, monkeypatch):
    paths = [tmp_path / name for name in ("a", "b", "c")]
    for path in paths:
        path.write_bytes(b"old")
    monkeypatch.setattr(files, "os", SecondRenameFails(OSError(errno.EIO, "Input/output error")))
    with pytest.raises(WriteError) as raised:
        write_files_atomically([(path, b"new") for path in paths])
    assert raised.value.replaced == [paths[0]]
    assert str(raised.value) == (f"cannot write {paths[1]}: Input/output error; already replaced: {paths[0]} "
                                 "(the other files are unchanged)")
    assert [path.read_bytes() for path in paths] == [b"new", b"old", b"old"]
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "c"]


def test_ctrl_c_between_renames_is_told_through_the_replaced_list(tmp_path, monkeypatch):
    paths = [tmp_path / name for name in ("a", "b")]
    monkeypatch.setattr(files, "os", SecondRenameFails(KeyboardInterrupt()))
    replaced = []
    with pytest.raises(KeyboardInterrupt):
        write_files_atomically([(path, b"new") for path in paths], replaced)
    assert replaced == [paths[0]] and sorted(os.listdir(tmp_path)) == ["a"]
