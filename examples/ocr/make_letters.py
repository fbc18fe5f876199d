"""Write a synthetic OCR data set in the handout's CSV format, so the OCR examples run with no download.

The handout's letters are 16x8 black-and-white images of the ten letters
a, e, g, i, l, n, o, r, t, u (labels 0-9). This script renders each letter from a font
(DejaVu, which matplotlib ships), at a random size, offset and stroke weight, then flips
a few pixels, and writes rows ``label,p1,...,p128`` (row-major, values 0/1):

    python examples/ocr/make_letters.py [--out DIR] [--train N] [--valid N] [--seed S]

writes ``DIR/train.csv`` and ``DIR/validation.csv`` (default ``out/letters``;
N examples per class). The same seed always gives the same files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

_EXAMPLES = str(Path(__file__).resolve().parents[1])  # examples/, for the shared _output.py
if _EXAMPLES not in sys.path:
    sys.path.insert(0, _EXAMPLES)
from _output import EXAMPLES_EXTRA, describe, needs, require, save_text  # noqa: E402

LETTERS = "aegilnortu"  # label k is LETTERS[k], as in the handout
HEIGHT, WIDTH = 16, 8


def _font_path() -> str:
    try:
        from matplotlib import font_manager
    except ImportError:
        message = f"make_letters.py: needs matplotlib, from the examples extra: {EXAMPLES_EXTRA}"
        raise SystemExit(message) from None
    return font_manager.findfont("DejaVu Sans")


def render(letter: str, rng: np.random.Generator, font_path: str) -> np.ndarray:
    """One 16x8 binary image of ``letter`` with random size, offset, weight and pixel noise."""
    from PIL import Image, ImageDraw, ImageFont

    scale = 4  # draw large, then shrink: smoother shapes than drawing 16 pixels high
    canvas = Image.new("L", (WIDTH * scale, HEIGHT * scale), 0)
    size = int(rng.uniform(11, 15) * scale)
    font = ImageFont.truetype(font_path, size)
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = draw.textbbox((0, 0), letter, font=font)
    x = (WIDTH * scale - (right - left)) / 2 - left + rng.normal(0, 0.6) * scale
    y = (HEIGHT * scale - (bottom - top)) / 2 - top + rng.normal(0, 0.8) * scale
    draw.text((x, y), letter, fill=255, font=font, stroke_width=int(rng.integers(0, 3)), stroke_fill=255)
    small = np.asarray(canvas.resize((WIDTH, HEIGHT), Image.BILINEAR), dtype=float) / 255
    pixels = small > rng.uniform(0.3, 0.5)
    noise = rng.random(pixels.shape) < 0.03
    return (pixels ^ noise).astype(np.uint8)


def make(per_class: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    font_path = _font_path()
    images, labels = [], []
    for label, letter in enumerate(LETTERS):
        for _ in range(per_class):
            images.append(render(letter, rng, font_path).reshape(-1))
            labels.append(label)
    order = rng.permutation(len(labels))
    return np.array(images)[order], np.array(labels)[order]


def write_csv(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Atomically (a temporary file beside ``path``, then a rename), with the mode ``open`` gives."""
    lines = [",".join([str(label), *map(str, row)]) for row, label in zip(images, labels)]
    save_text(path, "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=needs(f"matplotlib and Pillow (to draw the letters from a font), from the examples extra: "
                     f"{EXAMPLES_EXTRA}"))
    parser.add_argument("--out", type=Path, default=Path("out/letters"), help="output directory")
    parser.add_argument("--train", type=int, default=50, help="training examples per class (default 50)")
    parser.add_argument("--valid", type=int, default=10, help="validation examples per class (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.train <= 0 or args.valid <= 0:
        parser.error("--train and --valid must be positive")
    require("make_letters.py", "matplotlib", "PIL")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"make_letters.py: cannot create {args.out}: {error.strerror}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    for name, count in (("train.csv", args.train), ("validation.csv", args.valid)):
        images, labels = make(count, rng)
        try:
            write_csv(args.out / name, images, labels)
        except OSError as error:
            print(f"make_letters.py: cannot write {describe(error)}", file=sys.stderr)
            return 2
        print(f"wrote {args.out / name}: {len(labels)} letters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
