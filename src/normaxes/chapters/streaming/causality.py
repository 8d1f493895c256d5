"""Causality probes: does a norm's output at frame ``t`` depend on later frames, or on the other
sequences of the batch?

A norm can run on a stream, one frame at a time, only if its output at frame ``t`` depends on frames
``<= t`` alone. :func:`future_leak` measures that by perturbing the future and comparing the past;
:func:`batch_leak` does the same across the sequences of a batch.
"""

from __future__ import annotations

import numpy as np

from ..._arrays import FLOOR, check_array, check_nonnegative, copy, is_integer, like, torch
from ...interop import to_numpy

__all__ = ["future_leak", "causal_frames", "causal_from_leak", "batch_leak", "check_sequence"]


def check_sequence(x, what="x"):
    """Raise unless *x* is a floating-point sequence ``[B, T, F]`` (NumPy or torch)."""
    check_array(x)
    if x.ndim != 3:
        raise ValueError(f"{what} must be a sequence [B, T, F] with 3 dimensions, got {x.ndim} "
                         f"(shape {tuple(x.shape)})")


def _call(norm, x):
    """``norm(x)`` as a float64 NumPy array of x's shape, without building an autograd graph."""
    if torch is not None:
        with torch.no_grad():
            y = norm(x)
    else:  # pragma: no cover
        y = norm(x)
    y = np.asarray(to_numpy(y), dtype=np.float64)
    if y.shape != tuple(x.shape):
        raise ValueError(f"norm must return an array of the input's shape {tuple(x.shape)}, "
                         f"got shape {y.shape}")
    return y


def _noise(x, seed):
    """Seeded perturbation of x's kind and dtype, of the size of x's spread (at least 1)."""
    rng = np.random.default_rng(seed)
    xn = to_numpy(x).astype(np.float64)
    scale = max(float(xn.std()), 1.0)
    n = (scale * rng.normal(size=xn.shape)).astype(to_numpy(x).dtype)
    return like(n, x)


def future_leak(norm, x, *, seed: int = 0) -> np.ndarray:
    """For each frame ``t``: how much the outputs at frames ``<= t`` change when frames ``> t``
    change.

    *norm* is a callable on sequences ``[B, T, F]`` (NumPy or torch, as *x*) that returns an array
    of the same shape. For every ``t`` the frames after ``t`` of every sequence get seeded noise
    added, and the largest absolute change of ``norm(x)[:, :t+1]`` is recorded. Returns a float64
    array of length ``T``; a causal norm gives zeros (the last entry is 0 by construction: nothing
    lies after the last frame).
    """
    check_sequence(x)
    T = x.shape[1]
    if T < 2:
        raise ValueError(f"x must have at least 2 frames (T) to perturb a future, got T={T}")
    y = _call(norm, x)
    noise = _noise(x, seed)
    leak = np.zeros(T)
    for t in range(T - 1):
        x2 = copy(x)
        x2[:, t + 1:] = x2[:, t + 1:] + noise[:, t + 1:]
        leak[t] = np.abs(_call(norm, x2)[:, :t + 1] - y[:, :t + 1]).max()
    return leak


def causal_frames(norm, x, *, tol: float | None = None, seed: int = 0) -> np.ndarray:
    """Boolean array ``[T]``: True where the outputs at frames ``<= t`` ignore frames ``> t``.

    A change counts when it exceeds *tol* (default: 1e-6 for float32 inputs, 1e-12 for float64).
    The first False, if any, is the first frame whose past output depends on the future.
    """
    if tol is not None:
        check_nonnegative("tol", tol)
    return causal_from_leak(future_leak(norm, x, seed=seed), x, tol)


def causal_from_leak(leak, x, tol: float | None = None) -> np.ndarray:
    """:func:`causal_frames` from the :func:`future_leak` *leak* of a norm on *x*, already
    measured (so that a caller who needs both runs the probe once)."""
    if tol is None:
        tol = FLOOR.get(np.dtype(to_numpy(x[:1, :1, :1]).dtype), 1e-12)
    return np.asarray(leak) <= tol


def batch_leak(norm, x, *, seed: int = 0, index: int = 0) -> float:
    """How much sequence *index*'s output changes when every other sequence of the batch changes.

    0 means the norm treats each sequence on its own; Batch Norm in training mode does not.
    """
    check_sequence(x)
    B = x.shape[0]
    if B < 2:
        raise ValueError(f"x must hold at least 2 sequences (B) to perturb the others, got B={B}")
    if not is_integer(index) or not 0 <= index < B:
        raise ValueError(f"index must be a sequence number in [0, B={B}), got {index!r}")
    y = _call(norm, x)
    noise = _noise(x, seed)
    others = [b for b in range(B) if b != index]
    x2 = copy(x)
    x2[others] = x2[others] + noise[others]
    return float(np.abs(_call(norm, x2)[index] - y[index]).max())
