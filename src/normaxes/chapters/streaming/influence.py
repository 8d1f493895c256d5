"""Autograd influence: the inputs an output depends on, measured; for a norm, the statistics set
of that output, whatever the implementation (:func:`normaxes.book.figures.draw_set` draws it)."""

from __future__ import annotations

import numpy as np

from ..._arrays import check_array, torch
from ...interop import to_numpy

__all__ = ["influence"]


def influence(norm, x, index) -> np.ndarray:
    """Boolean array of x's shape: the inputs that the output at position *index* depends on.

    Computed with autograd in float64: True where ``d norm(x)[index] / d x`` is not zero. For a
    normalization this is the statistics set of *index* (its mean and variance use exactly those
    inputs), whatever the norm's implementation.
    """
    if torch is None:  # pragma: no cover
        raise ValueError("influence needs torch")
    check_array(x)
    index = tuple(index)
    if len(index) != x.ndim or any(not 0 <= i < s for i, s in zip(index, x.shape, strict=True)):
        raise ValueError(f"index {index} is not a position of x of shape {tuple(x.shape)}")
    xt = torch.as_tensor(to_numpy(x), dtype=torch.float64).clone().requires_grad_(True)
    y = norm(xt)
    if tuple(y.shape) != tuple(xt.shape):
        raise ValueError(f"norm must return an array of the input's shape {tuple(xt.shape)}, "
                         f"got shape {tuple(y.shape)}")
    (grad,) = torch.autograd.grad(y[index], xt)
    return (grad != 0).numpy()
