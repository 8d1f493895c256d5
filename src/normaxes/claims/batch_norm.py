"""Chapter 2: Batch Norm per feature (over B, T) and per channel (over N, H, W), its
running statistics and evaluation mode, against PyTorch and Keras 3, and what a wrong
layout does."""

import numpy as np
import torch

from .. import data, load_keras, moments, on_channels_first, standardize, to_numpy
from ..book.ledger import claim
from ..running import running_update

CH = "batch_norm"

# --- training mode: the batch's own statistics ----------------------------------------


@claim("bn1d-seq-torch", chapter=CH, layout="[B,T,F]",
       statement="nn.BatchNorm1d(F) in training mode, given the sequence transposed "
                 "to [B,F,T], is standardize over B and T.",
       left='standardize over "B T"',
       right="nn.BatchNorm1d(F) through on_channels_first")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    bn = torch.nn.BatchNorm1d(8).train()  # reads channels first: [B, F, T]
    with torch.no_grad():
        ref = on_channels_first(bn, x)  # to [B, F, T], normalize, back to [B, T, F]
    return standardize(x, "B T F", over="B T"), ref


@claim("bn-seq-keras", chapter=CH, layout="[B,T,F]",
       statement="Keras' BatchNormalization with its default axis=-1 takes [B,T,F] as "
                 "it is: in training mode it is standardize over B and T, with Keras' "
                 "eps = 1e-3.",
       left='standardize over "B T", eps=1e-3',
       right="BatchNormalization()(x, training=True)")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    bn = load_keras().layers.BatchNormalization()  # axis=-1: one statistic per feature F
    return standardize(x, "B T F", over="B T", eps=1e-3), bn(x, training=True)


@claim("bn-keras-eps-differs", chapter=CH, layout="[B,T,F]", expect="differ",
       min_diff=1e-4,
       statement="The default eps differs (Keras 1e-3, PyTorch 1e-5), and so do the "
                 "outputs of the same Batch Norm: slightly (max|Δ| < 1e-3), but far beyond "
                 "float32 rounding. Eps is the whole cause: with only epsilon=1e-5 passed "
                 "to Keras the difference vanishes (asserted in the code).",
       left="BatchNormalization()(x, training=True)",
       right="nn.BatchNorm1d(F), training mode")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    with torch.no_grad():
        ref = on_channels_first(torch.nn.BatchNorm1d(8), x)  # eps = 1e-5
    BN = load_keras().layers.BatchNormalization
    keras_default = BN()(x, training=True)  # epsilon = 1e-3
    keras_matched = BN(epsilon=1e-5)(x, training=True)  # only eps changed
    assert (keras_matched - ref).abs().max() < 1e-5  # the difference vanishes
    assert (keras_default - ref).abs().max() < 1e-3  # "slightly": the bound
    return keras_default, ref


@claim("bn2d-img-torch", chapter=CH, layout="[N,C,H,W]",
       statement="nn.BatchNorm2d(C) in training mode is standardize over N, H and W.",
       left='standardize over "N H W"', right="nn.BatchNorm2d(C), training mode")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, C, H, W]
    bn = torch.nn.BatchNorm2d(6).train()
    with torch.no_grad():
        ref = bn(x)
    return standardize(x, "N C H W", over="N H W"), ref


@claim("bn-img-keras-channels-first", chapter=CH, layout="[N,C,H,W]",
       statement="Keras' BatchNormalization(axis=1) on channels-first images, in "
                 "training mode, is standardize over N, H and W (eps = 1e-3).",
       left='standardize over "N H W", eps=1e-3',
       right="BatchNormalization(axis=1)(x, training=True)")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, C, H, W]
    bn = load_keras().layers.BatchNormalization(axis=1)  # C is axis 1
    return standardize(x, "N C H W", over="N H W", eps=1e-3), bn(x, training=True)


@claim("bn-img-keras-channels-last", chapter=CH, layout="[N,H,W,C]",
       statement="On channels-last images, Keras' default axis=-1 is the channel "
                 'axis: the same Batch Norm, standardize "N H W C" over N, H and W.',
       left='standardize "N H W C" over "N H W", eps=1e-3',
       right="BatchNormalization()(x, training=True)")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=12)  # [N, C, H, W]
    x = torch.from_numpy(x).permute(0, 2, 3, 1)  # [N, H, W, C]
    bn = load_keras().layers.BatchNormalization()  # axis=-1 is C here
    return standardize(x, "N H W C", over="N H W", eps=1e-3), bn(x, training=True)


# --- the wrong layout -----------------------------------------------------------------


@claim("bn1d-untransposed-per-frame", chapter=CH, layout="[B,T,F]",
       statement="nn.BatchNorm1d(T) applied to [B,T,F] without the transpose takes T "
                 "for the channel axis: it normalizes each time step, over B and F.",
       left='standardize over "B F"', right="nn.BatchNorm1d(T)(x), x in [B,T,F]")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    bn = torch.nn.BatchNorm1d(20).train()  # 20 = T "channels": the wrong axis
    with torch.no_grad():
        ref = bn(x)  # no transpose
    return standardize(x, "B T F", over="B F"), ref


@claim("bn1d-untransposed-is-not-bn", chapter=CH, layout="[B,T,F]", expect="differ",
       min_diff=1.0,
       statement="That per-time-step normalization is not Batch Norm: on a sequence "
                 "whose loudness swings over time the two differ by whole units.",
       left="nn.BatchNorm1d(T)(x), x in [B,T,F]", right='standardize over "B T"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    with torch.no_grad():
        wrong = torch.nn.BatchNorm1d(20)(x)  # statistics per time step
    return wrong, standardize(x, "B T F", over="B T")  # statistics per feature


@claim("bn-keras-default-axis-on-nchw", chapter=CH, layout="[N,C,H,W]",
       statement="Keras' default axis=-1 on a channels-first image takes W for the "
                 "channel axis: it normalizes each image column over N, C and H.",
       left='standardize over "N C H", eps=1e-3',
       right="BatchNormalization()(x, training=True), x in [N,C,H,W]")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, C, H, W]
    bn = load_keras().layers.BatchNormalization()  # axis=-1 is W here
    return standardize(x, "N C H W", over="N C H", eps=1e-3), bn(x, training=True)


@claim("bn-keras-default-axis-on-nchw-is-not-bn", chapter=CH, layout="[N,C,H,W]",
       expect="differ",
       statement="That per-column normalization is not Batch Norm, whose statistics "
                 "are per channel.",
       left="BatchNormalization()(x, training=True), x in [N,C,H,W]",
       right='standardize over "N H W", eps=1e-3')
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, C, H, W]
    wrong = load_keras().layers.BatchNormalization()(x, training=True)  # per column W
    return wrong, standardize(x, "N C H W", over="N H W", eps=1e-3)  # per channel C


# --- running statistics ---------------------------------------------------------------


@claim("bn1d-normalizes-with-biased-var", chapter=CH, layout="[B,T,F]",
       statement="On the same small batch (m = B·T = 10), BatchNorm1d in training "
                 "mode normalizes with the biased variance …",
       left="BatchNorm1d(F), training mode",
       right="(x - mean) / sqrt(biased var + eps)")
def _():
    x = data.sequence(B=2, T=5, F=8, seed=13)  # a small batch: m = B·T = 10
    with torch.no_grad():
        ref = on_channels_first(torch.nn.BatchNorm1d(8), torch.from_numpy(x))
    mean, var, m = moments(x, "B T F", over="B T")  # biased variance
    return ref, (x - mean) / np.sqrt(var + 1e-5)


@claim("bn1d-does-not-normalize-with-unbiased-var", chapter=CH, layout="[B,T,F]",
       expect="differ", statement="… not with the unbiased one.",
       left="BatchNorm1d(F), training mode",
       right="(x - mean) / sqrt(m/(m-1) · biased var + eps)")
def _():
    x = data.sequence(B=2, T=5, F=8, seed=13)  # a small batch: m = B·T = 10
    with torch.no_grad():
        ref = on_channels_first(torch.nn.BatchNorm1d(8), torch.from_numpy(x))
    mean, var, m = moments(x, "B T F", over="B T")
    return ref, (x - mean) / np.sqrt(var * m / (m - 1) + 1e-5)


# The variances of these batches reach 50, where one float32 step is 3.8e-6: the default float32
# tolerance (1e-5) would be under three steps, so these equalities carry their own, 1e-4.
@claim("bn-torch-stores-unbiased", chapter=CH, layout="[B,T,F]", tol=1e-4,
       statement="PyTorch stores the unbiased batch variance, m/(m-1) times the "
                 "biased one (m = B·T): with momentum=1, which keeps only the new "
                 "value, running_var is exactly that.",
       left="running_var, BatchNorm1d(F, momentum=1.0)",
       right="m/(m-1) · biased variance")
def _():
    x = data.sequence(B=2, T=5, F=8, seed=13)  # a small batch: m = B·T = 10
    bn = torch.nn.BatchNorm1d(8, momentum=1.0)  # keeps only the new value
    with torch.no_grad():
        on_channels_first(bn.train(), torch.from_numpy(x))
    _, var, m = moments(x, "B T F", over="B T")  # biased variance, m = 10
    return bn.running_var, var.ravel() * m / (m - 1)


@claim("bn-torch-running-var-is-not-biased", chapter=CH, layout="[B,T,F]",
       expect="differ",
       statement="PyTorch's running_var is not the biased variance it normalizes the "
                 "batch with.",
       left="running_var, BatchNorm1d(F, momentum=1.0)", right="biased variance")
def _():
    x = data.sequence(B=2, T=5, F=8, seed=13)  # a small batch: m = B·T = 10
    bn = torch.nn.BatchNorm1d(8, momentum=1.0)
    with torch.no_grad():
        on_channels_first(bn.train(), torch.from_numpy(x))
    _, var, _ = moments(x, "B T F", over="B T")
    return bn.running_var, var.ravel()


@claim("bn-keras-stores-biased", chapter=CH, layout="[B,T,F]", tol=1e-4,
       statement="Keras stores the biased batch variance itself: with momentum=0, "
                 "which keeps only the new value, moving_variance is exactly that, no "
                 "m/(m-1).",
       left="moving_variance, BatchNormalization(momentum=0.0)",
       right="biased variance")
def _():
    x = data.sequence(B=2, T=5, F=8, seed=13)  # a small batch: m = B·T = 10
    bn = load_keras().layers.BatchNormalization(momentum=0.0)  # keeps only the new
    bn(torch.from_numpy(x), training=True)
    _, var, _ = moments(x, "B T F", over="B T")  # biased variance per feature
    return bn.moving_variance, var.ravel()


@claim("bn-keras-moving-var-is-not-unbiased", chapter=CH, layout="[B,T,F]",
       expect="differ",
       statement="Keras' moving_variance is not the unbiased variance that PyTorch "
                 "stores.",
       left="moving_variance, BatchNormalization(momentum=0.0)",
       right="m/(m-1) · biased variance")
def _():
    x = data.sequence(B=2, T=5, F=8, seed=13)  # a small batch: m = B·T = 10
    bn = load_keras().layers.BatchNormalization(momentum=0.0)
    bn(torch.from_numpy(x), training=True)
    _, var, m = moments(x, "B T F", over="B T")
    return bn.moving_variance, var.ravel() * m / (m - 1)


@claim("bn-momentum-opposite", chapter=CH, layout="[B,T,F]",
       statement="The word momentum means opposite weights: PyTorch's momentum=0.1 "
                 "and Keras' momentum=0.9 give the same running mean.",
       left="BatchNorm1d(F, momentum=0.1) running_mean",
       right="BatchNormalization(momentum=0.9) moving_mean")
def _():
    bn_torch = torch.nn.BatchNorm1d(8, momentum=0.1)  # new batch weighs 0.1
    bn_keras = load_keras().layers.BatchNormalization(momentum=0.9)  # old value: 0.9
    for seed in (21, 22, 23):  # three training batches [B, T, F]
        x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=seed))
        with torch.no_grad():
            on_channels_first(bn_torch.train(), x)
        bn_keras(x, training=True)
    return bn_torch.running_mean, bn_keras.moving_mean


@claim("bn-running-torch-seq", chapter=CH, layout="[B,T,F]",
       statement="After three training steps, BatchNorm1d's running_mean and "
                 "running_var are running_update with momentum 0.1 in the torch "
                 "convention.",
       left='running_update(..., momentum=0.1, convention="torch")',
       right="BatchNorm1d running_mean, running_var")
def _():
    bn = torch.nn.BatchNorm1d(8)  # running_mean 0, running_var 1
    mean, var = np.zeros(8, np.float32), np.ones(8, np.float32)
    for seed in (21, 22, 23):  # three training batches [B, T, F]
        x = data.sequence(B=4, T=20, F=8, seed=seed)
        with torch.no_grad():
            on_channels_first(bn.train(), torch.from_numpy(x))
        mean, var = running_update(mean, var, x, "B T F", over="B T", momentum=0.1,
                                   convention="torch")
    return np.stack([mean, var]), torch.stack([bn.running_mean, bn.running_var])


@claim("bn-running-keras-seq", chapter=CH, layout="[B,T,F]",
       statement="After three training steps, Keras' moving_mean and moving_variance "
                 "are running_update with momentum 0.99 in the Keras convention.",
       left='running_update(..., momentum=0.99, convention="keras")',
       right="BatchNormalization moving_mean, moving_variance")
def _():
    bn = load_keras().layers.BatchNormalization()  # moving_mean 0, moving_variance 1
    mean, var = np.zeros(8, np.float32), np.ones(8, np.float32)
    for seed in (21, 22, 23):  # three training batches [B, T, F]
        x = data.sequence(B=4, T=20, F=8, seed=seed)
        bn(torch.from_numpy(x), training=True)
        mean, var = running_update(mean, var, x, "B T F", over="B T", momentum=0.99,
                                   convention="keras")
    return np.stack([mean, var]), np.stack([to_numpy(bn.moving_mean),
                                            to_numpy(bn.moving_variance)])


@claim("bn-running-torch-img", chapter=CH, layout="[N,C,H,W]",
       statement="The same for BatchNorm2d on images, with m = N·H·W.",
       left='running_update(..., momentum=0.1, convention="torch")',
       right="BatchNorm2d running_mean, running_var")
def _():
    bn = torch.nn.BatchNorm2d(6)
    mean, var = np.zeros(6, np.float32), np.ones(6, np.float32)
    for seed in (21, 22, 23):  # three training batches [N, C, H, W]
        x = data.images(N=4, C=6, H=5, W=5, seed=seed)
        with torch.no_grad():
            bn.train()(torch.from_numpy(x))
        mean, var = running_update(mean, var, x, "N C H W", over="N H W",
                                   momentum=0.1, convention="torch")
    return np.stack([mean, var]), torch.stack([bn.running_mean, bn.running_var])


@claim("bn-running-keras-img", chapter=CH, layout="[N,C,H,W]",
       statement="The same for Keras' BatchNormalization(axis=1) on channels-first "
                 "images.",
       left='running_update(..., momentum=0.99, convention="keras")',
       right="BatchNormalization(axis=1) moving_mean, moving_variance")
def _():
    bn = load_keras().layers.BatchNormalization(axis=1)
    mean, var = np.zeros(6, np.float32), np.ones(6, np.float32)
    for seed in (21, 22, 23):  # three training batches [N, C, H, W]
        x = data.images(N=4, C=6, H=5, W=5, seed=seed)
        bn(torch.from_numpy(x), training=True)
        mean, var = running_update(mean, var, x, "N C H W", over="N H W",
                                   momentum=0.99, convention="keras")
    return np.stack([mean, var]), np.stack([to_numpy(bn.moving_mean),
                                            to_numpy(bn.moving_variance)])


# --- evaluation mode: the running statistics ------------------------------------------


@claim("bn-eval-torch-seq", chapter=CH, layout="[B,T,F]",
       statement="In evaluation mode BatchNorm1d normalizes a new batch with the "
                 "running statistics, (x - mean) / sqrt(var + 1e-5) with mean and var "
                 "from running_update, and leaves them unchanged.",
       left="(x - mean) / sqrt(var + eps), ours", right="BatchNorm1d in eval mode")
def _():
    bn = torch.nn.BatchNorm1d(8)
    mean, var = np.zeros(8, np.float32), np.ones(8, np.float32)
    for seed in (21, 22, 23):  # three training steps
        x = data.sequence(B=4, T=20, F=8, seed=seed)
        with torch.no_grad():
            on_channels_first(bn.train(), torch.from_numpy(x))
        mean, var = running_update(mean, var, x, "B T F", over="B T", momentum=0.1,
                                   convention="torch")
    x = data.sequence(B=4, T=20, F=8, seed=24)  # a new batch, evaluated
    before = bn.running_mean.clone(), bn.running_var.clone()
    with torch.no_grad():
        ref = on_channels_first(bn.eval(), torch.from_numpy(x))
    assert torch.equal(bn.running_mean, before[0]) and torch.equal(bn.running_var, before[1])
    return (x - mean) / np.sqrt(var + 1e-5), ref  # mean, var broadcast over F


# outputs up to 30, where one float32 step is 1.9e-6: a tolerance of its own, as above
@claim("bn-eval-keras-seq", chapter=CH, layout="[B,T,F]", tol=1e-4,
       statement="With training=False Keras normalizes with its moving statistics, (x "
                 "- mean) / sqrt(var + 1e-3) with mean and var from running_update, and "
                 "leaves them unchanged.",
       left="(x - mean) / sqrt(var + eps), ours",
       right="BatchNormalization, training=False")
def _():
    bn = load_keras().layers.BatchNormalization()
    mean, var = np.zeros(8, np.float32), np.ones(8, np.float32)
    for seed in (21, 22, 23):  # three training steps
        x = data.sequence(B=4, T=20, F=8, seed=seed)
        bn(torch.from_numpy(x), training=True)
        mean, var = running_update(mean, var, x, "B T F", over="B T", momentum=0.99,
                                   convention="keras")
    x = data.sequence(B=4, T=20, F=8, seed=24)  # a new batch, evaluated
    before = to_numpy(bn.moving_mean).copy(), to_numpy(bn.moving_variance).copy()
    evaluated = bn(torch.from_numpy(x), training=False)
    assert (to_numpy(bn.moving_mean) == before[0]).all()  # evaluation leaves them
    assert (to_numpy(bn.moving_variance) == before[1]).all()
    return (x - mean) / np.sqrt(var + 1e-3), evaluated


@claim("bn-eval-torch-img", chapter=CH, layout="[N,C,H,W]",
       statement="The same for BatchNorm2d on images: evaluation uses the running "
                 "statistics.",
       left="(x - mean) / sqrt(var + eps), ours", right="BatchNorm2d in eval mode")
def _():
    bn = torch.nn.BatchNorm2d(6)
    # one value per channel, shaped [C, 1, 1] to broadcast over H and W
    mean, var = np.zeros((6, 1, 1), np.float32), np.ones((6, 1, 1), np.float32)
    for seed in (21, 22, 23):  # three training steps
        x = data.images(N=4, C=6, H=5, W=5, seed=seed)
        with torch.no_grad():
            bn.train()(torch.from_numpy(x))
        mean, var = running_update(mean, var, x, "N C H W", over="N H W",
                                   momentum=0.1, convention="torch")
    x = data.images(N=4, C=6, H=5, W=5, seed=24)  # a new batch, evaluated
    with torch.no_grad():
        ref = bn.eval()(torch.from_numpy(x))
    return (x - mean) / np.sqrt(var + 1e-5), ref


@claim("bn-eval-keras-img", chapter=CH, layout="[N,C,H,W]",
       statement="The same for Keras' BatchNormalization(axis=1) with training=False.",
       left="(x - mean) / sqrt(var + eps), ours",
       right="BatchNormalization(axis=1), training=False")
def _():
    bn = load_keras().layers.BatchNormalization(axis=1)
    # one value per channel, shaped [C, 1, 1] to broadcast over H and W
    mean, var = np.zeros((6, 1, 1), np.float32), np.ones((6, 1, 1), np.float32)
    for seed in (21, 22, 23):  # three training steps
        x = data.images(N=4, C=6, H=5, W=5, seed=seed)
        bn(torch.from_numpy(x), training=True)
        mean, var = running_update(mean, var, x, "N C H W", over="N H W",
                                   momentum=0.99, convention="keras")
    x = data.images(N=4, C=6, H=5, W=5, seed=24)  # a new batch, evaluated
    return (x - mean) / np.sqrt(var + 1e-3), bn(torch.from_numpy(x), training=False)


@claim("bn-eval-is-not-train", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="Evaluation mode normalizes with the running statistics, training "
                 "mode with the batch's own: after three training steps the two modes "
                 "give different outputs on the same new batch.",
       left="BatchNorm1d in eval mode", right='standardize over "B T" (training mode)')
def _():
    bn = torch.nn.BatchNorm1d(8)
    for seed in (21, 22, 23):  # three training steps
        x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=seed))
        with torch.no_grad():
            on_channels_first(bn.train(), x)
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=24))  # a new batch
    with torch.no_grad():
        evaluated = on_channels_first(bn.eval(), x)
    return evaluated, standardize(x, "B T F", over="B T")


# --- the variants of the running statistics -------------------------------------------


@claim("bn-momentum-none-is-average", chapter=CH, layout="[B,T,F]",
       statement="PyTorch's momentum=None keeps the plain average of the batch statistics "
                 "(each batch weighs 1/k at step k): after three steps, running_mean and "
                 "running_var are the means of the three batch means and unbiased variances.",
       left="means of the batch means and unbiased variances",
       right="BatchNorm1d(F, momentum=None) running_mean, running_var")
def _():
    bn = torch.nn.BatchNorm1d(8, momentum=None, dtype=torch.float64)
    means, variances = [], []
    for seed in (21, 22, 23):  # three training batches [B, T, F]
        x = data.sequence(B=4, T=20, F=8, seed=seed, dtype=np.float64)
        with torch.no_grad():
            on_channels_first(bn.train(), torch.from_numpy(x))
        means.append(x.mean(axis=(0, 1)))
        variances.append(x.var(axis=(0, 1), ddof=1))  # unbiased, over B and T
    ours = np.stack([np.mean(means, axis=0), np.mean(variances, axis=0)])
    return ours, torch.stack([bn.running_mean, bn.running_var])


@claim("bn-untracked-eval-uses-batch", chapter=CH, layout="[B,T,F]",
       statement="With track_running_stats=False PyTorch keeps no running statistics, and in "
                 "evaluation mode too it normalizes with the batch's own.",
       left="BatchNorm1d(F, track_running_stats=False) in eval mode",
       right='standardize over "B T"')
def _():
    bn = torch.nn.BatchNorm1d(8, track_running_stats=False)
    assert bn.running_mean is None and bn.running_var is None
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=24))  # [B, T, F]
    with torch.no_grad():
        evaluated = on_channels_first(bn.eval(), x)
    return evaluated, standardize(x, "B T F", over="B T")


# outputs up to 30, as in bn-eval-keras-seq: a tolerance of its own
@claim("bn-keras-frozen-is-eval", chapter=CH, layout="[B,T,F]", tol=1e-4,
       statement="A Keras BatchNormalization with trainable=False runs in inference mode even "
                 "when called with training=True: it normalizes with its moving statistics and "
                 "leaves them unchanged (asserted in the code).",
       left="trainable=False, training=True", right="training=False")
def _():
    bn = load_keras().layers.BatchNormalization()
    for seed in (21, 22, 23):  # three training steps
        bn(torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=seed)), training=True)
    bn.trainable = False  # frozen, as for fine-tuning
    before = to_numpy(bn.moving_mean).copy()
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=24))  # a new batch
    frozen = bn(x, training=True)
    assert (to_numpy(bn.moving_mean) == before).all()  # the statistics did not move
    return frozen, bn(x, training=False)


@claim("bn-torch-frozen-params-still-update", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="PyTorch ties nothing to requires_grad: with its scale and shift frozen, a "
                 "module in training mode still updates its running statistics.",
       left="running_mean after one call, requires_grad_(False)", right="its start, 0")
def _():
    bn = torch.nn.BatchNorm1d(8)
    bn.requires_grad_(False)  # scale and shift frozen, as for fine-tuning; mode: training
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=24))  # [B, T, F]
    on_channels_first(bn, x)
    return bn.running_mean, torch.zeros(8)
