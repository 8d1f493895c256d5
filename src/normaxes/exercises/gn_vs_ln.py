"""The exercises of the chapter "Is Group Norm with one group Layer Norm?" (chapters/gn_vs_ln): the
checkers of their answers."""

from __future__ import annotations

import numpy as np

from . import exercise, same_choice, same_function, same_value

# --- 5.1: predict, for four pairs of layers, whether they compute the same ---------------------

PAIRS_51 = ("yes", "no", "yes", "yes")
WHY_51 = (
    "nn.GroupNorm(1, C) and nn.LayerNorm([C, H, W]) both pool C, H and W of one image: Case 1",
    "GroupNorm(1, F) on [B, F, T] pools a whole sequence, nn.LayerNorm(F) one frame: Case 2",
    "GroupNormalization(groups=1) pools H, W and C, and so does LayerNormalization(axis=[1, 2, "
    "3]); fresh layers have scale 1 and shift 0 and both default to epsilon=1e-3",
    "on [B*T, F, 1] every frame is an example of its own, so GN(1) pools one frame, as "
    "nn.LayerNorm(F) does: Case 3",
)


@exercise("gn_vs_ln", 1, solution=PAIRS_51,
          wrong=[("yes", "yes", "yes", "yes"), ("yes", "no", "no", "yes"),
                 ("yes", "no", "yes", "no"), ("no", "no", "no", "no")],
          right_because="only Case 2, per-frame Layer Norm on a whole sequence, differs.")
def _(answer):
    if not isinstance(answer, (tuple, list)) or len(answer) != len(PAIRS_51):
        return f"answer with a tuple of {len(PAIRS_51)} 'yes' or 'no', one per pair (a)-(d)"
    wrong = []
    for label, got, want, why in zip("abcd", answer, PAIRS_51, WHY_51, strict=True):
        if same_choice(want, options=("yes", "no"))(got) is not None:
            wrong.append(f"({label}) is {want!r}: {why}")
    return "; ".join(wrong) or None


# --- 5.2: by hand, GN(1) on the frame (4, 0) of the tiny sequence's second sequence -------------
# the second sequence has mean 10/3 and biased variance 89/9: x -> (3x - 10)/sqrt(89)

FRAME_52 = np.array([2.0, -10.0]) / np.sqrt(89.0)

WRONG_52 = {
    "per-frame": (np.array([1.0, -1.0]),
                  "that is per-frame Layer Norm, which standardizes the frame on its own; GN(1) "
                  "uses the whole second sequence's mean 10/3 and variance 89/9"),
    "first sequence": (np.array([1.0, -11.0]) / np.sqrt(32.0),
                       "those are the first sequence's mean and variance (11/3, 32/9); the frame "
                       "(4, 0) belongs to the second"),
    "unbiased": (np.array([2.0, -10.0]) / 3.0 / np.sqrt(89.0 / 9.0 * 6.0 / 5.0),
                 "the variance divides by m = 6, not m - 1: every norm uses the biased "
                 "variance"),
}


@exercise("gn_vs_ln", 2, solution=tuple(FRAME_52), wrong=[tuple(v) for v, _ in WRONG_52.values()],
          right_because="(3·4 - 10)/√89 = 2/√89 and (3·0 - 10)/√89 = -10/√89.")
def _(answer):
    return same_value(FRAME_52, tol=5e-3, what="the frame after GN(1)",
                      known_wrong=WRONG_52.values())(answer)


# --- 5.3: PoolFormer's GroupNorm(1, C) as an nn.LayerNorm([C, H, W]) ---------------------------

def as_layer_norm(gn, H: int, W: int):
    """The reference answer: an ``nn.LayerNorm([C, H, W])`` that computes what the trained
    ``nn.GroupNorm(1, C)`` *gn* computes on ``H x W`` images (its per-channel weight and bias
    broadcast over ``H`` and ``W``, its eps)."""
    import torch

    C = gn.num_channels
    ln = torch.nn.LayerNorm([C, H, W], eps=gn.eps)
    with torch.no_grad():
        ln.weight.copy_(gn.weight[:, None, None].expand(C, H, W))
        ln.bias.copy_(gn.bias[:, None, None].expand(C, H, W))
    return ln


def _poolformer_inputs():
    """Trained-looking PoolFormer norms (transformers' ``PoolFormerGroupNorm``) and images."""
    import warnings

    import torch

    with warnings.catch_warnings():  # transformers imports tqdm.auto, which warns in notebooks
        warnings.simplefilter("ignore")
        from transformers.models.poolformer.modeling_poolformer import PoolFormerGroupNorm

    out = []
    for k, (C, H, W) in enumerate([(6, 5, 5), (4, 3, 7)]):
        g = torch.Generator().manual_seed(k)
        gn = PoolFormerGroupNorm(C)
        with torch.no_grad():
            gn.weight.copy_(torch.randn(C, generator=g))
            gn.bias.copy_(torch.randn(C, generator=g))
        out.append((gn, torch.randn(2, C, H, W, generator=g)))
    return out


def _layer_of(make):
    """Apply the LayerNorm that *make* builds for a norm and an image size to the image."""
    import torch

    def apply(gn, x):
        with torch.no_grad():
            return make(gn, *x.shape[-2:])(x)

    return apply


def _as_ln_no_bias(gn, H, W):  # wrong: the bias is left out
    import torch

    ln = as_layer_norm(gn, H, W)
    with torch.no_grad():
        ln.bias.zero_()
    return ln


def _as_ln_fresh(gn, H, W):  # wrong: the right axes, but GN's trained parameters are not copied
    import torch

    return torch.nn.LayerNorm([gn.num_channels, H, W], eps=gn.eps)


def _as_ln_per_pixel(gn, H, W):  # wrong: per-pixel Layer Norm, GN's parameters copied
    import torch

    ln = torch.nn.LayerNorm(gn.num_channels, eps=gn.eps)  # per pixel: over C alone
    with torch.no_grad():
        ln.weight.copy_(gn.weight), ln.bias.copy_(gn.bias)
    return lambda x: ln(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


@exercise("gn_vs_ln", 3, solution=as_layer_norm,
          wrong=[_as_ln_no_bias, _as_ln_fresh, _as_ln_per_pixel],
          right_because="GN's per-channel weight and bias, broadcast over H and W, make the "
                        "LayerNorm the same layer.")
def _(answer):
    if not callable(answer):
        return f"the answer should be a function (gn, H, W) -> LayerNorm, got {type(answer)}"
    return same_function(_layer_of(as_layer_norm), _poolformer_inputs, tol=1e-5,
                         what="the LayerNorm you build")(_layer_of(answer))


# --- 5.4: which Layer Norm does wav2vec 2.0's feature encoder use with feat_extract_norm="layer"?

KINDS_54 = ("per-example", "per-frame", "per-pixel", "GN(1)")


@exercise("gn_vs_ln", 4, solution="per-frame", wrong=["per-example", "GN(1)", "per-pixel"],
          right_because="the layer transposes the conv output [B, C, T] to [B, T, C] and applies "
                        "nn.LayerNorm(C): each frame over its channels.")
def _(answer):
    return same_choice("per-frame", options=KINDS_54, reasons={
        "per-example": "it pools only the C channels of one frame, not the whole sequence",
        "GN(1)": "GN(1) would pool the whole sequence; this layer pools one frame",
        "per-pixel": "the input is a sequence: one frame, not one pixel, is pooled",
    })(answer)
