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


# --- the verdict tables and the documentation's sentences -----------------------------------

from normaxes.chapters.gn_vs_ln import (  # noqa: E402
    SYSTEM_COLUMNS,
    doc_sentences,
    line_with,
    summary_rows,
    system_rows,
)


def test_system_rows_links_each_claim_with_its_measured_verdict():
    rows = system_rows({"PyTorch": ("gn1-differs-ln-seq", "gn1-equals-ln-tf-seq", None,
                                    "gn1-equals-ln-img")})
    (row,) = rows
    assert list(row) == ["system", *SYSTEM_COLUMNS]
    assert row[SYSTEM_COLUMNS[0]] == "{ref}`differ <claim-gn1-differs-ln-seq>`, max|Δ| = 4.5"
    assert row[SYSTEM_COLUMNS[1]] == "{ref}`equal <claim-gn1-equals-ln-tf-seq>`, max|Δ| ≤ 1e-5"
    assert row[SYSTEM_COLUMNS[2]] == "—"


def test_system_rows_wants_one_name_per_column():
    with pytest.raises(ValueError, match="one claim name or None per column"):
        system_rows({"PyTorch": ("gn1-differs-ln-seq",)})


def test_system_rows_fails_on_a_claim_that_does_not_hold(monkeypatch):
    from normaxes.book import ledger

    c = ledger._get("gn1-equals-ln-img")  # made to fail: the two sides differ
    monkeypatch.setitem(ledger.REGISTRY, c.name, ledger.Claim(
        c.name, c.statement, c.layout, c.left, c.right, c.expect, c.chapter,
        lambda: (np.zeros(3), np.ones(3))))
    with pytest.raises(AssertionError, match="gn1-equals-ln-img"):
        system_rows({"x": (None, None, None, "gn1-equals-ln-img")})


def test_summary_rows_read_each_side_off_the_claims_outputs():
    rows = summary_rows([("4", "gn1-differs-ln-per-pixel", "last"),
                         ("2", "gn1-differs-ln-seq", "seq"),
                         ("1", "gn1-weight-into-ln-img", "img")])
    assert [r["sides"] for r in rows] == [("H W C (4×150)", "C (100×6)"),
                                          ("T F (4×400)", "F (200×8)"),
                                          ("affine", "affine")]
    assert rows[0]["read in"] == "`N H W C`"
    with pytest.raises(ValueError, match="input key 'nope'"):
        summary_rows([("0", "gn1-differs-ln-seq", "nope")])


def test_line_with_finds_the_line_without_its_prompt():
    doc = "Example:\n    >>> m = nn.GroupNorm(1, 6)\n    >>> # one group (equivalent with LN)\n"
    assert line_with(doc, "equivalent with") == "# one group (equivalent with LN)"
    assert line_with(doc, "GroupNorm(1") == "m = nn.GroupNorm(1, 6)"
    with pytest.raises(ValueError, match="no line of the text contains 'InstanceNorm'"):
        line_with(doc, "InstanceNorm")


def test_doc_sentences_are_read_from_the_installed_packages():
    said = dict(doc_sentences())
    assert said["PyTorch, nn.GroupNorm"].endswith("(equivalent with LayerNorm)")
    assert "becomes nearly identical to Layer Normalization" in said["Keras 3, GroupNormalization"]
    assert "will not match" in said["Keras 3, LayerNormalization"]
    assert "becomes identical to Layer Normalization" in said["TF-Addons, GroupNormalization"]
    assert said["Flax, linen.GroupNorm"].startswith("LayerNorm is a special case of GroupNorm")
    example = said["Flax, linen.GroupNorm's example"].splitlines()
    assert example[0].startswith("y = nn.GroupNorm(num_groups=1)")
    assert "nn.LayerNorm(reduction_axes=(1, 2, 3))" in example[1]
