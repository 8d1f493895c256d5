"""The cumulative norm: :func:`~normaxes.standardize` whose statistics at position ``t`` of an axis
use positions ``<= t`` only, a causal norm (Conv-TasNet's cumulative layer norm, cLN, is
``over="T F", along="T"``); and :func:`prefix_mask`, which gives the same statistics from scratch.
"""

from __future__ import annotations

from math import prod

import numpy as np

from ..._arrays import (
    acc_dtype,
    check_array,
    check_nonnegative,
    copy,
    is_torch,
    scalar,
    to_dtype,
    torch,
)
from ...core import resolve

__all__ = ["ACCUMULATE", "cumulative_standardize", "prefix_mask"]

ACCUMULATE = ("naive", "shifted", "float64")
"""How :func:`cumulative_standardize` accumulates its running sums."""


def _along_axes(spec, over_axes, along):
    axes = spec.axes(along, what="along")
    for a in axes:
        if a not in over_axes:
            raise ValueError(
                f"along names axis {spec.names[a]!r}, which is not in over "
                f"({' '.join(spec.names[i] for i in over_axes)}): the statistics accumulate along "
                "axes they reduce over")
    if list(axes) != list(range(axes[0], axes[0] + len(axes))):
        raise ValueError(f"along axes {' '.join(spec.names[a] for a in axes)} must be adjacent "
                         f"in the layout {spec.layout!r} (their raster order is the stream order)")
    return axes


def cumulative_standardize(x, layout: str, over, along, *, eps: float = 1e-5,
                           accumulate: str = "naive", **sizes):
    r"""Standardize *x* over *over* with statistics that accumulate along the axes *along*.

    The statistics of a position whose *along* index is ``t`` are those of
    :func:`~normaxes.standardize` over *over*, restricted to the positions whose *along* index is
    ``<= t``: a causal norm. Several *along* axes (adjacent in the layout, e.g. ``"H W"``) are read
    in raster order. Conv-TasNet's cumulative layer norm (cLN) on a sequence ``[B, T, F]`` is::

        cumulative_standardize(x, "B T F", over="T F", along="T")

    The running sums :math:`\sum x` and :math:`\sum x^2` come from cumulative sums, so the cost is
    linear in the length; the variance is :math:`\overline{x^2} - \bar x^2`, clipped at 0.

    Parameters
    ----------
    x
        NumPy array or torch tensor of floating point numbers; the result has its type and dtype.
    layout, over, sizes
        As for :func:`~normaxes.standardize`.
    along
        The axis name (or adjacent names) the statistics accumulate along; they must be in *over*.
    eps
        A finite number >= 0, added to the variance before the square root, in the dtype of the
        sums.
    accumulate
        ``"naive"``: the sums in x's dtype, as the reference implementations do (float16 and
        bfloat16 in float32, as PyTorch accumulates them; the result is rounded to x's dtype).
        ``"shifted"``: the same after subtracting the mean of the first step of each statistics
        set (the variance does not change under a shift; the cancellation in
        :math:`\overline{x^2} - \bar x^2` does).
        ``"float64"``: the sums and the normalization in float64, the result cast back.

    An empty *x* (e.g. ``T = 0``) gives an empty result of its shape and dtype.

    Raises
    ------
    ValueError
        With a message that names the axis, size or argument at fault.
    """
    check_array(x)
    if accumulate not in ACCUMULATE:
        raise ValueError(f"accumulate must be one of {ACCUMULATE}, got {accumulate!r}")
    check_nonnegative("eps", eps)
    spec = resolve(layout, x.shape, sizes)
    over_axes = spec.axes(over)
    axes = _along_axes(spec, over_axes, along)
    full = spec.expanded_shape
    a0, k = axes[0], len(axes)
    L = prod(full[a] for a in axes)
    merged = full[:a0] + (L,) + full[a0 + k:]
    rest = tuple(a if a < a0 else a - k + 1 for a in over_axes if a not in axes)
    m = prod(full[a] for a in over_axes if a not in axes)  # entries per step and statistics set
    tt = is_torch(x)
    if prod(x.shape) == 0:  # nothing to normalize (e.g. T = 0): an empty result, as PyTorch's norms
        return copy(x)
    xe = x.reshape(merged)
    # float16 and bfloat16 accumulate in float32 (PyTorch's opmath type), float64 on request
    xe = to_dtype(xe, (torch.float64 if tt else np.dtype(np.float64)) if accumulate == "float64"
                  else acc_dtype(x))
    eps = scalar(eps, xe.dtype)

    def total(v):
        if not rest:
            return v
        return v.sum(dim=rest, keepdim=True) if tt else v.sum(axis=rest, keepdims=True)

    if accumulate == "shifted":
        first = xe.narrow(a0, 0, 1) if tt else np.take(xe, [0], axis=a0)
        xe = xe - total(first) / m
    s1, s2 = total(xe), total(xe * xe)
    shape = [1] * len(merged)
    shape[a0] = L
    if tt:
        s1, s2 = torch.cumsum(s1, dim=a0), torch.cumsum(s2, dim=a0)
        n = (m * torch.arange(1, L + 1, dtype=xe.dtype, device=xe.device)).reshape(shape)
        mean = s1 / n
        var = (s2 / n - mean * mean).clamp(min=0)
        y = (xe - mean) / torch.sqrt(var + eps)
    else:
        s1, s2 = np.cumsum(s1, axis=a0), np.cumsum(s2, axis=a0)
        n = (m * np.arange(1, L + 1, dtype=xe.dtype)).reshape(shape)
        mean = s1 / n
        var = np.maximum(s2 / n - mean * mean, 0)
        y = (xe - mean) / np.sqrt(var + eps)
    y = y.to(x.dtype) if tt else y.astype(x.dtype)
    return y.reshape(x.shape)


def prefix_mask(shape, along_dims, index) -> np.ndarray:
    """Boolean array of *shape*: True where the position, read along *along_dims* in raster order,
    comes no later than the position *index* (a tuple with one entry per dimension of *along_dims*).

    ``standardize(x, layout, over, mask=prefix_mask(...))`` evaluated at *index* gives the
    statistics that :func:`cumulative_standardize` uses there, computed from scratch.
    """
    shape = tuple(int(s) for s in shape)
    along_dims = tuple(along_dims)
    if any(not 0 <= d < len(shape) for d in along_dims):
        raise ValueError(f"along_dims {along_dims} must be dimensions of shape {shape}")
    index = tuple(index)
    if len(index) != len(along_dims):
        raise ValueError(f"index {index} needs one entry per dimension in along_dims {along_dims}")
    sub = tuple(shape[d] for d in along_dims)
    if any(not 0 <= i < s for i, s in zip(index, sub, strict=True)):
        raise ValueError(f"index {index} lies outside the sizes {sub} of along_dims {along_dims}")
    order = np.arange(prod(sub)).reshape(sub) <= np.ravel_multi_index(index, sub)
    view = [1] * len(shape)
    for d, s in zip(along_dims, sub, strict=True):
        view[d] = s
    return np.broadcast_to(order.reshape(view), shape).copy()
