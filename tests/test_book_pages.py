"""The book's pages: figure PNGs sized for the column, the axis explorer's reference, and what
makes the pages lighter (normaxes.book.sphinxext)."""

import io
import re

import numpy as np
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
    assert ref["img|GN|3|Cg H W"] == stat_groups(grouped, "Cg H W", shape, G=3).ravel().tolist()
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


def test_formulas_are_typeset_when_the_book_is_built(tmp_path):
    # MathJax in Node.js: TeX's base and ams packages; an error is returned, not drawn
    from normaxes.book.mathrender import STYLESHEET, typeset, typeset_pages

    items = [(r"\max_i |\text{left}_i - \text{right}_i|", False), (r"\tfrac{1}{2}", False),
             (r"\begin{aligned} a &= b \\ c &= d \end{aligned}", True),
             (r"\operatorname{Var}(x) = \lvert x \rvert", False),
             (r"\undefinedmacro{x}", True), (r"\frac{a}{b", True)]
    markup, errors, css = typeset(items)
    assert errors == [None] * 4 + ["Undefined control sequence \\undefinedmacro",
                                   "Missing close brace"]
    assert all(m.startswith('<mjx-container class="MathJax" jax="CHTML"') for m in markup[:4])
    assert 'display="true"' in markup[2] and 'display="true"' not in markup[0]
    assert all("<mjx-assistive-mml" in m for m in markup[:4])  # what screen readers read
    assert markup[4:] == [None, None]
    assert "mjx-container" in css and "MathJax_Main-Regular.woff" in css

    page = tmp_path / "chapters" / "a.html"
    page.parent.mkdir()
    page.write_text('<html><head><title>a</title></head><body>'
                    '<p><span class="math notranslate nohighlight">\\(a &lt; b\\)</span></p>'
                    '<div class="math notranslate nohighlight" id="e">\n\\[\\undefinedmacro\\]'
                    '</div></body></html>', encoding="utf-8")
    problems = typeset_pages([page], tmp_path / "_static")
    assert problems == ["chapters/a.html: TeX error: Undefined control sequence "
                        "\\undefinedmacro, in the formula \\undefinedmacro"]
    html = page.read_text(encoding="utf-8")
    assert html.count("<mjx-container") == 1 and "\\(a &lt; b\\)" not in html
    assert "\\[\\undefinedmacro\\]" in html  # left as TeX, which the browser test reports
    assert f'<link rel="stylesheet" href="../_static/{STYLESHEET}" />' in html
    assert (tmp_path / "_static" / STYLESHEET).is_file()
    assert list((tmp_path / "_static" / "mathjax").rglob("MathJax_Main-Regular.woff"))
    # a page typeset by an earlier build (Sphinx rewrites only the pages it must) stays as it is
    assert typeset_pages([page], tmp_path / "_static") == problems
    assert page.read_text(encoding="utf-8") == html
    # ... and the stylesheet, written anew for another page, keeps the characters it uses (<)
    other = tmp_path / "b.html"
    other.write_text('<html><head></head><body><span class="math notranslate nohighlight">'
                     '\\(x\\)</span></body></html>', encoding="utf-8")
    assert typeset_pages([other], tmp_path / "_static") == []
    assert ".mjx-c3C::before" in (tmp_path / "_static" / STYLESHEET).read_text(encoding="utf-8")
    assert '<link rel="stylesheet" href="_static/mathjax/chtml.css" />' in other.read_text(
        encoding="utf-8")


def test_the_front_page_links_the_pdf_only_where_it_is(tmp_path):
    from normaxes.book.pdf import PDF_LINK, PDF_MISSING, copy_next_to_front_pages, link_pdf

    front = tmp_path / "html" / "intro.html"
    front.parent.mkdir()
    front.write_text(f"<p>The whole book is also one PDF: {PDF_LINK} (make pdf).</p>")
    assert not link_pdf(front)  # no PDF beside it: the link gives way to the make pdf line
    assert PDF_MISSING in front.read_text() and 'href="normaxes.pdf"' not in front.read_text()
    pdf = tmp_path / "pdf" / "normaxes.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(b"%PDF-1.7 printed")
    copy_next_to_front_pages(pdf, [front.parent])  # printing copies it there and links it
    assert (front.parent / "normaxes.pdf").read_bytes() == pdf.read_bytes()
    assert PDF_LINK in front.read_text() and PDF_MISSING not in front.read_text()
    assert link_pdf(front)
