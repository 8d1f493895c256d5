"""Speed and peak memory of `standardize` and `MaskedBatchNorm1d` against PyTorch's own kernels.

Not a test (pytest does not collect it); run it by hand:

    .venv/bin/python tests/perf_primitive.py [--rounds 7] [--threads 2]

Prints ratios, measured side by side in one process (time: the median over rounds of the ratio
of the two medians of one round) and, for memory, each measurement in its own process (the peak
resident memory above the resident memory with the input allocated, Linux's VmHWM after a reset).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CASES = {
    "LN [32,512,256]": ("seq_ln", (32, 512, 256)),
    "image LN [32,64,56,56]": ("img_ln", (32, 64, 56, 56)),
    "image GN(32) [32,64,56,56]": ("img_gn", (32, 64, 56, 56)),
}
MASKED = ("masked_bn", (32, 512, 256))


def _fns(kind, shape):
    import torch
    import torch.nn.functional as F

    from normaxes import standardize
    from normaxes.chapters.padding import MaskedBatchNorm1d

    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g)
    if kind == "seq_ln":
        return x, (lambda: standardize(x, "B T F", "F")), (lambda: F.layer_norm(x, shape[-1:]))
    if kind == "img_ln":
        return (x, (lambda: standardize(x, "N C H W", "C H W")),
                (lambda: F.layer_norm(x, shape[1:])))
    if kind == "img_gn":
        return (x, (lambda: standardize(x, "N (G C) H W", "C H W", G=32)),
                (lambda: F.group_norm(x, 32)))
    B, T, Fdim = shape
    lengths = torch.randint(T // 4, T + 1, (B,), generator=g)
    m = (torch.arange(T)[None, :] < lengths[:, None])[..., None]
    bn = MaskedBatchNorm1d(Fdim).train()
    w, b = torch.ones(Fdim), torch.zeros(Fdim)
    rm, rv = torch.zeros(Fdim), torch.ones(Fdim)

    def plain():  # the masked moments written out once, and the running update
        n = m.sum()
        mean = torch.where(m, x, 0).sum((0, 1)) / n
        d = torch.where(m, x - mean, 0)
        var = (d * d).sum((0, 1)) / n
        y = torch.where(m, d / torch.sqrt(var + 1e-5) * w + b, 0)
        with torch.no_grad():
            rm.mul_(0.9).add_(0.1 * mean)
            rv.mul_(0.9).add_(0.1 * var * n / (n - 1))
        return y

    return x, (lambda: bn(x, m)), plain


def _time(fn, n):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def time_ratio(kind, shape, rounds, reps):
    _, ours, ref = _fns(kind, shape)
    ours(), ref()  # warm up
    ratios = []
    for r in range(rounds):  # alternate which one runs first
        if r % 2 == 0:
            t_ours, t_ref = _time(ours, reps), _time(ref, reps)
        else:
            t_ref, t_ours = _time(ref, reps), _time(ours, reps)
        ratios.append(t_ours / t_ref)
    return statistics.median(ratios), min(ratios), max(ratios)


def _status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def peak_child(kind, shape, which):
    """In this (child) process: the peak memory of one call above the memory with the input."""
    x, ours, ref = _fns(kind, shape)
    fn = ours if which == "ours" else ref
    fn()  # warm up (lazy initialisation), then measure a second call
    import gc
    gc.collect()
    base = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current resident size
    y = fn()
    peak = _status("VmHWM")
    del y
    return (peak - base) / (x.numel() * x.element_size())


def peak_ratio(kind, shape, repeats=3):
    out = {}
    for which in ("ours", "ref"):
        vals = []
        for _ in range(repeats):
            # a fixed mmap threshold: glibc returns every large block to the system when it is
            # freed, so the second call's peak is not hidden in memory the first one left behind
            env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
            cmd = [sys.executable, __file__, "--child", kind, json.dumps(shape), which]
            r = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
            vals.append(float(r.stdout.strip()))
        out[which] = statistics.median(vals)
    return out["ours"], out["ref"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--child", nargs=3)
    a = p.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    if a.child:
        kind, shape, which = a.child
        print(peak_child(kind, tuple(json.loads(shape)), which))
        return
    rows = list(CASES.items()) + [("MaskedBatchNorm1d train step [32,512,256]", MASKED)]
    for name, (kind, shape) in rows:
        med, lo, hi = time_ratio(kind, shape, a.rounds, a.reps)
        ours, ref = peak_ratio(kind, shape)
        print(f"{name:44s} time {med:4.2f}x (rounds {lo:.2f}-{hi:.2f})   peak extra memory "
              f"{ours:4.2f}x input vs {ref:4.2f}x input: {ours / ref:4.2f}x", flush=True)


if __name__ == "__main__":
    main()
