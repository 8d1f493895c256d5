"""Streaming: which norms are causal in time, and the cumulative norm that is.

A norm can run on a stream, one frame at a time, only if its output at frame ``t`` depends on frames
``<= t`` alone. :func:`future_leak` measures that by perturbing the future and comparing the past;
:func:`batch_leak` does the same across the sequences of a batch. :func:`cumulative_standardize` is
:func:`~normaxes.standardize` whose statistics at position ``t`` of an axis use positions ``<= t``
only (Conv-TasNet's cumulative layer norm, cLN, is ``over="T F", along="T"``). The ``conv_tasnet_*``
and ``asteroid_*`` functions are our transcriptions, operation by operation, of the reference code
the book compares against (the Conv-TasNet authors' ``utility/models.py`` at commit ``ae9a676``;
asteroid's ``asteroid/masknn/norms.py``, which is not a dependency of this package).
:func:`influence` measures a statistics set that is not a ``(layout, over)`` set;
:func:`normaxes.figures.draw_cubes` draws it.
"""

from __future__ import annotations

from math import prod

import numpy as np

from .core import _check_array, _is_torch, resolve
from .frameworks import to_numpy

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

__all__ = ["ACCUMULATE", "future_leak", "causal_frames", "batch_leak", "cumulative_standardize",
           "prefix_mask", "conv_tasnet_cln", "asteroid_cum_ln", "asteroid_cum_ln_0_6_0",
           "asteroid_glob_ln", "long_sequence", "float32_error", "influence"]

ACCUMULATE = ("naive", "shifted", "float64")
"""How :func:`cumulative_standardize` accumulates its running sums."""

_FLOOR = {np.dtype(np.float16): 1e-3, np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}


# --- causality ------------------------------------------------------------------------------------

def _check_sequence(x, what="x"):
    _check_array(x)
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
    return torch.from_numpy(n).to(x.device) if _is_torch(x) else n


def future_leak(norm, x, *, seed: int = 0) -> np.ndarray:
    """For each frame ``t``: how much the outputs at frames ``<= t`` change when frames ``> t`` change.

    *norm* is a callable on sequences ``[B, T, F]`` (NumPy or torch, as *x*) that returns an array
    of the same shape. For every ``t`` the frames after ``t`` of every sequence get seeded noise
    added, and the largest absolute change of ``norm(x)[:, :t+1]`` is recorded. Returns a float64
    array of length ``T``; a causal norm gives zeros (the last entry is 0 by construction: nothing
    lies after the last frame).
    """
    _check_sequence(x)
    T = x.shape[1]
    if T < 2:
        raise ValueError(f"x must have at least 2 frames (T) to perturb a future, got T={T}")
    y = _call(norm, x)
    noise = _noise(x, seed)
    leak = np.zeros(T)
    for t in range(T - 1):
        x2 = x.clone() if _is_torch(x) else x.copy()
        x2[:, t + 1:] = x2[:, t + 1:] + noise[:, t + 1:]
        leak[t] = np.abs(_call(norm, x2)[:, :t + 1] - y[:, :t + 1]).max()
    return leak


def causal_frames(norm, x, *, tol: float | None = None, seed: int = 0) -> np.ndarray:
    """Boolean array ``[T]``: True where the outputs at frames ``<= t`` ignore frames ``> t``.

    A change counts when it exceeds *tol* (default: 1e-6 for float32 inputs, 1e-12 for float64).
    The first False, if any, is the first frame whose past output depends on the future.
    """
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0):
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    leak = future_leak(norm, x, seed=seed)
    if tol is None:
        tol = _FLOOR.get(np.dtype(to_numpy(x[:1, :1, :1]).dtype), 1e-12)
    return leak <= tol


def batch_leak(norm, x, *, seed: int = 0, index: int = 0) -> float:
    """How much sequence *index*'s output changes when every other sequence of the batch changes.

    0 means the norm treats each sequence on its own; Batch Norm in training mode does not.
    """
    _check_sequence(x)
    B = x.shape[0]
    if B < 2:
        raise ValueError(f"x must hold at least 2 sequences (B) to perturb the others, got B={B}")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < B:
        raise ValueError(f"index must be a sequence number in [0, B={B}), got {index!r}")
    y = _call(norm, x)
    noise = _noise(x, seed)
    others = [b for b in range(B) if b != index]
    x2 = x.clone() if _is_torch(x) else x.copy()
    x2[others] = x2[others] + noise[others]
    return float(np.abs(_call(norm, x2)[index] - y[index]).max())


# --- the cumulative norm --------------------------------------------------------------------------

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
        Added to the variance before the square root.
    accumulate
        ``"naive"``: the sums in x's dtype, as the reference implementations do. ``"shifted"``:
        the same after subtracting the mean of the first step of each statistics set (the variance
        does not change under a shift; the cancellation in :math:`\overline{x^2} - \bar x^2` does).
        ``"float64"``: the sums and the normalization in float64, the result cast back.

    Raises
    ------
    ValueError
        With a message that names the axis, size or argument at fault.
    """
    _check_array(x)
    if accumulate not in ACCUMULATE:
        raise ValueError(f"accumulate must be one of {ACCUMULATE}, got {accumulate!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps < 0:
        raise ValueError(f"eps must be a number >= 0, got {eps!r}")
    spec = resolve(layout, x.shape, sizes)
    over_axes = spec.axes(over)
    axes = _along_axes(spec, over_axes, along)
    full = spec.expanded_shape
    a0, k = axes[0], len(axes)
    L = prod(full[a] for a in axes)
    merged = full[:a0] + (L,) + full[a0 + k:]
    rest = tuple(a if a < a0 else a - k + 1 for a in over_axes if a not in axes)
    m = prod(full[a] for a in over_axes if a not in axes)  # entries per step and statistics set
    tt = _is_torch(x)
    xe = x.reshape(merged)
    if accumulate == "float64":
        xe = xe.to(torch.float64) if tt else xe.astype(np.float64)

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
    if any(not 0 <= i < s for i, s in zip(index, sub)):
        raise ValueError(f"index {index} lies outside the sizes {sub} of along_dims {along_dims}")
    order = np.arange(prod(sub)).reshape(sub) <= np.ravel_multi_index(index, sub)
    view = [1] * len(shape)
    for d, s in zip(along_dims, sub):
        view[d] = s
    return np.broadcast_to(order.reshape(view), shape).copy()


def long_sequence(T: int, *, offset: float = 10.0, F: int = 4, seed: int = 8) -> np.ndarray:
    """A float32 sequence ``[1, T, F]`` of unit noise around *offset* (a mean far from 0)."""
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    rng = np.random.default_rng(seed)
    return (offset + rng.normal(size=(1, T, F))).astype(np.float32)


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
    ref = cumulative_standardize(x.astype(np.float64), **layout, accumulate="shifted")
    x32 = torch.from_numpy(x) if backend == "torch" else x
    y = to_numpy(cumulative_standardize(x32, **layout, accumulate=accumulate))
    return float(np.abs(y - ref).max())


# --- re-implementations of the reference code (channels first, [B, C, T]) -----------------------

def _affine_cf(y, gain, bias):
    """Per-channel gain and bias on a channels-first tensor [B, C, ...]."""
    view = (1, -1) + (1,) * (y.ndim - 2)
    return y * gain.reshape(view) + bias.reshape(view)


def conv_tasnet_cln(x, gain, bias, eps: float = 1e-8):
    """Our transcription of the cumulative layer norm (class ``cLN``) of the Conv-TasNet authors'
    code (naplab/Conv-TasNet, ``utility/models.py``, commit ``ae9a676``), on ``[B, C, T]`` tensors.

    Per frame: the sum and the sum of squares over channels; their cumulative sums over time; the
    count ``C * (t + 1)``; ``var = (cum_pow_sum - 2 * mean * cum_sum) / count + mean**2``.
    """
    _check_array(x)
    B, C, T = x.shape
    cum_sum = torch.cumsum(x.sum(1), dim=1)  # [B, T]
    cum_pow_sum = torch.cumsum(x.pow(2).sum(1), dim=1)
    count = torch.arange(C, C * (T + 1), C, dtype=x.dtype).view(1, -1)
    mean = cum_sum / count
    var = (cum_pow_sum - 2 * mean * cum_sum) / count + mean.pow(2)
    std = (var + eps).sqrt()
    return _affine_cf((x - mean.unsqueeze(1)) / std.unsqueeze(1), gain, bias)


def asteroid_cum_ln(x, gamma, beta, eps: float = 1e-8):
    """Our transcription of asteroid's ``CumLN`` as fixed by asteroid PR #649 (issue #648) on
    ``[B, C, T]``: ``var = cum_pow_sum / cnt - cum_mean**2``, eps 1e-8. (asteroid's alias for it is
    ``cgLN``; its ``cLN`` is ``ChanLN``, a per-frame layer norm over channels.)"""
    _check_array(x)
    B, C, T = x.shape
    cum_sum = torch.cumsum(x.sum(1, keepdim=True), dim=-1)  # [B, 1, T]
    cum_pow_sum = torch.cumsum(x.pow(2).sum(1, keepdim=True), dim=-1)
    cnt = torch.arange(C, C * (T + 1), C, dtype=x.dtype).view(1, 1, -1)
    cum_mean = cum_sum / cnt
    cum_var = cum_pow_sum / cnt - cum_mean.pow(2)
    return _affine_cf((x - cum_mean) / (cum_var + eps).sqrt(), gamma, beta)


def asteroid_cum_ln_0_6_0(x, gamma, beta, eps: float = 1e-8):
    """Our transcription of asteroid's ``CumLN`` before the fix of issue #648 (as at commit
    ``140733b``): the running sum of squares is not divided by the count,
    ``var = cum_pow_sum - cum_mean**2``. Kept to document that history."""
    _check_array(x)
    B, C, T = x.shape
    cum_sum = torch.cumsum(x.sum(1, keepdim=True), dim=-1)
    cum_pow_sum = torch.cumsum(x.pow(2).sum(1, keepdim=True), dim=-1)
    cnt = torch.arange(C, C * (T + 1), C, dtype=x.dtype).view(1, 1, -1)
    cum_mean = cum_sum / cnt
    cum_var = cum_pow_sum - cum_mean.pow(2)
    return _affine_cf((x - cum_mean) / (cum_var + eps).sqrt(), gamma, beta)


def asteroid_glob_ln(x, gamma, beta, eps: float = 1e-8):
    """asteroid's ``GlobLN`` (Conv-TasNet's gLN) on ``[B, C, ...]``: mean and biased variance over
    every dimension but the batch, per-channel gamma and beta, eps 1e-8."""
    _check_array(x)
    dims = list(range(1, x.ndim))
    mean = x.mean(dim=dims, keepdim=True)
    var = (x - mean).pow(2).mean(dim=dims, keepdim=True)
    return _affine_cf((x - mean) / (var + eps).sqrt(), gamma, beta)


# --- the statistics set, measured, and drawn ------------------------------------------------------

def influence(norm, x, index) -> np.ndarray:
    """Boolean array of x's shape: the inputs that the output at position *index* depends on.

    Computed with autograd in float64: True where ``d norm(x)[index] / d x`` is not zero. For a
    normalization this is the statistics set of *index* (its mean and variance use exactly those
    inputs), whatever the norm's implementation.
    """
    if torch is None:  # pragma: no cover
        raise ValueError("influence needs torch")
    _check_array(x)
    index = tuple(index)
    if len(index) != x.ndim or any(not 0 <= i < s for i, s in zip(index, x.shape)):
        raise ValueError(f"index {index} is not a position of x of shape {tuple(x.shape)}")
    xt = torch.as_tensor(to_numpy(x), dtype=torch.float64).clone().requires_grad_(True)
    y = norm(xt)
    if tuple(y.shape) != tuple(xt.shape):
        raise ValueError(f"norm must return an array of the input's shape {tuple(xt.shape)}, "
                         f"got shape {tuple(y.shape)}")
    (grad,) = torch.autograd.grad(y[index], xt)
    return (grad != 0).numpy()


