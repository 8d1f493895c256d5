"""The whole claims ledger runs, every claim holds, and what it prints is stable."""

import functools
import math

import pytest

from normaxes import ledger

ALL = [c.name for c in ledger.claims()]
# PyTorch's vectorised and non-vectorised CPU paths (ATEN_CPU_CAPABILITY) move a float32
# difference of the ledger by one or two float steps of the compared values, and a kernel's
# output by up to about 6 (the numerics chapter measures F.layer_norm); eight steps from the edge
# of what a claim prints, its printed text holds on every path.
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
    # an equality above its tolerance (a caller's own, looser check) prints the power of ten above
    assert ledger.format_diff(2.7e-5, np.float32, "equal") == "max|Δ| ≤ 1e-4"
    assert ledger.format_diff(4.2e-5, np.float32, "equal") == "max|Δ| ≤ 1e-4"


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
