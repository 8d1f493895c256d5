"""The rendered book, tested as a reader sees it: every page in headless Chromium.

Needs the built book (`make build-strict`: both builders) and Debian's `chromium` and
`pdftoppm`; `make test-browser` runs it, and `make test` runs it whenever Chromium is
installed. Every page is opened once at 1280 px and read again at 390 px (a phone) and, for
every chapter, in dark mode, by the survey of conftest.py (one browser, a few tabs in flight at
a time); the per-page tests check what it read. The single-page book is opened once in the
background (its own browser, from the session's start), read, and the PDF printed from that
page (as `make pdf` does); the tests that wait for it run last. Screenshots of the first
screen of each page in both modes and on the phone, and of the PDF's pages, go to
_build/screenshots/ with a contact sheet of them. The faults broken on purpose are injected
into the smallest chapter page with figures.
"""

import functools
import re
import shutil

import pytest
from bookcheck import (
    HTML,
    PDF,
    SHOTS,
    SINGLE,
    LinkChecker,
    Opening,
    check_facts,
    check_layout,
    check_pdf,
    contact_sheet,
    explorer_problems,
    is_path_like,
    open_jobs,
    open_page,
    pages,
    reshow,
    search_finds_all,
    serve,
    toc_files,
)
from conftest import PHONE, TABS, WIDE, shot_name

from normaxes.book.mathrender import typeset

PAGES = pages(HTML) if HTML.is_dir() else []


def test_the_book_is_built():
    assert (HTML / "index.html").is_file(), "no _build/html: run `make build-strict` first"
    for doc in toc_files():
        assert f"{doc}.html" in PAGES, f"{doc} is in _toc.yml but was not built"


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_cleanly(survey, links, site, name):
    """At 1280 px: no errors, math typeset, links resolve, nothing overflows, figures legible."""
    facts, errors = survey["wide"][name]
    problems = check_facts(name, facts, errors)
    problems += links.problems(name, facts["links"])
    problems += check_layout(name, facts, HTML, site, wide=True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_phone(survey, site, name):
    """At 390 px the page itself never scrolls sideways (wide boxes scroll inside themselves)."""
    facts, errors = survey["phone"][name]
    problems = check_layout(name, facts, HTML, site, wide=False)
    assert not problems, "\n".join(problems)


def test_dark_mode_screenshots(survey):
    """Every chapter's first screen and its first figure in the theme's dark mode."""
    for doc in toc_files():
        facts, _ = survey["dark"][f"{doc}.html"]
        assert facts["theme"] == "dark", doc
        assert shot_name(doc, "dark").is_file(), doc


# pages where a window resized after the load could differ most from one opened at that size:
# the most math (chapter 1), and wide tables with the sidebar scrolled to a late entry
RESHOWN = ("chapters/axes.html", "chapters/notation.html")


def test_reshown_page_reads_as_a_fresh_open(survey, browser, site):
    """The survey reads the phone and dark modes from the page it opened at 1280 px
    (bookcheck.reshow); opened afresh in each mode, a page gives the same facts."""
    phone = browser.new_context(viewport=PHONE, device_scale_factor=1)
    dark = browser.new_context(viewport=WIDE, color_scheme="dark")
    theme = "document.documentElement.dataset.theme"
    try:
        got = open_jobs([(c, site + n, False, (lambda p, u, f: f.__setitem__(
            "theme", p.evaluate(theme))) if c is dark else None)
            for n in RESHOWN for c in (phone, dark)], tabs=TABS)
    finally:
        phone.close()
        dark.close()
    for name in RESHOWN:
        for mode, context in (("phone", phone), ("dark", dark)):
            fresh, reshown = got[(context, site + name)], survey[mode][name]
            if mode == "phone":
                assert "theme" not in reshown[0]
            differ = sorted(k for k in fresh[0].keys() | reshown[0].keys()
                            if fresh[0].get(k) != reshown[0].get(k))
            assert not differ, f"{name} ({mode}): reshown, the facts {differ} differ from a fresh open"
            assert fresh[1] == reshown[1], f"{name} ({mode}): errors {fresh[1]} vs {reshown[1]}"


CHAPTERS = [doc for doc in toc_files() if doc.startswith("chapters/")
            and (HTML.parent.parent / f"{doc}.ipynb").is_file() and "ledger" not in doc
            and "checking" not in doc]


@pytest.mark.parametrize("doc", CHAPTERS)
def test_exercise_solutions_start_closed(survey, doc):
    """Every chapter's Exercises section folds its solutions: three or more, none open when the
    page loads, each offering "Show the solution"."""
    solutions = survey["wide"][f"{doc}.html"][0]["solutions"]
    assert len(solutions) >= 3, f"{doc}: {len(solutions)} folded solutions"
    assert not [s for s in solutions if s["open"]], f"{doc}: a solution is open on load"
    assert all(s["summary"].startswith("Show the solution") for s in solutions), solutions


def test_a_solution_opens_on_a_click(page, site):
    """Clicking a solution's summary shows its code and output; clicking again hides them."""
    doc = CHAPTERS[0]
    open_page(page, f"{site}{doc}.html")
    block = page.locator("section#exercises details").first
    body = block.locator(".cell_input").first
    block.scroll_into_view_if_needed()
    assert not block.evaluate("d => d.open") and not body.is_visible()
    block.locator("summary").click()
    assert block.evaluate("d => d.open") and body.is_visible()
    assert body.bounding_box()["height"] > 10
    block.locator("summary").click()
    assert not block.evaluate("d => d.open") and not body.is_visible()


def test_pages_with_math_are_typeset(survey):
    typeset = {doc: survey["wide"][f"{doc}.html"][0]["typeset"] for doc in toc_files()}
    assert typeset["chapters/axes"] > 10, typeset  # chapter 1 is full of math


def test_axis_explorer_draws_what_stat_groups_says(page, site):
    """Click through every choice of the front page's explorer; compare with stat_groups."""
    open_page(page, f"{site}intro.html")
    problems, clicked = explorer_problems(page)
    assert not problems, "\n".join(problems)
    # the two layouts x (BN, LN, IN, GN with G = 1, 2, 3, 6, and every non-empty set of axes)
    assert clicked == 2 * 7 + (2 ** 3 - 1) + (2 ** 4 - 1), clicked
    page.screenshot(path=str(SHOTS / "intro_explorer.png"), full_page=False)


def test_pdf_of_the_book(single_page, shots_dir):
    """The PDF exists, starts a page with each chapter's heading, and its pages render."""
    titles = [_h1(HTML / f"{doc}.html") for doc in toc_files()]
    problems, rendered = check_pdf(PDF, titles, shots_dir)
    assert not problems, "\n".join(problems)
    assert len(rendered) >= len(titles)


def test_table_of_contents_lists_every_chapter(survey, site):
    facts, _ = survey["wide"][f"{toc_files()[0]}.html"]
    listed = {h.split("#")[0][len(site):] for h in facts["sidebar"]}
    missing = [doc for doc in toc_files()[1:] if f"{doc}.html" not in listed]
    assert not missing, f"not in the sidebar: {missing}"


def _title_word(doc):
    title = _h1(HTML / f"{doc}.html")
    words = sorted(re.findall(r"[A-Za-z]{5,}", title), key=len, reverse=True)
    assert words, f"{doc}: no searchable word in its title {title!r}"
    return words[0]


def test_search_finds_each_chapter(wide_context, site):
    """The search page, as the search box opens it, finds each chapter by its title's word."""
    docs = toc_files()[1:]
    words = {doc: _title_word(doc) for doc in docs}
    hits = search_finds_all(wide_context, site, list(words.values()), tabs=TABS)
    for doc, word in words.items():
        assert any(f"{doc}.html" in h for h in hits[word]), \
            f"search for {word!r} did not find {doc}"


def test_contact_sheet(survey, single_page):
    """One sheet of every screenshot: light, dark, phone, the explorer and the PDF's pages
    (test_pdf_of_the_book renders them: it runs before, as both wait for the PDF)."""
    order = {"light": 0, "dark": 1, "dark_figure": 2, "phone": 3}
    shots = []
    for doc in toc_files():
        for mode in order:
            if shot_name(doc, mode).is_file():
                shots.append(shot_name(doc, mode))
    shots += sorted(SHOTS.glob("intro_explorer.png")) + sorted(SHOTS.glob("pdf-*.png"))
    assert len(shots) >= 2 * len(toc_files()), [p.name for p in shots]
    sheet = contact_sheet(shots, SHOTS / "contact_sheet.png", columns=4, width=320)
    assert all(p.stat().st_size > 10_000 for p in shots)
    assert sheet.stat().st_size > 50_000


def _smallest_chapter_with_figures(n=2):
    """The chapter page with at least *n* figures that has the fewest bytes (HTML + images)."""
    best = None
    for doc in toc_files():
        path = HTML / f"{doc}.html"
        html = path.read_text(encoding="utf-8")
        imgs = re.findall(r'src="\.\./_images/([^"]+)"', html)
        if not doc.startswith("chapters/") or len(imgs) < n:
            continue
        size = path.stat().st_size + sum((HTML / "_images" / i).stat().st_size for i in imgs)
        if best is None or size < best[0]:
            best = (size, doc)
    assert best, f"no chapter with {n} figures"
    return best[1]


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
    # a display equation too wide for the column, typeset as the build typesets formulas
    (wide,), _, _ = typeset([(" + ".join(f"x_{{{k}}}" for k in range(1, 61)), True)])
    faults = (
        '<p><a href="no-such-page.html">a broken link</a> '
        '<a href="#no-such-anchor">a broken anchor</a></p>'
        # TeX that the build could not typeset stays TeX on the page
        '<div class="math notranslate nohighlight">\\[\\frac{a}{b\\]</div>'
        '<figure><img src="../_static/mathjax/../../_images/also-missing.png"></figure>'
        '<div class="math notranslate nohighlight">' + wide + '</div>'
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
    # a figure with the text-size record (12 px at 2 pixels per CSS pixel: 400 px wide) on an
    # opaque background, shown 200 px wide: its text is 6 px
    Image.new("RGB", (800, 200), (255, 255, 255)).save(
        tmp_path / "_images" / "small-text.png", pnginfo=info)
    faults += ('<figure><img alt="a figure shown too small" style="width: 200px" '
               'src="../_images/small-text.png"><figcaption>a figure shown too small'
               "</figcaption></figure>")
    # a notebook output without figure metadata: no caption, and its path for alt text
    image = rest.split('"')[0]  # an image the page has, so it loads
    faults += f'<img alt="../_images/{image}" src="../_images/{image}">'
    html = html.replace("</article>", faults + "</article>", 1)
    html = html.replace("</body>", '<script>throw new Error("injected failure")</script></body>')
    path.write_text(html, encoding="utf-8")
    return path


def test_each_kind_of_fault_is_caught(page, phone, tmp_path):
    doc = _smallest_chapter_with_figures()
    _damaged_copy(tmp_path, doc)
    with serve(tmp_path) as base:
        # at 1280 px and on the phone, loading side by side
        wide_open, phone_open = Opening(page, f"{base}{doc}.html"), Opening(
            phone, f"{base}{doc}.html")
        facts, errors = wide_open.finish()
        problems = check_facts(doc, facts, errors) + LinkChecker(tmp_path, base).problems(
            doc, facts["links"])
        problems += check_layout(doc, facts, tmp_path, base, wide=True)
        facts, _ = phone_open.finish()
        problems += check_layout(doc, facts, tmp_path, base, wide=False)
        # the survey reads the phone mode from the page opened wide: it sees the same fault
        reshown, _ = reshow(page, viewport=PHONE)
        assert check_layout(doc, reshown, tmp_path, base, wide=False) == check_layout(
            doc, facts, tmp_path, base, wide=False)
    text = "\n".join(problems)
    for expected in ("display equation overflows its box", "table overflows its box",
                     "is shown 200 px wide, so its smallest text is",
                     "the page scrolls sideways at 390 px", "has a transparent background",
                     "image did not load: ../_images/missing-",
                     "broken link to chapters/no-such-page.html",
                     f"missing anchor {doc}.html#no-such-anchor",
                     "math elements not typeset", "figure",
                     "has no caption", "without alt text", "injected failure",
                     "image whose alt text is a file path", "image outside a captioned figure"):
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
        problems, _ = explorer_problems(page, stop_early=True)
    assert any(expected in p for p in problems), "\n".join(problems) or "no problem reported"


def test_pdf_faults_are_caught(single_page, tmp_path):
    titles = [_h1(HTML / f"{doc}.html") for doc in toc_files()]
    problems, _ = check_pdf(tmp_path / "none.pdf", titles, tmp_path)
    assert problems and "no PDF of the book" in problems[0]
    problems, _ = check_pdf(PDF, titles + ["A chapter the PDF does not have"], None)
    assert "PDF: no page starts with the chapter heading 'A chapter the PDF does not have'" in \
        problems
    assert f"PDF: {len(titles)} chapter headings, the book has {len(titles) + 1}" in problems


@functools.lru_cache(maxsize=None)
def _h1(path):
    from bs4 import BeautifulSoup

    h1 = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select_one("article h1")
    return h1.get_text(" ", strip=True).rstrip("#").strip()


def test_single_page_version_holds_every_chapter(single_page, single_site):
    """The single-page book (opened once, and the PDF printed from that page)."""
    facts, errors, text = single_page
    problems = check_facts("singlehtml", facts, errors)
    problems += LinkChecker(SINGLE, single_site).problems("singlehtml", facts["links"])
    assert not problems, "\n".join(problems)
    missing = [doc for doc in toc_files() if _h1(HTML / f"{doc}.html") not in text]
    assert not missing, f"not in the single-page book: {missing}"


@pytest.mark.parametrize("alt, path_like", [
    ("../_images/1bb53fbf05cca363106.png", True), ("_images/a.png", True), ("cube.png", True),
    ("1bb53fbf05cca363106e2", True),
    ("Four cubes, one per norm: the shaded entries share one mean", False),
    ("Error against batch size: Batch Norm rises at B = 2, Group Norm stays flat", False),
])
def test_an_alt_text_that_is_a_path_is_refused(alt, path_like):
    assert is_path_like(alt) is path_like
