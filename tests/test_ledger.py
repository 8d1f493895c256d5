"""The whole claims ledger runs, and every claim holds."""

import pytest

from normaxes import ledger

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
