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


# Masked update with statistics sets of different sizes (issue 31): over T on "B T F", one set
# per sequence and feature, so the running statistics are [B, F] and the lengths decide the sizes.

def _ragged(lengths, T=5, F=3, seed=2):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(len(lengths), T, F)) * 2 + 1).astype(np.float64)
    mask = np.arange(T)[None, :, None] < np.asarray(lengths)[:, None, None]
    rm = rng.normal(size=(len(lengths), F))
    rv = rng.uniform(0.5, 2.0, size=(len(lengths), F))
    return x, mask, rm, rv


def _alone(rm, rv, x, lengths, **kw):
    """Each sequence's real frames alone, unmasked, one running_update per set; a set
    without real entries keeps its statistics."""
    out_m, out_v = rm.copy(), rv.copy()
    for b, n in enumerate(lengths):
        if n:
            m, v = running_update(rm[b], rv[b], x[b:b + 1, :n], "B T F", "B T", **kw)
            out_m[b], out_v[b] = m, v
    return out_m, out_v


@pytest.mark.parametrize("kind", [np.asarray, torch.from_numpy])
def test_keras_masked_set_of_one_real_entry_is_updated_like_the_entry_alone(kind):
    lengths = [1, 4, 3]
    x, mask, rm, rv = _ragged(lengths)
    m, v = running_update(kind(rm), kind(rv), kind(x), "B T F", "T", momentum=0.9,
                          convention="keras", mask=kind(mask))
    em, ev = _alone(rm, rv, x, lengths, momentum=0.9, convention="keras")
    # the set of one entry moves: mean towards the entry, variance towards 0 (biased)
    np.testing.assert_allclose(np.asarray(m)[0], 0.9 * rm[0] + 0.1 * x[0, 0], atol=1e-12)
    np.testing.assert_allclose(np.asarray(v)[0], 0.9 * rv[0], atol=1e-12)
    np.testing.assert_allclose(np.asarray(m), em, atol=1e-12)
    np.testing.assert_allclose(np.asarray(v), ev, atol=1e-12)


@pytest.mark.parametrize("kind", [np.asarray, torch.from_numpy])
def test_torch_masked_set_of_one_real_entry_beside_larger_sets_is_refused(kind):
    x, mask, rm, rv = _ragged([1, 4, 3])
    with pytest.raises(ValueError, match="one real entry"):
        running_update(kind(rm), kind(rv), kind(x), "B T F", "T", momentum=0.1,
                       convention="torch", mask=kind(mask))
    # as PyTorch refuses the same set alone
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        torch.nn.BatchNorm1d(3)(torch.from_numpy(x[0, :1]))
    # and a mask of one real entry per feature, over B T (one set per feature)
    one = np.zeros_like(mask)
    one[1, 2] = True
    with pytest.raises(ValueError, match="one real entry"):
        running_update(kind(rm[0]), kind(rv[0]), kind(x), "B T F", "B T", momentum=0.1,
                       mask=kind(one))


@pytest.mark.parametrize("kind", [np.asarray, torch.from_numpy])
@pytest.mark.parametrize("convention, momentum", [("torch", 0.1), ("keras", 0.9)])
def test_masked_all_padding_set_is_left_and_the_others_move_as_alone(kind, convention, momentum):
    lengths = [0, 4, 2]
    x, mask, rm, rv = _ragged(lengths)
    m, v = running_update(kind(rm), kind(rv), kind(x), "B T F", "T", momentum=momentum,
                          convention=convention, mask=kind(mask))
    m, v = np.asarray(m), np.asarray(v)
    assert (m[0] == rm[0]).all() and (v[0] == rv[0]).all()  # exactly unchanged
    assert (np.abs(m[1:] - rm[1:]) > 1e-3).all() and (np.abs(v[1:] - rv[1:]) > 1e-3).all()
    em, ev = _alone(rm, rv, x, lengths, momentum=momentum, convention=convention)
    np.testing.assert_allclose(m, em, atol=1e-12)
    np.testing.assert_allclose(v, ev, atol=1e-12)


@pytest.mark.parametrize("kind", [np.asarray, torch.from_numpy])
@pytest.mark.parametrize("convention, momentum", [("torch", 0.1), ("keras", 0.9)])
def test_masked_ragged_sets_equal_each_sets_real_frames_alone(kind, convention, momentum):
    lengths = [5, 2, 3, 4]  # each set its own size: the unbiased factor n/(n-1) per set
    x, mask, rm, rv = _ragged(lengths)
    m, v = running_update(kind(rm), kind(rv), kind(x), "B T F", "T", momentum=momentum,
                          convention=convention, mask=kind(mask))
    em, ev = _alone(rm, rv, x, lengths, momentum=momentum, convention=convention)
    np.testing.assert_allclose(np.asarray(m), em, atol=1e-12)
    np.testing.assert_allclose(np.asarray(v), ev, atol=1e-12)
    if convention == "torch":  # the referee: nn.BatchNorm1d on one sequence's real frames
        for b, n in enumerate(lengths):
            bn = torch.nn.BatchNorm1d(3, momentum=momentum).double()
            bn.running_mean.copy_(torch.from_numpy(rm[b])), bn.running_var.copy_(
                torch.from_numpy(rv[b]))
            bn.train()(torch.from_numpy(x[b, :n]))
            np.testing.assert_allclose(np.asarray(m)[b], bn.running_mean.numpy(), atol=1e-12)
            np.testing.assert_allclose(np.asarray(v)[b], bn.running_var.numpy(), atol=1e-12)


def test_keras_masked_update_equals_keras_batchnormalization_with_a_mask():
    k = load_keras()
    lengths = [1, 4, 3]  # a sequence of one real frame: Keras' biased variance is defined
    x, mask, _, _ = _ragged(lengths)
    x = x.astype(np.float32)
    bn = k.layers.BatchNormalization()  # momentum 0.99 on the old value, biased variance
    bn(x, training=True, mask=mask[..., 0])
    m, v = running_update(np.zeros(3, np.float32), np.ones(3, np.float32), x, "B T F", "B T",
                          momentum=0.99, convention="keras", mask=mask)
    np.testing.assert_allclose(m, to_numpy(bn.moving_mean), atol=1e-6)
    np.testing.assert_allclose(v, to_numpy(bn.moving_variance), atol=1e-6)
