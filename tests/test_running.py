"""normaxes.running: our update rules against PyTorch's BatchNorm1d and Keras'
BatchNormalization."""

import numpy as np
import pytest
import torch

from normaxes import load_keras, moments, to_numpy
from normaxes.running import running_update


def _batches(n=3, shape=(4, 7, 5), seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=shape) * rng.uniform(0.5, 3) + rng.normal()).astype(np.float32)
            for _ in range(n)]


def test_torch_convention_matches_batchnorm1d():
    bn = torch.nn.BatchNorm1d(5)  # momentum 0.1, unbiased running_var
    rm, rv = np.zeros(5, np.float32), np.ones(5, np.float32)
    for x in _batches():
        bn.train()(torch.from_numpy(x).transpose(1, 2))
        rm, rv = running_update(rm, rv, x, "B T F", "B T", momentum=0.1, convention="torch")
    np.testing.assert_allclose(rm, bn.running_mean.numpy(), atol=1e-6)
    np.testing.assert_allclose(rv, bn.running_var.numpy(), atol=1e-5)


def test_keras_convention_matches_batchnormalization():
    k = load_keras()
    bn = k.layers.BatchNormalization()  # momentum 0.99, biased moving_variance
    rm, rv = np.zeros(5, np.float32), np.ones(5, np.float32)
    for x in _batches():
        bn(x, training=True)
        rm, rv = running_update(rm, rv, x, "B T F", "B T", momentum=0.99, convention="keras")
    np.testing.assert_allclose(rm, to_numpy(bn.moving_mean), atol=1e-6)
    np.testing.assert_allclose(rv, to_numpy(bn.moving_variance), atol=1e-5)


def test_masked_update_equals_update_on_real_frames_only():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 6, 2))
    lengths = np.array([6, 2, 4])
    mask = np.arange(6)[None, :, None] < lengths[:, None, None]
    real = np.concatenate([x[b, :n] for b, n in enumerate(lengths)])[None]  # [1, sum, F]
    for conv, mom in (("torch", 0.1), ("keras", 0.99)):
        a = running_update(np.zeros(2), np.ones(2), x, "B T F", "B T", momentum=mom,
                           convention=conv, mask=mask)
        b = running_update(np.zeros(2), np.ones(2), real, "B T F", "B T", momentum=mom,
                           convention=conv)
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_moments_masked_counts_and_torch_path():
    x = np.arange(12.0).reshape(2, 3, 2)
    mask = np.array([[True, True, False], [True, False, False]])[:, :, None]
    mean, var, count = moments(x, "B T F", "T", mask=mask)
    assert count.shape == (2, 1, 2) and count[:, 0, 0].tolist() == [2, 1]
    tm, tv, tc = moments(torch.from_numpy(x), "B T F", "T", mask=torch.from_numpy(mask))
    np.testing.assert_allclose(mean, tm.numpy()), np.testing.assert_allclose(var, tv.numpy())


def test_bad_convention_and_momentum():
    with pytest.raises(ValueError, match="convention"):
        running_update(np.zeros(2), np.ones(2), np.zeros((2, 3, 2)), "B T F", "B T",
                       momentum=0.1, convention="jax")
    with pytest.raises(ValueError, match="momentum"):
        running_update(np.zeros(2), np.ones(2), np.zeros((2, 3, 2)), "B T F", "B T", momentum=2)
