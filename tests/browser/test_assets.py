"""Lighter pages (issue 18): what a chapter page loads, and that the theme's icons still draw.

The book serves MathJax as TeX input + CHTML output only and no `fontawesome.js`
(normaxes.book.sphinxext); the theme's stylesheet draws the icons from Font Awesome's web fonts.
"""

import pytest
from bookcheck import HTML, open_page, serve
from test_book import browser, page  # noqa: F401  (fixtures)

DOC = "chapters/01_axes_and_layouts"

_ICONS = """() => [...document.querySelectorAll('i[class*="fa-"]')]
  .filter(i => i.offsetParent !== null)
  .map(i => ({cls: i.className, content: getComputedStyle(i, '::before').content,
              font: getComputedStyle(i, '::before').fontFamily, w: i.getBoundingClientRect().width}))"""


@pytest.fixture(scope="module")
def site():
    with serve(HTML) as base:
        yield base


def test_page_loads_only_the_mathjax_it_needs_and_no_icon_script(page, site):  # noqa: F811
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    facts, errors = open_page(page, f"{site}{DOC}.html")
    assert not errors, errors
    assert facts["typeset"] == facts["math"] > 10
    names = [u[len(site):].split("?")[0] for u in requested]
    assert not [n for n in names if n.endswith("fontawesome.js")], names
    mathjax = sorted(n for n in names if n.startswith("_static/mathjax/") and n.endswith(".js"))
    # the loader, core, TeX input, CHTML output (and its font table), hidden MathML for screen
    # readers; not tex-mml-chtml.js, not MathML input, not the menu
    assert mathjax == [f"_static/mathjax/{n}" for n in (
        "a11y/assistive-mml.js", "core.js", "input/tex.js", "output/chtml.js",
        "output/chtml/fonts/tex.js", "startup.js")], mathjax
    assert not (HTML / "_static" / "scripts" / "fontawesome.js").exists()


def test_theme_icons_are_drawn_from_the_web_fonts(page, site):  # noqa: F811
    open_page(page, f"{site}{DOC}.html")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    icons = page.evaluate(_ICONS)
    assert len(icons) >= 5, icons  # menu, search, download, full screen, theme switch, ...
    blank = [i for i in icons if i["content"] in ("none", "normal", '""') or i["w"] <= 0]
    assert not blank, f"icons without a glyph: {blank}"
    assert all("Font Awesome" in i["font"] for i in icons), icons
    assert page.evaluate("() => document.fonts.check('900 16px \"Font Awesome 6 Free\"')")
