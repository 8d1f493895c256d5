"""What the browser tests share: one Chromium, one server of the book, one survey of its pages.

The survey opens every page once at 1280 px (cold cache, so its bytes are what a first visit
fetches), a few tabs at a time, reads it, then reads it again in dark mode (chapters) and at
390 px, and takes the screenshots as it goes; the per-page tests then check what it read. Every
open waits for the page's load (formulas are typeset when the book is built), never for a fixed
time or for network idle. Two jobs run in the background from the session's start, each in a
thread and Chromium of its own (head_start): the single-page book read and printed to the PDF,
and a chapter run in JupyterLab. At the end of the session the time spent on page opens is written to
_build/screenshots/timings.txt, and the session's wall and CPU seconds to summary.json.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import time

import pytest
from bookcheck import (
    HTML,
    PDF,
    SHOTS,
    SINGLE,
    TIMINGS,
    LinkChecker,
    Opening,
    chromium_path,
    launched,
    open_jobs,
    pages,
    prefetch_pdf,
    reshow,
    serve,
    toc_files,
)

WIDE, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
TABS = 3  # pages loaded side by side: the browser typesets one while it fetches another
_T0 = time.monotonic()


def _become_subreaper() -> bool:
    """Adopt this process's orphaned descendants (Linux's PR_SET_CHILD_SUBREAPER).

    Chromium's zygote and renderers outlive their parent when the browser closes; without this
    they are re-parented to init and their CPU time never reaches RUSAGE_CHILDREN (the summary
    counted well under half of the test's CPU seconds). Adopted, they are reaped at the end.
    """
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


_SUBREAPER = _become_subreaper()


def _reap_orphans(timeout: float = 3.0) -> None:
    """Wait for every child left (adopted orphans exit shortly after the browser closes)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no child left
        if pid == 0:  # children left, none has exited yet
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)


def shot_name(name, mode):
    return SHOTS / f"{name.replace('/', '_').removesuffix('.html')}_{mode}.png"


@pytest.fixture(scope="session")
def shots_dir():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        pytest.fail("no Chromium on this machine: install Debian's package (apt-get install "
                    "chromium) to run the browser test")
    with launched(path) as b:
        yield b


@pytest.fixture(scope="session")
def site():
    with serve(HTML) as base:
        yield base


@pytest.fixture(scope="session")
def wide_context(browser):
    context = browser.new_context(viewport=WIDE)
    yield context
    context.close()


@pytest.fixture(scope="session")
def phone_context(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    yield context
    context.close()


@pytest.fixture
def page(wide_context):
    p = wide_context.new_page()
    yield p
    p.close()


@pytest.fixture
def phone(phone_context):
    p = phone_context.new_page()
    yield p
    p.close()


@pytest.fixture(scope="session")
def links(site):
    return LinkChecker(HTML, site)


@pytest.fixture(scope="session")
def single_site():
    if not (SINGLE / "intro.html").is_file():
        pytest.fail("no _build/singlehtml: run `make build-strict` first")
    with serve(SINGLE) as base:
        yield base


def _single_page(base: str) -> tuple[dict, list[str], str]:
    """The single-page book at *base*: opened, read, printed to the PDF, which then renders.

    Runs in a thread of its own with its own Chromium (Playwright's sync API is bound to the
    thread that starts it), so that the 471-page print, the longest single step of the test,
    proceeds while the survey and the other tests use the session's browser. Its facts and
    article text are read, then that same page is printed (normaxes.book.pdf.print_page, as
    `make pdf` prints it), copied next to both front pages, and the PDF's pages render in their
    own processes (bookcheck.prefetch_pdf).
    """
    from normaxes.book.pdf import VIEWPORT, copy_next_to_front_pages, print_page

    with launched() as b:
        page = b.new_page(viewport=VIEWPORT, color_scheme="light")
        # it loads alongside the survey: its time says nothing about the page
        single = Opening(page, f"{base}intro.html",
                         label=f"{base}intro.html (single page, alongside the survey)")
        facts, errors = single.finish()
        text = page.evaluate("() => document.querySelector('article').innerText")
        print_page(page, PDF)
        copy_next_to_front_pages(PDF, (HTML, SINGLE))
    prefetch_pdf(PDF)
    return facts, errors, text


@pytest.fixture(scope="session", autouse=True)
def head_start(request):
    """What the selected tests need that takes long and needs no test's browser, started at once.

    {"single": Future of _single_page} when a selected test uses single_page, and Chromium and
    the single-page build are there (if not, single_page's fixtures say what is missing);
    {"lab": (its directory, test_lab.start_lab's server)} when one uses test_lab's lab, and
    {"lab_run": Future of test_lab.drive_chapter_in_own_browser} when one uses its lab_run (the
    chapter runs in JupyterLab in a thread and browser of its own while the other tests go on).
    """
    from concurrent.futures import ThreadPoolExecutor

    used = {name for item in request.session.items for name in item.fixturenames}
    jobs, pool = {}, ThreadPoolExecutor(max_workers=2)  # the single page; JupyterLab's run
    if ("single_page" in used and chromium_path() is not None
            and (SINGLE / "intro.html").is_file()):
        jobs["single"] = pool.submit(_single_page, request.getfixturevalue("single_site"))
    if "lab" in used:  # JupyterLab boots while the survey runs; test_lab waits for it
        from test_lab import lab_root, start_lab

        tmp = request.getfixturevalue("tmp_path_factory").mktemp("lab")
        jobs["lab"] = (tmp, start_lab(lab_root(tmp), tmp))
        if "lab_run" in used and chromium_path() is not None:
            from test_lab import drive_chapter_in_own_browser

            jobs["lab_run"] = pool.submit(drive_chapter_in_own_browser, tmp / "root", tmp,
                                          jobs["lab"][1])
    try:
        yield jobs
    finally:
        pool.shutdown(wait=True)
        if "lab" in jobs:  # shut down already, unless test_lab never ran
            from test_lab import _shut_down

            _shut_down(jobs["lab"][1][2], *jobs["lab"][1][:2])


@pytest.fixture(scope="session")
def single_page(browser, single_site, head_start):
    """(facts, errors, article text) of the single-page book, once it is printed to the PDF.

    _single_page has been at it since the session started (head_start); the tests that use
    this run last (pytest_collection_modifyitems), so that the print overlaps the others.
    """
    if "single" not in head_start:
        return _single_page(single_site)
    return head_start["single"].result()


def pytest_collection_modifyitems(items):
    """The tests that wait for the PDF last: the 471-page print proceeds while the others run."""
    items.sort(key=lambda item: "single_page" in item.fixturenames)


@pytest.fixture(scope="session")
def survey(browser, wide_context, site, shots_dir):
    """{"wide"|"phone"|"dark": {page name: (facts, errors)}}.

    Every page is opened once, at 1280 px with the cache off (its bytes are what a first visit
    fetches), and checked; then that same page is shown in the theme's dark mode (chapters only)
    and at 390 px (bookcheck.reshow: the window resized, the colour scheme switched, nothing
    fetched or typeset again), and its facts are read again in each mode. A page read so has the
    facts of a page opened in that mode (compared on every page when this was introduced, and by
    test_reshown_page_reads_as_a_fresh_open on every run). The single-page book is read and
    printed to the PDF alongside, in the background (single_page).
    """
    names = pages(HTML) if HTML.is_dir() else []
    docs = toc_files()
    chapters = {f"{d}.html" for d in docs}
    out = {"wide": {}, "phone": {}, "dark": {}}

    def other_modes(page, url, facts):
        name = url[len(site):]
        if name in chapters:
            page.screenshot(path=str(shot_name(name, "light")))
            # dark first: the same window, so nothing moves (the sidebar keeps its scroll)
            dark = out["dark"][name] = reshow(page, color_scheme="dark")
            dark[0]["theme"] = page.evaluate("document.documentElement.dataset.theme")
            page.screenshot(path=str(shot_name(name, "dark")))
            fig = page.query_selector("article img[src*='_images/']")
            if fig is not None:
                fig.scroll_into_view_if_needed()
                page.screenshot(path=str(shot_name(name, "dark_figure")))
            page.evaluate("window.scrollTo(0, 0)")  # where a page opens
        out["phone"][name] = reshow(page, viewport=PHONE, color_scheme="light")
        if name in {f"{d}.html" for d in docs[:3]}:
            page.screenshot(path=str(shot_name(name, "phone")))
        # the tab opens the next page at 1280 px: the window is widened on an empty page, not on
        # this one (laying out a long chapter again costs up to 0.3 s)
        page.goto("about:blank")
        page.set_viewport_size(WIDE)

    # TABS pages in flight until the last one; each, once read, is shown in the other modes
    got = open_jobs([(wide_context, site + n, True, other_modes) for n in names], tabs=TABS)
    for (_, url), v in got.items():
        out["wide"][url[len(site):]] = v
    return out


def pytest_terminal_summary(terminalreporter):
    """How long the session took and how much of it went into opening pages."""
    if not TIMINGS:
        return
    wall = time.monotonic() - _T0
    total = sum(t for _, t in TIMINGS)
    # CPU seconds of the whole test: this process and every descendant reaped (the browser and
    # its renderers, adopted as orphans, JupyterLab and its kernel, pdftoppm): on an idle
    # 2-core machine the wall time cannot be below half of it
    if _SUBREAPER:
        _reap_orphans()
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    slow = sorted(TIMINGS, key=lambda x: -x[1])[:5]
    lines = [f"browser test: {wall:.1f} s wall, {cpu:.1f} CPU seconds (the test, the browser and "
             f"its other children{'' if _SUBREAPER else ', orphans not counted'}; "
             f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}); "
             f"{len(TIMINGS)} page opens, {total:.1f} s summed "
             f"(median {sorted(t for _, t in TIMINGS)[len(TIMINGS) // 2]:.2f} s; opens: "
             f"{TABS} in flight at a time in the survey)",
             "slowest opens: " + ", ".join(f"{u.split('/', 3)[-1]} {t:.1f} s" for u, t in slow)]
    for line in lines:
        terminalreporter.write_line(line)
    if SHOTS.is_dir():
        (SHOTS / "timings.txt").write_text(
            "\n".join(lines + [f"{t:.3f}\t{u}" for u, t in TIMINGS]) + "\n")
        # the same figures for bench/bench.py (`make bench --only browser`)
        (SHOTS / "summary.json").write_text(json.dumps({
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "opens": len(TIMINGS),
            "orphans_counted": _SUBREAPER, "cores": os.cpu_count(),
            "load": round(os.getloadavg()[0], 2),
            "failed": terminalreporter.stats.get("failed", []) != []}) + "\n")
