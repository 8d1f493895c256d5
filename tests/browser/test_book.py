"""The rendered book, tested as a reader sees it: every page in headless Chromium.

Needs the built book (`make build-strict`), its PDF (`make print-pdf`) and Debian's `chromium`
and `pdftoppm`; `make test-browser` runs it, and `make test` runs it whenever Chromium is
installed. Every page is opened at 1280 px (light and dark mode) and at 390 px (a phone).
Screenshots of the first screen of each page in both modes and on the phone, and of the PDF's
pages, go to _build/screenshots/ with a contact sheet of them.
"""

import re
import shutil

import pytest
from bookcheck import (
    CHROMIUM_ARGS,
    HTML,
    PDF,
    SHOTS,
    LinkChecker,
    check_facts,
    check_layout,
    check_pdf,
    chromium_path,
    contact_sheet,
    explorer_problems,
    open_page,
    pages,
    search_finds,
    serve,
    toc_files,
)

PAGES = pages(HTML) if HTML.is_dir() else []
WIDE, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
FACTS: dict[str, dict] = {}  # the facts of each page at 1280 px, read once


def _shot_name(name, mode):
    return SHOTS / f"{name.replace('/', '_').removesuffix('.html')}_{mode}.png"


@pytest.fixture(scope="module", autouse=True)
def shots_dir():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    if path is None:
        pytest.fail("no Chromium on this machine: install Debian's package (apt-get install "
                    "chromium) to run the browser test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site():
    with serve(HTML) as base:
        yield base


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=WIDE)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    yield context.new_page()
    context.close()


@pytest.fixture
def dark(browser):
    context = browser.new_context(viewport=WIDE, color_scheme="dark")
    yield context.new_page()
    context.close()


def test_the_book_is_built():
    assert (HTML / "index.html").is_file(), "no _build/html: run `make build-strict` first"
    for doc in toc_files():
        assert f"{doc}.html" in PAGES, f"{doc} is in _toc.yml but was not built"


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_cleanly(page, site, name):
    """At 1280 px: no errors, math typeset, links resolve, nothing overflows, figures legible."""
    facts, errors = open_page(page, site + name)
    FACTS[name] = facts
    if name.removesuffix(".html") in toc_files():
        page.screenshot(path=str(_shot_name(name, "light")))
    problems = check_facts(name, facts, errors)
    problems += LinkChecker(HTML, site).problems(name, facts["links"])
    problems += check_layout(name, facts, HTML, site, wide=True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_phone(phone, site, name):
    """At 390 px the page itself never scrolls sideways (wide boxes scroll inside themselves)."""
    facts, errors = open_page(phone, site + name)
    if name.removesuffix(".html") in toc_files()[:3]:
        phone.screenshot(path=str(_shot_name(name, "phone")))
    problems = check_layout(name, facts, HTML, site, wide=False)
    assert not problems, "\n".join(problems)


def test_dark_mode_screenshots(dark, site):
    """Every chapter's first screen and its first figure in the theme's dark mode."""
    for doc in toc_files():
        open_page(dark, f"{site}{doc}.html")
        assert dark.evaluate("document.documentElement.dataset.theme") == "dark"
        dark.screenshot(path=str(_shot_name(doc, "dark")))
        fig = dark.query_selector("article img[src*='_images/']")
        if fig is not None:
            fig.scroll_into_view_if_needed()
            dark.screenshot(path=str(_shot_name(doc, "dark_figure")))


def test_pages_with_math_are_typeset(page, site):
    typeset = {}
    for doc in toc_files():
        facts = FACTS.get(f"{doc}.html") or open_page(page, f"{site}{doc}.html")[0]
        typeset[doc] = facts["typeset"]
    assert typeset["chapters/01_axes_and_layouts"] > 10, typeset  # chapter 1 is full of math


def test_axis_explorer_draws_what_stat_groups_says(page, site):
    """Click through every choice of the front page's explorer; compare with stat_groups."""
    open_page(page, f"{site}intro.html")
    problems, clicked = explorer_problems(page)
    assert not problems, "\n".join(problems)
    # the two layouts x (BN, LN, IN, GN with G = 1, 2, 3, 6, and every non-empty set of axes)
    assert clicked == 2 * 7 + (2 ** 3 - 1) + (2 ** 4 - 1), clicked
    page.screenshot(path=str(SHOTS / "intro_explorer.png"), full_page=False)


def test_pdf_of_the_book(tmp_path):
    """The PDF exists, starts a page with each chapter's heading, and its pages render."""
    titles = [_h1(HTML / f"{doc}.html") for doc in toc_files()]
    problems, rendered = check_pdf(PDF, titles, SHOTS)
    assert not problems, "\n".join(problems)
    assert len(rendered) >= len(titles)


def test_table_of_contents_lists_every_chapter(page, site):
    facts, _ = open_page(page, f"{site}{toc_files()[0]}.html")
    listed = {h.split("#")[0][len(site):] for h in facts["sidebar"]}
    missing = [doc for doc in toc_files()[1:] if f"{doc}.html" not in listed]
    assert not missing, f"not in the sidebar: {missing}"


def _title_word(page, site, doc):
    page.goto(f"{site}{doc}.html", wait_until="load")
    title = page.evaluate("() => document.querySelector('article h1').innerText")
    words = sorted(re.findall(r"[A-Za-z]{5,}", title), key=len, reverse=True)
    assert words, f"{doc}: no searchable word in its title {title!r}"
    return words[0]


def test_search_finds_each_chapter(page, site):
    for doc in toc_files()[1:]:
        word = _title_word(page, site, doc)
        hits = search_finds(page, site, word)
        assert any(f"{doc}.html" in h for h in hits), f"search for {word!r} did not find {doc}"


def test_contact_sheet():
    """One sheet of every screenshot: light, dark, phone, the explorer and the PDF's pages."""
    order = {"light": 0, "dark": 1, "dark_figure": 2, "phone": 3}
    shots = []
    for doc in toc_files():
        for mode in order:
            if _shot_name(doc, mode).is_file():
                shots.append(_shot_name(doc, mode))
    shots += sorted(SHOTS.glob("intro_explorer.png")) + sorted(SHOTS.glob("pdf-*.png"))
    assert len(shots) >= 2 * len(toc_files()), [p.name for p in shots]
    sheet = contact_sheet(shots, SHOTS / "contact_sheet.png", columns=4, width=320)
    assert all(p.stat().st_size > 10_000 for p in shots)
    assert sheet.stat().st_size > 50_000


def _damaged_copy(tmp_path, doc):
    """A copy of the site in which one chapter page has each kind of fault."""
    for entry in HTML.iterdir():
        if entry.name != doc.split("/")[0]:
            (tmp_path / entry.name).symlink_to(entry)
    shutil.copytree(HTML / doc.split("/")[0], tmp_path / doc.split("/")[0])
    path = tmp_path / f"{doc}.html"
    html = path.read_text(encoding="utf-8")
    assert html.count('src="../_images/') >= 2, "the damaged chapter needs two images"
    first, second, rest = html.split('src="../_images/', 2)
    # the first figure missing; the second shown at 200 px: its text is far below the
    # caption's small print
    html = (first + 'src="../_images/missing-' + second
            + 'style="width: 200px" src="../_images/' + rest)
    faults = (
        '<p><a href="no-such-page.html">a broken link</a> '
        '<a href="#no-such-anchor">a broken anchor</a></p>'
        '<div class="math notranslate nohighlight">\\[\\frac{a}{b\\]</div>'
        '<div class="math notranslate nohighlight">\\[\\undefinedmacro{x}\\]</div>'
        '<figure><img src="../_static/mathjax/../../_images/also-missing.png"></figure>'
        '<div class="math notranslate nohighlight">\\[' + " + ".join(
            f"x_{{{k}}}" for k in range(1, 61)) + '\\]</div>'
        '<table><tr><td>wide</td><td style="white-space: nowrap">' + "a table cell " * 40
        + '</td></tr></table>'
        '<div style="width: 600px; height: 2px">a box wider than a phone</div>'
    )
    # a figure with the text-size record but a transparent background (black text in dark mode)
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("normaxes:min-text-px", "12")
    info.add_text("normaxes:density", "2")
    (tmp_path / "_images").unlink()
    shutil.copytree(HTML / "_images", tmp_path / "_images")
    Image.new("RGBA", (400, 200), (255, 255, 255, 0)).save(
        tmp_path / "_images" / "transparent.png", pnginfo=info)
    faults += ('<figure><img alt="a transparent figure" src="../_images/transparent.png">'
               "<figcaption>a transparent figure</figcaption></figure>")
    html = html.replace("</article>", faults + "</article>", 1)
    html = html.replace("</body>", '<script>throw new Error("injected failure")</script></body>')
    path.write_text(html, encoding="utf-8")
    return path


def test_each_kind_of_fault_is_caught(page, phone, tmp_path):
    doc = "chapters/01_axes_and_layouts"
    _damaged_copy(tmp_path, doc)
    with serve(tmp_path) as base:
        facts, errors = open_page(page, f"{base}{doc}.html")
        problems = check_facts(doc, facts, errors) + LinkChecker(tmp_path, base).problems(
            doc, facts["links"])
        problems += check_layout(doc, facts, tmp_path, base, wide=True)
        facts, _ = open_page(phone, f"{base}{doc}.html")
        problems += check_layout(doc, facts, tmp_path, base, wide=False)
    text = "\n".join(problems)
    for expected in ("display equation overflows its box", "table overflows its box",
                     "is shown 200 px wide, so its smallest text is",
                     "the page scrolls sideways at 390 px", "has a transparent background",
                     "image did not load: ../_images/missing-", "broken link to chapters/no-such-page.html",
                     "missing anchor chapters/01_axes_and_layouts.html#no-such-anchor",
                     "math elements not typeset", "MathJax error: Undefined control sequence \\undefinedmacro", "figure", "has no caption",
                     "without alt text", "injected failure"):
        assert expected in text, f"{expected!r} not reported; problems:\n{text}"


def _damaged_explorer(tmp_path, old, new):
    """A copy of the site whose axis explorer has one fault (*old* replaced by *new* in its JS)."""
    for entry in HTML.iterdir():
        if entry.name != "_static":
            (tmp_path / entry.name).symlink_to(entry)
    (tmp_path / "_static").mkdir()
    for entry in (HTML / "_static").iterdir():
        if entry.name != "axis-explorer.js":
            (tmp_path / "_static" / entry.name).symlink_to(entry)
    js = (HTML / "_static" / "axis-explorer.js").read_text(encoding="utf-8")
    assert js.count(old) == 1, old
    (tmp_path / "_static" / "axis-explorer.js").write_text(js.replace(old, new))


@pytest.mark.parametrize("old, new, expected", [
    # Group Norm drawn without its groups: the sets of G > 1 differ from stat_groups
    ("if (G && a === ch)", "if (false)", "the drawn sets differ from stat_groups"),
    # the PyTorch line with the unbiased variance: it no longer computes what standardize does
    ('keepdim=True, unbiased=False)");', 'keepdim=True)");',
     "standardize and the PyTorch lines differ"),
    # the selected entry's set not shaded
    ("var same = label === labels[selected];", "var same = false;",
     "the shaded entries are not the selected entry's statistics set"),
])
def test_explorer_faults_are_caught(page, tmp_path, old, new, expected):
    _damaged_explorer(tmp_path, old, new)
    with serve(tmp_path) as base:
        open_page(page, f"{base}intro.html")
        problems, _ = explorer_problems(page)
    assert any(expected in p for p in problems), "\n".join(problems) or "no problem reported"


def test_pdf_faults_are_caught(tmp_path):
    titles = [_h1(HTML / f"{doc}.html") for doc in toc_files()]
    problems, _ = check_pdf(tmp_path / "none.pdf", titles, tmp_path)
    assert problems and "no PDF of the book" in problems[0]
    problems, _ = check_pdf(PDF, titles + ["A chapter the PDF does not have"], tmp_path)
    assert "PDF: no page starts with the chapter heading 'A chapter the PDF does not have'" in \
        problems
    assert f"PDF: {len(titles)} chapter headings, the book has {len(titles) + 1}" in problems


def _h1(path):
    from bs4 import BeautifulSoup

    h1 = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select_one("article h1")
    return h1.get_text(" ", strip=True).rstrip("#").strip()


def test_single_page_version_holds_every_chapter(page):
    single = HTML.parent / "singlehtml"
    assert (single / "intro.html").is_file(), "no _build/singlehtml: run `make build-strict`"
    with serve(single) as base:
        facts, errors = open_page(page, f"{base}intro.html")
        problems = check_facts("singlehtml", facts, errors)
        problems += LinkChecker(single, base).problems("singlehtml", facts["links"])
        text = page.evaluate("() => document.querySelector('article').innerText")
    assert not problems, "\n".join(problems)
    missing = [doc for doc in toc_files() if _h1(HTML / f"{doc}.html") not in text]
    assert not missing, f"not in the single-page book: {missing}"
