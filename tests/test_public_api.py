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


def test_teaching_tools_are_offered_from_autograd():
    x = autograd.Tensor(2.0, requires_grad=True, name="x")
    y = x * x
    y.name = "y"
    report = autograd.check_gradients(y, {"x": 4.0})
    assert report.ok
    assert not autograd.check_gradients(y, {"x": 2.0}).ok
    assert "∂y/∂x = x̄ = 4" in str(autograd.chain_rule_trace(y))
    assert "iframe" in autograd.stepper(y)._repr_html_()


def test_a_drawing_in_a_notebook_without_a_renderer_shows_the_hint_and_the_dot_source(monkeypatch):
    from autograd.viz import render as render_module

    y = autograd.Tensor(2.0, requires_grad=True) * 3

    def no_renderer(*args, **kwargs):
        raise render_module.GraphvizNotFoundError("install Graphviz or the render extra")

    monkeypatch.setattr(render_module, "render", no_renderer)
    bundle = autograd.draw(y)._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert "install Graphviz" in bundle["text/plain"] and "digraph" in bundle["text/plain"]
