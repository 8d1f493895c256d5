"""The book's formulas typeset when it is built, not in the reader's browser.

Sphinx writes each formula as TeX in an element of class ``math`` (``\\(...\\)`` inline,
``\\[...\\]`` displayed). :func:`typeset_pages` hands every formula of a build to MathJax 3 in one
Node.js process (:file:`mathrender.js`, with the MathJax distribution of the pinned
``django-static-mathjax`` package) and writes the result into the pages: the same
``<mjx-container>`` markup (CHTML output, with the hidden MathML that screen readers read) that
MathJax would have made in the browser. A page then loads one shared stylesheet and the TeX fonts
it uses, no script: its formulas show as soon as the page does, with JavaScript off too, and a
page carries about 0.65 MB less.

In the browser, MathJax scales formulas to the x-height of the page's font, which differs from
one reader's system font to another's; here one scale is fixed, :data:`SCALE`.

A build that rewrites only some pages (Sphinx without ``--all``) leaves the pages typeset before
as they are; the formulas typeset so far are recorded next to the stylesheet
(:data:`FORMULAS`) and typeset again with the new ones, so the stylesheet keeps every character
the pages use.

A TeX error (an undefined macro, an unbalanced brace) is not drawn in red on the page: it is
returned, and :mod:`normaxes.book.sphinxext` reports it as a build warning (``make book`` and
``make build-strict`` fail on it) and leaves that formula's TeX as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

SCRIPT = Path(__file__).with_name("mathrender.js")
SCALE = 1.2  # MathJax's TeX fonts at 1.2 em: about the x-height of common sans-serif fonts
FONTS = "output/chtml/fonts/woff-v2"  # the TeX fonts, under _static/mathjax
STYLESHEET = "mathjax/chtml.css"  # under _static
FORMULAS = "mathjax/formulas.json"  # under _static: every formula the stylesheet was made for
# an element Sphinx writes for a formula; its TeX is HTML-escaped text, with no tag inside
MATH = re.compile(r'(<(span|div) class="math notranslate nohighlight"[^>]*>)(.*?)(</\2>)', re.S)
_DELIMS = {"span": (r"\(", r"\)"), "div": (r"\[", r"\]")}


def mathjax_dir() -> Path:
    """The ``es5`` folder of the installed MathJax distribution."""
    try:
        import mathjax  # the django-static-mathjax package, no Django needed
    except ImportError as err:  # pragma: no cover - the pinned requirements install it
        raise RuntimeError(
            "MathJax is missing: install the pinned requirements (django-static-mathjax)"
        ) from err
    path = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    if not (path / "startup.js").is_file():
        raise RuntimeError(f"no MathJax distribution under {path}")
    return path


def node() -> str:
    """The Node.js executable (``$NODE``, else ``node`` on the PATH)."""
    found = os.environ.get("NODE") or shutil.which("node") or shutil.which("nodejs")
    if not found:
        raise RuntimeError(
            "Node.js is needed to typeset the book's formulas when it is built (node was not "
            "found on the PATH): install it, e.g. apt-get install nodejs")
    return found


def typeset(items: list[tuple[str, bool]], *, font_url: str = FONTS, scale: float = SCALE):
    """Typeset each ``(tex, display)`` of *items* with MathJax in one Node.js process.

    Returns ``(markup, errors, css)``: per item its ``<mjx-container>`` markup, or None where
    TeX refused it; per item None or TeX's error message; and the stylesheet all the markup
    needs, whose fonts are looked up under *font_url* (relative to the stylesheet).
    """
    request = {"items": [[tex, bool(display)] for tex, display in items],
               "scale": scale, "fontURL": font_url}
    run = subprocess.run([node(), str(SCRIPT), str(mathjax_dir())], input=json.dumps(request),
                         capture_output=True, text=True, encoding="utf-8")
    if run.returncode != 0:
        raise RuntimeError(f"MathJax in Node.js failed (exit {run.returncode}): "
                           f"{run.stderr.strip()[-2000:]}")
    reply = json.loads(run.stdout)
    return reply["html"], reply["errors"], reply["css"]


def formulas(html: str):
    """Each formula element of the page *html* that is not typeset yet: ``(match, tex,
    display)``; *tex* is None where the element is not one Sphinx writes (a tag inside, or no
    ``\\(...\\)``/``\\[...\\]``). A page that an earlier build typeset is left as it is."""
    for m in MATH.finditer(html):
        body, tag = m.group(3), m.group(2)
        if body.startswith("<mjx-container"):
            continue
        opening, closing = _DELIMS[tag]
        text = unescape(body).strip()
        ok = "<" not in body and text.startswith(opening) and text.endswith(closing)
        yield m, (text[len(opening):-len(closing)] if ok else None), tag == "div"


def typeset_pages(pages: list[Path], static: Path) -> list[str]:
    """Typeset every formula of *pages* in place (see the module's text), write the stylesheet
    and copy the fonts under *static* (the build's ``_static``), and link the stylesheet from
    each page that has a formula. Returns the problems, one per formula left untypeset."""
    found, texts = {}, {}
    for page in pages:
        html = page.read_text(encoding="utf-8")
        found[page] = (html, list(formulas(html)))
        for _, tex, display in found[page][1]:
            if tex is not None:
                texts.setdefault((tex, display), len(texts))
    # the formulas of the pages an earlier build typeset and this one did not rewrite: typeset
    # again with the rest, so that the one stylesheet still has the characters they use
    if not texts:
        return []
    record = static / FORMULAS
    earlier = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else []
    for tex, display in earlier:
        texts.setdefault((tex, display), len(texts))
    markup, errors, css = typeset(list(texts))
    problems = []
    for page, (html, items) in found.items():
        if not items:
            continue
        name = page.relative_to(static.parent) if page.is_relative_to(static.parent) else page
        out, last = [], 0
        for m, tex, display in items:
            k = texts.get((tex, display))
            if k is None:
                problems.append(f"{name}: a formula element Sphinx did not write: "
                                f"{m.group(0)[:120]}")
            elif markup[k] is None:
                problems.append(f"{name}: TeX error: {errors[k]}, in the formula "
                                f"{tex.strip()[:120]}")
            else:
                out += [html[last:m.start(3)], markup[k]]
                last = m.end(3)
        out.append(html[last:])
        html = "".join(out)
        href = os.path.relpath(static / STYLESHEET, page.parent).replace(os.sep, "/")
        link = f'<link rel="stylesheet" href="{href}" />'
        if link not in html:
            html = html.replace("</head>", link + "\n</head>", 1)
        page.write_text(html, encoding="utf-8")
    target = static / STYLESHEET
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(css, encoding="utf-8")
    record.write_text(json.dumps([[tex, display] for (tex, display), k in texts.items()
                                  if markup[k] is not None]), encoding="utf-8")
    shutil.copytree(mathjax_dir() / FONTS, target.parent / FONTS, dirs_exist_ok=True)
    return problems
