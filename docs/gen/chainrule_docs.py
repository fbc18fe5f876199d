"""What the site's build-time code blocks call: drawings, steppers, answers, command output.

The pages run Python while the site is built (markdown-exec, ``exec="1"`` blocks). Those
blocks build tensors with chainrule's public API and hand them to the functions here,
which turn them into HTML through the library's own drawing functions
(``autograd.save_graph``, ``autograd.save_backprop_html``): nothing on the site is a
committed image. Everything is embedded in the page itself (an ``<img>`` with a
``data:`` URL, an ``<iframe srcdoc=...>``), so the built site works from ``file://``
and offline, and nothing is written into the working tree.

``docs/gen/hooks.py`` puts this folder on ``sys.path`` during the build;
``tests/test_docs_snippets.py`` does the same when it runs the pages' blocks.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import os
import re
import shlex
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import autograd

ROOT = Path(__file__).resolve().parents[2]

# The stepper centres the node being processed with scrollIntoView(), which in an
# <iframe> also scrolls the page around it: a page that embeds a stepper would jump down
# to it when opened, and again at every step. Inside the frame this replaces it with the
# same centring done only by the frame's own scrolling (its panels, then its window).
_SCROLL_INSIDE_FRAME = """<script>
(function () {
  if (window.parent === window) return;
  Element.prototype.scrollIntoView = function () {
    var element = this;
    function centre(box, within) {
      var r = element.getBoundingClientRect();
      return [(r.left + r.width / 2) - (within.left + within.width / 2),
              (r.top + r.height / 2) - (within.top + within.height / 2)];
    }
    for (var box = element.parentElement; box; box = box.parentElement) {
      var style = getComputedStyle(box);
      if (/auto|scroll/.test(style.overflowX + " " + style.overflowY)) {
        var d = centre(box, box.getBoundingClientRect());
        box.scrollLeft += d[0];
        box.scrollTop += d[1];
      }
    }
    var d = centre(null, {left: 0, top: 0, width: window.innerWidth, height: window.innerHeight});
    window.scrollBy(d[0], d[1]);
  };
})();
</script>"""


# Embedded in a page's text column, a drawing reads best scaled to the frame's width: tick
# the page's own "fit to window" box once it has loaded (nothing happens if it has none).
_FIT_TO_FRAME = """<script>
(function () {
  var fit = document.getElementById("fit");
  if (fit && !fit.checked) { fit.checked = true; fit.dispatchEvent(new Event("change")); }
})();
</script>"""


def svg(graph_or_tensor: Any, **draw_options: Any) -> str:
    """The SVG text of a drawing, made by ``autograd.save_graph`` (``draw`` options allowed)."""
    with tempfile.TemporaryDirectory() as folder:
        path = autograd.save_graph(graph_or_tensor, os.path.join(folder, "drawing.svg"), **draw_options)
        return path.read_text(encoding="utf-8")


def figure(graph_or_tensor: Any, alt: str, caption: str | None = None, *, width: str | None = None,
           **draw_options: Any) -> str:
    """An HTML ``<figure>`` showing the drawing as an image embedded in the page.

    ``alt`` says in words what the picture shows; ``caption`` (Markdown-free text) is
    written under it; ``width`` (a CSS length) caps its width.
    """
    data = base64.b64encode(svg(graph_or_tensor, **draw_options).encode("utf-8")).decode("ascii")
    style = f' style="max-width: {html.escape(width)}"' if width else ""
    text = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="drawing"><img src="data:image/svg+xml;base64,{data}" '
            f'alt="{html.escape(alt)}"{style}>{text}</figure>')


def stepper(root: autograd.Tensor, *, height: int = 560, title: str | None = None, fit: bool = True,
            **options: Any) -> str:
    """The step-by-step page of ``autograd.save_backprop_html`` in an ``<iframe>``.

    The page is generated now and embedded whole (``srcdoc``), so it works offline and
    from ``file://`` like the file itself would. ``fit`` scales the drawing to the frame.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = autograd.save_backprop_html(root, os.path.join(folder, "steps.html"), title=title, **options)
        page = path.read_text(encoding="utf-8")
    page = page.replace("<head>", "<head>\n" + _SCROLL_INSIDE_FRAME, 1)
    if fit:
        page = page.replace("</body>", _FIT_TO_FRAME + "\n</body>", 1)
    name = title or "Backpropagation, step by step"
    return (f'<iframe class="stepper" title="{html.escape(name)}" style="height: {height}px" '
            f'srcdoc="{html.escape(page, quote=True)}"></iframe>')


def answer(text: str, title: str = "Answer") -> str:
    """A collapsed Material admonition (``??? note``) holding ``text`` (Markdown)."""
    body = textwrap.indent(textwrap.dedent(text).strip(), "    ")
    return f'??? note "{title}"\n\n{body}\n'


def worked_answer(code: str, explanation: str = "", title: str = "Answer") -> str:
    """Run ``code`` now and show it, what it printed, and ``explanation``, collapsed.

    The answer to an exercise is computed by the engine while the site is built: the
    code shown is the code that ran, the output shown is what it printed.
    ``explanation`` is an f-string without the ``f``: ``{x.grad.item():.4f}`` is filled
    from the code's variables.
    """
    code = textwrap.dedent(code).strip() + "\n"
    namespace: dict[str, Any] = {"__name__": "__exercise__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "<exercise>", "exec"), namespace)
    parts = [_fill(textwrap.dedent(explanation).strip(), namespace)] if explanation else []
    parts.append(f"```python\n{code}```")
    if printed.getvalue():
        parts.append(f"```text\n{printed.getvalue().rstrip()}\n```")
    return answer("\n\n".join(parts), title)


def _fill(template: str, namespace: dict[str, Any]) -> str:
    return eval("f" + repr(template), namespace)  # noqa: S307  (the site's own text)


def step_captions(root: autograd.Tensor) -> list[str]:
    """The stepper's caption of every frame, as plain text.

    ``autograd.backprop_frames`` writes each caption as the frame's graph label, a
    Graphviz HTML label (``label=<...>`` in a graph attribute statement); this reads it
    back and drops the markup.
    """
    captions = []
    for frame in autograd.backprop_frames(root):
        statements = [line for line in frame.body if re.match(r"\t(?:\w+=\S+ )*label=<", line)]
        if not statements:
            raise ValueError("a stepper frame without a caption: has backprop_frames changed?")
        text = statements[0]
        start = text.index("label=<") + len("label=")
        depth, end = 0, start
        for end in range(start, len(text)):
            depth += {"<": 1, ">": -1}.get(text[end], 0)
            if depth == 0:
                break
        label = re.sub(r"<BR\s*/?>", " ", text[start + 1:end], flags=re.I)
        captions.append(html.unescape(re.sub(r"<[^>]+>", "", label)))
    return captions


def run(
    *commands: str, files: tuple[str, ...] = (), check: bool = False
) -> tuple[list[str], dict[str, bytes]]:
    """Run shell-like ``commands`` one after another in an empty temporary folder.

    Each command is a string as a user would type it: ``chainrule ...`` (run as
    ``python -m autograd``) or ``python examples/...`` (the repository's examples).
    Returns the terminal transcript of each command (``$ command``, then both of its
    output streams) and the bytes of each file in ``files`` that the commands wrote. With
    ``check``, a command that fails raises instead of being shown.
    """
    env = dict(os.environ, COLUMNS="88", NO_COLOR="1", TERM="dumb", PYTHONIOENCODING="utf-8")
    transcript = []
    with tempfile.TemporaryDirectory() as folder:
        for line in commands:
            words = shlex.split(line)
            if words[0] == "chainrule":
                argv = [sys.executable, "-m", "autograd", *words[1:]]
            elif words[0] == "python" and words[1].startswith("examples/"):
                argv = [sys.executable, str(ROOT / words[1]), *words[2:]]
            else:
                raise ValueError(f"only chainrule and python examples/... commands run here: {line}")
            done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True,
                                  encoding="utf-8", timeout=300)
            if check and done.returncode != 0:
                output = done.stdout + done.stderr
                raise RuntimeError(f"{line} failed with status {done.returncode}:\n{output}")
            transcript.append(f"$ {line}\n{done.stdout}{done.stderr}".rstrip("\n"))
        written = {name: (Path(folder) / name).read_bytes()
                   for name in files if (Path(folder) / name).exists()}
    return transcript, written


def terminal(*commands: str, check: bool = False) -> str:
    """A Markdown ``console`` block: the commands and what they printed."""
    transcripts, _ = run(*commands, check=check)
    return console(*transcripts)


def console(*transcripts: str) -> str:
    """A Markdown ``console`` block holding these transcripts."""
    return "```console\n" + "\n".join(transcripts) + "\n```\n"


def file_figure(name: str, data: bytes | None, alt: str, caption: str | None = None) -> str:
    """An HTML ``<figure>`` for an image file a command wrote (``name`` gives its type).

    ``data`` is ``None`` when the command did not write the file (a plot without
    matplotlib, say): the figure then says so instead of failing the build.
    """
    if data is None:
        return f"<p><em>({html.escape(name)} was not written on the machine that built this page.)</em></p>"
    kind = {"svg": "svg+xml", "png": "png"}[name.rsplit(".", 1)[-1].lower()]
    encoded = base64.b64encode(data).decode("ascii")
    text = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="drawing"><img src="data:image/{kind};base64,{encoded}" '
            f'alt="{html.escape(alt)}">{text}</figure>')
