"""Internal: the one place that tells NumPy arrays from torch tensors, and the argument checks.

Every other module asks :func:`is_torch` (or uses the helpers below) instead of testing
``isinstance(x, torch.Tensor)`` itself, and checks its numeric arguments with the predicates here,
so each check and its error message are written once. Nothing here is public API; the names carry
no leading underscore so that modules of the package may import them.
"""

from __future__ import annotations

import numpy as np

try:  # torch is a dependency of the book, but the primitive also runs on NumPy alone
    import torch
except ImportError:  # pragma: no cover
    torch = None

FLOOR = {np.dtype(np.float16): 1e-3, np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}
"""The smallest difference worth printing per dtype (a few units of its rounding error): the
ledger's bound for an equality, and the default tolerance of the causality probes."""


# --- array kinds ----------------------------------------------------------------------------------

def is_torch(x) -> bool:
    """True for a torch tensor."""
    return torch is not None and isinstance(x, torch.Tensor)


def is_array(x) -> bool:
    """True for a NumPy array or a torch tensor."""
    return isinstance(x, np.ndarray) or is_torch(x)


def check_array(x, what: str = "x"):
    """Raise unless *x* is a NumPy array or a torch tensor of floating-point numbers."""
    if is_torch(x):
        if not x.is_floating_point():
            raise ValueError(f"{what} must hold floating-point numbers, got dtype {x.dtype}")
    elif isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            raise ValueError(f"{what} must hold floating-point numbers, got dtype {x.dtype}")
    else:
        raise ValueError(f"{what} must be a NumPy array or a torch tensor, got {type(x).__name__}")


def is_bool_array(m) -> bool:
    """True for a boolean NumPy array or boolean torch tensor."""
    if is_torch(m):
        return m.dtype == torch.bool
    return isinstance(m, np.ndarray) and m.dtype == np.bool_


def check_mask(mask, x):
    """Raise unless *mask* is a boolean array of *x*'s kind, of *x*'s rank, that broadcasts to
    *x*'s shape.

    The rank must match: size-1 dimensions are how a mask says "all of this axis". A mask of
    lower rank would be right-aligned by broadcasting, so a ``[B, T]`` mask on ``[B, T, F]`` data
    would silently be read as a mask over ``[T, F]`` when ``B == 1`` and ``T == F``."""
    if is_torch(x):
        if not is_torch(mask):
            raise ValueError(
                f"mask must be a torch tensor like x, got {type(mask).__name__}"
            )
    elif not isinstance(mask, np.ndarray):
        raise ValueError(f"mask must be a NumPy array like x, got {type(mask).__name__}")
    if not is_bool_array(mask):
        raise ValueError(f"mask must be boolean (True marks real entries), got dtype {mask.dtype}")
    xs, ms = tuple(x.shape), tuple(mask.shape)
    if len(ms) != len(xs):
        k = len(xs) - len(ms)
        nones = ", ".join(["None"] * k)
        if k > 0 and ms == xs[:len(ms)]:
            fix = f"pass mask[..., {nones}] to mark whole trailing axes"
        elif k > 0 and ms == xs[k:]:
            fix = f"pass mask[{nones}, ...] to mark the same entries of every leading position"
        else:
            fix = "give it size-1 dimensions for the axes it does not mark"
        raise ValueError(
            f"mask of shape {ms} has {len(ms)} dimension(s) but x of shape {xs} has {len(xs)}: "
            f"{fix} (a mask of another rank is refused: broadcasting would right-align it, and "
            "e.g. a [B, T] mask on [B, T, F] data would be read over [T, F])"
        )
    try:
        ok = np.broadcast_shapes(ms, xs) == xs
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"mask of shape {ms} does not broadcast to x of shape {xs}")


# --- operations that are spelled differently in NumPy and torch --------------------------------

def sqrt(a):
    """Elementwise square root of an array of either kind."""
    return torch.sqrt(a) if is_torch(a) else np.sqrt(a)


def acc_dtype(x):
    """The dtype in which statistics of *x* (an array, or a dtype) are accumulated: float32 for
    float16 and bfloat16 (PyTorch's "opmath" type on CPU), else x's own dtype."""
    dt = getattr(x, "dtype", x)
    if torch is not None and isinstance(dt, torch.dtype):
        return torch.float32 if dt in (torch.float16, torch.bfloat16) else dt
    dt = np.dtype(dt)
    return np.dtype(np.float32) if dt == np.float16 else dt


def to_dtype(a, dtype):
    """*a* in *dtype* (no copy when it already has it)."""
    if is_torch(a):
        return a if a.dtype == dtype else a.to(dtype)
    return a if a.dtype == dtype else a.astype(dtype)


def scalar(v, dtype):
    """The number *v* as a scalar that keeps an array of *dtype* in *dtype*: a Python float for
    torch, a NumPy scalar of *dtype* for NumPy (so ``np.float64(1e-5)`` does not promote a float32
    array to float64, and ``1e-8`` survives as a float32 number)."""
    if torch is not None and isinstance(dtype, torch.dtype):
        return float(v)
    return np.dtype(dtype).type(v)


def where_zero(m, a):
    """``a`` where ``m`` is True, else 0 (in a's dtype and, for torch, on its device)."""
    if is_torch(a):
        return torch.where(m, a, torch.zeros((), dtype=a.dtype, device=a.device))
    return np.where(m, a, a.dtype.type(0))


def sum_keep(a, axes):
    """The sum of *a* over *axes*, keeping them as size-1 dimensions."""
    if is_torch(a):
        return a.sum(dim=axes, keepdim=True)
    return a.sum(axis=axes, keepdims=True)


SLICE_MIN = 1 << 18
"""Fewest entries per slice of :func:`row_slices` (1 MB in float32)."""


def row_slices(a, axes):
    """Bounds ``[(lo, hi), ...]`` of slices of *a*'s first dimension that are safe to reduce one
    at a time over *axes*, or None where *a* should be reduced whole.

    Slices are offered for a contiguous torch tensor whose first dimension is not reduced (so
    every statistics set lies inside one slice), when autograd does not need the graph and *a*
    is large: at most 8 slices, each of at least :data:`SLICE_MIN` entries and at least as many
    rows as threads. Each set is then summed by the same kernel loop as in the whole tensor,
    bitwise (``tests/test_core.py`` checks this with 1 to 8 threads); a slice of fewer rows than
    threads would be summed by a loop split across threads, in another order, so no slice has
    fewer rows (the last one joins the one before it when it would be short).
    """
    if (not is_torch(a) or 0 in axes or a.dim() == 0 or not a.is_contiguous()
            or (a.requires_grad and torch.is_grad_enabled())):
        return None
    n, threads = a.shape[0], torch.get_num_threads()
    row = a.numel() // n if n else 0
    step = max(threads, -(-n // 8), -(-SLICE_MIN // max(row, 1)))
    if n < 2 * step:
        return None
    starts = list(range(0, n, step))
    if n - starts[-1] < step:
        starts.pop()
    return list(zip(starts, starts[1:] + [n], strict=True))


def sum_squares_keep(a, axes):
    """The sum of ``a * a`` over *axes*, keeping them as size-1 dimensions: bitwise the same
    numbers as ``sum_keep(a * a, axes)``, but where :func:`row_slices` allows, the squares are
    formed one slice at a time in one reused buffer, so the temporary is about an eighth of *a*
    instead of a whole copy."""
    bounds = row_slices(a, axes)
    if bounds is None:
        return sum_keep(a * a, axes)
    out = torch.empty(tuple(1 if k in axes else s for k, s in enumerate(a.shape)),
                      dtype=a.dtype, device=a.device)
    buf = slice_buffer(a, bounds, a.dtype)
    for lo, hi in bounds:
        squares = torch.mul(a[lo:hi], a[lo:hi], out=buf[:hi - lo])
        out[lo:hi] = squares.sum(dim=axes, keepdim=True)
    return out


def slice_buffer(a, bounds, dtype):
    """An uninitialised torch tensor as large as the largest slice of *a* in *bounds*."""
    rows = max(hi - lo for lo, hi in bounds)
    return torch.empty((rows,) + tuple(a.shape[1:]), dtype=dtype, device=a.device)


def copy(x):
    """A copy of *x* of the same kind."""
    return x.clone() if is_torch(x) else x.copy()


def like(a, x):
    """The NumPy array *a* as an array of *x*'s kind (and, for torch, on its device)."""
    return torch.from_numpy(a).to(x.device) if is_torch(x) else a


def transpose(x, order):
    """*x* with its dimensions in *order*."""
    return x.permute(*order) if is_torch(x) else np.transpose(x, order)


# --- argument checks ------------------------------------------------------------------------------

def is_integer(v) -> bool:
    """True for a Python or NumPy integer (not a bool)."""
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


def is_number(v) -> bool:
    """True for a Python or NumPy real number (``1e-5``, ``np.float64(1e-5)``,
    ``np.finfo(np.float32).eps``), not a bool."""
    return not isinstance(v, (bool, np.bool_)) and isinstance(v, (int, float, np.integer,
                                                                  np.floating))


def check_nonnegative(name: str, v):
    """Raise unless *v* is a finite number >= 0 (an ``eps`` or a tolerance)."""
    if not is_number(v) or not (0 <= v < float("inf")):
        raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")


def check_positive_int(name: str, v):
    """Raise unless *v* is an integer >= 1."""
    if not is_integer(v) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
