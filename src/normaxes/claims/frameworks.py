"""Chapter 6: what the framework layers reduce over with their defaults, and on the wrong layout."""

import warnings

import numpy as np
import torch

from .. import data, load_keras, standardize
from ..book.ledger import claim

CH = "06"


def _last(img):
    """An image batch [N, C, H, W] as channels last [N, H, W, C], the layout Keras expects."""
    return torch.from_numpy(np.ascontiguousarray(img.transpose(0, 2, 3, 1)))


@claim("keras-bn-default-seq", chapter=CH, layout="[B,T,F]",
       statement="Keras BatchNormalization() in training normalizes a sequence over B and T.",
       left="BatchNormalization()(x, training=True)", right='standardize over "B T"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    bn = load_keras().layers.BatchNormalization()  # axis=-1: the feature axis is last
    return bn(x, training=True), standardize(x, "B T F", over="B T", eps=bn.epsilon)


@claim("keras-bn-default-img", chapter=CH, layout="[N,H,W,C]",
       statement="Keras BatchNormalization() in training normalizes a channels-last image batch "
                 "over N, H and W.",
       left="BatchNormalization()(x, training=True)", right='standardize "N H W C" over "N H W"')
def _():
    x = _last(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, H, W, C]
    bn = load_keras().layers.BatchNormalization()
    return bn(x, training=True), standardize(x, "N H W C", over="N H W", eps=bn.epsilon)


@claim("keras-ln-default-seq", chapter=CH, layout="[B,T,F]",
       statement="Keras LayerNormalization() on a sequence is standardize over F: per frame.",
       left="LayerNormalization()(x)", right='standardize over "F"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    ln = load_keras().layers.LayerNormalization()  # axis=-1
    return ln(x), standardize(x, "B T F", over="F", eps=ln.epsilon)


@claim("keras-ln-default-img-per-pixel", chapter=CH, layout="[N,H,W,C]",
       statement="Keras LayerNormalization() on a channels-last image batch normalizes each pixel "
                 "over its channels, not over C, H and W.",
       left="LayerNormalization()(x)", right='standardize "N H W C" over "C"')
def _():
    x = _last(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, H, W, C]
    ln = load_keras().layers.LayerNormalization()  # axis=-1: the last axis only
    return ln(x), standardize(x, "N H W C", over="C", eps=ln.epsilon)


@claim("keras-ln-axis-123-is-image-ln", chapter=CH, layout="[N,H,W,C]",
       statement="Keras LayerNormalization(axis=[1, 2, 3]) on a channels-last image batch is "
                 "the GN paper's Layer Norm, over H, W and C.",
       left="LayerNormalization(axis=[1, 2, 3])(x)", right='standardize "N H W C" over "H W C"')
def _():
    x = _last(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, H, W, C]
    ln = load_keras().layers.LayerNormalization(axis=[1, 2, 3])  # all but the batch axis
    return ln(x), standardize(x, "N H W C", over="H W C", eps=ln.epsilon)


@claim("keras-gn-default-seq", chapter=CH, layout="[B,T,F]",
       statement="Keras GroupNormalization() (32 groups) on a sequence with F = 64 is standardize "
                 "over T and the 2 features of each group.",
       left="GroupNormalization()(x)", right='standardize "B T (G F)" over "T F", G=32')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=10, F=64, seed=13))  # [B, T, F], F = 64
    gn = load_keras().layers.GroupNormalization()  # groups=32
    return gn(x), standardize(x, "B T (G F)", over="T F", G=gn.groups, eps=gn.epsilon)


@claim("keras-gn-minus1-is-in-seq", chapter=CH, layout="[B,T,F]",
       statement="Keras GroupNormalization(groups=-1), one group per feature, is Instance "
                 "Norm: standardize over T.",
       left="GroupNormalization(groups=-1)(x)", right='standardize over "T"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    gn = load_keras().layers.GroupNormalization(groups=-1)  # as many groups as features
    return gn(x), standardize(x, "B T F", over="T", eps=gn.epsilon)


@claim("keras-gn-minus1-is-in-img", chapter=CH, layout="[N,H,W,C]",
       statement="On channels-last images, GroupNormalization(groups=-1) is Instance Norm: "
                 "standardize over H and W.",
       left="GroupNormalization(groups=-1)(x)", right='standardize "N H W C" over "H W"')
def _():
    x = _last(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, H, W, C]
    gn = load_keras().layers.GroupNormalization(groups=-1)
    return gn(x), standardize(x, "N H W C", over="H W", eps=gn.epsilon)


@claim("keras-bn-on-channels-first", chapter=CH, layout="[N,C,H,W]",
       statement="Keras BatchNormalization() given a channels-first image batch takes W for the "
                 "channel axis: it reduces over N, C and H, one statistic per column.",
       left="BatchNormalization()(x [N,C,H,W], training=True)",
       right='standardize "N C H W" over "N C H"')
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=7, seed=12))  # [N, C, H, W]
    bn = load_keras().layers.BatchNormalization()  # axis=-1 is W here: x is not moved
    return bn(x, training=True), standardize(x, "N C H W", over="N C H", eps=bn.epsilon)


@claim("torch-bn1d-untransposed-differs", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="nn.BatchNorm1d given a sequence [B,T,F] without the transpose (it runs when "
                 "T = F) is not Batch Norm over B and T.",
       left="nn.BatchNorm1d(F)(x [B,T,F])", right='standardize over "B T"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=8, F=8, seed=14))  # [B, T, F] with T = F
    with torch.no_grad():
        y = torch.nn.BatchNorm1d(8)(x)  # reads dim 1, T, as the channels
    return y, standardize(x, "B T F", over="B T")


@claim("torch-bn1d-untransposed-per-step", chapter=CH, layout="[B,T,F]",
       statement="What it computes instead: one statistic per time step, over B and F.",
       left="nn.BatchNorm1d(F)(x [B,T,F])", right='standardize over "B F"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=8, F=8, seed=14))  # [B, T, F] with T = F
    with torch.no_grad():
        y = torch.nn.BatchNorm1d(8)(x)
    return y, standardize(x, "B T F", over="B F")


@claim("torch-gn-untransposed-groups-time", chapter=CH, layout="[B,T,F]",
       statement="nn.GroupNorm given a sequence [B,T,F] without the transpose (with its "
                 "default affine step it runs only when T = F) groups time steps, not "
                 "features.",
       left="nn.GroupNorm(2, F)(x [B,T,F])", right='standardize "B (G T) F" over "T F", G=2')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=8, F=8, seed=14))  # [B, T, F] with T = F
    with torch.no_grad():
        y = torch.nn.GroupNorm(2, 8)(x)  # splits dim 1, T, into 2 groups
    return y, standardize(x, "B (G T) F", over="T F", G=2)


@claim("torch-in1d-untransposed-is-ln", chapter=CH, layout="[B,T,F]",
       statement="nn.InstanceNorm1d with its default affine=False, given a sequence [B,T,F] "
                 "without the transpose, runs for any T (warning when T != F) and normalizes "
                 "each frame over F: Layer Norm, not Instance Norm.",
       left="nn.InstanceNorm1d(F)(x [B,T,F])", right='standardize over "F"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    with warnings.catch_warnings():  # it warns: dim 1 (T = 20) is not num_features
        warnings.simplefilter("ignore")
        y = torch.nn.InstanceNorm1d(8)(x)  # affine=False: num_features is unused
    return y, standardize(x, "B T F", over="F")


@claim("ln-torch-vs-keras-eps", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="PyTorch's and Keras' Layer Norm with their defaults reduce over the same axes "
                 "but differ on a sequence whose loudness swings by 60 dB: eps is 1e-5 in one "
                 "and 1e-3 in the other, and it is the whole cause (with only epsilon=1e-5 "
                 "passed to Keras the difference vanishes, asserted in the code).",
       left="nn.LayerNorm(F)(x)", right="LayerNormalization()(x)")
def _():
    # loudness swinging by 60 dB: some frames have a variance near 1e-3
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, spread_db=60, seed=15))
    with torch.no_grad():
        torch_default = torch.nn.LayerNorm(8)(x)  # eps = 1e-5
    LN = load_keras().layers.LayerNormalization
    keras_matched = LN(epsilon=1e-5)(x)  # only eps changed
    assert (keras_matched - torch_default).abs().max() < 1e-5  # the difference vanishes
    return torch_default, LN()(x)  # Keras' default epsilon = 1e-3
