"""The affine step that follows standardization: ``y * weight + bias`` along named axes."""

from __future__ import annotations

from math import prod

import numpy as np

from ._arrays import acc_dtype, check_array, copy, is_array, is_torch, to_dtype, torch
from .core import resolve

__all__ = ["affine", "affine_shape"]


def affine_shape(layout: str, along, shape, **sizes) -> tuple[int, ...]:
    """Shape of the scale (and shift) that varies along the axes *along* of an array of *shape*.

    ``affine_shape("N C H W", "C", (8, 4, 5, 5))`` is ``(4,)``: one value per channel, as in
    Batch, Group and Instance Norm; ``affine_shape("N C H W", "C H W", ...)`` is ``(4, 5, 5)``,
    PyTorch's ``LayerNorm([C, H, W])``.
    """
    spec = resolve(layout, shape, sizes)
    axes = spec.axes(along, what="along")
    return tuple(spec.expanded_shape[a] for a in axes)


def affine(y, layout: str, along, weight=None, bias=None, **sizes):
    """Scale and shift *y* with parameters that vary along the axes *along*, shared elsewhere.

    *weight* and *bias* have the shape :func:`affine_shape` gives (or the same number of
    elements, e.g. a flat ``[G*C]`` vector for ``along="G C"``) and the kind of *y* (NumPy or
    torch). The result is ``y * weight + bias``, broadcast over every other axis. Either may be
    ``None``, as in PyTorch's ``F.layer_norm(x, shape, weight=None, bias=b)``: no scale (``y +
    bias``), no shift (``y * weight``), or neither (a copy of *y*). The result has the dtype
    that ``y * weight + bias`` would have; for float16 and bfloat16 it is computed in float32 and
    rounded once, as PyTorch's norm kernels do.
    """
    check_array(y, "y")
    spec = resolve(layout, y.shape, sizes)
    axes = spec.axes(along, what="along")
    want = tuple(spec.expanded_shape[a] for a in axes)
    bshape = [1] * len(spec.expanded_shape)
    for a in axes:
        bshape[a] = spec.expanded_shape[a]

    def place(p, what):
        if not is_array(p):
            raise ValueError(f"{what} must be None or an array of y's kind (NumPy or torch), "
                             f"got {type(p).__name__}")
        if is_torch(y) != is_torch(p):
            raise ValueError(f"{what} must be the same kind of array as y (NumPy or torch)")
        if tuple(p.shape) != want and prod(p.shape) != prod(want):
            raise ValueError(
                f"{what} has shape {tuple(p.shape)}, expected {want} "
                f"(one value per position of {along!r} in layout {layout!r})"
            )
        return p.reshape(bshape)

    if weight is None and bias is None:
        return copy(y)
    weight = None if weight is None else place(weight, "weight")
    bias = None if bias is None else place(bias, "bias")
    params = [p for p in (weight, bias) if p is not None]
    if is_torch(y):
        dtype = y.dtype
        for p in params:
            dtype = torch.promote_types(dtype, p.dtype)
    else:
        dtype = np.result_type(y, *params)
    # float16 and bfloat16: scale and shift in float32, rounded once to the result's dtype
    acc = acc_dtype(dtype)
    out = to_dtype(y.reshape(spec.expanded_shape), acc)
    if weight is not None:
        out = out * to_dtype(weight, acc)
    if bias is not None:
        out = out + to_dtype(bias, acc)
    return to_dtype(out, dtype).reshape(y.shape)
