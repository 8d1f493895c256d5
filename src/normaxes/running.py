"""Batch statistics and the running averages that Batch Norm keeps for evaluation.

PyTorch and Keras update their running statistics differently:

- PyTorch (``momentum=0.1``): ``new = (1 - momentum) * old + momentum * batch``, and the variance it
  stores is the **unbiased** batch variance (``n / (n - 1)`` times the biased one), although it
  normalizes the batch itself with the biased one. ``momentum=None`` is PyTorch's cumulative
  average: the weight of the new batch is ``1 / num_batches_tracked``.
- Keras (``momentum=0.99``): ``new = momentum * old + (1 - momentum) * batch``, with the biased
  batch variance.
"""

from __future__ import annotations

import numpy as np

from ._arrays import acc_dtype, check_positive_int, is_number, is_torch, to_dtype, torch
from .core import centered_moments

__all__ = ["running_update", "update_from_moments", "CONVENTIONS"]

CONVENTIONS = ("torch", "keras")


def _weight(momentum, convention, num_batches_tracked):
    """The weight of the new batch statistic, alpha (the notation's momentum symbol)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    if momentum is None:
        if convention != "torch":
            raise ValueError("momentum=None (a cumulative average) is PyTorch's convention; "
                             "Keras needs a number in [0, 1]")
        if num_batches_tracked is None:
            raise ValueError("momentum=None (PyTorch's cumulative average) needs "
                             "num_batches_tracked=k, the number of batches including this one: "
                             "the new batch then has weight 1/k")
        check_positive_int("num_batches_tracked", num_batches_tracked)
        return 1.0 / num_batches_tracked
    if not is_number(momentum) or not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be a number in [0, 1] or None, got {momentum!r}")
    return float(momentum) if convention == "torch" else 1.0 - float(momentum)


def update_from_moments(running_mean, running_var, mean, var, count, *, momentum,
                        convention: str = "torch", num_batches_tracked=None):
    """The running averages after one batch whose statistics are *mean*, *var* (biased) and
    *count*, as :func:`~normaxes.moments` returns them; see :func:`running_update`."""
    alpha = _weight(momentum, convention, num_batches_tracked)
    shape = tuple(running_mean.shape)
    # float16 and bfloat16 running statistics are updated in float32 and rounded once
    acc = acc_dtype(running_mean)
    out_dtypes = running_mean.dtype, running_var.dtype
    running_mean, running_var = to_dtype(running_mean, acc), to_dtype(running_var, acc)
    mean, var = to_dtype(mean.reshape(shape), acc), to_dtype(var.reshape(shape), acc)
    tt = is_torch(mean)
    new_mean, new_var = _update(running_mean, running_var, mean, var, count, alpha, convention,
                                shape, tt)
    return to_dtype(new_mean, out_dtypes[0]), to_dtype(new_var, out_dtypes[1])


def _update(running_mean, running_var, mean, var, count, alpha, convention, shape, tt):
    if not is_torch(count) and not isinstance(count, np.ndarray):  # no mask: one count for all
        if count == 0:
            return _copy(running_mean), _copy(running_var)
        n = count
        if convention == "torch" and n == 1:
            raise ValueError("running_update: each statistics set holds one entry, so the "
                             "unbiased variance PyTorch stores is undefined (PyTorch raises "
                             "'Expected more than 1 value per channel when training')")
        unbiased = var * n / (n - 1) if convention == "torch" else var
        return ((1 - alpha) * running_mean + alpha * mean,
                (1 - alpha) * running_var + alpha * unbiased)
    n = count.reshape(shape)
    if convention == "torch" and bool((n == 1).any()):
        raise ValueError("running_update: a statistics set holds one real entry, so the unbiased "
                         "variance PyTorch stores is undefined (PyTorch raises 'Expected more "
                         "than 1 value per channel when training')")
    seen = n > 0
    if convention == "torch":
        safe = n.clamp(min=2) if tt else np.maximum(n, 2)
        var = var * safe / (safe - 1)
    new_mean = (1 - alpha) * running_mean + alpha * mean
    new_var = (1 - alpha) * running_var + alpha * var
    if tt:
        return (torch.where(seen, new_mean, running_mean),
                torch.where(seen, new_var, running_var))
    return np.where(seen, new_mean, running_mean), np.where(seen, new_var, running_var)


def _copy(a):
    return a.clone() if is_torch(a) else np.array(a, copy=True)


def running_update(running_mean, running_var, x, layout: str, over, *, momentum,
                   convention: str = "torch", mask=None, num_batches_tracked=None, **sizes):
    """One training step's update of Batch Norm's running mean and variance.

    *running_mean* and *running_var* hold one value per statistics set (e.g. ``[F]`` for
    ``over="B T"`` on ``"B T F"``); the returned pair has their shape. *convention* is
    ``"torch"`` (momentum weights the new value; unbiased variance stored) or ``"keras"``
    (momentum weights the old value; biased variance). With *mask*, only real entries count,
    and the unbiased correction uses the number of real entries.

    Edge cases, decided as PyTorch decides them:

    - ``momentum=None`` (torch convention only) is PyTorch's cumulative average: pass
      ``num_batches_tracked=k``, the number of batches including this one (PyTorch's buffer after
      its increment); the new batch has weight ``1/k``.
    - A batch without entries (or, with a mask, a statistics set without real entries) leaves the
      running statistics unchanged, as ``nn.BatchNorm1d`` does on an empty batch (both
      conventions: there is nothing to average in).
    - With the torch convention, a statistics set of exactly one entry raises ``ValueError``, as
      PyTorch's ``F.batch_norm`` does in training ("Expected more than 1 value per channel"): the
      unbiased variance is undefined. The Keras convention stores the biased variance, 0 there.
    """
    _weight(momentum, convention, num_batches_tracked)  # check the arguments before the work
    # in float32 for half and bfloat16 input
    _, _, mean, var, count = centered_moments(x, layout, over, mask=mask, sizes=sizes)
    return update_from_moments(running_mean, running_var, mean, var, count, momentum=momentum,
                               convention=convention, num_batches_tracked=num_batches_tracked)
