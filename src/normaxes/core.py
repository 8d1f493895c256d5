"""The one primitive of the book: standardize an array over a named set of axes.

A *layout* names every dimension of an array, e.g. ``"B T F"`` or ``"N C H W"``. A parenthesised
group splits one dimension into several named axes, outer first, as in einops:
``"B T (G Fg)"`` with ``G=2`` reads a feature dimension of size 8 as 2 groups of 4 features.
*over* names the axes whose positions share one mean and one variance; every combination of the
remaining axes gets statistics of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import prod

import numpy as np

from ._arrays import (
    acc_dtype,
    check_array,
    check_mask,
    check_nonnegative,
    copy,
    is_integer,
    is_torch,
    row_slices,
    scalar,
    slice_buffer,
    sum_keep,
    sum_squares_keep,
    to_dtype,
    torch,
    where_zero,
)

__all__ = ["Spec", "parse_layout", "resolve", "standardize", "moments", "centered_moments",
           "stat_groups",
           "shared_with"]

# The layout language is einops' (names, parenthesised groups), but the parser is our own, on
# purpose: einops is not a dependency. Its parser (einops.parsing.ParsedExpression) is internal API
# and accepts what a layout must refuse ("...", anonymous axes "1", "()"), so its errors would not
# name the axis at fault; einops.reduce computes the same statistics in another order of float
# operations, so the stored outputs could move in the last digits. The pin was dropped (issue 9).
_TOKEN = re.compile(r"\(|\)|[A-Za-z_][A-Za-z0-9_]*|\S")


def parse_layout(layout: str) -> tuple[tuple[str, ...], ...]:
    """Split a layout string into one tuple of axis names per dimension.

    ``parse_layout("B T (G Fg)")`` gives ``(("B",), ("T",), ("G", "Fg"))``.
    """
    if not isinstance(layout, str) or not layout.strip():
        raise ValueError(f"layout must be a non-empty string of axis names, got {layout!r}")
    dims: list[tuple[str, ...]] = []
    group: list[str] | None = None
    for tok in _TOKEN.findall(layout):
        if tok == "(":
            if group is not None:
                raise ValueError(f"layout {layout!r}: nested parentheses are not allowed")
            group = []
        elif tok == ")":
            if group is None:
                raise ValueError(f"layout {layout!r}: ')' without a matching '('")
            if len(group) < 2:
                raise ValueError(
                    f"layout {layout!r}: a parenthesised group must split a dimension into at "
                    f"least two named axes, got ({' '.join(group)})"
                )
            dims.append(tuple(group))
            group = None
        elif not (tok[0].isalpha() or tok[0] == "_"):
            raise ValueError(f"layout {layout!r}: {tok!r} is not an axis name")
        elif group is not None:
            group.append(tok)
        else:
            dims.append((tok,))
    if group is not None:
        raise ValueError(f"layout {layout!r}: '(' is never closed")
    names = [n for d in dims for n in d]
    seen = set()
    for n in names:
        if n in seen:
            raise ValueError(f"layout {layout!r}: duplicate axis name {n!r}")
        seen.add(n)
    return tuple(dims)


@dataclass(frozen=True)
class Spec:
    """A layout resolved against a concrete shape: every named axis with its size."""

    layout: str
    dims: tuple[tuple[str, ...], ...]
    shape: tuple[int, ...]
    sizes: dict

    @property
    def names(self) -> tuple[str, ...]:
        """All axis names, outer first, with groups expanded."""
        return tuple(n for d in self.dims for n in d)

    @property
    def expanded_shape(self) -> tuple[int, ...]:
        """The shape with every group split into its named axes."""
        return tuple(self.sizes[n] for n in self.names)

    def axes(self, over: str | tuple | list, *, what: str = "over") -> tuple[int, ...]:
        """Positions in :attr:`expanded_shape` of the names in *over*."""
        names = over.split() if isinstance(over, str) else list(over)
        if not names:
            raise ValueError(
                f"{what} is empty: name at least one axis of the layout {self.layout!r}"
            )
        out = []
        for n in names:
            if n not in self.names:
                raise ValueError(
                    f"{what} names axis {n!r}, which is not in the layout {self.layout!r} "
                    f"(its axes are {' '.join(self.names)})"
                )
            i = self.names.index(n)
            if i in out:
                raise ValueError(f"{what} names axis {n!r} twice")
            out.append(i)
        return tuple(sorted(out))


def resolve(layout: str, shape, sizes: dict | None = None) -> Spec:
    """Resolve *layout* against *shape*, inferring one unknown size per parenthesised group."""
    dims = parse_layout(layout)
    shape = tuple(int(s) for s in shape)
    sizes = dict(sizes or {})
    if len(dims) != len(shape):
        raise ValueError(
            f"layout {layout!r} names {len(dims)} dimensions but x has {len(shape)} "
            f"(shape {shape})"
        )
    all_names = {n for d in dims for n in d}
    for n, v in sizes.items():
        if n not in all_names:
            raise ValueError(f"size {n}={v!r} was given, but {n!r} is not an axis of {layout!r}")
        if not is_integer(v) or v < 1:
            raise ValueError(f"size {n}={v!r} must be a positive integer")
    out: dict[str, int] = {}
    for i, (names, d) in enumerate(zip(dims, shape, strict=True)):
        if len(names) == 1:
            n = names[0]
            if n in sizes and sizes[n] != d:
                raise ValueError(
                    f"size {n}={sizes[n]} was given, but dimension {i} ({n}) of x has size {d}"
                )
            out[n] = d
            continue
        text = "(" + " ".join(names) + ")"
        unknown = [n for n in names if n not in sizes]
        known = prod(int(sizes[n]) for n in names if n in sizes)
        if len(unknown) > 1:
            choice = " or ".join(f"{n}=..." for n in unknown) if len(names) == 2 else (
                f"sizes for all but one of {', '.join(unknown)}")
            raise ValueError(
                f"layout group {text} (dimension {i}, size {d}): missing size for "
                f"{' and '.join(map(repr, unknown))}; pass {choice}"
            )
        if d % known != 0:
            given = " * ".join(f"{n}={sizes[n]}" for n in names if n in sizes)
            raise ValueError(
                f"size {given} does not divide dimension {i} of x, of size {d}, "
                f"in layout group {text}"
            )
        if not unknown and known != d:
            given = " * ".join(f"{n}={sizes[n]}" for n in names)
            raise ValueError(
                f"sizes {given} = {known} do not match dimension {i} of x, of size {d}, "
                f"in layout group {text}"
            )
        for n in names:
            out[n] = int(sizes[n]) if n in sizes else d // known
    return Spec(layout=layout, dims=dims, shape=shape, sizes=out)


def standardize(x, layout: str, over, *, eps: float = 1e-5, mask=None, center: bool = True,
                **sizes):
    r"""Standardize *x* over the named axes *over*.

    Every position of *x* belongs to exactly one statistics set: the positions that agree on all
    axes *not* in *over*. Each set gets its mean :math:`\mu` and **biased** variance
    :math:`\sigma^2`, and ``y = (x - mu) / sqrt(sigma^2 + eps)``. With ``center=False`` (RMS
    normalization) nothing is subtracted and the mean of squares :math:`\rho^2` takes the place
    of the variance: ``y = x / sqrt(rho^2 + eps)``. There is no affine step here (see
    :func:`normaxes.affine`).

    Parameters
    ----------
    x
        NumPy array or torch tensor of floating point numbers. The result has the same type,
        shape, dtype (and device).
    layout
        One axis name per dimension of *x*, separated by spaces, e.g. ``"B T F"`` or
        ``"N C H W"``; ``"B T (G Fg)"`` splits the last dimension into ``G`` groups of ``Fg``.
    over
        The axis names whose positions share one mean and variance, e.g. ``"T F"``.
    eps
        A finite number >= 0 (Python or NumPy, e.g. ``np.finfo(np.float32).eps``), added to the
        variance (the mean of squares, without centering) before the square root, in the dtype
        the statistics are computed in (see Notes).
    mask
        Optional boolean array of the same kind as *x* and of the **same rank**, broadcastable to
        its shape (e.g. ``[B, T, 1]`` for ``[B, T, F]``; a ``[B, T]`` mask is refused with the fix
        ``mask[..., None]``, because broadcasting would right-align it); ``True`` marks real
        entries. Statistics use real entries only; the output is 0 at masked entries and in any
        statistics set without a real entry. Masked entries never reach a sum, in the forward or
        the backward pass: NaN or inf in padding leave the output and the gradient at real entries
        finite, and a set without real entries has output 0 and gradient 0 even with ``eps=0``.
    center
        ``True`` (default): subtract the mean. ``False``: RMS normalization, no mean at all.
    sizes
        Sizes of axes inside parenthesised groups, all but one per group, e.g. ``G=2``.

    Raises
    ------
    ValueError
        With a message that names the axis, size or argument at fault.

    Notes
    -----
    **Precision, against PyTorch.** As PyTorch's CPU kernels do, float16 and bfloat16 inputs are
    standardized in float32 (their "opmath" type) and the result is rounded once to the input
    dtype, so sums do not overflow and a small ``eps`` such as ``1e-8`` (0 in float16) still
    counts; float32 and float64 are computed in their own dtype, and a NumPy ``eps`` does not
    change the dtype (float32 in, float32 out). The statistics come from two passes (the mean
    from a sum, the variance from the sum of squares of ``x - mean``), not from PyTorch's fused
    kernels, so results differ from ``F.layer_norm``, ``F.group_norm``, ``F.batch_norm`` and
    ``F.instance_norm`` in the last bits. On PyTorch's own OpInfo samples
    (``tests/test_opinfo.py``) they pass PyTorch's rule for an alternative implementation: in
    float32 and float64 within ``torch.testing.assert_close``'s default tolerances of PyTorch's
    output; in float16 and bfloat16 no farther from the float64 result than PyTorch's own
    kernel, plus ``1e-5``. One difference remains, in float16 and bfloat16 only: followed by
    :func:`~normaxes.affine`, the output is rounded twice (after ``standardize`` and after the
    affine step) where PyTorch's fused kernels round once, so the error can be larger by one unit
    in the last place of the output (on the samples, e.g. bfloat16 ``instance_norm`` with a
    weight: largest error 0.075 against PyTorch's 0.060; float16 ``group_norm``: 0.00392 against
    0.00390). To round once, standardize and scale in float32 and cast:
    ``affine(standardize(x.float(), ...), ...).half()``. ``eps`` must be >= 0: PyTorch accepts a
    negative ``eps`` (its samples use ``-0.5``), which can take the square root of a negative
    number; ``standardize`` refuses it.

    **Memory and speed.** A large contiguous torch tensor whose first axis is not in *over*
    (Layer, Group, Instance and RMS normalization with the batch axis first), without a mask and
    without autograd recording, is standardized one slice of its first axis at a time, with the
    same operations on the same numbers, so the result is bitwise the one of the whole tensor at
    once (checked with 1 to 8 threads): a call allocates the output and one slice (about 1.15
    times the input in all, against 2 times without slices), and each slice is reread from the
    cache. ``make bench`` compares time and memory with PyTorch's kernels.

    Empty inputs give an empty result; :func:`~normaxes.moments` of a set without entries is mean 0,
    variance 0, count 0 (PyTorch's ``mean`` would give NaN), so that a batch without real entries
    can leave running statistics unchanged (see :func:`normaxes.running.running_update`).

    Examples
    --------
    Layer Norm per frame and Group Norm on a sequence ``[B, T, F]``::

        standardize(x, "B T F", over="F")
        standardize(x, "B T (G Fg)", over="T Fg", G=2)

    RMS normalization per frame (RMSNorm, as in T5 and LLaMA, before its gain)::

        standardize(x, "B T F", over="F", center=False)
    """
    spec, axes = _checked(x, layout, over, eps, mask, sizes, center)
    if mask is None:
        xe = x.reshape(spec.expanded_shape)
        bounds = row_slices(xe, axes)
        if bounds is not None:
            return _standardize_slices(xe, spec, axes, eps, center, bounds).reshape(x.shape)
    d, m, _, var, count = _centered(x, spec, axes, mask, center)
    e = scalar(eps, d.dtype)
    if m is None:
        denom = var + e
    elif is_torch(x):
        denom = torch.where(count > 0, var + e, torch.ones((), dtype=var.dtype, device=var.device))
    else:
        denom = np.where(count > 0, var + e, var.dtype.type(1))
    # d (x - mean, or x without centering; 0 at masked entries) is a fresh array unless it is x
    # itself (no centering, no mask, no cast): divide it in place unless it is x or autograd
    # needs it, so that the output is the only full-size array kept (the squares of d are a
    # second one while the variance is summed, except in slices, see sum_squares_keep)
    fresh = center or m is not None
    if is_torch(d):
        if not fresh or (d.requires_grad and torch.is_grad_enabled()):
            y = d / torch.sqrt(denom)
        else:
            y = d.div_(torch.sqrt(denom))
    elif not fresh:
        y = d / np.sqrt(denom)
    else:
        d /= np.sqrt(denom)
        y = d
    return to_dtype(y, x.dtype).reshape(x.shape)


def centered_moments(x, layout, over, *, eps=0.0, mask=None, sizes=None, center=True):
    """(d, the mask or None, mean, variance, count) in the expanded layout, in the accumulation
    dtype: d is ``x - mean`` (``x`` with ``center=False``, and then *var* is the mean of squares,
    about 0), with 0 at masked entries (so no NaN or inf of the padding reaches a sum or a
    gradient).

    Each statistic takes one pass: the mean from a sum, the variance from the sum of squares of
    d; d is the one full-size array kept, and :func:`standardize` divides it in place."""
    spec, axes = _checked(x, layout, over, eps, mask, sizes, center)
    return _centered(x, spec, axes, mask, center)


def _checked(x, layout, over, eps, mask, sizes, center):
    """The resolved layout and the reduced axes, after checking every argument."""
    check_array(x)
    check_nonnegative("eps", eps)
    if not isinstance(center, bool):
        raise ValueError(f"center must be True or False, got {center!r}")
    spec = resolve(layout, x.shape, sizes)
    axes = spec.axes(over)
    if mask is not None:
        check_mask(mask, x)
    return spec, axes


def _standardize_slices(xe, spec, axes, eps, center, bounds):
    """:func:`standardize` without a mask of *xe* (x in the expanded layout), one slice of the
    first dimension at a time (see :func:`~normaxes._arrays.row_slices`): the same operations on
    the same numbers as the whole array takes below, so bitwise the same result, while each slice
    is still in the cache; the output and a buffer of one slice are all a call allocates."""
    acc = acc_dtype(xe)
    count = prod(spec.expanded_shape[a] for a in axes)
    e = scalar(eps, acc)
    out = torch.empty_like(xe)
    squares = slice_buffer(xe, bounds, acc)
    # with a float16 or bfloat16 x, each slice is standardized in float32, then rounded into out
    scratch = None if acc == xe.dtype else slice_buffer(xe, bounds, acc)
    for lo, hi in bounds:
        n = hi - lo
        xs = to_dtype(xe[lo:hi], acc)
        ys = out[lo:hi] if scratch is None else scratch[:n]
        if center:
            mean = sum_keep(xs, axes) / count
            d = torch.sub(xs, mean, out=ys)
        else:
            d = xs
        var = sum_keep(torch.mul(d, d, out=squares[:n]), axes) / count
        torch.div(d, torch.sqrt(var + e), out=ys)
        if scratch is not None:
            out[lo:hi] = ys
    return out


def _centered(x, spec, axes, mask, center):
    acc = acc_dtype(x)
    xa = to_dtype(x.reshape(spec.expanded_shape), acc)
    tt = is_torch(x)

    def total(a):
        return sum_keep(a, axes)

    def sumsq(a):
        # (a * a).sum(), not torch.linalg.vector_norm(a) ** 2, which needs no full-size
        # temporary but rounds differently: it moved three of the book's printed Group Norm
        # differences from <= 1e-6 to <= 1e-5 (claims gn-seq-nn-module, gn-seq-keras,
        # gn-affine-seq-keras); sum_squares_keep gives the same bits in slices instead
        return sum_squares_keep(a, axes)

    if mask is None:
        m = None
        count = prod(spec.expanded_shape[a] for a in axes)
        if count == 0 or (xa.numel() if tt else xa.size) == 0:
            kept = tuple(1 if a in axes else n for a, n in enumerate(spec.expanded_shape))
            mean = torch.zeros(kept, dtype=acc, device=x.device) if tt else np.zeros(kept, acc)
            return copy(xa), m, mean, copy(mean), count
        mean = total(xa) / count
        d = (xa - mean) if center else xa
        var = sumsq(d) / count
    else:
        if tt:
            m = mask.to(x.device).expand(x.shape).reshape(spec.expanded_shape)
            count = m.sum(dim=axes, keepdim=True, dtype=acc)
            safe = count.clamp(min=1)
        else:
            m = np.broadcast_to(mask, x.shape).reshape(spec.expanded_shape)
            count = total(m.astype(acc))
            safe = np.maximum(count, 1)
        mean = total(where_zero(m, xa)) / safe
        d = where_zero(m, (xa - mean) if center else xa)
        var = sumsq(d) / safe
    return d, m, mean, var, count


def moments(x, layout: str, over, *, mask=None, **sizes):
    """Mean, biased variance and count of every statistics set of ``standardize(x, layout, over)``.

    The three results keep the reduced axes of the expanded layout as size-1 dimensions (the
    count is a plain number without *mask*). With *mask*, only real entries count. A set without
    entries (real ones, with a mask) has mean 0, variance 0 and count 0. Mean and variance have
    x's dtype; for float16 and bfloat16 they are computed in float32 and rounded once, and a
    count array is float32 (float16 cannot count past 2048).
    """
    _, _, mean, var, count = centered_moments(x, layout, over, mask=mask, sizes=sizes)
    return to_dtype(mean, x.dtype), to_dtype(var, x.dtype), count


def stat_groups(layout: str, over, shape, **sizes) -> np.ndarray:
    """Label every position of an array of *shape* with the index of its statistics set.

    Two positions share a mean and a variance under ``standardize(x, layout, over)`` exactly when
    they carry the same label. Labels run from 0 in the order of the axes not in *over*.
    """
    spec = resolve(layout, shape, sizes)
    axes = spec.axes(over)
    full = spec.expanded_shape
    kept = [a for a in range(len(full)) if a not in axes]
    idx = np.indices(full)
    if kept:
        labels = np.ravel_multi_index([idx[a] for a in kept], [full[a] for a in kept])
    else:
        labels = np.zeros(full, dtype=np.intp)
    return labels.reshape(spec.shape)


def shared_with(layout: str, over, shape, index=None, **sizes) -> np.ndarray:
    """Boolean array of *shape*: the positions that share their statistics with *index*.

    *index* is a position of the array (a tuple, one entry per dimension); by default the first
    position ``(0, 0, ...)``.
    """
    labels = stat_groups(layout, over, shape, **sizes)
    if index is None:
        index = (0,) * labels.ndim
    index = tuple(index)
    if len(index) != labels.ndim:
        raise ValueError(
            f"index {index} has {len(index)} entries but the array has {labels.ndim} dimensions"
        )
    return labels == labels[index]
