"""The float32 experiment: how far the cumulative layer norm of a long float32 sequence with a
mean far from 0 drifts from its float64 value, per way of accumulating the running sums."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..._arrays import is_integer, torch
from ...interop import to_numpy
from .cumulative import cumulative_standardize

__all__ = ["long_sequence", "float32_error"]


def long_sequence(T: int, *, offset: float = 10.0, F: int = 4, seed: int = 8) -> np.ndarray:
    """A float32 sequence ``[1, T, F]`` of unit noise around *offset* (a mean far from 0)."""
    if not is_integer(T) or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    return _long_sequence(int(T), float(offset), F, seed).copy()


@lru_cache(maxsize=16)
def _long_sequence(T: int, offset: float, F: int, seed: int) -> np.ndarray:
    """:func:`long_sequence`, drawn once per argument set (read-only): the chapter's float32
    table asks for each length and offset six times, and the claims for 10^6 frames again."""
    rng = np.random.default_rng(seed)
    x = (offset + rng.normal(size=(1, T, F))).astype(np.float32)
    x.flags.writeable = False
    return x


@lru_cache(maxsize=16)
def _reference(T: int, offset: float) -> np.ndarray:
    """The float64 cumulative layer norm (shifted sums) of :func:`long_sequence`, computed once
    per length and offset (read-only)."""
    x = long_sequence(T, offset=offset).astype(np.float64)
    ref = cumulative_standardize(x, "B T F", over="T F", along="T", accumulate="shifted")
    ref.flags.writeable = False
    return ref


def float32_error(T: int, accumulate: str, *, offset: float = 10.0,
                  backend: str = "numpy") -> float:
    """Largest error, over all frames, of the float32 cumulative layer norm of
    :func:`long_sequence` against the same norm computed in float64 (shifted sums).

    *backend* ``"numpy"`` or ``"torch"`` chooses the library that computes the float32 side: their
    cumulative sums of float32 numbers round differently.
    """
    if backend not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}")
    x = long_sequence(T, offset=offset)
    layout = dict(layout="B T F", over="T F", along="T")
    ref = _reference(int(T), float(offset))
    x32 = torch.from_numpy(x) if backend == "torch" else x
    y = to_numpy(cumulative_standardize(x32, **layout, accumulate=accumulate))
    return float(np.abs(y - ref).max())
