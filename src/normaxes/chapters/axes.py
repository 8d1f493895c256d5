"""Chapter 1 (axes): the worked example on the tiny tensors, the plain code beside the primitive,
the cube figures with the book's names, and the book's answer table, ``NORMS``, run beside the
frameworks' own layers."""

from __future__ import annotations

import numpy as np
import torch

from .. import NORMS, data, load_keras, on_channels_first, to_numpy
from ..norms import book_name

__all__ = ["table_vs_layers", "TORCH_LAYERS", "KERAS_LAYERS", "PLAIN_DIMS", "plain", "plain_norm",
           "as_image", "from_image", "exact_sets", "sets_digest", "book_name", "TINY_NORMS",
           "tiny_table", "norm_panels", "draw_book_norms"]

TORCH_LAYERS = {
    "B T F": {"BN": "nn.BatchNorm1d(F) on [B,F,T]", "LN": "nn.LayerNorm(F)",
              "GN": "nn.GroupNorm(G, F) on [B,F,T]", "IN": "nn.InstanceNorm1d(F) on [B,F,T]"},
    "N C H W": {"BN": "nn.BatchNorm2d(C)", "LN": "nn.LayerNorm([C, H, W])",
                "GN": "nn.GroupNorm(G, C)", "IN": "nn.InstanceNorm2d(C)"},
}
"""The PyTorch layer that :func:`table_vs_layers` runs for each entry of ``NORMS``."""

KERAS_LAYERS = {
    "B T F": {"BN": "BatchNormalization()", "LN": "LayerNormalization()",
              "GN": "GroupNormalization(groups=G)", "IN": "GroupNormalization(groups=F)"},
    "N C H W": {"BN": "BatchNormalization(axis=1)", "LN": "LayerNormalization(axis=[1, 2, 3])",
                "GN": "GroupNormalization(groups=G, axis=1)",
                "IN": "GroupNormalization(groups=C, axis=1)"},
}
"""The Keras 3 layer that :func:`table_vs_layers` runs for each entry of ``NORMS`` (Keras has no
Instance Norm layer; Group Norm with one channel per group is one)."""


def _torch_layer(short: str, layout: str, channels: int, G: int, spatial: tuple):
    nn = torch.nn
    if layout == "B T F":  # PyTorch's sequence layers want [B, F, T]; LN normalizes the last axis
        layer = {"BN": nn.BatchNorm1d(channels), "LN": nn.LayerNorm(channels),
                 "GN": nn.GroupNorm(G, channels), "IN": nn.InstanceNorm1d(channels)}[short]
        return layer if short == "LN" else (lambda x: on_channels_first(layer, x))
    return {"BN": nn.BatchNorm2d(channels), "LN": nn.LayerNorm([channels, *spatial]),
            "GN": nn.GroupNorm(G, channels), "IN": nn.InstanceNorm2d(channels)}[short]


def _keras_layer(short: str, layout: str, channels: int, G: int):
    layers = load_keras().layers
    axis = -1 if layout == "B T F" else 1
    ln_axis = -1 if layout == "B T F" else [1, 2, 3]
    return {"BN": layers.BatchNormalization(axis=axis, epsilon=1e-5),
            "LN": layers.LayerNormalization(axis=ln_axis, epsilon=1e-5),
            "GN": layers.GroupNormalization(groups=G, axis=axis, epsilon=1e-5),
            "IN": layers.GroupNormalization(groups=channels, axis=axis, epsilon=1e-5)}[short]


def table_vs_layers(short: str, layout: str, *, G: int = 2, channels: int = 6, seed: int = 6):
    """Run ``NORMS[layout][short]`` and the PyTorch and Keras layers of that norm on one input.

    The input is ``data.sequence(B=4, T=20, F=channels)`` or ``data.images(N=4, C=channels, H=5,
    W=5)``. Returns ``(ours, refs)``: the table's result stacked twice, and the PyTorch and the
    Keras result stacked, so that one comparison checks the table against both frameworks.
    The layers are fresh (scale 1, shift 0), in training mode, with eps 1e-5 (Keras' default
    is 1e-3, so it is set). Group Norm uses *G* groups: pick neither 1 nor *channels*, so that the
    grouping of the channels is tested too.
    """
    if layout not in NORMS:
        raise ValueError(f"layout {layout!r} is not one of the book's layouts {list(NORMS)}")
    if short not in NORMS[layout]:
        raise ValueError(f"norm {short!r} is not one of {list(NORMS[layout])}")
    if layout == "B T F":
        x = torch.from_numpy(data.sequence(B=4, T=20, F=channels, seed=seed))  # [B, T, F]
    else:
        x = torch.from_numpy(data.images(N=4, C=channels, H=5, W=5, seed=seed))  # [N, C, H, W]
    spec = NORMS[layout][short]
    ours = spec(x, **({spec.group_axis: G} if spec.group_axis else {}))
    with torch.no_grad():
        ref_torch = _torch_layer(short, layout, channels, G, tuple(x.shape[2:]))(x)
    ref_keras = _keras_layer(short, layout, channels, G)(x, training=True)
    return np.stack([to_numpy(ours)] * 2), np.stack([to_numpy(ref_torch), to_numpy(ref_keras)])


# --- the worked example and the plain code beside the primitive

PLAIN_DIMS = {
    "B T F": {"BN": (0, 1), "LN": (2,), "IN": (1,)},
    "N C H W": {"BN": (0, 2, 3), "LN": (1, 2, 3), "IN": (2, 3)},
}
"""The dimensions a plain ``x.mean(dim=...)`` reduces for each norm (Group Norm reshapes first)."""


def plain(x, dims, eps=1e-5):
    """Standardize *x* over the dimensions *dims*: the two lines a reader writes by hand."""
    mu = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, unbiased=False, keepdim=True)  # the biased variance: divide by m
    return (x - mu) / torch.sqrt(var + eps)


def plain_norm(x, short: str, layout: str, G: int = 2, eps: float = 1e-5):
    """Norm *short* on *layout* written with :func:`plain` and ``reshape`` only, on a torch tensor.

    Group Norm splits the feature (channel) dimension into ``G`` groups with ``reshape`` and
    reduces over time (space) and the features of one group.
    """
    if short != "GN":
        return plain(x, PLAIN_DIMS[layout][short], eps)
    if layout == "B T F":
        B, T, F = x.shape
        Fg = F // G  # features per group
        return plain(x.reshape(B, T, G, Fg), (1, 3), eps).reshape(B, T, F)
    N, C, H, W = x.shape
    Cg = C // G  # channels per group
    return plain(x.reshape(N, G, Cg, H, W), (2, 3, 4), eps).reshape(N, C, H, W)


def as_image(x):
    """The sequence ``[B, T, F]`` viewed as an image ``[N=B, C=F, H=T, W=1]``."""
    return np.ascontiguousarray(x.transpose(0, 2, 1)[..., None])


def from_image(y):
    """The inverse of :func:`as_image`: an image ``[B, F, T, 1]`` back to ``[B, T, F]``."""
    return y[..., 0].transpose(0, 2, 1)


def exact_sets(x, layout: str, over: str, **sizes) -> str:
    """The statistics sets of *x* under ``standardize(x, layout, over)`` as a Markdown table,
    with each set's entries and its mean and biased variance as exact fractions.

    For the book's tiny integer tensors: every number in the table can be checked by hand.
    """
    from fractions import Fraction

    from ..book.tables import markdown_table
    from ..core import stat_groups

    values = np.asarray(x)
    labels = stat_groups(layout, over, values.shape, **sizes)
    rows = []
    for label in range(int(labels.max()) + 1):
        where = np.argwhere(labels == label)
        entries = [Fraction(int(values[tuple(i)])) for i in where]
        m = len(entries)
        mu = sum(entries) / m
        var = sum((e - mu) ** 2 for e in entries) / m
        rows.append({"set": label + 1, "entries": " ".join(str(e) for e in entries),
                     "m": m, "mean": str(mu), "variance": str(var)})
    return markdown_table(rows, ["set", "entries", "m", "mean", "variance"])


# --- the book's names (the notation page's "One name for each norm")

TINY_NORMS = {
    "B T F": [
        # (name, layout, over, sizes, center, the GN(G) with the same sets on this tensor)
        ("Batch Norm", "B T F", "B T", {}, True, None),
        ("per-frame Layer Norm", "B T F", "F", {}, True, None),
        ("RMS Norm", "B T F", "F", {}, False, None),
        ("per-example Layer Norm", "B T F", "T F", {}, True, 1),
        ("Instance Norm", "B T F", "T", {}, True, 2),
    ],
    "N C H W": [
        ("Batch Norm", "N C H W", "N H W", {}, True, None),
        ("per-example Layer Norm", "N C H W", "C H W", {}, True, 1),
        ("per-pixel Layer Norm", "N C H W", "C", {}, True, None),
        ("Instance Norm", "N C H W", "H W", {}, True, 2),
    ],
}
"""The norms worked by hand on the tiny tensors of each layout. With two features (channels),
Group Norm can only have G = 1 or G = 2 groups, and its sets are those of per-example Layer
Norm and of Instance Norm: :func:`tiny_table` asserts it and names the row after both."""

GROUPED = {"B T F": ("B T (G Fg)", "T Fg"), "N C H W": ("N (G Cg) H W", "Cg H W")}


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings of the same positions cut them into the same sets."""
    pairs = set(zip(a.ravel().tolist(), b.ravel().tolist(), strict=True))
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def tiny_table(x, layout: str) -> str:
    """Every statistics set of the tiny tensor *x* (``data.tiny_sequence()`` on ``"B T F"``,
    ``data.tiny_image()`` on ``"N C H W"``) under each norm of :data:`TINY_NORMS`, as one
    Markdown table of exact fractions: per norm, the axes it reduces over, m, the entries of
    each set (sets separated by ``;``), their means and biased variances (for RMS Norm, which
    subtracts no mean, the mean of squares rho^2).

    The sets are those of :func:`~normaxes.core.stat_groups`, the labels ``standardize`` uses;
    where the sets of GN(G) are the same (asserted), the row says so.
    """
    from fractions import Fraction

    from ..book.tables import markdown_table
    from ..core import stat_groups

    values = np.asarray(x)
    if values.shape[-1 if layout == "B T F" else 1] != 2:
        raise ValueError("tiny_table is for the book's tiny tensors, with two features "
                         f"(channels); got shape {values.shape}")
    rows = []
    for name, lay, over, sizes, center, G in TINY_NORMS[layout]:
        labels = stat_groups(lay, over, values.shape, **sizes)
        if G is not None:
            grouped, g_over = GROUPED[layout]
            if not _same_partition(labels, stat_groups(grouped, g_over, values.shape, G=G)):
                raise AssertionError(f"{name} and GN({G}) do not share their sets")
            name = f"{name} = GN({G})"
        sets, means, second = [], [], []
        for label in range(int(labels.max()) + 1):
            entries = [Fraction(int(values[tuple(i)])) for i in np.argwhere(labels == label)]
            m = len(entries)
            mu = sum(entries) / m
            sets.append(" ".join(str(e) for e in entries))
            means.append(str(mu))
            if center:
                second.append(str(sum((e - mu) ** 2 for e in entries) / m))
            else:
                second.append(str(sum(e * e for e in entries) / m))
        rows.append({"norm, over": f"{name}, over `{over}`", "m": m,
                     "entries of each set": "; ".join(sets),
                     "means": "; ".join(means) if center else "none subtracted",
                     "variances": ("" if center else "$\\rho^2$: ") + "; ".join(second)})
    return markdown_table(rows, list(rows[0]))


def norm_panels(layout: str, shape, G: int = 2) -> list[dict]:
    """The panels of :func:`draw_book_norms`: one per norm of ``NORMS[layout]``, titled with the
    book's name and the axes it reduces over."""
    from ..book.figures import CUBE_AXES

    batch, channel = CUBE_AXES[layout]
    panels = []
    for short, spec in NORMS[layout].items():
        sizes = {spec.group_axis: G} if spec.group_axis else {}
        panels.append(dict(layout=spec.layout, over=spec.over, shape=shape, batch=batch,
                           channel=channel, **sizes,
                           title=f"{book_name(short, layout, G)}\nover {spec.over}"))
    return panels


def draw_book_norms(layout: str, shape, G: int = 2):
    """The cube of each norm on *layout* in a row, the set of the first entry shaded, titled with
    the book's names (:func:`~normaxes.book.figures.draw_cubes`); returns the figure."""
    from ..book.figures import draw_cubes

    return draw_cubes(norm_panels(layout, shape, G))


def _span(indices) -> str:
    """``[0, 1, 2]`` as ``"0-2"``, ``[4]`` as ``"4"``, a list with gaps as ``"0, 3"``."""
    idx = [int(i) for i in indices]
    if len(idx) > 1 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{idx[0]}-{idx[-1]}"
    return ", ".join(str(i) for i in idx)


def sets_digest(layout: str, shape, G: int = 2) -> str:
    """What the cube figure of :func:`draw_book_norms` shows, as text.

    For each norm on *layout*, from :func:`~normaxes.book.figures.cube_facts`: how many
    statistics sets an array of *shape* has and their size m, and which cubes of the figure are
    shaded (the set of the first entry): the batch rows and channel columns it touches (``0-3``
    for rows 0 to 3) and how many of the flattened positions.
    Printed beside the figure, so that nbval compares what the picture shows.
    """
    from ..book.figures import CUBE_AXES, cube_facts

    batch, channel = CUBE_AXES[layout]
    lines = []
    for short, spec in NORMS[layout].items():
        sizes = {spec.group_axis: G} if spec.group_axis else {}
        counts, rows, cols, shaded, flat = cube_facts(spec.layout, spec.over, shape, batch=batch,
                                                      channel=channel, **sizes)
        if not (counts == counts[0]).all():
            raise AssertionError(f"{spec.name}: statistics sets of unequal size {counts}")
        lines.append(f"{book_name(short, layout, G):<22} over {spec.over:<7}{len(counts):>3} "
                     f"sets of m = {counts[0]:<3} shaded: {batch} {_span(rows)}, "
                     f"{channel} {_span(cols)}, {shaded} of {flat} positions")
    return "\n".join(lines)
