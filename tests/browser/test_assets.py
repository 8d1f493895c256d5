"""Lighter pages (issue 18): what a page fetches, its budget, and that the theme's icons still draw.

The book's formulas are typeset when it is built (no MathJax script), no `fontawesome.js`, no
search index outside the search page, the theme's CSS cut to the rules its pages can match and
Font Awesome's fonts cut to the icons they show (normaxes.book.sphinxext, normaxes.book.slim).
The bytes are the survey's (conftest.py): each page opened once at 1280 px with the browser
cache off, every response's encoded length summed as Chromium reports it.
"""

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
from bookcheck import HTML, Opening, open_page, serve, toc_files

DOC = "chapters/axes"
# Bytes per page of the book, cold: issue 18's goal, 1.5 MB. The heaviest pages are the gradients
# chapter, Group Norm, the claims ledger and the API page (0.80-0.94 MB). They were 1.44-1.49 MB
# while MathJax typeset the formulas in the browser (its scripts, about 0.65 MB of a page with
# math), 2.1-2.6 MB before the MathJax split, the pruned CSS and the subset icon fonts, 3.9-4.4 MB
# before fontawesome.js was dropped, and the ledger 1.77 MB before code blocks lost the spans of
# plain tokens (normaxes.book.sphinxext): any of those coming back fails here.
BUDGET = 1.5e6

_ICONS = """() => {
  const icons = [...document.querySelectorAll('i[class*="fa-"]')]
    .filter(i => i.offsetParent !== null)
    .map(i => { const s = getComputedStyle(i, '::before');
      return {cls: i.className, content: s.content, font: s.fontFamily, weight: s.fontWeight,
              w: i.getBoundingClientRect().width}; });
  const faces = [];
  for (const sheet of document.styleSheets) {
    let rules; try { rules = sheet.cssRules; } catch (e) { continue; }
    for (const r of rules) if (r instanceof CSSFontFaceRule) faces.push({
      family: r.style.getPropertyValue('font-family').replace(/["']/g, '').replace(/\\\\/g, ''),
      weight: r.style.getPropertyValue('font-weight'), src: r.style.getPropertyValue('src'),
      base: sheet.href});
  }
  const loaded = [...document.fonts].filter(f => f.status === 'loaded')
    .map(f => f.family.replace(/["']/g, '') + '|' + f.weight);
  return {icons, faces, loaded};
}"""


def _char(content: str) -> int | None:
    """The one character of a computed ``content`` value such as '"\\f0c9"' or '""'."""
    text = content.strip('"')
    return ord(text) if len(text) == 1 else None


def icon_problems(page, html_dir: Path, base: str) -> tuple[list[str], int]:
    """Each visible Font Awesome icon: a glyph in the font file its @font-face serves, loaded."""
    from fontTools.ttLib import TTFont

    d = page.evaluate(_ICONS)
    problems, cmaps = [], {}
    for icon in d["icons"]:
        code = _char(icon["content"])
        family = icon["font"].split(",")[0].strip().strip('"')
        if code is None or icon["w"] <= 0 or "Font Awesome" not in family:
            problems.append(f"icon without a glyph: {icon}")
            continue
        face = [f for f in d["faces"] if f["family"] == family and f["weight"] == icon["weight"]]
        if not face:
            problems.append(f"icon {icon['cls']}: no @font-face for {family} {icon['weight']}")
            continue
        url = re.search(r'url\("?([^")]+)"?\)', face[0]["src"]).group(1)
        path = html_dir / unquote(urlparse(urljoin(face[0]["base"], url)).path)[
            len(urlparse(base).path):]
        if path not in cmaps:
            cmaps[path] = set(TTFont(path).getBestCmap()) if path.is_file() else set()
        if code not in cmaps[path]:
            problems.append(f"icon {icon['cls']}: U+{code:04X} is not in {path.name}")
        if f"{family}|{icon['weight']}" not in d["loaded"]:
            problems.append(f"icon {icon['cls']}: the font {family} {icon['weight']} "
                            "did not load")
    return problems, len(d["icons"])


def test_page_loads_no_mathjax_script_and_no_icon_script(survey, site):
    facts, errors = survey["wide"][f"{DOC}.html"]
    assert not errors, errors
    assert facts["typeset"] == facts["math"] > 10
    names = [u[len(site):].split("?")[0] for u in facts["bytes"]]
    assert not [n for n in names if n.endswith("fontawesome.js")], names
    # the search index and Sphinx's search script only on the search page
    assert not [n for n in names if n.endswith(("searchindex.js", "searchtools.js"))], names
    # the formulas come typeset (normaxes.book.mathrender): their stylesheet and TeX fonts only
    mathjax = sorted(n for n in names if n.startswith("_static/mathjax/"))
    assert not [n for n in names if n.endswith(".js") and "mathjax" in n.lower()], names
    assert mathjax[0] == "_static/mathjax/chtml.css", mathjax
    assert all(n.startswith("_static/mathjax/output/chtml/fonts/woff-v2/MathJax_")
               and n.endswith(".woff") for n in mathjax[1:]) and len(mathjax) > 2, mathjax
    assert not (HTML / "_static" / "scripts" / "fontawesome.js").exists()


def test_each_chapter_page_fits_the_budget(survey, site):
    """Every page of the table of contents, cold: at most BUDGET bytes as the browser fetches it."""
    over, sizes = [], {}
    for doc in toc_files():
        facts, _ = survey["wide"][f"{doc}.html"]
        total = sum(facts["bytes"].values())
        sizes[doc] = total
        if total > BUDGET:
            top = sorted(facts["bytes"].items(), key=lambda kv: -kv[1])[:4]
            over.append(f"{doc}: {total / 1e6:.2f} MB > {BUDGET / 1e6} MB; largest: "
                        + ", ".join(f"{u[len(site):].split('?')[0]} {n / 1e3:.0f} KB"
                                    for u, n in top))
    assert not over, "\n".join(over)
    assert min(sizes.values()) > 50_000, sizes  # the bytes were counted at all


def test_theme_icons_are_drawn_from_the_web_fonts(page, site):
    open_page(page, f"{site}{DOC}.html")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    problems, n = icon_problems(page, HTML, site)
    assert n >= 5, n  # menu, search, download, full screen, theme switch, ...
    assert not problems, "\n".join(problems)
    assert page.evaluate("() => document.fonts.check('900 16px \"Font Awesome 6 Free\"')")


@pytest.fixture
def clipped_font(tmp_path):
    """A copy of the site whose solid icon font lacks the search icon (U+F002)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    fonts = Path("_static/vendor/fontawesome/webfonts")
    for entry in HTML.iterdir():
        if entry.name != "_static":
            (tmp_path / entry.name).symlink_to(entry)
    shutil.copytree(HTML / "_static", tmp_path / "_static", symlinks=True)
    (name,) = [p for p in (tmp_path / fonts).glob("fa-solid-900*.woff2") if "normaxes" in p.name]
    font = TTFont(name)
    keep = sorted(set(font.getBestCmap()) - {0xF002})
    options = subset.Options()
    options.flavor = "woff2"
    sub = subset.Subsetter(options)
    sub.populate(unicodes=keep)
    sub.subset(font)
    font.flavor = "woff2"
    font.save(name)
    return tmp_path


def test_a_missing_icon_glyph_is_caught(page, clipped_font):
    with serve(clipped_font) as base:
        open_page(page, f"{base}{DOC}.html")
        page.evaluate("() => document.fonts.ready.then(() => true)")
        problems, _ = icon_problems(page, clipped_font, base)
    assert any("fa-magnifying-glass: U+F002 is not in fa-solid-900" in p
               for p in problems), problems


def _originals(page, html_dir: Path, base: str):
    """Serve every pruned stylesheet as the theme shipped it (its .orig copy, original fonts)."""
    def handle(route):
        path = html_dir / unquote(urlparse(route.request.url).path)[len(urlparse(base).path):]
        orig = path.with_name(path.name + ".orig")
        if orig.is_file():
            route.fulfill(body=orig.read_bytes(), content_type="text/css")
        else:
            route.continue_()

    page.route("**/*.css*", handle)


@pytest.mark.parametrize("where, viewport, scheme", [
    (f"{DOC}.html", {"width": 1280, "height": 800}, "light"),
    (f"{DOC}.html", {"width": 1280, "height": 800}, "dark"),
    (f"{DOC}.html", {"width": 390, "height": 844}, "light"),
    ("search.html?q=batch", {"width": 1280, "height": 800}, "light"),
])
def test_pruned_css_draws_the_same_page(browser, site, where, viewport, scheme):
    """The pruned CSS and subset fonts draw the page as the theme's own files do, pixel for pixel
    (first screen; and with the search dialog open, the theme's most script-driven state)."""
    shots = []
    # the page as built and as the theme shipped it, loading side by side, each in its context
    contexts = [browser.new_context(viewport=viewport, color_scheme=scheme) for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    _originals(pages[1], HTML, site)
    openings = [Opening(page, site + where) for page in pages]
    for context, page, opening in zip(contexts, pages, openings, strict=True):
        opening.finish()  # as open_page waits
        page.evaluate("() => document.fonts.ready.then(() => true)")
        if where.startswith("search"):
            page.wait_for_function(
                "() => !!(document.querySelector('.search-summary') || {}).innerText")
        first = _image(page.screenshot(animations="disabled"))
        dialog = None
        if not where.startswith("search"):  # the search page has its own box, no dialog
            # the theme's own handler opens the dialog (a script click: no hover, no tooltip)
            page.evaluate("() => document.querySelector('.search-button__button').click()")
            page.wait_for_selector("#pst-search-dialog[open]")
            dialog = _image(page.screenshot(animations="disabled"))
        shots.append((first, dialog))
        context.close()
    what = f"{where} ({scheme}, {viewport['width']} px)"
    assert _differs(shots[0][0], shots[1][0]) is None, f"{what}: {_differs(*[s[0] for s in shots])}"
    if shots[0][1] is not None:
        assert _differs(shots[0][1], shots[1][1]) is None, \
            f"{what} with the search dialog open: {_differs(*[s[1] for s in shots])}"


def _image(png: bytes):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


def _differs(a, b, levels: int = 2):
    """None when *a* and *b* agree within *levels* of 255 in every pixel (the antialiasing of a
    rounded border may move by one level between two stylesheets that draw the same thing);
    else the box of the pixels that differ more and the largest difference."""
    from PIL import ImageChops

    diff = ImageChops.difference(a, b)
    worst = max(hi for _, hi in diff.getextrema())
    if worst <= levels:
        return None
    return f"pixels differ by up to {worst} levels in {diff.point(lambda v: 255 * (v > levels)).getbbox()}"
