"""Helpers of the chapter "Batch Norm in training": the Group Norm paper's batch-size experiment
in miniature on scikit-learn's bundled digits, the running statistics and precise BN, and Batch
Norm across two processes with ``torch.distributed`` (gloo, loopback only).

The experiment trains many small networks at once: :class:`Stack` holds one :class:`TinyNet` per
(norm, seed) side by side, each with its own parameters and its own batches (row k of every
activation ``[K, N, H, W, C]`` is network k's), so one step trains every network of a batch
size. It computes with plain operations that round alike on PyTorch's vectorised and
non-vectorised CPU paths (see ``Conv``), so that the trained networks, and the test errors
the chapter prints, are the same bits on every path and with any number of threads.
``tests/test_training.py`` checks both, and that a stacked network follows the trajectory of the
same ``TinyNet`` trained alone with ``nn.BatchNorm2d``, ``nn.GroupNorm`` and ``torch.optim.SGD``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BATCH_SIZES", "NORMS", "SEEDS", "PAPER_TABLE2", "digits", "TinyNet", "Stack",
           "BatchNorm", "GroupNorm", "SGD", "cross_entropy_sum", "fixed_threads",
           "learning_rate", "train", "precise_bn", "experiment", "Outcome", "seed_errors",
           "spread", "chan_merge", "run_two_processes", "distributed", "syncbn_cpu_message"]

BATCH_SIZES = (2, 4, 8, 16, 32)
NORMS = ("BN", "BN-conv", "GN4", "LN", "none")
# "LN" is GN with one group (over C, H, W: per-example Layer Norm); "BN-conv" has Batch Norm after
# its convolutions and GN(1) after its fully connected layer
SEEDS = (0, 1, 2, 3, 4)
WIDTHS = (8, 16, 32)  # channels of the three 3x3 convolutions
STRIDES = (1, 2, 2)  # maps 8x8 -> 8x8 -> 4x4 -> 2x2
HIDDEN = 32  # units of the fully connected layer after the global average pooling
LR_32 = 0.1  # learning rate at batch size 32; scaled linearly, lr = LR_32 * B / 32
EPOCHS = 5
DECAY_AT = 2 / 3  # the learning rate drops tenfold after this fraction of the steps
N_TRAIN, N_TEST = 1024, 512  # of the 1,797 digits; both divisible by every batch size
PRECISE_BATCH = 128  # batch size of the re-estimation (precise BN)
ALPHA = 0.1  # BN momentum in the book's notation: weight of the new batch statistic

# ResNet-50 on ImageNet, 8 GPUs, top-1 validation error (%) by images per GPU: Wu & He (2018),
# Table 2. The text of Sec. 4.1 states BN's 23.6, 27.3 and 34.7 at 32, 4 and 2 images per GPU and
# GN's 24.1, 24.2 and 24.1; the values at 16 and 8 are the table's as others transcribed it (the
# table itself could not be opened while writing this).
PAPER_TABLE2 = {"B": (32, 16, 8, 4, 2),
                "BN": (23.6, 23.7, 24.8, 27.3, 34.7),
                "GN": (24.1, 24.2, 24.0, 24.2, 24.1)}

# --- data --------------------------------------------------------------------------------------


def digits_file() -> str:
    """The path of the digits file scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``),
    found without importing scikit-learn (which takes seconds); ``load_digits`` reads this file."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn is not installed: pip install -r requirements.txt")
    return os.path.join(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")


@functools.lru_cache(maxsize=1)
def digits():
    """scikit-learn's bundled 8x8 digits (no download), split once: ``(x_train, y_train, x_test,
    y_test)`` with images ``[N, 1, 8, 8]`` in [0, 1] and labels 0..9; 640 to train, 512 to test.
    Read as ``sklearn.datasets.load_digits`` reads it (a test checks that they agree)."""
    table = np.loadtxt(digits_file(), delimiter=",")  # 1,797 rows: 64 pixels (0..16), label
    x = torch.tensor(table[:, :-1].reshape(-1, 1, 8, 8) / 16.0, dtype=torch.float32)
    y = torch.tensor(table[:, -1], dtype=torch.long)
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(y)))
    x, y = x[order], y[order]
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:N_TRAIN + N_TEST], y[N_TRAIN:N_TRAIN + N_TEST]


# --- the networks ------------------------------------------------------------------------------


def _layer_kind(norm: str, fc: bool) -> str:
    """The norm of one layer of a network with norm *norm*: "BN-conv" is BN in the
    convolutions and GN(1) in the fully connected layer (*fc*); the others are the same in all."""
    if norm == "BN-conv":
        return "LN" if fc else "BN"
    return norm


def _norm(kind: str, channels: int, dim: int = 2) -> nn.Module:
    """The PyTorch layer of norm *kind* ("BN", "GN<G>", "LN" = GN with one group, "none") for
    images (*dim* 2) or feature vectors (*dim* 1)."""
    if kind == "BN":
        return (nn.BatchNorm2d if dim == 2 else nn.BatchNorm1d)(channels, momentum=ALPHA)
    if kind == "none":
        return nn.Identity()
    return nn.GroupNorm(_groups(kind, channels), channels)


def _groups(kind: str, channels: int) -> int:
    groups = 1 if kind == "LN" else int(kind[2:]) if kind[2:].isdigit() and kind[:2] == "GN" else 0
    if groups < 1 or channels % groups:
        raise ValueError(f"norm must be BN, LN, none or GN<G> with G dividing {channels}, "
                         f"got {kind!r}")
    return groups


class TinyNet(nn.Module):
    """The network of the experiment, alone, in plain PyTorch: three 3x3 convolutions
    (8x8 -> 8x8 -> 4x4 -> 2x2, with ``WIDTHS`` channels), global average pooling, a fully
    connected layer of ``HIDDEN`` units, each of the four followed by *norm* and a ReLU, then a
    linear layer to 10 classes. The fully connected layer's Batch Norm pools the batch alone
    (N entries per unit)."""

    def __init__(self, norm: str = "BN", widths=None, hidden: int | None = None):
        super().__init__()
        widths, hidden = widths or WIDTHS, hidden or HIDDEN
        chans = (1,) + tuple(widths)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, stride=s, padding=1)
                                   for a, b, s in zip(chans, chans[1:], STRIDES, strict=False))
        self.fc = nn.Linear(chans[-1], hidden)
        self.norms = nn.ModuleList([*(_norm(_layer_kind(norm, False), c) for c in widths),
                                    _norm(_layer_kind(norm, True), hidden, 1)])
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        """Logits ``[N, 10]`` of images ``[N, 1, 8, 8]``."""
        for conv, norm in zip(self.convs, self.norms, strict=False):
            x = torch.relu(norm(conv(x)))
        x = torch.relu(self.norms[-1](self.fc(x.mean(dim=(2, 3)))))
        return self.head(x)

    @torch.no_grad()
    def seed(self, seed: int) -> "TinyNet":
        """He initialization, drawn with NumPy's generator seeded by *seed* (the same bits on
        every CPU path, whatever the norm): weights normal with standard deviation
        ``sqrt(2 / fan_in)`` (``sqrt(1 / fan_in)`` for the last, linear layer), biases 0."""
        rng = np.random.default_rng(seed)
        for layer in (*self.convs, self.fc, self.head):
            gain = 1.0 if layer is self.head else 2.0
            std = np.sqrt(gain / layer.weight[0].numel())
            layer.weight.copy_(torch.from_numpy(rng.normal(0.0, std, layer.weight.shape)))
            layer.bias.zero_()
        return self


# The stacked networks compute with a few plain operations only (matrix products, sums and means,
# +, -, *, /, sqrt, exp, log, indexing): PyTorch's fused norm kernels, its cross-entropy and its
# SGD step (add with alpha: a fused multiply-add) round differently on its vectorised and
# non-vectorised CPU paths, and training amplifies one rounding step into different test errors.
# These operations give the same bits on both paths and with any number of threads (a unit test
# trains both ways), and agree with nn.Conv2d, nn.BatchNorm2d, nn.GroupNorm, F.cross_entropy and
# torch.optim.SGD to float32 rounding (another unit test). Activations are channels-last,
# [K, N, H, W, C]: network k's batch in row k.


def _patches(size: int, stride: int) -> torch.Tensor:
    """For a 3x3 convolution with padding 1: the flat positions in the padded ``size + 2``
    square of each output pixel's 9 inputs, ``[outputs, 9]``."""
    out, side = (size - 1) // stride + 1, size + 2
    return torch.tensor([[(i * stride + di) * side + j * stride + dj
                          for di in range(3) for dj in range(3)]
                         for i in range(out) for j in range(out)])


class Conv(nn.Module):
    """K 3x3 convolutions with padding 1, one per network: the 9 inputs of each output pixel
    gathered (im2col) and multiplied by each network's weights (one ``torch.bmm``)."""

    def __init__(self, convs, size: int):
        super().__init__()
        w = torch.stack([c.weight.detach() for c in convs])  # [K, C_out, C_in, 3, 3]
        K, c_out, c_in = w.shape[:3]
        self.stride = convs[0].stride[0]
        self.out = (size - 1) // self.stride + 1
        self.weight = nn.Parameter(w.permute(0, 3, 4, 2, 1).reshape(K, 9 * c_in, c_out).clone())
        self.bias = nn.Parameter(torch.stack([c.bias.detach() for c in convs])[:, None, :].clone())
        self.register_buffer("index", _patches(size, self.stride), persistent=False)

    def forward(self, x):  # [K, N, H, W, C_in] -> [K, N, H', W', C_out]
        K, N, H, W, C = x.shape
        padded = F.pad(x, (0, 0, 1, 1, 1, 1)).reshape(K, N, (H + 2) * (W + 2), C)
        cols = padded.index_select(2, self.index.flatten())  # [K, N, outputs * 9, C]
        cols = cols.reshape(K, N * self.out * self.out, 9 * C)
        return (torch.bmm(cols, self.weight) + self.bias).view(K, N, self.out, self.out, -1)


class _NormReLU(torch.autograd.Function):
    """``relu(standardize(x) * weight + bias)``, the statistics over *dims*, with its backward
    written out (one autograd node instead of a dozen: the experiment's steps are many and
    small, and their time goes to the number of operations)."""

    @staticmethod
    def forward(ctx, x, weight, bias, dims, eps):
        mean = x.mean(dim=dims, keepdim=True)
        xc = x - mean
        var = (xc * xc).mean(dim=dims, keepdim=True)  # biased
        inv = torch.rsqrt(var + eps)
        xhat = xc * inv
        y = (xhat * weight + bias).clamp_min_(0)
        ctx.save_for_backward(xhat, inv, weight, y)
        ctx.dims = dims
        ctx.mark_non_differentiable(mean, var)
        ctx.set_materialize_grads(False)  # no zero gradients for mean and var
        return y, mean, var

    @staticmethod
    def backward(ctx, gy, _mean, _var):
        xhat, inv, weight, y = ctx.saved_tensors
        gz = torch.ops.aten.threshold_backward(gy, y, 0)  # the ReLU's: gy where y > 0, else 0
        gxhat = gz * weight
        gx = (gxhat - gxhat.mean(dim=ctx.dims, keepdim=True)
              - xhat * (gxhat * xhat).mean(dim=ctx.dims, keepdim=True)) * inv
        return gx, (gz * xhat).sum_to_size(weight.shape), gz.sum_to_size(weight.shape), None, None


class BatchNorm(nn.Module):
    """``nn.BatchNorm2d(C, momentum=ALPHA)`` then a ReLU, in each of *k* networks, written with
    plain operations: in training mode, normalize with the batch's mean and biased variance over
    N, H, W and update the running mean and the running *unbiased* variance (as PyTorch stores
    them, ``[k, C]``); in evaluation mode, normalize with the running statistics. With
    ``momentum=None`` the running statistics are those of every entry seen since
    :meth:`reset_running_stats`, the batches merged with :func:`chan_merge` (PyTorch's
    ``momentum=None`` averages the batches' variances instead, which misses the spread of their
    means)."""

    def __init__(self, k: int, channels: int, momentum: float | None = ALPHA, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(k, 1, channels))
        self.bias = nn.Parameter(torch.zeros(k, 1, channels))
        self.register_buffer("running_mean", torch.zeros(k, channels))
        self.register_buffer("running_var", torch.ones(k, channels))
        self.register_buffer("num_batches_tracked", torch.tensor(0))
        self.register_buffer("entries", torch.tensor(0.0, dtype=torch.float64))

    def reset_running_stats(self):
        """Mean 0, variance 1, no batch seen: as ``nn.BatchNorm2d.reset_running_stats``."""
        self.running_mean.zero_()
        self.running_var.fill_(1.0)
        self.num_batches_tracked.zero_()
        self.entries.zero_()

    def forward(self, x):
        """``relu(BN(x))`` of ``[k, N, H, W, C]``, network k's batch in row k."""
        flat = x.reshape(len(x), -1, x.shape[-1])  # [k, N*H*W, C]
        if self.training:
            y, mean, var = _NormReLU.apply(flat, self.weight, self.bias, 1, self.eps)
            with torch.no_grad():
                self._track(mean[:, 0], var[:, 0], flat.shape[1])
        else:
            xhat = (flat - self.running_mean[:, None]) / torch.sqrt(self.running_var[:, None]
                                                                    + self.eps)
            y = torch.relu(xhat * self.weight + self.bias)
        return y.view(x.shape)

    def _track(self, mean, var, m):
        self.num_batches_tracked += 1
        n_old = float(self.entries)
        self.entries += m
        if self.momentum is not None:
            a = self.momentum
            self.running_mean.mul_(1 - a).add_(mean * a)
            self.running_var.mul_(1 - a).add_(var * (m / (m - 1) * a))
            return
        biased = self.running_var * ((n_old - 1) / n_old) if n_old else torch.zeros_like(var)
        mean, biased, n = chan_merge(self.running_mean, biased, n_old, mean, var, m)
        self.running_mean.copy_(mean)
        self.running_var.copy_(biased * (n / (n - 1)))


class GroupNorm(nn.Module):
    """``nn.GroupNorm(G, C)`` then a ReLU, in each of *k* networks, written with plain
    operations: each example's mean and biased variance over H, W and the ``C // G`` channels
    of a group."""

    def __init__(self, k: int, groups: int, channels: int, eps: float = 1e-5):
        super().__init__()
        self.groups, self.eps = groups, eps
        self.weight = nn.Parameter(torch.ones(k, 1, 1, groups, channels // groups))
        self.bias = nn.Parameter(torch.zeros(k, 1, 1, groups, channels // groups))

    def forward(self, x):
        """``relu(GN(x))`` of ``[k, N, H, W, C]``, network k's batch in row k."""
        k, N, H, W, C = x.shape
        g = x.reshape(k, N, H * W, self.groups, C // self.groups)
        return _NormReLU.apply(g, self.weight, self.bias, (2, 4), self.eps)[0].view(x.shape)


class _StackNorm(nn.Module):
    """One norm (then a ReLU) per network: the networks with the same norm are consecutive rows,
    and each part knows its rows (``part.rows``, a range of network indices)."""

    def __init__(self, kinds, channels):
        super().__init__()
        runs = []
        for kind in kinds:
            if runs and runs[-1][0] == kind:
                runs[-1][1] += 1
            else:
                runs.append([kind, 1])
        self.sizes = [n for _, n in runs]
        self.parts = nn.ModuleList(
            BatchNorm(n, channels) if kind == "BN" else nn.ReLU() if kind == "none"
            else GroupNorm(n, _groups(kind, channels), channels) for kind, n in runs)
        start = 0
        for part, n in zip(self.parts, self.sizes, strict=True):
            part.rows = range(start, start + n)
            start += n

    def forward(self, x):
        chunks = torch.split(x, self.sizes)
        return torch.cat([part(c) for part, c in zip(self.parts, chunks, strict=True)])


class Dense(nn.Module):
    """K fully connected layers, one per network, on the global average of the map:
    ``[K, N, H, W, C] -> [K, N, 1, 1, units]`` (one ``torch.bmm``)."""

    def __init__(self, linears):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([f.weight.detach().T for f in linears]).clone())
        self.bias = nn.Parameter(torch.stack([f.bias.detach() for f in linears])[:, None].clone())

    def forward(self, x):
        y = torch.bmm(x.mean(dim=(2, 3)), self.weight) + self.bias
        return y[:, :, None, None]


class Stack(nn.Module):
    """K copies of :class:`TinyNet` side by side, one per entry of *norms*, each with the weights
    of its entry of *inits* (``TinyNet`` s) and its own parameters from then on. Input
    ``[K, N, 8, 8, 1]`` (network k's batch in row k), output ``[K, N, 10]``."""

    def __init__(self, norms, inits):
        super().__init__()
        widths = [conv.out_channels for conv in inits[0].convs]
        hidden = inits[0].fc.out_features
        self.K = len(norms)
        sizes = [8]
        for conv in inits[0].convs:
            sizes.append((sizes[-1] - 1) // conv.stride[0] + 1)
        self.layers = nn.ModuleList([*(Conv([net.convs[i] for net in inits], sizes[i])
                                       for i in range(len(widths))),
                                     Dense([net.fc for net in inits])])
        last = len(widths)
        self.norms = nn.ModuleList(_StackNorm([_layer_kind(n, i == last) for n in norms], c)
                                   for i, c in enumerate((*widths, hidden)))
        self.head_weight = nn.Parameter(torch.stack([n.head.weight.detach().T for n in inits]))
        self.head_bias = nn.Parameter(torch.stack([n.head.bias.detach() for n in inits])[:, None])

    def forward(self, x):
        """Logits ``[K, N, 10]`` of images ``[K, N, 8, 8, 1]``."""
        for layer, norm in zip(self.layers, self.norms, strict=False):
            x = norm(layer(x))  # the norm, then a ReLU
        return torch.bmm(x[:, :, 0, 0], self.head_weight) + self.head_bias

    def bn_layers(self):
        """The BatchNorm modules (one per layer that has any, holding every network with Batch
        Norm there; ``m.rows`` are their indices in the stack)."""
        return [m for m in self.modules() if isinstance(m, BatchNorm)]


def cross_entropy_sum(logits, y):
    """``F.cross_entropy(logits, y, reduction="sum")`` written with plain operations."""
    z = logits - logits.detach().max(dim=-1, keepdim=True).values
    return (torch.log(torch.exp(z).sum(dim=-1)) - z.gather(-1, y[:, None])[:, 0]).sum()


class SGD:
    """``torch.optim.SGD(params, lr, momentum)`` (no dampening, no weight decay) written with
    plain operations: ``v = momentum * v + grad``, then ``p = p - lr * v``. The parameters become
    views of one flat tensor, so that a step is four operations whatever their number."""

    def __init__(self, params, lr: float, momentum: float = 0.9):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.momentum = lr, momentum
        self.flat = torch.cat([p.detach().flatten() for p in self.params])
        offset = 0
        for p in self.params:
            p.data = self.flat[offset:offset + p.numel()].view_as(p)
            offset += p.numel()
        self.velocity = torch.zeros_like(self.flat)

    @torch.no_grad()
    def step(self):
        grad = torch.cat([p.grad.flatten() for p in self.params])
        self.velocity.mul_(self.momentum).add_(grad)
        self.flat.sub_(self.velocity * self.lr)
        for p in self.params:
            p.grad = None


# --- training ----------------------------------------------------------------------------------


@contextlib.contextmanager
def fixed_threads(n: int = 1):
    """Run the block with *n* intra-op threads and deterministic algorithms; restore both after."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(n)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _orders(seed: int, epochs: int, n: int):
    rng = np.random.default_rng(1000 + seed)
    return torch.from_numpy(np.concatenate([rng.permutation(n) for _ in range(epochs)]))


def _error(logits, y):  # [K, N, 10], [N] -> error in % per network
    return 100.0 * (logits.argmax(-1) != y).double().mean(1).numpy()


@dataclass(frozen=True)
class Outcome:
    """Test error (%) per (norm, seed), arrays ``[len(norms), len(seeds)]`` for one batch size."""

    B: int
    eval_error: np.ndarray  # eval mode: BN with its running statistics
    train_mode_error: np.ndarray  # training mode, test batches of B: BN with batch statistics
    precise_error: np.ndarray  # eval mode after re-estimating BN's statistics (precise BN)
    ema_vs_precise: np.ndarray  # relative distance of the running statistics (all BN layers'
    # means and variances) to the precise ones; NaN for the networks without Batch Norm


def learning_rate(B: int, step: int, steps: int, lr_32: float = LR_32) -> float:
    """The learning rate of training step *step* of *steps* at batch size *B*: the GN paper's
    linear scaling, ``lr_32 * B / 32``, divided by 10 from the fraction ``DECAY_AT`` of the steps
    on (the paper divides it by 10 at 30, 60 and 90 of its 100 epochs)."""
    lr = lr_32 * B / 32
    return lr / 10 if step >= int(steps * DECAY_AT) else lr


def train(B: int, *, norms=NORMS, seeds=SEEDS, epochs: int = EPOCHS, lr_32: float = LR_32):
    """Train one network per (norm, seed) at batch size *B* for *epochs* epochs (the same
    images at every batch size), SGD with momentum 0.9 at :func:`learning_rate`; return the
    trained :class:`Stack` and the models' (norm, seed) pairs. Networks with the same seed start
    from the same weights and see the same batches, whatever their norm."""
    x_train, y_train, _, _ = digits()
    models = [(n, s) for n in norms for s in seeds]
    inits = [TinyNet(norm).seed(seed) for norm, seed in models]
    net = Stack([n for n, _ in models], inits).train()
    opt = SGD(net.parameters(), lr=lr_32 * B / 32, momentum=0.9)  # the rate: set at each step
    orders = torch.stack([_orders(s, epochs, N_TRAIN) for _, s in models])  # [K, epochs * n]
    steps = orders.shape[1] // B
    images = x_train.view(-1, 8, 8, 1)
    for step in range(steps):
        opt.lr = learning_rate(B, step, steps, lr_32)
        idx = orders[:, step * B:(step + 1) * B]  # [K, B]
        loss = cross_entropy_sum(net(images[idx]).reshape(-1, 10), y_train[idx].reshape(-1)) / B
        loss.backward()
        opt.step()
    return net, models


def _bn_stats(net) -> dict:
    """``{network index: its BN layers' running means and variances, one vector}``."""
    parts = {}
    for m in net.bn_layers():
        for j, k in enumerate(m.rows):
            parts.setdefault(k, []).append(torch.cat([m.running_mean[j], m.running_var[j]]))
    return {k: torch.cat(v) for k, v in parts.items()}


def precise_bn(net, x, batch: int = PRECISE_BATCH):
    """Precise BN: re-estimate every BN layer's running statistics with the weights frozen, from
    the images *x* (``[K, N_TRAIN, 8, 8, 1]``) in batches of *batch*, the network in training
    mode. Each layer ends with the mean and unbiased variance of its input over all of *x*, and
    ``num_batches_tracked`` counts the batches."""
    for m in net.bn_layers():
        m.reset_running_stats()
        m.momentum = None  # from now on: the statistics of every entry since the reset
    net.train()
    with torch.no_grad():
        for i in range(0, N_TRAIN, batch):
            net(x[:, i:i + batch])
    for m in net.bn_layers():
        m.momentum = ALPHA
    return net


def _evaluate(net, B, norms, seeds):
    x_train, _, x_test, y_test = digits()
    K = net.K
    shape = (len(norms), len(seeds))
    xt = x_test.view(1, -1, 8, 8, 1).expand(K, -1, -1, -1, -1)  # every network: the test set
    with torch.no_grad():
        eval_error = _error(net.eval()(xt), y_test).reshape(shape)
        stored = _bn_stats(net)
        net.train()  # training mode: each test batch of B normalized with its own statistics
        logits = torch.cat([net(xt[:, i:i + B]) for i in range(0, N_TEST, B)], dim=1)
        train_mode_error = _error(logits, y_test).reshape(shape)
        precise_bn(net, x_train.view(1, -1, 8, 8, 1).expand(K, -1, -1, -1, -1))
        precise_error = _error(net.eval()(xt), y_test).reshape(shape)
        new = _bn_stats(net)
        gap = np.full(K, np.nan)  # NaN: a network without Batch Norm
        for k, v in new.items():
            gap[k] = float((stored[k] - v).double().norm() / v.double().norm())
    return Outcome(B, eval_error, train_mode_error, precise_error, gap.reshape(shape))


SECOND_PROCESS = (2, 32)  # the batch sizes a second process trains: about half of the time


def _run(batch_sizes, norms, seeds, epochs):
    out = {}
    with fixed_threads(1):
        for B in batch_sizes:
            net, _ = train(B, norms=norms, seeds=seeds, epochs=epochs)
            out[B] = _evaluate(net, B, norms, seeds)
    return out


@functools.lru_cache(maxsize=None)
def experiment(batch_sizes=BATCH_SIZES, norms=NORMS, seeds=SEEDS, epochs: int = EPOCHS,
               processes: int = 2):
    """Train and evaluate every (norm, seed) at every batch size, once per process (cached):
    a dict ``{B: Outcome}``. Seeded, one thread per process, and only operations that round
    alike on every CPU path (see :class:`BatchNorm`), so the results are the same bits on every
    path. With *processes* 2, a second Python process trains the batch sizes
    ``SECOND_PROCESS`` meanwhile (the same bits as one process: a unit test compares); it is
    ended however this call ends."""
    theirs = tuple(B for B in batch_sizes if B in SECOND_PROCESS) if processes == 2 else ()
    mine = tuple(B for B in batch_sizes if B not in theirs)
    if not theirs or not mine:
        return _run(batch_sizes, norms, seeds, epochs)
    with tempfile.TemporaryDirectory(prefix="normaxes-train-") as tmp:
        path = os.path.join(tmp, "results.pkl")
        cmd = [sys.executable, "-m", __name__, "experiment", "--out", path,
               "--batch-sizes", ",".join(map(str, theirs)), "--norms", ",".join(norms),
               "--seeds", ",".join(map(str, seeds)), "--epochs", str(epochs)]
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
        with open(os.path.join(tmp, "log"), "w+") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL)
            try:
                out = _run(mine, norms, seeds, epochs)
                proc.wait(timeout=900)
                if proc.returncode:
                    log.seek(0)
                    raise RuntimeError(f"the second training process failed:\n{log.read()[-2000:]}")
                with open(path, "rb") as f:  # written just now by our own child process
                    out.update({B: Outcome(**fields) for B, fields in pickle.load(f).items()})
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
    return {B: out[B] for B in batch_sizes}


def seed_errors(norm: str, kind: str = "eval_error", results=None) -> dict:
    """Test error (%) of *norm*'s networks, ``{batch size: array over the seeds}``; *kind* is
    ``"eval_error"`` (evaluation mode), ``"train_mode_error"`` or ``"precise_error"``."""
    i = NORMS.index(norm)
    return {B: r.__dict__[kind][i] for B, r in (results or experiment()).items()}


# --- Batch Norm across processes ---------------------------------------------------------------


def chan_merge(mean_a, var_a, n_a, mean_b, var_b, n_b):
    """Merge two sets' (mean, biased variance, count) into those of their union (Chan et al.)."""
    n = n_a + n_b
    delta = mean_b - mean_a
    mean = mean_a + delta * n_b / n
    m2 = var_a * n_a + var_b * n_b + delta ** 2 * n_a * n_b / n
    return mean, m2 / n, n


def shard(rank: int, counts, C: int = 3):
    """Process *rank*'s batch ``[counts[rank], C, 2, 2]`` and its upstream gradient, float64."""
    g = torch.Generator().manual_seed(7 + 100 * rank + 10 * sum(counts))
    x = torch.randn(counts[rank], C, 2, 2, generator=g, dtype=torch.float64) * 2 + 1
    dy = torch.randn(counts[rank], C, 2, 2, generator=g, dtype=torch.float64)
    return x, dy


def _worker(rank: int, world_size: int, store: str, out: str, fault: str | None):
    from datetime import timedelta

    import torch.distributed as dist

    torch.set_num_threads(1)
    if fault == "hang" and rank == 1:
        time.sleep(3600)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank,
                            world_size=world_size, timeout=timedelta(seconds=30))
    try:
        if fault == "crash" and rank == 1:
            raise RuntimeError("worker 1 fails on purpose")
        res = {}
        for case, counts in (("equal", (4, 4)), ("unequal", (3, 5))):
            x, dy = shard(rank, counts)
            dims = (0, 2, 3)
            # per-process BN: this process's statistics only
            bn = nn.BatchNorm2d(x.shape[1], momentum=ALPHA).double().train()
            xr = x.clone().requires_grad_(True)
            y_local = bn(xr)
            res[f"{case}/local_y"] = y_local.detach()
            res[f"{case}/local_running_mean"] = bn.running_mean.clone()
            mean, var = x.mean(dims), x.var(dims, unbiased=False)
            n = torch.tensor([float(x.shape[0] * 4)], dtype=torch.float64)
            # all-gather (mean, var, count) and merge them
            stats = torch.cat([mean, var, n])
            gathered = [torch.empty_like(stats) for _ in range(world_size)]
            dist.all_gather(gathered, stats)
            C = x.shape[1]
            m, v, k = gathered[0][:C], gathered[0][C:2 * C], gathered[0][2 * C]
            for other in gathered[1:]:
                m, v, k = chan_merge(m, v, k, other[:C], other[C:2 * C], other[2 * C])
            res[f"{case}/merged_mean"], res[f"{case}/merged_var"] = m, v
            xhat = (x - m[None, :, None, None]) / torch.sqrt(v[None, :, None, None] + 1e-5)
            res[f"{case}/sync_y"] = xhat
            # backward: all-reduce the two sums, then each process computes its own x-bar
            xmu = x - m[None, :, None, None]
            sums = torch.cat([dy.sum(dims), (dy * xmu).sum(dims)])
            dist.all_reduce(sums)
            sum_dy, sum_dy_xmu = sums[:C], sums[C:]
            inv = 1 / torch.sqrt(v + 1e-5)
            dx = (dy - sum_dy[None, :, None, None] / k
                  - xmu * (sum_dy_xmu * inv ** 2 / k)[None, :, None, None]
                  ) * inv[None, :, None, None]
            res[f"{case}/sync_dx"] = dx
        # what SyncBatchNorm says on CPU, with the process group up
        try:
            nn.SyncBatchNorm(3).train()(torch.randn(4, 3, 2, 2))
            res["syncbn_message"] = ""
        except Exception as e:  # noqa: BLE001 - the message is the result
            res["syncbn_message"] = f"{type(e).__name__}: {e}"
        torch.save(res, out)
    finally:
        dist.destroy_process_group()


def run_two_processes(*, timeout: float = 60.0, fault: str | None = None) -> dict:
    """Start two worker processes (gloo on 127.0.0.1, a file store in a temporary folder), wait at
    most *timeout* seconds, and always end them: killed on timeout or error. Returns
    ``{"ranks": [result of rank 0, result of rank 1], "pids": [...]}``; raises ``TimeoutError``
    or ``RuntimeError`` (with the workers' stderr) if they do not finish cleanly.
    *fault* ("hang" or "crash") makes worker 1 misbehave, for the tests."""
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    env = dict(os.environ, GLOO_SOCKET_IFNAME="lo", MASTER_ADDR="127.0.0.1",
               OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    with tempfile.TemporaryDirectory(prefix="normaxes-dist-") as tmp:
        store = os.path.join(tmp, "store")
        procs, logs = [], []
        try:
            for rank in range(2):
                log = open(os.path.join(tmp, f"rank{rank}.log"), "w+")
                logs.append(log)
                cmd = [sys.executable, "-m", __name__, "--rank", str(rank), "--world-size", "2",
                       "--store", store, "--out", os.path.join(tmp, f"rank{rank}.pt")]
                if fault:
                    cmd += ["--fault", fault]
                procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                              stdin=subprocess.DEVNULL))
            deadline = time.monotonic() + timeout
            for p in procs:
                try:
                    p.wait(timeout=max(0.01, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    raise TimeoutError(f"the two processes did not finish within {timeout} s; "
                                       "both were killed") from None
            failed = [r for r, p in enumerate(procs) if p.returncode != 0]
            if failed:
                text = ""
                for r in failed:
                    logs[r].seek(0)
                    text += f"--- rank {r} ---\n" + logs[r].read()[-2000:]
                raise RuntimeError(f"worker(s) {failed} failed:\n{text}")
            ranks = [torch.load(os.path.join(tmp, f"rank{r}.pt"), weights_only=False)
                     for r in range(2)]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
            for p in procs:
                p.wait()
            for log in logs:
                log.close()
    return {"ranks": ranks, "pids": [p.pid for p in procs]}


@functools.lru_cache(maxsize=1)
def distributed() -> dict:
    """:func:`run_two_processes`, once per process (cached)."""
    return run_two_processes()


def concatenated(case: str):
    """Both processes' batches concatenated, with their upstream gradients: ``(x, dy)``."""
    counts = {"equal": (4, 4), "unequal": (3, 5)}[case]
    parts = [shard(r, counts) for r in range(2)]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def gathered(case: str, key: str):
    """The two processes' results *key* of *case*, concatenated along the batch (or stacked)."""
    a, b = (r[f"{case}/{key}"] for r in distributed()["ranks"])
    return torch.cat([a, b]) if a.dim() == 4 else torch.stack([a, b])


def syncbn_cpu_message() -> str:
    """What ``nn.SyncBatchNorm`` raised in a worker when run on CPU (empty if it ran)."""
    return distributed()["ranks"][0]["syncbn_message"]


def _experiment_main(argv):
    p = argparse.ArgumentParser(description="the second process of experiment()")
    p.add_argument("--out", required=True)
    p.add_argument("--batch-sizes", required=True)
    p.add_argument("--norms", required=True)
    p.add_argument("--seeds", required=True)
    p.add_argument("--epochs", type=int, required=True)
    a = p.parse_args(argv)
    out = _run(tuple(int(b) for b in a.batch_sizes.split(",")), tuple(a.norms.split(",")),
               tuple(int(s) for s in a.seeds.split(",")), a.epochs)
    with open(a.out, "wb") as f:
        pickle.dump({B: dataclasses.asdict(o) for B, o in out.items()}, f)


def _main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["experiment"]:
        return _experiment_main(argv[1:])
    p = argparse.ArgumentParser(description="one worker of run_two_processes")
    p.add_argument("--rank", type=int, required=True)
    p.add_argument("--world-size", type=int, required=True)
    p.add_argument("--store", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--fault", choices=("hang", "crash"))
    a = p.parse_args(argv)
    _worker(a.rank, a.world_size, a.store, a.out, a.fault)


if __name__ == "__main__":
    _main()


# --- tables and the figure of the chapter -------------------------------------------------------


LABELS = {"BN": "BN, running statistics", "BN-train": "BN, training mode",
          "BN-precise": "BN, precise BN", "BN-conv": "BN, but GN(1) in the FC layer",
          "GN4": "GN(4)", "LN": "GN(1)", "none": "no norm"}
_ROWS = (("BN", "BN", "eval_error"), ("BN-train", "BN", "train_mode_error"),
         ("BN-precise", "BN", "precise_error"), ("BN-conv", "BN-conv", "eval_error"),
         ("GN4", "GN4", "eval_error"), ("LN", "LN", "eval_error"), ("none", "none", "eval_error"))


def spread(norm: str, kind: str = "eval_error", results=None):
    """Test error (%) of *norm* at each batch size over the seeds: arrays ``(mean, min, max)``."""
    errors = seed_errors(norm, kind, results)
    e = np.stack([errors[B] for B in sorted(errors)])
    return e.mean(axis=1), e.min(axis=1), e.max(axis=1)


def published_table() -> str:
    """Markdown: the GN paper's Table 2, top-1 error (%) by images per GPU."""
    rows = ["| ResNet-50, ImageNet | " + " | ".join(f"B = {b}" for b in PAPER_TABLE2["B"]) + " |",
            "|---" * (len(PAPER_TABLE2["B"]) + 1) + "|"]
    for k in ("BN", "GN"):
        rows.append(f"| {k} | " + " | ".join(f"{v:.1f}" for v in PAPER_TABLE2[k]) + " |")
    return "\n".join(rows)


def error_markdown(results=None) -> str:
    """Markdown: the miniature's test error (%) per norm and batch size, the mean over the seeds
    and, below it, the lowest and the highest seed."""
    results = results or experiment()
    Bs = sorted(results)
    rows = ["| test error (%) | " + " | ".join(f"B = {b}" for b in Bs) + " |",
            "|---" * (len(Bs) + 1) + "|"]
    for label, norm, kind in _ROWS:
        mean, lo, hi = spread(norm, kind, results)
        rows.append(f"| {LABELS[label]} | " + " | ".join(
            f"{m:.1f}<br><small>{a:.1f}–{b:.1f}</small>" for m, a, b in zip(mean, lo, hi,
                                                                           strict=True)) + " |")
    return "\n".join(rows)


def plot(results=None, figsize=(9.2, 5.2)):
    """Test error against batch size, one line per norm: the GN paper's Table 2 (left) and the
    miniature (right: the mean over the seeds, the band from the lowest to the highest seed)."""
    import matplotlib.pyplot as plt

    from ..book import figures  # noqa: F401  (the book's PNG formatter: 2x, palette, text size)

    results = results or experiment()
    Bs = sorted(results)
    fig, (a, b) = plt.subplots(1, 2, figsize=figsize)
    for k, style in (("BN", "o-"), ("GN", "s-")):
        a.plot(PAPER_TABLE2["B"], PAPER_TABLE2[k], style, label=k)
    a.set_title("ResNet-50 on ImageNet (GN paper)", fontsize=11)
    a.set_ylabel("top-1 error (%)")
    legend = {"BN-train": "BN, training mode (batch statistics)",
              "LN": "GN(1), per-example Layer Norm"}
    styles = {"BN": ("o-", "C0"), "BN-train": ("o--", "C0"), "BN-conv": ("D-.", "C4"),
              "GN4": ("s-", "C1"),
              "LN": ("^-", "C2"), "none": ("x:", "C3")}
    for label, norm, kind in _ROWS:
        if label not in styles:
            continue
        mean, lo, hi = spread(norm, kind, results)
        style, color = styles[label]
        b.plot(Bs, mean, style, color=color, label=legend.get(label, LABELS[label]))
        b.fill_between(Bs, lo, hi, color=color, alpha=0.15, linewidth=0)
    b.set_yscale("log")
    b.set_yticks([2, 5, 10, 20, 50], ["2", "5", "10", "20", "50"])
    b.set_title("the miniature on digits (log scale)", fontsize=11)
    b.set_ylabel("test error (%)")
    for ax in (a, b):
        ax.set_xscale("log", base=2)
        ax.set_xticks(Bs, [str(B) for B in Bs])
        ax.minorticks_off()
        ax.set_xlabel("images per GPU (per step)")
        ax.invert_xaxis()
    a.legend(fontsize=11)
    fig.legend(*b.get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=11,
               frameon=False, title="the miniature:", title_fontsize=11)
    fig.tight_layout(rect=(0, 0.23, 1, 1))
    return fig


def cpu_kernel_message() -> str:
    """What PyTorch's own merge kernel, ``batch_norm_gather_stats_with_counts``, says on CPU."""
    x = torch.zeros(2, 1, 1)
    try:
        torch.batch_norm_gather_stats_with_counts(x, torch.zeros(2, 1), torch.ones(2, 1), None,
                                                  None, 0.1, 1e-5, torch.tensor([1.0, 1.0]))
        return ""
    except NotImplementedError as e:
        return f"NotImplementedError: {str(e).split(' This could be')[0]}"
