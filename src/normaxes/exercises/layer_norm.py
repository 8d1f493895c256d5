"""The exercises of the Layer Norm chapter (page ``layer_norm``): checkers for
``check("3.k", answer)``."""

from __future__ import annotations

import numpy as np

from . import exercise, same_axes, same_choice, same_function, same_value

CH = "layer_norm"

# --- 3.1: by hand, per-example Layer Norm of the entry 0 of the second tiny image ----------
# The image holds 0 4 2 6 and 6 2 0 0: mean 20/8 = 5/2, biased variance 46/8 = 23/4.
EX1 = (0 - 5 / 2) / np.sqrt(23 / 4)


@exercise(CH, 1, solution=EX1,
          wrong=[-1.0,  # per-pixel Layer Norm: the pixel (0, 6)
                 -3 / np.sqrt(5),  # Instance Norm: the channel 0 4 2 6
                 -2.5 / np.sqrt(46 / 7)],  # the unbiased variance, divided by m - 1 = 7
          right_because="The image has mean 5/2 and biased variance 23/4: -5/sqrt(23).")
def _(answer):
    why = same_value(EX1, tol=1e-3, what="the output")(answer)
    if why and np.size(answer) == 1 and np.isclose(float(np.ravel(answer)[0]), -1.0):
        return why + "; -1 is per-pixel Layer Norm's answer: per-example pools the whole image"
    return why


# --- 3.2: per-frame Layer Norm with a padding mask, in plain PyTorch -----------------------

def _masked_per_frame(x, mask):
    from .. import standardize

    return standardize(x, "B T F", over="F", mask=mask)


def _padded_inputs():
    """Two float64 sequence batches ``[B, T, F]`` whose padded frames hold garbage, and their
    masks ``[B, T, 1]``."""
    import torch

    from .. import data

    out = []
    for (B, T, F), lengths, seed in [((3, 6, 4), [6, 4, 1], 31), ((2, 5, 8), [2, 5], 32)]:
        x = torch.from_numpy(data.sequence(B=B, T=T, F=F, seed=seed, dtype=np.float64))
        mask = torch.from_numpy(data.length_mask(lengths, T))
        garbage = torch.from_numpy(np.random.default_rng(seed).normal(3.0, 2.0, (B, T, F)))
        out.append((torch.where(mask, x, garbage), mask))
    return out


def _ln_unmasked(x, mask):
    import torch

    return torch.nn.functional.layer_norm(x, x.shape[-1:])


def _per_example_masked(x, mask):
    from .. import standardize

    return standardize(x, "B T F", over="T F", mask=mask)


@exercise(CH, 2, solution=_masked_per_frame, wrong=[_ln_unmasked, _per_example_masked],
          right_because="Each real frame is normalized on its own, so the mask changes nothing "
                        "there; it only sets the padded frames to 0.")
def _(answer):
    return same_function(_masked_per_frame, _padded_inputs, tol=1e-6,
                         what="per_frame_ln(x, mask)")(answer)


# --- 3.3: the bug: nn.LayerNorm(C) on a channels-first image whose W equals C --------------

@exercise(CH, 3, solution="W", wrong=["C", "C H W", "H W"],
          right_because="nn.LayerNorm(8) reduces over the last dimension, and on [N, C, H, W] "
                        "that is W: each row of one channel is normalized on its own.")
def _(answer):
    return same_axes("W", layout="N C H W", reasons={
        "C": "nn.LayerNorm(8) reads only the last dimension, and on [N, C, H, W] the "
             "channels are dimension 1",
        "H": "only the last dimension is pooled",
        "N": "Layer Norm never pools the batch",
        "W": "the last dimension of [N, C, H, W] is W, and W = 8 fits nn.LayerNorm(8)",
    })(answer)


# --- 3.4: a real model, ViT's layernorm_before ---------------------------------------------

@exercise(CH, 4, solution="per-frame", wrong=["per-example", "per-pixel"],
          right_because="normalized_shape is (hidden_size,): the F features of one token.")
def _(answer):
    return same_choice("per-frame", options=("per-frame", "per-example", "per-pixel"), reasons={
        "per-example": "normalized_shape is (hidden_size,), the last dimension only: one "
                       "token's features, not the whole sequence",
        "per-pixel": "ViT's LayerNorm runs on the tokens [B, T, F] (a patch is one token), "
                     "not on a channels-last image: it pools one token's F features, "
                     "per-frame Layer Norm",
    })(answer)
