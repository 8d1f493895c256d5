"""Is Group Norm with one group Layer Norm? Per-example Layer Norm yes, per-frame and per-pixel
Layer Norm no (the claims of chapters/gn_vs_ln)."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import data, load_keras, on_channels_first, standardize
from ..book.ledger import claim
from ..chapters.gn_vs_ln import fit_per_channel

CH = "gn_vs_ln"


# ---- the worked example: the tiny sequence, by hand -----------------------------------------

@claim("gn1-tiny-by-hand", chapter=CH, layout="[B,T,F]",
       statement="On the tiny sequence (eps = 0), GN(1) maps an entry x of the first sequence "
                 "to (x - 11/3)/sqrt(32/9) = (3x - 11)/sqrt(32), and of the second to "
                 "(3x - 10)/sqrt(89): each sequence's mean and variance, worked out by hand.",
       left='standardize(x, "B T F", over="T F", eps=0)',
       right="(3x - 11)/sqrt(32); (3x - 10)/sqrt(89)")
def _():
    x = data.tiny_sequence()  # [[[1, 3], [2, 6], [6, 4]], [[4, 0], [5, 9], [0, 2]]]
    by_hand = np.stack([(3 * x[0] - 11) / np.sqrt(32), (3 * x[1] - 10) / np.sqrt(89)])
    return standardize(x, "B T F", over="T F", eps=0), by_hand


@claim("gn1-differs-ln-tiny", chapter=CH, layout="[B,T,F]", expect="differ", min_diff=0.5,
       statement="On the tiny sequence, GN(1) is not per-frame Layer Norm: the latter makes "
                 "every frame (-1, 1) or (1, -1); GN(1) makes the frame (5, 9) of the second "
                 "sequence (5, 17)/sqrt(89), 1 + 5/sqrt(89) = 1.53 away from -1.",
       left="F.group_norm on [B,F,T], 1 group, eps=0", right="F.layer_norm(x, (F,)), eps=0")
def _():
    x = torch.from_numpy(data.tiny_sequence())  # [B, T, F] = [2, 3, 2]
    gn = on_channels_first(lambda v: F.group_norm(v, 1, eps=0.0), x)  # GN wants [B, F, T]
    return gn, F.layer_norm(x, x.shape[-1:], eps=0.0)  # LN over F: one frame at a time


# ---- Case 1: images [N, C, H, W], Layer Norm over (C, H, W) ---------------------------------

@claim("gn1-equals-ln-img", chapter=CH, layout="[N,C,H,W]",
       statement="On images, GN(1) normalizes like per-example Layer Norm: both reduce over C, "
                 "H and W.",
       left="F.group_norm(x, 1)", right="F.layer_norm(x, (C, H, W))")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=7))  # [N, C, H, W]
    return F.group_norm(x, 1), F.layer_norm(x, x.shape[1:])


@claim("gn1-equals-ln-img-modules", chapter=CH, layout="[N,C,H,W]",
       statement="With the affine step off, nn.GroupNorm(1, C) and nn.LayerNorm([C, H, W]) are "
                 "the same layer.",
       left="nn.GroupNorm(1, C, affine=False)",
       right="nn.LayerNorm([C, H, W], elementwise_affine=False)")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=7))  # [N, C, H, W]
    gn = nn.GroupNorm(1, 6, affine=False)
    ln = nn.LayerNorm([6, 5, 5], elementwise_affine=False)
    return gn(x), ln(x)


@claim("gn1-equals-ln-img-keras", chapter=CH, layout="[N,C,H,W]",
       statement="Keras agrees: GroupNormalization(groups=1, axis=1) equals "
                 "LayerNormalization(axis=[1, 2, 3]) on channels-first images, with the same "
                 "epsilon.",
       left="GroupNormalization(groups=1, axis=1, epsilon=1e-5)",
       right="LayerNormalization(axis=[1, 2, 3], epsilon=1e-5)")
def _():
    K = load_keras()
    x = data.images(N=4, C=6, H=5, W=5, seed=7)  # [N, C, H, W]
    # Keras' default epsilon is 1e-3, torch's 1e-5: set both layers to 1e-5
    gn = K.layers.GroupNormalization(groups=1, axis=1, epsilon=1e-5)
    ln = K.layers.LayerNormalization(axis=[1, 2, 3], epsilon=1e-5)
    return gn(x), ln(x)  # fresh layers: scale 1, shift 0


@claim("gn1-weight-into-ln-img", chapter=CH, layout="[N,C,H,W]",
       statement="A trained GroupNorm(1, C) is a LayerNorm([C, H, W]) whose weight and bias are "
                 "GN's per-channel values broadcast over H and W.",
       left="nn.GroupNorm(1, C), random per-channel weight and bias",
       right="nn.LayerNorm([C, H, W]), GN's parameters broadcast to [C, H, W]")
def _():
    torch.manual_seed(0)
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=7))  # [N, C, H, W]
    gn, ln = nn.GroupNorm(1, 6), nn.LayerNorm([6, 5, 5])
    with torch.no_grad():
        gn.weight.normal_(), gn.bias.normal_()  # stands in for training
        ln.weight.copy_(gn.weight[:, None, None].expand(6, 5, 5))  # constant over H, W
        ln.bias.copy_(gn.bias[:, None, None].expand(6, 5, 5))
        y_gn, y_ln = gn(x), ln(x)
    return y_gn, y_ln


@claim("gn1-weight-into-ln-img-keras", chapter=CH, layout="[N,C,H,W]",
       statement="The same in Keras: GN's gamma and beta, shape [C], broadcast to LN's "
                 "[C, H, W], give identical layers.",
       left="GroupNormalization(groups=1, axis=1), random gamma, beta",
       right="LayerNormalization(axis=[1, 2, 3]), GN's gamma, beta broadcast")
def _():
    K = load_keras()
    K.utils.set_random_seed(0)
    x = data.images(N=4, C=6, H=5, W=5, seed=7)  # [N, C, H, W]
    gn = K.layers.GroupNormalization(groups=1, axis=1, epsilon=1e-5,
                                     gamma_initializer="random_normal",
                                     beta_initializer="random_normal")
    ln = K.layers.LayerNormalization(axis=[1, 2, 3], epsilon=1e-5)
    gn.build(x.shape), ln.build(x.shape)
    per_channel = (6, 1, 1)  # broadcast GN's [C] parameters over H and W
    ln.gamma.assign(K.ops.broadcast_to(K.ops.reshape(gn.gamma, per_channel), (6, 5, 5)))
    ln.beta.assign(K.ops.broadcast_to(K.ops.reshape(gn.beta, per_channel), (6, 5, 5)))
    return gn(x), ln(x)


@claim("ln-weight-over-hw-is-not-gn1", chapter=CH, layout="[N,C,H,W]", expect="differ",
       statement="A LayerNorm([C, H, W]) whose weight varies over H and W is no GroupNorm(1, C): "
                 "even the best per-channel weight and bias (least squares) miss it.",
       left="nn.GroupNorm(1, C), best-fitting per-channel weight and bias",
       right="nn.LayerNorm([C, H, W]), weight varying over H and W")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=7))  # [N, C, H, W]
    ln, gn = nn.LayerNorm([6, 5, 5]), nn.GroupNorm(1, 6)
    with torch.no_grad():
        ln.weight.copy_(torch.linspace(0.5, 1.5, 25).reshape(5, 5))  # grows over H, W
        target = ln(x)
        # both normalize alike: GN's only freedom is one scale and shift per channel
        w, b = fit_per_channel(F.group_norm(x, 1), target)
        gn.weight.copy_(torch.from_numpy(w)), gn.bias.copy_(torch.from_numpy(b))
        y_gn = gn(x)
    return y_gn, target


# ---- Case 1 on sequences: Layer Norm over (T, F) ---------------------------------------------

@claim("gn1-equals-ln-tf-seq", chapter=CH, layout="[B,T,F]",
       statement="On sequences, GN(1) is per-example Layer Norm, over T and F (the GN paper's "
                 "reading).",
       left="F.group_norm on [B,F,T], 1 group", right="F.layer_norm(x, (T, F))")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=50, F=8, seed=7))  # [B, T, F]
    gn = on_channels_first(lambda v: F.group_norm(v, 1), x)  # GN wants [B, F, T]
    return gn, F.layer_norm(x, x.shape[1:])  # LN over the last two axes, T and F


@claim("gn1-equals-ln-tf-seq-keras", chapter=CH, layout="[B,T,F]",
       statement="Keras agrees: GroupNormalization(groups=1) on [B, T, F] equals "
                 "LayerNormalization(axis=[1, 2]).",
       left="GroupNormalization(groups=1, epsilon=1e-5)",
       right="LayerNormalization(axis=[1, 2], epsilon=1e-5)")
def _():
    K = load_keras()
    x = data.sequence(B=4, T=50, F=8, seed=7)  # [B, T, F]: features last, as Keras wants
    gn = K.layers.GroupNormalization(groups=1, epsilon=1e-5)
    ln = K.layers.LayerNormalization(axis=[1, 2], epsilon=1e-5)
    return gn(x), ln(x)


# ---- Case 2: sequences [B, T, F], Layer Norm as frameworks ship it (over F) -----------------

@claim("gn1-differs-ln-seq", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="On sequences, GN(1) (over T and F) is not per-frame Layer Norm (over F).",
       left="F.group_norm on [B,F,T], 1 group", right="F.layer_norm(x, (F,))")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=50, F=8, seed=7))  # [B, T, F]
    gn = on_channels_first(lambda v: F.group_norm(v, 1), x)  # GN wants [B, F, T]
    return gn, F.layer_norm(x, x.shape[-1:])  # LN over the last axis, F


@claim("gn1-seq-over-t-f-keras", chapter=CH, layout="[B,T,F]",
       statement="Keras' GroupNormalization(groups=1) on [B, T, F] reduces over T and F: "
                 "standardize over \"T F\".",
       left="GroupNormalization(groups=1, epsilon=1e-5)", right='standardize over "T F"')
def _():
    K = load_keras()
    x = data.sequence(B=4, T=50, F=8, seed=7)  # [B, T, F]
    gn = K.layers.GroupNormalization(groups=1, epsilon=1e-5)
    return gn(x), standardize(x, "B T F", over="T F")


@claim("gn1-differs-ln-seq-keras", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="In Keras too, GroupNormalization(groups=1) and LayerNormalization(), both "
                 "with their default axis -1, differ on [B, T, F].",
       left="GroupNormalization(groups=1, epsilon=1e-5)",
       right="LayerNormalization(epsilon=1e-5)")
def _():
    K = load_keras()
    x = data.sequence(B=4, T=50, F=8, seed=7)  # [B, T, F]
    gn = K.layers.GroupNormalization(groups=1, epsilon=1e-5)
    ln = K.layers.LayerNormalization(epsilon=1e-5)
    return gn(x), ln(x)


@claim("gn1-differs-ln-seq-stationary", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="Even on a stationary sequence (spread_db = 0), GN(1) is not per-frame Layer "
                 "Norm: each frame's statistics come from only F values and scatter around the "
                 "sequence's.",
       left="F.group_norm on [B,F,T], 1 group", right="F.layer_norm(x, (F,))")
def _():
    x = data.sequence(B=4, T=50, F=8, spread_db=0, seed=7)  # stationary: no swing
    x = torch.from_numpy(x)
    gn = on_channels_first(lambda v: F.group_norm(v, 1), x)
    return gn, F.layer_norm(x, x.shape[-1:])


# ---- Case 3: every frame (or pixel) a sample ------------------------------------------------

@claim("gn1-per-frame-equals-ln-seq", chapter=CH, layout="[B,T,F] as [B·T,F,1,1]",
       statement="Read every frame as an example (N = B·T, H = W = 1) and GroupNorm(1, F) is "
                 "per-frame Layer Norm, LayerNorm(F), affine included: both have one weight "
                 "per feature.",
       left="nn.GroupNorm(1, F) on x.reshape(B·T, F, 1, 1)", right="nn.LayerNorm(F) on x")
def _():
    torch.manual_seed(0)
    x = torch.from_numpy(data.sequence(B=4, T=50, F=8, seed=7))  # [B, T, F]
    gn, ln = nn.GroupNorm(1, 8), nn.LayerNorm(8)
    with torch.no_grad():
        gn.weight.normal_(), gn.bias.normal_()
        ln.weight.copy_(gn.weight), ln.bias.copy_(gn.bias)  # both of shape [F]
        frames = x.reshape(4 * 50, 8, 1, 1)  # [B*T, F, 1, 1]: each frame a 1-pixel image
        y_gn, y_ln = gn(frames).reshape(4, 50, 8), ln(x)
    return y_gn, y_ln


@claim("gn1-per-frame-equals-ln-seq-keras", chapter=CH, layout="[B,T,F] as [B·T,F,1,1]",
       statement="Keras agrees: GroupNormalization(groups=1, axis=1) on [B·T, F, 1, 1] equals "
                 "LayerNormalization() on [B, T, F].",
       left="GroupNormalization(groups=1, axis=1) on x.reshape(B·T, F, 1, 1)",
       right="LayerNormalization() on x")
def _():
    K = load_keras()
    x = data.sequence(B=4, T=50, F=8, seed=7)  # [B, T, F]
    gn = K.layers.GroupNormalization(groups=1, axis=1, epsilon=1e-5)
    ln = K.layers.LayerNormalization(epsilon=1e-5)
    return K.ops.reshape(gn(x.reshape(4 * 50, 8, 1, 1)), (4, 50, 8)), ln(x)


@claim("gn1-per-pixel-equals-ln-channels-last", chapter=CH, layout="[N,H,W,C] as [N·H·W,C,1,1]",
       statement="The same reading on images: every pixel an example, GroupNorm(1, C) on "
                 "[N·H·W, C, 1, 1] is per-pixel Layer Norm, nn.LayerNorm(C) on [N, H, W, C].",
       left="nn.GroupNorm(1, C) on x.reshape(N·H·W, C, 1, 1)", right="nn.LayerNorm(C) on x")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=7).transpose(0, 2, 3, 1)  # [N, H, W, C]
    x = torch.from_numpy(np.ascontiguousarray(x))
    gn = nn.GroupNorm(1, 6, affine=False)
    ln = nn.LayerNorm(6, elementwise_affine=False)
    return gn(x.reshape(4 * 5 * 5, 6, 1, 1)).reshape(x.shape), ln(x)


# ---- Case 4: channels-last images, per-pixel Layer Norm ---------------------------------------

@claim("gn1-differs-ln-per-pixel", chapter=CH, layout="[N,H,W,C]", expect="differ",
       statement="On channels-last images, GN(1) (over H, W and C) is not per-pixel Layer Norm, "
                 "nn.LayerNorm(C) (over C alone).",
       left="F.group_norm(x, 1), moved to channels last", right="F.layer_norm(x_last, (C,))")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=7))  # [N, C, H, W]
    gn = F.group_norm(x, 1).permute(0, 2, 3, 1)  # GN(1), then moved to [N, H, W, C]
    return gn, F.layer_norm(x.permute(0, 2, 3, 1), (6,))  # over C: per pixel


@claim("gn1-differs-ln-img-keras-channels-last", chapter=CH, layout="[N,H,W,C]", expect="differ",
       statement="On channels-last images, Keras' defaults disagree: GroupNormalization(groups=1) "
                 "reduces over H, W and C, LayerNormalization() over C (per-pixel Layer Norm).",
       left="GroupNormalization(groups=1, epsilon=1e-5)",
       right="LayerNormalization(epsilon=1e-5)")
def _():
    K = load_keras()
    x = data.images(N=4, C=6, H=5, W=5, seed=7).transpose(0, 2, 3, 1)  # [N, H, W, C]
    x = np.ascontiguousarray(x)
    gn = K.layers.GroupNormalization(groups=1, epsilon=1e-5)  # axis=-1: C, last
    ln = K.layers.LayerNormalization(epsilon=1e-5)  # axis=-1: C only
    return gn(x), ln(x)
