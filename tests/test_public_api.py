"""What ``import autograd`` offers: public names only, and tab completion finds the drawing functions."""

from __future__ import annotations

import types

import autograd


def test_all_lists_only_public_objects_of_chainrule():
    for name in autograd.__all__:
        assert not name.startswith("_") or name == "__version__"
        value = getattr(autograd, name)
        if isinstance(value, types.ModuleType):
            assert value.__name__.startswith("autograd"), name  # not numpy, not typing
    assert not {"np", "engine", "grad_mode", "Any", "Sequence", "sh", "annotations"} & set(autograd.__all__)
    assert len(autograd.__all__) == len(set(autograd.__all__))


def test_dir_offers_the_lazily_loaded_drawing_functions():
    names = dir(autograd)
    for name in ("draw", "save_graph", "save_backprop_html", "backprop_frames", "Tensor", "grad"):
        assert name in names


def test_star_import_gives_the_functional_api():
    namespace: dict = {}
    exec("from autograd import *", namespace)
    assert {"Tensor", "sin", "grad", "no_grad", "draw"} <= set(namespace)
    assert "np" not in namespace


def test_license_file_matches_the_package_metadata():
    import configparser
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    assert config["metadata"]["license"] == "MIT"
    assert (root / "LICENSE").read_text().startswith("MIT License")
    assert (root / "CHANGELOG.md").is_file()


def test_the_compiled_path_is_offered_as_autograd_compile():
    import numpy as np

    assert {"compile", "compile_step", "CompileError"} <= set(autograd.__all__)
    w = autograd.Tensor(np.array([0.5, -1.0]), requires_grad=True)
    step = autograd.compile(lambda x: (x * w).tanh().sum())
    step(np.array([1.0, 2.0])).backward()
    np.testing.assert_allclose(w.grad.data, (1 - np.tanh(np.array([0.5, -2.0])) ** 2) * [1.0, 2.0])
