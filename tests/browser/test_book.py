"""The rendered book, tested as a reader sees it: every page in headless Chromium.

Needs the built book (`make build-strict`) and Debian's `chromium`; `make test-browser` runs it,
and `make test` runs it whenever Chromium is installed. Screenshots of the front page and of
each chapter's first screen, and a contact sheet of them, go to _build/screenshots/.
"""

import re
import shutil

import pytest
from bookcheck import (
    CHROMIUM_ARGS,
    HTML,
    SHOTS,
    LinkChecker,
    check_facts,
    chromium_path,
    contact_sheet,
    open_page,
    pages,
    search_finds,
    serve,
    toc_files,
)

PAGES = pages(HTML) if HTML.is_dir() else []


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
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def test_the_book_is_built():
    assert (HTML / "index.html").is_file(), "no _build/html: run `make build-strict` first"
    for doc in toc_files():
        assert f"{doc}.html" in PAGES, f"{doc} is in _toc.yml but was not built"


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_cleanly(page, site, name):
    facts, errors = open_page(page, site + name)
    problems = check_facts(name, facts, errors)
    problems += LinkChecker(HTML, site).problems(name, facts["links"])
    assert not problems, "\n".join(problems)


def test_pages_with_math_are_typeset(page, site):
    typeset = {}
    for doc in toc_files():
        facts, _ = open_page(page, f"{site}{doc}.html")
        typeset[doc] = facts["typeset"]
    assert typeset["chapters/01_axes_and_layouts"] > 10, typeset  # chapter 1 is full of math


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


def test_screenshots_and_contact_sheet(page, site):
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    shots = []
    for k, doc in enumerate(toc_files()):
        open_page(page, f"{site}{doc}.html")
        out = SHOTS / f"{k:02d}_{doc.split('/')[-1]}.png"
        page.screenshot(path=str(out))  # the first screen, as a reader lands on it
        shots.append(out)
    sheet = contact_sheet(shots, SHOTS / "contact_sheet.png")
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
    assert 'src="../_images/' in html, "the damaged chapter needs an image"
    html = html.replace('src="../_images/', 'src="../_images/missing-', 1)
    faults = (
        '<p><a href="no-such-page.html">a broken link</a> '
        '<a href="#no-such-anchor">a broken anchor</a></p>'
        '<div class="math notranslate nohighlight">\\[\\frac{a}{b\\]</div>'
        '<div class="math notranslate nohighlight">\\[\\undefinedmacro{x}\\]</div>'
        '<figure><img src="../_static/mathjax/../../_images/also-missing.png"></figure>'
    )
    html = html.replace("</article>", faults + "</article>", 1)
    html = html.replace("</body>", '<script>throw new Error("injected failure")</script></body>')
    path.write_text(html, encoding="utf-8")
    return path


def test_each_kind_of_fault_is_caught(page, tmp_path):
    doc = "chapters/01_axes_and_layouts"
    _damaged_copy(tmp_path, doc)
    with serve(tmp_path) as base:
        facts, errors = open_page(page, f"{base}{doc}.html")
        problems = check_facts(doc, facts, errors) + LinkChecker(tmp_path, base).problems(
            doc, facts["links"])
    text = "\n".join(problems)
    for expected in ("image did not load: ../_images/missing-", "broken link to chapters/no-such-page.html",
                     "missing anchor chapters/01_axes_and_layouts.html#no-such-anchor",
                     "math elements not typeset", "MathJax error: Undefined control sequence \\undefinedmacro", "figure", "has no caption",
                     "without alt text", "injected failure"):
        assert expected in text, f"{expected!r} not reported; problems:\n{text}"


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
