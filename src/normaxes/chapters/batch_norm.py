"""Chapter 2 (Batch Norm): the running statistics worked by hand, the defaults read from the
installed layers, and the data of the layout-trap figure."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

from .. import load_keras, on_channels_first, standardize, to_numpy
from ..book.tables import markdown_table

__all__ = ["exact_running", "fractions", "defaults_table", "share_moved", "frame_rms",
           "layout_trap_curves", "plot_rms"]

ALPHA = {"PyTorch": Fraction(1, 10), "Keras": Fraction(1, 100)}
"""The weight of the new batch, alpha, with each framework's default momentum."""


def exact_running(x, layout: str = "B T F", feature_axis: int = -1) -> str:
    """One training step of the running statistics on the integer tensor *x*, as a Markdown table
    of exact fractions: per feature, the batch mean and biased variance, and the running mean and
    variance of PyTorch (alpha = 1/10, the unbiased variance mixed in) and Keras (alpha = 1/100,
    the biased one), both starting at mean 0 and variance 1."""
    values = np.moveaxis(np.asarray(x), feature_axis, -1)
    values = values.reshape(-1, values.shape[-1])
    rows = []
    for f in range(values.shape[1]):
        entries = [Fraction(int(v)) for v in values[:, f]]
        m = len(entries)
        mu = sum(entries) / m
        var = sum((e - mu) ** 2 for e in entries) / m
        a_t, a_k = ALPHA["PyTorch"], ALPHA["Keras"]
        rows.append({
            "feature": f + 1, "batch mean": mu, "batch variance": var,
            "PyTorch mean": a_t * mu, "PyTorch variance": (1 - a_t) + a_t * var * m / (m - 1),
            "Keras mean": a_k * mu, "Keras variance": (1 - a_k) + a_k * var,
        })
    return markdown_table([{k: str(v) for k, v in r.items()} for r in rows])


def fractions(values, max_denominator: int = 1000) -> str:
    """*values* (an array or tensor) as exact-looking fractions, for comparison with a table
    worked by hand: ``[0.3, 1.46]`` prints as ``3/10 73/50``."""
    flat = np.asarray(to_numpy(values), dtype=np.float64).ravel()
    return " ".join(str(Fraction(float(v)).limit_denominator(max_denominator)) for v in flat)


def defaults_table() -> str:
    """The defaults of PyTorch's and Keras' Batch Norm layers, read from the installed layers, as
    a Markdown table; raises if a release changes them (or the update rules in the docstrings)."""
    from ..book.ledger import check
    from .frameworks import defaults

    K = load_keras()
    torch_1d = defaults(torch.nn.BatchNorm1d, "eps", "momentum")
    torch_2d = defaults(torch.nn.BatchNorm2d, "eps", "momentum")
    keras_bn = defaults(K.layers.BatchNormalization, "axis", "epsilon", "momentum")
    assert torch_1d == torch_2d == {"eps": 1e-5, "momentum": 0.1}
    assert keras_bn == {"axis": -1, "epsilon": 1e-3, "momentum": 0.99}

    def says(doc, phrase):  # the phrase is in the docstring, whitespace ignored
        return " ".join(phrase.split()) in " ".join(doc.split())

    torch_doc, keras_doc = torch.nn.BatchNorm1d.__doc__, K.layers.BatchNormalization.__doc__
    assert says(torch_doc, "the value stored in the moving average of the variance is "
                           "calculated via the unbiased estimator")
    assert says(torch_doc, r"(1 - \text{momentum}) \times \hat{x} + \text{momentum} \times x_t")
    assert says(keras_doc, "moving_var = moving_var * momentum + var(batch) * (1 - momentum)")
    bn_t, bn_k = torch.nn.BatchNorm1d(8), K.layers.BatchNormalization()
    bn_k.build((4, 20, 8))
    for stat, start in ((bn_t.running_mean, 0), (bn_t.running_var, 1),
                        (bn_k.moving_mean, 0), (bn_k.moving_variance, 1)):
        assert (to_numpy(stat) == start).all()
    rows = [
        ("feature axis", "dimension 1 (`[B, F, T]`, `[N, C, H, W]`)", f"`axis={keras_bn['axis']}`"),
        ("$\\epsilon$", f"`eps={torch_1d['eps']:g}`", f"`epsilon={keras_bn['epsilon']:g}`"),
        ("`momentum`", f"`{torch_1d['momentum']:g}`", f"`{keras_bn['momentum']:g}`"),
        ("$\\alpha$, weight of the new batch", f"momentum = {torch_1d['momentum']:g}",
         f"1 − momentum = {1 - keras_bn['momentum']:.2g}"),
        # the variance each stores: the claims of the chapter check it (check raises otherwise)
        ("variance mixed in and stored",
         "unbiased, $\\frac{m}{m-1}\\sigma^2$" if check("bn-torch-stores-unbiased").holds else "?",
         "biased, $\\sigma^2$" if check("bn-keras-stores-biased").holds else "?"),
        ("start", "mean 0, variance 1", "mean 0, variance 1"),
    ]
    return markdown_table([{"": a, "PyTorch `BatchNorm1d`, `BatchNorm2d`": b,
                            "Keras `BatchNormalization`": c} for a, b, c in rows])


def share_moved(x, steps=(3, 30)) -> str:
    """Feed the one batch *x* ``[B, T, F]`` to PyTorch's and Keras' Batch Norm, with their default
    momentum, for each number of *steps*; assert that each running mean has moved the share
    ``1 - (1 - alpha) ** steps`` of the way from 0 to the batch mean, and return those shares."""
    K = load_keras()
    target = np.asarray(x).mean(axis=(0, 1))  # the batch mean per feature
    bn_t, bn_k = torch.nn.BatchNorm1d(x.shape[-1]), K.layers.BatchNormalization()
    alpha = {"PyTorch": float(ALPHA["PyTorch"]), "Keras": float(ALPHA["Keras"])}
    lines, done = [], 0
    for s in steps:
        for _ in range(s - done):
            with torch.no_grad():
                on_channels_first(bn_t.train(), torch.from_numpy(x))
            bn_k(torch.from_numpy(x), training=True)
        done = s
        moved = {name: 1 - (1 - a) ** s for name, a in alpha.items()}
        for name, stat in (("PyTorch", bn_t.running_mean), ("Keras", bn_k.moving_mean)):
            assert np.allclose(to_numpy(stat), moved[name] * target, rtol=1e-4, atol=1e-6)
        lines.append(f"after {s:>2} steps, the share of the way moved: "
                     f"PyTorch {moved['PyTorch']:.2g}, Keras {moved['Keras']:.2g}")
    return "\n".join(lines)


def frame_rms(y) -> np.ndarray:
    """``[B, T, F]`` -> ``[T]``: the RMS of each time step over B and F."""
    return np.sqrt((np.asarray(to_numpy(y), dtype=np.float64) ** 2).mean(axis=(0, 2)))


def layout_trap_curves(x) -> dict:
    """The per-time-step RMS of the input *x* ``[B, T, F]``, of Batch Norm over B and T, and of
    ``nn.BatchNorm1d(T)`` applied to ``[B, T, F]`` without the transpose (over B and F)."""
    t = torch.from_numpy(x)
    with torch.no_grad():
        wrong = torch.nn.BatchNorm1d(x.shape[1])(t)  # num_features = T: the wrong axis
    return {"input x": frame_rms(x),
            'Batch Norm, over "B T"': frame_rms(standardize(x, "B T F", over="B T")),
            'BatchNorm1d(T) on [B, T, F], over "B F"': frame_rms(wrong)}


def plot_rms(curves: dict):
    """Draw the curves of :func:`layout_trap_curves`; return the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    for (name, r), style in zip(curves.items(), ("-", "-o", "--"), strict=True):
        ax.plot(np.arange(len(r)), r, style, label=name, markersize=3)
    ax.set_xticks(np.arange(0, len(r) + 1, 5))
    ax.set_xlabel("time step t")
    ax.set_ylabel("RMS over B and F")
    ax.legend(fontsize=11, loc="upper center")
    fig.tight_layout()
    return fig
