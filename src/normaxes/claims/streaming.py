"""The streaming chapter's claims: which norms are causal in time; Conv-TasNet's global and
cumulative layer norms (gLN and cLN)."""

import numpy as np
import torch
import torch.nn.functional as F

from .. import data, load_keras, on_channels_first, standardize
from ..book.ledger import claim
from ..chapters.streaming import (
    asteroid_cum_ln,
    asteroid_cum_ln_0_6_0,
    asteroid_glob_ln,
    batch_leak,
    conv_tasnet_cln,
    cumulative_ln,
    cumulative_standardize,
    future_leak,
    gain_bias,
    long_sequence,
    prefix_mask,
    stream_batch,
)

CH = "streaming"


# --- the worked example ---------------------------------------------------------------------------

@claim("cln-tiny-by-hand", chapter=CH, layout="[B,T,F]",
       statement="On the first tiny sequence, frames (1, 3), (2, 6), (6, 4), the cumulative "
                 "statistics worked out by hand (means 2, 3, 11/3; variances 1, 7/2, 32/9) give "
                 "the cumulative layer norm (eps = 0) frame by frame.",
       left='cumulative_standardize(x, "B T F", over="T F", along="T", eps=0)',
       right="(x - mean) / sqrt(variance), the fractions written out by hand")
def _():
    x = data.tiny_sequence()[:1]  # [1, 3, 2]: sequence 1 only
    mu = np.array([2, 3, 11 / 3]).reshape(1, 3, 1)  # one mean per frame t
    var = np.array([1, 7 / 2, 32 / 9]).reshape(1, 3, 1)
    ours = cumulative_standardize(x, "B T F", over="T F", along="T", eps=0)
    return ours, (x - mu) / np.sqrt(var)


@claim("cln-plain-cumsum-equals", chapter=CH, layout="[B,T,F]",
       statement="The cumulative layer norm written in plain PyTorch, with torch.cumsum of the "
                 "per-frame sums of x and x², equals cumulative_standardize.",
       left="plain PyTorch: cumsum over T of x.sum(F) and (x**2).sum(F), divided by m = F t",
       right='cumulative_standardize(x, "B T F", over="T F", along="T")')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=16, F=8, seed=8, dtype=np.float64))
    m = 8 * torch.arange(1, 17, dtype=x.dtype).reshape(1, 16, 1)  # F t entries up to frame t
    mu = x.sum(dim=2, keepdim=True).cumsum(dim=1) / m
    var = (x**2).sum(dim=2, keepdim=True).cumsum(dim=1) / m - mu**2
    plain = (x - mu) / torch.sqrt(var + 1e-5)
    return plain, cumulative_standardize(x, "B T F", over="T F", along="T")


# --- causality, measured by perturbing the future -------------------------------------------------

@claim("ln-seq-causal", chapter=CH, layout="[B,T,F]",
       statement="Per-frame Layer Norm is causal: perturbing the frames after t leaves the "
                 "outputs at frames <= t unchanged, for every t.",
       left="future_leak(F.layer_norm), every t", right="0")
def _():
    x = stream_batch()
    leak = future_leak(lambda v: F.layer_norm(v, v.shape[-1:]), x)  # one number per t
    return leak, np.zeros_like(leak)


@claim("gln-not-causal", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="gLN (per-example Layer Norm: GroupNorm with one group, over T and F) is not "
                 "causal: the frames after t change the outputs at frames <= t.",
       left="future_leak(F.group_norm(·, 1) on [B,F,T])", right="0")
def _():
    x = stream_batch()
    leak = future_leak(lambda v: on_channels_first(lambda u: F.group_norm(u, 1), v), x)
    return leak, np.zeros_like(leak)


@claim("gn-seq-not-causal", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="Group Norm on a sequence (over T and a group of F) is not causal.",
       left="future_leak(F.group_norm(·, 2) on [B,F,T])", right="0")
def _():
    x = stream_batch()
    leak = future_leak(lambda v: on_channels_first(lambda u: F.group_norm(u, 2), v), x)
    return leak, np.zeros_like(leak)


@claim("in-seq-not-causal", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="Instance Norm on a sequence (over T, per feature) is not causal.",
       left="future_leak(F.instance_norm on [B,F,T])", right="0")
def _():
    x = stream_batch()
    leak = future_leak(lambda v: on_channels_first(F.instance_norm, v), x)
    return leak, np.zeros_like(leak)


@claim("bn-train-crosses-batch", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="Batch Norm in training mode is not even per sequence: changing the other "
                 "sequences of the batch changes the output of sequence 0.",
       left="batch_leak(nn.BatchNorm1d, training mode)", right="0")
def _():
    bn = torch.nn.BatchNorm1d(8).train()
    leak = batch_leak(lambda v: on_channels_first(bn, v), stream_batch(), index=0)
    return np.array([leak]), np.zeros(1)


@claim("bn-eval-causal", chapter=CH, layout="[B,T,F]",
       statement="Batch Norm in eval mode (running statistics, fixed) is causal and per frame: "
                 "neither the future nor the other sequences change an output.",
       left="future_leak and batch_leak of nn.BatchNorm1d, eval mode", right="0")
def _():
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm1d(8)
    with torch.no_grad():  # some running statistics, as after training
        bn.running_mean.normal_(), bn.running_var.uniform_(0.5, 2.0)
    bn.eval()
    norm = lambda v: on_channels_first(bn, v)  # noqa: E731
    leaks = np.append(future_leak(norm, stream_batch()), batch_leak(norm, stream_batch()))
    return leaks, np.zeros_like(leaks)


@claim("cln-causal", chapter=CH, layout="[B,T,F]",
       statement="The cumulative layer norm is causal.",
       left="future_leak(cumulative_standardize over T F along T)", right="0")
def _():
    leak = future_leak(cumulative_ln, stream_batch())
    return leak, np.zeros_like(leak)


# --- the cumulative layer norm --------------------------------------------------------------------

@claim("cln-equals-prefix-standardize", chapter=CH, layout="[B,T,F]",
       statement="The cumulative layer norm at frame t equals standardize over T and F of the "
                 "prefix x[:, :t+1], read at its last frame.",
       left="cumulative_standardize over T F along T",
       right='standardize(x[:, :t+1], "B T F", over="T F")[:, -1], every t')
def _():
    x = data.sequence(B=4, T=16, F=8, seed=8, dtype=np.float64)
    prefixes = [standardize(x[:, :t + 1], "B T F", over="T F")[:, -1] for t in range(16)]
    return cumulative_ln(x), np.stack(prefixes, axis=1)


@claim("cln-torch-equals-numpy", chapter=CH, layout="[B,T,F]",
       statement="cumulative_standardize gives the same numbers on a torch tensor and on a "
                 "NumPy array.",
       left="cumulative_standardize on torch.Tensor", right="cumulative_standardize on np.ndarray")
def _():
    x = data.sequence(B=4, T=16, F=8, seed=8, dtype=np.float64)
    return cumulative_ln(torch.from_numpy(x)), cumulative_ln(x)


@claim("cln-img-raster-equals-masked", chapter=CH, layout="[N,C,H,W]",
       statement="On images, the cumulative norm along H W in raster order at pixel (h, w) "
                 "equals standardize over C H W with a mask of the pixels up to (h, w).",
       left='cumulative_standardize "N C H W" over "C H W" along "H W"',
       right="standardize with mask=prefix_mask(...), at every pixel")
def _():
    x = data.images(N=2, C=3, H=4, W=5, seed=8, dtype=np.float64)
    ours = cumulative_standardize(x, "N C H W", over="C H W", along="H W")
    ref = np.empty_like(x)
    for h in range(4):
        for w in range(5):
            up_to = prefix_mask(x.shape, (2, 3), (h, w))  # pixels <= (h, w) in raster order
            y = standardize(x, "N C H W", over="C H W", mask=up_to)
            ref[:, :, h, w] = y[:, :, h, w]
    return ours, ref


@claim("cln-equals-conv-tasnet", chapter=CH, layout="[B,T,F]",
       statement="Our cumulative layer norm, with eps = 1e-8 and the same gain and bias, equals "
                 "our transcription of the cLN of the Conv-TasNet authors' code (commit "
                 "ae9a676).",
       left="cumulative_standardize (eps 1e-8), then gain and bias",
       right="conv_tasnet_cln on [B,F,T]")
def _():
    x, (gain, bias) = stream_batch(), gain_bias()
    ours = cumulative_ln(x, eps=1e-8) * gain + bias  # gain and bias per feature F
    return ours, on_channels_first(lambda u: conv_tasnet_cln(u, gain, bias, eps=1e-8), x)


@claim("cln-equals-asteroid", chapter=CH, layout="[B,T,F]",
       statement="Our cumulative layer norm equals our transcription of asteroid's CumLN "
                 "(alias cgLN) as fixed by asteroid PR #649.",
       left="cumulative_standardize (eps 1e-8), then gamma and beta",
       right="asteroid_cum_ln on [B,F,T]")
def _():
    x, (gamma, beta) = stream_batch(), gain_bias()
    ours = cumulative_ln(x, eps=1e-8) * gamma + beta
    return ours, on_channels_first(lambda u: asteroid_cum_ln(u, gamma, beta), x)


@claim("cln-asteroid-0-6-0-differs", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="History, not a test of asteroid: our transcription of asteroid's CumLN before "
                 "the fix of issue #648 subtracts the squared mean from the running sum of "
                 "squares (not its mean), a quantity that grows with t: it is not the cumulative "
                 "layer norm.",
       left="cumulative_standardize (eps 1e-8)", right="asteroid_cum_ln_0_6_0 on [B,F,T]")
def _():
    x, ones, zeros = stream_batch(), torch.ones(8), torch.zeros(8)
    old = on_channels_first(lambda u: asteroid_cum_ln_0_6_0(u, ones, zeros), x)
    return cumulative_ln(x, eps=1e-8), old


# --- the global layer norm is GroupNorm with one group --------------------------------------------

@claim("gln-equals-groupnorm1", chapter=CH, layout="[B,T,F]",
       statement="Conv-TasNet's gLN (our transcription of asteroid's GlobLN: over channels and "
                 "time, per-channel gamma and beta, eps 1e-8) equals nn.GroupNorm(1, C, "
                 "eps=1e-8) with the same weight and bias.",
       left="asteroid_glob_ln on [B,F,T]", right="nn.GroupNorm(1, 8, eps=1e-8) on [B,F,T]")
def _():
    x, (gamma, beta) = stream_batch(), gain_bias()
    gn = torch.nn.GroupNorm(1, 8, eps=1e-8)
    with torch.no_grad():
        gn.weight.copy_(gamma), gn.bias.copy_(beta)
        ref = on_channels_first(gn, x)
    return on_channels_first(lambda u: asteroid_glob_ln(u, gamma, beta), x), ref


@claim("gln-equals-standardize-tf", chapter=CH, layout="[B,T,F]",
       statement="gLN without its affine step is standardize over T and F.",
       left='standardize(x, "B T F", over="T F", eps=1e-8)',
       right="asteroid_glob_ln, gamma 1, beta 0")
def _():
    x = stream_batch()
    ref = on_channels_first(lambda u: asteroid_glob_ln(u, torch.ones(8), torch.zeros(8)), x)
    return standardize(x, "B T F", over="T F", eps=1e-8), ref


@claim("gln-equals-keras-groupnorm1", chapter=CH, layout="[B,T,F]",
       statement="gLN equals Keras GroupNormalization(groups=1, epsilon=1e-8) on [B,T,F] "
                 "(channels last, its default axis=-1) with the same gamma and beta.",
       left="keras.layers.GroupNormalization(groups=1, epsilon=1e-8), gamma and beta copied",
       right="asteroid_glob_ln on [B,F,T]")
def _():
    x, (gamma, beta) = stream_batch(), gain_bias()
    gn = load_keras().layers.GroupNormalization(groups=1, epsilon=1e-8)
    gn.build(x.shape)
    gn.gamma.assign(gamma.numpy()), gn.beta.assign(beta.numpy())  # per-feature gain, bias
    ref = on_channels_first(lambda u: asteroid_glob_ln(u, gamma, beta), x)
    return gn(x), ref


@claim("gln-keras-default-eps-differs", chapter=CH, layout="[B,T,F]", expect="differ",
       min_diff=0.5,
       statement="With its default epsilon (1e-3), Keras GroupNormalization(groups=1) is not "
                 "gLN (eps 1e-8) on a quiet input (signal scaled by 0.01): the outputs differ by "
                 "more than 0.5.",
       left="keras.layers.GroupNormalization(groups=1)", right="asteroid_glob_ln, eps 1e-8")
def _():
    x = 0.01 * stream_batch()  # variance about 1e-3: as large as Keras's default eps
    k = load_keras()
    ours = k.layers.GroupNormalization(groups=1)(x)
    ref = on_channels_first(lambda u: asteroid_glob_ln(u, torch.ones(8), torch.zeros(8)), x)
    return ours, ref


# --- long sequences in float32 --------------------------------------------------------------------

@claim("cln-float32-naive-drifts", chapter=CH, layout="[B,T,F]", expect="differ", min_diff=1e-3,
       statement="On 10^6 frames with mean 10, the cumulative layer norm with float32 running "
                 "sums of x and x² is off by more than 1e-3 from its float64 value.",
       left="cumulative_standardize, float32, accumulate='naive'", right="the same in float64")
def _():
    x = long_sequence(10**6)  # float32, 1e6 frames, mean 10
    ref = cumulative_ln(x.astype(np.float64), accumulate="shifted")
    return cumulative_ln(x, accumulate="naive"), ref


@claim("cln-float32-shifted-close", chapter=CH, layout="[B,T,F]", tol=1e-3,
       statement="Shifting by the mean of the first frame before accumulating keeps the float32 "
                 "cumulative layer norm within 1e-3 of its float64 value on the same 10^6 frames.",
       left="cumulative_standardize, float32, accumulate='shifted'", right="the same in float64")
def _():
    x = long_sequence(10**6)
    ref = cumulative_ln(x.astype(np.float64), accumulate="shifted")  # float64 statistics
    return cumulative_ln(x, accumulate="shifted"), ref


@claim("cln-float64-sums-exact", chapter=CH, layout="[B,T,F]", tol=4e-6,
       statement="Accumulating in float64 (accumulate='float64': the whole computation in "
                 "float64, the result cast back) gives the float64 result rounded to float32 "
                 "(within 4e-6, a few float32 steps of outputs up to 8) on the same 10^6 "
                 "frames.",
       left="cumulative_standardize, float32 input, accumulate='float64'",
       right="the same in float64")
def _():
    x = long_sequence(10**6)
    ref = cumulative_ln(x.astype(np.float64), accumulate="shifted").astype(np.float32)
    return cumulative_ln(x, accumulate="float64"), ref


@claim("cln-torch-naive-cancels", chapter=CH, layout="[B,T,F]", expect="differ", min_diff=1e-3,
       statement="On torch (CPU), whose cumulative sum keeps a wider running total, the naive "
                 "float32 "
                 "cumulative layer norm is still off by more than 1e-3 on 10^6 frames with mean "
                 "100: the cancellation in E[x²] - E[x]² of two float32 numbers.",
       left="cumulative_standardize on a float32 CPU tensor, accumulate='naive'",
       right="the same in float64")
def _():
    x = long_sequence(10**6, offset=100.0)
    ref = cumulative_ln(x.astype(np.float64), accumulate="shifted")
    return cumulative_ln(torch.from_numpy(x), accumulate="naive"), ref


@claim("cln-asteroid-float32-is-naive", chapter=CH, layout="[B,T,F]",
       statement="In float32, our transcription of asteroid's CumLN forms the same sums as our "
                 "naive form: on 10^6 "
                 "frames with mean 100 the two agree (and share the naive form's error).",
       left="asteroid_cum_ln on a float32 [B,F,T] tensor",
       right="cumulative_standardize, accumulate='naive', eps 1e-8")
def _():
    x = torch.from_numpy(long_sequence(10**6, offset=100.0))
    ones, zeros = torch.ones(4), torch.zeros(4)
    ours = cumulative_ln(x, eps=1e-8, accumulate="naive")
    return on_channels_first(lambda u: asteroid_cum_ln(u, ones, zeros), x), ours


@claim("gln-keras-eps-is-the-cause", chapter=CH, layout="[B,T,F]",
       statement="The eps is the whole cause: on the same quiet input, Keras "
                 "GroupNormalization(groups=1) with its default eps is standardize over T and F "
                 "with eps 1e-3, and with only its epsilon set to 1e-8 it is gLN.",
       left="keras GroupNormalization(groups=1), default eps and epsilon=1e-8, stacked",
       right='standardize over "T F" with eps 1e-3, and asteroid_glob_ln (eps 1e-8), stacked')
def _():
    x = 0.01 * stream_batch()
    k = load_keras()
    default, matched = (k.layers.GroupNormalization(groups=1, **kw)(x)
                        for kw in ({}, {"epsilon": 1e-8}))
    gln = on_channels_first(lambda u: asteroid_glob_ln(u, torch.ones(8), torch.zeros(8)), x)
    with_keras_eps = standardize(x, "B T F", over="T F", eps=1e-3)
    return torch.stack([default, matched]), torch.stack([with_keras_eps, gln])
