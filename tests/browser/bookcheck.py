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
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
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
    alt: (i.getAttribute('alt') || '').trim(), inArticle: !!i.closest('article')}));
  const figures = [...document.querySelectorAll('article figure')].map(f => ({
    caption: (f.querySelector('figcaption') || {innerText: ''}).innerText.trim(),
    alts: [...f.querySelectorAll('img')].map(i => (i.getAttribute('alt') || '').trim())}));
  const maths = [...document.querySelectorAll('.math')];
  return {
    imgs, figures,
    math: maths.length,
    typeset: maths.filter(m => m.querySelector('mjx-container')).length,
    merrors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    sidebar: [...document.querySelectorAll('.bd-sidebar a[href], nav.bd-links a[href]')].map(a => a.href),
  };
}"""


_REFRESH = re.compile(r'<meta http-equiv="Refresh" content="0; url=([^"]+)"', re.IGNORECASE)


def open_page(page, url: str) -> tuple[dict, list[str]]:
    """Load *url* in *page*, wait for MathJax, and return (facts, console errors)."""
    errors: list[str] = []
    origin = "{0.scheme}://{0.netloc}/".format(urlparse(url))

    def on_console(msg):
        if msg.type == "error":
            errors.append(f"console error: {msg.text}")

    def on_error(exc):
        errors.append(f"page error: {exc}")

    def on_failed(request):
        if request.url.startswith(origin):
            errors.append(f"request failed: {request.url}")

    page.on("console", on_console)
    page.on("pageerror", on_error)
    page.on("requestfailed", on_failed)
    try:
        resp = page.goto(url, wait_until="load")
        if resp is not None and resp.status >= 400:
            errors.append(f"HTTP {resp.status}")
        with urlopen(url) as raw:  # the page as served, before any script or redirect ran
            refresh = _REFRESH.search(raw.read().decode("utf-8", "replace"))
        if refresh:  # a redirect stub (index.html): check the page it leads to
            page.wait_for_url(urljoin(url, refresh.group(1)), wait_until="load")
        if page.evaluate("document.querySelectorAll('.math').length") > 0:
            page.wait_for_function(
                "() => !!(window.MathJax && MathJax.startup && MathJax.startup.promise)",
                timeout=30000)
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
        page.wait_for_load_state("networkidle")
        facts = page.evaluate(_PAGE_FACTS)
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_error)
        page.remove_listener("requestfailed", on_failed)
    return facts, errors


def check_facts(name: str, facts: dict, errors: list[str]) -> list[str]:
    """Problems of one page: console errors, math, images, figures."""
    problems = [f"{name}: {e}" for e in errors]
    if facts["math"] and facts["typeset"] < facts["math"]:
        problems.append(f"{name}: {facts['math'] - facts['typeset']} of {facts['math']} math "
                        "elements not typeset by MathJax")
    for msg in facts["merrors"]:
        problems.append(f"{name}: MathJax error: {msg}")
    for img in facts["imgs"]:
        if not img["ok"]:
            problems.append(f"{name}: image did not load: {img['src']}")
        if img["inArticle"] and not img["alt"]:
            problems.append(f"{name}: image without alt text: {img['src']}")
    for k, fig in enumerate(facts["figures"], start=1):
        if not fig["caption"]:
            problems.append(f"{name}: figure {k} has no caption")
        if not fig["alts"] or not all(fig["alts"]):
            problems.append(f"{name}: figure {k} has an image without alt text")
    return problems


class LinkChecker:
    """Resolves internal links and their anchors against the built files."""

    def __init__(self, html_dir: Path, base: str):
        self.html_dir, self.base = html_dir, base
        self._ids: dict[Path, set[str]] = {}

    def _ids_of(self, path: Path) -> set[str]:
        if path not in self._ids:
            from bs4 import BeautifulSoup

            soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
            ids = {t["id"] for t in soup.find_all(id=True)}
            ids |= {t["name"] for t in soup.find_all("a", attrs={"name": True})}
            self._ids[path] = ids
        return self._ids[path]

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


def search_finds(page, base: str, word: str) -> list[str]:
    """The result links of the book's search page for *word*."""
    page.goto(f"{base}search.html?q={word}", wait_until="load")
    # Sphinx adds the results one by one, with a pause between them; the summary line stays
    # empty until the last one is in ("Search finished, found ..." or "did not match ...")
    page.wait_for_function(
        "() => !!(document.querySelector('.search-summary') || {}).innerText", timeout=30000)
    return page.evaluate("() => [...document.querySelectorAll('ul.search li a')].map(a => a.href)")


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
