"""normaxes.chapters.streaming: the causality checks, the cumulative norm, the reference ports,
the figure."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from normaxes import data, on_channels_first, shared_with, standardize
from normaxes.chapters.streaming import (
    ACCUMULATE,
    asteroid_cum_ln,
    asteroid_cum_ln_0_6_0,
    asteroid_glob_ln,
    batch_leak,
    causal_frames,
    conv_tasnet_cln,
    cumulative_standardize,
    float32_error,
    future_leak,
    influence,
    long_sequence,
    prefix_mask,
)

X = data.sequence(B=3, T=10, F=6, seed=3)  # float32 [B, T, F]
X64 = X.astype(np.float64)


def ln(v):
    return F.layer_norm(v, v.shape[-1:])


def gln(v):
    return on_channels_first(lambda u: F.group_norm(u, 1), v)


def cln(v, **kw):
    return cumulative_standardize(v, "B T F", over="T F", along="T", **kw)


def test_future_leak_is_zero_for_per_frame_norms_and_not_for_pooled_ones():
    xt = torch.from_numpy(X)
    assert future_leak(ln, xt).max() == 0.0
    assert future_leak(cln, X).max() == 0.0
    leak = future_leak(gln, xt)
    assert leak.shape == (10,) and leak[-1] == 0.0 and (leak[:-1] > 1e-3).all()


def test_causal_frames_finds_the_first_leaking_frame():
    # output at frame s is x_s + x_{s+3} (x_s alone for the last 3 frames): the past of every
    # t <= 8 holds a frame s <= 6 that reads frame s + 3 > t; only t = 9 has no future
    def ahead(v):
        return v + torch.cat([v[:, 3:], torch.zeros_like(v[:, :3])], 1)
    ok = causal_frames(ahead, torch.from_numpy(X64))
    assert ok.tolist() == [False] * 9 + [True]
    assert causal_frames(ln, torch.from_numpy(X)).all()


def test_batch_leak_batch_norm_training_vs_eval():
    bn = torch.nn.BatchNorm1d(6)
    assert batch_leak(lambda v: on_channels_first(bn, v), torch.from_numpy(X)) > 1e-2
    bn.eval()
    assert batch_leak(lambda v: on_channels_first(bn, v), torch.from_numpy(X)) == 0.0
    assert batch_leak(ln, torch.from_numpy(X), index=2) == 0.0


@pytest.mark.parametrize("accumulate", ACCUMULATE)
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_cumulative_equals_prefix_standardize(accumulate, kind):
    x = X64 if kind == "numpy" else torch.from_numpy(X64)
    y = np.asarray(cln(x, accumulate=accumulate))
    ref = np.stack([standardize(X64[:, :t + 1], "B T F", over="T F")[:, -1] for t in range(10)], 1)
    assert np.abs(y - ref).max() < 1e-10


def test_cumulative_keeps_type_and_dtype():
    y = cln(torch.from_numpy(X), accumulate="float64")
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32 and y.shape == X.shape
    assert cln(X, accumulate="float64").dtype == np.float32


def test_cumulative_group_norm_and_instance_norm():
    # cumulative Group Norm: over T and the features of a group, along T
    y = cumulative_standardize(X64, "B T (G Fg)", over="T Fg", along="T", G=2)
    for t in (0, 4, 9):
        ref = standardize(X64[:, :t + 1], "B T (G Fg)", over="T Fg", G=2)[:, -1]
        assert np.abs(y[:, t] - ref).max() < 1e-10
    # over == along: nothing else to sum (cumulative Instance Norm), on torch too
    y = cumulative_standardize(torch.from_numpy(X64), "B T F", over="T", along="T").numpy()
    ref = standardize(X64[:, :5], "B T F", over="T")[:, -1]
    assert np.abs(y[:, 4] - ref).max() < 1e-10


def test_cumulative_on_images_in_raster_order():
    img = data.images(N=2, C=3, H=3, W=4, seed=1, dtype=np.float64)
    y = cumulative_standardize(img, "N C H W", over="C H W", along="H W")
    m = prefix_mask(img.shape, (2, 3), (1, 2))
    assert m.sum() == 2 * 3 * (4 + 3)
    ref = standardize(img, "N C H W", over="C H W", mask=m)
    assert np.abs(y[:, :, 1, 2] - ref[:, :, 1, 2]).max() < 1e-10
    flat = cumulative_standardize(img.reshape(2, 3, 12), "N C P", over="C P", along="P")
    assert np.abs(flat.reshape(img.shape) - y).max() < 1e-12


def test_reference_ports():
    x = torch.from_numpy(X).transpose(1, 2)  # [B, C, T]
    g, b = torch.full((6,), 2.0), torch.full((6,), 0.5)
    ours = cln(torch.from_numpy(X), eps=1e-8).transpose(1, 2) * 2.0 + 0.5
    assert (conv_tasnet_cln(x, g, b) - ours).abs().max() < 1e-5
    assert (asteroid_cum_ln(x, g, b) - ours).abs().max() < 1e-5
    assert (asteroid_cum_ln_0_6_0(x, g, b) - ours).abs().max() > 1e-1
    gn = F.group_norm(x, 1, g, b, eps=1e-8)
    assert (asteroid_glob_ln(x, g, b) - gn).abs().max() < 1e-5


def test_float32_errors():
    x = long_sequence(100, offset=3.0)
    assert x.shape == (1, 100, 4) and x.dtype == np.float32 and abs(x.mean() - 3.0) < 0.5
    assert float32_error(10**4, "naive", offset=100.0) > 10 * float32_error(10**4, "shifted",
                                                                           offset=100.0)
    assert float32_error(10**4, "float64", offset=100.0) < 1e-6
    # torch's cumsum keeps a wider running total: its naive error is far below NumPy's
    assert float32_error(10**5, "naive", offset=100.0, backend="torch") < float32_error(
        10**5, "naive", offset=100.0) / 10


def test_long_sequence_is_drawn_once_and_handed_out_as_a_copy():
    a = long_sequence(100, offset=3.0)
    a[...] = 0  # the caller's own array
    b = long_sequence(100, offset=3.0)
    rng = np.random.default_rng(8)
    assert np.array_equal(b, (3.0 + rng.normal(size=(1, 100, 4))).astype(np.float32))
    assert b.flags.writeable and not np.shares_memory(a, b)


def test_influence_is_the_statistics_set():
    i = (1, 4, 2)
    assert (influence(ln, X, i) == shared_with("B T F", "F", X.shape, i)).all()
    assert (influence(gln, X, i) == shared_with("B T F", "T F", X.shape, i)).all()
    past = shared_with("B T F", "T F", X.shape, i) & prefix_mask(X.shape, (1,), (4,))
    assert (influence(cln, X, i) == past).all()


@pytest.mark.parametrize("call, words", [
    (lambda: future_leak(ln, torch.from_numpy(X[:, :1])), ["at least 2 frames", "T=1"]),
    (lambda: future_leak(ln, torch.from_numpy(X[0])), ["[B, T, F]", "got 2"]),
    (lambda: future_leak(lambda v: v[:, :-1], torch.from_numpy(X)), ["input's shape", "(3, 9, 6)"]),
    (lambda: future_leak(ln, np.zeros((2, 3, 4), int)), ["floating-point"]),
    (lambda: causal_frames(ln, torch.from_numpy(X), tol=-1), ["tol", "-1"]),
    (lambda: batch_leak(ln, torch.from_numpy(X[:1])), ["at least 2 sequences", "B=1"]),
    (lambda: batch_leak(ln, torch.from_numpy(X), index=3), ["index", "B=3"]),
    (lambda: cln(X, accumulate="kahan"), ["accumulate", "'kahan'"]),
    (lambda: cln(X, eps=-1.0), ["eps"]),
    (lambda: cumulative_standardize(X, "B T F", over="F", along="T"),
     ["along", "'T'", "not in over"]),
    (lambda: cumulative_standardize(X, "B T F", over="B T F", along="B F"), ["adjacent", "B F"]),
    (lambda: cumulative_standardize(X, "B T F", over="T F", along="H"), ["along", "'H'"]),
    (lambda: cumulative_standardize(X, "B T F", over="T F", along=""), ["along is empty"]),
    (lambda: prefix_mask((2, 3), (2,), (0,)), ["along_dims"]),
    (lambda: prefix_mask((2, 3), (1,), (0, 0)), ["one entry per dimension"]),
    (lambda: prefix_mask((2, 3), (1,), (3,)), ["outside", "(3,)"]),
    (lambda: influence(ln, X, (0, 10, 0)), ["index", "(3, 10, 6)"]),
    (lambda: long_sequence(0), ["T must be a positive integer"]),
    (lambda: float32_error(10, "naive", backend="jax"), ["backend", "'jax'"]),
])
def test_bad_input_names_the_fault(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_cumulative_sets_of_the_tiny_sequence_are_the_fractions_worked_by_hand():
    from normaxes.chapters.streaming import cumulative_sets

    rows = cumulative_sets(data.tiny_sequence(), 0).splitlines()[2:]
    assert rows == ["| 1 | 1 3 | 2 | 4 | 10 | 2 | 1 |", "| 2 | 2 6 | 4 | 12 | 50 | 3 | 7/2 |",
                    "| 3 | 6 4 | 6 | 22 | 102 | 11/3 | 32/9 |"]
    rows = cumulative_sets(data.tiny_sequence(), 1).splitlines()[2:]
    assert rows[-1] == "| 3 | 0 2 | 6 | 20 | 126 | 10/3 | 89/9 |"
