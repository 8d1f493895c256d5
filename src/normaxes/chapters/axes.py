"""Chapter 1: the book's answer table, ``NORMS``, run beside the frameworks' own layers."""

from __future__ import annotations

import numpy as np
import torch

from .. import NORMS, data, load_keras, on_channels_first, to_numpy

__all__ = ["table_vs_layers", "TORCH_LAYERS", "KERAS_LAYERS"]

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
