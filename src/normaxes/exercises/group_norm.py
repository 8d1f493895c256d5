"""The exercises of the Group and Instance Norm chapter (page ``group_norm``): checkers for
``check("4.k", answer)``."""

from __future__ import annotations

import numpy as np

from . import exercise, same_choice, same_function, same_value

CH = "group_norm"

# --- 4.1: predict the set of x[1, 2, 3] under GN(3) on [B, T, F] = [2, 4, 6] ---------------

def _mask(b=slice(None), t=slice(None), f=slice(None)) -> np.ndarray:
    out = np.zeros((2, 4, 6), dtype=bool)
    out[b, t, f] = True
    return out


EX1 = _mask(1, slice(None), slice(2, 4))  # sequence 1, every frame, features 2 and 3


@exercise(CH, 1, solution=EX1,
          wrong=[_mask(1, 2, slice(2, 4)),  # one frame only: a per-frame reading of the group
                 _mask(1, slice(None), [0, 3]),  # features f with f % 3 == 0: groups interleaved
                 _mask(1, slice(None), 3),  # feature 3 alone: Instance Norm
                 _mask(slice(None), slice(None), slice(2, 4)),  # both sequences: Batch Norm's
                 _mask(1)],  # the whole sequence: GN(1)
          right_because="Sequence 1, all 4 frames, features 2 and 3 (the second group of "
                        "Fg = 6 // 3 = 2 consecutive features): m = 8 entries.")
def _(answer):
    got = np.asarray(answer)
    if got.shape != (2, 4, 6):
        return f"answer with a boolean array of shape (2, 4, 6), not {got.shape}"
    got = got.astype(bool)
    if (got == EX1).all():
        return None
    if got[0].any():
        return "the other sequence is marked: Group Norm never pools across the batch"
    if got[1].any(axis=1).sum() < 4 and got[1, 2].any():
        return "a group pools every frame of its features, not one frame"
    cols = sorted(set(np.nonzero(got[1])[1].tolist()))
    if cols == [0, 3]:
        return "the groups are consecutive features (0 1 | 2 3 | 4 5), not every third one"
    if cols == [3]:
        return "feature 3 alone is Instance Norm's set; with G = 3 its group holds 2 features"
    if cols == list(range(6)):
        return "every feature is GN(1)'s set; with G = 3 a group holds Fg = 6 // 3 = 2"
    return same_value(EX1.astype(float), tol=0, what="the mask")(got.astype(float))


# --- 4.2: by hand, GN(1) of the 9 of the tiny sequence -------------------------------------
# The second sequence holds 4 0 5 9 0 2: mean 10/3, biased variance 89/9.
EX2 = (9 - 10 / 3) / np.sqrt(89 / 9)


@exercise(CH, 2, solution=EX2,
          wrong=[1.0,  # per-frame Layer Norm: the frame (5, 9)
                 (9 - 11 / 3) / np.sqrt(134 / 9),  # Instance Norm: the feature 0 9 2
                 (9 - 10 / 3) / np.sqrt(89 / 9 * 6 / 5)],  # the unbiased variance
          right_because="GN(1) pools the whole sequence, mean 10/3 and variance 89/9: "
                        "17/sqrt(89).")
def _(answer):
    return same_value(EX2, tol=1e-3, what="the output")(answer)


# --- 4.3: the bug: reshape in place of transpose -------------------------------------------

def _gn_seq(x, G=2):
    import torch

    return torch.nn.functional.group_norm(x.transpose(1, 2), G).transpose(1, 2)


def _gn_seq_reshaped(x, G=2):  # the bug of the exercise
    import torch

    B, T, F = x.shape
    return torch.nn.functional.group_norm(x.reshape(B, F, T), G).reshape(B, T, F)


def _gn_untransposed(x, G=2):  # nn.GroupNorm(G, T) on [B, T, F]: groups of frames
    import torch

    return torch.nn.functional.group_norm(x, G)


def _per_frame(x, G=2):
    import torch

    return torch.nn.functional.layer_norm(x, x.shape[-1:])


def _sequences():
    import torch

    from .. import data

    return [(torch.from_numpy(data.sequence(B=B, T=T, F=F, seed=seed, dtype=np.float64)),)
            for (B, T, F), seed in [((2, 6, 4), 41), ((3, 5, 8), 42)]]


@exercise(CH, 3, solution=_gn_seq, wrong=[_gn_seq_reshaped, _gn_untransposed, _per_frame],
          right_because="The transpose moves the features to dimension 1, where nn.GroupNorm "
                        "reads its channels; a reshape keeps the memory order, [T, F], and "
                        "cuts it in the wrong places.")
def _(answer):
    from .. import standardize

    return same_function(lambda x: standardize(x, "B T (G Fg)", over="T Fg", G=2), _sequences,
                         tol=1e-6, what="group_norm_seq(x)")(answer)


# --- 4.4: a real model, wav2vec 2.0's first convolution ------------------------------------

@exercise(CH, 4, solution="Instance Norm", wrong=["GN(G)", "per-example Layer Norm"],
          right_because="num_groups = num_channels: one channel per group, Instance Norm over "
                        "time.")
def _(answer):
    return same_choice("Instance Norm",
                       options=("Instance Norm", "GN(G)", "per-example Layer Norm"), reasons={
        "GN(G)": "num_groups equals num_channels: every group holds one channel",
        "per-example Layer Norm": "that would be num_groups = 1; here num_groups equals "
                                  "num_channels",
    })(answer)
