"""The page ``save_backprop_html`` writes: the story's frames as inline SVGs in one HTML file.

``html_page`` takes the captions and the rendered SVGs of the frames (``stepper.py`` makes
them) and returns a self-contained page: the frames inline, a slider, previous/next and
play buttons, the arrow keys, a "fit to window" switch; no network, and without
JavaScript the frames simply follow one another down the page.

It is apart from ``stepper.py`` because it is another language and another concern: the
stepper decides what each frame shows and lays them out alike, this module only wraps
finished SVGs in HTML, CSS and a script (most of its length is that template). It knows
nothing of tensors or graphs.
"""

from __future__ import annotations

import html
import re

from autograd.viz.styles import SCREEN

_XML_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)
# Graphviz's comments and <title>s (node ids such as "t3", which browsers show as tooltips)
_NOISE = re.compile(r"<!--.*?-->\n?|<title>[^<]*</title>\n?", re.S)
_SVG_ID = re.compile(r'\bid="([^"]*)"')


def html_page(title: str, captions: list[str], svgs: list[str], current: str = SCREEN.current) -> str:
    """A self-contained page: every frame inline, a slider and buttons, no network.

    Without JavaScript the frames simply follow one another down the page.
    """
    frames = []
    for k, (caption, svg) in enumerate(zip(captions, svgs)):
        svg = _NOISE.sub("", _XML_PROLOGUE.sub("", svg, count=1))
        svg = _SVG_ID.sub(lambda m, k=k: f'id="f{k}-{m.group(1)}"', svg)  # ids unique on the page
        frames.append(
            f'<section class="frame" id="frame{k}">\n<p class="caption">{html.escape(caption)}</p>\n'
            f'<div class="drawing">{svg}</div>\n</section>'
        )
    count = len(frames)
    return _PAGE.format(
        title=html.escape(title),
        frames="\n".join(frames),
        last=count - 1,
        count=count,
        current=current,
        readable=READABLE_SCALE,
    )


READABLE_SCALE = 0.7  # "fit to window" shrinks a drawing no further: its 12 pt labels stay legible
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ font-family: Helvetica, Arial, sans-serif; margin: 0 1.5em 1.5em 1.5em; color: #222; }}
  h1 {{ font-size: 1.4em; margin: 0.8em 0 0.4em 0; }}
  header {{ position: sticky; top: 0; background: #fff; padding: 0.4em 0; z-index: 1;
           border-bottom: 1px solid #ddd; }}
  .controls {{ display: flex; align-items: center; gap: 0.6em; flex-wrap: wrap; }}
  .controls input[type=range] {{ flex: 1; min-width: 12em; }}
  button {{ font-size: 1em; padding: 0.3em 0.9em; cursor: pointer; }}
  #counter {{ min-width: 7em; font-variant-numeric: tabular-nums; }}
  .caption {{ font-size: 1.1em; min-height: 2.6em; margin: 0.5em 0 0 0;
             border-left: 4px solid {current}; padding-left: 0.6em; }}
  .drawing {{ overflow-x: auto; }}
  .frame {{ margin: 1em 0 2em 0; }}
  .help {{ color: #777; font-size: 0.9em; }}
  /* With JavaScript the page is one window-high column: the title and the controls stay
     at the top, the drawing fills the rest and a big one scrolls inside it, never the page
     (so a page that embeds this one in an iframe is not scrolled either). */
  html.scripted, .scripted body {{ height: 100%; }}
  .scripted body {{ display: flex; flex-direction: column; margin: 0 1em; overflow: hidden; }}
  .scripted h1 {{ margin: 0.4em 0 0.2em 0; flex: none; }}
  .scripted header {{ position: static; flex: none; }}
  .scripted #stage {{ flex: 1 1 auto; min-height: 0; overflow: auto; position: relative; }}
  .scripted .frame {{ margin: 0.4em 0 0 0; }}
  .scripted .frame .caption {{ display: none; }}
  .scripted .help {{ flex: none; margin: 0.2em 0; }}
  .scripted .drawing {{ overflow: visible; }}
</style>
</head>
<body>
<h1>{title}</h1>
<header id="header" hidden>
  <div class="controls">
    <button id="previous" title="previous step (left arrow)">&#9664; previous</button>
    <input type="range" id="slider" min="0" max="{last}" value="0" aria-label="step">
    <button id="next" title="next step (right arrow)">next &#9654;</button>
    <button id="play" title="play the steps one after another">play</button>
    <span id="counter"></span>
    <label title="ticked: the drawing shrunk to the window, never below a readable size (the rest
      scrolls inside its panel); unticked: its full size">
      <input type="checkbox" id="fit" checked> fit to window</label>
  </div>
  <p class="caption" id="now"></p>
</header>
<main id="stage">
{frames}
</main>
<p class="help">Arrow keys step through the frames; Home and End jump to the start and the end.</p>
<script>
(function () {{
  var frames = document.querySelectorAll(".frame");
  var slider = document.getElementById("slider");
  var previous = document.getElementById("previous");
  var next = document.getElementById("next");
  var play = document.getElementById("play");
  var counter = document.getElementById("counter");
  var now = document.getElementById("now");
  var stage = document.getElementById("stage");
  var fit = document.getElementById("fit");
  var timer = null;
  document.getElementById("header").hidden = false;
  document.documentElement.classList.add("scripted");
  var READABLE = {readable};  // the smallest scale "fit to window" shrinks a drawing to
  // Size every drawing for the panel: at most its own size; fitted, the whole of it when
  // that stays readable, else as much as fits at a readable scale (the rest scrolls).
  function layout() {{
    var width = stage.clientWidth - 4, height = stage.clientHeight - 12;
    document.querySelectorAll(".drawing svg").forEach(function (svg) {{
      if (!svg.dataset.width) {{
        svg.dataset.width = svg.width.baseVal.value;
        svg.dataset.height = svg.height.baseVal.value;
      }}
      var w = +svg.dataset.width, h = +svg.dataset.height, scale = 1;
      if (fit.checked && w > 0 && h > 0) {{
        scale = Math.min(1, Math.max(Math.min(width / w, height / h), READABLE));
      }}
      svg.style.width = (w * scale) + "px";
      svg.style.height = (h * scale) + "px";
    }});
  }}
  // Centre the node being processed by scrolling the drawing's panel only: scrollIntoView
  // would also scroll every page around this one (a course page that embeds it).
  function centre(element) {{
    if (!element) return;
    var box = element.getBoundingClientRect(), panel = stage.getBoundingClientRect();
    stage.scrollTop += (box.top + box.height / 2) - (panel.top + panel.height / 2);
    stage.scrollLeft += (box.left + box.width / 2) - (panel.left + panel.width / 2);
  }}
  function show(k) {{
    k = Math.max(0, Math.min(frames.length - 1, k));
    for (var i = 0; i < frames.length; i++) frames[i].hidden = (i !== k);
    slider.value = k;
    counter.textContent = "frame " + (k + 1) + " of {count}";
    now.textContent = frames[k].querySelector(".caption").textContent;
    previous.disabled = (k === 0);
    next.disabled = (k === frames.length - 1);
    centre(frames[k].querySelector('[id$="-current"]'));  // the node being processed
    if (k === frames.length - 1) stop();
  }}
  function current() {{ return parseInt(slider.value, 10); }}
  function stop() {{
    if (timer !== null) {{ clearInterval(timer); timer = null; play.textContent = "play"; }}
  }}
  previous.onclick = function () {{ stop(); show(current() - 1); }};
  next.onclick = function () {{ stop(); show(current() + 1); }};
  slider.oninput = function () {{ stop(); show(current()); }};
  fit.onchange = function () {{ layout(); show(current()); }};
  window.addEventListener("resize", function () {{ layout(); show(current()); }});
  play.onclick = function () {{
    if (timer !== null) {{ stop(); return; }}
    if (current() === frames.length - 1) show(0);
    play.textContent = "pause";
    timer = setInterval(function () {{ show(current() + 1); }}, 1600);
  }};
  document.addEventListener("keydown", function (event) {{
    if (event.target === slider) return;  // the slider handles its own arrow keys
    if (event.key === "ArrowRight") {{ stop(); show(current() + 1); }}
    else if (event.key === "ArrowLeft") {{ stop(); show(current() - 1); }}
    else if (event.key === "Home") {{ stop(); show(0); }}
    else if (event.key === "End") {{ stop(); show(frames.length - 1); }}
  }});
  layout();
  show(0);
}})();
</script>
</body>
</html>
"""
