"""The claims ledger: every equality, difference or bound the book states, as code that can be
re-run.

A claim is registered with :func:`claim` on a function that returns the two computations to
compare (an equality or a difference), or the one quantity it bounds (``expect="greater"`` or
``"less"``, with *bound*). :func:`check` runs one and raises ``AssertionError`` if it does not
hold; :func:`run_all` runs them all; :func:`table` renders the results. Chapters call
:func:`show` instead of writing a claim's code a second time.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import textwrap
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..envs import EnvMissing
from ..interop import to_numpy
from .tables import markdown_table

__all__ = ["Claim", "Result", "claim", "claims", "run", "check", "show", "verdict", "verdicts",
           "anchor", "shown_in", "run_all", "table", "format_diff", "format_bound", "equal_bound",
           "claim_code", "chapter_docs", "chapter_tables", "Skipped"]

EQUAL_TOL = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-10}
EXPECTS = ("equal", "differ", "greater", "less")
BOUNDS = {"greater": ">", "less": "<"}  # the claims that compare one measured number with a bound
_NOT = {"equal": "differ", "differ": "equal", "greater": "not greater", "less": "not less"}


@dataclass(frozen=True)
class Claim:
    """One claim of the book: *left* and *right* are *expect*-ed to be ``"equal"`` or
    ``"differ"``; or the measured quantity *left* is expected ``"greater"`` (``"less"``) than
    *bound*, the number *right* names."""

    name: str
    statement: str
    layout: str
    left: str
    right: str
    expect: str
    chapter: str
    compute: Callable = field(repr=False)
    tol: float | None = None
    min_diff: float = 1e-2
    bound: float | None = None

    @property
    def is_bound(self) -> bool:
        """Whether the claim compares one measured number with a bound (``measured > bound``)."""
        return self.expect in BOUNDS


@dataclass(frozen=True)
class Result:
    """The outcome of running a :class:`Claim`: the largest absolute difference (for a bound
    claim, the measured number: the smallest of its values for ``"greater"``, the largest for
    ``"less"``) and whether it holds."""

    claim: Claim
    diff: float
    dtype: np.dtype
    holds: bool
    ulp: float = 0.0  # one float step of the compared values, in the coarser dtype of the two

    @property
    def verdict(self) -> str:
        """``"equal"`` or ``"differ"`` (``"greater"`` or ``"not greater"``, ...), as measured."""
        return self.claim.expect if self.holds else _NOT[self.claim.expect]

    @property
    def measured(self) -> str:
        """The largest difference as stable text (see :func:`format_diff`); for a bound claim,
        the measured number and the bound (see :func:`format_bound`)."""
        if self.claim.is_bound:
            return format_bound(self.diff, self.claim.expect, self.claim.bound)
        return format_diff(self.diff, self.dtype, self.claim.expect, self.claim.tol)

    @property
    def margin_ulps(self) -> float:
        """How many float steps of the compared values separate the difference from the nearest
        edge of what :attr:`measured` prints: the tolerance of an equality, the rounding
        boundaries of a difference's two digits; for a bound claim, the rounding boundaries of
        the measured number's two digits and the bound itself. A rounding step or two (another
        CPU code path, another number of threads) must not change the printed text, so this must
        be large.
        """
        if not math.isfinite(self.diff):
            return 0.0
        if self.claim.is_bound:
            lo, hi = _rounding_edges(abs(self.diff))
            gap = min(abs(self.diff) - lo, hi - abs(self.diff), abs(self.diff - self.claim.bound))
            return math.inf if self.ulp == 0 else gap / self.ulp
        if self.claim.tol == 0 and self.diff == 0 and self.claim.expect == "equal":
            return math.inf  # a bitwise equality: any change fails the claim, not just its text
        bound = equal_bound(self.dtype, self.claim.tol)
        if self.claim.expect == "equal" and self.diff <= bound:
            gap = bound - self.diff
        elif self.claim.expect == "equal":  # printed as the power of ten above
            top = 10.0 ** math.ceil(math.log10(self.diff))
            gap = min(top - self.diff, self.diff - top / 10)
        else:
            lo, hi = _rounding_edges(self.diff)
            gap = min(self.diff - lo, hi - self.diff)
        return math.inf if self.ulp == 0 else gap / self.ulp

    def line(self) -> str:
        mark = "holds" if self.holds else "FAILS"
        return f"[{mark}] {self.claim.name}: {self.verdict}, {self.measured}"

    def __repr__(self) -> str:
        return self.line()

    def _repr_markdown_(self) -> str:  # for chapter pages
        return f"`{self.line()}`"


@dataclass(frozen=True)
class Skipped:
    """A claim that was not run: it needs an environment that is not built here (``.venv-tf``
    on Colab, Binder or a reader's own Jupyter). It never holds; ``line()`` gives the skip line.
    Only the display functions and ``skip_missing=True`` give one: :func:`check` and :func:`run`
    raise ``normaxes.envs.EnvMissing``, so the tests never skip a claim."""

    claim: Claim
    line_text: str  # normaxes.envs.skip_line: "skipped: needs the TensorFlow environment; ..."
    holds = False
    verdict = "skipped"

    @property
    def measured(self) -> str:
        """The reason it was not measured, the skip line without its first word."""
        return self.line_text.removeprefix("skipped: ")

    def line(self) -> str:
        return f"[skipped] {self.claim.name}: {self.measured}"

    def __repr__(self) -> str:
        return self.line()


REGISTRY: dict[str, Claim] = {}


def claim(name: str, *, statement: str, layout: str, left: str, right: str, chapter: str,
          expect: str = "equal", tol: float | None = None, min_diff: float = 1e-2,
          bound: float | None = None):
    """Register the decorated function as the claim *name*.

    For ``expect="equal"`` or ``"differ"`` the function returns ``(left, right)``, the two
    computations to compare. For ``expect="greater"`` (``"less"``) it returns the measured
    quantity, a number or an array, and the claim holds when every value is greater (less)
    than *bound*; *left* says what is measured and *right* what the bound stands for.
    """
    if expect not in EXPECTS:
        raise ValueError(f"expect must be one of {EXPECTS}, got {expect!r}")
    if (expect in BOUNDS) != (bound is not None):
        raise ValueError(f"claim {name!r}: a bound goes with expect='greater' or 'less', and "
                         f"those need one (expect={expect!r}, bound={bound!r})")
    if bound is not None and not math.isfinite(bound):
        raise ValueError(f"claim {name!r}: bound must be a finite number, got {bound!r}")

    def register(fn):
        # the same function registered again (a module imported twice) is fine; another one is
        # not. Claim functions are all called `_`, so they are told apart by where they stand.
        if name in REGISTRY and _origin(REGISTRY[name].compute) != _origin(fn):
            where = "{}:{}".format(*_origin(REGISTRY[name].compute))
            raise ValueError(f"claim {name!r} is registered twice: already at {where}")
        REGISTRY[name] = Claim(name, statement, layout, left, right, expect, chapter, fn, tol,
                               min_diff, bound)
        return fn

    return register


def _origin(fn) -> tuple[str, int]:
    """The module and line where a claim function is defined."""
    return fn.__module__, fn.__code__.co_firstlineno


def _load():
    pkg = importlib.import_module("normaxes.claims")
    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"normaxes.claims.{mod.name}")


def claims(chapter: str | None = None) -> list[Claim]:
    """All registered claims (of one *chapter*, if given), ordered by chapter then registration."""
    _load()
    out = [c for c in REGISTRY.values() if chapter is None or c.chapter == chapter]
    return sorted(out, key=lambda c: c.chapter)


def _get(name: str) -> Claim:
    _load()
    if name not in REGISTRY:
        raise KeyError(f"no claim named {name!r} in the ledger")
    return REGISTRY[name]


def _sci(x: float) -> str:
    """``1e-05`` as ``1e-5``: a power of ten (or any tolerance) in short scientific notation."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def equal_bound(dtype, tol: float | None = None) -> float:
    """The tolerance that decides an equality: the claim's own *tol*, else the dtype's."""
    return tol if tol is not None else EQUAL_TOL.get(np.dtype(dtype), 1e-10)


def format_diff(diff: float, dtype, expect: str, tol: float | None = None) -> str:
    """The largest difference as text that does not move with the CPU code path.

    An equality that holds prints the tolerance that decides it, one fixed bucket per dtype
    (``max|Δ| ≤ 1e-5 (float32 tolerance)``) or the claim's own *tol*: PyTorch's vectorised and
    non-vectorised kernels (``ATEN_CPU_CAPABILITY``) and the number of threads move a float32
    difference by a rounding step or two, which a bucket at the nearest power of ten turned into
    different text. A difference prints two significant digits, and so does an equality above
    its tolerance (a claim that fails, or a candidate that does not match): what it measured,
    not a bucket that reads like a pass. A claim with ``tol=0`` that holds prints
    ``max|Δ| = 0 (bitwise equal)``. The unit
    test of the ledger checks that no claim's measured value sits within a few
    float steps of the edge of what it prints (see :meth:`Result.margin_ulps`).
    """
    dtype = np.dtype(dtype)
    bound = equal_bound(dtype, tol)
    if expect == "differ" or not math.isfinite(diff) or diff > bound:
        return f"max|Δ| = {diff:.2g}"
    if tol == 0 and diff == 0:
        return "max|Δ| = 0 (bitwise equal)"
    which = "the claim's tolerance" if tol is not None else f"{dtype.name} tolerance"
    return f"max|Δ| ≤ {_sci(bound)} ({which})"


def format_bound(measured: float, expect: str, bound: float) -> str:
    """A bound claim's measured number, two significant digits, and the bound it is held to:
    ``9.3 (claimed > 2)``."""
    if expect not in BOUNDS:
        raise ValueError(f"expect must be one of {sorted(BOUNDS)}, got {expect!r}")
    return f"{measured:.2g} (claimed {BOUNDS[expect]} {bound:g})"


def _rounding_edges(diff: float) -> tuple[float, float]:
    """The interval of values that print like *diff* with two significant digits."""
    if diff <= 0 or not math.isfinite(diff):
        return diff, diff
    step = 10.0 ** (math.floor(math.log10(diff)) - 1)
    k = round(diff / step)
    return (k - 0.5) * step, (k + 0.5) * step


def run(name: str) -> Result:
    """Run claim *name* and measure the largest absolute difference of its two computations
    (for a bound claim, its measured number)."""
    c = _get(name)
    if c.is_bound:
        return _run_bound(c)
    a, b = (to_numpy(v) for v in c.compute())
    dtype = np.result_type(a.dtype, b.dtype) if a.dtype.kind == b.dtype.kind == "f" else np.dtype(
        np.float64)
    a64, b64 = np.broadcast_arrays(a.astype(np.float64), b.astype(np.float64))
    diff = float(np.max(np.abs(a64 - b64))) if a64.size else 0.0
    if not math.isfinite(diff):
        holds = False
    elif c.expect == "equal":
        holds = diff <= equal_bound(dtype, c.tol)
    else:
        holds = diff >= c.min_diff
    return Result(c, diff, dtype, holds, _ulp(a, b))


def _run_bound(c: Claim) -> Result:
    """A bound claim: every measured value on the right side of the bound."""
    out = c.compute()
    if isinstance(out, tuple):
        raise TypeError(f"claim {c.name!r} expects {c.expect} than {c.bound:g}: its function "
                        "returns the one measured quantity, not a pair")
    a = to_numpy(out)
    if a.dtype.kind not in "fiu" or a.size == 0:
        raise TypeError(f"claim {c.name!r}: the measured quantity must be a non-empty array of "
                        f"numbers, got dtype {a.dtype} and size {a.size} (a boolean is no "
                        "measurement)")
    a64 = a.astype(np.float64)
    value = float(a64.min() if c.expect == "greater" else a64.max())
    holds = math.isfinite(value) and (value > c.bound if c.expect == "greater"
                                      else value < c.bound)
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    return Result(c, value, dtype, holds, _ulp(a, a))


def _ulp(a: np.ndarray, b: np.ndarray) -> float:
    """One float step at the magnitude of the compared values, in the coarser of their dtypes."""
    kinds = [v.dtype for v in (a, b) if v.dtype.kind == "f"]
    coarse = max(kinds, key=lambda d: np.finfo(d).eps) if kinds else np.dtype(np.float64)
    values = np.abs(np.concatenate([a.ravel(), b.ravel()]).astype(np.float64))
    values = values[np.isfinite(values)]
    scale = float(values.max()) if values.size else 0.0
    scale = min(scale, float(np.finfo(coarse).max))
    return float(np.spacing(coarse.type(scale)))


def check(name: str, skip_missing: bool = False) -> Result | Skipped:
    """Run claim *name*; raise ``AssertionError`` unless it holds.

    A claim that needs an environment that is not built raises
    ``normaxes.envs.EnvMissing``; with *skip_missing*, it gives a :class:`Skipped` instead
    (for a chapter cell that builds its own table of claims; it is never a claim that holds).
    """
    if skip_missing:
        try:
            r = run(name)
        except EnvMissing as err:
            return Skipped(_get(name), err.skip_line)
    else:
        r = run(name)
    assert r.holds, r.line() + f" (expected {r.claim.expect}: {r.claim.statement})"
    return r


def anchor(name: str) -> str:
    """The MyST label of claim *name*'s block, set by :func:`show`: ``claim-<name>``.

    Another page links to the block with ``{ref}`text <claim-name>```.
    """
    return f"claim-{name}"


def show(name: str, fold: bool = False) -> None:
    """Check claim *name* and display, in a notebook, its statement, its code and the result.

    The block carries the label :func:`anchor` gives, so that other pages link to it instead of
    showing it again (each claim is shown on one page; :func:`verdict` shows a line elsewhere).
    With *fold*, the code sits in a folded ``<details>`` block the reader opens with a click (for
    reference pages that show many claims). Returns nothing, so that a notebook cell ending in
    ``show(...)`` displays the claim once.
    """
    from IPython.display import Markdown, display

    r = check(name, skip_missing=True)
    code = f"```python\n{claim_code(r.claim).rstrip()}\n```"
    if fold:
        summary = f"<summary>The code of <code>{name}</code></summary>"
        code = f"<details>{summary}\n\n{code}\n\n</details>"
    display(Markdown(
        f"({anchor(name)})=\n\n"
        f"**Claim `{name}`** ({r.claim.layout}): {r.claim.statement}\n\n{code}\n\n"
        + (f"Measured: **{r.verdict}**, {r.measured}." if not isinstance(r, Skipped)
           else _skip_md(r) + ".")
    ))


def verdict(name: str) -> None:
    """Check claim *name* and display one line: its verdict and a link to the page that shows it.

    For a page that relies on a claim another page shows (with :func:`show`): the claim runs
    again here, and the reader follows the link for its statement and code.
    """
    from IPython.display import Markdown, display

    r = check(name, skip_missing=True)
    display(Markdown(
        f"Claim {{ref}}`{name} <{anchor(name)}>` ({r.claim.layout}): "
        + (f"**{r.verdict}**, {r.measured}." if not isinstance(r, Skipped) else _skip_md(r) + ".")
    ))


def verdicts(names: list[str]) -> None:
    """Check the claims *names* and display one table: each claim linked to its block, what it
    states and its measured verdict.

    For a section that rests on several claims: the table asserts and prints each, and the
    reader follows a link for a claim's code. Each claim's block is shown once in the book, in
    its chapter or on the ledger page (see :func:`shown_in`).
    """
    from IPython.display import Markdown, display

    rows = []
    for name in names:
        r = check(name, skip_missing=True)
        rows.append({"claim": f"{{ref}}`{name} <{anchor(name)}>`",
                     "statement": r.claim.statement,
                     "measured": f"**{r.verdict}**, {r.measured}" if not isinstance(r, Skipped)
                     else _skip_md(r)})
    display(Markdown(markdown_table(rows, ["claim", "statement", "measured"])))


def shown_in(folder, *, besides: str | None = None) -> dict[str, str]:
    """Which chapter shows each claim's block: ``{claim name: notebook stem}``.

    Reads the notebooks in *folder*: the ``ledger.show("name")`` calls of their code cells, and
    the claim blocks in their stored outputs (a ``show(name)`` inside a loop names no claim in
    the source; its output does). *besides* names a notebook to leave out (the ledger page, whose
    outputs are the blocks no other page shows). A claim shown on two pages raises
    ``ValueError`` (each claim is shown once; other pages use :func:`verdict` or
    :func:`verdicts`).
    """
    import json
    import re
    from pathlib import Path

    call = re.compile(r"""ledger\.show\(\s*["']([^"']+)["']""")
    block = re.compile(r"^\(claim-[^)]*\)=\s*\n\s*\*\*Claim `([^`]+)`\*\*", re.M)
    out: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        if path.stem == besides:
            continue
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        names: set[str] = set()
        for cell in cells:
            if cell["cell_type"] != "code":
                continue
            names.update(call.findall("".join(cell["source"])))
            for output in cell.get("outputs", []):
                text = output.get("data", {}).get("text/markdown", "")
                names.update(block.findall("".join(text) if isinstance(text, list) else text))
        for name in sorted(names):
            if name in out and out[name] != path.stem:
                raise ValueError(f"claim {name!r} is shown on two pages: {out[name]} and "
                                 f"{path.stem}; show it once and link to it elsewhere")
            out[name] = path.stem
    return out


def claim_code(c: Claim) -> str:
    """The body of a claim's function as code a reader can paste and run.

    The function's final ``return left_expr, right_expr`` is printed as
    ``left, right = left_expr, right_expr``, so the printed code has no top-level ``return`` and
    runs as printed after the chapter's import cell, leaving the two sides in ``left`` and
    ``right``; a bound claim's ``return expr`` is printed as ``measured = expr``.
    """
    import ast

    lines = inspect.getsource(c.compute).splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("def "))
    while not lines[start].rstrip().endswith(":"):  # a signature over several lines
        start += 1
    body = textwrap.dedent("\n".join(lines[start + 1:]))
    tree = ast.parse(body)
    last = tree.body[-1]
    if isinstance(last, ast.Return) and last.value is not None:
        out = body.splitlines()
        row, col = last.lineno - 1, last.col_offset
        target = "measured = " if c.is_bound else "left, right = "
        out[row] = out[row][:col] + target + out[row][col + len("return "):]
        body = "\n".join(out)
    return body


def _skip_md(r: Skipped) -> str:
    """The skip line as Markdown: the verdict word in bold, as a measured verdict is."""
    return f"**skipped**: {r.measured}"


class Results(list):
    """What :func:`run_all` returns: the results of the claims it ran, and in :attr:`skipped` the
    claims it could not run (:class:`Skipped`), which :func:`chapter_tables` lists as such."""

    skipped: list[Skipped]

    def __init__(self, results=(), skipped=()):
        super().__init__(results)
        self.skipped = list(skipped)


def run_all(chapter: str | None = None, *, skip_missing: bool = False) -> Results:
    """Run every claim (of one *chapter*, if given).

    A claim that needs an environment that is not built raises
    ``normaxes.envs.EnvMissing``. With *skip_missing* (the ledger page, run where
    ``.venv-tf`` is missing), such claims are left out of the list, kept in its ``skipped``,
    and one line per environment is printed: the skip line, then how many claims and which.
    """
    if not skip_missing:
        return Results(run(c.name) for c in claims(chapter))
    out = Results()
    for c in claims(chapter):
        try:
            out.append(run(c.name))
        except EnvMissing as err:
            out.skipped.append(Skipped(c, err.skip_line))
    for line in dict.fromkeys(s.line_text for s in out.skipped):
        names = [s.claim.name for s in out.skipped if s.line_text == line]
        print(f"{line}: {len(names)} claim{'s' * (len(names) != 1)} not run "
              f"({', '.join(names)})")
    return out


_COLUMNS = ["verdict", "max. difference", "claim (layout): statement, *the two sides*"]


def _row(r: Result, *, chapter: bool = False, link: bool = False) -> dict:
    """One table row: the verdict first, then the largest difference, then the claim in full
    (with *link*, its name links to the claim's block, see :func:`anchor`)."""
    c = r.claim
    verdict = r.verdict if r.holds else f"**{r.verdict}** (expected {c.expect}): **FAILS**"
    if isinstance(r, Skipped):  # not run here: why, in place of the difference
        verdict = f"**{r.verdict}**"
    where = f"{c.chapter}, " if chapter else ""
    name = f"{{ref}}`{c.name} <{anchor(c.name)}>`" if link else f"`{c.name}`"
    text = f"{name} ({where}{c.layout}): {c.statement.rstrip('.')}. *{c.left}* vs. *{c.right}*."
    return dict(zip(_COLUMNS, (verdict, r.measured.removeprefix("max|Δ| "), text), strict=True))


def table(results: list[Result]) -> str:
    """A Markdown table of *results*: verdict, largest difference, then the claim in full.

    Three columns, the verdict first, so that the table fits the text column; the claim's name,
    chapter, layout, statement and its two sides share the last cell.
    """
    return markdown_table([_row(r, chapter=True) for r in results], _COLUMNS)


def chapter_docs(folder) -> dict[str, str]:
    """Map each chapter key of the ledger to its document name, in the book's reading order.

    A claim's chapter key is the stem of its chapter's notebook (``chapters/axes.ipynb`` gives
    ``{"axes": "axes"}``); a page is listed only if it holds claims. The order is the order of
    the table of contents, ``_toc.yml`` beside *folder*, where there is one; a chapter still
    written as ``.md`` counts too. The repository root stands for its ``chapters/``, so the
    ledger page gives the same output with its working directory at either.
    """
    from pathlib import Path

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder {str(folder)!r} is not a directory")
    if (folder / "chapters").is_dir() and not any(folder.glob("*.ipynb")):
        folder = folder / "chapters"  # a kernel started at the repository root, not chapters/
    stems = [p.stem for p in sorted(folder.iterdir()) if p.suffix in (".ipynb", ".md")]
    toc = folder.resolve().parent / "_toc.yml"
    if toc.is_file():
        import yaml

        listed = toc_files(yaml.safe_load(toc.read_text(encoding="utf-8")))
        order = [Path(f).stem for f in listed if Path(f).parent.name == folder.resolve().name]
        stems = [s for s in order if s in stems] + [s for s in stems if s not in order]
    keys = {c.chapter for c in claims()}
    return {stem: stem for stem in stems if stem in keys}


def toc_files(node) -> list[str]:
    """Every ``file:`` entry of a parsed ``_toc.yml``, in order."""
    if isinstance(node, dict):
        out = [node["file"]] if "file" in node else []
        for value in node.values():
            if isinstance(value, (list, dict)):
                out += toc_files(value)
        return out
    if isinstance(node, list):
        return [f for item in node for f in toc_files(item)]
    return []


def chapter_tables(results: list[Result], docs: dict[str, str] | None = None, *,
                   link: bool = False) -> str:
    """*results* as Markdown, one table per chapter in chapter order, each headed by the chapter.

    With *docs* (see :func:`chapter_docs`), the heading links to the chapter with MyST's
    ``{doc}`` role, so the output must be rendered as MyST Markdown (in a notebook cell, metadata
    ``{"mystnb": {"markdown_format": "myst"}}``). Each row: the measured verdict (and, for a claim
    that fails, the expected one), the largest difference, then the claim's name, layout,
    statement and its two computations in one cell, so that the table fits the text column.
    With *link*, each claim's name links to its block (every claim's block must then be shown
    somewhere in the book: the ledger page shows those no chapter shows, see :func:`shown_in`).
    The claims :func:`run_all` skipped (``skip_missing=True``) get a row each, marked
    **skipped** with the reason, and are counted as such.
    """
    docs = docs or {}
    by_chapter: dict[str, list[Result]] = {}
    skipped = getattr(results, "skipped", [])  # run_all(skip_missing=True): rows that say so
    rank = {c.name: k for k, c in enumerate(claims())} if skipped else {}
    for r in sorted([*results, *skipped], key=lambda r: rank.get(r.claim.name, 0)):
        by_chapter.setdefault(r.claim.chapter, []).append(r)
    parts = []
    order = [c for c in docs if c in by_chapter] + sorted(c for c in by_chapter if c not in docs)
    for chapter in order:
        rs = by_chapter[chapter]
        where = f"{{doc}}`{docs[chapter]}`" if chapter in docs else f"`{chapter}`"
        held = sum(r.holds for r in rs)
        missed = sum(isinstance(r, Skipped) for r in rs)
        parts.append(f"**{where}**: {len(rs)} claim{'s' * (len(rs) != 1)}, "
                     f"{held} hold{'s' * (held == 1)}"
                     + (f", {missed} skipped." if missed else "."))
        parts.append(markdown_table([_row(r, link=link) for r in rs], _COLUMNS))
    return "\n\n".join(parts)
