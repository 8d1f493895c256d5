"""The book's pages: figure PNGs sized for the column, the axis explorer's reference, and what
makes the pages lighter (normaxes.book.sphinxext)."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from normaxes import NORMS, stat_groups
from normaxes.book.figures import (
    COLUMN_PX,
    DENSITY,
    MIN_TEXT_PX,
    draw_cubes,
    draw_norms,
    min_text_pt,
    png,
)
from normaxes.book.sphinxext import EXPLORER, explorer_reference


def test_cube_figures_fit_the_column_with_legible_text():
    for layout in NORMS:
        fig = draw_norms(layout)
        data, meta = png(fig)
        im = Image.open(io.BytesIO(data))
        # a palette PNG, opaque, DENSITY pixels per CSS pixel, four panels within the column
        assert im.mode == "P" and "transparency" not in im.info
        assert im.width == DENSITY * meta["width"] and im.height == DENSITY * meta["height"]
        assert meta["width"] <= COLUMN_PX
        assert float(im.text["normaxes:min-text-px"]) >= MIN_TEXT_PX
        assert min_text_pt(fig) >= MIN_TEXT_PX


def test_png_is_deterministic_and_records_the_smallest_text():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend(fontsize=7)
    first, _ = png(fig)
    assert png(fig)[0] == first
    assert Image.open(io.BytesIO(first)).text["normaxes:min-text-px"] == "7"
    plt.close(fig)


def test_panels_in_two_rows_keep_their_titles():
    fig = draw_cubes([dict(layout="B T F", over="F", shape=(2, 3, 4), batch="B", channel="F",
                           title=f"panel {k}") for k in range(4)], ncols=2)
    titles = [ax.title for ax in fig.axes]
    boxes = [ax.get_position() for ax in fig.axes]
    # each title sits above its own panel, below the panel of the row above
    for t, b in zip(titles, boxes, strict=True):
        x, y = fig.transFigure.inverted().transform(t.get_window_extent().get_points().mean(0))
        assert b.x0 <= x <= b.x1
    assert min(b.y1 for b in boxes[:2]) > max(b.y1 for b in boxes[2:])


def test_explorer_reference_is_stat_groups():
    ref = explorer_reference()
    layout, grouped, shape = EXPLORER["img"]
    assert ref["img|GN|3|C H W"] == stat_groups(grouped, "C H W", shape, G=3).ravel().tolist()
    assert ref["seq|custom|0|B T F"] == [0] * int(np.prod(EXPLORER["seq"][2]))
    # every norm, every G of Group Norm, every non-empty set of axes, on both layouts
    assert len(ref) == 2 * (3 + 4) + (2 ** 3 - 1) + (2 ** 4 - 1)


# ---------------------------------------------------------------- lighter pages (issue 18)
_PYG = """html[data-theme="light"] .highlight pre { line-height: 125%; }
html[data-theme="light"] .highlight { background: #fefefe; color: #080808 }
html[data-theme="light"] .highlight .n { color: #080808 }/* Name */
html[data-theme="light"] .highlight .o { color: #00622F }/* Operator */
html[data-theme="light"] .highlight .p { color: #080808 }
html[data-theme="light"] .highlight .gs { color: #080808; font-weight: bold }
html[data-theme="light"] .highlight .w { color: #080808 }
html[data-theme="dark"] .highlight { background: #2b2b2b; color: #F8F8F2 }
html[data-theme="dark"] .highlight .n { color: #f8f8f2 }
html[data-theme="dark"] .highlight .o { color: #ABE338 }
html[data-theme="dark"] .highlight .p { color: #FFD900 }
html[data-theme="dark"] .highlight .gs { color: #F8F8F2; font-weight: bold }
"""


def test_plain_token_classes_are_those_in_the_block_color_in_every_theme():
    from normaxes.book.sphinxext import plain_token_classes

    # .p differs in dark, .o in both, .gs is bold, .w has no dark rule (pre's color there)
    assert plain_token_classes(_PYG) == {"n"}
    assert plain_token_classes("") == set()


def test_unwrap_plain_tokens_keeps_the_text_and_leaves_outputs_alone():
    from normaxes.book.sphinxext import unwrap_plain_tokens

    code = ('<div class="highlight-ipython3 notranslate"><div class="highlight"><pre><span></span>'
            '<span class="n">x</span> <span class="o">=</span> <span class="n">f</span>'
            '<span class="p">(</span><span class="mi">1</span><span class="p">)</span>\n</pre>')
    out = ('<div class="output stream highlight-myst-ansi notranslate"><div class="highlight">'
           '<pre><span class="n">kept</span></pre>')
    new = unwrap_plain_tokens(code + out, {"n", "p"})
    assert new == ('<div class="highlight-ipython3 notranslate"><div class="highlight"><pre>'
                   '<span></span>x <span class="o">=</span> f(<span class="mi">1</span>)\n</pre>'
                   + out)
    assert re.sub("<[^>]+>", "", new) == re.sub("<[^>]+>", "", code + out)
    assert unwrap_plain_tokens(code, set()) == code


@pytest.mark.parametrize("tex, ams", [
    (r"\max_i |\text{left}_i - \text{right}_i|", False),
    (r"10^{-5}", False),
    (r"\sum_i x_i \cdot \hat\mu", False),
    (r"\begin{aligned} a &= b \end{aligned}", True),
    (r"\begin{split} a &= b \end{split}", True),
    (r"\operatorname{Var}(x)", True),
    (r"\tfrac{1}{2}", True),
    (r"\lvert x \rvert", True),
    (r"\notamacro", True),  # unknown: ams is loaded, and MathJax reports the error
])
def test_needs_ams_reads_the_macros_of_the_mathjax_components(tex, ams):
    from normaxes.book.sphinxext import mathjax_dir, needs_ams

    src = mathjax_dir() / "input"
    base = (src / "tex-base.js").read_text(encoding="utf-8")
    ams_js = (src / "tex" / "extensions" / "ams.js").read_text(encoding="utf-8")
    assert needs_ams(tex, base, ams_js) is ams
