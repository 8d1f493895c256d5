"""normaxes.book.ledger: the whole claims ledger runs, every claim holds, and the ledger renders
by chapter with links to the chapters' documents."""

from pathlib import Path

import numpy as np
import pytest

from normaxes.book import ledger

ALL = [c.name for c in ledger.claims()]


@pytest.mark.parametrize("name", ALL)
def test_claim_holds(name):
    ledger.check(name)


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


def test_format_diff_is_bucketed():
    import numpy as np
    assert ledger.format_diff(3.2e-7, np.float32, "equal") == "max|Δ| ≤ 1e-06"
    assert ledger.format_diff(3.2e-6, np.float32, "equal") == "max|Δ| ≤ 1e-05"
    assert ledger.format_diff(0.0, np.float64, "equal") == "max|Δ| ≤ 1e-12"
    assert ledger.format_diff(1.234, np.float32, "differ") == "max|Δ| = 1.2"


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


def test_chapter_docs_maps_numbers_to_document_names():
    docs = ledger.chapter_docs(CHAPTERS)
    assert docs["01"] == "01_axes_and_layouts"
    assert all(name.startswith(number + "_") for number, name in docs.items())
    assert "claims_ledger" not in docs.values() and "references" not in docs.values()


def test_chapter_docs_is_the_same_from_the_repository_root():
    """The ledger page runs `chapter_docs(Path("."))`: at the root it must find chapters/ too."""
    assert ledger.chapter_docs(CHAPTERS.parent) == ledger.chapter_docs(CHAPTERS)


def test_chapter_docs_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="is not a directory"):
        ledger.chapter_docs(tmp_path / "nowhere")


def test_chapter_tables_groups_by_chapter_and_links():
    results = [ledger.run(c.name) for c in ledger.claims()]
    docs = {"01": "01_axes_and_layouts"}
    text = ledger.chapter_tables(results, docs)
    chapters = sorted({r.claim.chapter for r in results})
    headings = [line for line in text.splitlines() if line.startswith("**Chapter ")]
    assert [h.split("**")[1] for h in headings] == [f"Chapter {c}" for c in chapters]
    assert "{doc}`01_axes_and_layouts`" in headings[0]
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line
            and not line.startswith("| claim |")]
    assert [row.split(" | ")[0][2:] for row in rows] == [r.claim.name for r in results]
    assert len(rows) == len(results)


def test_chapter_tables_marks_a_failing_claim():
    @ledger.claim("test-false-claim-tables", chapter="99", layout="-", statement="1 | 2",
                  left="1", right="2")
    def _():
        return np.ones(3), 2 * np.ones(3)

    try:
        text = ledger.chapter_tables([ledger.run("test-false-claim-tables")])
        assert "**Chapter 99**, chapter 99: 1 claim, 0 hold." in text
        assert "(**FAILS**)" in text and "1 \\| 2" in text
    finally:
        del ledger.REGISTRY["test-false-claim-tables"]
