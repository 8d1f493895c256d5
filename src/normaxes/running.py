"""Batch statistics and the running averages that Batch Norm keeps for evaluation.

PyTorch and Keras update their running statistics differently:

- PyTorch (``momentum=0.1``): ``new = (1 - momentum) * old + momentum * batch``, and the variance it
  stores is the **unbiased** batch variance (``n / (n - 1)`` times the biased one), although it
  normalizes the batch itself with the biased one.
- Keras (``momentum=0.99``): ``new = momentum * old + (1 - momentum) * batch``, with the biased
  batch variance.
"""

from __future__ import annotations

from .core import moments

__all__ = ["running_update", "CONVENTIONS"]

CONVENTIONS = ("torch", "keras")


def running_update(running_mean, running_var, x, layout: str, over, *, momentum: float,
                   convention: str = "torch", mask=None, **sizes):
    """One training step's update of Batch Norm's running mean and variance.

    *running_mean* and *running_var* hold one value per statistics set (e.g. ``[F]`` for
    ``over="B T"`` on ``"B T F"``); the returned pair has their shape. *convention* is
    ``"torch"`` (momentum weights the new value; unbiased variance stored) or ``"keras"``
    (momentum weights the old value; biased variance). With *mask*, only real entries count,
    and the unbiased correction uses the number of real entries.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must lie in [0, 1], got {momentum!r}")
    mean, var, count = moments(x, layout, over, mask=mask, **sizes)
    shape = tuple(running_mean.shape)
    mean, var = mean.reshape(shape), var.reshape(shape)
    if convention == "torch":
        n = count.reshape(shape) if mask is not None else count
        unbiased = var * n / (n - 1) if mask is None else var * n / (n - 1).clip(min=1)
        return ((1 - momentum) * running_mean + momentum * mean,
                (1 - momentum) * running_var + momentum * unbiased)
    return (momentum * running_mean + (1 - momentum) * mean,
            momentum * running_var + (1 - momentum) * var)
