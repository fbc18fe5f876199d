"""examples/ocr/neuralnet.py (CMU 10-601 homework 5) against unlucky input and an unlucky machine.

Every failure is one line on stderr and exit status 2 (130 for Ctrl-C), and leaves every
output exactly as it was; the outputs appear together, with ordinary permissions, or not
at all. The data is generated here in the handout's format (label, then 0/1 features).
"""

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autograd.files

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "ocr" / "neuralnet.py"
OUTPUTS = ["t.labels", "v.labels", "m.txt"]


def run(*args, cwd, preexec_fn=None, timeout=120):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, preexec_fn=preexec_fn)  # fmt: skip


def csv_text(rows=12, features=6, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, rows)
    pixels = rng.random((rows, features)) < 0.5
    return "\n".join(",".join([str(y)] + [str(int(v)) for v in x]) for x, y in zip(pixels, labels)) + "\n"


@pytest.fixture
def data(tmp_path):
    (tmp_path / "train.csv").write_text(csv_text(seed=0))
    (tmp_path / "valid.csv").write_text(csv_text(rows=6, seed=1))
    return tmp_path


def snapshot(directory):
    """Every file's name, bytes and mode: to show that a failed run touched nothing."""
    return {p.name: (p.read_bytes(), p.stat().st_mode) for p in sorted(Path(directory).iterdir()) if p.is_file()}


def assert_one_line_failure(result, *fragments, status=2):
    assert result.returncode == status, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    assert result.stderr.startswith("neuralnet.py: ")
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def with_old_outputs(directory):
    for name in OUTPUTS:
        (directory / name).write_text(f"old {name}\n")
    return snapshot(directory)


# ---- input ---------------------------------------------------------------------------------


def test_a_csv_with_the_bom_excel_writes_just_works(data):
    (data / "bom.csv").write_bytes(b"\xef\xbb\xbf" + (data / "train.csv").read_bytes())
    plain = run("train.csv", "valid.csv", *OUTPUTS, 2, 4, 1, 0.1, cwd=data)
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr
    expected = {name: (data / name).read_text() for name in OUTPUTS}
    bom = run("bom.csv", "valid.csv", *OUTPUTS, 2, 4, 1, 0.1, cwd=data)
    assert bom.returncode == 0 and bom.stderr == "", bom.stderr
    assert {name: (data / name).read_text() for name in OUTPUTS} == expected


@pytest.mark.parametrize(
    "raw, where",
    [
        ("7,0,1,1,1,0\n9,0,0,\xe9,1,0\n".encode("latin-1"), "bad.csv:2: not UTF-8 text (byte 0xe9)"),
        ("7,0,1,1,1,0\n".encode("utf-16"), "bad.csv:1: not UTF-8 text (byte 0xff)"),
        (b"7,0,1,1,1,0\n\x80\x81\n", "bad.csv:2: not UTF-8 text (byte 0x80)"),
    ],
    ids=["latin-1", "utf-16", "binary"],
)
def test_a_csv_that_is_not_utf8_is_one_line(data, raw, where):
    (data / "bad.csv").write_bytes(raw)
    before = with_old_outputs(data)
    result = run("train.csv", "bad.csv", *OUTPUTS, 1, 4, 1, 0.1, cwd=data)
    assert_one_line_failure(result, where)
    assert snapshot(data) == before


def test_more_hidden_units_than_memory_is_refused_before_anything_is_written(data):
    before = with_old_outputs(data)
    start = time.perf_counter()
    result = run("train.csv", "valid.csv", *OUTPUTS, 1, 10**12, 1, 0.1, cwd=data)
    assert_one_line_failure(result, "hidden_units 1000000000000 needs about", "TiB of memory")
    assert time.perf_counter() - start < 30
    assert snapshot(data) == before


# ---- paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "outputs, message",
    [
        (["t.labels", "t.labels", "m.txt"], "train_out and validation_out are the same file"),
        (["t.labels", "v.labels", "./t.labels"], "train_out and metrics_out are the same file"),
        (["t.labels", "sub/../v.labels", "v.labels"], "validation_out and metrics_out are the same file"),
        (["t.labels", "v.labels", "hardlink.txt"], "train_out and metrics_out are the same file"),
        (["t.labels", "v.labels", "symlink.txt"], "validation_out and metrics_out are the same file"),
    ],
)
def test_one_file_named_for_two_outputs_is_refused(data, outputs, message):
    (data / "sub").mkdir()
    with_old_outputs(data)
    os.link(data / "t.labels", data / "hardlink.txt")
    os.symlink("v.labels", data / "symlink.txt")
    before = snapshot(data)
    result = run("train.csv", "valid.csv", *outputs, 1, 4, 1, 0.1, cwd=data)
    assert_one_line_failure(result, message)
    assert snapshot(data) == before


@pytest.mark.parametrize(
    "outputs, message",
    [
        (["t.labels", "v.labels", "train.csv"], "metrics_out train.csv is the train_input train.csv"),
        (["./valid.csv", "v.labels", "m.txt"], "train_out valid.csv is the validation_input valid.csv"),
        (["t.labels", "alias.csv", "m.txt"], "validation_out alias.csv is the train_input train.csv"),
    ],
)
def test_an_output_that_is_an_input_is_refused(data, outputs, message):
    os.symlink("train.csv", data / "alias.csv")
    before = snapshot(data)
    result = run("train.csv", "valid.csv", *outputs, 1, 4, 1, 0.1, cwd=data)
    assert_one_line_failure(result, message)
    assert snapshot(data) == before


# ---- training ----------------------------------------------------------------------------------------


def test_a_learning_rate_that_makes_the_loss_non_finite_says_so(data):
    before = with_old_outputs(data)
    result = run("train.csv", "valid.csv", *OUTPUTS, 3, 4, 1, 1e308, cwd=data)
    assert_one_line_failure(result, "learning_rate 1e+308 made training diverge", "non-finite")
    assert snapshot(data) == before


@pytest.mark.parametrize("rate", [1e150, 1e200, 1e250, 1e300, 1e305, 1e307])
@pytest.mark.parametrize("init_flag", [1, 2])
def test_huge_learning_rates_give_finite_metrics_or_one_line(data, rate, init_flag):
    result = run("train.csv", "valid.csv", *OUTPUTS, 2, 5, init_flag, rate, cwd=data)
    if result.returncode == 0:
        assert result.stderr == ""  # no RuntimeWarning from numpy
        numbers = [float(line.split(": ")[1]) for line in (data / "m.txt").read_text().splitlines()]
        assert np.isfinite(numbers).all()
    else:
        assert_one_line_failure(result, "non-finite")
        assert not any((data / name).exists() for name in OUTPUTS)


def test_numpy_warnings_do_not_reach_stderr_on_a_successful_run(data):
    # every SGD step overflows once (as a sigmoid of -1000 does, harmlessly)
    program = (
        f"import sys; sys.path.insert(0, {str(SCRIPT.parent)!r}); import numpy as np; import neuralnet\n"
        "step = neuralnet.sgd_step\n"
        "def noisy(*args, **kwargs):\n"
        "    np.exp(np.float64(1000.0))\n"
        "    return step(*args, **kwargs)\n"
        "neuralnet.sgd_step = noisy\n"
        f"sys.exit(neuralnet.main(['train.csv', 'valid.csv', *{OUTPUTS!r}, '2', '4', '1', '0.1']))\n"
    )
    check = subprocess.run([sys.executable, "-c", "import numpy as np; np.exp(np.float64(1000.0))"],
                           capture_output=True, text=True)  # fmt: skip
    assert "RuntimeWarning: overflow" in check.stderr  # what the program would otherwise print
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=data, timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert (data / "m.txt").read_text().count("crossentropy") == 4


# ---- Ctrl-C --------------------------------------------------------------------------------------------


def test_ctrl_c_during_training_exits_130_with_one_line_and_no_file(data):
    before = with_old_outputs(data)
    process = subprocess.Popen([sys.executable, str(SCRIPT), "train.csv", "valid.csv", *OUTPUTS, "1000000", "4",
                                "1", "0.1", "--trace"], cwd=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        for line in process.stderr:  # the trace: training has begun
            if "sample 3" in line:
                break
        process.send_signal(signal.SIGINT)
        stdout, rest = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest
    assert rest.strip().splitlines()[-1] == "neuralnet.py: interrupted; no output was changed"
    assert snapshot(data) == before  # no temporary left, no output touched


@pytest.mark.parametrize("delay", [0.15, 0.6, 1.5])
def test_ctrl_c_at_any_moment_is_one_line(data, delay):
    (data / "big.csv").write_text(csv_text(rows=500, features=64, seed=3))
    for _attempt in range(4):
        process = subprocess.Popen([sys.executable, str(SCRIPT), "big.csv", "big.csv", *OUTPUTS, "1000000", "50", "1", "0.1"],
                                   cwd=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        time.sleep(delay)  # starting up, importing numpy, or training
        process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
        # On a busy machine the Ctrl-C can land while Python itself is still starting, before
        # the script's first line runs: nothing of neuralnet.py can answer it then. Try later.
        if "init_import_site" not in stderr and "Fatal Python error" not in stderr:
            break
        delay *= 2
    assert process.returncode == 130, stderr
    assert stderr == "neuralnet.py: interrupted; no output was changed\n"
    assert not any((data / name).exists() for name in OUTPUTS) and not list(data.glob(".*.tmp"))


# ---- writing -----------------------------------------------------------------------------------------------


def test_outputs_get_the_mode_a_plain_open_gives(data):
    (data / "v.labels").write_text("old\n")
    (data / "v.labels").chmod(0o640)
    result = run("train.csv", "valid.csv", *OUTPUTS, 1, 4, 1, 0.1, cwd=data, preexec_fn=lambda: os.umask(0o022))
    assert result.returncode == 0, result.stderr
    modes = {name: (data / name).stat().st_mode & 0o777 for name in OUTPUTS}
    assert modes == {"t.labels": 0o644, "v.labels": 0o640, "m.txt": 0o644}  # new files; an existing one keeps its


def test_a_write_error_names_the_users_path_and_changes_nothing(data):
    before = with_old_outputs(data)

    def small_files():  # the labels fit in 60 bytes, the metrics file does not: EFBIG on writing it
        resource.setrlimit(resource.RLIMIT_FSIZE, (60, 60))

    result = run("train.csv", "valid.csv", *OUTPUTS, 2, 4, 1, 0.1, cwd=data, preexec_fn=small_files)
    assert_one_line_failure(result, "cannot write m.txt: File too large; no output was changed")
    assert ".tmp" not in result.stderr
    assert snapshot(data) == before


@pytest.fixture
def neuralnet():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import neuralnet
    finally:
        sys.path.pop(0)
    return neuralnet


class FailingSecondRename:
    """``os`` for ``autograd.files``, except that the second ``os.replace`` raises ``error``."""

    def __init__(self, error):
        self.error, self.calls = error, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, source, target):
        self.calls += 1
        if self.calls == 2:
            raise self.error
        os.replace(source, target)


@pytest.mark.parametrize(
    "error, status, message",
    [
        (OSError(5, "Input/output error"), 2, "cannot write {v}: Input/output error; {t} replaced, {v}, {m} left as before"),
        (KeyboardInterrupt(), 130, "interrupted while renaming the outputs: {t} replaced, {v}, {m} left as before"),
    ],
    ids=["error", "ctrl-c"],
)  # fmt: skip
def test_a_rename_failing_midway_says_which_outputs_were_replaced(data, neuralnet, monkeypatch, capsys, error,
                                                                  status, message):  # fmt: skip
    with_old_outputs(data)
    t, v, m = (data / name for name in OUTPUTS)
    monkeypatch.setattr(autograd.files, "os", FailingSecondRename(error))  # the writer neuralnet.py uses
    try:
        returned = neuralnet.main([str(data / "train.csv"), str(data / "valid.csv"), t, v, m, "1", "4", "1", "0.1"])
    except KeyboardInterrupt:  # not caught by main(): fail this test rather than stop pytest
        pytest.fail("main() let the KeyboardInterrupt through")
    assert returned == status
    err = capsys.readouterr().err
    assert err == f"neuralnet.py: {message.format(t=t, v=v, m=m)}\n"
    assert t.read_text() != "old t.labels\n" and v.read_text() == "old v.labels\n" and m.read_text() == "old m.txt\n"
    assert not list(data.glob(".*.tmp"))
