"""Numerics of the statistics: one pass or two, memory layout, half precision, where eps goes."""

import numpy as np
import torch
import torch.nn.functional as F

from .. import data, moments, standardize
from ..book.ledger import claim
from ..chapters.numerics import (
    chan_merge,
    group_norm_one_pass,
    one_pass,
    rms_eps_inside,
    rms_eps_outside,
    shifted_images,
    two_pass,
    welford,
)
from ..interop import load_keras

CH = "numerics"


# --- by hand: the tiny sequence shifted by 10^4 -------------------------------------------------

@claim("var-two-pass-by-hand", chapter=CH, layout="[B,T,F]",
       statement="Two passes in float32 give the per-frame variances of the tiny sequence "
                 "shifted by 10^4 exactly: 1, 4, 1 and 4, 4, 1.",
       left="two_pass(x, -1), float32", right="the variances by hand")
def _():
    x = torch.from_numpy(data.tiny_sequence(np.float32) + 10_000)  # [2, 3, 2]
    _, var = two_pass(x, dim=-1)  # mean first, then mean squared deviation
    return var[..., 0], torch.tensor([[1.0, 4, 1], [4, 4, 1]])


@claim("var-one-pass-by-hand", chapter=CH, layout="[B,T,F]", expect="differ", min_diff=1,
       statement="One pass in float32, E[x²] − E[x]², misses the same variances by whole "
                 "units: near 10^8 float32 numbers are 8 apart.",
       left="one_pass(x, -1), float32", right="the variances by hand")
def _():
    x = torch.from_numpy(data.tiny_sequence(np.float32) + 10_000)  # [2, 3, 2]
    _, var = one_pass(x, dim=-1)  # E[x²] and E[x]² are both near 10^8
    return var[..., 0], torch.tensor([[1.0, 4, 1], [4, 4, 1]])


# --- the three ways agree in exact-enough arithmetic --------------------------------------------

@claim("welford-equals-two-pass", chapter=CH, layout="[B,T,F]",
       statement="Welford's one-pass update gives the two-pass mean and variance (float64, "
                 "one frame of 64 features).",
       left="welford(x), float64", right="two_pass(x), float64")
def _():
    x = torch.randn(64, generator=torch.Generator().manual_seed(1), dtype=torch.float64) + 5
    n, mean, m2 = welford(x.numpy())  # one value at a time
    mean2, var2 = two_pass(x, dim=0)
    return np.array([mean, m2 / n]), torch.cat([mean2, var2])


@claim("chan-merge-equals-whole", chapter=CH, layout="[B,T,F]",
       statement="Chan et al.'s merge of the Welford states of two halves is the state of "
                 "the whole (float64): a reduction can be split across threads or devices.",
       left="chan_merge(welford(a), welford(b))", right="welford(a and b)")
def _():
    x = np.random.default_rng(2).normal(5, 1, size=100)
    a, b = welford(x[:37]), welford(x[37:])  # two uneven parts
    return np.array(chan_merge(a, b)), np.array(welford(x))


@claim("standardize-is-two-pass", chapter=CH, layout="[N,C,H,W]",
       statement="normaxes.standardize is the two-pass computation: its variance is the "
                 "mean squared deviation from the mean, taken after the mean.",
       left='moments(x, "N (G Cg) H W", "Cg H W")[1]', right="two_pass over (C/G, H, W)")
def _():
    x = shifted_images(1e3)  # [2, 32, 8, 8], float32, mean 10^3
    _, var, _ = moments(x, "N (G Cg) H W", over="Cg H W", G=4)
    _, var2 = two_pass(x.reshape(2, 4, 8, 8, 8), dim=(2, 3, 4))
    return var.ravel() / var2.ravel(), torch.ones(8)  # relative: the variance is near 1


# --- PyTorch's kernels by memory format ------------------------------------------------------

@claim("gn-contiguous-keeps-digits", chapter=CH, layout="[N,C,H,W]", tol=1e-2,
       statement="F.group_norm on a contiguous float32 batch with mean 10^4 and spread 1 "
                 "stays within 1e-2 of float64: its CPU kernel does not subtract E[x]² from "
                 "E[x²].",
       left="F.group_norm(x, 4), contiguous", right="the same in float64")
def _():
    x = shifted_images(1e4)  # [2, 32, 8, 8], float32
    return F.group_norm(x, 4), F.group_norm(x.double(), 4)


@claim("gn-channels-last-loses-variance", chapter=CH, layout="[N,C,H,W]", expect="differ",
       min_diff=1,
       statement="The same tensor in channels_last memory format takes a kernel that sums x "
                 "and x² in float32 and subtracts: at mean 10^4 the variance is lost and the "
                 "output is off by hundreds.",
       left="F.group_norm(x, 4), channels_last", right="F.group_norm(x, 4), contiguous")
def _():
    x = shifted_images(1e4)
    cl = x.contiguous(memory_format=torch.channels_last)  # same values, NHWC in memory
    return F.group_norm(cl, 4), F.group_norm(x, 4)


@claim("keras-gn-one-pass-loses-variance", chapter=CH, layout="[N,C,H,W]", expect="differ",
       min_diff=1,
       statement="Keras' GroupNormalization (torch backend) computes E[x²] − E[x]² in float32 "
                 "and loses the variance of the same batch too.",
       left="keras GroupNormalization(4, epsilon=1e-5)", right="F.group_norm, contiguous")
def _():
    x = shifted_images(1e4)
    layer = load_keras().layers.GroupNormalization(groups=4, epsilon=1e-5)  # channels last
    y = layer(x.permute(0, 2, 3, 1))  # [N, H, W, C]
    return y.permute(0, 3, 1, 2), F.group_norm(x, 4)


@claim("gn-channels-last-is-one-pass-clamped", chapter=CH, layout="[N,C,H,W]", tol=0.1,
       statement="On the worked example as an image (channel 0: 10001, 10003; channel 1: 5, 7), "
                 "channels_last F.group_norm is the one-pass formula clamped at 0: channel 0's "
                 "variance 1 is computed as 0 and its outputs are ±316 = ±1/√ε; the contiguous "
                 "kernel gives ±1.",
       left="F.group_norm(x, 2): channels_last, then contiguous",
       right="group_norm_one_pass(x, 2), then standardize (two-pass)")
def _():
    x = torch.tensor([[[[10001.0, 10003.0]], [[5.0, 7.0]]]])  # [N, C, H, W] = [1, 2, 1, 2]
    cl = x.contiguous(memory_format=torch.channels_last)
    two = standardize(x, "N (G Cg) H W", over="Cg H W", G=2)
    # the outputs near 316 differ by CPU path in their last rounding: compared within 0.1
    return torch.stack([F.group_norm(cl, 2), F.group_norm(x, 2)]), \
        torch.stack([group_norm_one_pass(x, 2), two])


# --- Keras' one-pass variance ------------------------------------------------------------------

@claim("keras-gn-is-one-pass-by-hand", chapter=CH, layout="[N,H,W,C]", tol=0.0,
       statement="Keras' GroupNormalization (torch backend) is E[x²] − E[x]² in float32, "
                 "computed by hand on the same groups: bit for bit, at mean 10^3 where the "
                 "variance is lost.",
       left="keras GroupNormalization(groups=4, epsilon=1e-5), float32",
       right="by hand: mean, E[x²] − mean², rsqrt, x * inv − mean * inv")
def _():
    x = shifted_images(1e3).permute(0, 2, 3, 1)  # [N, H, W, C] = [2, 8, 8, 32], mean 10^3
    xg = x.reshape(2, 8, 8, 4, 8)  # [N, H, W, G, Cg], as Keras splits C
    mean = xg.mean(dim=(1, 2, 4), keepdim=True)
    var = (xg**2).mean(dim=(1, 2, 4), keepdim=True) - mean**2  # E[x²] − E[x]²
    inv = torch.rsqrt(var + 1e-5)
    by_hand = (xg * inv + (-mean * inv)).reshape(x.shape)
    layer = load_keras().layers.GroupNormalization(groups=4, epsilon=1e-5)
    return layer(x), by_hand


@claim("keras-gn-float64-is-float32", chapter=CH, layout="[N,H,W,C]", tol=0.0,
       statement="A Keras layer casts its input to its compute dtype, float32 by default: "
                 "GroupNormalization on float64 input returns the float32 result, bit for bit.",
       left="GroupNormalization(x.double()), a float32 tensor",
       right="GroupNormalization(x.float())")
def _():
    x = shifted_images(1e3).permute(0, 2, 3, 1).double()
    layer = load_keras().layers.GroupNormalization(groups=4, epsilon=1e-5)
    return layer(x), layer(x.float())


# --- half precision ------------------------------------------------------------------------

# Half-precision outputs reach 4, where one float16 step is 0.004: these equalities allow a few.
@claim("layer-norm-half-is-float32", chapter=CH, layout="[B,T,F]", tol=2e-2,
       statement="F.layer_norm on float16 input computes in float32 and rounds the output to "
                 "float16 (PyTorch's opmath).",
       left="F.layer_norm(x.half())", right="F.layer_norm(x.half().float()).half()")
def _():
    x = (torch.randn(4, 50, 64, generator=torch.Generator().manual_seed(3)) * 2 + 20).half()
    return F.layer_norm(x, (64,)), F.layer_norm(x.float(), (64,)).half()


@claim("rms-half-squares-overflow", chapter=CH, layout="[B,T,F]", expect="differ", min_diff=1,
       statement="RMS Norm computed in float16 fails on activations of a few hundred: x² "
                 "passes 65504, the largest float16, and the output collapses to 0; LLaMA's "
                 "RMSNorm, which upcasts to float32, does not.",
       left="x * rsqrt(mean(x²) + eps), float16", right="LLaMA's RMSNorm (x.float(), then back)")
def _():
    x = (300 * torch.randn(2, 8, 512, generator=torch.Generator().manual_seed(4))).half()
    naive = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)  # all in float16
    xf = x.float()  # LLaMA: self._norm(x.float()).type_as(x)
    llama = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6)).type_as(x)
    return naive, llama


@claim("rms-norm-half-is-llama", chapter=CH, layout="[B,T,F]", tol=5e-2,
       statement="PyTorch's F.rms_norm on float16 gives LLaMA's upcast RMSNorm.",
       left="F.rms_norm(x, (F,), eps=1e-6), float16", right="LLaMA's RMSNorm")
def _():
    x = (300 * torch.randn(2, 8, 512, generator=torch.Generator().manual_seed(4))).half()
    xf = x.float()
    llama = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6)).type_as(x)
    return F.rms_norm(x, (512,), eps=1e-6), llama


@claim("keras-moments-bfloat16", chapter=CH, layout="[B,T,F]", expect="differ", min_diff=0.5,
       statement="keras.ops.moments (torch backend) upcasts float16 but not bfloat16: on "
                 "bfloat16 features with mean 20 its one-pass variance is off by whole units.",
       left="keras.ops.moments(x, [-1]) variance, bfloat16", right="the variance in float64")
def _():
    x = (torch.randn(4, 50, 64, generator=torch.Generator().manual_seed(3)) * 2 + 20)
    xb = x.bfloat16()
    _, var = load_keras().ops.moments(xb, axes=[-1])  # stays bfloat16
    return var.float(), xb.double().var(-1, unbiased=False)


# --- eps: inside or outside the square root ------------------------------------------------

@claim("rms-eps-place-loud", chapter=CH, layout="[B,T,F]", tol=1e-6,
       statement="On frames of ordinary loudness it does not matter whether eps = 1e-8 goes "
                 "inside or outside the square root.",
       left="x / sqrt(mean(x²) + eps)", right="x / (sqrt(mean(x²)) + eps)")
def _():
    x = torch.randn(4, 50, 64, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    return rms_eps_inside(x, 1e-8), rms_eps_outside(x, 1e-8)


@claim("rms-eps-place-quiet", chapter=CH, layout="[B,T,F]", expect="differ", min_diff=0.1,
       statement="On a near-silent frame (rms 1e-4, where eps = 1e-8 equals the mean square) "
                 "the two places give outputs that differ by a factor √2.",
       left="x / sqrt(mean(x²) + eps)", right="x / (sqrt(mean(x²)) + eps)")
def _():
    x = 1e-4 * torch.randn(4, 50, 64, generator=torch.Generator().manual_seed(5),
                           dtype=torch.float64)
    x = x / x.pow(2).mean(-1, keepdim=True).sqrt() * 1e-4  # every frame: rms exactly 1e-4
    return rms_eps_inside(x, 1e-8), rms_eps_outside(x, 1e-8)
