"""nn.save / nn.load against hostile and unlucky files, and nn.train on empty loaders.

``nn.load`` must refuse what it cannot read safely (zip bombs, oversized headers, strings,
objects, records, stray members, truncated data) with one line naming the member, before
decompressing anything big; ``nn.save`` must write any key, atomically, with the mode a
plain ``open`` gives.
"""

import io
import os
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from numpy.lib import format as npy_format

import nn
from autograd import Tensor
from nn import functional as F
from nn.data import DataLoader, TensorDataset
from nn.serialization import LoadError

GiB = 2**30


def npy_header(shape, dtype="<f8", version=(1, 0)):
    """The bytes of a .npy header (magic included) declaring ``shape`` of ``dtype``."""
    stream = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    if version == (1, 0):
        npy_format.write_array_header_1_0(stream, header)
    else:
        npy_format.write_array_header_2_0(stream, header)
    return stream.getvalue()


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def npy_bytes(array):
    stream = io.BytesIO()
    npy_format.write_array(stream, np.asarray(array), allow_pickle=False)
    return stream.getvalue()


def write_zip64_bomb(path, name="weight.npy", gib=4):
    """A real zip: one deflated member whose data is a .npy header and ``gib`` GiB of zeros.

    Deflating 4 GiB would take seconds, so one 64 MiB block of zeros is compressed with a
    full flush (which makes it independent of what came before) and repeated: the stream is
    what zlib itself would write for those bytes, about 4 MB for 4 GiB.
    """
    chunk = 64 * 2**20
    zeros = bytes(chunk)
    header = npy_header((gib * GiB // 8,))
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    head = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH) == block  # repeatable
    tail = compressor.flush(zlib.Z_FINISH)
    repeats = gib * GiB // chunk
    size = len(header) + repeats * chunk
    compressed = len(head) + repeats * len(block) + len(tail)
    crc = zlib.crc32(header)
    for _ in range(repeats):
        crc = zlib.crc32(zeros, crc)
    encoded = name.encode()
    zip64 = struct.pack("<HHQQ", 1, 16, size, compressed)  # the real sizes: over 4 GiB
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                              len(encoded), len(zip64)) + encoded + zip64)  # fmt: skip
        out.write(head)
        for _ in range(repeats):
            out.write(block)
        out.write(tail)
        directory_at = out.tell()
        entry = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF,
                            0xFFFFFFFF, len(encoded), len(zip64), 0, 0, 0, 0, 0) + encoded + zip64  # fmt: skip
        out.write(entry)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(entry), directory_at, 0))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    return write_zip64_bomb(tmp_path_factory.mktemp("bomb") / "bomb.npz")


def refused_quickly(path, **options):
    """Run nn.load, expecting a LoadError; returns (error, seconds, peak traced bytes)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(LoadError) as error:
            nn.load(path, **options)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(error.value), seconds, peak


# ---- load: sizes are checked before anything is decompressed -------------------------------


def test_the_bomb_is_a_real_zip_of_four_gib(bomb):
    assert bomb.stat().st_size < 6 * 2**20
    with zipfile.ZipFile(bomb) as archive:
        (info,) = archive.infolist()
        assert info.file_size > 4 * GiB and info.compress_type == zipfile.ZIP_DEFLATED
        with archive.open(info) as stream:  # it decompresses: a header, then zeros
            assert npy_format.read_magic(stream) == (1, 0)
            assert npy_format.read_array_header_1_0(stream)[0] == (4 * GiB // 8,)
            assert not any(stream.read(2**20))


def test_load_refuses_a_zip_bomb_from_its_directory_in_under_a_second_with_flat_memory(bomb):
    message, seconds, peak = refused_quickly(bomb)
    assert "'weight.npy' declares 4294967424 bytes (4.0 GiB)" in message and "max_bytes" in message
    assert len(message.splitlines()) == 1
    assert seconds < 1.0 and peak < 100 * 2**20, (seconds, peak)


def test_load_refuses_an_array_its_npy_header_declares_too_big(tmp_path):
    # the zip says a few hundred bytes; the .npy header inside says 4 GiB
    path = write_zip(tmp_path / "header.npz", {"w.npy": npy_header((4 * GiB // 8,)) + bytes(64)},
                     zipfile.ZIP_DEFLATED)  # fmt: skip
    message, seconds, peak = refused_quickly(path)
    assert "'w.npy'" in message and "(536870912,) float64" in message and "max_bytes" in message
    assert seconds < 1.0 and peak < 100 * 2**20
    # allowed that much, it is still refused before allocating: the member is too short
    message, seconds, peak = refused_quickly(path, max_bytes=8 * GiB)
    assert "'w.npy'" in message and "truncated" in message
    assert seconds < 1.0 and peak < 100 * 2**20


def test_load_refuses_a_header_that_declares_gigabytes_of_header(tmp_path):
    data = b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**32 - 1) + b"{" * 100
    path = write_zip(tmp_path / "long.npz", {"w.npy": data})
    message, seconds, peak = refused_quickly(path, max_bytes=8 * GiB)
    assert "'w.npy'" in message and "header" in message and peak < 100 * 2**20


def test_max_bytes_limits_the_whole_file_and_is_a_keyword(tmp_path):
    path = tmp_path / "two.npz"
    nn.save({"a": np.zeros(100), "b": np.zeros(100)}, path)
    assert list(nn.load(path, max_bytes=4096)) == ["a", "b"]
    with pytest.raises(LoadError, match=r"'b.npy'.*max_bytes"):
        nn.load(path, max_bytes=1000)  # each fits; together they do not
    with pytest.raises(TypeError):
        nn.load(path, 1000)


@pytest.mark.parametrize("extra, message", [(-8, "truncated"), (8, "extra data")])
def test_load_refuses_data_shorter_or_longer_than_the_header_says(tmp_path, extra, message):
    data = npy_bytes(np.arange(100.0))
    data = data[:extra] if extra < 0 else data + bytes(extra)
    path = write_zip(tmp_path / "bad.npz", {"ok.npy": npy_bytes([1.0]), "w.npy": data})
    with pytest.raises(LoadError, match=rf"'w.npy' declares a \(100,\) float64 array .*{message}"):
        nn.load(path)


def test_load_refuses_a_corrupted_member(tmp_path):
    path = tmp_path / "m.npz"
    nn.save({"w": np.arange(1000.0)}, path)
    raw = bytearray(path.read_bytes())
    at = raw.index(np.arange(1000.0)[500:501].tobytes())
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(LoadError, match=r"'w.npy' cannot be read: Bad CRC-32"):
        nn.load(path)


# ---- load: only numeric .npy arrays ----------------------------------------------------------------


@pytest.mark.parametrize(
    "array",
    [
        np.array(["weights"]),
        np.array([b"bytes"]),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        np.array([3], dtype="timedelta64[s]"),
        np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]),
        np.zeros(2, dtype="V8"),
    ],
    ids=["str", "bytes", "datetime", "timedelta", "record", "void"],
)
def test_load_refuses_non_numeric_arrays_naming_the_member(tmp_path, array):
    path = write_zip(tmp_path / "odd.npz", {"fine.npy": npy_bytes([1.0]), "odd.npy": npy_bytes(array)})
    with pytest.raises(LoadError) as error:
        nn.load(path)
    assert "'odd.npy' is not a numeric array" in str(error.value)
    assert len(str(error.value).splitlines()) == 1


def test_load_never_unpickles_an_object_array(tmp_path):
    data = npy_header((1,), dtype="|O") + b"\x80\x04K\x01."  # a pickle, declared as an object array
    path = write_zip(tmp_path / "pickle.npz", {"w.npy": data})
    with pytest.raises(LoadError, match=r"'w.npy' is not a numeric array \(dtype object\)"):
        nn.load(path)


@pytest.mark.parametrize(
    "members, message",
    [
        ({"w.npy": npy_bytes([1.0]), "notes.txt": b"hello"}, "'notes.txt' is not a .npy array"),
        ({"w.npy": npy_bytes([1.0]), "sub/": b""}, "'sub/' is not a .npy array"),
        ({"w.npy": b"not an array at all"}, "'w.npy' is not a valid .npy array"),
    ],
)
def test_load_refuses_members_that_are_not_npy_arrays(tmp_path, members, message):
    path = write_zip(tmp_path / "mixed.npz", members)
    with pytest.raises(LoadError, match=message):
        nn.load(path)


def test_load_refuses_a_member_that_appears_twice(tmp_path):
    path = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_zip(path, {"w.npy": npy_bytes([1.0])})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("w.npy", npy_bytes([2.0]))
    with pytest.raises(LoadError, match="'w.npy' appears twice"):
        nn.load(path)


def test_load_of_a_file_that_is_not_a_zip_names_it(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_bytes(b"just some text\n")
    with pytest.raises(LoadError, match=r"weights.npz: not an .npz file"):
        nn.load(path)


def test_load_reads_every_numeric_kind_and_layout(tmp_path):
    state = {
        "bool": np.array([True, False]),
        "int8": np.arange(-3, 3, dtype=np.int8),
        "uint64": np.array([2**64 - 1], dtype=np.uint64),
        "float16": np.linspace(0, 1, 5).astype(np.float16),
        "big_endian": np.arange(4.0).astype(">f8"),
        "complex": np.array([1 + 2j]),
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "strided": np.arange(20)[::3],
        "scalar": np.float64(2.5),
        "empty": np.zeros((0, 3)),
    }
    path = tmp_path / "kinds.npz"
    nn.save(state, path)
    loaded = nn.load(path)
    assert list(loaded) == list(state)
    for key, value in state.items():
        assert loaded[key].dtype == np.asarray(value).dtype and loaded[key].shape == np.shape(value), key
        np.testing.assert_array_equal(loaded[key], value)
    assert loaded["fortran"].flags.f_contiguous


# ---- save -------------------------------------------------------------------------------------------


def test_save_writes_keys_that_np_savez_would_take_as_its_own_arguments(tmp_path):
    state = {"file": np.arange(3.0), "allow_pickle": np.ones(2), "args": np.zeros(1), "a/b.c": np.eye(2),
             "ünïcode": np.array([7]), "": np.array(1.5), "x.npy": np.array([0])}  # fmt: skip
    path = tmp_path / "keys.npz"
    nn.save(state, path)
    loaded = nn.load(path)
    assert list(loaded) == list(state)
    for key, value in state.items():
        np.testing.assert_array_equal(loaded[key], value)
    with np.load(path, allow_pickle=False) as archive:  # still a plain .npz numpy reads
        np.testing.assert_array_equal(archive["file"], state["file"])


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_save_gives_the_mode_a_plain_open_would(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        nn.save({"w": np.zeros(2)}, tmp_path / "m.npz")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == mode == (tmp_path / "plain").stat().st_mode & 0o777


def test_save_over_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    path.chmod(0o640)
    nn.save({"w": np.zeros(2)}, path)
    assert path.stat().st_mode & 0o777 == 0o640
    assert list(nn.load(path)) == ["w"]


def test_save_is_all_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    nn.save({"w": np.zeros(2)}, path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(npy_format, "write_array", fail)
    with pytest.raises(OSError, match="No space left on device") as error:
        nn.save({"w": np.ones(2), "v": np.ones(3)}, path)
    assert str(path) in str(error.value) and ".tmp" not in str(error.value)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["m.npz"]


@pytest.mark.parametrize("where", ["missing/m.npz", "a_directory"])
def test_save_to_a_bad_path_names_that_path(tmp_path, where):
    (tmp_path / "a_directory").mkdir()
    path = tmp_path / where
    with pytest.raises(OSError) as error:
        nn.save({"w": np.zeros(2)}, path)
    message = str(error.value)
    assert str(path) in message and ".tmp" not in message and len(message.splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == ["a_directory"] and not os.listdir(tmp_path / "a_directory")


@pytest.mark.parametrize("value", [np.array(["text"]), np.array([None]), np.zeros(1, dtype=[("a", "<f8")])])
def test_save_refuses_what_load_would_refuse(tmp_path, value):
    with pytest.raises(TypeError, match=r"'bad' is not a numeric array"):
        nn.save({"ok": np.zeros(1), "bad": value}, tmp_path / "m.npz")
    assert not os.listdir(tmp_path)


# ---- training on empty loaders ---------------------------------------------------------------------------


def empty_loader():
    return DataLoader(TensorDataset(np.zeros((0, 2)), np.zeros(0, dtype=np.int64)), batch_size=4)


def small_net():
    return nn.MLP(2, [3], 2, generator=np.random.default_rng(0))


def test_fit_on_an_empty_train_loader_says_so():
    net = small_net()
    with pytest.raises(ValueError, match="train_loader is empty"):
        nn.train.fit(net, F.cross_entropy, nn.optim.SGD(net.parameters(), lr=0.1), empty_loader(), 2,
                     progress=False)  # fmt: skip
    short = DataLoader(TensorDataset(np.zeros((3, 2)), np.zeros(3, dtype=np.int64)), 4, drop_last=True)
    with pytest.raises(ValueError, match="train_loader is empty"):
        nn.train.fit(net, F.cross_entropy, nn.optim.SGD(net.parameters(), lr=0.1), short, 2, progress=False)


def test_fit_on_an_empty_valid_loader_says_so_before_training():
    net = small_net()
    before = [p.data.copy() for p in net.parameters()]
    train = DataLoader(TensorDataset(np.ones((4, 2)), np.array([0, 1, 0, 1])), 2)
    with pytest.raises(ValueError, match="valid_loader is empty"):
        nn.train.fit(net, F.cross_entropy, nn.optim.SGD(net.parameters(), lr=0.1), train, 2, empty_loader(),
                     progress=False)  # fmt: skip
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before))


def test_fit_on_a_loader_that_runs_dry_names_the_epoch():
    net = small_net()
    batches = iter([(Tensor(np.ones((2, 2))), Tensor(np.array([0, 1])))])  # one-shot: empty in epoch 2
    with pytest.raises(ValueError, match="train_loader yielded no examples in epoch 2"):
        nn.train.fit(net, F.cross_entropy, nn.optim.SGD(net.parameters(), lr=0.1), batches, 3, progress=False)


def test_evaluate_on_an_empty_loader_says_so():
    net = small_net()
    with pytest.raises(ValueError, match="evaluate: the loader is empty"):
        nn.train.evaluate(net, F.cross_entropy, empty_loader())
    assert net.training
