"""The edge cases of issue 10, each as PyTorch decides it (or refused with a ValueError that names
the fault): half-precision sums and eps, non-finite padding, masks of another rank, dtypes, empty
and degenerate inputs, and ``affine`` with a bias only."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from normaxes import affine, moments, standardize
from normaxes.chapters.padding import MaskedBatchNorm1d
from normaxes.chapters.streaming import cumulative_standardize
from normaxes.running import running_update

LOW = [torch.float16, torch.bfloat16]


# 1. float16 and bfloat16 are accumulated in float32 and returned in their own dtype

@pytest.mark.parametrize("dtype", LOW, ids=str)
def test_half_sums_do_not_overflow(dtype):
    g = torch.Generator().manual_seed(0)
    x = (20 + torch.randn(2, 4, 4096, generator=g)).to(dtype)
    ref = F.layer_norm(x, (4096,))
    for y in (standardize(x, "B T F", "F"),):
        assert y.dtype == dtype and torch.isfinite(y).all()
        torch.testing.assert_close(y, ref)
    x = (5 * torch.randn(1, 4096, generator=g)).to(dtype)
    y = standardize(x, "B F", "F")
    assert y.abs().max() > 1  # not silently zero
    torch.testing.assert_close(y, F.layer_norm(x, (4096,)))


def test_numpy_float16_sums_do_not_overflow():
    x = (20 + np.random.default_rng(0).normal(size=(2, 4, 4096))).astype(np.float16)
    y = standardize(x, "B T F", "F")
    assert y.dtype == np.float16 and np.isfinite(y).all()
    ref = F.layer_norm(torch.from_numpy(x), (4096,)).numpy()
    np.testing.assert_allclose(y.astype(np.float32), ref.astype(np.float32), atol=4e-3)


# 2. an eps that the input dtype cannot hold still counts

@pytest.mark.parametrize("dtype", LOW, ids=str)
def test_small_eps_survives_half(dtype):
    x = torch.zeros(2, 3, 4, dtype=dtype)
    y = standardize(x, "B T F", "T F", eps=1e-8)
    assert (y == 0).all() and y.dtype == dtype
    assert (F.layer_norm(x, (3, 4), eps=1e-8) == 0).all()
    assert (standardize(x.numpy() if dtype == torch.float16 else x.float().numpy(), "B T F",
                        "T F", eps=1e-8) == 0).all()


# 3. non-finite padding (see also tests/test_opinfo.py for gradcheck)

def test_masked_batchnorm1d_nan_padding_gives_finite_parameter_gradients():
    x = torch.randn(2, 5, 3)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    x = x.masked_fill(~mask[..., None], float("nan")).requires_grad_()
    bn = MaskedBatchNorm1d(3)
    (bn(x, mask) * torch.randn(2, 5, 3)).sum().backward()
    for g in (x.grad, bn.weight.grad, bn.bias.grad):
        assert torch.isfinite(g).all()
    assert torch.isfinite(bn.running_mean).all() and torch.isfinite(bn.running_var).all()


# 4. a mask of another rank than x is refused, with the fix in the message

def test_mask_of_another_rank_is_refused():
    x = torch.randn(1, 5, 5)
    with pytest.raises(ValueError, match=r"mask\[\.\.\., None\]"):
        standardize(x, "B T F", "T", mask=torch.ones(1, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"mask\[None, None, \.\.\.\]"):
        standardize(x.numpy(), "B T F", "F", mask=np.ones(5, bool))
    m = torch.tensor([[True, True, True, False, False]])
    y = standardize(x, "B T F", "T", mask=m[..., None])  # the fix: frames, as meant
    assert (y[0, 3:] == 0).all() and (y[0, :3] != 0).all()


# 5. dtypes

@pytest.mark.parametrize("dtype", LOW, ids=str)
def test_masked_batchnorm1d_keeps_half(dtype):
    x = torch.randn(2, 5, 4).to(dtype)
    bn = MaskedBatchNorm1d(4)
    ref = torch.nn.BatchNorm1d(4)
    y, want = bn(x), ref(x.transpose(1, 2)).transpose(1, 2)
    assert y.dtype == dtype == want.dtype
    torch.testing.assert_close(y, want)
    torch.testing.assert_close(bn.running_var, ref.running_var)


def test_numpy_eps_keeps_float32_and_finfo_eps_is_a_number():
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    assert standardize(x, "B T F", "F", eps=np.float64(1e-5)).dtype == np.float32
    y = standardize(x, "B T F", "F", eps=np.finfo(np.float32).eps)
    assert y.dtype == np.float32
    assert cumulative_standardize(x, "B T F", "T F", "T", eps=np.float64(1e-5)).dtype == np.float32
    for bad in (np.nan, np.inf, -1e-5, True, "1e-5"):
        with pytest.raises(ValueError, match="eps"):
            standardize(x, "B T F", "F", eps=bad)


# 6. empty and degenerate inputs

@pytest.mark.parametrize("accumulate", ["naive", "shifted", "float64"])
def test_cumulative_standardize_of_nothing_is_empty(accumulate):
    for x in (np.zeros((2, 0, 3)), torch.zeros(2, 0, 3), np.zeros((0, 4, 3), np.float32)):
        y = cumulative_standardize(x, "B T F", "T F", "T", accumulate=accumulate)
        assert tuple(y.shape) == tuple(x.shape) and y.dtype == x.dtype


def test_running_update_with_an_empty_batch_leaves_the_statistics():
    rm, rv = torch.arange(3.0), torch.arange(1.0, 4.0)
    ref = torch.nn.BatchNorm1d(3)
    ref.running_mean.copy_(rm), ref.running_var.copy_(rv)
    ref(torch.zeros(0, 3))
    for kind in (torch.tensor, np.asarray):
        for convention in ("torch", "keras"):
            m, v = running_update(kind(rm.numpy()), kind(rv.numpy()),
                                  kind(np.zeros((0, 4, 3), np.float32)), "B T F", "B T",
                                  momentum=0.1 if convention == "torch" else 0.9,
                                  convention=convention)
            np.testing.assert_array_equal(np.asarray(m), ref.running_mean.numpy())
            np.testing.assert_array_equal(np.asarray(v), ref.running_var.numpy())
    # with a mask: a set without real entries keeps its statistics, the others move
    x = torch.randn(2, 4, 3)
    mask = torch.zeros(2, 4, 3, dtype=torch.bool)
    mask[:, :, 0] = True
    m, v = running_update(rm, rv, x, "B T F", "B T", momentum=0.1, mask=mask)
    assert (m[1:] == rm[1:]).all() and (v[1:] == rv[1:]).all() and m[0] != rm[0]


def test_one_entry_per_set_is_refused_as_pytorch_does():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        torch.nn.BatchNorm1d(3)(torch.randn(1, 3))
    with pytest.raises(ValueError, match="one entry"):
        running_update(torch.zeros(3), torch.ones(3), torch.randn(1, 1, 3), "B T F", "B T",
                       momentum=0.1)
    # Keras' convention stores the biased variance, 0 for one entry: defined, so allowed
    m, v = running_update(np.zeros(3), np.ones(3), np.ones((1, 1, 3)), "B T F", "B T",
                          momentum=0.9, convention="keras")
    np.testing.assert_allclose(v, 0.9)


def test_momentum_none_is_pytorchs_cumulative_average():
    g = torch.Generator().manual_seed(1)
    ref = torch.nn.BatchNorm1d(3, momentum=None)
    bn = MaskedBatchNorm1d(3, momentum=None)
    rm, rv = torch.zeros(3), torch.ones(3)
    for k in range(1, 5):
        x = torch.randn(4, 6, 3, generator=g)
        ref(x.transpose(1, 2)), bn(x)
        rm, rv = running_update(rm, rv, x, "B T F", "B T", momentum=None, num_batches_tracked=k)
        torch.testing.assert_close(rm, ref.running_mean)
        torch.testing.assert_close(rv, ref.running_var)
        torch.testing.assert_close(bn.running_mean, ref.running_mean)
        torch.testing.assert_close(bn.running_var, ref.running_var)
    with pytest.raises(ValueError, match="num_batches_tracked"):
        running_update(rm, rv, x, "B T F", "B T", momentum=None)
    with pytest.raises(ValueError, match="Keras"):
        running_update(rm, rv, x, "B T F", "B T", momentum=None, convention="keras",
                       num_batches_tracked=1)


def test_masked_batchnorm1d_empty_batch_and_no_real_frames():
    ref = torch.nn.BatchNorm1d(3)
    ref(torch.zeros(0, 3))
    bn = MaskedBatchNorm1d(3, eps=0.0)
    for x in (torch.randn(0, 4, 3), torch.randn(2, 0, 3)):
        assert tuple(bn(x).shape) == tuple(x.shape)
    assert (bn.running_mean == ref.running_mean).all()
    assert (bn.running_var == ref.running_var).all()
    assert int(bn.num_batches_tracked) == 2  # PyTorch counts an empty batch too
    with pytest.raises(ValueError, match="2 real frames"):  # padding only: refused on purpose
        bn(torch.randn(2, 4, 3), torch.zeros(2, 4, dtype=torch.bool))


def test_moments_of_empty_sets():
    mean, var, count = moments(np.zeros((2, 0, 3)), "B T F", "T")
    assert count == 0 and mean.shape == (2, 1, 3) and (mean == 0).all() and (var == 0).all()


# 7. affine with a bias and no weight

@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_affine_with_a_bias_only(kind):
    g = torch.Generator().manual_seed(2)
    y, b, w = torch.randn(2, 3, 4, generator=g), torch.randn(4, generator=g), torch.randn(4)
    ref = F.layer_norm(y, (4,), bias=b, eps=0.0)
    yn = standardize(y, "B T F", "F", eps=0.0)
    if kind == "numpy":
        y, b, w, yn = y.numpy(), b.numpy(), w.numpy(), yn.numpy()
    out = affine(yn, "B T F", "F", bias=b)
    np.testing.assert_allclose(np.asarray(out), ref.numpy(), atol=1e-5)
    np.testing.assert_allclose(np.asarray(affine(y, "B T F", "F", w)),
                               np.asarray(y) * np.asarray(w))
    same = affine(y, "B T F", "F")
    assert same is not y and (np.asarray(same) == np.asarray(y)).all()
    with pytest.raises(ValueError, match="bias must be None or an array"):
        affine(y, "B T F", "F", bias=[1.0, 2.0, 3.0, 4.0])


# 8. the messages of the demonstration "Bad input gets a clear error" (moved out of the first
# chapter to the appendix "How this book is checked"): each call is refused with exactly the
# message the appendix prints, on the appendix's own input

X_BAD = np.zeros((4, 50, 8), dtype=np.float32)  # [B, T, F], as data.sequence(B=4, T=50, F=8)


@pytest.mark.parametrize("call, message", [
    (lambda: standardize(X_BAD, "N C H W", over="H W"),
     "layout 'N C H W' names 4 dimensions but x has 3 (shape (4, 50, 8))"),
    (lambda: standardize(X_BAD, "B T F", over="C"),
     "over names axis 'C', which is not in the layout 'B T F' (its axes are B T F)"),
    (lambda: standardize(X_BAD, "B T (G Fg)", over="T Fg", G=3),
     "size G=3 does not divide dimension 2 of x, of size 8, in layout group (G Fg)"),
    (lambda: standardize(X_BAD, "B T F", over="F", mask=np.ones((4, 49, 1), bool)),
     "mask of shape (4, 49, 1) does not broadcast to x of shape (4, 50, 8)"),
], ids=["rank", "unknown-axis", "group-size", "mask-shape"])
def test_the_appendix_errors_print_what_it_shows(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value) == message
