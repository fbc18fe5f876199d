"""A worksheet's files: questions and answers in Markdown and self-contained HTML, keys, drawings.

Each document is built once as a list of blocks (headings, paragraphs, drawings,
tables, traces) and written twice: as Markdown, whose drawings are SVG files next to
it (``figures/q01-forward.svg``), and as HTML, whose drawings are inline SVG, so the
page is one file that opens offline and prints (each question kept on one page where
it fits). ``key/q01.json`` is the answers file ``chainrule check --answers`` reads;
``worksheet.json`` says how to make the worksheet again.

Everything is made in memory first; ``save_files`` then makes the folders and writes
all files through ``write_files_atomically``: all of them, or none (and no new empty
folder) when something fails.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd
from autograd.files import write_files_atomically
from autograd.teaching.replay import CONVENTIONS
from autograd.viz.graph import stored_array
from autograd.viz.labels import format_number
from autograd.viz.render import render

if TYPE_CHECKING:
    from autograd.teaching.worksheet import Question, Worksheet

_KINDS = {"text", "code", "strong"}


@dataclass
class Block:
    """``kind``: heading (level, text), para (runs), figure (svg, path, alt), table (header, rows),
    trace (markdown text, numbered plain text), code (text)."""

    kind: str
    data: tuple


def _runs(*parts: Any) -> tuple:
    """Paragraph pieces: plain strings, or ("code", text) / ("strong", text)."""
    return tuple(("text", part) if isinstance(part, str) else part for part in parts)


def para(*parts: Any) -> Block:
    return Block("para", _runs(*parts))


# ---- numbers and traces ------------------------------------------------------------------------


def number(value: Any) -> str:
    """A value as the drawings write it (4 significant digits), a list for a vector."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return format_number(array.item()).replace("-", "−")
    return "[" + ", ".join(format_number(v).replace("-", "−") for v in array.ravel().tolist()) + "]"


def numbered_trace(trace: Any) -> str:
    """The text trace with the reverse trace's lines numbered (1 is the start, as in the Markdown table)."""
    lines = trace.render("text").splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("Reverse (adjoint) trace")) + 1
    width = len(str(len(trace.adjoint)))
    for k in range(len(trace.adjoint)):
        lines[start + k] = f"{k + 1:>{width}} " + lines[start + k]
    return "\n".join(lines)


def _point(question: Question) -> list[Any]:
    parts: list[Any] = []
    for k, (name, value) in enumerate(question.values.items()):
        parts += [", " if k else "", ("code", f"{name} = {number(value)}")]
    return parts


def _convention_text(conventions: str | None) -> str:
    if conventions is None:
        return "ReLU'(0) = 0, as in PyTorch (the engine's convention)"
    return f"those of {CONVENTIONS[conventions][0]}"


# ---- the documents --------------------------------------------------------------------------------


def _svg(question: Question, show: str) -> bytes:
    graph = autograd.draw(question.output, show=show, legend=False, rankdir="TB")
    return render(graph, "svg")


def question_blocks(sheet: Worksheet, figures: dict[str, bytes]) -> list[Block]:
    settings = sheet.settings
    blocks = [Block("heading", (1, sheet.title)),
              para(f"{len(sheet.questions)} questions. Derivative conventions: "
                   f"{_convention_text(settings['conventions'])}. Give each answer to 4 significant digits.")]
    for question in sheet.questions:
        blocks.append(Block("heading", (2, f"Question {question.number}"
                                           + (": find the bug" if question.kind == "find-the-bug" else ""))))
        blocks.append(para("f = ", ("code", question.expression), " at ", *_point(question), "."))
        if question.kind == "gradients":
            path = f"figures/q{question.number:02d}-forward.svg"
            names = [question.replay.name(t) for t in question.replay.order]
            blocks.append(para("Compute ∂f/∂n for every node n of the graph below (its values are "
                               "filled in): ", *_join_code(sorted(names, key=_natural)), "."))
            blocks.append(Block("figure", (figures[path], path,
                                           f"The graph of question {question.number}: values, no gradients")))
        else:
            blocks.append(para("One line of the reverse trace below uses a wrong local rule; every other "
                               "line applies the right rule to the numbers before it, so the lines after "
                               "the wrong one carry its mistake. Which line is wrong, and what should it "
                               "say?"))
            blocks.append(Block("trace", (question.trace.render("markdown"), numbered_trace(question.trace))))
    return blocks


def answer_blocks(sheet: Worksheet, figures: dict[str, bytes]) -> list[Block]:
    blocks = [Block("heading", (1, f"{sheet.title}: answers")),
              para("Every number here is computed by chainrule's engine (the backward pass replayed on "
                   "the recorded graph), under the derivative conventions "
                   f"{_convention_text(sheet.settings['conventions'])}. Each key/qNN.json file is an "
                   "answers file for ", ("code", "chainrule check"), ". The same worksheet again: ",
                   ("code", sheet.command() + " -o DIR"), ".")]
    for question in sheet.questions:
        played = question.replay
        value = played.output.data
        blocks.append(Block("heading", (2, f"Question {question.number}"
                                           + (": find the bug" if question.kind == "find-the-bug" else ""))))
        blocks.append(para("f = ", ("code", question.expression), " at ", *_point(question),
                           f": f = {number(value)}."))
        if question.kind == "gradients":
            path = f"figures/q{question.number:02d}-backward.svg"
            blocks.append(Block("figure", (figures[path], path,
                                           f"The graph of question {question.number} with its gradients")))
            rows = [(played.name(t), number(stored_array(t)), number(played.gradients[t]))
                    for t in played.order]
            blocks.append(Block("table", (("node", "value", "∂f/∂node"), rows)))
            blocks.append(para("Check a student's answers (a JSON file of node → ∂f/∂node) with ",
                               ("code", question.command("check", "--answers", "answers.json")),
                               f"; key/q{question.number:02d}.json is this key in that format."))
            trace = question.trace
        else:
            bug = question.bug
            blocks.append(para(("strong", f"Line {bug.line} is wrong."), " It uses ",
                               ("code", bug.wrong_rule), f" as the local rule of {bug.op} for its "
                               f"{_ordinal(bug.argument)} input; the rule is ", ("code", bug.right_rule),
                               f". It sends {number(bug.wrong_value)} to {bug.node}; it should send "
                               f"{number(bug.right_value)}."))
            if bug.spoiled:
                listed = ", ".join(str(k) for k in bug.spoiled)
                blocks.append(para(f"Lines {listed} follow from it: right rules, wrong numbers."
                                   if len(bug.spoiled) > 1 else f"Line {listed} follows from it: the right "
                                   "rule, a wrong number."))
            blocks.append(para("The trace without the bug:"))
            trace = question.correct_trace()
        blocks.append(Block("trace", (trace.render("markdown"), numbered_trace(trace))))
    return blocks


def _ordinal(argument: int) -> str:
    return ("first", "second", "third")[argument] if argument < 3 else f"input {argument + 1}"


def _join_code(names: list[str]) -> list[Any]:
    parts: list[Any] = []
    for k, name in enumerate(names):
        parts += [", " if k else "", ("code", name)]
    return parts


def _natural(name: str) -> tuple:
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return (head != "f", head not in ("x", "y", "z", "w"), head, int(tail) if tail else -1)


# ---- Markdown -----------------------------------------------------------------------------------


def _md_runs(runs: tuple) -> str:
    out = []
    for kind, text in runs:
        if kind == "code":
            ticks = "``" if "`" in text else "`"
            out.append(f"{ticks}{text}{ticks}")
        elif kind == "strong":
            out.append(f"**{text}**")
        else:
            out.append(re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text))
    return "".join(out)


def markdown(blocks: list[Block]) -> str:
    out = []
    for block in blocks:
        if block.kind == "heading":
            level, text = block.data
            out.append("#" * level + " " + text)
        elif block.kind == "para":
            out.append(_md_runs(block.data))
        elif block.kind == "figure":
            _, path, alt = block.data
            out.append(f"![{alt}]({path})")
        elif block.kind == "table":
            header, rows = block.data
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(_md_runs((("text", cell),)) for cell in row) + " |" for row in rows]
            out.append("\n".join(lines))
        elif block.kind == "trace":
            out.append(block.data[0])
        else:
            out.append("```\n" + block.data[0] + "\n```")
    return "\n\n".join(out) + "\n"


# ---- HTML ------------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 52rem;
       margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
code { background: #f3f3f3; padding: 0 0.2em; border-radius: 3px; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.7rem; overflow-x: auto; line-height: 1.35; }
figure { margin: 1rem 0; text-align: center; }
figure svg { max-width: 100%; height: auto; max-height: 32rem; }
figcaption { font-size: 0.85rem; color: #555; }
table { border-collapse: collapse; margin: 0.8rem 0; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.7rem; text-align: left; }
th { background: #eee; }
section { break-inside: avoid-page; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
               pre { white-space: pre-wrap; } }
"""


def _html_runs(runs: tuple) -> str:
    out = []
    for kind, text in runs:
        escaped = html.escape(text)
        out.append(f"<code>{escaped}</code>" if kind == "code" else f"<strong>{escaped}</strong>"
                   if kind == "strong" else escaped)
    return "".join(out)


def inline_svg(svg: bytes, prefix: str, alt: str) -> str:
    """An SVG file's text ready to sit inside HTML: no XML prolog, ids made unique, labelled."""
    text = svg.decode("utf-8")
    text = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", text, flags=re.S).strip()
    text = re.sub(r'\bid="', f'id="{prefix}-', text)
    text = re.sub(r'(xlink:href|href)="#', rf'\1="#{prefix}-', text)
    text = re.sub(r"url\(#", f"url(#{prefix}-", text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{html.escape(alt)}" ', 1)


def page(title: str, blocks: list[Block]) -> str:
    body: list[str] = []
    open_section = False
    for number, block in enumerate(blocks):
        if block.kind == "heading":
            level, text = block.data
            if level == 2:
                if open_section:
                    body.append("</section>")
                body.append("<section>")
                open_section = True
            body.append(f"<h{level}>{html.escape(text)}</h{level}>")
        elif block.kind == "para":
            body.append(f"<p>{_html_runs(block.data)}</p>")
        elif block.kind == "figure":
            svg, _, alt = block.data
            body.append(f"<figure>{inline_svg(svg, f'd{number}', alt)}"
                        f"<figcaption>{html.escape(alt)}</figcaption></figure>")
        elif block.kind == "table":
            header, rows = block.data
            head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
            cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                            for row in rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
        elif block.kind == "trace":
            body.append(f"<pre>{html.escape(block.data[1])}</pre>")
        else:
            body.append(f"<pre>{html.escape(block.data[0])}</pre>")
    if open_section:
        body.append("</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


# ---- all the files -----------------------------------------------------------------------------------


def worksheet_files(sheet: Worksheet) -> list[tuple[str, bytes]]:
    """Every file, in memory: (path relative to the worksheet's folder, bytes)."""
    figures: dict[str, bytes] = {}
    keys: list[tuple[str, bytes]] = []
    for question in sheet.questions:
        if question.kind != "gradients":
            continue
        stem = f"figures/q{question.number:02d}"
        figures[f"{stem}-forward.svg"] = _svg(question, "forward")
        figures[f"{stem}-backward.svg"] = _svg(question, "backward")
        keys.append((f"key/q{question.number:02d}.json",
                     (json.dumps(question.answers, indent=2, ensure_ascii=False) + "\n").encode("utf-8")))
    questions, answers = question_blocks(sheet, figures), answer_blocks(sheet, figures)
    return [
        ("questions.md", markdown(questions).encode("utf-8")),
        ("questions.html", page(sheet.title, questions).encode("utf-8")),
        ("answers.md", markdown(answers).encode("utf-8")),
        ("answers.html", page(f"{sheet.title}: answers", answers).encode("utf-8")),
        *sorted(figures.items()),
        *keys,
        ("worksheet.json", worksheet_settings_json(sheet)),
    ]


def check_folder(folder: Path) -> None:
    """The folder is a writable folder, or can be made in the nearest one that exists."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"cannot write into {folder}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):
        raise ValueError(f"cannot write into {folder}: the folder {existing} is not writable")


def save_files(folder: Path, files: list[tuple[str, bytes]]) -> list[Path]:
    """Make the folders, write every file atomically; on a failure remove the folders made."""
    check_folder(folder)
    wanted = sorted({folder} | {(folder / name).parent for name, _ in files}, key=lambda p: len(p.parts))
    made: list[Path] = []
    try:
        for target in wanted:
            missing = []
            while not target.exists() and target != target.parent:
                missing.append(target)
                target = target.parent
            for path in reversed(missing):
                path.mkdir()
                made.append(path)
        for target in wanted:
            if not target.is_dir():
                raise ValueError(f"cannot write into {target}: it is a file, not a folder")
        return write_files_atomically([(folder / name, data) for name, data in files])
    except BaseException:
        for path in reversed(made):
            with contextlib.suppress(OSError):
                path.rmdir()
        raise


def worksheet_settings_json(sheet: Worksheet) -> bytes:
    """``worksheet.json``: the settings, and each question's expression, point and kind."""
    data = {"settings": sheet.settings,
            "questions": [{"number": q.number, "kind": q.kind, "expression": q.expression,
                           "at": q.at_arguments(), "command": q.command(),
                           **({"key": f"key/q{q.number:02d}.json"} if q.kind == "gradients" else
                              {"wrong_line": q.bug.line if q.bug else None})}
                          for q in sheet.questions]}
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
