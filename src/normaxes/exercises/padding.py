"""Checkers of the padding chapter's exercises (12.1 to 12.4)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..chapters.padding import pad_sequences
from ..core import moments, standardize
from . import exercise, same_choice, same_function, same_value

CH = "padding"

# 12.1: GN(1) on the padded tiny sequence, entry 9 of the second sequence (frame 2, feature 2),
# eps = 0: with the padding counted (mean 3, variance 34/3) minus with the mask (9/2, 41/4).
_GN1_SHIFT = 6 / math.sqrt(34 / 3) - 4.5 / math.sqrt(41 / 4)


@exercise(CH, 1, solution=_GN1_SHIFT,
          wrong=[0.0, -_GN1_SHIFT, 6 / math.sqrt(34 / 3), 4.5 / math.sqrt(41 / 4),
                 6 / math.sqrt(34 / 3 * 6 / 5) - 4.5 / math.sqrt(41 / 4 * 4 / 3)],
          right_because="the zero frame pulls the mean from 9/2 to 3 and the spread from "
                        "sqrt(41/4) to sqrt(34/3): the entry moves up by 0.38")
def _(answer):
    return same_value(_GN1_SHIFT, tol=1e-3, what="unmasked minus masked output")(answer)


def _padded_inputs():
    """Padded batches [B, T, F] (float64) with their masks [B, T, 1], the padding not zero."""
    g = np.random.default_rng(12)
    out = []
    for lengths, T in (([5, 3, 1], 5), ([7, 7], 9), ([2, 6, 4, 3], 8)):
        seqs = [torch.from_numpy(g.normal(size=(n, 3)) + 1.0) for n in lengths]
        x, mask = pad_sequences(seqs, T, value=2.5)  # padding that is not 0
        out.append((x, mask))
    return out


def _masked_mean(x, mask):
    return moments(x, "B T F", "T", mask=mask)[0]


def _buggy_mean(x, mask):  # the exercise's bug: divides by T
    return (x * mask).sum(dim=1, keepdim=True) / x.shape[1]


def _fixed_mean(x, mask):  # the chapter's solution of 12.2
    return (x * mask).sum(dim=1, keepdim=True) / mask.sum(dim=1, keepdim=True)


# 12.2: the masked mean over T that divides by T; the fix divides by the real frames' count.
@exercise(CH, 2, solution=_fixed_mean,
          wrong=[_buggy_mean,
                 lambda x, mask: x.mean(dim=1, keepdim=True),
                 lambda x, mask: (x * mask).sum(1, keepdim=True) / mask.sum(dim=(0, 1),
                                                                           keepdim=True)],
          right_because="each sequence's real frames are summed and divided by their number")
def _(answer):
    return same_function(_masked_mean, _padded_inputs, tol=1e-9,
                         what="your masked mean")(answer)


def _masked_example_ln(x, mask):
    return standardize(x, "B T F", over="T F", mask=mask)


def _plain_example_ln(x, mask, eps=1e-5):  # the chapter's solution of 12.3
    w = mask.expand_as(x).to(x.dtype)
    m = w.sum(dim=(1, 2), keepdim=True)
    mu = (x * w).sum(dim=(1, 2), keepdim=True) / m
    var = ((x - mu) ** 2 * w).sum(dim=(1, 2), keepdim=True) / m
    return (x - mu) / torch.sqrt(var + eps) * w


# 12.3: per-example Layer Norm over (T, F) with a mask, in plain PyTorch.
@exercise(CH, 3, solution=_plain_example_ln,
          wrong=[lambda x, mask: F.layer_norm(x, x.shape[1:]),  # the padding counted
                 lambda x, mask: F.layer_norm(x, x.shape[1:]) * mask,
                 lambda x, mask: standardize(x, "B T F", over="F", mask=mask),  # per frame
                 lambda x, mask: standardize(x, "B T F", over="T F", mask=mask) + (~mask)],
          right_because="statistics over the real frames and every feature of each sequence, "
                        "0 at padding: standardize(x, 'B T F', over='T F', mask=mask)")
def _(answer):
    return same_function(_masked_example_ln, _padded_inputs, tol=1e-9,
                         what="your masked per-example Layer Norm")(answer)


# 12.4: Keras, Masking -> LayerNormalization -> GroupNormalization: whose real frames move
# with the padding?
KERAS_CHOICES = ("LayerNormalization", "GroupNormalization", "both", "neither")


@exercise(CH, 4, solution="GroupNormalization", wrong=["LayerNormalization", "both", "neither"],
          right_because="per-frame Layer Norm pools no frames; GroupNormalization receives the "
                        "mask and ignores it, so its statistics over T count the padding")
def _(answer):
    return same_choice("GroupNormalization", options=KERAS_CHOICES, reasons={
        "LayerNormalization": "LayerNormalization(axis=-1) is per-frame Layer Norm: each set is "
                              "one frame, so the padded frames never enter a real frame's "
                              "statistics",
        "both": "LayerNormalization(axis=-1) pools no frames: the padding cannot reach it",
        "neither": "GroupNormalization does not use the mask it receives: its statistics run "
                   "over every frame, padding included"})(answer)
