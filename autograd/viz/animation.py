"""The stepper's frames as one file: an animated GIF or PNG for slides, a PDF for notes.

``save_backprop_animation(loss, "steps.gif")`` and ``save_backprop_pdf(loss,
"steps.pdf")`` draw the same frames as the step-by-step page (``backprop_frames``):
the start, one frame per backward step, the end, each with its caption above the
drawing. Every frame has one layout — nodes keep their size, the caption has a box of
the same size in every frame — so nothing moves from one frame to the next; only
colours, gradients and the highlighted step change.

* The animation is a GIF (256 colours, one palette made from all frames, no dithering:
  flat colours stay flat and text stays crisp) or an animated PNG (``.png`` or
  ``.apng``: full colour, larger). It is at most ``max_width`` pixels wide (1280 by
  default: Graphviz draws it at the resolution that fits, at most 96 dpi), each step
  shown ``seconds_per_step`` and the last frame three times as long, looping forever.
  It needs Pillow (``pip install "chainrule[animation]"``) and Graphviz's ``dot``
  program to draw PNG frames; the pip-only SVG renderer cannot make pictures.
* The PDF has one page per frame, in vector form: Graphviz draws each frame as a PDF
  page and pypdf (``pip install "chainrule[pdf]"``) puts the pages together, with a
  bookmark per step. It needs ``dot`` too.

Files are written atomically, after every frame has been drawn: a failure leaves no
partial file. A large graph makes small text in a 1280-pixel animation: draw it with
``rankdir="TB"`` or ``legend=False``, or allow a larger ``max_width``.
"""

from __future__ import annotations

import io
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from autograd.files import write_atomically
from autograd.tensors import Tensor
from autograd.viz.render import render
from autograd.viz.renderers import (
    INSTALL_HINT,
    GraphvizNotFoundError,
    MissingPackageError,
    dot_available,
    layout,
)
from autograd.viz.stepper import Frame, story, story_options

ANIMATION_FORMATS = {".gif": "GIF", ".png": "PNG", ".apng": "PNG"}
SCREEN_DPI = 96  # the most an animation is drawn at: 12 pt text is 16 pixels high
LAST_FRAME_HOLD = 3  # the last frame (every gradient known) stays this many steps
GRAPH_PAD_POINTS = 2 * 0.2 * 72  # the drawing's pad (0.2 inch) on both sides
EXACT_COLOURS = 64  # a GIF's palette keeps this many of the commonest colours exactly


def save_backprop_animation(
    root: Tensor,
    path: str | os.PathLike,
    *,
    seconds_per_step: float = 1.0,
    max_width: int = 1280,
    **draw_options: Any,
) -> Path:
    """Write backpropagation from ``root`` as an animation: ``.gif``, or ``.png``/``.apng``.

    One frame per step of the stepper (``backprop_frames``), all in one layout, each
    shown for ``seconds_per_step`` (the last one three times as long), looping. The
    image is at most ``max_width`` pixels wide. ``draw_options`` are ``draw``'s, all but
    ``show`` (``style="print"`` for greyscale). Written atomically; returns the path.

    Raises:
        ValueError: an extension other than .gif, .png, .apng; a bad option; a graph
            too large for a story.
        MissingPackageError: Pillow is not installed (an ``ImportError`` too).
        GraphvizNotFoundError: Graphviz's ``dot`` program is not installed.

    >>> import autograd, os, tempfile
    >>> w = autograd.Tensor(0.5, requires_grad=True, name="w")
    >>> target = os.path.join(tempfile.mkdtemp(), "steps.gif")
    >>> autograd.save_backprop_animation((w * 2).sigmoid(), target).name  # doctest: +SKIP
    'steps.gif'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in ANIMATION_FORMATS:
        shown = f"'{suffix}'" if suffix else "no extension"
        raise ValueError(f"cannot tell the animation format from {shown}: use .gif, or .png/.apng "
                         "for an animated PNG")
    if not (isinstance(seconds_per_step, (int, float)) and math.isfinite(seconds_per_step)
            and 0.01 <= seconds_per_step <= 600):
        raise ValueError(f"seconds_per_step must be a number from 0.01 to 600, not {seconds_per_step!r}")
    if not isinstance(max_width, int) or max_width < 100:
        raise ValueError(f"max_width must be an integer of at least 100 (pixels), not {max_width!r}")
    options = story_options(draw_options)
    image_module = _pillow()
    _need_dot("an animation's frames are pictures drawn")
    frames = story(root, options, captions_in_graph=True)
    pictures = _draw_pictures(frames, max_width, image_module)
    milliseconds = round(seconds_per_step * 1000)
    durations = [milliseconds] * len(pictures)
    durations[-1] = milliseconds * LAST_FRAME_HOLD
    data = _encode(pictures, durations, ANIMATION_FORMATS[suffix], image_module)
    return write_atomically(path, data)


def save_backprop_pdf(
    root: Tensor,
    path: str | os.PathLike,
    *,
    title: str | None = None,
    **draw_options: Any,
) -> Path:
    """Write backpropagation from ``root`` as a PDF with one page per stepper frame.

    The pages are vector drawings of one size, in one layout (print them, or show them
    as slides), with a bookmark per step and ``title`` in the document's properties.
    ``draw_options`` are ``draw``'s, all but ``show`` (``style="print"``: greyscale handouts).
    Written atomically; returns the path.

    Raises:
        ValueError: the file name does not end in .pdf; a bad option; a graph too
            large for a story.
        MissingPackageError: pypdf is not installed (an ``ImportError`` too).
        GraphvizNotFoundError: Graphviz's ``dot`` program is not installed.

    >>> import autograd, os, tempfile
    >>> w = autograd.Tensor(0.5, requires_grad=True, name="w")
    >>> target = os.path.join(tempfile.mkdtemp(), "steps.pdf")
    >>> autograd.save_backprop_pdf((w * 2).sigmoid(), target).name  # doctest: +SKIP
    'steps.pdf'
    """
    if Path(path).suffix.lower() != ".pdf":
        raise ValueError(f"the file name must end in .pdf, not {Path(path).name!r}")
    options = story_options(draw_options)
    try:
        import pypdf
    except ImportError:
        raise MissingPackageError(
            'putting the frames together into one PDF needs pypdf: pip install "chainrule[pdf]"'
        ) from None
    _need_dot("a PDF's pages are drawn")
    frames = story(root, options, captions_in_graph=True)
    pages = _in_parallel(lambda frame: render(frame.graph, "pdf"), frames)
    writer = pypdf.PdfWriter()
    for number, (frame, page) in enumerate(zip(frames, pages)):
        writer.append(pypdf.PdfReader(io.BytesIO(page)))
        writer.add_outline_item(title=_bookmark(frame.caption), page_number=number)
    if title is None:
        title = "Backpropagation, step by step"
    writer.add_metadata({"/Title": title, "/Creator": "chainrule (autograd.save_backprop_pdf)"})
    if hasattr(writer, "compress_identical_objects"):  # pypdf 4.3+: fonts shared by pages, once
        writer.compress_identical_objects()
    buffer = io.BytesIO()
    writer.write(buffer)
    return write_atomically(path, buffer.getvalue())


# ---- drawing the frames ----------------------------------------------------------------


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise MissingPackageError(
            'writing an animation needs Pillow: pip install "chainrule[animation]"'
        ) from None
    return Image


def _need_dot(what: str) -> None:
    if not dot_available():
        raise GraphvizNotFoundError(
            f"{what} by Graphviz's `dot` program, which was not found: {INSTALL_HINT} (the render "
            "extra's pip-only renderer makes SVG only)"
        )


def _in_parallel(work: Any, frames: list[Frame]) -> list[Any]:
    """``work(frame)`` for every frame, in order; ``dot`` runs as several processes at once."""
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        return list(pool.map(work, frames))


def _draw_pictures(frames: list[Frame], max_width: int, image_module: Any) -> list[Any]:
    """Every frame as an RGB picture, all of one size, at most ``max_width`` wide."""
    width_points = float(layout(frames[0].graph.source)[0]["bb"].split(",")[2]) + GRAPH_PAD_POINTS
    dpi = min(SCREEN_DPI, 72 * (max_width - 2) / width_points)

    def picture(frame: Frame) -> Any:
        return image_module.open(io.BytesIO(render(frame.graph, "png", dpi=dpi))).convert("RGB")

    pictures = _in_parallel(picture, frames)
    # One layout gives one size; a pixel of rounding is padded, never stretched.
    width = min(max(p.width for p in pictures), max_width)
    height = max(p.height for p in pictures)
    canvas = []
    for picture in pictures:
        if picture.size != (width, height):
            padded = image_module.new("RGB", (width, height), "white")
            padded.paste(picture.crop((0, 0, min(picture.width, width), picture.height)), (0, 0))
            picture = padded
        canvas.append(picture)
    return canvas


def _encode(pictures: list[Any], durations: list[int], fmt: str, image_module: Any) -> bytes:
    buffer = io.BytesIO()
    if fmt == "GIF":
        frames = _with_one_palette(pictures, image_module)
        frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=durations,
                       loop=0, disposal=1)
    else:
        pictures[0].save(buffer, format="PNG", save_all=True, append_images=pictures[1:], duration=durations,
                         loop=0, default_image=False)
    return buffer.getvalue()


def _with_one_palette(pictures: list[Any], image_module: Any) -> list[Any]:
    """Quantise every frame to one 256-colour palette made from all of them, undithered.

    The palette holds the 64 commonest colours exactly (the fills, the text, white:
    flat areas keep their true colour) and 192 more chosen by median cut for the
    anti-aliased edges, all taken from every frame at a quarter of its size, so that
    a colour seen in one step only (a partial sum's) has its place. Each frame is then
    mapped to it at full size without dithering: flat fills stay flat, text crisp.
    """
    small = [p.reduce(4) for p in pictures]
    strip = image_module.new("RGB", (small[0].width, sum(p.height for p in small)), "white")
    top = 0
    for picture in small:
        strip.paste(picture, (0, top))
        top += picture.height
    counted = strip.getcolors(maxcolors=strip.width * strip.height) or []
    exact = [colour for _, colour in sorted(counted, reverse=True)[:EXACT_COLOURS]]
    cut = strip.quantize(colors=256 - len(exact), method=image_module.Quantize.MEDIANCUT)
    flat = cut.getpalette()[: 3 * (256 - len(exact))]
    others = [tuple(flat[i:i + 3]) for i in range(0, len(flat), 3)]
    colours = exact + [c for c in others if c not in exact]
    return [_to_palette(p, colours[:256], image_module) for p in pictures]


def _to_palette(picture: Any, colours: list[tuple[int, int, int]], image_module: Any) -> Any:
    """``picture`` in palette mode, each pixel the exactly nearest of ``colours``.

    (Pillow's own mapping looks colours up in a coarse cache, which would turn white
    into a near-white of the palette.) Each distinct colour is matched once.
    """
    pixels = np.asarray(picture, dtype=np.uint8)
    wide = pixels.astype(np.uint32)
    packed = (wide[..., 0] << 16) | (wide[..., 1] << 8) | wide[..., 2]
    distinct, where = np.unique(packed.ravel(), return_inverse=True)
    rgb = np.stack([distinct >> 16, (distinct >> 8) & 255, distinct & 255], axis=1).astype(np.int32)
    palette = np.asarray(colours, dtype=np.int32)
    nearest = np.empty(len(rgb), dtype=np.uint8)
    for start in range(0, len(rgb), 8192):  # in pieces: 8192 x 256 distances at a time
        block = rgb[start:start + 8192]
        distances = ((block[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
        nearest[start:start + 8192] = distances.argmin(axis=1)
    image = image_module.fromarray(nearest[where].reshape(pixels.shape[:2]))  # "L", made "P" below
    image.putpalette([value for colour in colours for value in colour])
    return image


def _bookmark(caption: str) -> str:
    """A PDF bookmark from a caption: "Start", "Step 3 of 24: v16 = log(v15)", "Done"."""
    first = caption.split(". ")[0] if caption.startswith("Step") else caption.split(":")[0]
    return first if len(first) <= 80 else first[:79] + "…"
