"""Worksheets: reproducible random questions whose keys are the engine's, and ``chainrule worksheet``.

The keys are checked three ways: against ``backward()`` (leaves' ``.grad``, and every
node's gradient through ``retain_grad``), by ``check_gradients`` (all right), and by
``chainrule check --answers key/qNN.json`` (exit 0). A find-the-bug question's wrong
trace, given as a student's answers, is checked too: the first mistake ``check_gradients``
finds is the node the wrong line sends to.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re

import numpy as np
import pytest

from autograd import cli
from autograd.expression import parse_expression
from autograd.teaching import check_gradients
from autograd.teaching.worksheet import (
    MISTAKES,
    OPS,
    add_worksheet_command,
    build_question,
    worksheet,
)
from autograd.viz.render import can_render

needs_svg = pytest.mark.skipif(not can_render("svg"), reason="install Graphviz or the render extra")
HOMEWORK = dict(count=10, ops="mul,add,sin,sigmoid,relu", depth=4)


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(argv))
    return status, out.getvalue(), err.getvalue()


def _at(question) -> list[str]:
    return [word for value in question.at_arguments() for word in ("--at", value)]


# ---- the questions ---------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_worksheet_and_each_student_another():
    first, again = worksheet(7, **HOMEWORK), worksheet(7, **HOMEWORK)
    assert [q.expression for q in first.questions] == [q.expression for q in again.questions]
    assert [q.at_arguments() for q in first.questions] == [q.at_arguments() for q in again.questions]
    student3 = [q.expression for q in worksheet(7, student=3, **HOMEWORK).questions]
    assert student3 == [q.expression for q in worksheet(7, student=3, **HOMEWORK).questions]
    assert student3 != [q.expression for q in first.questions]
    assert student3 != [q.expression for q in worksheet(7, student=4, **HOMEWORK).questions]
    assert len(first.questions) == 10 and "10 gradient questions" in repr(first)


def test_questions_are_in_the_cli_grammar_at_the_asked_depth_with_a_node_used_twice():
    sheet = worksheet(11, count=20, ops="mul,add,sub,div,sin,cos,exp,log,tanh,sigmoid,relu,square", depth=4)
    for question in sheet.questions:
        parse_expression(question.expression)  # the CLI's parser accepts it
        tensors = question.replay.view.tensors
        computed = [t for t in tensors if t.grad_fn is not None]
        depth = {}
        for tensor in tensors:
            parents = tensor.grad_fn.inputs if tensor.grad_fn is not None else ()
            depth[tensor] = 1 + max(depth.get(p, 0) for p in parents) if parents else 0
        assert depth[question.output] == 4, question.expression
        assert computed and all(t.grad_fn.op.name in OPS + ("pow",) for t in computed)
        leaves = [t for t in question.replay.order if t.grad_fn is None]
        assert any(len(question.replay.received[t]) > 1 for t in leaves), question.expression
        for tensor in tensors:
            assert np.all(np.isfinite(tensor.data))


def test_the_key_is_the_engines_backward():
    for question in worksheet(3, **HOMEWORK).questions:
        rebuilt = build_question(question.expression, question.values)
        for tensor in rebuilt.replay.view.tensors:
            if tensor.grad_fn is not None:
                tensor.retain_grad()
        rebuilt.output.backward()
        names = {rebuilt.replay.name(t): t for t in rebuilt.replay.view.tensors}
        for name, value in question.answers.items():
            grad = names[name].grad
            assert grad is not None, name
            np.testing.assert_allclose(grad.data, value, rtol=1e-12, atol=1e-15, err_msg=name)
        assert check_gradients(question.output, question.answers).ok


@needs_svg
def test_chainrule_check_finds_every_key_all_right(tmp_path):
    sheet = worksheet(5, count=4, ops="mul,add,sin,sigmoid,relu,tanh", depth=3, vectors=True)
    sheet.save(tmp_path)
    for question in sheet.questions:
        key = tmp_path / "key" / f"q{question.number:02d}.json"
        status, out, err = _cli("check", question.expression, *_at(question), "--answers", str(key))
        assert status == 0, out + err
        assert "All right" in out
        status, out, err = _cli("draw", question.expression, *_at(question))  # what a student types
        assert status == 0, err


def test_vectors_broadcast_and_their_answers_are_lists():
    sheet = worksheet(2, count=5, ops="mul,add,sin", depth=3, vectors=True)
    for question in sheet.questions:
        assert question.expression.startswith("sum(")
        assert question.values["x"].shape == (3,)
        assert isinstance(question.answers["x"], list) and len(question.answers["x"]) == 3
        assert any(a.startswith("x=[") for a in question.at_arguments())
        assert check_gradients(question.output, question.answers).ok


def _relus_at_zero(question):
    return [t for t in question.replay.view.tensors
            if t.grad_fn is not None and t.grad_fn.op.name == "relu" and t.grad_fn.inputs[0].data == 0]


def test_a_relu_at_zero_and_the_courses_convention():
    sheet = worksheet(4, count=6, ops="mul,add,sin,relu", depth=4, relu_at_zero=True)
    for question in sheet.questions:
        assert _relus_at_zero(question), question.expression
    cmu = worksheet(4, count=6, ops="mul,add,sin,relu", depth=4, relu_at_zero=True, conventions="cmu-10601")
    differs = 0
    for mine, theirs in zip(sheet.questions, cmu.questions):
        assert mine.expression == theirs.expression
        assert check_gradients(theirs.output, theirs.answers, conventions="cmu-10601").ok
        assert "--conventions cmu-10601" in theirs.command("check")
        differs += any(not np.allclose(mine.answers[k], theirs.answers[k]) for k in mine.answers)
    assert differs  # ReLU'(0) = 1 changes some answers


# ---- find the bug -------------------------------------------------------------------------------


def test_find_the_bug_has_one_wrong_line_and_the_rest_follows_from_it():
    sheet = worksheet(9, count=0, bugs=8, ops="mul,add,sub,sin,cos,sigmoid,tanh,relu,exp", depth=3)
    for question in sheet.questions:
        bug = question.bug
        assert question.kind == "find-the-bug" and bug is not None
        row = question.trace.adjoint[bug.line - 1]
        assert row.kind == "edge" and row.edge.rule == bug.wrong_rule
        assert bug.wrong_rule in MISTAKES[(bug.op, bug.argument)]
        assert not np.allclose(bug.wrong_value, bug.right_value)
        right = question.correct_trace()
        assert right.adjoint[bug.line - 1].edge.rule == bug.right_rule
        for number, (buggy, good) in enumerate(zip(question.trace.adjoint, right.adjoint), start=1):
            same = np.allclose(buggy.value, good.value, rtol=1e-9, atol=1e-12)
            assert same == (number < bug.line or (number > bug.line and number not in bug.spoiled)), number
        # the wrong trace's gradients as a student's answers: the first mistake is where the bug sends
        played = question.trace.replay
        answers = {played.name(t): np.asarray(played.gradients[t]).tolist() for t in played.order}
        report = check_gradients(question.output, answers)
        assert not report.ok and report.first_error.name == bug.node
        assert all(c.status in ("right", "follows") for c in report.checks if c is not report.first_error)
        # the text shows the wrong rule on that line, numbered
        text = "\n".join(line for line in _numbered(question) if line.lstrip().startswith(f"{bug.line} "))
        assert text


def _numbered(question):
    from autograd.teaching.worksheet_files import numbered_trace

    return numbered_trace(question.trace).splitlines()


# ---- files ------------------------------------------------------------------------------------------


@needs_svg
def test_files_questions_answers_keys_and_self_contained_html(tmp_path):
    sheet = worksheet(7, count=2, bugs=1, ops="mul,add,sin,sigmoid,relu", depth=3, title="Homework 5 practice")
    paths = sheet.save(tmp_path / "hw")
    names = sorted(p.relative_to(tmp_path / "hw").as_posix() for p in paths)
    assert names == sorted(["questions.md", "questions.html", "answers.md", "answers.html", "worksheet.json",
                            "figures/q01-forward.svg", "figures/q01-backward.svg", "figures/q02-forward.svg",
                            "figures/q02-backward.svg", "key/q01.json", "key/q02.json"])
    questions = (tmp_path / "hw" / "questions.html").read_text(encoding="utf-8")
    answers = (tmp_path / "hw" / "answers.html").read_text(encoding="utf-8")
    for page in (questions, answers):
        assert page.count("<svg") == 2 and "<img" not in page and "<script" not in page
        assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert len(ids) == len(set(ids))
    assert "Homework 5 practice" in questions and "Line " in answers
    assert "∂f/∂" not in questions.split("<svg")[1].split("</svg>")[0]  # gradients blank
    assert "∂f/∂" in answers.split("<svg")[1].split("</svg>")[0]
    markdown = (tmp_path / "hw" / "questions.md").read_text(encoding="utf-8")
    assert "](figures/q01-forward.svg)" in markdown and "find the bug" in markdown
    key = json.loads((tmp_path / "hw" / "key" / "q01.json").read_text(encoding="utf-8"))
    assert key == sheet.questions[0].answers and key["f"] == 1.0
    settings = json.loads((tmp_path / "hw" / "worksheet.json").read_text(encoding="utf-8"))["settings"]
    again = worksheet(**{k: v for k, v in settings.items()})
    assert [q.expression for q in again.questions] == [q.expression for q in sheet.questions]


def test_bad_arguments_are_value_errors():
    for kwargs, words in [(dict(ops="mul,tan"), "unknown op 'tan'"), (dict(depth=0), "depth"),
                          (dict(count=0), "at least one question"), (dict(seed=-1), "seed"),
                          (dict(depth=2, relu_at_zero=True), "depth ≥ 3"),
                          (dict(conventions="mit"), "unknown conventions")]:
        with pytest.raises(ValueError, match=re.escape(words)):
            worksheet(**kwargs)


# ---- the command ---------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _run_command(*argv: str) -> tuple[int, str, str]:
    parser = _Parser(prog="chainrule")
    add_worksheet_command(parser.add_subparsers(dest="command", required=True, parser_class=_Parser))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            arguments = parser.parse_args(list(argv))
            status = arguments.handler(arguments)
        except SystemExit as stop:
            status = stop.code
    return status, out.getvalue(), err.getvalue()


@needs_svg
def test_chainrule_worksheet_writes_the_folder(tmp_path):
    target = tmp_path / "course" / "hw"
    status, out, err = _run_command("worksheet", "--seed", "7", "--count", "3", "--ops", "mul,add,sin,sigmoid,relu",
                                    "--depth", "4", "--bugs", "1", "--student", "3", "-o", str(target))
    assert status == 0, err
    assert "3 gradient questions, 1 find-the-bug" in out
    assert (target / "questions.html").is_file() and (target / "key" / "q03.json").is_file()
    expected = [q.expression for q in worksheet(7, count=3, ops="mul,add,sin,sigmoid,relu", depth=4, bugs=1,
                                                student=3).questions]
    written = json.loads((target / "worksheet.json").read_text(encoding="utf-8"))["questions"]
    assert [q["expression"] for q in written] == expected


@pytest.mark.parametrize("argv, words", [
    (["--ops", "mul,tan"], "unknown op 'tan'"),
    (["--depth", "0"], "depth must be"),
    (["--depth", "2", "--relu-at-zero"], "depth ≥ 3"),
    (["--count", "many"], "invalid int value"),
])
def test_chainrule_worksheet_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path, argv, words):
    target = tmp_path / "new" / "hw"
    status, out, err = _run_command("worksheet", *argv, "-o", str(target))
    assert status == 2 and words in err and err.count("\n") == 1
    assert not (tmp_path / "new").exists()


@needs_svg
def test_a_failure_midway_leaves_no_file_and_no_new_folder(tmp_path, monkeypatch):
    from autograd.teaching import worksheet_files
    from autograd.viz.render import RenderError

    calls = []

    def failing(graph, fmt):
        calls.append(fmt)
        if len(calls) == 3:
            raise RenderError("Graphviz failed")
        return b"<svg></svg>"

    monkeypatch.setattr(worksheet_files, "render", failing)
    target = tmp_path / "hw"
    status, _, err = _run_command("worksheet", "--count", "2", "-o", str(target))
    assert status == 2 and "Graphviz failed" in err
    assert not target.exists()
    (tmp_path / "blocker").write_text("a file")
    status, _, err = _run_command("worksheet", "--count", "1", "-o", str(tmp_path / "blocker" / "hw"))
    assert status == 2 and "is a file" in err


def test_the_answers_say_how_to_make_the_worksheet_again():
    sheet = worksheet(7, count=2, bugs=1, ops="mul,add,sin", depth=3, student=3, relu_at_zero=False,
                      title="CMU 10-601 homework 5 practice")
    command = sheet.command()
    assert command.startswith("chainrule worksheet --seed 7 --student 3 --count 2 --bugs 1 --depth 3")
    assert "--title 'CMU 10-601 homework 5 practice'" in command
    parser = _Parser(prog="chainrule")
    add_worksheet_command(parser.add_subparsers(dest="command", parser_class=_Parser))
    import shlex

    arguments = parser.parse_args(shlex.split(command)[1:] + ["-o", "hw"])
    again = worksheet(arguments.seed, arguments.count, ops=arguments.ops, depth=arguments.depth,
                      student=arguments.student, bugs=arguments.bugs, variables=arguments.variables,
                      reuse=arguments.reuse, relu_at_zero=arguments.relu_at_zero, vectors=arguments.vectors,
                      conventions=arguments.conventions, title=arguments.title)
    assert [q.expression for q in again.questions] == [q.expression for q in sheet.questions]
    assert again.title == sheet.title


@needs_svg
def test_files_of_an_earlier_larger_worksheet_are_noted(tmp_path):
    assert _run_command("worksheet", "--count", "3", "-o", str(tmp_path))[0] == 0
    status, out, _ = _run_command("worksheet", "--count", "1", "-o", str(tmp_path))
    assert status == 0 and "note:" in out and "key/q02.json" in out and "figures/q03-forward.svg" in out
