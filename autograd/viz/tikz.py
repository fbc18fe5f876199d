r"""TikZ figures for lecture notes: ``autograd.save_graph(graph, "figure.tex")``.

The file is a ``tikzpicture`` to ``\input`` into a LaTeX document that loads TikZ::

    \usepackage{tikz}                 % in the preamble
    ...
    \begin{figure}\centering \input{figure.tex} \caption{...} \end{figure}

* Nodes sit where Graphviz puts them (one unit is one PostScript point, ``bp``), and
  edges follow Graphviz's curves, so the figure looks like the PNG or SVG drawing.
* Text is typeset by LaTeX in the document's font: names and numbers as math
  (``w11 = 0.5`` becomes ``$w_{11} = 0.5$``, ``∂J/∂w11`` becomes
  ``$\partial J/\partial w_{11}$``, ``1e-07`` becomes ``$1\times10^{-7}$``), and every
  TeX special character of a user's name is escaped.
* Each role is a TikZ style defined with ``\tikzset`` at the top of the file —
  ``chainrule parameter``, ``chainrule data``, ``chainrule constant``, ``chainrule
  value`` (a computed value), ``chainrule output``, ``chainrule op``, ``chainrule box``
  (a collapsed subgraph), ``chainrule cluster``, ``chainrule edge``, ``chainrule
  gradient edge``, ``chainrule role`` (the ``a``/``b`` on edges) — with colours named
  ``chainrule...`` (``\definecolor``); a gradient line is ``\chainrulegradient{...}``.
  Edit them there, or restyle every figure of a document from its preamble by
  defining the style ``chainrule restyle``, applied after the defaults::

      \tikzset{chainrule restyle/.style={
          chainrule parameter/.append style={fill=blue!15},
          chainrule picture/.append style={x=0.8bp, y=0.8bp}}}

* A drawing made with ``style="print"`` gets the greyscale styles (dashed data,
  double-bordered output, bold gradients). The legend is left out: a figure's
  caption explains it in a document.

The layout comes from Graphviz's ``dot`` (``dot -Tjson``), or from the pip-only
renderer of the ``render`` extra; no TeX installation is needed to write the file.
It uses TikZ alone, no TikZ library, so it can be ``\input`` anywhere, even twice.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

import graphviz

from autograd.viz.renderers import html_labels_to_plain, layout
from autograd.viz.styles import PRINT, SCREEN, Style

# ---- text as TeX -----------------------------------------------------------------------

# Characters a drawing writes, as math. Greek letters, operators, arrows, dots.
MATH_SYMBOLS = {
    "∂": r"\partial ", "×": r"\times ", "÷": r"\div ", "−": "-", "·": r"\cdot ", "√": r"\surd ",
    "Σ": r"\Sigma ", "∑": r"\sum ", "∞": r"\infty ", "⋯": r"\cdots ", "…": r"\ldots ", "→": r"\to ",
    "≈": r"\approx ", "≤": r"\le ", "≥": r"\ge ", "±": r"\pm ", "∇": r"\nabla ", "∈": r"\in ",
    "α": r"\alpha ", "β": r"\beta ", "γ": r"\gamma ", "δ": r"\delta ", "ε": r"\varepsilon ",
    "ζ": r"\zeta ", "η": r"\eta ", "θ": r"\theta ", "ι": r"\iota ", "κ": r"\kappa ",
    "λ": r"\lambda ", "μ": r"\mu ", "ν": r"\nu ", "ξ": r"\xi ", "π": r"\pi ", "ρ": r"\rho ",
    "σ": r"\sigma ", "τ": r"\tau ", "υ": r"\upsilon ", "φ": r"\phi ", "χ": r"\chi ", "ψ": r"\psi ",
    "ω": r"\omega ", "Γ": r"\Gamma ", "Δ": r"\Delta ", "Θ": r"\Theta ", "Λ": r"\Lambda ",
    "Ξ": r"\Xi ", "Π": r"\Pi ", "Φ": r"\Phi ", "Ψ": r"\Psi ", "Ω": r"\Omega ",
    # TeX's special characters, and ASCII that math mode would change
    "{": r"\{", "}": r"\}", "_": r"\_", "&": r"\&", "%": r"\%", "#": r"\#", "$": r"\$",
    "\\": r"\backslash ", "^": r"\mathbin{\mbox{\textasciicircum}}", "~": r"\mbox{\textasciitilde}",
    '"': r"\mbox{\textquotedblright}", "`": r"\mbox{\textasciigrave}", "|": r"\vert ",
    "*": r"\ast ", "'": r"\mbox{\textquoteright}", " ": " ",
}
ACCENTS = {"\u0302": r"\hat", "\u0304": r"\bar", "\u0303": r"\tilde", "\u0307": r"\dot",
           "\u0308": r"\ddot", "\u20d7": r"\vec", "\u0301": r"\acute", "\u0300": r"\grave"}
FUNCTIONS = {"exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "max", "min", "ln"}
SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+"))
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789"))

_MARKS = "\u0300-\u036f\u20d0-\u20ff"
_TOKEN = re.compile(
    rf"(?P<number>\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![A-Za-z]))"
    rf"|(?P<name>[A-Za-z][{_MARKS}]*(?:[A-Za-z0-9_][{_MARKS}]*)*)"
    rf"|(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)|(?P<sub>[₀₁₂₃₄₅₆₇₈₉]+)"
    r"|(?P<space>\s+)|(?P<other>.)",
    re.S,
)


def tex_math(text: str) -> str:
    r"""A drawing's line of text as TeX math (without the ``$``): names, numbers, symbols.

    >>> tex_math("∂J/∂w11 = 1e-07")
    '\\partial J/\\partial w_{11} = 1\\times 10^{-7}'
    >>> tex_math("ŷ1 = 0.6529 so far")
    '\\hat{y}_{1} = 0.6529\\ \\mathrm{so}\\ \\mathrm{far}'
    >>> tex_math('<b>" ]; {x}')
    '<b>\\mbox{\\textquotedblright} ];\\ \\{x\\}'
    """
    text = unicodedata.normalize("NFD", text)
    pieces: list[str] = []
    previous = ""  # the kind of the last piece: "word" (a name or number), "punct", "op"
    spaced = False
    for match in _TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "space":
            spaced = bool(pieces)
            continue
        if kind == "number":
            piece, now = _tex_number(token), "word"
        elif kind == "name":
            piece, now = _tex_name(token), "word"
        elif kind == "sup":
            piece, now = "^{" + "".join(SUPERSCRIPTS[c] for c in token) + "}", "sup"
        elif kind == "sub":
            piece, now = "_{" + "".join(SUBSCRIPTS[c] for c in token) + "}", "sup"
        elif token in ",;:":
            piece, now = (r"\mathpunct{:}" if token == ":" else token), "punct"
        elif token in "([{":
            piece, now = MATH_SYMBOLS.get(token, token), "open"
        elif token in ")]}":
            piece, now = MATH_SYMBOLS.get(token, token), "close"
        elif token in ACCENTS:
            continue  # a mark on a symbol that is not a letter: dropped
        else:
            piece = MATH_SYMBOLS.get(token)
            if piece is None:
                piece = token if token.isascii() else rf"\mbox{{{token}}}"
            now = "word" if (token.isalpha() or piece.endswith("mbox{" + token + "}")) else "op"
        if spaced:  # a space that TeX's math spacing would not make is written "\ "
            words = previous in ("word", "punct", "close", "sup") and now in ("word", "open")
            pieces.append(r"\ " if words else " ")
        pieces.append(piece)
        previous, spaced = now, False
    return "".join(pieces).strip()


def _tex_number(token: str) -> str:
    mantissa, _, exponent = token.partition("e")
    if not exponent:
        return token
    power = int(exponent)
    return rf"{mantissa}\times 10^{{{power}}}"


def _tex_name(token: str) -> str:
    """``w11`` -> ``w_{11}``, ``w_out`` -> ``w_{\\mathrm{out}}``, ``exp`` -> ``\\exp``, ``J`` -> ``J``,
    ``loss`` -> ``\\mathrm{loss}``."""
    letters = [_accented(m.group(1), m.group(2)) for m in re.finditer(rf"([A-Za-z0-9_])([{_MARKS}]*)", token)]
    plain = re.sub(rf"[{_MARKS}]", "", token)
    if plain in FUNCTIONS:
        return "\\" + plain + " "
    if plain == "inf":
        return r"\infty "
    single = re.fullmatch(r"([A-Za-z])_?(\d+)", plain)
    if len(plain) == 1:
        return letters[0]
    if single:
        return f"{letters[0]}_{{{single.group(2)}}}"
    subscript = re.fullmatch(r"([A-Za-z])_([A-Za-z0-9]+)", plain)
    if subscript:
        return rf"{letters[0]}_{{\mathrm{{{subscript.group(2)}}}}}"
    body = "".join(r"\_" if c == "_" else c for c in letters)
    return rf"\mathrm{{{body}}}"


def _accented(letter: str, marks: str) -> str:
    for mark in marks:
        if mark in ACCENTS:
            letter = f"{ACCENTS[mark]}{{{letter}}}"
    return letter


_TEXT_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                  "^": r"\textasciicircum{}", "_": r"\_", "~": r"\textasciitilde{}", "%": r"\%",
                  "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", '"': "''"}


def tex_text(text: str) -> str:
    r"""Prose (a caption) as TeX text: specials escaped, symbols as inline math.

    >>> tex_text("Step 1: ∂J/∂ŷ1 = 50% & more_")
    'Step 1: $\\partial$J/$\\partial$\\^{y}1 = 50\\% \\& more\\_'
    """
    out: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if char in _TEXT_ACCENTS and out:
            out[-1] = f"{_TEXT_ACCENTS[char]}{{{out[-1]}}}"
        elif char in _TEXT_SPECIALS:
            out.append(_TEXT_SPECIALS[char])
        elif char.isascii():
            out.append(char)
        elif char in SUPERSCRIPTS:
            out.append(f"$^{{{SUPERSCRIPTS[char]}}}$")
        elif char in SUBSCRIPTS:
            out.append(f"$_{{{SUBSCRIPTS[char]}}}$")
        elif char in MATH_SYMBOLS:
            out.append(f"${MATH_SYMBOLS[char].strip()}$")
        elif unicodedata.category(char) != "Mn":
            out.append(char)
    return "".join(out)


_TEXT_ACCENTS = {"\u0302": r"\^", "\u0304": r"\=", "\u0303": r"\~", "\u0307": r"\.", "\u0308": r"\"",
                 "\u0301": r"\'", "\u0300": r"\`"}


# ---- the picture ------------------------------------------------------------------------

_LEGEND_STATEMENT = re.compile(r"^\s*legend \[.*\]\s*$\n?", re.M)
_HTML_ROW = re.compile(r"</TR>|<BR[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")
_FONT_COLOUR = re.compile(r'COLOR="(#[0-9a-fA-F]{6})"')
_PLAIN_ESCAPE = re.compile(r"\\(.)")


def tikz_picture(graph: graphviz.Digraph | str) -> str:
    """The TikZ text of a drawing (a ``Digraph`` from ``autograd.draw``, or its DOT text)."""
    source = graph if isinstance(graph, str) else graph.source
    look = PRINT if getattr(graph, "style_name", "screen") == "print" else SCREEN
    source = _LEGEND_STATEMENT.sub("", source)
    data, plain = layout(source)
    colours = html_labels_to_plain(source)[1] if plain else {}
    writer = _Writer(look, plain, colours)
    return writer.picture(data)


class _Writer:
    def __init__(self, look: Style, plain: bool, colours: dict[str, str]) -> None:
        self.look = look
        self.plain = plain
        self.colours = colours  # plain labels: coloured line -> its colour

    # -- labels: lines of (text, colour) --

    def lines(self, label: str) -> list[tuple[str, str | None]]:
        if self.plain:
            text = _PLAIN_ESCAPE.sub(lambda m: "\n" if m.group(1) in "nlr" else m.group(1), label)
            rows = [line.strip() for line in text.split("\n")]
            return [(row, self.colours.get(row)) for row in rows if row]
        result = []
        for row in _HTML_ROW.split(label):
            colour = _FONT_COLOUR.search(row)
            text = html.unescape(_TAG.sub("", row)).strip()
            if text:
                result.append((text, colour.group(1) if colour else None))
        return result

    def node_text(self, label: str, math: bool = True) -> str:
        shown = []
        for text, colour in self.lines(label):
            body = f"${tex_math(text)}$" if math else tex_text(text)
            if colour is not None and colour.lower() in (self.look.gradient, self.look.partial):
                body = rf"\chainrulegradient{{{body}}}"
            elif colour is not None and colour.lower() == self.look.unknown:
                body = rf"\textcolor{{chainruleunknown}}{{{body}}}"
            shown.append(body)
        return r"\\".join(shown)

    # -- the whole picture --

    def picture(self, data: dict[str, Any]) -> str:
        objects = data.get("objects", [])
        names = {obj["_gvid"]: obj["name"] for obj in objects if "_gvid" in obj}
        out = [self.header()]
        out.append(r"\begin{tikzpicture}[chainrule picture]")
        clusters = [obj for obj in objects if "bb" in obj and obj.get("name", "").startswith("cluster")]
        clusters.sort(key=lambda obj: -_area(obj["bb"]))  # outer frames first
        for cluster in clusters:
            x1, y1, x2, y2 = _numbers(cluster["bb"])
            out.append(rf"\draw[chainrule cluster] ({x1:.1f},{y1:.1f}) rectangle ({x2:.1f},{y2:.1f});")
            if "lp" in cluster and cluster.get("label"):
                x, y = _numbers(cluster["lp"])
                out.append(rf"\node[chainrule cluster label] at ({x:.1f},{y:.1f}) "
                           rf"{{{self.node_text(cluster['label'])}}};")
        if data.get("label") and "lp" in data:
            x, y = _numbers(data["lp"])
            out.append(rf"\node[chainrule caption] at ({x:.1f},{y:.1f}) "
                       rf"{{{self.node_text(data['label'], math=False)}}};")
        for obj in objects:
            if "pos" in obj and "bb" not in obj:
                out.append(self.node(obj))
        for edge in data.get("edges", []):
            out.extend(self.edge(edge, names))
        out.append(r"\end{tikzpicture}")
        return "\n".join(out) + "\n"

    def node(self, obj: dict[str, Any]) -> str:
        x, y = _numbers(obj["pos"])
        width, height = float(obj.get("width", 0.5)) * 72, float(obj.get("height", 0.5)) * 72
        role = obj.get("class", "value")
        shape = obj.get("shape", "box")
        styles = [f"chainrule {role}" if role in _ROLES else "chainrule value"]
        if shape == "circle":
            styles.append(f"minimum size={min(width, height):.1f}bp")
        else:
            styles.append(f"minimum width={width:.1f}bp, minimum height={height:.1f}bp")
            if role == "op":  # an ellipse in Graphviz: a rounded pill here (no TikZ library needed)
                styles.append(f"rectangle, rounded corners={height / 2 - 0.5:.1f}bp")
        if obj.get("id") == "current":
            styles.append("chainrule current")
        elif role == "op" and obj.get("penwidth") == "4":
            styles.append("chainrule current")
        name, text = _node_name(obj["name"]), self.node_text(obj.get("label", ""))
        return rf"\node[{', '.join(styles)}] ({name}) at ({x:.1f},{y:.1f}) {{{text}}};"

    def edge(self, edge: dict[str, Any], names: dict[int, str]) -> list[str]:
        tail, head = _node_name(names[edge["tail"]]), _node_name(names[edge["head"]])
        points, start, end = _spline(edge.get("pos", ""))
        styles = ["chainrule edge"]
        if edge.get("class") == "flowing":
            styles = ["chainrule flowing edge"]
        elif edge.get("class") == "gradient":
            styles = ["chainrule gradient edge"]
        styles.append("<-" if start and not end else ("<->" if start and end else "->"))
        if len(points) >= 4 and (len(points) - 1) % 3 == 0:
            path = [f"({tail})"]
            for k in range(1, len(points) - 1, 3):
                (ax, ay), (bx, by), (cx, cy) = points[k], points[k + 1], points[k + 2]
                last = k + 2 == len(points) - 1
                target = f"({head})" if last else f"({cx:.1f},{cy:.1f})"
                path.append(f".. controls ({ax:.1f},{ay:.1f}) and ({bx:.1f},{by:.1f}) .. {target}")
            drawn = " ".join(path)
        else:
            drawn = f"({tail}) -- ({head})"
        out = [rf"\draw[{', '.join(styles)}] {drawn};"]
        for key, where in (("label", "lp"), ("headlabel", "head_lp"), ("taillabel", "tail_lp")):
            text = edge.get(key)
            if not text or where not in edge:
                continue
            colour = edge.get("fontcolor", "").lower()
            if colour == "transparent":
                continue
            style = "chainrule role" if key != "label" else (
                "chainrule flowing label" if colour == self.look.current else "chainrule edge label")
            x, y = _numbers(edge[where])
            out.append(rf"\node[{style}] at ({x:.1f},{y:.1f}) {{{self.node_text(text)}}};")
        return out

    def header(self) -> str:
        look = self.look
        colours = {
            "chainruleparameter": look.parameter_fill, "chainruledata": look.data_fill,
            "chainrulevalue": look.intermediate_fill, "chainruleop": look.op_fill,
            "chainruleoutput": look.output_fill, "chainruleoutputborder": look.output_border,
            "chainrulebox": look.box_fill, "chainruleboxborder": look.box_border,
            "chainrulecluster": look.cluster_fill, "chainruleclusterborder": look.cluster_border,
            "chainruleborder": look.border, "chainruleopborder": look.op_border,
            "chainruleedge": look.edge, "chainrulerole": look.role_label,
            "chainrulegradient": look.gradient, "chainruleunknown": look.unknown,
            "chainrulecurrent": look.current, "chainrulecarried": look.carried,
        }
        lines = [
            f"% A computation graph drawn by chainrule (autograd.save_graph), {look.name} style.",
            "% In a LaTeX document that loads TikZ (\\usepackage{tikz}): \\input{this file}.",
            "% Nodes sit where Graphviz put them (1 unit = 1bp); the text is math in your fonts.",
            "% Restyle here, or from your preamble with \\tikzset{chainrule restyle/.style={...}},",
            "% e.g. chainrule parameter/.append style={fill=blue!15}; make it smaller with",
            "% chainrule picture/.append style={x=0.8bp, y=0.8bp}, or \\resizebox{\\linewidth}{!}{...}.",
        ]
        for name, value in colours.items():
            lines.append(f"\\definecolor{{{name}}}{{HTML}}{{{value.lstrip('#').upper()}}}")
        bold = r"\boldmath" if look.gradient_bold else ""
        lines.append(rf"\def\chainrulegradient#1{{\textcolor{{chainrulegradient}}{{{bold}#1}}}}")
        data_line = ", dashed" if look.data_line == "dashed" else ""
        output = ("double, double distance=1.2bp, line width=0.6bp" if look.output_peripheries > 1
                  else "line width=1.8bp")
        styles = [
            r"chainrule picture/.style={x=1bp, y=1bp, >=stealth}",
            r"chainrule node/.style={align=center, inner sep=1.5bp, outer sep=0pt}",
            r"chainrule tensor/.style={chainrule node, rectangle, rounded corners=4bp, draw=chainruleborder, "
            r"line width=0.6bp}",
            r"chainrule parameter/.style={chainrule tensor, fill=chainruleparameter}",
            rf"chainrule data/.style={{chainrule tensor, fill=chainruledata{data_line}}}",
            r"chainrule constant/.style={chainrule data, font=\small}",
            r"chainrule value/.style={chainrule tensor, fill=chainrulevalue}",
            rf"chainrule output/.style={{chainrule tensor, fill=chainruleoutput, draw=chainruleoutputborder, "
            rf"{output}}}",
            r"chainrule op/.style={chainrule node, circle, fill=chainruleop, draw=chainruleopborder, "
            r"line width=0.4bp}",
            r"chainrule box/.style={chainrule node, rectangle, fill=chainrulebox, draw=chainruleboxborder, "
            r"line width=0.8bp, font=\small}",
            r"chainrule current/.style={draw=chainrulecurrent, line width=2.4bp}",
            r"chainrule cluster/.style={rounded corners=6bp, fill=chainrulecluster, "
            r"draw=chainruleclusterborder, line width=0.4bp}",
            r"chainrule cluster label/.style={chainrule node, font=\bfseries}",
            r"chainrule caption/.style={chainrule node, align=left, font=\small}",
            r"chainrule edge/.style={draw=chainruleedge, line width=0.5bp}",
            r"chainrule gradient edge/.style={chainrule edge, draw=chainrulegradient}",
            r"chainrule flowing edge/.style={chainrule edge, draw=chainrulecurrent, line width=1.5bp}",
            r"chainrule role/.style={chainrule node, font=\scriptsize, text=chainrulerole}",
            r"chainrule edge label/.style={chainrule node, font=\footnotesize, text=chainrulecarried}",
            r"chainrule flowing label/.style={chainrule node, font=\footnotesize, text=chainrulecurrent}",
            r"chainrule restyle/.try",
        ]
        lines.append("\\tikzset{\n  " + ",\n  ".join(styles) + ",\n}")
        return "\n".join(lines)


_ROLES = {"parameter", "data", "constant", "value", "output", "op", "box"}


def _node_name(name: str) -> str:
    """A TikZ node name from a Graphviz id (ours are t3, op3, box0, more_inputs)."""
    return "n-" + re.sub(r"[^A-Za-z0-9]", "-", name)


def _numbers(text: str) -> list[float]:
    return [float(part) for part in text.split(",")]


def _area(bb: str) -> float:
    x1, y1, x2, y2 = _numbers(bb)
    return (x2 - x1) * (y2 - y1)


def _spline(pos: str) -> tuple[list[tuple[float, float]], bool, bool]:
    """Graphviz's ``pos`` of an edge: the B-spline points, and arrows at start and end."""
    points: list[tuple[float, float]] = []
    start = end = False
    for part in pos.split():
        if part.startswith("e,"):
            end = True
        elif part.startswith("s,"):
            start = True
        else:
            x, y = _numbers(part)[:2]
            points.append((x, y))
    return points, start, end
