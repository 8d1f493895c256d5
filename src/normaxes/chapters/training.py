"""Helpers of the chapter "Batch Norm in training": the Group Norm paper's batch-size experiment
in miniature on scikit-learn's bundled digits, the running statistics and precise BN, and Batch
Norm across two processes with ``torch.distributed`` (gloo, loopback only).

The experiment trains many small convolutional networks at once: ``Stack`` holds one network per
(norm, seed) side by side, with grouped convolutions, so that network ``k`` only ever sees the
images of its own batches (input channel ``k``) and its own parameters. Batch Norm is per channel
and Group Norm per contiguous group of channels, so one ``BatchNorm2d`` (or ``GroupNorm``) over the
channels of several networks is exactly that norm applied to each network on its own. The loss is
the sum of the networks' losses, so each parameter gets the gradient of its own network only.
One training step thus trains every network of a batch size; ``tests/test_training.py`` checks
that a stacked network follows the same trajectory as the same network trained alone.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BATCH_SIZES", "NORMS", "SEEDS", "PAPER_TABLE2", "BEFRANKE_CIFAR10", "digits",
           "TinyNet", "Stack", "fixed_threads", "train", "experiment", "Outcome", "chan_merge",
           "run_two_processes", "distributed", "syncbn_cpu_message"]

BATCH_SIZES = (2, 4, 8, 16, 32)
NORMS = ("BN", "GN4", "GN2", "LN", "none")  # "LN" is GN with one group (over C, H, W)
SEEDS = (0, 1, 2)
WIDTHS = (8, 16, 16)  # channels of the three 3x3 convolutions
LR_32 = 0.2  # learning rate at batch size 32; scaled linearly, lr = LR_32 * B / 32
EPOCHS = 2
N_TRAIN, N_TEST = 640, 512  # of the 1,797 digits; both divisible by every batch size
PRECISE_BATCH = 128  # batch size of the re-estimation (precise BN)
ALPHA = 0.1  # BN momentum in the book's notation: weight of the new batch statistic
REPLAY = 60  # training steps replayed to measure the running statistics' lag

# ResNet-50 on ImageNet, 8 GPUs, top-1 validation error (%) by images per GPU: Wu & He (2018),
# Table 2 (the row at B=2 is also in the abstract: GN's error is 10.6 points lower).
PAPER_TABLE2 = {"B": (32, 16, 8, 4, 2),
                "BN": (23.6, 23.7, 24.8, 27.3, 34.7),
                "GN": (24.1, 24.2, 24.0, 24.2, 24.1)}

# BeFranke/GroupNorm, results.csv at commit 3024fbc0e4f705ac435a12765784121d8ffe3fee: ResNet-20
# on CIFAR-10, G=8, test accuracy of five seeds per batch size (transcribed, not computed here).
BEFRANKE_CIFAR10 = {
    "B": (32, 16, 8, 4, 2),
    "BN": ((0.8630, 0.8700, 0.8614, 0.8633, 0.8622), (0.8626, 0.8673, 0.8659, 0.8608, 0.8635),
           (0.8579, 0.8597, 0.8678, 0.8592, 0.8626), (0.8460, 0.8481, 0.8418, 0.8502, 0.8526),
           (0.7986, 0.7958, 0.8096, 0.8029, 0.8081)),
    "GN": ((0.8639, 0.8604, 0.8592, 0.8580, 0.8562), (0.8606, 0.8522, 0.8564, 0.8545, 0.8620),
           (0.8619, 0.8579, 0.8601, 0.8516, 0.8569), (0.8627, 0.8627, 0.8583, 0.8546, 0.8602),
           (0.8616, 0.8617, 0.8598, 0.8563, 0.8500)),
}


# --- data --------------------------------------------------------------------------------------


def digits_file() -> str:
    """The path of the digits file that scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``),
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


def _norm(kind: str, channels: int, copies: int = 1) -> nn.Module:
    """The norm *kind* ("BN", "GN<G>", "LN", "none") for *copies* networks of *channels* each."""
    if kind == "BN":
        return nn.BatchNorm2d(copies * channels, momentum=ALPHA)
    if kind == "none":
        return nn.Identity()
    groups = 1 if kind == "LN" else int(kind[2:]) if kind.startswith("GN") else 0
    if groups < 1 or channels % groups:
        raise ValueError(f"norm must be BN, LN, none or GN<G> with G dividing {channels}, "
                         f"got {kind!r}")
    return nn.GroupNorm(copies * groups, copies * channels)


class TinyNet(nn.Module):
    """The network of the experiment, alone: three 3x3 convolutions (8x8 -> 8x8 -> 4x4 -> 2x2),
    each followed by *norm* and ReLU, global average pooling and a linear layer to 10 classes."""

    def __init__(self, norm: str = "BN", widths=WIDTHS):
        super().__init__()
        chans = (1,) + tuple(widths)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, stride=s, padding=1)
                                   for a, b, s in zip(chans, chans[1:], (1, 2, 2)))
        self.norms = nn.ModuleList(_norm(norm, c) for c in widths)
        self.head = nn.Linear(chans[-1], 10)

    def forward(self, x):
        """Logits ``[N, 10]`` of images ``[N, 1, 8, 8]``."""
        for conv, norm in zip(self.convs, self.norms):
            x = torch.relu(norm(conv(x)))
        return self.head(x.mean(dim=(2, 3)))


class _StackNorm(nn.Module):
    def __init__(self, kinds, channels):
        super().__init__()
        runs = []  # consecutive networks with the same norm share one module
        for kind in kinds:
            if runs and runs[-1][0] == kind:
                runs[-1][1] += 1
            else:
                runs.append([kind, 1])
        self.sizes = [n * channels for _, n in runs]
        self.parts = nn.ModuleList(_norm(kind, channels, n) for kind, n in runs)

    def forward(self, x):
        chunks = torch.split(x, self.sizes, dim=1)
        return torch.cat([part(c) for part, c in zip(self.parts, chunks)], dim=1)


class Stack(nn.Module):
    """K copies of :class:`TinyNet` side by side, one per entry of *norms*, each with its own
    parameters (copied from *inits*, one ``TinyNet`` per copy). Input ``[N, K, 8, 8]`` (network
    k's images in channel k), output ``[N, K, 10]``."""

    def __init__(self, norms, inits, widths=WIDTHS):
        super().__init__()
        K = self.K = len(norms)
        chans = (1,) + tuple(widths)
        self.convs = nn.ModuleList(nn.Conv2d(K * a, K * b, 3, stride=s, padding=1, groups=K)
                                   for a, b, s in zip(chans, chans[1:], (1, 2, 2)))
        self.norms = nn.ModuleList(_StackNorm(norms, c) for c in widths)
        self.head = nn.Conv2d(K * chans[-1], K * 10, 1, groups=K)
        with torch.no_grad():
            for i, conv in enumerate(self.convs):
                conv.weight.copy_(torch.cat([net.convs[i].weight for net in inits]))
                conv.bias.copy_(torch.cat([net.convs[i].bias for net in inits]))
            self.head.weight.copy_(torch.cat([net.head.weight[:, :, None, None] for net in inits]))
            self.head.bias.copy_(torch.cat([net.head.bias for net in inits]))

    def forward(self, x):
        """Logits ``[N, K, 10]`` of images ``[N, K, 8, 8]`` (network k's in channel k)."""
        for conv, norm in zip(self.convs, self.norms):
            x = torch.relu(norm(conv(x)))
        return self.head(x.mean(dim=(2, 3), keepdim=True)).view(len(x), self.K, 10)

    def bn_layers(self):
        """The BatchNorm2d modules (each holds the channels of every BN network)."""
        return [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]


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
    g = torch.Generator().manual_seed(1000 + seed)
    return torch.cat([torch.randperm(n, generator=g) for _ in range(epochs)])


def _error(logits, y):  # [N, K, 10], [N] -> error in % per network
    return 100.0 * (logits.argmax(-1) != y[:, None]).double().mean(0).numpy()


@dataclass(frozen=True)
class Outcome:
    """Test error (%) per (norm, seed), arrays ``[len(NORMS), len(SEEDS)]`` for one batch size."""

    B: int
    eval_error: np.ndarray  # eval mode: BN with its running statistics
    train_mode_error: np.ndarray  # training mode on test batches of size B: BN with batch statistics
    precise_error: np.ndarray  # eval mode after re-estimating BN's statistics (precise BN)
    lag: float  # relative change of BN's running statistics when the last batches are replayed
    ema_vs_precise: float  # relative distance of the running statistics to the precise ones


def train(B: int, *, norms=NORMS, seeds=SEEDS, epochs: int = EPOCHS, lr_32: float = LR_32):
    """Train one network per (norm, seed) at batch size *B*, learning rate ``lr_32 * B / 32``,
    SGD with momentum 0.9, for *epochs* epochs; return the trained :class:`Stack`, the models'
    (norm, seed) pairs and the indices of the last ``REPLAY`` batches of each seed."""
    x_train, y_train, _, _ = digits()
    models = [(n, s) for n in norms for s in seeds]
    inits = []
    for norm, seed in models:
        torch.manual_seed(seed)  # the same seed gives the same weights whatever the norm
        inits.append(TinyNet(norm))
    net = Stack([n for n, _ in models], inits).train()
    opt = torch.optim.SGD(net.parameters(), lr=lr_32 * B / 32, momentum=0.9)
    orders = torch.stack([_orders(s, epochs, N_TRAIN) for _, s in models])  # [K, epochs * n]
    steps = orders.shape[1] // B
    for step in range(steps):
        idx = orders[:, step * B:(step + 1) * B]  # [K, B]
        x = x_train[idx][:, :, 0].transpose(0, 1)  # [B, K, 8, 8]
        y = y_train[idx].transpose(0, 1)  # [B, K]
        loss = F.cross_entropy(net(x).reshape(-1, 10), y.reshape(-1), reduction="sum") / B
        opt.zero_grad()
        loss.backward()
        opt.step()
    last = orders[:, (steps - REPLAY) * B:steps * B]
    return net, models, last


def _bn_stats(net):
    return torch.cat([torch.cat([m.running_mean, m.running_var]) for m in net.bn_layers()])


def _relative(a, b):
    return float((a - b).norm() / b.norm())


def _evaluate(net, B, last, norms, seeds):
    x_train, _, x_test, y_test = digits()
    K = net.K
    shape = (len(norms), len(seeds))
    xt = x_test.expand(-1, K, -1, -1)  # every network sees the whole test set
    with torch.no_grad():
        eval_error = _error(net.eval()(xt), y_test).reshape(shape)
        live = copy.deepcopy(net).train()  # training mode: the statistics of each test batch
        logits = torch.cat([live(xt[i:i + B]) for i in range(0, len(xt), B)])
        train_mode_error = _error(logits, y_test).reshape(shape)
        stored = _bn_stats(net)
        # the lag: the same last batches, replayed through the final weights with the same alpha
        replay = copy.deepcopy(net).train()
        for m in replay.bn_layers():
            m.reset_running_stats()
        for step in range(REPLAY):
            replay(x_train[last[:, step * B:(step + 1) * B]][:, :, 0].transpose(0, 1))
        lag = _relative(stored, _bn_stats(replay)) if stored.numel() else 0.0
        # precise BN: population statistics of the final weights, averaged over the training set
        precise = copy.deepcopy(net).train()
        for m in precise.bn_layers():
            m.reset_running_stats()
            m.momentum = None  # a plain average over all batches
        xs = x_train.expand(-1, K, -1, -1)
        for i in range(0, N_TRAIN, PRECISE_BATCH):
            precise(xs[i:i + PRECISE_BATCH])
        precise_error = _error(precise.eval()(xt), y_test).reshape(shape)
        gap = _relative(stored, _bn_stats(precise)) if stored.numel() else 0.0
    return Outcome(B, eval_error, train_mode_error, precise_error, lag, gap)


@functools.lru_cache(maxsize=None)
def experiment(batch_sizes=BATCH_SIZES, norms=NORMS, seeds=SEEDS, epochs: int = EPOCHS):
    """Train and evaluate every (norm, seed) at every batch size, once per process (cached):
    a dict ``{B: Outcome}``. Deterministic on one machine: seeded, deterministic algorithms, one
    thread inside (restored afterwards)."""
    out = {}
    with fixed_threads(1):
        for B in batch_sizes:
            net, _, last = train(B, norms=norms, seeds=seeds, epochs=epochs)
            out[B] = _evaluate(net, B, last, norms, seeds)
    return out


def error_table(results=None, kind: str = "eval_error"):
    """Mean test error (%) over the seeds: ``{norm: [error at each batch size]}``."""
    results = results or experiment()
    return {n: [float(results[B].__dict__[kind][i].mean()) for B in sorted(results)]
            for i, n in enumerate(NORMS)}


def mean_error(norm: str, B: int, kind: str = "eval_error") -> float:
    """Mean test error (%) over the seeds of *norm* at batch size *B*."""
    return float(experiment()[B].__dict__[kind][NORMS.index(norm)].mean())


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
    import torch.distributed as dist
    from datetime import timedelta

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
                  - xmu * (sum_dy_xmu * inv ** 2 / k)[None, :, None, None]) * inv[None, :, None, None]
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


def _main(argv=None):
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


def published_table() -> str:
    """Markdown: the GN paper's Table 2 (top-1 error, %) and the CIFAR-10 reproduction's mean
    error over five seeds (100 − mean accuracy, %), by images per GPU (per batch)."""
    befranke = {k: [100 * (1 - float(np.mean(v))) for v in BEFRANKE_CIFAR10[k]]
                for k in ("BN", "GN")}
    rows = ["| error (%) | " + " | ".join(f"B = {b}" for b in PAPER_TABLE2["B"]) + " |",
            "|---" * (len(PAPER_TABLE2["B"]) + 1) + "|"]
    for k in ("BN", "GN"):
        rows.append(f"| ResNet-50, ImageNet, {k} | "
                    + " | ".join(f"{v:.1f}" for v in PAPER_TABLE2[k]) + " |")
    for k in ("BN", "GN"):
        rows.append(f"| ResNet-20, CIFAR-10, {k} | "
                    + " | ".join(f"{v:.1f}" for v in befranke[k]) + " |")
    return "\n".join(rows)


def raw_table(results=None) -> str:
    """Markdown: the miniature's mean test error (%) over the seeds, per norm and batch size, in
    evaluation mode, with BN also in training mode and after precise BN."""
    results = results or experiment()
    Bs = sorted(results)
    rows = ["| test error (%) | " + " | ".join(f"B = {b}" for b in Bs) + " |",
            "|---" * (len(Bs) + 1) + "|"]
    labels = {"BN": "BN (running statistics)", "GN4": "GN, G = 4", "GN2": "GN, G = 2",
              "LN": "LN (GN, G = 1)", "none": "no norm"}
    tables = {k: error_table(results, k) for k in ("eval_error", "train_mode_error",
                                                   "precise_error")}
    for n in NORMS:
        rows.append(f"| {labels[n]} | " + " | ".join(f"{v:.1f}" for v in tables["eval_error"][n])
                    + " |")
        if n == "BN":
            for k, name in (("train_mode_error", "BN, training mode (batch statistics)"),
                            ("precise_error", "BN, precise BN")):
                rows.append(f"| {name} | " + " | ".join(f"{v:.1f}" for v in tables[k]["BN"])
                            + " |")
    return "\n".join(rows)


def plot(results=None, figsize=(9.2, 3.8)):
    """Test error against batch size: the GN paper's Table 2 (left), the miniature (right)."""
    import matplotlib.pyplot as plt

    from ..book import figures  # noqa: F401  (the book's PNG formatter: 2x, palette, text size)

    results = results or experiment()
    Bs = sorted(results)
    fig, (a, b) = plt.subplots(1, 2, figsize=figsize)
    for k, style in (("BN", "o-"), ("GN", "s-")):
        a.plot(PAPER_TABLE2["B"], PAPER_TABLE2[k], style, label=k)
    a.set_title("ResNet-50, ImageNet (Wu & He, Table 2)", fontsize=11)
    tables = {k: error_table(results, k) for k in ("eval_error", "train_mode_error",
                                                   "precise_error")}
    for n, style in zip(NORMS, ("o-", "s-", "^-", "v-", "x:")):
        b.plot(Bs, tables["eval_error"][n], style, label=n if n != "none" else "no norm")
    b.plot(Bs, tables["train_mode_error"]["BN"], "o--", color="C0", alpha=0.5,
           label="BN, training mode")
    b.plot(Bs, tables["precise_error"]["BN"], "o-.", color="C0", alpha=0.5, label="BN, precise")
    b.set_title("the miniature: digits, mean of the seeds", fontsize=11)
    for ax in (a, b):
        ax.set_xscale("log", base=2)
        ax.set_xticks(Bs, [str(B) for B in Bs])
        ax.set_xlabel("batch size (per GPU / per step)")
        ax.set_ylabel("test error (%)")
        ax.invert_xaxis()
        ax.legend(fontsize=11)
    fig.tight_layout()
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
