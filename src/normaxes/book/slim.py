"""Lighter pages (issue 18): the theme's CSS and icon fonts cut down to what the built pages use.

Run by :mod:`normaxes.book.sphinxext` when a build has finished, on the files Sphinx wrote:

- :func:`prune_css`: a style rule is dropped when one of its selectors needs a class or an id that
  no built page and no script of the book names (a class selector matches only an element with
  that class, and classes reach an element only from the HTML or from a script). Selectors inside
  ``:not()``/``:is()``/``:where()``/``:has()`` and attribute selectors are not used to drop
  anything, and a class that a script may build by concatenation (a literal ``"name-" +`` or
  ``` `name-${``` in a script) is kept with every class it may become. ``@font-face``,
  ``@keyframes`` and other at-rules without selectors are kept as they are.
- :func:`subset_icon_fonts`: Font Awesome's web fonts (0.27 MB the pages fetched) are cut to the
  glyphs of the icon rules that :func:`prune_css` kept, written as WOFF2 under new names, and the
  ``@font-face`` rules point at them (the TrueType fallback is dropped: every browser that draws
  the theme reads WOFF2).

Both are deterministic functions of the built pages and the pinned packages: nothing is fetched.
"""

from __future__ import annotations

import re
from pathlib import Path

MARK = "/* pruned by normaxes.book.slim: rules no page or script can match are dropped */\n"
_WORD = re.compile(r"[A-Za-z_][\w-]*")
# a class name a script builds: "name-" + x, 'name-' + x, `name-${x}`
_PREFIX = re.compile(r"""([A-Za-z_][\w-]*-)(?:["']\s*\+|\$\{)""")


def content_tokens(outdir: Path) -> tuple[set[str], tuple[str, ...]]:
    """Every word of every built page and script, and the class prefixes scripts concatenate."""
    words: set[str] = set()
    prefixes: set[str] = set()
    for path in outdir.rglob("*"):
        if path.suffix not in (".html", ".js") or not path.is_file():
            continue
        if "_sources" in path.relative_to(outdir).parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        words.update(_WORD.findall(text))
        prefixes.update(_PREFIX.findall(text))
    return words, tuple(sorted(prefixes))


def _split_blocks(css: str) -> list[tuple[str, str | None]]:
    """Top-level items of *css*: (prelude, body) for ``x{...}``, (statement, None) for ``@x;``."""
    out, i, n = [], 0, len(css)
    start = 0
    while i < n:
        c = css[i]
        if c in "\"'":
            j = i + 1
            while j < n and css[j] != c:
                j += 2 if css[j] == "\\" else 1
            i = j + 1
            continue
        if css.startswith("/*", i):
            j = css.find("*/", i + 2)
            j = n if j < 0 else j + 2
            if not css[start:i].strip():  # a comment between items: keep it as an item
                out.append((css[i:j], None))
                start = j
            i = j
            continue
        if c == ";" and css[start:i].lstrip().startswith("@"):
            out.append((css[start:i + 1], None))
            start = i = i + 1
            continue
        if c == "{":
            depth, j = 1, i + 1
            while j < n and depth:
                if css[j] in "\"'":
                    q, j = css[j], j + 1
                    while j < n and css[j] != q:
                        j += 2 if css[j] == "\\" else 1
                elif css[j] == "{":
                    depth += 1
                elif css[j] == "}":
                    depth -= 1
                j += 1
            out.append((css[start:i], css[i + 1:j - 1]))
            start = i = j
            continue
        i += 1
    if css[start:].strip():
        out.append((css[start:], None))
    return out


def _split_selectors(prelude: str) -> list[str]:
    out, depth, start = [], 0, 0
    for k, c in enumerate(prelude):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(prelude[start:k])
            start = k + 1
    out.append(prelude[start:])
    return out


def _strip_nested(sel: str) -> str:
    """The selector without the insides of (...) and [...], which never drop anything here."""
    out, depth = [], 0
    for c in sel:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)


_NAME = re.compile(r"([.#])(-?[_a-zA-Z][\w-]*)")


def _selector_can_match(sel: str, words: set[str], prefixes: tuple[str, ...]) -> bool:
    if "\\" in sel:  # escaped names: not parsed here, kept
        return True
    for _, name in _NAME.findall(_strip_nested(sel)):
        if name not in words and not name.startswith(prefixes):
            return False
    return True


_NESTING = ("@media", "@supports", "@layer", "@container", "@document")


def prune_css(css: str, words: set[str], prefixes: tuple[str, ...]) -> str:
    """*css* without the style rules whose every selector needs a name no page or script has."""
    out = []
    for prelude, body in _split_blocks(css):
        if body is None:
            if not prelude.startswith("/*# sourceMappingURL"):
                out.append(prelude)
            continue
        head = prelude.strip()
        if head.startswith("@"):
            if head.startswith(_NESTING):
                inner = prune_css(body, words, prefixes)
                if inner.strip():
                    out.append(f"{prelude}{{{inner}}}")
            else:  # @font-face, @keyframes, @page, @property, ...
                out.append(f"{prelude}{{{body}}}")
            continue
        kept = [s for s in _split_selectors(prelude) if _selector_can_match(s, words, prefixes)]
        if kept:
            out.append(f"{','.join(kept)}{{{body}}}")
    return "".join(out)


_ICON_RULE = re.compile(r'\{content:"((?:\\[0-9a-fA-F]+ ?|[^"\\])+)"\}')


def icon_codepoints(css: str) -> set[int]:
    """The characters the kept Font Awesome icon rules draw (``.fa-x:before{content:"\\f0c9"}``)."""
    points = set()
    for prelude, body in _split_blocks(css):
        if body is None or ".fa-" not in prelude or ":before" not in prelude:
            continue
        m = _ICON_RULE.fullmatch("{" + body + "}")
        if not m:
            continue
        for esc, ch in re.findall(r"\\([0-9a-fA-F]+) ?|(.)", m.group(1)):
            points.add(int(esc, 16) if esc else ord(ch))
    return points


_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
_FA_SRC = re.compile(r"src:url\((\.\./vendor/fontawesome/webfonts/(fa-[a-z]+-\d+))\.woff2\)"
                     r' format\("woff2"\),url\([^)]*\.ttf\) format\("truetype"\)')


def subset_icon_fonts(css: str, css_path: Path, points: set[int]) -> str:
    """Cut each Font Awesome font the CSS names to *points*; point its @font-face at the cut."""
    from fontTools import subset

    def one(face: re.Match) -> str:
        text = face.group(0)
        m = _FA_SRC.search(text)
        if not m:
            return text
        source = (css_path.parent / m.group(1)).with_suffix(".woff2")
        target_name = f"{m.group(2)}.normaxes.woff2"
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        options.notdef_outline = True
        font = subset.load_font(str(source), options)
        have = set(font.getBestCmap())
        sub = subset.Subsetter(options)
        sub.populate(unicodes=sorted(points & have))
        sub.subset(font)
        subset.save_font(font, str(source.with_name(target_name)), options)
        font.close()
        rel = m.group(1).rsplit("/", 1)[0] + "/" + target_name
        return text.replace(m.group(0), f'src:url({rel}) format("woff2")')

    return _FONT_FACE.sub(one, css)


def slim_css_file(path: Path, words: set[str], prefixes: tuple[str, ...], *,
                  icon_fonts: bool = False) -> tuple[int, int]:
    """Prune the CSS file at *path* in place (from its pristine copy); (bytes before, after)."""
    stash = path.with_name(path.name + ".orig")
    text = path.read_text(encoding="utf-8")
    if text.startswith(MARK):  # pruned by an earlier build that Sphinx did not overwrite
        text = stash.read_text(encoding="utf-8")
    else:
        stash.write_text(text, encoding="utf-8")
    charset = ""
    if text.startswith("@charset"):
        charset, text = text.split(";", 1)
        charset += ";"
    new = prune_css(text, words, prefixes)
    if icon_fonts:
        new = subset_icon_fonts(new, path, icon_codepoints(new))
    before = len((charset + text).encode())
    if len((charset + MARK + new).encode()) >= before:  # nothing to drop: the file stays
        path.write_text(charset + text, encoding="utf-8")
        stash.unlink(missing_ok=True)
        return before, before
    path.write_text(charset + MARK + new, encoding="utf-8")
    path.with_name(path.name + ".map").unlink(missing_ok=True)
    return before, path.stat().st_size
