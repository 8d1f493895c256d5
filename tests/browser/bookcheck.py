"""Check the built book as a reader's browser sees it: headless Chromium driven by Playwright.

Used by test_book.py. Every check returns a list of problems (strings naming the page and the
fault), so the tests can both assert "no problems" on the real book and prove, on a damaged copy,
that each kind of fault is caught.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SINGLE = ROOT / "_build" / "singlehtml"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = [  # no sandbox as root; no background traffic on a closed network
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    """The system Chromium (Debian's package), or None."""
    for cand in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


@contextmanager
def launched(path: str | None = None):
    """The system Chromium (*path*, else chromium_path()) launched headless with CHROMIUM_ARGS
    by Playwright's sync API, which is bound to the thread that starts it (a thread that needs
    a browser of its own launches one here); closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path or chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(directory: Path):
    """Serve *directory* on a free loopback port; yields the base URL (ending in '/')."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def pages(html_dir: Path) -> list[str]:
    """Every HTML page of the book, as paths relative to *html_dir* (assets excluded)."""
    out = []
    for p in sorted(html_dir.rglob("*.html")):
        rel = p.relative_to(html_dir).as_posix()
        if not rel.startswith(("_static/", "_sources/", "_images/")):
            out.append(rel)
    return out


def toc_files(root: Path = ROOT) -> list[str]:
    """The documents of _toc.yml, root first, without suffix."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc.get("parts", toc.get("chapters", [])))
    return files


_PAGE_FACTS = """() => {
  const imgs = [...document.querySelectorAll('img')].map(i => ({
    src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0,
    alt: (i.getAttribute('alt') || '').trim(), inArticle: !!i.closest('article'),
    captioned: !!(i.closest('figure') && i.closest('figure').querySelector('figcaption')
                  && i.closest('figure').querySelector('figcaption').innerText.trim())}));
  const figures = [...document.querySelectorAll('article figure')].map(f => ({
    caption: (f.querySelector('figcaption') || {innerText: ''}).innerText.trim(),
    alts: [...f.querySelectorAll('img')].map(i => (i.getAttribute('alt') || '').trim())}));
  const maths = [...document.querySelectorAll('.math')];
  // what does not fit: a display equation or a table wider than the box it sits in, or than the
  // article's text column (measured at the window size the page is opened with)
  const art = document.querySelector('article.bd-article') || document.querySelector('article');
  const colRight = art ? art.getBoundingClientRect().right : window.innerWidth;
  const tooWide = (el, inner) => {
    const box = el.getBoundingClientRect(), wide = inner ? inner.getBoundingClientRect() : box;
    return Math.max(Math.round(el.scrollWidth - el.clientWidth),
                    Math.round(wide.right - Math.min(box.right, colRight)),
                    Math.round(box.right - colRight));
  };
  const snippet = el => el.innerText.replace(/\\s+/g, ' ').trim().slice(0, 60);
  const overflows = [];
  for (const m of document.querySelectorAll('article mjx-container[display="true"]')) {
    const px = tooWide(m, m.querySelector('mjx-math'));
    if (px > 1) overflows.push({kind: 'display equation', px,
      text: (m.closest('.math') || m).getAttribute('id') || snippet(m.closest('div') || m)});
  }
  for (const t of document.querySelectorAll('article table')) {
    const px = Math.max(tooWide(t), t.parentElement ? tooWide(t.parentElement, t) : 0);
    if (px > 1) overflows.push({kind: 'table', px, text: snippet(t.rows[0] || t)});
  }
  const shown = [...document.querySelectorAll('article img')].map(i => ({
    src: i.getAttribute('src'), url: i.currentSrc || i.src, natural: i.naturalWidth,
    width: i.getBoundingClientRect().width}));
  // the exercises' solutions: folded blocks of the Exercises section (closed until clicked)
  const solutions = [...document.querySelectorAll('article section#exercises details')].map(d => ({
    open: d.open, summary: (d.querySelector('summary') || {innerText: ''}).innerText.trim()}));
  return {
    imgs, figures, overflows, shown, solutions,
    pageWidth: document.documentElement.scrollWidth, viewWidth: window.innerWidth,
    math: maths.length,
    typeset: maths.filter(m => m.querySelector('mjx-container')).length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    sidebar: [...document.querySelectorAll('.bd-sidebar a[href], nav.bd-links a[href]')].map(a => a.href),
  };
}"""


_REFRESH = re.compile(r'<meta http-equiv="Refresh" content="0; url=([^"]+)"', re.IGNORECASE)


class Opening:
    """One page being opened: listeners attached, navigation started (see :func:`open_pages`)."""

    def __init__(self, page, url: str, *, measure: bool = False, label: str | None = None):
        self.page, self.url, self.errors = page, url, []
        self.label = label or url  # its entry in TIMINGS
        self.origin = "{0.scheme}://{0.netloc}/".format(urlparse(url))
        self.sizes: dict[str, int] = {}
        self.urls: dict[str, str] = {}
        self.cdp = None
        if measure:  # bytes as a cold browser fetches them: no cache, every response counted
            self.cdp = page.context.new_cdp_session(page)
            self.cdp.send("Network.enable")
            self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            self.cdp.on("Network.responseReceived",
                        lambda e: self.urls.__setitem__(e["requestId"], e["response"]["url"]))
            self.cdp.on("Network.loadingFinished",
                        lambda e: self.sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        page.on("console", self._console)
        page.on("pageerror", self._error)
        page.on("requestfailed", self._failed)
        self.t0 = time.monotonic()
        self.resp = page.goto(url, wait_until="commit")

    def _console(self, msg):
        if msg.type == "error":
            self.errors.append(f"console error: {msg.text}")

    def _error(self, exc):
        self.errors.append(f"page error: {exc}")

    def _failed(self, request):
        if request.url.startswith(self.origin):
            self.errors.append(f"request failed: {request.url}")

    def finish(self) -> tuple[dict, list[str]]:
        page, url = self.page, self.url
        try:
            if self.resp is not None and self.resp.status >= 400:
                self.errors.append(f"HTTP {self.resp.status}")
            with urlopen(url) as raw:  # the page as served, before any script or redirect ran
                refresh = _REFRESH.search(raw.read().decode("utf-8", "replace"))
            if refresh:  # a redirect stub (index.html): check the page it leads to
                page.wait_for_url(urljoin(url, refresh.group(1)), wait_until="load")
            else:
                page.wait_for_load_state("load")
            # what the checks read is there once the page has loaded (images included): the
            # formulas were typeset when the book was built; nothing else is waited for
            facts = page.evaluate(_PAGE_FACTS)
            if self.cdp is not None:  # the icon and TeX fonts are fetched by now
                page.evaluate("() => document.fonts.ready.then(() => true)")
                facts["bytes"] = {self.urls.get(k, k): n for k, n in self.sizes.items()}
        finally:
            page.remove_listener("console", self._console)
            page.remove_listener("pageerror", self._error)
            page.remove_listener("requestfailed", self._failed)
            if self.cdp is not None:
                self.cdp.detach()
        TIMINGS.append((self.label, time.monotonic() - self.t0))
        return facts, self.errors


TIMINGS: list[tuple[str, float]] = []  # (url, seconds from navigation to facts) of each open

# after a switch of window size or colour scheme: two frames (the resize and media-query
# listeners it fired have run, the page is laid out again), then every CSS transition it started
# (the theme's colours, the off-canvas sidebars' margins) finished: the state a reader sees a
# moment later, and the state a page opened in that mode starts in
_SETTLE = """() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))
  .then(() => { for (const a of document.getAnimations())
                  if (a instanceof CSSTransition) a.finish(); })"""


def reshow(page, *, viewport: dict | None = None, color_scheme: str | None = None):
    """Show a page already opened (and checked) at another window size or colour scheme.

    Returns (facts, errors) as a fresh open in that mode reads them (:func:`open_page`): the
    facts are read again once the page has handled the change (its resize and
    prefers-color-scheme listeners ran, its CSS transitions finished); errors are those the page reports
    while it does. Nothing is fetched or typeset again. test_book.py compares this with fresh
    opens (test_reshown_page_reads_as_a_fresh_open).
    """
    errors = []
    on_console = lambda m: m.type == "error" and errors.append(f"console error: {m.text}")  # noqa: E731
    on_error = lambda exc: errors.append(f"page error: {exc}")  # noqa: E731
    page.on("console", on_console)
    page.on("pageerror", on_error)
    try:
        if color_scheme is not None:
            page.emulate_media(color_scheme=color_scheme)
        if viewport is not None:
            page.set_viewport_size(viewport)
        page.evaluate(_SETTLE)
        facts = page.evaluate(_PAGE_FACTS)
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_error)
    return facts, errors


def open_page(page, url: str, *, measure: bool = False) -> tuple[dict, list[str]]:
    """Load *url* in *page*, wait for the load, and return (facts, console errors)."""
    return Opening(page, url, measure=measure).finish()


def open_pages(context, urls: list[str], *, tabs: int = 3, measure: bool = False, each=None):
    """Open *urls* in up to *tabs* tabs of *context* at once; {url: (facts, errors)}.

    See :func:`open_jobs` (one context, the same *measure* and *each* for every URL).
    """
    got = open_jobs([(context, url, measure, each) for url in urls], tabs=tabs)
    return {url: v for (_, url), v in got.items()}


def open_jobs(jobs, *, tabs: int = 3) -> dict:
    """Open every ``(context, url, measure, each)`` of *jobs*, *tabs* pages in flight at once.

    The browser loads and typesets the pages in flight side by side; each is waited for as
    :func:`open_page` waits, in the order of *jobs*. ``each(page, url, facts)`` (or None) runs on
    a page once its facts are read (screenshots); then that tab opens the next job's URL at once,
    so *tabs* pages stay in flight until the last ones (no batch waits for its slowest page).
    Returns {(context, url): (facts, errors)}.
    """
    from collections import deque

    free: dict = {}  # context -> its idle tabs
    made = []
    todo, flight, out = deque(jobs), deque(), {}

    def start():
        context, url, measure, each = todo.popleft()
        if free.get(context):
            page = free[context].pop()
        else:
            page = context.new_page()
            made.append(page)
        flight.append((context, url, each, page, Opening(page, url, measure=measure)))

    try:
        while todo or flight:
            while todo and len(flight) < tabs:
                start()
            context, url, each, page, opening = flight.popleft()
            out[(context, url)] = opening.finish()
            if each is not None:
                each(page, url, out[(context, url)][0])
            free.setdefault(context, []).append(page)
    finally:
        for page in made:
            page.close()
    return out


def is_path_like(alt: str) -> bool:
    """Whether an alt text is a file name or path rather than words (myst-nb writes the image's
    path when a cell gives none)."""
    alt = alt.strip()
    return bool(re.search(r"\.(png|svg|jpe?g|gif|webp)$", alt, re.I) or "/" in alt.split()[0]
                or alt.startswith(("_images", "../")) or re.fullmatch(r"[0-9a-f]{16,}", alt))


def check_facts(name: str, facts: dict, errors: list[str]) -> list[str]:
    """Problems of one page: console errors, math, images, figures."""
    problems = [f"{name}: {e}" for e in errors]
    if facts["math"] and facts["typeset"] < facts["math"]:
        problems.append(f"{name}: {facts['math'] - facts['typeset']} of {facts['math']} math "
                        "elements not typeset (TeX as written: the build reports why)")
    for img in facts["imgs"]:
        if not img["ok"]:
            problems.append(f"{name}: image did not load: {img['src']}")
        if not img["inArticle"] or "/_static/" in f"/{img['src']}":
            continue  # the theme's icons (the module index's minus.png) are not pictures
        # every picture of the text: a figure with a caption, and alt text that says what it
        # shows (not its file, which is what an uncaptioned notebook output gets)
        if not img["alt"]:
            problems.append(f"{name}: image without alt text: {img['src']}")
        elif is_path_like(img["alt"]):
            problems.append(f"{name}: image whose alt text is a file path ({img['alt'][:40]}): "
                            f"{img['src']}")
        if not img["captioned"]:
            problems.append(f"{name}: image outside a captioned figure: {img['src']}")
    for k, fig in enumerate(facts["figures"], start=1):
        if not fig["caption"]:
            problems.append(f"{name}: figure {k} has no caption")
        if not fig["alts"] or not all(fig["alts"]):
            problems.append(f"{name}: figure {k} has an image without alt text")
    return problems


MIN_TEXT_PX = 11  # the theme's caption small print (0.6875 rem at 16 px), see check_layout


def text_px_of(path: Path) -> tuple[float, float] | None:
    """(smallest text in CSS px at the design width, PNG pixels per CSS pixel) of a figure PNG.

    normaxes.book.figures.png writes both into the PNG (``normaxes:min-text-px``,
    ``normaxes:density``); None for an image without them (not drawn by the book's formatter).
    """
    from PIL import Image

    with Image.open(path) as im:
        info = getattr(im, "text", {}) or {}
        if "normaxes:min-text-px" not in info:
            return None
        return float(info["normaxes:min-text-px"]), float(info.get("normaxes:density", 1))


def check_layout(name: str, facts: dict, html_dir: Path, base: str, *, wide: bool) -> list[str]:
    """Problems of what a reader sees at this window size.

    *wide* (1280 px): no display equation or table wider than its box or the text column, and
    every figure shown at least as large as its text needs (its smallest text >= 11 CSS px, the
    caption's small print). Narrow (390 px): the page itself does not scroll sideways.
    """
    out = []
    if facts["pageWidth"] > facts["viewWidth"] + 1:
        out.append(f"{name}: the page scrolls sideways at {facts['viewWidth']} px "
                   f"({facts['pageWidth']} px wide)")
    if not wide:
        return out
    for o in facts["overflows"]:
        out.append(f"{name}: {o['kind']} overflows its box by {o['px']} px at "
                   f"{facts['viewWidth']} px: {o['text']}")
    for img in facts["shown"]:
        url = urlparse(img["url"])
        if not img["url"].startswith(base) or not url.path.endswith(".png"):
            continue
        path = html_dir / unquote(url.path)[len(urlparse(base).path):]
        if not path.is_file():
            continue  # reported as an image that did not load
        if "/_images/" not in img["url"]:
            continue  # the theme's and the book's own assets (logo, icons)
        record = text_px_of(path)
        if record is None:
            out.append(f"{name}: figure {img['src']} has no text-size record: it was not drawn "
                       "by normaxes.book.figures.png (re-execute the chapter)")
            continue
        from PIL import Image

        with Image.open(path) as im:  # dark mode: no text on a background that turns dark
            if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
                out.append(f"{name}: figure {img['src']} has a transparent background "
                           "(its text disappears in dark mode)")
        # the PNG holds `density` pixels per CSS pixel; shown narrower than that, text shrinks
        design_px, density = record
        scale = img["width"] / (img["natural"] / density) if img["natural"] else 0
        px = design_px * scale
        if px < MIN_TEXT_PX - 0.05:
            out.append(f"{name}: figure {img['src']} is shown {img['width']:.0f} px wide, so its "
                       f"smallest text is {px:.1f} px (< {MIN_TEXT_PX} px); it needs "
                       f"{img['width'] * MIN_TEXT_PX / px:.0f} px")
    return out


class LinkChecker:
    """Resolves internal links and their anchors against the built files."""

    _ids: dict[tuple, set[str]] = {}  # shared: each file version is parsed once per session

    def __init__(self, html_dir: Path, base: str):
        self.html_dir, self.base = html_dir, base

    def _ids_of(self, path: Path) -> set[str]:
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
        if key not in self._ids:
            from bs4 import BeautifulSoup

            soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
            ids = {t["id"] for t in soup.find_all(id=True)}
            ids |= {t["name"] for t in soup.find_all("a", attrs={"name": True})}
            self._ids[key] = ids
        return self._ids[key]

    def problems(self, name: str, links: list[str]) -> list[str]:
        out = []
        for href in sorted(set(links)):
            if not href.startswith(self.base):
                continue  # external: repository, launch buttons, papers
            url, frag = urldefrag(href)
            rel = unquote(urlparse(url).path)[len(urlparse(self.base).path):]
            target = self.html_dir / rel
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                out.append(f"{name}: broken link to {rel or '/'}")
                continue
            if frag and target.suffix == ".html" and unquote(frag) not in self._ids_of(target):
                out.append(f"{name}: link to missing anchor {rel}#{frag}")
        return out


_SEARCH_DONE = "() => !!(document.querySelector('.search-summary') || {}).innerText"
_SEARCH_HITS = "() => [...document.querySelectorAll('ul.search li a')].map(a => a.href)"


def search_finds(page, base: str, word: str) -> list[str]:
    """The result links of the book's search page for *word*."""
    return search_finds_all(page.context, base, [word], tabs=1)[word]


def search_finds_all(context, base: str, words: list[str], *, tabs: int = 3) -> dict:
    """{word: result links of the book's search page}, a few search pages open at once.

    Sphinx adds the results one by one, with a pause between them; the summary line stays empty
    until the last one is in ("Search finished, found ..." or "did not match ...").
    """
    out, pages_ = {}, [context.new_page() for _ in range(min(tabs, len(words)))]
    try:
        for k in range(0, len(words), len(pages_)):
            batch = list(zip(pages_, words[k:k + len(pages_)], strict=False))
            for page, word in batch:
                page.goto(f"{base}search.html?q={word}", wait_until="commit")
            for page, word in batch:
                t0 = time.monotonic()
                page.wait_for_load_state("load")
                page.wait_for_function(_SEARCH_DONE, timeout=30000)
                out[word] = page.evaluate(_SEARCH_HITS)
                TIMINGS.append((f"{base}search.html?q={word}", time.monotonic() - t0))
    finally:
        for page in pages_:
            page.close()
    return out


def contact_sheet(images: list[Path], out: Path, columns: int = 3, width: int = 420):
    """One image with a labelled thumbnail of each screenshot."""
    from PIL import Image, ImageDraw

    thumbs = []
    for p in images:
        im = Image.open(p).convert("RGB")
        im = im.resize((width, round(im.height * width / im.width)))
        thumbs.append((p.stem, im))
    label, pad = 22, 12
    cell_h = max(t.height for _, t in thumbs) + label
    rows = -(-len(thumbs) // columns)
    sheet = Image.new("RGB", (columns * (width + pad) + pad, rows * (cell_h + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (stem, im) in enumerate(thumbs):
        x = pad + (k % columns) * (width + pad)
        y = pad + (k // columns) * (cell_h + pad)
        draw.text((x, y + 4), stem, fill=(20, 20, 20))
        sheet.paste(im, (x, y + label))
        draw.rectangle([x - 1, y + label - 1, x + width, y + label + im.height], outline=(160, 160, 160))
    sheet.save(out)
    return out


PDF = ROOT / "_build" / "pdf" / "normaxes.pdf"
SHADE_RGB = "rgb(59, 117, 175)"  # normaxes.book.figures.SHADE, as the browser reports a fill


def _explorer_state(page) -> dict:
    return page.evaluate("""() => {
      const root = document.querySelector('.axis-explorer');
      const cells = [...root.querySelectorAll('svg rect.entry')].map(r => ({
        flat: +r.dataset.flat, group: +r.dataset.group, index: r.dataset.index,
        fill: getComputedStyle(r).fill, selected: r.classList.contains('selected')}));
      return {state: root.dataset.state, cells,
              summary: root.querySelector('.axis-explorer-summary').innerText,
              standardize: root.querySelector('.axis-explorer-standardize').innerText,
              torch: root.querySelector('.axis-explorer-torch').innerText};
    }""")


def _same_partition(a: list[int], b: list[int]) -> bool:
    """Do labellings *a* and *b* group the same entries together (whatever the label values)?"""
    return len(a) == len(b) and len(set(zip(a, b, strict=True))) == len(set(a)) == len(set(b))


def _run_shown_code(drawn: dict, shape) -> str | None:
    """Run the explorer's standardize call and PyTorch lines on one tensor; None if they agree."""
    import numpy as np
    import torch

    import normaxes

    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ns_std = {"standardize": normaxes.standardize, "x": x}
    ns_torch = {"torch": torch, "x": x}
    try:
        exec(drawn["standardize"], ns_std)
        exec(drawn["torch"], ns_torch)
    except Exception as err:  # the shown code must run as shown
        return f"shown code does not run: {type(err).__name__}: {err}"
    y1, y2 = ns_std["y"], ns_torch["y"]
    if tuple(y2.shape) != tuple(shape):
        return f"the PyTorch lines give shape {tuple(y2.shape)}, not {tuple(shape)}"
    diff = float(np.max(np.abs(np.asarray(y1) - np.asarray(y2))))
    return None if diff <= 1e-9 else f"standardize and the PyTorch lines differ by {diff:.2g}"


class _Stop(Exception):
    pass


def explorer_problems(page, *, stop_early: bool = False) -> tuple[list[str], int]:
    """Click through every choice of the axis explorer; compare each drawing with the reference.

    The reference is ``normaxes.stat_groups`` of each choice, written into the page at build time
    (script#axis-explorer-reference). Each drawing must hold every entry once, group the entries
    as the reference does, shade exactly the selected entry's set, state the number of sets, and
    show a `standardize` call and PyTorch lines that compute the same thing. With *stop_early*
    (a page broken on purpose), the clicking stops after the first choice that shows a problem.
    """
    import json

    ref = json.loads(page.evaluate(
        "document.getElementById('axis-explorer-reference').textContent"))
    problems, clicked = [], 0

    def check(again=False):
        nonlocal clicked
        clicked += 0 if again else 1
        d = _explorer_state(page)
        key = d["state"]
        if key not in ref:
            problems.append(f"explorer: no reference for the choice {key!r}")
            return
        labels = ref[key]
        cells = sorted(d["cells"], key=lambda c: c["flat"])
        if [c["flat"] for c in cells] != list(range(len(labels))):
            problems.append(f"explorer {key}: draws {len(cells)} entries, not each of "
                            f"{len(labels)} once")
            return
        drawn = [c["group"] for c in cells]
        if not _same_partition(drawn, labels):
            problems.append(f"explorer {key}: the drawn sets differ from stat_groups")
        sel = [c["flat"] for c in cells if c["selected"]]
        if len(sel) != 1:
            problems.append(f"explorer {key}: {len(sel)} selected entries")
        else:
            want = [labels[c["flat"]] == labels[sel[0]] for c in cells]
            got = [c["fill"] == SHADE_RGB for c in cells]
            if want != got:
                problems.append(f"explorer {key}: the shaded entries are not the selected "
                                "entry's statistics set")
        fills = {}
        for c in cells:
            fills.setdefault(c["group"], set()).add(c["fill"])
        if any(len(f) != 1 for f in fills.values()):
            problems.append(f"explorer {key}: one set drawn in several colours")
        n_sets = len(set(labels))
        if f"{n_sets} statistics set" not in d["summary"]:
            problems.append(f"explorer {key}: the summary does not say {n_sets} sets: "
                            f"{d['summary']!r}")
        shape = {"seq": (3, 4, 6), "img": (3, 6, 2, 2)}[key.split("|")[0]]
        bad = _run_shown_code(d, shape)
        if bad:
            problems.append(f"explorer {key}: {bad}\n{d['standardize']}\n{d['torch']}")
        if stop_early and problems:
            raise _Stop

    try:
        _click_through(page, check, problems)
    except _Stop:
        pass
    return problems, clicked


def _click_through(page, check, problems):
    from itertools import combinations

    root = ".axis-explorer "
    for layout, axes in (("seq", "B T F"), ("img", "N C H W")):
        page.check(f"{root}input[name=ax-layout][value={layout}]")
        for norm in ("BN", "LN", "IN"):
            page.check(f"{root}input[name=ax-norm][value={norm}]")
            check()
        page.check(f"{root}input[name=ax-norm][value=GN]")
        for G in ("1", "2", "3", "6"):
            page.select_option(f"{root}select.axis-explorer-groups", G)
            check()
        page.check(f"{root}input[name=ax-norm][value=custom]")
        names = axes.split()
        for k in range(len(names) + 1):
            for subset in combinations(names, k):
                for a in names:
                    page.set_checked(f"{root}label[data-layout={layout}] input[value={a}]",
                                     a in subset)
                if subset:
                    check()
                    continue
                # no axis: standardize refuses it (ValueError), and the explorer says so
                d = _explorer_state(page)
                if "at least one axis" not in d["summary"] or d["cells"]:
                    problems.append(f"explorer {layout}: an empty set of axes is not refused")
        # another entry selected: its set is shaded
        page.check(f"{root}input[name=ax-norm][value=LN]")
        page.click(f"{root}svg rect.entry[data-flat='5']")
        d = _explorer_state(page)
        if [c["flat"] for c in d["cells"] if c["selected"]] != [5]:
            problems.append(f"explorer {layout}: clicking entry 5 did not select it")
        check(again=True)  # the same choice again, with another entry selected


_PDF_RUNS: dict[tuple, object] = {}  # (path, mtime) -> Future of _pdf_pages
_PDF_POOL = None


def prefetch_pdf(pdf: Path):
    """Start reading and rendering *pdf* in the background (once per file version).

    pdftotext and pdftoppm run as their own processes while the browser works; check_pdf waits
    for the result. The pages are rendered by two pdftoppm processes, half the pages each.
    """
    global _PDF_POOL
    from concurrent.futures import ThreadPoolExecutor

    if not pdf.is_file():
        return None
    key = (str(pdf), pdf.stat().st_mtime_ns)
    if key not in _PDF_RUNS:
        if _PDF_POOL is None:
            _PDF_POOL = ThreadPoolExecutor(max_workers=1)
        _PDF_RUNS[key] = _PDF_POOL.submit(_pdf_pages, *key)
    return _PDF_RUNS[key]


def _pdf_pages(pdf: str, mtime_ns: int) -> tuple[list[str], int, list[int]]:
    """(the first lines of each page, pages rendered, pages that render blank) of a PDF.

    Rendered once per file version (pdftotext, pdftoppm at 24 dpi): the checks of the PDF and
    of its faults read the same result.
    """
    import tempfile

    from PIL import Image, ImageStat

    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], check=True,
                          capture_output=True, text=True).stdout
    norm = lambda s: re.sub(r"\s+", " ", s).strip().lower()  # noqa: E731
    tops = []
    for page_text in text.split("\f"):
        lines = [ln for ln in page_text.splitlines() if ln.strip()]
        tops.append(norm(" ".join(lines[:3])))
    info = subprocess.run(["pdfinfo", pdf], check=True, capture_output=True, text=True).stdout
    n = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    blank = []
    with tempfile.TemporaryDirectory() as tmp:
        half = (n + 1) // 2
        # grey levels as uncompressed PGM: the blank test reads only the darkest pixel, and
        # encoding 2 x 471 PNGs cost three times the rendering
        procs = [subprocess.Popen(["pdftoppm", "-r", "24", "-gray", "-f", str(a), "-l", str(b),
                                   pdf, f"{tmp}/p"])
                 for a, b in ((1, half), (half + 1, n)) if a <= b]
        for proc in procs:
            if proc.wait() != 0:
                raise subprocess.CalledProcessError(proc.returncode, proc.args)
        shown = sorted(Path(tmp).glob("p-*.pgm"))
        for k, p in enumerate(shown):
            with Image.open(p) as im:
                if ImageStat.Stat(im.convert("L")).extrema[0][0] > 200:
                    blank.append(k + 1)
    return tops, len(shown), blank


def check_pdf(pdf: Path, titles: list[str], shots: Path | None) -> tuple[list[str], list[Path]]:
    """Problems of the PDF: missing, a chapter's heading not at the top of a page, a blank page.

    Each chapter starts a page (print CSS in _static/normaxes.css); the page's first line must be
    the chapter's title. Every page is rendered with pdftoppm; the first page of each chapter
    goes into *shots* for the contact sheet (none when *shots* is None).
    """
    if not pdf.is_file() or pdf.stat().st_size < 10_000:
        return [f"no PDF of the book at {pdf} (make pdf)"], []
    tops, n_rendered, blank = prefetch_pdf(pdf).result()
    norm = lambda s: re.sub(r"\s+", " ", s).strip().lower()  # noqa: E731
    problems, starts = [], []
    for title in titles:
        hit = [k for k, top in enumerate(tops) if top.startswith(norm(title))]
        if not hit:
            problems.append(f"PDF: no page starts with the chapter heading {title!r}")
        else:
            starts.append(hit[0])
    if len(starts) != len(titles):
        problems.append(f"PDF: {len(starts)} chapter headings, the book has {len(titles)}")
    if n_rendered != len(tops) - (1 if not tops[-1] else 0):
        problems.append(f"PDF: {n_rendered} pages rendered of {len(tops)}")
    problems += [f"PDF: page {k} renders blank" for k in blank]
    rendered, procs = [], []
    for k in starts if shots is not None else []:  # side by side, each its own process
        out = shots / f"pdf-{k + 1:03d}.png"
        procs.append(subprocess.Popen(["pdftoppm", "-r", "60", "-png", "-singlefile", "-f",
                                       str(k + 1), "-l", str(k + 1), str(pdf),
                                       str(out.with_suffix(""))]))
        rendered.append(out)
    for proc in procs:
        if proc.wait() != 0:
            raise subprocess.CalledProcessError(proc.returncode, proc.args)
    return problems, rendered
