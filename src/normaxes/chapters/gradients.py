"""Helpers of the chapters "Gradients: the backward pass of every norm" and "What a norm's
gradient couples": the backward pass of standardization over a statistics set, and what it couples.

For ``y = standardize(x, layout, over)`` and an upstream gradient ``ybar = dL/dy``, every norm of
the book has the same input gradient, computed set by set:

    xbar = (ybar - mean_S(ybar) - xhat * mean_S(ybar * xhat)) / sqrt(sigma^2 + eps)

:func:`standardize_grad` computes it; :func:`bn_paper_grad` and :func:`abc_grad` compute the same
gradient the way the Batch Normalization paper and PyTorch's CPU kernels write it, so the chapter
can show that the three agree. :func:`affine_grads` gives the gradients of the scale and shift.
:func:`coupling` reads from the Jacobian which inputs each output depends on. :func:`layer_grads`
and :func:`formula_grads` compare the real PyTorch and Keras layers with the formula.
Everything works on torch tensors (the formula also on NumPy arrays).
"""

from __future__ import annotations

import numpy as np
import torch

from .._arrays import is_torch as _is_torch
from ..affine import affine_shape
from ..core import moments, resolve, standardize, stat_groups
from ..data import length_mask
from ..norms import NORMS, book_name

__all__ = ["set_sum", "set_mean", "standardize_grad", "bn_paper_grad", "abc_grad",
           "affine_grads", "coupling", "same_set", "coupling_digest", "along",
           "group_sizes", "torch_layer", "keras_layer", "layer_grads", "formula_grads",
           "layer_table", "example", "layers_vs_formula", "masked_grads", "cases",
           "random_affine", "book_norm", "agree", "coupling_panels", "short_of", "book_name",
           "companions", "source_line", "sgd_turn", "small_resnet"]

SHORTS = ("BN", "LN", "GN", "IN")


def _axes(x, layout, over, sizes):
    return resolve(layout, x.shape, sizes).axes(over), resolve(layout, x.shape, sizes)


def set_sum(a, layout: str, over, **sizes):
    """The sum of *a* over each statistics set of ``standardize(a, layout, over)``.

    The result keeps the reduced axes of the expanded layout as size-1 dimensions, like
    :func:`normaxes.moments`, so it broadcasts against ``a`` read in the expanded layout.
    """
    axes, spec = _axes(a, layout, over, sizes)
    ae = a.reshape(spec.expanded_shape)
    if _is_torch(a):
        return ae.sum(dim=axes, keepdim=True)
    return ae.sum(axis=axes, keepdims=True)


def set_mean(a, layout: str, over, **sizes):
    """The mean of *a* over each statistics set (size-1 dimensions kept, see :func:`set_sum`)."""
    axes, spec = _axes(a, layout, over, sizes)
    m = int(np.prod([spec.expanded_shape[i] for i in axes]))
    return set_sum(a, layout, over, **sizes) / m


def _check_pair(x, ybar):
    if tuple(x.shape) != tuple(ybar.shape):
        raise ValueError(f"ybar has shape {tuple(ybar.shape)} but x has shape {tuple(x.shape)}: "
                         "the upstream gradient has the shape of the output, which is x's")
    if _is_torch(x) != _is_torch(ybar):
        raise ValueError("ybar must be the same kind of array as x (NumPy or torch)")


def standardize_grad(x, ybar, layout: str, over, *, eps: float = 1e-5, mask=None, **sizes):
    """The input gradient of ``standardize(x, layout, over, eps=eps, mask=mask)`` in closed form.

    ``xbar = (ybar - mean_S(ybar) - xhat * mean_S(ybar * xhat)) / sqrt(sigma^2 + eps)`` on every
    statistics set S. With *mask*, the means run over the real entries of each set only and
    padded entries get 0, exactly as autograd through the masked ``standardize`` gives.
    """
    _check_pair(x, ybar)
    axes, spec = _axes(x, layout, over, sizes)
    mean, var, count = moments(x, layout, over, mask=mask, **sizes)
    xe, g = x.reshape(spec.expanded_shape), ybar.reshape(spec.expanded_shape)
    if _is_torch(x):
        rstd = 1 / torch.sqrt(var + eps)

        def total(a):
            return a.sum(dim=axes, keepdim=True)
    else:
        rstd = 1 / np.sqrt(var + eps)

        def total(a):
            return a.sum(axis=axes, keepdims=True)
    xhat = (xe - mean) * rstd
    if mask is None:
        m = count
    else:
        real = _real(mask, x, spec)
        xhat, g = xhat * real, g * real
        m = count.clamp(min=1) if _is_torch(x) else np.maximum(count, 1)
    xbar = rstd * (g - total(g) / m - xhat * total(g * xhat) / m)
    if mask is not None:
        xbar = xbar * real
    return xbar.reshape(x.shape)


def _real(mask, x, spec):
    """The mask as 0/1 numbers in the expanded layout of *x*."""
    if _is_torch(x):
        return mask.expand(x.shape).reshape(spec.expanded_shape).to(x.dtype)
    return np.broadcast_to(mask, x.shape).reshape(spec.expanded_shape).astype(x.dtype)


def bn_paper_grad(x, ybar, layout: str, over, *, eps: float = 1e-5, **sizes):
    """The input gradient as the Batch Normalization paper writes it (Sec. 3), on any set S.

    Four steps, in the paper's order: ``dxhat = ybar`` (scale 1), then ``dvar``, ``dmu`` and
    ``dx``, each summed over the set as the paper sums over the mini-batch. Returns a dict with
    the four intermediate results (in the expanded layout) and ``"dx"`` in the shape of *x*.
    """
    _check_pair(x, ybar)
    _, spec = _axes(x, layout, over, sizes)
    mean, var, m = moments(x, layout, over, **sizes)
    xe, dxhat = x.reshape(spec.expanded_shape), ybar.reshape(spec.expanded_shape)

    def S(a):  # the paper's sum over the mini-batch: here over the set
        return set_sum(a.reshape(x.shape), layout, over, **sizes)

    dvar = S(dxhat * (xe - mean)) * -0.5 * (var + eps) ** -1.5
    dmu = S(dxhat * -(var + eps) ** -0.5) + dvar * S(-2 * (xe - mean)) / m
    dx = dxhat * (var + eps) ** -0.5 + dvar * 2 * (xe - mean) / m + dmu / m
    return {"dxhat": dxhat, "dvar": dvar, "dmu": dmu, "dx": dx.reshape(x.shape)}


def abc_grad(x, ybar, layout: str, over, *, eps: float = 1e-5, **sizes):
    """The input gradient in the three-term form of PyTorch's CPU kernels: ``a*ybar + b*x + c``.

    Per statistics set, with ``ds = sum(ybar * x)``, ``db = sum(ybar)``, ``rstd = 1/sqrt(var +
    eps)`` and ``scale = 1/m``: ``a = rstd``, ``b = (db * mean - ds) * rstd**3 * scale``,
    ``c = -b * mean - db * rstd * scale`` (``layer_norm_kernel.cpp``, ``group_norm_kernel.cpp``).
    Returns a dict with ``a``, ``b``, ``c`` (one value per set) and ``"dx"``.
    """
    _check_pair(x, ybar)
    _, spec = _axes(x, layout, over, sizes)
    mean, var, m = moments(x, layout, over, **sizes)
    xe, dy = x.reshape(spec.expanded_shape), ybar.reshape(spec.expanded_shape)
    ds = set_sum(ybar * x, layout, over, **sizes)
    db = set_sum(ybar, layout, over, **sizes)
    a = (var + eps) ** -0.5
    scale = 1 / m
    b = (db * mean - ds) * a ** 3 * scale
    c = -b * mean - db * a * scale
    return {"a": a, "b": b, "c": c, "dx": (a * dy + b * xe + c).reshape(x.shape)}


def affine_grads(x, ybar, layout: str, over, along, *, eps: float = 1e-5, **sizes):
    """Gradients of ``y = weight * xhat + bias`` with respect to *weight* and *bias*.

    ``weight_bar = sum(ybar * xhat)`` and ``bias_bar = sum(ybar)``, each summed over every axis
    that the parameters do not vary *along*; shapes as :func:`normaxes.affine_shape` gives.
    """
    _check_pair(x, ybar)
    spec = resolve(layout, x.shape, sizes)
    keep = spec.axes(along, what="along")
    rest = tuple(i for i in range(len(spec.expanded_shape)) if i not in keep)
    xhat = standardize(x, layout, over, eps=eps, **sizes).reshape(spec.expanded_shape)
    g = ybar.reshape(spec.expanded_shape)
    shape = tuple(spec.expanded_shape[i] for i in keep)
    if _is_torch(x):
        return (g * xhat).sum(dim=rest).reshape(shape), g.sum(dim=rest).reshape(shape)
    return (g * xhat).sum(axis=rest).reshape(shape), g.sum(axis=rest).reshape(shape)


# --- which inputs each output depends on ----------------------------------------------------

def coupling(fn, x) -> np.ndarray:
    """Boolean matrix ``[x.numel(), x.numel()]``: entry ``(i, j)`` is True where output ``i`` of
    ``fn(x)`` depends on input ``j`` (its Jacobian entry is not 0), read with autograd."""
    if not _is_torch(x):
        raise ValueError(f"x must be a torch tensor, got {type(x).__name__}")
    J = torch.autograd.functional.jacobian(fn, x)
    return (J.reshape(x.numel(), x.numel()) != 0).numpy()


def same_set(layout: str, over, shape, **sizes) -> np.ndarray:
    """Boolean matrix ``[n, n]`` (``n`` entries of *shape*): True where two entries share a
    statistics set of ``standardize(x, layout, over)``."""
    labels = stat_groups(layout, over, shape, **sizes).ravel()
    return labels[:, None] == labels[None, :]


def coupling_digest(name: str, depends: np.ndarray) -> str:
    """One line: how many inputs output 0 depends on, and into how many sets the coupling cuts
    the inputs (the distinct rows of *depends*)."""
    n = depends.shape[0]
    blocks = len({tuple(row) for row in depends.astype(np.int8)})
    size = int(depends[0].sum())
    return f"{name:<22} {size:>2} of {n} inputs; {blocks:>2} sets of {n // blocks}"


# --- the four norms on the two layouts, and their affine parameters --------------------------

def along(short: str, layout: str) -> str:
    """The axes the scale and shift of norm *short* vary along (PyTorch's and Keras' layers)."""
    spec = NORMS[layout][short]
    channel = "F" if layout == "B T F" else "C"
    if short == "LN":
        return spec.over  # LN: one weight per normalized position
    return f"G {spec.channel_axis(channel)}" if short == "GN" else channel


def group_sizes(short: str, layout: str, G: int) -> dict:
    """``{"G": G}`` for Group Norm, ``{}`` for the others."""
    return {"G": G} if NORMS[layout][short].group_axis else {}


def _channels(x, layout):
    return x.shape[2] if layout == "B T F" else x.shape[1]


def torch_layer(short: str, layout: str, x, *, G: int = 2, eps: float = 1e-5):
    """The PyTorch layer for norm *short* on *x* (``[B, T, F]`` or ``[N, C, H, W]``).

    Returns ``(layer, call)``: *call* applies the layer to an array of the layout, moving the
    features of a sequence to dimension 1 and back where the layer wants channels first.
    """
    nn = torch.nn
    c = _channels(x, layout)
    seq = layout == "B T F"
    if short == "LN":
        layer = nn.LayerNorm(c if seq else list(x.shape[1:]), eps=eps)
    else:
        layer = {"BN": (nn.BatchNorm1d if seq else nn.BatchNorm2d)(c, eps=eps),
                 "GN": nn.GroupNorm(G, c, eps=eps),
                 "IN": (nn.InstanceNorm1d if seq else nn.InstanceNorm2d)(c, eps=eps,
                                                                         affine=True)}[short]
    layer = layer.double()
    if seq and short != "LN":
        return layer, lambda a: layer(a.transpose(1, 2)).transpose(1, 2)
    return layer, layer


def keras_layer(short: str, layout: str, x, *, G: int = 2, eps: float = 1e-5):
    """The Keras 3 layer for norm *short* on *x*, float64, called on the layout as it is.

    Keras has no Instance Norm layer; ``GroupNormalization(groups=channels)`` is one.
    Returns ``(layer, call)``; Batch Norm is called with ``training=True``.
    """
    from ..interop import load_keras

    L = load_keras().layers
    c = _channels(x, layout)
    axis = -1 if layout == "B T F" else 1
    if short == "LN":
        layer = L.LayerNormalization(axis=-1 if layout == "B T F" else [1, 2, 3], epsilon=eps,
                                     dtype="float64")
    elif short == "BN":
        layer = L.BatchNormalization(axis=axis, epsilon=eps, dtype="float64")
    else:
        layer = L.GroupNormalization(groups=G if short == "GN" else c, axis=axis,
                                     epsilon=eps, dtype="float64")
    layer.build(tuple(x.shape))
    if short == "BN":
        return layer, lambda a: layer(a, training=True)
    return layer, layer


def _params(layer):
    if hasattr(layer, "gamma"):  # Keras: variables wrapping torch parameters
        return layer.gamma.value, layer.beta.value
    return layer.weight, layer.bias


def layer_grads(framework: str, short: str, layout: str, x, ybar, weight, bias, *, G: int = 2,
                eps: float = 1e-5):
    """``[xbar, weight_bar, bias_bar]`` of the real layer (``"torch"`` or ``"keras"``), flat.

    The layer's scale and shift are set to *weight* and *bias* (the shape of
    :func:`normaxes.affine_shape` along :func:`along`); the loss is ``L = sum(ybar * y)``, so
    that ``dL/dy = ybar``.
    """
    if framework not in ("torch", "keras"):
        raise ValueError(f"framework must be 'torch' or 'keras', got {framework!r}")
    make = torch_layer if framework == "torch" else keras_layer
    layer, call = make(short, layout, x, G=G, eps=eps)
    w, b = _params(layer)
    with torch.no_grad():
        w.copy_(weight.reshape(w.shape)), b.copy_(bias.reshape(b.shape))
    x = x.detach().clone().requires_grad_(True)
    (call(x) * ybar).sum().backward()
    return torch.cat([x.grad.ravel(), w.grad.ravel(), b.grad.ravel()])


def formula_grads(short: str, layout: str, x, ybar, weight, bias, *, G: int = 2,
                  eps: float = 1e-5):
    """``[xbar, weight_bar, bias_bar]`` from the chapter's formulas, flat (see
    :func:`layer_grads`): the upstream gradient of ``xhat`` is ``ybar * weight``."""
    from ..affine import affine

    spec, sizes = NORMS[layout][short], group_sizes(short, layout, G)
    along_ = along(short, layout)
    g = affine(ybar, spec.layout, along_, weight, **sizes)  # ybar * weight, broadcast
    xbar = standardize_grad(x, g, spec.layout, spec.over, eps=eps, **sizes)
    wbar, bbar = affine_grads(x, ybar, spec.layout, spec.over, along_, eps=eps, **sizes)
    return torch.cat([xbar.ravel(), wbar.ravel(), bbar.ravel()])


def layer_table(layout: str, x, *, G: int = 2) -> str:
    """A Markdown table: for each norm, the PyTorch and Keras layers the chapter checks on *x*."""
    rows = ["| norm | `standardize` | PyTorch layer | Keras layer | scale along |",
            "|---|---|---|---|---|"]
    for short in SHORTS:
        t, _ = torch_layer(short, layout, x, G=G)
        k, _ = keras_layer(short, layout, x, G=G)
        kname = type(k).__name__
        if kname == "GroupNormalization":
            kname += f"(groups={k.groups})"
        spec = NORMS[layout][short]
        rows.append(f"| {book_name(short, layout, G)} | over `{spec.over}` | `{t}` | `{kname}` "
                    f"| {along(short, layout)} |")
    return "\n".join(rows)


def example(layout: str, seed: int = 20, *, small: bool = False):
    """A float64 input ``x`` and upstream gradient ``ybar`` for *layout*, as torch tensors.

    ``[B, T, F] = [4, 6, 6]`` or ``[N, C, H, W] = [4, 6, 3, 3]`` (``small``: ``[3, 4, 4]`` and
    ``[3, 4, 2, 2]``, for finite differences); ``x`` comes from :func:`normaxes.data.sequence` or
    :func:`normaxes.data.images`, ``ybar`` is standard normal noise from *seed* + 1.
    """
    from .. import data

    if layout == "B T F":
        shape = (3, 4, 4) if small else (4, 6, 6)
        x = data.sequence(*shape, seed=seed, dtype=np.float64)
    elif layout == "N C H W":
        shape = (3, 4, 2, 2) if small else (4, 6, 3, 3)
        x = data.images(*shape, seed=seed, dtype=np.float64)
    else:
        raise ValueError(f"layout must be 'B T F' or 'N C H W', got {layout!r}")
    ybar = np.random.default_rng(seed + 1).normal(size=shape)
    return torch.from_numpy(x), torch.from_numpy(ybar)


def layers_vs_formula(framework: str, *, relative: bool = False):
    """The gradients of the four real layers of *framework* and of the formulas, on both layouts.

    For BN, LN, GN (G = 2) and IN on :func:`example` inputs of each layout, with a random scale
    and shift: ``(theirs, ours)``, each the concatenation of :func:`layer_grads` and of
    :func:`formula_grads`. With *relative*, each case is divided by its largest formula
    gradient, so that a difference reads as a relative error.
    """
    theirs, ours = [], []
    for spec, G, x, ybar in cases():
        short, layout = short_of(spec)
        w, b = random_affine(spec, x, G, seed=len(ours))  # trained-looking scale and shift
        layer = layer_grads(framework, short, layout, x, ybar, w, b)
        formula = formula_grads(short, layout, x, ybar, w, b)
        scale = formula.abs().max() if relative else 1.0
        theirs.append(layer / scale)
        ours.append(formula / scale)
    return torch.cat(theirs), torch.cat(ours)


def masked_grads(pad_value: float):
    """Input gradients of BN, LN, GN and IN with masked statistics, on a padded batch.

    The batch is :func:`example` ``("B T F")`` with lengths 6, 4, 2 and 5 (``[B, T, F] =
    [4, 6, 6]``); its padded frames hold *pad_value*. Returns ``(xbar, mask)``: the four
    gradients stacked ``[4, B, T, F]`` (autograd) and the mask ``[B, T, 1]``.
    """
    x, ybar = example("B T F")  # [4, 6, 6]
    mask = torch.from_numpy(length_mask([6, 4, 2, 5], T=6))  # [B, T, 1]
    x = torch.where(mask, x, torch.full_like(x, pad_value))
    grads = []
    for short in SHORTS:
        spec, G = NORMS["B T F"][short], group_sizes(short, "B T F", 2)
        xg = x.clone().requires_grad_(True)
        y = standardize(xg, spec.layout, spec.over, mask=mask, **G)
        grads += torch.autograd.grad(y, xg, ybar)
    return torch.stack(grads), mask


def cases(*, small: bool = False):
    """The chapter's eight test cases: ``(spec, G, x, ybar)`` for BN, LN, GN and IN on each layout.

    *spec* is the :class:`~normaxes.NormSpec` of the norm, *G* the keyword arguments of its group
    size (``{"G": 2}`` for Group Norm, else ``{}``), *x* and *ybar* come from :func:`example`.
    """
    for layout in ("B T F", "N C H W"):
        x, ybar = example(layout, small=small)
        for short in SHORTS:
            yield NORMS[layout][short], group_sizes(short, layout, 2), x, ybar


def short_of(spec) -> tuple[str, str]:
    """``(short, layout)`` of a :class:`~normaxes.NormSpec` of ``normaxes.NORMS``."""
    for layout, specs in NORMS.items():
        for short, s in specs.items():
            if s == spec:
                return short, layout
    raise ValueError(f"{spec!r} is not one of the book's norms (normaxes.NORMS)")


def random_affine(spec, x, G: dict, seed: int = 0):
    """A random scale and shift for norm *spec* on *x*, shaped as PyTorch's and Keras' layers
    shape them (see :func:`along`), as float64 torch tensors."""
    short, layout = short_of(spec)
    shape = affine_shape(spec.layout, along(short, layout), x.shape, **G)
    rng = np.random.default_rng(seed)
    return tuple(torch.from_numpy(rng.normal(size=shape)) for _ in range(2))


def book_norm(spec, G: dict):
    """The book's norm *spec* as a function ``f(x, weight=None, bias=None)``: ``standardize``,
    then, if *weight* is given, the affine step along the axes of :func:`along`."""
    from ..affine import affine

    short, layout = short_of(spec)

    def f(x, weight=None, bias=None):
        y = standardize(x, spec.layout, spec.over, **G)
        if weight is None:
            return y
        return affine(y, spec.layout, along(short, layout), weight, bias, **G)

    return f


def agree(what: str, a, b, bound: float = 1e-12) -> None:
    """Assert that two float64 computations agree within *bound* and print the stated bound
    (``max|Δ| ≤ 1e-12``), never the raw difference, so that the output is stable."""
    diff = float((torch.as_tensor(a) - torch.as_tensor(b)).detach().abs().max())
    assert diff <= bound, f"{what}: max|Δ| = {diff:.3g} > {bound:g}"
    print(f"{what}: max|Δ| ≤ {bound:.0e}")


COUPLING_CASES = {"B T F": [("BN", 0), ("LN", 0), ("GN", 2), ("GN", 1), ("IN", 0)],
                  "N C H W": [("BN", 0), ("LN", 0), ("GN", 2), ("IN", 0)]}
"""The norms of the chapter's coupling figures, ``(short, G)``: GN(1) only on sequences, where it
differs from per-frame Layer Norm."""


def coupling_panels(layout: str, x, cases_=None):
    """Cube panels (for :func:`normaxes.book.figures.draw_cubes`) of the inputs that output 0 of
    *x* depends on, read from the Jacobian by autograd, one per ``(short, G)`` of *cases_*
    (default :data:`COUPLING_CASES` of *layout*), and the digest lines of
    :func:`coupling_digest`, each named as :func:`book_name` names the norm."""
    batch, channel = ("B", "F") if layout == "B T F" else ("N", "C")
    panels, digest = [], []
    for short, G in (COUPLING_CASES[layout] if cases_ is None else cases_):
        spec, sizes = NORMS[layout][short], ({"G": G} if short == "GN" else {})
        name = book_name(short, layout, G)
        depends = coupling(
            lambda a, spec=spec, sizes=sizes: standardize(a, spec.layout, spec.over, **sizes), x)
        digest.append(coupling_digest(name, depends))
        title = name.replace(" Layer", "\nLayer")  # "per-frame\nLayer Norm"
        panels.append(dict(layout=layout, shared=depends[0].reshape(x.shape), batch=batch,
                           channel=channel, title=f"{title}\nover {spec.over}"))
    return panels, "\n".join(digest)


def companions(x):
    """*x* with example 0 kept and every other example replaced by ``3 * x + 1``: the same first
    example in another batch."""
    return torch.cat([x[:1], 3 * x[1:] + 1])


def source_line(obj, text: str) -> str:
    """Where *text* first occurs in the installed source of *obj*: ``"path:line"``, the path
    relative to the site-packages folder (``torch/nn/modules/_functions.py:159``).

    Raises ``ValueError`` if the source of *obj* does not contain *text*.
    """
    import inspect
    from pathlib import Path

    lines, start = inspect.getsourcelines(obj)
    hits = [start + k for k, line in enumerate(lines) if text in line]
    if not hits:
        raise ValueError(f"{text!r} is not in the source of {getattr(obj, '__qualname__', obj)}")
    path = Path(inspect.getsourcefile(obj)).resolve()
    top = obj.__module__.split(".")[0]
    parts = path.parts
    rel = "/".join(parts[len(parts) - 1 - parts[::-1].index(top):])
    return f"{rel}:{hits[0]}"


def sgd_turn(W, x, ybar, lr: float = 0.5) -> float:
    """``tan`` of the angle between the weights *W* of ``Linear(F, F)`` followed by per-frame
    Layer Norm (``eps=0``) on *x* ``[B, T, F]`` and the weights after one plain SGD step of size
    *lr*, with upstream gradient *ybar* (read from the two weight matrices, not assumed)."""
    W = W.detach().clone().requires_grad_(True)
    y = standardize(x @ W.T, "B T F", over="F", eps=0)
    (grad,) = torch.autograd.grad(y, W, ybar)
    w0, w1 = W.detach().ravel(), (W - lr * grad).detach().ravel()
    along = w1 @ w0 / w0.norm()  # the new weights' component along the old
    across = (w1 - along * w0 / w0.norm()).norm()
    return float(across / along)


def small_resnet(seed: int = 0):
    """A small ResNet with Batch Norm from Hugging Face ``transformers``, with seeded random
    weights (nothing is downloaded), in float64:
    ``ResNetModel(ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1]))``."""
    import warnings

    with warnings.catch_warnings():  # transformers imports tqdm.auto, which warns in notebooks
        warnings.simplefilter("ignore")
        from transformers import ResNetConfig, ResNetModel
    torch.manual_seed(seed)
    return ResNetModel(ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1])).double()
