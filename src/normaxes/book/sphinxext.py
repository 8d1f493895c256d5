"""A small Sphinx extension for the book (``sphinx.extra_extensions`` in ``_config.yml``).

- MathJax from the book itself: the pages typeset their formulas with MathJax 3; instead of a CDN,
  the MathJax distribution of the pinned ``django-static-mathjax`` package is copied into
  ``_static/mathjax``, so the HTML renders offline and in the browser test exactly as online.
  A page loads only the components the book needs (see :data:`MATHJAX_LOAD`): TeX input and
  CHTML output, about 0.66 MB instead of the 1.17 MB of the combined ``tex-mml-chtml.js``.
- No ``fontawesome.js`` (1.49 MB, every Font Awesome icon as SVG data, see :func:`_no_icon_script`):
  the theme's stylesheet already draws the same icons from Font Awesome's web fonts.
- An ``index.html`` that redirects to the front page and names an icon (see :func:`_index_page`).
- No script tag twice (see :func:`_dedupe_scripts`), and no request for a search index that the
  single-page build does not have (see :func:`_single_page_without_search`).
- The axis explorer's reference (see :func:`explorer_reference`): the statistics sets of every
  choice the explorer offers, computed by :func:`normaxes.stat_groups` and written into the page
  that holds the explorer, so that the browser test can check what the explorer draws.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

MATHJAX_ENTRY = "mathjax/startup.js"  # the loader: it loads core and the components below
# TeX input (with its autoload of rarer TeX packages), CHTML output, and the hidden MathML that
# screen readers read. Not loaded: MathML input (the book writes TeX) and the context menu.
MATHJAX_LOAD = ["input/tex", "output/chtml", "a11y/assistive-mml"]
# what those components fetch at run time: their files, TeX packages on demand, CHTML's fonts
MATHJAX_FILES = ["startup.js", "core.js", "input/tex.js", "input/tex", "output/chtml.js",
                 "output/chtml", "a11y/assistive-mml.js"]


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


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_dir(), Path(app.outdir) / "_static" / "mathjax"
    for name in MATHJAX_FILES:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, dirs_exist_ok=True)
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / name)


def _mathjax_config(app, config):
    """Load only :data:`MATHJAX_LOAD`, on top of the book's own ``mathjax3_config``."""
    mj = dict(config.mathjax3_config or {})
    loader = dict(mj.get("loader", {}))
    loader["load"] = list(dict.fromkeys(list(loader.get("load", [])) + MATHJAX_LOAD))
    mj["loader"] = loader
    config.mathjax3_config = mj


_ICON_SCRIPT = re.compile(
    r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')


def _no_icon_script(app, exception):
    """Drop pydata-sphinx-theme's ``fontawesome.js`` from every page and from ``_static``.

    The script (1.49 MB) holds every Font Awesome icon as SVG data and swaps each ``<i
    class="fa-solid fa-bars">`` for an SVG. The theme's stylesheet already holds Font Awesome's
    CSS and web fonts, which draw the same icons from the same ``<i>`` elements without it.
    """
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for page in out.rglob("*.html"):
        if "_static" in page.parts:
            continue
        html = page.read_text(encoding="utf-8")
        new = _ICON_SCRIPT.sub("", html)
        if new != html:
            page.write_text(new, encoding="utf-8")
    for leftover in (out / "_static" / "scripts").glob("fontawesome.js*"):
        leftover.unlink()


_NO_SEARCH = (
    "<style>/* the single-page book has no search index (normaxes.book.sphinxext) */\n"
    ".search-button-field, .search-button__button, form.bd-search {display: none !important;}"
    "</style>\n</head>"
)


def _single_page_without_search(app, exception):
    """The single-page build has no search index: drop the theme's search script and box.

    pydata-sphinx-theme loads ``searchindex.js`` on every page for its search box, but Sphinx's
    ``singlehtml`` builder writes no index, so the page would request a missing file.
    """
    if exception is not None or app.builder.name != "singlehtml":
        return
    for page in Path(app.outdir).glob("*.html"):
        html = page.read_text(encoding="utf-8")
        if '<script src="searchindex.js"></script>' in html:
            html = html.replace('<script src="searchindex.js"></script>', "")
            page.write_text(html.replace("</head>", _NO_SEARCH, 1), encoding="utf-8")


_INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="canonical" href="{target}">
<meta http-equiv="Refresh" content="0; url={target}" />
</head>
<body><p><a href="{target}">{title}</a></p></body>
</html>
"""


def _index_page(app, exception):
    """Write ``index.html``, a redirect to the root page, before sphinx-external-toc does.

    sphinx-external-toc writes a bare ``<meta>`` redirect when there is no ``index.html``; a
    browser then asks the server for ``/favicon.ico``, which the book does not have (a 404 on
    the way in). This page names an icon and the book's title; sphinx-external-toc keeps an
    ``index.html`` that exists. The icon is an empty ``data:`` URL: a file would be requested
    and then aborted by the immediate redirect.
    """
    if exception is not None or app.builder.format != "html":
        return
    root = app.config.root_doc
    if root == "index":
        return
    title = app.config.html_title or app.config.project
    page = _INDEX.format(title=title, target=f"{root}.html")
    (Path(app.outdir) / "index.html").write_text(page, encoding="utf-8")


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    """Drop repeated identical script tags.

    sphinx-thebe adds its inline configuration (``const THEBE_JS_URL = ...``) each time Sphinx
    emits ``env-before-read-docs``, and the tags reach each page twice (once registered with
    filename ``None``, once with ``""``); a page that declares a ``const`` twice stops with a
    JavaScript error. Identical tags are dropped, order is kept.
    """
    seen, kept = set(), []
    for js in context.get("script_files", []):
        # an inline script is registered once with filename None and once with "": same tag
        key = (getattr(js, "filename", js) or "",
               tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    # in place: Sphinx's own handlers (MathJax among them) add to this very list afterwards
    context["script_files"][:] = kept


EXPLORER = {  # the explorer's layouts (_static/axis-explorer.js): shape, axes, norms, group counts
    "seq": ("B T F", "B T (G F)", (3, 4, 6)),
    "img": ("N C H W", "N (G C) H W", (3, 6, 2, 2)),
}
EXPLORER_G = (1, 2, 3, 6)


def explorer_reference() -> dict[str, list[int]]:
    """``{"layout|norm|G|over": labels}`` for every choice of the axis explorer.

    *labels* are :func:`normaxes.stat_groups` of that choice, flattened in C order; the keys are
    the explorer's ``data-state`` attribute (G is 0 for a norm without groups).
    """
    from ..core import stat_groups
    from ..norms import NORMS

    ref = {}
    for key, (layout, grouped, shape) in EXPLORER.items():
        names = layout.split()
        for short, spec in NORMS[layout].items():
            for G in (EXPLORER_G if spec.group_axis else (0,)):
                sizes = {"G": G} if G else {}
                labels = stat_groups(grouped if G else layout, spec.over, shape, **sizes)
                ref[f"{key}|{short}|{G}|{spec.over}"] = labels.ravel().tolist()
        for k in range(1, len(names) + 1):  # standardize refuses an empty set
            for over in itertools.combinations(names, k):
                labels = stat_groups(layout, " ".join(over), shape)
                ref[f"{key}|custom|0|{' '.join(over)}"] = labels.ravel().tolist()
    return ref


def _explorer_reference(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if 'class="axis-explorer"' in body:
        data = json.dumps(explorer_reference(), separators=(",", ":"))
        context["body"] = body + (
            '<script type="application/json" id="axis-explorer-reference">' + data + "</script>")


def setup(app):
    app.config.mathjax_path = MATHJAX_ENTRY
    app.connect("config-inited", _mathjax_config)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _no_icon_script)
    app.connect("build-finished", _index_page, priority=100)  # before sphinx-external-toc's
    app.connect("build-finished", _single_page_without_search)
    # early: a later handler may return a template name, which ends the event for the rest
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    app.connect("html-page-context", _explorer_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

