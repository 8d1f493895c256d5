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
