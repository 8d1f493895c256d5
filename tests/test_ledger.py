"""normaxes.book.ledger: the whole claims ledger runs, every claim holds, what it prints is stable,
and the ledger renders by chapter with links to the chapters' documents."""

import functools
import math
from pathlib import Path

import numpy as np
import pytest

from normaxes.book import ledger

ALL = [c.name for c in ledger.claims()]
# PyTorch's vectorised and non-vectorised CPU paths (ATEN_CPU_CAPABILITY) move a float32
# difference of the ledger by one or two float steps of the compared values, and a kernel's
# output by up to about 6 (the appendix "How this book is checked" measures F.layer_norm); eight
# steps from the edge of what a claim prints, its printed text holds on every path.
MIN_MARGIN_ULPS = 8


@functools.lru_cache(maxsize=None)
def _check(name):
    return ledger.check(name)


@pytest.mark.parametrize("name", ALL)
def test_claim_holds(name):
    _check(name)


@pytest.mark.parametrize("name", ALL)
def test_printed_measure_is_far_from_its_edge(name):
    r = _check(name)
    assert r.margin_ulps >= MIN_MARGIN_ULPS, (
        f"{name}: {r.measured} sits {r.margin_ulps:.2f} float steps of its values from the edge "
        f"of what it prints (max|Δ| = {r.diff:.6g}, one step = {r.ulp:.3g}); another CPU code "
        "path or thread count could change the printed text")


def test_the_smallest_margin_over_the_ledger_is_reported():
    margins = {n: _check(n).margin_ulps for n in ALL}
    name = min(margins, key=margins.get)
    print(f"smallest margin: {margins[name]:.1f} float steps ({name})")
    assert math.isfinite(margins[name]) and margins[name] >= MIN_MARGIN_ULPS


def test_ledger_is_not_empty_and_names_are_unique():
    assert len(ALL) == len(set(ALL)) > 0


def test_a_false_claim_is_caught():
    import numpy as np

    @ledger.claim("test-false-claim", chapter="99", layout="-", statement="1 equals 2",
                  left="1", right="2")
    def _():
        return np.ones(3), 2 * np.ones(3)

    try:
        r = ledger.run("test-false-claim")
        assert not r.holds and r.verdict == "differ"
        with pytest.raises(AssertionError, match="FAILS"):
            ledger.check("test-false-claim")
    finally:
        del ledger.REGISTRY["test-false-claim"]


def test_format_diff_prints_the_deciding_tolerance():
    import numpy as np
    # one bucket per dtype: 2^-20 (one float32 step near 8) and 2^-21 print the same text
    for diff in (3.2e-7, 2.0 ** -21, 2.0 ** -20, 3.2e-6):
        assert ledger.format_diff(diff, np.float32, "equal") == "max|Δ| ≤ 1e-5 (float32 tolerance)"
    assert ledger.format_diff(0.0, np.float64, "equal") == "max|Δ| ≤ 1e-10 (float64 tolerance)"
    assert ledger.format_diff(2e-4, np.float32, "equal", tol=1e-3) == (
        "max|Δ| ≤ 1e-3 (the claim's tolerance)")
    assert ledger.format_diff(1.234, np.float32, "differ") == "max|Δ| = 1.2"
    # an equality above its tolerance (a claim that fails, a candidate that does not match)
    # prints what it measured, not a bucket that reads like a pass
    assert ledger.format_diff(2.7e-5, np.float32, "equal") == "max|Δ| = 2.7e-05"
    assert ledger.format_diff(12.3, np.float32, "equal") == "max|Δ| = 12"


def test_margin_is_measured_in_float_steps_of_the_values():
    import numpy as np

    @ledger.claim("test-margin-claim", chapter="99", layout="-", statement="-", left="-",
                  right="-")
    def _():
        a = np.full(3, 8.0, np.float32)  # one float32 step at 8 is 2^-20
        return a, a + np.float32(2.0 ** -20)

    try:
        r = ledger.run("test-margin-claim")
        assert r.holds and r.ulp == 2.0 ** -20
        assert r.margin_ulps == pytest.approx((1e-5 - 2.0 ** -20) / 2.0 ** -20)
    finally:
        del ledger.REGISTRY["test-margin-claim"]
    # a difference of 1.25 prints "1.2" or "1.3" depending on one rounding step: margin 0
    lo, hi = ledger._rounding_edges(1.2)
    assert lo == pytest.approx(1.15) and hi == pytest.approx(1.25)


def test_a_second_claim_with_a_taken_name_is_refused():
    import numpy as np

    ledger.claims()  # load every module
    taken = ALL[0]
    with pytest.raises(ValueError, match=f"claim '{taken}' is registered twice: already at"):
        @ledger.claim(taken, chapter="99", layout="-", statement="-", left="-", right="-")
        def _():
            return np.ones(1), np.ones(1)
    # the registered claim is untouched
    assert ledger.run(taken).holds



CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"


def test_chapter_docs_maps_keys_to_document_names():
    docs = ledger.chapter_docs(CHAPTERS)
    assert docs["axes"] == "axes" and docs["training"] == "training"
    assert all(name == key for key, name in docs.items())
    assert "claims_ledger" not in docs.values() and "references" not in docs.values()
    # every chapter that holds claims is there, in the reading order of _toc.yml
    assert set(docs) == {c.chapter for c in ledger.claims()}
    keys = list(docs)
    assert keys.index("frameworks") < keys.index("training") < keys.index("padding")


def test_chapter_docs_is_the_same_from_the_repository_root():
    """The ledger page runs `chapter_docs(Path("."))`: at the root it must find chapters/ too."""
    assert ledger.chapter_docs(CHAPTERS.parent) == ledger.chapter_docs(CHAPTERS)


def test_chapter_docs_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="is not a directory"):
        ledger.chapter_docs(tmp_path / "nowhere")


def test_chapter_tables_groups_by_chapter_and_links():
    results = [ledger.run(c.name) for c in ledger.claims()]
    docs = {"axes": "axes"}
    text = ledger.chapter_tables(results, docs)
    chapters = ["axes"] + sorted({r.claim.chapter for r in results} - {"axes"})
    headings = [line for line in text.splitlines() if line.startswith("**")]
    assert [h.split("**")[1] for h in headings] == (
        ["{doc}`axes`"] + [f"`{c}`" for c in chapters[1:]])
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line
            and not line.startswith("| verdict |")]
    # the verdict first, then the largest difference, then the claim named in its cell
    results = [r for c in chapters for r in results if r.claim.chapter == c]  # table order
    assert [row.split(" | ")[0][2:] for row in rows] == [r.verdict for r in results]
    assert [row.split(" | ")[2].split("`")[1] for row in rows] == [r.claim.name for r in results]
    assert all(row.count(" | ") == 2 for row in rows)
    assert len(rows) == len(results)


def test_chapter_tables_marks_a_failing_claim():
    @ledger.claim("test-false-claim-tables", chapter="99", layout="-", statement="1 | 2",
                  left="1", right="2")
    def _():
        return np.ones(3), 2 * np.ones(3)

    try:
        text = ledger.chapter_tables([ledger.run("test-false-claim-tables")])
        assert "**`99`**: 1 claim, 0 hold." in text
        assert "| **differ** (expected equal): **FAILS** | = 1 |" in text and "1 \\| 2" in text
    finally:
        del ledger.REGISTRY["test-false-claim-tables"]


def test_show_labels_the_block_and_verdict_links_to_it(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    ledger.show("ln-seq-torch")
    ledger.verdict("ln-seq-torch")
    block, line = shown
    assert block.startswith("(claim-ln-seq-torch)=\n") and "```python" in block
    assert line.startswith("Claim {ref}`ln-seq-torch <claim-ln-seq-torch>`") and "```" not in line


def test_verdicts_table_links_each_claim(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    ledger.verdicts(["ln-seq-torch", "bn-seq-torch"])
    (table,) = shown
    assert "{ref}`ln-seq-torch <claim-ln-seq-torch>`" in table and "**equal**" in table
    assert table.count("\n") == 3  # header, rule, two rows


def test_shown_in_finds_show_calls_and_refuses_a_claim_shown_twice(tmp_path):
    import json

    def notebook(name, source):
        cell = {"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                "execution_count": None}
        (tmp_path / f"{name}.ipynb").write_text(json.dumps({"cells": [cell]}))

    notebook("a", 'ledger.show("x-claim")\nledger.verdict("y-claim")')
    notebook("b", "ledger.show('y-claim')")
    assert ledger.shown_in(tmp_path) == {"x-claim": "a", "y-claim": "b"}
    notebook("c", 'ledger.show( "x-claim")')
    with pytest.raises(ValueError, match="'x-claim' is shown on two pages: a and c"):
        ledger.shown_in(tmp_path)


def test_shown_in_reads_the_blocks_a_loop_showed_from_the_outputs(tmp_path):
    import json

    def notebook(name, source, shown=()):
        outputs = [{"output_type": "display_data", "metadata": {},
                    "data": {"text/markdown": f"({ledger.anchor(n)})=\n\n**Claim `{n}`** "
                                              "([B,T,F]): a statement."}} for n in shown]
        cell = {"cell_type": "code", "source": source, "metadata": {}, "outputs": outputs,
                "execution_count": 1}
        (tmp_path / f"{name}.ipynb").write_text(json.dumps({"cells": [cell]}))

    notebook("a", 'for name in ["x-claim", "y-claim"]:\n    ledger.show(name)',
             shown=["x-claim", "y-claim"])
    notebook("claims_ledger", "...", shown=["z-claim"])
    assert ledger.shown_in(tmp_path, besides="claims_ledger") == {"x-claim": "a", "y-claim": "a"}
    assert ledger.shown_in(tmp_path)["z-claim"] == "claims_ledger"
    notebook("b", 'ledger.verdict("x-claim")\nfor n in names:\n    ledger.show(n)',
             shown=["x-claim"])
    with pytest.raises(ValueError, match="'x-claim' is shown on two pages: a and b"):
        ledger.shown_in(tmp_path, besides="claims_ledger")


# Claims whose printed code does not yet run as printed (a private helper, or a `return` before
# the end). Issue 12 empties this list chapter by chapter; a claim may leave it, never join it.
NOT_YET_RUNNABLE: set[str] = set()


def _printed_code_problems(name):
    import ast

    (c,) = [c for c in ledger.claims() if c.name == name]
    tree = ast.parse(ledger.claim_code(c))
    nested = {id(m) for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda))
              for m in ast.walk(n)}
    problems = [f"`return` on line {r.lineno}" for r in ast.walk(tree)
                if isinstance(r, ast.Return) and id(r) not in nested]
    problems += sorted({f"private name {n.id}" for n in ast.walk(tree)
                        if isinstance(n, ast.Name) and n.id.startswith("_") and n.id != "_"})
    return problems


@pytest.mark.parametrize("name", ALL)
def test_printed_claim_code_runs_as_printed(name):
    problems = _printed_code_problems(name)
    if name in NOT_YET_RUNNABLE:
        assert problems, f"{name} now prints runnable code: remove it from NOT_YET_RUNNABLE"
    else:
        assert not problems, f"the printed code of claim {name} has {', '.join(problems)}"


def _bound_claim(name, measured, expect="greater", bound=2.0):
    @ledger.claim(name, chapter="99", layout="-", statement="a gap above two", left="the gap",
                  right="two points", expect=expect, bound=bound)
    def _():
        return measured


def test_a_bound_claim_prints_what_it_measured_and_its_bound():
    _bound_claim("test-bound-holds", np.array([9.31, 12.0]))
    _bound_claim("test-bound-fails", np.array([9.31, 1.5]))
    _bound_claim("test-bound-less", 0.5, expect="less", bound=1.0)
    try:
        r = ledger.check("test-bound-holds")
        assert r.verdict == "greater" and r.diff == 9.31  # the smallest value decides
        assert r.measured == "9.3 (claimed > 2)" and "measured = " in ledger.claim_code(r.claim)
        assert ledger.check("test-bound-less").measured == "0.5 (claimed < 1)"
        bad = ledger.run("test-bound-fails")
        assert not bad.holds and bad.verdict == "not greater" and bad.measured.startswith("1.5 ")
        with pytest.raises(AssertionError, match="FAILS.*not greater, 1.5"):
            ledger.check("test-bound-fails")
    finally:
        for n in ("test-bound-holds", "test-bound-fails", "test-bound-less"):
            del ledger.REGISTRY[n]


def test_a_bound_claim_refuses_booleans_pairs_and_a_missing_bound():
    _bound_claim("test-bound-bool", np.array(True))
    _bound_claim("test-bound-pair", (np.ones(2), np.ones(2)))
    try:
        with pytest.raises(TypeError, match="a boolean is no measurement"):
            ledger.run("test-bound-bool")
        with pytest.raises(TypeError, match="not a pair"):
            ledger.run("test-bound-pair")
    finally:
        del ledger.REGISTRY["test-bound-bool"], ledger.REGISTRY["test-bound-pair"]
    with pytest.raises(ValueError, match="a bound goes with expect='greater' or 'less'"):
        ledger.claim("test-bound-none", chapter="99", layout="-", statement="-", left="-",
                     right="-", expect="greater")
    with pytest.raises(ValueError, match="a bound goes with"):
        ledger.claim("test-bound-equal", chapter="99", layout="-", statement="-", left="-",
                     right="-", bound=1.0)


def test_a_bound_claims_margin_counts_the_bound_and_the_rounding_edges():
    _bound_claim("test-bound-edge", np.array([2.0 + 2.0 ** -50]))  # one step above its bound
    _bound_claim("test-bound-far", np.array([9.3]))
    try:
        assert ledger.run("test-bound-edge").margin_ulps < 8
        far = ledger.run("test-bound-far")
        assert far.margin_ulps == pytest.approx(min(9.3 - 9.25, 9.35 - 9.3) / np.spacing(9.3))
    finally:
        del ledger.REGISTRY["test-bound-edge"], ledger.REGISTRY["test-bound-far"]
