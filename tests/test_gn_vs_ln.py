"""normaxes.chapters.gn_vs_ln: the GN(G=1)-versus-LN gap, its curve over non-stationarity, the
per-channel fit."""

import numpy as np
import pytest
import torch

from normaxes import data, standardize
from normaxes.chapters.gn_vs_ln import fit_per_channel, frame_level_spread_db, gap_curve, gn1_ln_gap


def test_gap_matches_the_definitions():
    x = data.sequence(B=3, T=20, F=8, seed=11, dtype=np.float64)
    d = standardize(x, "B T F", over="T F") - standardize(x, "B T F", over="F")
    rms, largest = gn1_ln_gap(x)
    assert rms == pytest.approx(np.sqrt(np.mean(d**2)), rel=1e-9)
    assert largest == pytest.approx(np.abs(d).max(), rel=1e-9)
    assert gn1_ln_gap(torch.from_numpy(x)) == pytest.approx((rms, largest), rel=1e-12)


def test_gap_is_zero_when_every_frame_has_the_same_statistics():
    # each frame a permutation of the same values: per-frame and per-sequence moments agree
    rng = np.random.default_rng(0)
    base = rng.normal(size=8)
    x = np.stack([[rng.permutation(base) for _ in range(10)] for _ in range(2)])
    rms, largest = gn1_ln_gap(x)
    assert largest < 1e-12 and rms < 1e-12


def test_gap_curve_grows_with_the_spread_and_is_nonzero_when_stationary():
    pts = gap_curve([0, 10, 30], B=4, T=50, F=8, seed=3)
    assert [p.spread_db for p in pts] == [0.0, 10.0, 30.0]
    assert pts[0].rms > 0.05  # stationary noise: per-frame statistics still differ
    assert pts[0].rms < pts[1].rms < pts[2].rms
    assert pts[0].level_spread_db < pts[1].level_spread_db < pts[2].level_spread_db


def test_stationary_gap_shrinks_with_more_features():
    few, many = gap_curve([0], F=8, seed=3)[0], gap_curve([0], F=128, seed=3)[0]
    assert many.rms < few.rms / 2


def test_frame_level_spread_of_a_constant_level_signal_is_zero():
    x = np.ones((2, 5, 4))
    x[:, :, ::2] = -1.0
    assert frame_level_spread_db(x) == 0.0


def test_fit_per_channel_recovers_a_per_channel_affine():
    rng = np.random.default_rng(1)
    x_hat = rng.normal(size=(4, 3, 5, 5))
    w, b = rng.normal(size=3), rng.normal(size=3)
    target = x_hat * w[None, :, None, None] + b[None, :, None, None]
    fw, fb = fit_per_channel(x_hat, target)
    np.testing.assert_allclose(fw, w, rtol=1e-10)
    np.testing.assert_allclose(fb, b, atol=1e-10)
    # channels last, and torch input
    fw2, fb2 = fit_per_channel(torch.from_numpy(x_hat.transpose(0, 2, 3, 1)),
                               torch.from_numpy(target.transpose(0, 2, 3, 1)), "N H W C", "C")
    np.testing.assert_allclose(fw2, w, rtol=1e-10)
    np.testing.assert_allclose(fb2, b, atol=1e-10)


@pytest.mark.parametrize("call, words", [
    (lambda: gn1_ln_gap(np.zeros((4, 8))), ["[B, T, F]", "got 2", "(4, 8)"]),
    (lambda: gn1_ln_gap(np.zeros((2, 0, 8))), ["must not be empty", "(2, 0, 8)"]),
    (lambda: gn1_ln_gap(np.zeros((2, 3, 8), dtype=np.int64)), ["floating-point", "int64"]),
    (lambda: frame_level_spread_db(np.zeros((2, 3, 4))), ["all 0", "dB"]),
    (lambda: gap_curve([]), ["spreads_db is empty"]),
    (lambda: gap_curve([10, -5]), ["spreads_db", ">= 0", "-5"]),
    (lambda: gap_curve([0], F=0), ["F=0", "positive integer"]),
    (lambda: gap_curve([0], T=2.5), ["T=2.5", "positive integer"]),
    (lambda: fit_per_channel(np.zeros((2, 3, 4, 4)), np.zeros((2, 3, 4, 5))),
     ["(2, 3, 4, 4)", "(2, 3, 4, 5)"]),
    (lambda: fit_per_channel(np.ones((2, 3, 4, 4)), np.ones((2, 3, 4, 4))), ["constant", "'C'"]),
    (lambda: fit_per_channel(np.zeros((2, 3, 4, 4)), np.zeros((2, 3, 4, 4)), along="X"),
     ["'X'", "not in the layout"]),
])
def test_bad_input_names_the_culprit(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value), (w, str(err.value))
