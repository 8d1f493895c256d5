"""The affine step that follows standardization: ``y * weight + bias`` along named axes."""

from __future__ import annotations

from math import prod

from ._arrays import is_torch
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


def affine(y, layout: str, along, weight, bias=None, **sizes):
    """Scale and shift *y* with parameters that vary along the axes *along*, shared elsewhere.

    *weight* and *bias* have the shape :func:`affine_shape` gives (or the same number of
    elements, e.g. a flat ``[G*C]`` vector for ``along="G C"``) and the kind of *y* (NumPy or
    torch). The result is ``y * weight + bias``, broadcast over every other axis.
    """
    spec = resolve(layout, y.shape, sizes)
    axes = spec.axes(along, what="along")
    want = tuple(spec.expanded_shape[a] for a in axes)
    bshape = [1] * len(spec.expanded_shape)
    for a in axes:
        bshape[a] = spec.expanded_shape[a]

    def place(p, what):
        if is_torch(y) != is_torch(p):
            raise ValueError(f"{what} must be the same kind of array as y (NumPy or torch)")
        if tuple(p.shape) != want and prod(p.shape) != prod(want):
            raise ValueError(
                f"{what} has shape {tuple(p.shape)}, expected {want} "
                f"(one value per position of {along!r} in layout {layout!r})"
            )
        return p.reshape(bshape)

    out = y.reshape(spec.expanded_shape) * place(weight, "weight")
    if bias is not None:
        out = out + place(bias, "bias")
    return out.reshape(y.shape)
