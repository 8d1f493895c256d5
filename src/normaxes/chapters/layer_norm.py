"""The Layer Norm chapter (page layer_norm): the affine shapes read from the installed layers, the
errors of an affine that fixes H and W (or T), the docstrings quoted, the eps ratio, and the table
of the three Layer Norms (per-frame, per-example, per-pixel)."""

from __future__ import annotations

import re
import textwrap

import numpy as np
import torch

from .. import affine_shape, data, load_keras, stat_groups
from ..book.tables import markdown_table

__all__ = ["SHAPES", "scale_shift_shapes", "affine_table", "size_errors", "docstring_phrases",
           "summary_table", "eps_ratio"]

SHAPES = {"B T F": (4, 50, 8), "N C H W": (4, 6, 5, 5), "N H W C": (4, 5, 5, 6)}
"""The input shapes the chapter builds its layers for."""


def scale_shift_shapes(layer, layout: str) -> list[tuple]:
    """The shapes of the trainable parameters of *layer* (weight and bias in PyTorch, gamma and
    beta in Keras), built for an input of ``SHAPES[layout]``."""
    K = load_keras()
    if isinstance(layer, K.layers.Layer):  # (on the torch backend also a torch Module)
        layer.build(SHAPES[layout])
        return [tuple(v.shape) for v in layer.trainable_weights]  # not BN's moving statistics
    return [tuple(p.shape) for p in layer.parameters()]


def _layers():
    nn, L = torch.nn, load_keras().layers
    N, C, H, W = SHAPES["N C H W"]
    F = SHAPES["B T F"][2]
    return [  # the call, the layer, the input layout, the axes its affine varies along
        ("nn.LayerNorm(F)", nn.LayerNorm(F), "B T F", "F"),
        ("LayerNormalization()", L.LayerNormalization(), "B T F", "F"),
        ("nn.LayerNorm([C, H, W])", nn.LayerNorm([C, H, W]), "N C H W", "C H W"),
        ("LayerNormalization(axis=[1, 2, 3])", L.LayerNormalization(axis=[1, 2, 3]),
         "N C H W", "C H W"),
        ("nn.BatchNorm2d(C)", nn.BatchNorm2d(C), "N C H W", "C"),
        ("nn.GroupNorm(3, C)", nn.GroupNorm(3, C), "N C H W", "C"),
        ("nn.GroupNorm(1, C)", nn.GroupNorm(1, C), "N C H W", "C"),
        ("nn.InstanceNorm2d(C, affine=True)", nn.InstanceNorm2d(C, affine=True), "N C H W", "C"),
        ("BatchNormalization(axis=1)", L.BatchNormalization(axis=1), "N C H W", "C"),
        ("GroupNormalization(groups=3, axis=1)", L.GroupNormalization(groups=3, axis=1),
         "N C H W", "C"),
    ]


def affine_table() -> str:
    """The scale and shift shapes of the Layer Norm layers and of the per-channel norms, read from
    the installed layers and checked against :func:`~normaxes.affine_shape`, as Markdown."""
    K = load_keras()
    N, C, H, W = SHAPES["N C H W"]
    rows, count = [], {}
    for call, layer, layout, along in _layers():
        scale, shift = scale_shift_shapes(layer, layout)
        assert scale == shift == affine_shape(layout, along, SHAPES[layout]), call
        count[call] = 2 * int(np.prod(scale))
        rows.append({"framework": "Keras" if isinstance(layer, K.layers.Layer) else "PyTorch",
                     "layer": f"`{call}`", "input": f"`[{', '.join(layout.split())}]`",
                     "scale shape": scale, "scale + shift values": count[call],
                     "varies along": along})
    assert count["nn.LayerNorm([C, H, W])"] == 2 * C * H * W == 300
    assert count["nn.GroupNorm(3, C)"] == count["nn.GroupNorm(1, C)"] == 2 * C == 12
    return markdown_table(rows)


def _gist(call) -> str:
    """The line of the error message of *call* that states the shapes, without colour codes."""
    try:
        call()
    except RuntimeError as err:
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
        line = next(s for s in text.splitlines() if "shape" in s)
        return f"{type(err).__name__}: {line.strip()}"
    raise AssertionError("the call did not fail")


def size_errors() -> str:
    """What an affine of shape (C, H, W) or (T, F) does with another input size: the errors of
    PyTorch and Keras, after checking that the size they were built for and a per-channel affine
    run."""
    K = load_keras()
    N, C, H, W = SHAPES["N C H W"]
    T, F = SHAPES["B T F"][1:]
    img = torch.from_numpy(data.images(N=N, C=C, H=H, W=W, seed=8))
    img7 = torch.from_numpy(data.images(N=2, C=C, H=7, W=7, seed=9))  # [N, C, 7, 7]
    seq7 = torch.from_numpy(data.sequence(B=2, T=7, F=F, seed=9))  # [B, 7, F]
    ln_torch, ln_seq_tf = torch.nn.LayerNorm([C, H, W]), torch.nn.LayerNorm((T, F))
    ln_keras = K.layers.LayerNormalization(axis=[1, 2, 3])
    ln_keras(img)  # builds gamma and beta of shape (C, 5, 5)
    lines = []
    with torch.no_grad():
        assert ln_torch(img).shape == img.shape  # the size it was built for
        assert torch.nn.GroupNorm(3, C)(img7).shape == img7.shape  # per channel: any H, W
        assert torch.nn.LayerNorm(F)(seq7).shape == seq7.shape  # per frame: any length T
        for what, call in [
                ("nn.LayerNorm([C, 5, 5]) on 7x7 images", lambda: ln_torch(img7)),
                ("Keras axis=[1, 2, 3], built on 5x5, on 7x7", lambda: ln_keras(img7)),
                (f"nn.LayerNorm(({T}, F)) on T=7", lambda: ln_seq_tf(seq7))]:
            lines.append(what + ":")
            lines.append(textwrap.fill(_gist(call), 88, initial_indent="  ",
                                       subsequent_indent="    "))
    return "\n".join(lines)


def docstring_phrases() -> str:
    """Two sentences of Keras' docstrings on Layer Norm and Group Norm with one group, asserted to
    be in the installed layers' docstrings (whitespace ignored)."""
    L = load_keras().layers
    lines = []
    for layer, phrase in [
            (L.LayerNormalization, "will not match a Group Normalization layer with group size "
                                   "set to 1"),
            (L.GroupNormalization, "this operation becomes nearly identical to Layer "
                                   "Normalization")]:
        assert phrase in " ".join(layer.__doc__.split()), layer.__name__
        lines.append(f"{layer.__name__}: ... {phrase} ...")
    return "\n".join(lines)


def summary_table() -> str:
    """The three Layer Norms, per-frame, per-example (on a sequence and on images) and per-pixel:
    each one's call, its ``standardize`` form, the number and size of its statistics sets (from
    :func:`~normaxes.stat_groups`) and its scale shape (read from the PyTorch and the Keras layer,
    which must agree)."""
    nn, L = torch.nn, load_keras().layers
    N, C, H, W = SHAPES["N C H W"]
    T, F = SHAPES["B T F"][1:]
    summary = [
        ("per-frame", "nn.LayerNorm(F) / LayerNormalization()", "B T F", "F",
         nn.LayerNorm(F), L.LayerNormalization()),
        ("per-example, sequence", "nn.LayerNorm((T, F)) / LayerNormalization(axis=[1, 2])",
         "B T F", "T F", nn.LayerNorm((T, F)), L.LayerNormalization(axis=[1, 2])),
        ("per-example, images", "nn.LayerNorm([C, H, W]) / LayerNormalization(axis=[1, 2, 3])",
         "N C H W", "C H W", nn.LayerNorm([C, H, W]), L.LayerNormalization(axis=[1, 2, 3])),
        ("per-pixel", "nn.LayerNorm(C) / LayerNormalization()", "N H W C", "C",
         nn.LayerNorm(C), L.LayerNormalization()),
    ]
    rows = []
    for what, calls, layout, over, ln_torch, ln_keras in summary:
        scale = scale_shift_shapes(ln_torch, layout)[0]
        assert scale_shift_shapes(ln_keras, layout)[0] == scale  # Keras' gamma: the same shape
        counts = np.bincount(stat_groups(layout, over, SHAPES[layout]).ravel())
        rows.append({"Layer Norm": what, "PyTorch / Keras": f"`{calls}`",
                     "`standardize`": f'`"{layout}"`, over `"{over}"`', "sets": len(counts),
                     "$m$": counts[0], "scale shape": scale})
    return markdown_table(rows)


def eps_ratio(var, eps_keras: float = 1e-3, eps_torch: float = 1e-5):
    """The ratio of Keras' to PyTorch's Layer Norm output on a set of variance *var*, each with its
    default eps: ``sqrt((var + eps_torch) / (var + eps_keras))``."""
    return np.sqrt((var + eps_torch) / (var + eps_keras))
