"""Read off a framework's norm layer by running it: which axes it reduces over, its defaults, and
how it updates its running statistics.

Nothing here knows what a framework *should* do. :func:`find_over` tries every set of named axes
and returns the one whose :func:`~normaxes.standardize` reproduces the layer's output;
:func:`running_rule` tries both sides of the momentum and both variances and returns the pair that
reproduces the layer's running averages.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .._arrays import transpose
from ..core import moments, parse_layout, resolve, standardize
from ..envs import run_in
from ..interop import to_numpy

__all__ = ["axis_subsets", "find_over", "fit_line", "permute", "apply_in", "read_over", "Outcome",
           "attempt", "defaults", "running_rule", "FIG3_TF", "flax_apply", "in_tf", "tf_defaults",
           "tf_doc", "sentence_with", "channels_last"]


def axis_subsets(layout: str) -> list[str]:
    """Every non-empty set of axis names of *layout*, as ``over`` strings, smallest sets first.

    ``axis_subsets("B T F")`` gives ``["B", "T", "F", "B T", "B F", "T F", "B T F"]``.
    """
    names = [n for d in parse_layout(layout) for n in d]
    return [" ".join(c) for k in range(1, len(names) + 1) for c in combinations(names, k)]


def find_over(y, x, layout: str, *, eps: float, tol: float = 1e-4, **sizes) -> str | None:
    """The ``over`` for which ``standardize(x, layout, over, eps=eps)`` reproduces *y*, or None.

    *y* is a layer's output on the probe *x*, both laid out as *layout* (with group sizes in
    *sizes*, e.g. ``G=32``); the layer must have its initial affine step (scale 1, shift 0) and
    its own *eps*. Every set of named axes is tried (:func:`axis_subsets`); the largest absolute
    difference must be at most *tol*. A probe with an axis of size 1 cannot tell sets apart and is
    refused, as is a probe that two sets reproduce.
    """
    xs, ys = tuple(x.shape), tuple(y.shape)
    if xs != ys:
        raise ValueError(f"the layer's output y has shape {ys}, but the probe x has shape {xs}")
    spec = resolve(layout, xs, sizes)
    for name in spec.names:
        if spec.sizes[name] < 2:
            raise ValueError(
                f"axis {name!r} of the probe has size {spec.sizes[name]}: every axis needs a size "
                f"of at least 2, or sets with and without {name!r} give the same result")
    x64 = to_numpy(x).astype(np.float64)
    y64 = to_numpy(y).astype(np.float64)
    found = [over for over in axis_subsets(layout)
             if np.max(np.abs(standardize(x64, layout, over, eps=eps, **sizes) - y64)) <= tol]
    if len(found) > 1:
        raise ValueError(f"the probe is ambiguous: over {' and '.join(map(repr, found))} all "
                         f"reproduce y; use a probe whose values vary along every axis")
    return found[0] if found else None


def fit_line(diff: float, *, tol: float = 1e-4) -> str:
    """How one candidate set of axes fits a layer's output, as text that reads as what it is.

    *diff* is the largest absolute difference between the layer's output and ``standardize`` over
    the candidate set; *tol* is the tolerance :func:`find_over` decides with. A fit prints
    ``"equal, max|Δ| ≤ 1e-4"``; a miss prints ``"differs, max|Δ| = 3.5"``, two significant
    digits. Those digits must not move with the CPU code path or the number of threads: a miss
    whose value lies within a relative 1e-4 of a rounding edge (``3.45``, where a rounding step
    decides between ``3.4`` and ``3.5``) raises ``ValueError`` instead of printing a number that
    another machine prints otherwise.
    """
    if not np.isfinite(diff) or diff < 0:
        raise ValueError(f"diff must be a finite number >= 0, got {diff!r}")
    if diff <= tol:
        return f"equal, max|Δ| ≤ {tol:.0e}".replace("e-0", "e-")
    step = 10.0 ** (np.floor(np.log10(diff)) - 1)  # the last printed digit
    edge = (np.floor(diff / step - 0.5) + 0.5) * step  # the nearest rounding edge below
    near = min(diff - edge, edge + step - diff)
    if near < 1e-4 * diff:
        raise ValueError(f"max|Δ| = {diff!r} lies within a relative 1e-4 of a rounding edge of "
                         "two significant digits: its printed digits would depend on the CPU path")
    return f"differs, max|Δ| = {diff:.2g}"


def _units(layout: str) -> list[str]:
    """One name per dimension: an axis, or a parenthesised group as written, e.g. ``"(G Fg)"``."""
    return [d[0] if len(d) == 1 else "(" + " ".join(d) + ")" for d in parse_layout(layout)]


def permute(x, layout: str, to: str):
    """Transpose *x* from *layout* to the layout *to*, which names the same dimensions in another
    order.

    ``permute(x, "B T F", "B F T")`` swaps the last two dimensions; a group moves as one dimension,
    ``permute(x, "B T (G Fg)", "B (G Fg) T")``. Works on NumPy arrays and torch tensors.
    """
    src, dst = _units(layout), _units(to)
    if len(src) != x.ndim:
        raise ValueError(f"layout {layout!r} names {len(src)} dimensions but x has {x.ndim} "
                         f"(shape {tuple(x.shape)})")
    if sorted(src) != sorted(dst):
        raise ValueError(f"layouts {layout!r} and {to!r} do not name the same dimensions")
    order = [src.index(n) for n in dst]
    return transpose(x, order)


def apply_in(fn, x, layout: str, expects: str):
    """Apply *fn*, which wants its input laid out as *expects*, to *x* laid out as *layout*.

    The result comes back in *layout*, so that it can be compared with *x* axis by axis:
    ``apply_in(torch.nn.BatchNorm1d(F), x, "B T F", "B F T")``.
    """
    return permute(fn(permute(x, layout, expects)), expects, layout)


def read_over(fn, x, layout: str, expects: str, *, eps: float, **sizes) -> str | None:
    """The axes of *layout* that the layer *fn* reduces over when it gets *x* laid out as
    *expects*: :func:`apply_in`, then :func:`find_over`.

    ``read_over(torch.nn.GroupNorm(2, F), x, "B T (G Fg)", "B (G Fg) T", eps=1e-5, G=2)`` is
    ``"T F"``.
    """
    return find_over(apply_in(fn, x, layout, expects), x, layout, eps=eps, **sizes)


@dataclass(frozen=True)
class Outcome:
    """What a layer did to a probe: the axes it reduced over (None if no set of axes fits), or the
    error it raised; and the warnings it gave."""

    layout: str
    over: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.error is not None:
            text = f"fails: {self.error}"
        elif self.over is None:
            text = f"runs; no set of axes of {self.layout} reproduces its output"
        else:
            text = f"runs; reduces over {self.over} of {self.layout}"
        return text + "".join(f"; warns: {w}" for w in self.warnings)


def attempt(fn, x, layout: str, *, eps: float, **sizes) -> Outcome:
    """Call ``fn(x)`` on the probe *x*, laid out as *layout*, and report what happened.

    Unlike :func:`read_over`, *x* goes in as it is, without a transpose: this shows what a layer
    does to a layout it does not expect. A ``RuntimeError`` or ``ValueError`` from *fn* is caught
    and reported, and so are the warnings it gives; the axes come from :func:`find_over`.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            y = fn(x)
        except (RuntimeError, ValueError) as err:
            y, error = None, f"{type(err).__name__}: {err}"
    said = tuple(f"{w.category.__name__}: {w.message}" for w in caught)
    if y is None:
        return Outcome(layout, error=error, warnings=said)
    return Outcome(layout, over=find_over(y, x, layout, eps=eps, **sizes), warnings=said)


def defaults(fn, *names: str) -> dict:
    """The default values of the parameters *names* of *fn* (a function or a class), read with
    ``inspect.signature``; a parameter without a default maps to ``"required"``.
    """
    params = inspect.signature(fn).parameters
    out = {}
    for n in names:
        if n not in params:
            raise ValueError(f"{getattr(fn, '__name__', fn)!s} has no parameter {n!r} "
                             f"(its parameters are {', '.join(params)})")
        d = params[n].default
        out[n] = "required" if d is inspect.Parameter.empty else d
    return out


def running_rule(before, after, x, layout: str, over, *, momentum: float, rtol: float = 1e-4,
                 **sizes) -> tuple[str, str] | None:
    """How one training step moved the running mean and variance, or None if no rule fits.

    *before* and *after* are ``(running_mean, running_var)`` around one training step on *x*. The
    four candidate rules combine the side *momentum* weights (``"old"``: ``new = m * old +
    (1 - m) * batch``; ``"new"``: ``new = (1 - m) * old + m * batch``) with the batch variance
    folded in (``"biased"``, divided by the count n; ``"unbiased"``, by n - 1). Returns the pair
    ``(side, variance)`` that reproduces both running values.
    """
    if not 0.0 < momentum < 1.0 or momentum == 0.5:
        raise ValueError(f"momentum must lie strictly between 0 and 1 and not be 0.5 (where both "
                         f"sides weigh the same), got {momentum!r}")
    mean, var, n = moments(x, layout, over, **sizes)
    mean0, var0 = (to_numpy(v).astype(np.float64) for v in before)
    mean1, var1 = (to_numpy(v).astype(np.float64) for v in after)
    if mean0.shape != mean1.shape or var0.shape != var1.shape:
        raise ValueError(f"running values before {mean0.shape, var0.shape} and after "
                         f"{mean1.shape, var1.shape} the step differ in shape")
    mean = to_numpy(mean).astype(np.float64).reshape(mean0.shape)
    var = to_numpy(var).astype(np.float64).reshape(var0.shape)
    fits = []
    for side, w_old in (("old", momentum), ("new", 1.0 - momentum)):
        for kind, batch_var in (("biased", var), ("unbiased", var * n / (n - 1))):
            if (np.allclose(w_old * mean0 + (1 - w_old) * mean, mean1, rtol=rtol, atol=1e-7)
                    and np.allclose(w_old * var0 + (1 - w_old) * batch_var, var1, rtol=rtol,
                                    atol=1e-7)):
                fits.append((side, kind))
    if len(fits) > 1:
        raise ValueError(f"the step is ambiguous: rules {fits} all fit; use a probe with more "
                         f"spread and a count n well above 1")
    return fits[0] if fits else None


# The GN paper's Fig. 3 (Wu and He, 2018), as printed, but for one word: TensorFlow 2 spells the
# argument `keepdims`, where the paper, written for TensorFlow 1, has `keep_dims`.
FIG3_TF = '''\
import tensorflow as tf


def GroupNorm(x, gamma, beta, G, eps=1e-5):
    # x: input features with shape [N,C,H,W]
    # gamma, beta: scale and offset, with shape [1,C,1,1]
    # G: number of groups for GN
    N, C, H, W = x.shape
    x = tf.reshape(x, [N, G, C // G, H, W])
    mean, var = tf.nn.moments(x, [2, 3, 4], keepdims=True)
    x = (x - mean) / tf.sqrt(var + eps)
    x = tf.reshape(x, [N, C, H, W])
    return x * gamma + beta
'''


def flax_apply(layer, x, **call):
    """Initialise a Flax linen *layer* on *x* (scale 1, bias 0) and apply it: a NumPy array.

    Both steps go through ``jax.jit``, as Flax code runs in practice: one compiled program per
    layer and shape, not one per operation (three times faster here)."""
    import jax

    init = jax.jit(functools.partial(layer.init, **call))
    apply = jax.jit(functools.partial(layer.apply, mutable=["batch_stats"], **call))
    y, _ = apply(init(jax.random.key(0), x), x)
    return np.asarray(y)


_TF_IMPORTS = "import tensorflow as tf, tensorflow_addons as tfa\n"


def in_tf(layer: str, call: str = ""):
    """A function ``x -> y`` that builds *layer* (TensorFlow code such as
    ``"tfa.layers.GroupNormalization()"``) in the TF environment and applies it to *x*.

    ``in_tf("tf.keras.layers.BatchNormalization()", ", training=True")`` calls it in training
    mode. Each call runs there through ``normaxes.envs.run_in``; *x* goes as float32.
    """
    code = _TF_IMPORTS + f"y = ({layer})(x{call}).numpy()"
    return lambda x: run_in("tf", code, {"x": np.asarray(x, dtype=np.float32)}, "y")


def tf_defaults(cls: str, *names: str) -> dict:
    """The defaults of the parameters *names* of the TensorFlow class *cls* (e.g.
    ``"tfa.layers.GroupNormalization"``), read with ``inspect.signature`` in the TF environment;
    ``"required"`` where a parameter has none."""
    text = run_in("tf", _TF_IMPORTS + f"""
import inspect, json
params = inspect.signature({cls}).parameters
missing = [n for n in names if n not in params]
if missing:
    raise ValueError("{cls} has no parameter " + ", ".join(missing))
empty = inspect.Parameter.empty
text = json.dumps({{n: "required" if params[n].default is empty else params[n].default
                   for n in names}})
""", {"names": np.array(names, dtype=str)}, "text")
    return json.loads(str(text))


def tf_doc(cls: str) -> str:
    """The docstring of the TensorFlow class *cls*, read from the package installed in the TF
    environment."""
    return str(run_in("tf", _TF_IMPORTS + f"doc = {cls}.__doc__", {}, "doc"))


def sentence_with(text: str, words: str) -> str:
    """The sentence of *text* (a docstring) that contains *words*, its lines joined; raises
    ``ValueError`` if no sentence does."""
    flat = re.sub(r"\s+", " ", text)
    for sentence in re.split(r"(?<=\.)\s", flat):
        if words in sentence:
            return sentence.strip()
    raise ValueError(f"no sentence of the text contains {words!r}")


def channels_last(img):
    """An image batch ``[N, C, H, W]`` (NumPy) as a channels-last torch tensor ``[N, H, W, C]``,
    the layout Keras expects."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(img.transpose(0, 2, 3, 1)))
