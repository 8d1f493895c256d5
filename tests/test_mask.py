"""Mask semantics: statistics over real entries only; padding content never matters."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from normaxes import standardize
from normaxes.data import length_mask

OVERS = ["F", "T", "B T", "T F", "B T F"]


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(1, 8), Fdim=st.integers(1, 4),
       seed=st.integers(0, 2**31 - 1), torch_path=st.booleans(), over=st.sampled_from(OVERS))
def test_padding_content_never_changes_the_result(B, T, Fdim, seed, torch_path, over):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, T + 1, size=B)
    mask = length_mask(lengths, T)
    x = rng.normal(size=(B, T, Fdim))
    x2 = np.where(mask, x, rng.normal(50, 30, size=x.shape))  # other padding content
    x3 = np.where(mask, x, np.inf)  # even non-finite padding
    conv = (lambda a: torch.from_numpy(a)) if torch_path else (lambda a: a)
    out = [np.asarray(standardize(conv(v), "B T F", over=over, mask=conv(mask)))
           for v in (x, x2, x3)]
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])
    assert np.isfinite(out[0]).all()
    assert (out[0][~np.broadcast_to(mask, x.shape)] == 0).all()


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(2, 8), Fdim=st.integers(1, 4),
       seed=st.integers(0, 2**31 - 1), over=st.sampled_from(["F", "T", "T F"]))
def test_masked_equals_each_sequence_alone(B, T, Fdim, seed, over):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, T + 1, size=B)
    x = rng.normal(size=(B, T, Fdim))
    y = standardize(x, "B T F", over=over, mask=length_mask(lengths, T))
    for b, n in enumerate(lengths):
        alone = standardize(x[b:b + 1, :n], "B T F", over=over)
        np.testing.assert_allclose(y[b:b + 1, :n], alone, rtol=0, atol=1e-12)


def test_empty_group_gives_zeros_not_nan():
    x = np.ones((2, 3, 4))
    mask = length_mask([0, 2], 3)
    y = standardize(x, "B T F", over="T F", mask=mask)
    assert np.isfinite(y).all()
    assert (y[0] == 0).all()


def test_mask_on_features_and_full_mask():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4))
    full = np.ones_like(x, dtype=bool)
    np.testing.assert_allclose(standardize(x, "B T F", over="T", mask=full),
                               standardize(x, "B T F", over="T"), atol=1e-12)
    fmask = np.array([True, True, False, True])  # broadcast along the last axis
    y = standardize(x, "B T F", over="F", mask=fmask)
    assert (y[..., 2] == 0).all()
    np.testing.assert_allclose(y[..., [0, 1, 3]],
                               standardize(x[..., [0, 1, 3]], "B T F", over="F"), atol=1e-12)
