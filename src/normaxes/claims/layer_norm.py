"""Layer Norm (chapter page layer_norm): the three layers called Layer Norm, per-frame,
per-example and per-pixel, against PyTorch and Keras."""

import numpy as np
import torch

from .. import affine, data, standardize
from ..book.ledger import claim
from ..interop import load_keras

CH = "layer_norm"


# --- the worked example: the tiny tensors, by hand --------------------------------------

@claim("ln-three-tiny-by-hand", chapter=CH, layout="[B,T,F] and [N,C,H,W]",
       statement="The first entry (a 1) of the tiny tensors under the three Layer Norms, eps = 0: "
                 "per-frame -1 (frame 1 3), per-example on the sequence -sqrt(2) (mean 11/3, "
                 "variance 32/9), per-example on the image -3/sqrt(11/2) (mean 4, variance 11/2), "
                 "per-pixel -1 (pixel 1 2): the values worked out by hand.",
       left="standardize over F; T F; C H W; C of [N,H,W,C]", right="-1, -sqrt(2), "
       "-3/sqrt(11/2), -1")
def _():
    x, img = data.tiny_sequence(), data.tiny_image()  # [2, 3, 2] and [2, 2, 2, 2]
    img_last = np.ascontiguousarray(img.transpose(0, 2, 3, 1))  # [N, H, W, C]
    first = [standardize(x, "B T F", over="F", eps=0)[0, 0, 0],  # per-frame
             standardize(x, "B T F", over="T F", eps=0)[0, 0, 0],  # per-example
             standardize(img, "N C H W", over="C H W", eps=0)[0, 0, 0, 0],  # per-example
             standardize(img_last, "N H W C", over="C", eps=0)[0, 0, 0, 0]]  # per-pixel
    by_hand = [-1, -np.sqrt(2), -3 / np.sqrt(11 / 2), -1]
    return np.array(first), np.array(by_hand)


# --- sequences [B, T, F] --------------------------------------------------------------

@claim("ln-seq-torch-module", chapter=CH, layout="[B,T,F]",
       statement="nn.LayerNorm(F) on a sequence is per-frame Layer Norm, standardize over F: "
                 "one mean and variance per frame.",
       left='standardize over "F"', right="nn.LayerNorm(F)")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=50, F=8, seed=8))  # [B, T, F]
    with torch.no_grad():
        ref = torch.nn.LayerNorm(8)(x)  # normalized_shape = (F,): the last axis
    return standardize(x, "B T F", over="F"), ref


@claim("ln-seq-keras", chapter=CH, layout="[B,T,F]",
       statement="Keras LayerNormalization() (axis=-1, epsilon=1e-3) on a sequence is "
                 "per-frame Layer Norm, standardize over F with eps=1e-3.",
       left='standardize over "F", eps=1e-3', right="keras.layers.LayerNormalization()")
def _():
    x = data.sequence(B=4, T=50, F=8, seed=8)  # [B, T, F]
    ref = load_keras().layers.LayerNormalization()(x)  # the defaults: axis=-1, epsilon=1e-3
    return standardize(x, "B T F", over="F", eps=1e-3), ref


@claim("ln-seq-tf-torch", chapter=CH, layout="[B,T,F]",
       statement="nn.LayerNorm((T, F)) on a sequence is per-example Layer Norm, standardize "
                 "over T and F: one statistic per sequence, not per frame.",
       left='standardize over "T F"', right="nn.LayerNorm((T, F))")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=50, F=8, seed=8))  # [B, T, F]
    with torch.no_grad():
        ref = torch.nn.LayerNorm((50, 8))(x)  # the last two axes: T and F
    return standardize(x, "B T F", over="T F"), ref


@claim("ln-seq-tf-keras", chapter=CH, layout="[B,T,F]",
       statement="Keras LayerNormalization(axis=[1, 2]) on a sequence is per-example Layer "
                 "Norm, standardize over T and F (eps=1e-3).",
       left='standardize over "T F", eps=1e-3',
       right="keras LayerNormalization(axis=[1, 2])")
def _():
    x = data.sequence(B=4, T=50, F=8, seed=8)  # [B, T, F]
    ref = load_keras().layers.LayerNormalization(axis=[1, 2])(x)
    return standardize(x, "B T F", over="T F", eps=1e-3), ref


@claim("ln-seq-tf-is-not-per-frame", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="On a sequence whose loudness changes over time, per-example Layer Norm "
                 "(over T and F) is not per-frame Layer Norm (over F).",
       left='standardize over "T F"', right='standardize over "F"')
def _():
    x = data.sequence(B=4, T=50, F=8, seed=8)  # [B, T, F], loudness swings by 30 dB
    return standardize(x, "B T F", over="T F"), standardize(x, "B T F", over="F")


@claim("ln-eps-keras-vs-torch", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="With their default eps (Keras 1e-3, PyTorch 1e-5) the two "
                 "frameworks' per-frame Layer Norms differ on the quiet frames of a sequence "
                 "whose loudness swings by 30 dB. Eps is the whole cause: with only "
                 "epsilon=1e-5 passed to Keras the difference vanishes (asserted in the code).",
       left="keras LayerNormalization()", right="nn.LayerNorm(F)")
def _():
    x = data.sequence(B=4, T=50, F=8, seed=8)  # [B, T, F]; quiet frames: small variance
    with torch.no_grad():
        ref = torch.nn.LayerNorm(8)(torch.from_numpy(x))  # eps = 1e-5
    LN = load_keras().layers.LayerNormalization
    keras_default = LN()(x)  # epsilon = 1e-3
    keras_matched = LN(epsilon=1e-5)(x)  # only eps changed
    assert (keras_matched - ref).abs().max() < 1e-5  # the difference vanishes
    return keras_default, ref


@claim("ln-eps-matched-keras-torch", chapter=CH, layout="[B,T,F]",
       statement="With the same eps the two frameworks agree, whichever side is set: "
                 "LayerNormalization(epsilon=1e-5) equals nn.LayerNorm(F), and "
                 "LayerNormalization() equals nn.LayerNorm(F, eps=1e-3). On the torch "
                 "backend Keras' layer calls F.layer_norm (keras/src/ops/nn.py), so this "
                 "compares PyTorch's kernel with itself; ln-seq-keras checks Keras against "
                 "standardize.",
       left="keras LayerNormalization(epsilon=1e-5); LayerNormalization()",
       right="nn.LayerNorm(F); nn.LayerNorm(F, eps=1e-3)")
def _():
    x = data.sequence(B=4, T=50, F=8, seed=8)  # [B, T, F]
    LN = load_keras().layers.LayerNormalization
    keras_side = [LN(epsilon=1e-5)(x), LN()(x)]  # Keras' default epsilon is 1e-3
    with torch.no_grad():
        t = torch.from_numpy(x)
        torch_side = [torch.nn.LayerNorm(8)(t), torch.nn.LayerNorm(8, eps=1e-3)(t)]
    return torch.stack(keras_side), torch.stack(torch_side)


# --- images [N, C, H, W] --------------------------------------------------------------

@claim("ln-img-torch-module", chapter=CH, layout="[N,C,H,W]",
       statement="nn.LayerNorm([C, H, W]) on images is per-example Layer Norm, standardize "
                 "over C, H and W: one mean and variance per image.",
       left='standardize over "C H W"', right="nn.LayerNorm([C, H, W])")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=8))  # [N, C, H, W]
    with torch.no_grad():
        ref = torch.nn.LayerNorm([6, 5, 5])(x)
    return standardize(x, "N C H W", over="C H W"), ref


@claim("ln-img-keras", chapter=CH, layout="[N,C,H,W]",
       statement="Keras LayerNormalization(axis=[1, 2, 3]) on [N,C,H,W] is "
                 "standardize over C, H and W (eps=1e-3).",
       left='standardize over "C H W", eps=1e-3',
       right="keras LayerNormalization(axis=[1, 2, 3])")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=8)  # [N, C, H, W]
    ref = load_keras().layers.LayerNormalization(axis=[1, 2, 3])(x)
    return standardize(x, "N C H W", over="C H W", eps=1e-3), ref


@claim("ln-img-keras-channels-last", chapter=CH, layout="[N,H,W,C]",
       statement="Keras LayerNormalization(axis=[-3, -2, -1]) on channels-last images "
                 "is the same per-example Layer Norm, over H, W and C.",
       left='standardize "N C H W" over "C H W", eps=1e-3',
       right="keras LayerNormalization(axis=[-3, -2, -1]) on [N,H,W,C], moved to "
             "[N,C,H,W]")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=8)  # [N, C, H, W]
    x_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # [N, H, W, C]
    ln = load_keras().layers.LayerNormalization(axis=[-3, -2, -1])
    ref = ln(x_last).permute(0, 3, 1, 2)  # back to [N, C, H, W]
    return standardize(x, "N C H W", over="C H W", eps=1e-3), ref


@claim("ln-channels-last-per-pixel", chapter=CH, layout="[N,H,W,C]",
       statement="nn.LayerNorm(C) on a channels-last image is per-pixel Layer Norm: each "
                 'pixel over its C channels, standardize "N H W C" over "C".',
       left='standardize "N H W C" over "C"', right="nn.LayerNorm(C) on [N,H,W,C]")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=6).transpose(0, 2, 3, 1)  # [N, H, W, C]
    x = torch.from_numpy(np.ascontiguousarray(x))
    ln = torch.nn.LayerNorm(6)
    with torch.no_grad():
        ref = ln(x)
    return standardize(x, "N H W C", over="C"), ref


@claim("ln-keras-default-per-pixel", chapter=CH, layout="[N,H,W,C]",
       statement="Keras LayerNormalization() with its default axis=-1 on a "
                 "channels-last image is per-pixel Layer Norm too: each pixel over its C "
                 "channels.",
       left='standardize "N H W C" over "C", eps=1e-3',
       right="keras LayerNormalization() on [N,H,W,C]")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=6).transpose(0, 2, 3, 1)  # [N, H, W, C]
    x = np.ascontiguousarray(x)
    ref = load_keras().layers.LayerNormalization()(x)  # axis=-1: C
    return standardize(x, "N H W C", over="C", eps=1e-3), ref


@claim("ln-per-pixel-is-not-image-ln", chapter=CH, layout="[N,H,W,C]", expect="differ",
       statement="Per-pixel Layer Norm (over C) is not per-example Layer Norm, the GN "
                 "paper's (over C, H and W).",
       left='standardize "N H W C" over "C"',
       right='standardize "N H W C" over "H W C"')
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=6).transpose(0, 2, 3, 1)  # [N, H, W, C]
    return standardize(x, "N H W C", over="C"), standardize(x, "N H W C", over="H W C")


# --- the affine step ------------------------------------------------------------------

@claim("ln-affine-torch", chapter=CH, layout="[N,C,H,W]",
       statement="nn.LayerNorm([C, H, W]) scales and shifts every position (c, h, w) "
                 "with its own weight and bias: affine along C, H and W.",
       left='affine(standardize over "C H W", along "C H W")',
       right="nn.LayerNorm([C, H, W])")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=8))  # [N, C, H, W]
    ln = torch.nn.LayerNorm([6, 5, 5])
    torch.manual_seed(0)
    with torch.no_grad():
        ln.weight.normal_(), ln.bias.normal_()  # trained-looking, not ones and zeros
        ref = ln(x)
        ours = affine(standardize(x, "N C H W", over="C H W"), "N C H W", "C H W",
                      ln.weight, ln.bias)
    return ours, ref


@claim("ln-affine-keras", chapter=CH, layout="[N,C,H,W]",
       statement="Keras LayerNormalization(axis=[1, 2, 3]) has gamma and beta of "
                 "shape (C, H, W): the same elementwise affine along C, H and W.",
       left='affine(standardize over "C H W", along "C H W"), eps=1e-3',
       right="keras LayerNormalization(axis=[1, 2, 3])")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=8)  # [N, C, H, W]
    ln = load_keras().layers.LayerNormalization(axis=[1, 2, 3])
    ln.build(x.shape)
    rng = np.random.default_rng(0)
    gamma, beta = (rng.normal(size=(6, 5, 5)).astype(np.float32) for _ in range(2))
    ln.gamma.assign(gamma), ln.beta.assign(beta)
    ours = affine(standardize(x, "N C H W", over="C H W", eps=1e-3), "N C H W", "C H W",
                  gamma, beta)
    return ours, ln(x)
