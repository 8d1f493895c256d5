"""RMS normalization, standardize(..., center=False), against PyTorch and Keras 3."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from normaxes import load_keras, moments, standardize, to_numpy
from normaxes.chapters.architectures import (
    ATLAS,
    atlas_table,
    bf16_rms_norm,
    hf_module,
    llama_rms_norm,
)

TOL = {np.float32: 2e-4, np.float64: 1e-9}
kinds = st.sampled_from(["numpy", "torch"])
dtypes = st.sampled_from([np.float32, np.float64])
seeds = st.integers(0, 2**31 - 1)
epss = st.sampled_from([0.0, 1e-8, 1e-6, 1e-5, 1e-2])


def _input(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-3, 3) + rng.uniform(0.2, 5.0) * rng.normal(size=shape)).astype(dtype)


def _rms(x, kind, *args, **kw):
    xin = torch.from_numpy(x) if kind == "torch" else x
    y = standardize(xin, *args, center=False, **kw)
    assert type(y) is type(xin) and tuple(y.shape) == x.shape and y.dtype == xin.dtype
    return y.numpy() if kind == "torch" else y


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(1, 6), Fd=st.integers(1, 9), kind=kinds,
       dtype=dtypes, eps=epss, seed=seeds)
def test_rms_per_frame_matches_torch(B, T, Fd, kind, dtype, eps, seed):
    x = _input(seed, (B, T, Fd), dtype)
    xt = torch.from_numpy(x)
    ours = _rms(x, kind, "B T F", over="F", eps=eps)
    np.testing.assert_allclose(ours, F.rms_norm(xt, (Fd,), eps=eps).numpy(), rtol=0,
                               atol=TOL[dtype])
    module = torch.nn.RMSNorm(Fd, eps=eps, elementwise_affine=False, dtype=xt.dtype)
    np.testing.assert_allclose(ours, module(xt).numpy(), rtol=0, atol=TOL[dtype])


@settings(max_examples=30, deadline=None)
@given(N=st.integers(1, 3), C=st.integers(1, 4), H=st.integers(1, 4), W=st.integers(1, 4),
       kind=kinds, dtype=dtypes, seed=seeds)
def test_rms_over_trailing_axes_matches_torch(N, C, H, W, kind, dtype, seed):
    x = _input(seed, (N, C, H, W), dtype)
    xt = torch.from_numpy(x)
    for over, shape in [("W", (W,)), ("H W", (H, W)), ("C H W", (C, H, W))]:
        np.testing.assert_allclose(_rms(x, kind, "N C H W", over=over, eps=1e-6),
                                   F.rms_norm(xt, shape, eps=1e-6).numpy(), rtol=0,
                                   atol=TOL[dtype])


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 5), Fd=st.integers(1, 6), dtype=dtypes, seed=seeds)
def test_rms_is_x_over_root_mean_square(B, T, Fd, dtype, seed):
    """The definition, by hand: no mean subtracted; the mean of squares, not the variance."""
    x = _input(seed, (B, T, Fd), dtype)
    by_hand = x / np.sqrt((x.astype(np.float64) ** 2).mean(axis=-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(standardize(x, "B T F", over="F", center=False), by_hand,
                               rtol=0, atol=TOL[dtype])


@settings(max_examples=20, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(2, 6), Fd=st.integers(1, 5), seed=seeds)
def test_rms_with_mask_uses_real_entries_only(B, T, Fd, seed):
    x = _input(seed, (B, T, Fd), np.float64)
    mask = np.random.default_rng(seed).random((B, T, 1)) < 0.6
    y = standardize(x, "B T F", over="T F", center=False, mask=mask)
    for b in range(B):
        real = x[b][mask[b, :, 0]]
        if real.size:
            want = real / np.sqrt((real ** 2).mean() + 1e-5)
            np.testing.assert_allclose(y[b][mask[b, :, 0]], want, atol=1e-12)
    assert (y[~np.broadcast_to(mask, x.shape)] == 0).all()


@settings(max_examples=15, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 5), Fd=st.integers(2, 6), seed=seeds)
def test_rms_matches_keras_rmsnormalization(B, T, Fd, seed):
    x = _input(seed, (B, T, Fd), np.float32)
    k = load_keras()
    np.testing.assert_allclose(
        standardize(x, "B T F", over="F", center=False, eps=1e-6),
        to_numpy(k.layers.RMSNormalization()(x)), rtol=0, atol=2e-4)


def test_keras_rms_scaling_is_x_over_std_not_rms():
    k = load_keras()
    x = _input(3, (2, 5, 6), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = to_numpy(k.layers.LayerNormalization(rms_scaling=True)(x))
    _, var, _ = moments(x, "B T F", over="F")
    np.testing.assert_allclose(y, x / np.sqrt(var + 1e-3), atol=2e-5)  # default epsilon 1e-3
    rms = standardize(x, "B T F", over="F", center=False, eps=1e-3)
    assert np.abs(y - rms).max() > 0.1


def test_center_must_be_a_bool():
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match="center must be True or False, got 0"):
        standardize(x, "B T F", over="F", center=0)


def test_center_true_is_the_default():
    x = _input(0, (2, 3, 4), np.float64)
    np.testing.assert_array_equal(standardize(x, "B T F", over="F"),
                                  standardize(x, "B T F", over="F", center=True))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_torch_eps_none_is_float32_machine_epsilon(dtype):
    x = torch.full((1, 8), 2.0**-12, dtype=dtype)
    none = F.rms_norm(x, (8,))
    assert torch.equal(none, F.rms_norm(x, (8,), eps=torch.finfo(torch.float32).eps))
    if dtype != torch.float32:
        assert not torch.equal(none, F.rms_norm(x, (8,), eps=torch.finfo(dtype).eps))


def test_llama_upcast_is_correctly_rounded_and_bf16_is_not():
    x = torch.from_numpy(_input(5, (2, 4, 256), np.float32)).bfloat16()
    w = torch.ones(256, dtype=torch.bfloat16)
    exact = standardize(x.double(), "B T F", over="F", center=False, eps=1e-5).bfloat16()
    assert torch.equal(llama_rms_norm(x, w, eps=1e-5), exact)
    assert not torch.equal(bf16_rms_norm(x, w, eps=1e-5), exact)


def test_hf_module_rejects_an_unknown_model():
    with pytest.raises(ValueError, match="unknown model 'gpt2'"):
        hf_module("gpt2")


def test_atlas_has_a_claim_per_row_and_at_least_12_rows():
    from normaxes.book import ledger

    names = {c.name for c in ledger.claims()}
    assert len(ATLAS) >= 12
    assert all(row.claim in names for row in ATLAS)
    table = atlas_table()
    assert table.count("\n") == len(ATLAS) + 1 and "FAILS" not in table
