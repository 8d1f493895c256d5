"""The exercises of the chapter "Axes and layouts" (chapter 1): the checkers of their answers."""

from __future__ import annotations

import numpy as np

from .. import data, standardize
from ..core import shared_with
from . import exercise, same_function, same_value

# --- 1.1: GN(3) on [B, T, F] = [2, 4, 6]: the entries that share x[0, 0, 0]'s mean -------------

SHAPE_11 = (2, 4, 6)
GN3_SHARED = shared_with("B T (G Fg)", "T Fg", SHAPE_11, G=3).astype(float)


def _mask(index) -> np.ndarray:
    m = np.zeros(SHAPE_11)
    m[index] = 1
    return m


WRONG_11 = {  # plausible wrong masks, and why each is wrong
    "per frame": (_mask(np.s_[0, 0, :2]), "GN pools its group over every frame, not one frame"),
    "whole frame": (_mask(np.s_[0, 0, :]), "that is per-frame Layer Norm: all six features of "
                                           "one frame"),
    "interleaved": (_mask(np.s_[0, :, ::3]), "a group is Fg = F // G consecutive features "
                                             "(0 and 1), not every G-th feature"),
    "both examples": (_mask(np.s_[:, :, :2]), "GN never pools across examples: the batch axis "
                                              "is fixed"),
    "whole example": (_mask(np.s_[0]), "with G = 3 a group holds 2 of the 6 features, not all"),
}


@exercise("axes", 1, solution=GN3_SHARED, wrong=[m for m, _ in WRONG_11.values()],
          right_because="GN(3) pools x[0, :, 0:2]: one example, every frame, the 2 features of "
                        "the first group (m = 8).")
def _(answer):
    return same_value(GN3_SHARED, what="the mask", known_wrong=WRONG_11.values(),
                      hint="mark with 1 every entry x[b, t, f] in the set of x[0, 0, 0], "
                           "itself included")(answer)


# --- 1.2: per-frame RMS Norm of the tiny sequence's second sequence, by hand -------------------

X2 = data.tiny_sequence()[1]  # frames (4, 0), (5, 9), (0, 2)
RMS_12 = X2 / np.sqrt((X2**2).mean(axis=-1, keepdims=True))


@exercise("axes", 2, solution=RMS_12,
          wrong=[standardize(X2, "T F", over="F", eps=0),  # subtracts the mean
                 X2 / np.sqrt((X2**2).sum(axis=-1, keepdims=True)),  # sum, not mean
                 X2 / np.sqrt((X2**2).mean())],  # one RMS for the whole sequence
          right_because="Each frame is divided by the root of its mean of squares: 8, 53 and 2.")
def _(answer):
    why = same_value(RMS_12, tol=1e-3, what="the output [T, F]")(answer)
    sum_not_mean = same_value(RMS_12 * np.sqrt(2), tol=1e-3)(answer) is None
    if why is not None and sum_not_mean:
        return why + "; you divided by the root of the sum of squares, not of their mean"
    return why


# --- 1.3: x.std() instead of the biased variance: by what factor is the output off? -----------

FACTOR_13 = np.sqrt(7 / 8)  # buggy / right = sqrt((m - 1) / m) with m = F = 8


@exercise("axes", 3, solution=FACTOR_13, wrong=[7 / 8, 8 / 7, np.sqrt(8 / 7), 1.0],
          right_because="With x.std() the variance is divided by m - 1 = 7, not m = 8: the "
                        "output is sqrt(7/8) times the right one.")
def _(answer):
    return same_value(FACTOR_13, tol=1e-3, what="the factor")(answer)


# --- 1.4: per-example Layer Norm over the real frames of a padded batch, in plain PyTorch -----

def ln_masked_reference(x, mask, eps=1e-5):
    """Per-example Layer Norm of ``x [B, T, F]`` over the frames where ``mask [B, T]`` is true,
    0 at the padded frames."""
    return standardize(x, "B T F", over="T F", eps=eps, mask=mask[..., None])


def _inputs_14():
    import torch

    out = []
    for seed, lengths in ((1, (7, 5, 2)), (2, (4, 4)), (3, (1, 6, 3, 6))):
        B, T = len(lengths), max(lengths)
        x = torch.from_numpy(data.sequence(B=B, T=T, F=4, seed=seed, dtype=np.float64))
        mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]  # [B, T]
        x = x.masked_fill(~mask[..., None], 3.0)  # padding that must not count
        out.append((x, mask))
    return out


def _ln_unmasked(x, mask, eps=1e-5):  # a wrong answer: the padding counted
    return standardize(x, "B T F", over="T F", eps=eps) * mask[..., None]


def _ln_per_frame(x, mask, eps=1e-5):  # a wrong answer: per-frame Layer Norm
    return standardize(x, "B T F", over="F", eps=eps) * mask[..., None]


def _ln_unbiased(x, mask, eps=1e-5):  # a wrong answer: the unbiased variance of the real entries
    m = mask[..., None].to(x.dtype)
    n = m.sum(dim=(1, 2), keepdim=True) * x.shape[-1]
    mu = (x * m).sum(dim=(1, 2), keepdim=True) / n
    var = (((x - mu) * m) ** 2).sum(dim=(1, 2), keepdim=True) / (n - 1)
    return (x - mu) / (var + eps).sqrt() * m


@exercise("axes", 4, solution=ln_masked_reference,
          wrong=[_ln_unmasked, _ln_per_frame, _ln_unbiased],
          right_because="The mean and the biased variance run over the real frames' T and F.")
def _(answer):
    return same_function(ln_masked_reference, _inputs_14, tol=1e-6, what="your ln_masked")(answer)
