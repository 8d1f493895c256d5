"""standardize against PyTorch's functional norms, on both layouts, array kinds and dtypes."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from normaxes import standardize

TOL = {np.float32: 2e-4, np.float64: 1e-9}


def _input(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.2, 5.0)
    offset = rng.uniform(-5.0, 5.0)
    return (offset + scale * rng.normal(size=shape)).astype(dtype)


def _ours(x, kind, *args, **kw):
    xin = torch.from_numpy(x) if kind == "torch" else x
    y = standardize(xin, *args, **kw)
    assert type(y) is type(xin) and tuple(y.shape) == x.shape and y.dtype == xin.dtype
    return y.numpy() if kind == "torch" else y


def _close(ours, ref, dtype):
    ref = ref.numpy() if isinstance(ref, torch.Tensor) else ref
    np.testing.assert_allclose(ours, ref, rtol=0, atol=TOL[dtype])


kinds = st.sampled_from(["numpy", "torch"])
dtypes = st.sampled_from([np.float32, np.float64])
seeds = st.integers(0, 2**31 - 1)


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(2, 7), G=st.integers(1, 4), Fg=st.integers(1, 3),
       kind=kinds, dtype=dtypes, seed=seeds)
def test_sequence_norms_match_pytorch(B, T, G, Fg, kind, dtype, seed):
    Fdim = G * Fg
    x = _input(seed, (B, T, Fdim), dtype)
    xt = torch.from_numpy(x)
    _close(_ours(x, kind, "B T F", over="F"), F.layer_norm(xt, (Fdim,)), dtype)
    _close(_ours(x, kind, "B T (G F)", over="T F", G=G),
           F.group_norm(xt.transpose(1, 2), G).transpose(1, 2), dtype)
    _close(_ours(x, kind, "B T F", over="T"), F.instance_norm(xt.transpose(1, 2)).transpose(1, 2),
           dtype)
    _close(_ours(x, kind, "B T F", over="B T"),
           F.batch_norm(xt.transpose(1, 2), None, None, training=True).transpose(1, 2), dtype)


@settings(max_examples=40, deadline=None)
@given(N=st.integers(1, 3), G=st.integers(1, 3), Cg=st.integers(1, 3), H=st.integers(1, 4),
       W=st.integers(2, 4), kind=kinds, dtype=dtypes, seed=seeds)
def test_image_norms_match_pytorch(N, G, Cg, H, W, kind, dtype, seed):
    C = G * Cg
    x = _input(seed, (N, C, H, W), dtype)
    xt = torch.from_numpy(x)
    _close(_ours(x, kind, "N C H W", over="C H W"), F.layer_norm(xt, (C, H, W)), dtype)
    _close(_ours(x, kind, "N (G C) H W", over="C H W", G=G), F.group_norm(xt, G), dtype)
    _close(_ours(x, kind, "N C H W", over="H W"), F.instance_norm(xt), dtype)
    _close(_ours(x, kind, "N C H W", over="N H W"),
           F.batch_norm(xt, None, None, training=True), dtype)
    # channels last reads the same data with another layout string
    xl = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    _close(_ours(xl, kind, "N H W (G C)", over="H W C", G=G).transpose(0, 3, 1, 2),
           F.group_norm(xt, G), dtype)


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 6), Fdim=st.integers(1, 5), dtype=dtypes, seed=seeds)
def test_numpy_and_torch_paths_agree(B, T, Fdim, dtype, seed):
    x = _input(seed, (B, T, Fdim), dtype)
    rng = np.random.default_rng(seed)
    mask = rng.random((B, T, 1)) < 0.7
    for over in ("F", "T", "B T", "T F", "B T F"):
        a = standardize(x, "B T F", over=over, mask=mask)
        b = standardize(torch.from_numpy(x), "B T F", over=over, mask=torch.from_numpy(mask))
        np.testing.assert_allclose(a, b.numpy(), rtol=0, atol=TOL[dtype])


def test_eps_is_added_to_the_biased_variance():
    x = np.array([[0.0, 2.0]])  # mean 1, biased variance 1
    y = standardize(x, "B F", over="F", eps=3.0)
    np.testing.assert_allclose(y, [[-0.5, 0.5]])


def test_group_size_may_be_given_as_inner_size():
    x = _input(0, (2, 5, 6), np.float64)
    np.testing.assert_array_equal(standardize(x, "B T (G F)", over="T F", G=3),
                                  standardize(x, "B T (G F)", over="T F", F=2))


def test_float16_and_device_kept():
    x = torch.randn(2, 3, 4, dtype=torch.float16, generator=torch.Generator().manual_seed(0))
    y = standardize(x, "B T F", over="F")
    assert y.dtype == torch.float16 and y.device == x.device
