"""What a student sees in a browser (issue 15): the stepper page opens fitted to the window with
its title and first step visible, never scrolls the page that embeds it, and drawings show their
labels as Graphviz laid them out. Headless Chromium takes the screenshots and runs the checks."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from autograd import cli
from autograd.viz import render as render_module
from autograd.viz import renderers

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="install Chromium (Debian: apt-get install chromium) "
                       "to check in a browser what the stepper and the drawings look like"),
    pytest.mark.skipif(not render_module.can_render("svg"),
                       reason="install Graphviz (or the render extra) to draw the pages a browser shows"),
]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
WIDTH, HEIGHT = 1280, 720


def chromium(*arguments, environment=None):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--window-size={WIDTH},{HEIGHT}", "--virtual-time-budget=3000", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)


def result_of(page: Path, environment=None) -> object:
    """Load the page; its script writes RESULT<json>END into the document, read from the DOM."""
    dom = chromium("--dump-dom", page.as_uri(), environment=environment).stdout
    found = re.search(r"<pre>RESULT(.*?)END</pre>", dom, re.S)
    assert found, dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "demo"
    assert cli.main(["demo", "-o", str(folder)]) == 0
    return folder


# ---- the stepper opens fitted, title and first step visible --------------------------------


def test_the_stepper_screenshot_shows_the_title_and_the_drawing(demo, tmp_path):
    Image = pytest.importorskip("PIL.Image", reason="install Pillow (the animation extra) to read screenshots")
    shot = tmp_path / "steps.png"
    chromium(f"--screenshot={shot}", (demo / "dag_steps.html").as_uri())
    image = Image.open(shot).convert("L")
    assert image.size == (WIDTH, HEIGHT)
    pixels = image.load()

    def count(rows, test):
        return sum(1 for y in rows for x in range(0, WIDTH, 2) if test(pixels[x, y]))

    # not a white page: the drawing's boxes, lines and text are there
    assert count(range(0, HEIGHT, 2), lambda p: p < 240) > 0.01 * WIDTH * HEIGHT / 4
    # the title's dark letters at the top of the window
    assert count(range(0, 45), lambda p: p < 90) > 150
    # and the drawing below the controls, not a blank area
    assert count(range(HEIGHT // 3, HEIGHT - 40), lambda p: p < 200) > 500


STEPPER_GEOMETRY = """<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var svg = document.querySelector(".frame:not([hidden]) svg");
    var node = document.querySelector(".frame:not([hidden]) [id$='-current']").getBoundingClientRect();
    var title = document.querySelector("h1").getBoundingClientRect();
    var controls = document.getElementById("header").getBoundingClientRect();
    var result = {scrollY: window.scrollY, title: [title.top, title.bottom], controls: controls.bottom,
                  current: [node.left, node.top, node.right, node.bottom],
                  scale: svg.getBoundingClientRect().width / svg.width.baseVal.value,
                  fitted: document.getElementById("fit").checked,
                  window: [window.innerWidth, window.innerHeight],
                  caption: document.getElementById("now").textContent};
    var out = document.createElement("pre");
    out.textContent = "RESULT" + JSON.stringify(result) + "END";
    document.body.appendChild(out);
  }, 200);
});
</script>
</body>"""


def test_the_stepper_opens_fitted_with_the_title_and_the_first_step_in_view(demo, tmp_path):
    """The page is one window high: title, controls and caption on top; the drawing, shrunk
    to the window but not below a readable scale, scrolls inside its panel so that the node
    of the first step (the output J, at the bottom of the DAG) is in view."""
    page = tmp_path / "steps.html"
    page.write_text((demo / "dag_steps.html").read_text(encoding="utf-8").replace("</body>", STEPPER_GEOMETRY),
                    encoding="utf-8")
    seen = result_of(page)
    width, height = seen["window"]
    assert seen["scrollY"] == 0 and seen["title"][0] >= 0 and seen["title"][1] < 80
    left, top, right, bottom = seen["current"]
    assert seen["controls"] <= top and bottom <= height and 0 <= left and right <= width, seen
    assert seen["fitted"] and 0.69 <= seen["scale"] <= 1.0, seen
    assert seen["caption"].startswith("Start: the forward pass has computed every value")


EMBEDDING = """<!DOCTYPE html><html><body>
<h1>A course page</h1><div style="height: 3000px">reading...</div>
<iframe src="{src}" style="width: 900px; height: 600px"></iframe>
<script>
window.addEventListener("load", function () {{
  setTimeout(function () {{
    var out = document.createElement("pre");
    out.textContent = "RESULT" + JSON.stringify({{scrollY: window.scrollY}}) + "END";
    document.body.insertBefore(out, document.body.firstChild);
  }}, 500);
}});
</script></body></html>"""


def test_a_page_that_embeds_the_stepper_is_not_scrolled(demo, tmp_path):
    page = tmp_path / "course.html"
    page.write_text(EMBEDDING.format(src=(demo / "dag_steps.html").as_uri()), encoding="utf-8")
    assert result_of(page) == {"scrollY": 0}
    source = (demo / "dag_steps.html").read_text(encoding="utf-8")
    assert ".scrollIntoView(" not in source  # the panel scrolls itself; nothing else moves


# ---- labels as Graphviz laid them out, whatever font the browser has -------------------------


OVERLAPS = """<!DOCTYPE html><html><body>{svg}<script>
var overlaps = [], outside = [];
document.querySelectorAll("g.node").forEach(function (node) {{
  var texts = Array.from(node.querySelectorAll("text"));
  var shape = node.querySelector("path, polygon, ellipse");
  var box = shape ? shape.getBBox() : null;
  texts.forEach(function (text, i) {{
    var a = text.getBBox();
    if (box && !node.classList.contains("legend") && (a.x < box.x - 2 || a.x + a.width > box.x + box.width + 2))
      outside.push(text.textContent);
    texts.slice(i + 1).forEach(function (other) {{
      var b = other.getBBox();
      var across = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
      var down = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
      if (across > 0.5 && down > 2) overlaps.push([text.textContent, other.textContent]);
    }});
  }});
}});
var out = document.createElement("pre");
out.textContent = "RESULT" + JSON.stringify({{overlaps: overlaps, outside: outside}}) + "END";
document.body.appendChild(out);
</script></body></html>"""


def overlaps_in(svg_file: Path, tmp_path: Path, environment=None) -> dict:
    svg = svg_file.read_text(encoding="utf-8")
    page = tmp_path / f"{svg_file.stem}-check.html"
    page.write_text(OVERLAPS.format(svg=svg[svg.index("<svg"):]), encoding="utf-8")
    return result_of(page, environment)


def test_labels_do_not_collide_in_the_browser(demo, tmp_path):
    neuron = tmp_path / "neuron.svg"
    assert cli.main(["draw", "sigmoid(w*x + b)", "--at", "w=0.5", "--at", "x=2", "--at", "b=-1", "--wrt", "w,b",
                     "-o", str(neuron)]) == 0
    for drawing in (neuron, demo / "dag_backward.svg", demo / "dag_forward.svg"):
        assert overlaps_in(drawing, tmp_path) == {"overlaps": [], "outside": []}, drawing.name


@pytest.mark.skipif(not DEJAVU.is_dir(), reason="needs the DejaVu fonts (Debian: fonts-dejavu-core) to "
                    "show the drawing in a font other than the one it was laid out with")
def test_labels_do_not_collide_in_a_browser_with_another_font(demo, tmp_path):
    """A viewer whose browser has only DejaVu Sans (wider than Helvetica): the pieces of one
    line (the bold name, then '= value') still follow one another, never overlap."""
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?><fontconfig><dir>{DEJAVU}</dir>'
                      f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>", encoding="utf-8")
    import os

    environment = {**os.environ, "FONTCONFIG_FILE": str(config)}
    for drawing in (demo / "dag_backward.svg", demo / "dag_forward.svg"):
        assert overlaps_in(drawing, tmp_path, environment)["overlaps"] == [], drawing.name


def test_without_graphviz_the_legend_keeps_its_swatches():
    if renderers.load_wasi() is None:
        pytest.skip("install the render extra (Python 3.11+) to draw without Graphviz")
    import autograd

    w = autograd.Tensor(2.0, requires_grad=True, name="w")
    svg = renderers.render_with_wasi(renderers.load_wasi(), autograd.draw(w * 3).source).decode()
    legend = svg[svg.index('class="node legend"'):]
    assert re.search(r'<tspan fill="#add8e6"[^>]*>■</tspan> blue: parameter', legend)
    assert re.search(r'<tspan fill="#b8ecb8"[^>]*>■</tspan> green: data', legend)
