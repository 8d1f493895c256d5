"""A small Sphinx extension for the book (``sphinx.extra_extensions`` in ``_config.yml``).

- Formulas typeset when the book is built (see :mod:`normaxes.book.mathrender` and
  :func:`_typeset_math`): MathJax 3, from the pinned ``django-static-mathjax`` package, runs once
  in Node.js over every formula of the build; the pages carry the typeset formulas, one shared
  stylesheet and the TeX fonts, and no MathJax script. A TeX error is a build warning.
- Code blocks without the markup of plain tokens (see :func:`plain_token_classes`): Pygments
  wraps every name and punctuation mark in a ``<span>`` whose color is the block's own; those
  spans are dropped (a third of the claims ledger's HTML) and ``normaxes.css`` gives the text of
  Python code blocks that color.
- Scripts and stylesheets only where they act (see :func:`_assets_only_where_used`,
  :func:`_no_thebe_without_button`, :func:`_explorer_reference`): sphinx-design's, the
  togglebutton script, sphinx-thebe's (no "Live Code" button in this book), the axis explorer's.
- No ``fontawesome.js`` (1.49 MB, every Font Awesome icon as SVG data, see :func:`_no_icon_script`):
  the theme's stylesheet already draws the same icons from Font Awesome's web fonts.
- Theme CSS and icon fonts cut to what the built pages use (see :mod:`normaxes.book.slim`,
  :func:`_slim_assets`): 0.40 MB of theme CSS and 0.27 MB of Font Awesome fonts become about
  0.11 MB and 4 KB.
- No search index on pages that do not search (see :func:`_search_only_where_searched`): the
  theme loads Sphinx's ``searchtools.js`` and the whole ``searchindex.js`` (0.13 MB) on every page
  for its search-as-you-type, which the book does not switch on; the search page loads them.
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

from sphinx.ext.mathjax import html_visit_displaymath, html_visit_math
from sphinx.util import logging

from .mathrender import typeset_pages

logger = logging.getLogger(__name__)

def _typeset_math(app, exception):
    """Every formula of the build typeset by MathJax (see
    :func:`normaxes.book.mathrender.typeset_pages`); a formula that TeX refuses is a warning (an
    error in ``make build-strict``) and stays as TeX."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for problem in typeset_pages(_pages(out), out / "_static"):
        logger.warning(problem)


def _pages(out: Path, skip=()) -> list[Path]:
    """Every page of the build in *out*: its HTML files, not those of ``_static``, nor the page
    names in *skip*."""
    return [page for page in sorted(Path(out).rglob("*.html"))
            if "_static" not in page.relative_to(out).parts and page.name not in skip]


def _pdf_link(app, exception):
    """The front page links the PDF only where it is: a PDF printed earlier
    (``_build/pdf/normaxes.pdf``, ``make pdf``) is copied next to the front page; without one,
    the link gives way to a line that names ``make pdf`` (normaxes.book.pdf prints the PDF and
    links it afterwards)."""
    if exception is not None or app.builder.format != "html":
        return
    from .pdf import DEFAULT_OUT, link_pdf

    out = Path(app.outdir)
    printed = Path(app.srcdir) / DEFAULT_OUT
    if printed.is_file():
        shutil.copyfile(printed, out / printed.name)
    if (out / "intro.html").is_file():
        link_pdf(out / "intro.html")


def _rewrite_pages(out: Path, rewrite, skip=()) -> None:
    """Apply *rewrite* (HTML text -> HTML text) to every page of the build in *out* (see
    :func:`_pages`); write back only the pages it changes."""
    for page in _pages(out, skip):
        html = page.read_text(encoding="utf-8")
        new = rewrite(html)
        if new != html:
            page.write_text(new, encoding="utf-8")


def _class_sets(body: str) -> list[set[str]]:
    return [set(c.split()) for c in re.findall(r'class="([^"]*)"', body)]


# the assets a page loads only when its body has what they act on (all the classes a rule or a
# handler of theirs needs): sphinx-design's tabs and cards (every rule names an sd- class), and
# sphinx-togglebutton's script (it acts on .toggle and .admonition.dropdown; its stylesheet also
# styles myst-nb's hidden outputs and stays)
_ONLY_WHERE_USED = {
    "design-tabs.js": lambda sets: any(c.startswith("sd-") for s in sets for c in s),
    "sphinx-design.min.css": lambda sets: any(c.startswith("sd-") for s in sets for c in s),
    "togglebutton.js": lambda sets: any("toggle" in s or {"admonition", "dropdown"} <= s
                                        for s in sets),
}


def _assets_only_where_used(app, pagename, templatename, context, doctree):
    """Drop the scripts and stylesheets of :data:`_ONLY_WHERE_USED` from a page without their
    elements (about 22 KB: the claims ledger, the API page and the notation have neither)."""
    sets = _class_sets(context.get("body", ""))
    for key in ("script_files", "css_files"):
        files = context.get(key)
        if not files:
            continue
        kept = []
        for f in files:
            name = str(getattr(f, "filename", f) or "").split("?")[0].rsplit("/", 1)[-1]
            if name in _ONLY_WHERE_USED and not _ONLY_WHERE_USED[name](sets):
                continue
            kept.append(f)
        files[:] = kept


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
    _rewrite_pages(out, lambda html: _ICON_SCRIPT.sub("", html))
    for leftover in (out / "_static" / "scripts").glob("fontawesome.js*"):
        leftover.unlink()


_SEARCH_SCRIPTS = re.compile(
    r'<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)">'
    r"</script>\n?")


def _search_only_where_searched(app, exception):
    """Drop the search scripts from every page but the search page.

    pydata-sphinx-theme's layout loads them on each page for its search-as-you-type; its script
    returns at once unless ``search_as_you_type`` is on, and Sphinx's ``searchtools.js`` only
    searches on a page with ``?q=`` and a results list (the search page). The search box of each
    page submits to ``search.html``, which loads the index itself.
    """
    if exception is not None or app.builder.format != "html":
        return
    if (app.config.html_theme_options or {}).get("search_as_you_type"):
        return
    _rewrite_pages(app.outdir, lambda html: _SEARCH_SCRIPTS.sub("", html), skip={"search.html"})


def _slim_assets(app, exception):
    """Prune every stylesheet of ``_static`` to what the pages can use; subset the icon fonts."""
    if exception is not None or app.builder.format != "html":
        return
    from .slim import content_tokens, slim_css_file

    out = Path(app.outdir)
    words, prefixes = content_tokens(out)
    for css in sorted((out / "_static").rglob("*.css")):
        if "mathjax" in css.relative_to(out).parts:
            continue
        fonts = css.name == "pydata-sphinx-theme.css"
        before, after = slim_css_file(css, words, prefixes, icon_fonts=fonts)
        logger.info("normaxes: %s %d -> %d bytes", css.relative_to(out), before, after)


# Pygments' classes in the stylesheet: "html[data-theme="light"] .highlight .n { color: #080808 }"
_PYG_RULE = re.compile(r'^html\[data-theme="(\w+)"\] \.highlight(?: \.([\w-]+))? \{([^}]*)\}', re.M)
# the code blocks whose lexer is Python's (Sphinx's "default" is Python 3): their text outside
# the token spans is whitespace only, so it may take the color of the plain tokens
_CODE_BLOCK = re.compile(
    r'(<div class="highlight-(?:ipython3|python3?|default) notranslate"><div class="highlight">'
    r"<pre>)(.*?)(</pre>)", re.S)


def plain_token_classes(pygments_css: str) -> set[str]:
    """The Pygments classes that draw a token exactly as the block's own text, in every theme.

    A class is plain when, in each theme's section of ``pygments.css``, its only declaration is the
    color that the theme gives ``.highlight`` itself (Pygments' base text color). In the book's
    styles (pydata-sphinx-theme's a11y pair) these are names, punctuation and whitespace.
    """
    base: dict[str, str] = {}
    rules: dict[str, dict[str, str]] = {}
    for theme, cls, body in _PYG_RULE.findall(pygments_css):
        decls = {k.strip(): v.strip() for k, v in
                 (d.split(":", 1) for d in body.split(";") if ":" in d)}
        if cls:
            if cls in rules.get(theme, {}):  # a class styled twice in a theme: not plain
                rules[theme][cls] = "\0"
            else:
                rules.setdefault(theme, {})[cls] = decls.get("color", "\0") if list(decls) == [
                    "color"] else "\0"
        else:
            base[theme] = decls.get("color", "")
    if not base or set(base) != set(rules):
        return set()
    plain = set.intersection(*(
        {c for c, color in rules[t].items() if base[t] and color.lower() == base[t].lower()}
        for t in base))
    # a class another theme leaves unstyled would draw in pre's color there: not plain
    return {c for c in plain if all(c in rules[t] for t in base)}


def unwrap_plain_tokens(html: str, plain: set[str]) -> str:
    """*html* with the spans of the *plain* Pygments classes dropped from its Python code blocks;
    their text stays where it was (``normaxes.css`` gives those blocks' text the tokens' color)."""
    if not plain:
        return html
    span = re.compile(r'<span class="(?:' + "|".join(sorted(map(re.escape, plain)))
                      + r')">([^<]*)</span>')
    return _CODE_BLOCK.sub(lambda m: m.group(1) + span.sub(r"\1", m.group(2)) + m.group(3), html)


def _plain_code_tokens(app, exception):
    """Drop the markup of code tokens that are drawn as plain text (see
    :func:`plain_token_classes`): a third to a half of a code-heavy page's HTML is
    ``<span class="n">``, ``<span class="p">`` around names and punctuation, in the color of
    the block's text."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    css = out / "_static" / "pygments.css"
    if not css.is_file():
        return
    text = css.read_text(encoding="utf-8")
    from .slim import MARK

    if text.startswith(MARK):  # pruned by an earlier build: read the stylesheet as Sphinx wrote it
        text = css.with_name(css.name + ".orig").read_text(encoding="utf-8")
    plain = plain_token_classes(text)
    _rewrite_pages(out, lambda html: unwrap_plain_tokens(html, plain))


_THEBE = re.compile(
    r'\s*<link rel="stylesheet" type="text/css" href="[^"]*_static/sphinx-thebe\.css[^"]*" />'
    r'|\s*<script async="async" src="[^"]*_static/sphinx-thebe\.js[^"]*"></script>')


def _no_thebe_without_button(app, exception):
    """Drop sphinx-thebe's script and stylesheet where no page has its launch button.

    sphinx-book-theme loads them on every page; they act only through the "Live Code" button,
    which ``launch_buttons.thebe`` adds and the book does not switch on.
    """
    if exception is not None or app.builder.format != "html":
        return
    if ((app.config.html_theme_options or {}).get("launch_buttons") or {}).get("thebe"):
        return
    _rewrite_pages(app.outdir,
                   lambda html: html if "thebe-launch-button" in html else _THEBE.sub("", html))


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
    # in place: Sphinx's own handlers add to this very list afterwards
    context["script_files"][:] = kept


EXPLORER = {  # the explorer's layouts (_static/axis-explorer.js): shape, axes, norms, group counts
    "seq": ("B T F", "B T (G Fg)", (3, 4, 6)),
    "img": ("N C H W", "N (G Cg) H W", (3, 6, 2, 2)),
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
    if 'class="axis-explorer"' not in body:  # the explorer's script only on its page
        context["script_files"][:] = [
            js for js in context.get("script_files", [])
            if not str(getattr(js, "filename", js) or "").endswith("axis-explorer.js")]
    if 'class="axis-explorer"' in body:
        data = json.dumps(explorer_reference(), separators=(",", ":"))
        context["body"] = body + (
            '<script type="application/json" id="axis-explorer-reference">' + data + "</script>")


def setup(app):
    from .bibstyle import register

    register()  # the bibliography's author-year labels (bibtex_default_style: normaxes)
    # Sphinx's own markup of a formula (TeX in an element of class "math"), without MathJax's
    # script: _typeset_math typesets the formulas when the build has finished
    app.add_html_math_renderer("normaxes", (html_visit_math, None),
                               (html_visit_displaymath, None))
    app.config.html_math_renderer = "normaxes"
    app.connect("build-finished", _typeset_math, priority=850)
    app.connect("build-finished", _no_icon_script)
    app.connect("build-finished", _index_page, priority=100)  # before sphinx-external-toc's
    app.connect("build-finished", _single_page_without_search)
    app.connect("build-finished", _search_only_where_searched)
    # after pydata-sphinx-theme's own build-finished handler, which writes the light and dark
    # pygments.css that this one reads
    app.connect("build-finished", _plain_code_tokens, priority=800)
    app.connect("build-finished", _no_thebe_without_button)
    app.connect("build-finished", _pdf_link)
    # last: what the pages and scripts finally hold decides which CSS rules stay
    app.connect("build-finished", _slim_assets, priority=900)
    # early: a later handler may return a template name, which ends the event for the rest
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    app.connect("html-page-context", _explorer_reference)
    app.connect("html-page-context", _assets_only_where_used)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

