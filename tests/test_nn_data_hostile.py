"""The handouts' CSV reader (``nn.data.load_csv_classification``) and the OCR examples' files, against
unlucky input: encodings, sizes, endless devices, huge labels and cells, and writes that fail.

The OCR programs are CMU 10-601 homework 5's: ``neuralnet.py`` reads its CSVs through the library,
so ``train.py`` and ``experiments.py`` get the same one-line errors; every file the examples write
appears whole, with the permissions ``open`` would give, or not at all.
"""

import errno
import importlib
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import nn
from nn.data import MAX_CSV_BYTES, DataError, load_csv_classification

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
OCR = EXAMPLES / "ocr"

ROWS = "7,0,1,1,1,0\n9,0,0,1,0,1\n3,1,1,0,0,0\n"


def write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def read_error(path, **options):
    with pytest.raises(DataError) as error:
        load_csv_classification(path, **options)
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    return message


# ---- encoding ---------------------------------------------------------------------------------------


def test_a_leading_byte_order_mark_is_skipped(tmp_path):
    plain = load_csv_classification(write(tmp_path / "plain.csv", ROWS))
    bom = load_csv_classification(write(tmp_path / "bom.csv", b"\xef\xbb\xbf" + ROWS.encode()))
    np.testing.assert_array_equal(bom[0], plain[0])
    np.testing.assert_array_equal(bom[1], plain[1])


@pytest.mark.parametrize(
    "raw, where",
    [
        ("7,0,1\n9,0,\xe9\n".encode("latin-1"), ":2: not UTF-8 text (byte 0xe9)"),
        ("7,0,1\n".encode("utf-16"), ":1: not UTF-8 text (byte 0xff)"),
        (b"7,0,1\n\x80\x81\n", ":2: not UTF-8 text (byte 0x80)"),
        (b"\xef\xbb\xbf7,0,1\n8,1,0\n9,\xe9,0\n", ":3: not UTF-8 text (byte 0xe9)"),  # after a BOM
        (b"7,0,1\r\n8,1,0\r\n9,\xe9,0\r\n", ":3: not UTF-8 text (byte 0xe9)"),  # Windows line ends
        (b"7,0,1\r8,1,0\r9,\xe9,0\r", ":3: not UTF-8 text (byte 0xe9)"),  # old Mac line ends
        (b"7,0,1\n8,1,\xe2\x82", ":2: not UTF-8 text (byte 0xe2)"),  # cut in the middle of a character
    ],
    ids=["latin-1", "utf-16", "binary", "bom-then-latin-1", "crlf", "cr", "truncated"],
)
def test_a_file_that_is_not_utf8_is_a_data_error_naming_the_line_and_byte(tmp_path, raw, where):
    path = write(tmp_path / "bad.csv", raw)
    message = read_error(path)
    assert message.startswith(f"{path}{where}"), message
    assert isinstance(DataError(message), ValueError)


def test_lines_end_where_str_splitlines_ends_them(tmp_path):
    for name, ending in (("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r"), ("mixed", None)):
        text = ROWS.replace("\n", ending) if ending else "7,0,1,1,1,0\r\n9,0,0,1,0,1\r3,1,1,0,0,0\n\n"
        x, y = load_csv_classification(write(tmp_path / f"{name}.csv", text))
        assert x.shape == (3, 5) and y.tolist() == [7, 9, 3], name
    assert ":3: 'x' is not a number" in read_error(write(tmp_path / "bad.csv", "7,0\r8,1\r\n9,x\n"))


# ---- size ---------------------------------------------------------------------------------------------


def test_a_file_over_max_bytes_is_refused_in_one_line(tmp_path):
    path = write(tmp_path / "data.csv", ROWS)
    size = len(ROWS)
    x, _ = load_csv_classification(path, max_bytes=size)  # exactly the limit is fine
    assert x.shape == (3, 5)
    message = read_error(path, max_bytes=size - 1)
    assert message == f"{path}: larger than {size - 1} bytes, more than this program reads"
    assert "larger than 1 KiB" in read_error(write(tmp_path / "k.csv", "1,0\n" * 300), max_bytes=1024)


def test_the_default_limit_is_64_mib(tmp_path):
    assert MAX_CSV_BYTES == 64 * 2**20
    path = tmp_path / "huge.csv"
    with open(path, "wb") as stream:
        stream.truncate(MAX_CSV_BYTES + 1)  # sparse: no disk used
    assert read_error(path) == f"{path}: larger than 64 MiB, more than this program reads"


def test_a_device_that_never_ends_is_refused_after_max_bytes():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    message = read_error(Path("/dev/zero"), max_bytes=2**20)
    assert message == "/dev/zero: larger than 1 MiB, more than this program reads"


def test_a_huge_max_bytes_allocates_nothing_up_front(tmp_path):
    x, y = load_csv_classification(write(tmp_path / "data.csv", ROWS), max_bytes=2**62)
    assert x.shape == (3, 5) and y.tolist() == [7, 9, 3]


@pytest.mark.parametrize("keyword", ["max_bytes", "num_classes"])
@pytest.mark.parametrize("value", [0, -1, True, 1.5, "64"])
def test_limits_must_be_positive_integers(tmp_path, keyword, value):
    with pytest.raises(ValueError, match=f"{keyword} must be a positive integer"):
        load_csv_classification(write(tmp_path / "data.csv", ROWS), **{keyword: value})


def test_memory_stays_proportional_to_the_file(tmp_path):
    """8 bytes a value and the text: not a Python object per value or per line."""
    for name, text in (
        ("many short lines", "1,0\n" * 200_000),
        ("one very wide line", "1" + ",0" * 400_000 + "\n"),
        ("the letters' shape", ("3" + ",1" * 128 + "\n") * 3000),
    ):
        path = write(tmp_path / "data.csv", text)
        tracemalloc.start()
        try:
            x, y = load_csv_classification(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert x.size + y.size == text.count(",") + text.count("\n")
        assert peak < 7 * len(text) + 2**21, (name, peak / len(text))  # a list of floats alone is 16x


# ---- values -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["1e300", "9223372036854775808", "1e19"])
def test_a_label_too_large_for_int64_is_a_data_error(tmp_path, label):
    message = read_error(write(tmp_path / "big.csv", f"{label},0,1\n"))
    assert f":1: label {label} is out of range (a whole number, 0 to 2**63 - 1)" in message


def test_a_huge_bad_cell_is_quoted_cut_short(tmp_path):
    message = read_error(write(tmp_path / "long.csv", "1,0," + "x" * 1_000_000 + "\n"))
    assert message.endswith(":1: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not a number")
    message = read_error(write(tmp_path / "label.csv", "0." + "5" * 100_000 + ",0\n"), num_classes=10)
    assert len(message) < 200 and "label 0.555" in message


def test_wide_rows_keep_the_order_of_checks(tmp_path):
    """A row too long to split at once: not-a-number before non-finite before a bad label."""
    cells = ["0"] * 100_000
    cells[0], cells[10], cells[90_000] = "12", "inf", "x"
    assert ":1: 'x' is not a number" in read_error(write(tmp_path / "a.csv", ",".join(cells)))
    cells[90_000] = "1"
    assert ":1: values must be finite numbers" in read_error(write(tmp_path / "b.csv", ",".join(cells)))
    cells[10] = "1"
    message = read_error(write(tmp_path / "c.csv", ",".join(cells)), num_classes=10)
    assert ":1: label 12 is out of range (0..9)" in message
    cells[0] = "3"
    x, y = load_csv_classification(write(tmp_path / "d.csv", ",".join(cells) + "\n" + ",".join(cells)))
    assert x.shape == (2, 99_999) and y.tolist() == [3, 3] and x.flags.writeable


# ---- neuralnet.py reads through the library ---------------------------------------------------------


def import_example(name, folder=OCR):
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))


def test_neuralnet_reads_its_csvs_with_the_library(tmp_path, monkeypatch):
    neuralnet = import_example("neuralnet")
    calls = []

    def spy(path, num_classes=None, *, max_bytes):
        calls.append((path, num_classes, max_bytes))
        return load_csv_classification(path, num_classes, max_bytes=max_bytes)

    monkeypatch.setattr(neuralnet, "load_csv_classification", spy)
    x, y = neuralnet.read_examples(write(tmp_path / "data.csv", ROWS))
    assert calls == [(tmp_path / "data.csv", 10, neuralnet.MAX_INPUT_BYTES)] and x.shape == (3, 5)
    assert neuralnet.MAX_INPUT_BYTES == MAX_CSV_BYTES


def run(script, *args, cwd):
    return subprocess.run([sys.executable, str(OCR / script), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)  # fmt: skip


def assert_one_line(result, prefix, *fragments, status=2):
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(prefix), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def letters_csv(rows, features=6, seed=0):
    rng = np.random.default_rng(seed)
    labels, pixels = rng.integers(0, 10, rows), rng.random((rows, features)) < 0.5
    return "\n".join(",".join([str(y)] + [str(int(v)) for v in x]) for x, y in zip(pixels, labels)) + "\n"


def test_neuralnet_names_the_right_byte_after_a_byte_order_mark(tmp_path):
    write(tmp_path / "train.csv", letters_csv(12))
    write(tmp_path / "bad.csv", b"\xef\xbb\xbf7,0,1,1,1,0\n9,0,0,\xe9,1,0\n")
    result = run("neuralnet.py", "train.csv", "bad.csv", "t", "v", "m", 1, 4, 1, 0.1, cwd=tmp_path)
    assert_one_line(result, "neuralnet.py: ", "bad.csv:2: not UTF-8 text (byte 0xe9)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "train.csv"]


# ---- train.py and experiments.py: the same one line ----------------------------------------------------

NEEDS_MATPLOTLIB = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None,
    reason='install the examples extra (pip install -e ".[examples]") to run experiments.py',
)


@pytest.mark.parametrize("script", ["train.py", pytest.param("experiments.py", marks=NEEDS_MATPLOTLIB)])
def test_a_csv_that_is_not_utf8_is_one_line_in_the_other_ocr_scripts(tmp_path, script):
    data = tmp_path / "data"
    data.mkdir()
    write(data / "train.csv", letters_csv(12))
    write(data / "validation.csv", "7,0,1,1,1,0\n9,0,0,\xe9,1,0\n".encode("latin-1"))
    result = run(script, "--data-dir", data, "--out", tmp_path / "out", "--epochs", 1, cwd=tmp_path)
    assert_one_line(result, f"{script}: ", "validation.csv:2: not UTF-8 text (byte 0xe9)")
    assert result.stdout == "" and not (tmp_path / "out").exists()


@pytest.mark.parametrize("script", ["train.py", pytest.param("experiments.py", marks=NEEDS_MATPLOTLIB)])
def test_a_validation_set_with_other_features_is_one_line(tmp_path, script):
    data = tmp_path / "data"
    data.mkdir()
    write(data / "train.csv", letters_csv(12, features=6))
    write(data / "validation.csv", letters_csv(4, features=5))
    result = run(script, "--data-dir", data, "--out", tmp_path / "out", "--epochs", 1, cwd=tmp_path)
    assert_one_line(result, f"{script}: ", "validation.csv has 5 features per row, but", "train.csv has 6")


def test_train_py_says_in_one_line_when_its_plot_cannot_be_written(tmp_path):
    pytest.importorskip("matplotlib")
    data = tmp_path / "data"
    data.mkdir()
    write(data / "train.csv", letters_csv(12))
    write(data / "validation.csv", letters_csv(4, seed=1))
    (tmp_path / "out" / "ocr_learning_curve.png").mkdir(parents=True)  # the plot's name is taken
    result = run(
        "train.py", "--data-dir", data, "--out", tmp_path / "out", "--epochs", 1, "--hidden", 3, cwd=tmp_path
    )
    plot = tmp_path / "out" / "ocr_learning_curve.png"
    assert_one_line(result, "train.py: ", f"cannot write {plot}: Is a directory")
    assert os.listdir(tmp_path / "out") == ["ocr_learning_curve.png"]  # no temporary left behind


# ---- the examples' atomic writes ----------------------------------------------------------------------


@pytest.fixture
def output():
    return import_example("_output", EXAMPLES)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def figure():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    yield figure
    plt.close(figure)


def test_save_figure_uses_a_unique_temporary_with_open_s_mode(tmp_path, output, figure, umask_022):
    path = tmp_path / "plot.png"
    (tmp_path / ".plot.png.tmp.png").mkdir()  # the fixed temporary name of old: taken
    output.save_figure(figure, path)
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(os.listdir(tmp_path)) == [".plot.png.tmp.png", "plot.png"]
    import matplotlib.pyplot as plt

    assert figure.number not in plt.get_fignums()  # closed


def test_save_figure_keeps_an_existing_file_s_mode_and_honours_the_umask(tmp_path, output, figure):
    path = tmp_path / "plot.svg"
    path.write_text("old")
    path.chmod(0o600)
    output.save_figure(figure, path)
    assert path.read_text().lstrip().startswith("<?xml") and path.stat().st_mode & 0o777 == 0o600
    old = os.umask(0o027)
    try:
        output.save_figure(figure, tmp_path / "new.png")
    finally:
        os.umask(old)
    assert (tmp_path / "new.png").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    "failure", [OSError(errno.ENOSPC, "No space left on device", "/tmp/x"), KeyboardInterrupt()]
)
def test_a_failed_save_figure_leaves_the_old_file_and_no_temporary(tmp_path, output, figure, failure):
    path = tmp_path / "plot.png"
    path.write_bytes(b"old plot")

    def failing(stream, **options):
        stream.write(b"half a plot")
        raise failure

    figure.savefig = failing
    with pytest.raises(type(failure)) as error:
        output.save_figure(figure, path)
    if isinstance(failure, OSError):
        assert error.value.filename == str(path) and error.value.errno == errno.ENOSPC
        assert str(path) in str(error.value) and ".tmp" not in str(error.value)
    assert path.read_bytes() == b"old plot" and os.listdir(tmp_path) == ["plot.png"]


def test_train_save_plot_is_atomic_too(tmp_path, output, figure, monkeypatch, umask_022):
    train = import_example("train")
    path = tmp_path / "sub" / "curve.png"
    train.save_plot(path, {"train": [2.0, 1.0]}, "title")
    assert path.stat().st_mode & 0o777 == 0o644 and os.listdir(path.parent) == ["curve.png"]
    import matplotlib.figure

    def failing(self, stream, **options):
        stream.write(b"half a plot")
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", failing)
    with pytest.raises(OSError) as error:
        train.save_plot(path, {"train": [2.0, 1.0]}, "title")
    assert error.value.filename == str(path)
    assert path.read_bytes()[:4] == b"\x89PNG" and os.listdir(path.parent) == ["curve.png"]


def test_make_letters_csvs_get_the_mode_open_gives(tmp_path, umask_022):
    make_letters = import_example("make_letters")
    images, labels = np.zeros((2, 128), dtype=np.uint8), np.array([3, 4])
    make_letters.write_csv(tmp_path / "train.csv", images, labels)
    assert (tmp_path / "train.csv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "train.csv").read_text().splitlines()[1] == "4," + ",".join(["0"] * 128)
    assert os.listdir(tmp_path) == ["train.csv"]


def test_make_letters_says_in_one_line_when_a_csv_cannot_be_written(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("PIL")
    (tmp_path / "letters" / "train.csv").mkdir(parents=True)
    result = run("make_letters.py", "--out", tmp_path / "letters", "--train", 1, "--valid", 1, cwd=tmp_path)
    assert_one_line(
        result, "make_letters.py: ", f"cannot write {tmp_path / 'letters' / 'train.csv'}: Is a directory"
    )
    assert os.listdir(tmp_path / "letters") == ["train.csv"]


# ---- nn.LoadError ---------------------------------------------------------------------------------------


def test_load_error_is_exported_and_documented(tmp_path):
    assert nn.LoadError is nn.serialization.LoadError and "LoadError" in nn.__all__
    nn.save({"w": np.zeros(1000)}, tmp_path / "w.npz")
    with pytest.raises(nn.LoadError):
        nn.load(tmp_path / "w.npz", max_bytes=100)
    # documented where users read the API: nn.load's docstring, which the site's nn reference renders
    assert "max_bytes" in nn.load.__doc__ and "LoadError" in nn.load.__doc__
    assert "::: nn" in (ROOT / "docs" / "reference" / "nn.md").read_text()
