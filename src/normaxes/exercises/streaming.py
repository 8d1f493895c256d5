"""Checkers of the streaming chapter's exercises (13.1 to 13.4)."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..chapters.streaming import ACCUMULATE, cumulative_ln
from ..core import standardize
from . import exercise, same_choice, same_function, same_value

CH = "streaming"

# 13.1: cLN (eps = 0) of the second tiny sequence, frames (4, 0), (5, 9), (0, 2), at frame 2,
# feature 1 (the entry 5): the statistics of 4, 0, 5, 9 (mean 9/2, variance 41/4).
_CLN_5 = (5 - 4.5) / math.sqrt(41 / 4)


@exercise(CH, 1, solution=_CLN_5,
          wrong=[(5 - 10 / 3) / math.sqrt(89 / 9),  # gLN: the whole sequence
                 (5 - 7) / 2,  # per-frame Layer Norm: frame (5, 9) alone
                 (5 - 4.5) / math.sqrt(41 / 3),  # the unbiased variance
                 (5 - 4.5) / (41 / 4)],  # divided by the variance, not its square root
          right_because="frames 1 and 2 only: m = 4, mean 9/2, variance 41/4")
def _(answer):
    return same_value(_CLN_5, tol=1e-4, what="the output")(answer)


def _streams():
    """Sequences [B, T, F] (float64) of several lengths, none a multiple of 4."""
    g = np.random.default_rng(13)
    return [(torch.from_numpy(g.normal(size=(B, T, F)) * 2 + 1),)
            for B, T, F in ((2, 9, 3), (1, 6, 5), (3, 13, 2))]


def _chunked_bug(x, chunk=4):  # the exercise's bug: the sums restart at every chunk
    return torch.cat([cumulative_ln(x[:, c:c + chunk]) for c in range(0, x.shape[1], chunk)],
                     dim=1)


def _streamed_cln(x, chunk=4, eps=1e-5):  # the chapter's solution of 13.2
    B, T, F = x.shape
    s1 = torch.zeros(B, 1, 1, dtype=x.dtype)  # running sum of x over the frames so far
    s2 = torch.zeros(B, 1, 1, dtype=x.dtype)  # running sum of x**2
    out = []
    for c in range(0, T, chunk):
        part = x[:, c:c + chunk]
        c1 = s1 + part.sum(dim=2, keepdim=True).cumsum(dim=1)
        c2 = s2 + (part**2).sum(dim=2, keepdim=True).cumsum(dim=1)
        m = F * torch.arange(c + 1, c + part.shape[1] + 1, dtype=x.dtype).reshape(1, -1, 1)
        mu = c1 / m
        out.append((part - mu) / torch.sqrt(c2 / m - mu**2 + eps))
        s1, s2 = c1[:, -1:], c2[:, -1:]  # carried to the next chunk
    return torch.cat(out, dim=1)


# 13.2: find the bug in a chunked streaming cLN and fix it.
@exercise(CH, 2, solution=_streamed_cln,
          wrong=[_chunked_bug,
                 lambda x: standardize(x, "B T F", over="F"),  # per-frame Layer Norm
                 lambda x: standardize(x, "B T F", over="T F")],  # gLN: not causal
          right_because="the two running sums cross the chunk boundaries: the same numbers as "
                        "cumulative_ln on the whole sequence")
def _(answer):
    return same_function(cumulative_ln, _streams, tol=1e-9, what="your streamed cLN")(answer)


# 13.3: which norms can run in a streaming model, frame by frame?
STREAMABLE = frozenset({"per-frame Layer Norm", "RMS Norm", "Batch Norm (eval)", "cLN"})
NORM_NAMES = ("per-frame Layer Norm", "per-example Layer Norm", "RMS Norm", "Batch Norm (training)",
              "Batch Norm (eval)", "Instance Norm", "GN(2)", "gLN", "cLN")
_WHY = {"per-example Layer Norm": "per-example Layer Norm (gLN on a sequence) pools every frame, "
                                  "the future included",
        "gLN": "gLN pools every frame of the sequence, the future included",
        "Instance Norm": "Instance Norm pools each feature over every frame, the future included",
        "GN(2)": "GN(2) pools each group over every frame, the future included",
        "Batch Norm (training)": "Batch Norm in training pools the whole batch, every frame",
        "per-frame Layer Norm": "per-frame Layer Norm reads one frame: it streams",
        "RMS Norm": "RMS Norm (over F) reads one frame: it streams",
        "Batch Norm (eval)": "Batch Norm in eval uses fixed running statistics: it streams",
        "cLN": "cLN reads the frames up to t only: it streams"}


@exercise(CH, 3, solution=set(STREAMABLE),
          wrong=[STREAMABLE | {"Batch Norm (training)"}, STREAMABLE - {"RMS Norm"},
                 STREAMABLE | {"gLN"}, {"cLN"}],
          right_because="their statistics sets hold no frame after t")
def _(answer):
    got = {answer} if isinstance(answer, str) else set(answer)
    unknown = sorted(got - set(NORM_NAMES))
    if unknown:
        return f"{unknown} not among the names {list(NORM_NAMES)}"
    extra, missing = got - STREAMABLE, STREAMABLE - got
    if not extra and not missing:
        return None
    return "; ".join([f"not {n}: {_WHY[n]}" for n in sorted(extra)]
                     + [f"{n} too: {_WHY[n]}" for n in sorted(missing)])


# 13.4: NumPy, float32, 10^5 frames around a mean of 100: which accumulation stays within 1e-5?
@exercise(CH, 4, solution="float64", wrong=["naive", "shifted"],
          right_because="only float64 sums stay within a few float32 steps at every length")
def _(answer):
    return same_choice("float64", options=ACCUMULATE, reasons={
        "naive": "E[x²] − E[x]² cancels: at mean 100 the float32 rounding is multiplied by "
                 "about 10^4",
        "shifted": "the shift removes the cancellation, but NumPy's float32 cumsum still adds "
                   "rounding errors frame after frame: about 1e-4 at 10^5 frames"})(answer)
