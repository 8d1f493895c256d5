"""Print the single-page book to PDF with headless Chromium: ``python -m normaxes.book.pdf``.

``make pdf`` runs it after the single-page build (``_build/singlehtml``): the page is served on a
loopback port and opened in Debian's ``chromium`` through Playwright (its formulas were typeset
when it was built, see :mod:`normaxes.book.mathrender`); every image is loaded, and Chromium
prints it with the book's print stylesheet (``_static/normaxes.css``: each chapter on a new page,
no break inside code, outputs, figures, tables or equations where Chromium allows). Nothing is
downloaded; no LaTeX.
The PDF is written to ``_build/pdf/normaxes.pdf`` and copied next to the front page of both HTML
builds, where the front page links to it.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

# the page as printed: lazy images loaded now, the theme's collapsed toggles open
_PREPARE = """async () => {
  for (const img of document.querySelectorAll('img[loading]')) img.removeAttribute('loading');
  for (const d of document.querySelectorAll('details')) d.open = true;
  await Promise.all([...document.images].map(i => i.complete ? null :
    new Promise(r => { i.onload = i.onerror = r; })));
  return [document.querySelectorAll('.math').length,
          document.querySelectorAll('.math mjx-container').length];
}"""

_FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
           '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def chromium() -> str:
    for cand in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    raise SystemExit("make pdf: no Chromium on this machine (apt-get install chromium)")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


VIEWPORT = {"width": 1000, "height": 1400}  # the window the single page is printed from
DEFAULT_OUT = Path("_build/pdf/normaxes.pdf")
COPY_TO = (Path("_build/html"), Path("_build/singlehtml"))


def print_page(page, out: Path) -> Path:
    """Print *page* (the single-page book, loaded in a window of VIEWPORT) to *out*; return it.

    The browser test calls this on the page it has just checked, so that the single page is
    loaded once for both; ``print_pdf`` opens it itself.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    page.emulate_media(media="print", color_scheme="light")
    maths, typeset = page.evaluate(_PREPARE)
    if typeset < maths:
        raise SystemExit(f"make pdf: {maths - typeset} of {maths} formulas of the single page are "
                         "not typeset (TeX left as it was: see the build's warnings)")
    page.pdf(path=str(out), format="A4", print_background=True, outline=True,
             tagged=True, margin={"top": "16mm", "bottom": "18mm", "left": "14mm",
                                  "right": "14mm"},
             display_header_footer=True, header_template="<div></div>",
             footer_template=_FOOTER)
    return out


# The front page's link to the PDF (intro.md), and what stands in its place while there is no PDF
# next to the front page: the page never links a file that is not there.
PDF_LINK = ('<a class="reference external pdf-link" href="normaxes.pdf">normaxes.pdf</a>')
PDF_MISSING = ('<span class="pdf-link pdf-missing">normaxes.pdf, once <code class="docutils '
               'literal notranslate"><span class="pre">make</span> <span class="pre">pdf</span>'
               '</code> has printed it</span>')


def link_pdf(front: Path) -> bool:
    """Make the front page *front* link the PDF beside it if it is there, or name ``make pdf`` in
    the link's place if it is not. Returns whether the page now links it."""
    html = front.read_text(encoding="utf-8")
    there = (front.parent / "normaxes.pdf").is_file()
    new = (html.replace(PDF_MISSING, PDF_LINK) if there else html.replace(PDF_LINK, PDF_MISSING))
    if new != html:
        front.write_text(new, encoding="utf-8")
    return there and PDF_LINK in new


def copy_next_to_front_pages(pdf: Path, builds=COPY_TO) -> None:
    """A copy of *pdf* next to the front page of each HTML build in *builds* that exists, whose
    front page then links it (see :func:`link_pdf`)."""
    for d in builds:
        if Path(d).is_dir():
            shutil.copyfile(pdf, Path(d) / pdf.name)
            if (Path(d) / "intro.html").is_file():
                link_pdf(Path(d) / "intro.html")


def print_pdf(single: Path, out: Path) -> Path:
    """Print ``single/intro.html`` (the single-page build) to *out*; return *out*."""
    from playwright.sync_api import sync_playwright

    if not (single / "intro.html").is_file():
        raise SystemExit(f"make pdf: no single-page build at {single} (make book-single)")
    handler = functools.partial(_Quiet, directory=str(single))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT, color_scheme="light")
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/intro.html",
                      wait_until="load")
            print_page(page, out)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--single", type=Path, default=Path("_build/singlehtml"))
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--copy-to", type=Path, nargs="*", default=list(COPY_TO),
                    help="HTML builds that get a copy next to their front page")
    args = ap.parse_args(argv)
    pdf = print_pdf(args.single, args.out)
    copy_next_to_front_pages(pdf, args.copy_to)
    print(f"The PDF: {pdf.resolve()} ({pdf.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
