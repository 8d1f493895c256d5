"""Helpers of the numerics chapter: the variance formulas and the stability classes."""

import math

import numpy as np
import pytest
import torch

from normaxes.chapters import numerics as nx

EPS32 = float(np.finfo(np.float32).eps)


def test_welford_and_chan_merge_match_numpy():
    x = np.random.default_rng(0).normal(3, 2, size=50)
    n, mean, m2 = nx.welford(x)
    assert n == 50 and mean == pytest.approx(x.mean()) and m2 / n == pytest.approx(x.var())
    merged = nx.chan_merge(nx.welford(x[:11]), nx.welford(x[11:]))
    assert merged[0] == 50 and np.allclose(merged[1:], (mean, m2))


def test_welford_keeps_float32():
    n, mean, m2 = nx.welford(np.arange(4, dtype=np.float32))
    assert mean.dtype == np.float32 and m2.dtype == np.float32 and m2 / n == 1.25


def test_one_pass_cancels_where_two_pass_does_not():
    x = torch.tensor([10001.0, 10003.0])
    assert nx.two_pass(x, 0)[1].item() == 1.0
    assert nx.one_pass(x, 0)[1].item() % 8 == 0  # float32 numbers near 1e8 are 8 apart


def test_stability_table_classes_and_refuses_the_gap():
    lost = 1e3 * EPS32 * math.hypot(1, 1e2)
    table = nx.stability_table({0.0: {"a": 3 * EPS32}, 1e2: {"a": lost}}, "method")
    assert "stable (≤ 10 εκ)" in table and "**lost** (≥ 100 εκ)" in table
    with pytest.raises(AssertionError, match="between the classes"):
        nx.stability_table({0.0: {"a": 30 * EPS32}}, "method")
    assert "NaN" in nx.stability_table({0.0: {"a": float("nan")}}, "method")


def test_eps_inside_and_outside_the_root():
    x = torch.full((1, 4), 1e-4, dtype=torch.float64)  # rms 1e-4, mean square 1e-8
    assert nx.rms_eps_inside(x, 1e-8)[0, 0].item() == pytest.approx(1 / math.sqrt(2))
    assert nx.rms_eps_outside(x, 1e-8)[0, 0].item() == pytest.approx(1e-4 / (1e-4 + 1e-8))


# --- the channels-last emulation and the error tables -------------------------------------------

import torch.nn.functional as F  # noqa: E402


def _wrong_dims_one_pass(x, G, eps=1e-5):
    """The emulation with a plausible bug: statistics per channel (dims 3, 4), not per group."""
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    mean = xg.mean(dim=(3, 4), keepdim=True)
    var = ((xg * xg).mean(dim=(3, 4), keepdim=True) - mean * mean).clamp(min=0)
    return ((xg - mean) / torch.sqrt(var + eps)).reshape(N, C, H, W)


@pytest.mark.parametrize("G", [1, 2, 4])
def test_group_norm_one_pass_is_pytorchs_channels_last_group_norm(G):
    x = torch.randn(2, 8, 3, 5, generator=torch.Generator().manual_seed(G)) * 2 + 1
    cl = x.contiguous(memory_format=torch.channels_last)
    assert cl.is_contiguous(memory_format=torch.channels_last) and not cl.is_contiguous()
    torch.testing.assert_close(nx.group_norm_one_pass(x, G), F.group_norm(cl, G),
                               atol=1e-5, rtol=0)
    assert (_wrong_dims_one_pass(x, G) - F.group_norm(cl, G)).abs().max() > 0.1


@pytest.mark.parametrize("a, b", [(10001.0, 10003.0), (10002.0, 10003.0)])
def test_group_norm_one_pass_loses_the_variance_where_the_kernel_does(a, b):
    """Two entries near 10^4: the float32 one-pass variance is 0 (10001, 10003) or -8, clamped
    to 0 (10002, 10003), in the emulation and the kernel alike (a sum of two is exact in any
    order): outputs ±(b - a)/2/sqrt(eps); the contiguous (Welford) kernel keeps the variance."""
    x = torch.tensor([[[[a, b]], [[5.0, 7.0]]]])
    cl = x.contiguous(memory_format=torch.channels_last)
    ours, kernel = nx.group_norm_one_pass(x, 2), F.group_norm(cl, 2)
    # outputs near 158 or 316 are rounded differently (kernel: other order, fused multiply-add)
    torch.testing.assert_close(ours, kernel, atol=0.5, rtol=0)
    assert abs(abs(kernel[0, 0, 0, 0].item()) - (b - a) / 2 * 1e-5 ** -0.5) < 0.5
    torch.testing.assert_close(F.group_norm(x, 2)[0, 0], torch.tensor([[-1.0, 1.0]]),
                               atol=1e-4, rtol=0)
    # a two-pass emulation would be wrong here: it keeps the variance the kernel loses
    mean, var = nx.two_pass(x.reshape(1, 2, 1, 1, 2), (2, 3, 4))
    assert (((x.reshape(1, 2, 1, 1, 2) - mean) / torch.sqrt(var + 1e-5)).reshape(x.shape)
            - kernel).abs().max() > 100


def test_image_errors_puts_the_channels_last_kernel_with_its_emulation():
    for mu, lost in [(0.0, False), (1e3, True)]:
        err = nx.image_errors(mu)
        kappa = EPS32 * math.hypot(1, mu)
        for name in ["F.group_norm, channels_last", "one-pass, clamped at 0",
                     "Keras GroupNormalization"]:
            assert (err[name] / kappa >= nx.LOST) == lost, (mu, name, err[name] / kappa)
        for name in ["standardize (two-pass)", "two-pass, plain", "F.group_norm, contiguous"]:
            assert err[name] / kappa <= nx.STABLE, (mu, name)


def test_sequence_errors_one_pass_goes_negative_and_layer_norm_does_not():
    err = nx.sequence_errors(1e4)
    assert math.isnan(err["one-pass E[x²]−E[x]²"])
    assert err["F.layer_norm"] / (EPS32 * math.hypot(1, 1e4)) <= nx.STABLE


# --- determinism: the helpers the appendix page "How this book is checked" runs -----------------

def test_thread_check_finds_the_one_thread_dependent_kernel():
    lines = nx.thread_check().splitlines()
    assert len(lines) == 5
    assert all(line.endswith("bit-identical") for line in lines[:4])
    assert lines[4].startswith("F.group_norm, channels_last, 1024 px")
    assert lines[4].endswith("different results")


def test_cpu_path_check_runs_the_default_path_and_asserts_a_bound():
    assert "at most 16 float32 steps apart" in nx.cpu_path_check()
    with pytest.raises(AssertionError, match="float32 steps"):
        nx.cpu_path_check(max_steps=-1)
