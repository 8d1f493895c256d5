"""Helpers of the numerics chapter: three ways to compute a variance, and error tables.

The variance formulas are written as a reader would write them in PyTorch or plain Python, so the
chapter can print them beside the derivation; the tables measure each implementation against the
same computation in float64 and print classes, never raw floats (those move with the CPU code
path and the number of threads). :func:`thread_check` and :func:`cpu_path_check` measure that
movement, for the appendix page on how the book is checked.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch
import torch.nn.functional as F

from .. import standardize

__all__ = ["two_pass", "one_pass", "welford", "chan_merge", "group_norm_one_pass",
           "rms_eps_inside", "rms_eps_outside", "source", "shifted_images",
           "shifted_sequences", "image_errors", "sequence_errors", "stability_table",
           "thread_check", "cpu_path_check"]


def two_pass(x, dim):
    """Mean, then the mean squared deviation from it: two sweeps over the data."""
    mean = x.mean(dim=dim, keepdim=True)
    return mean, ((x - mean) ** 2).mean(dim=dim, keepdim=True)


def one_pass(x, dim):
    """E[x²] − E[x]²: both sums in one sweep, then a difference of two large numbers."""
    mean = x.mean(dim=dim, keepdim=True)
    return mean, (x * x).mean(dim=dim, keepdim=True) - mean * mean


def welford(values):
    """Welford's update: one sweep, a running mean and a running sum of squared deviations."""
    n, mean, m2 = 0, values.dtype.type(0), values.dtype.type(0)
    for v in values:
        n += 1
        delta = v - mean
        mean += delta / n
        m2 += delta * (v - mean)
    return n, mean, m2  # the variance is m2 / n


def chan_merge(a, b):
    """Chan et al.'s merge of two Welford states (n, mean, m2) into the state of the union."""
    (na, ma, m2a), (nb, mb, m2b) = a, b
    n = na + nb
    delta = mb - ma
    return n, ma + delta * nb / n, m2a + m2b + delta * delta * na * nb / n


def group_norm_one_pass(x, G, eps=1e-5):
    """Group Norm of ``[N, C, H, W]`` as PyTorch's CPU kernel computes it for a ``channels_last``
    tensor: the one-pass variance ``E[x²] − E[x]²`` in the dtype of *x*, clamped at 0, then
    ``x * rstd + bias`` with ``bias = −mean * rstd``. The kernel sums in another order, and
    fuses the last multiply-add on some CPU paths, so the two agree to rounding where the sums
    are exact and lose the variance to different rounding errors where they are not.
    """
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    mean = xg.mean(dim=(2, 3, 4), keepdim=True)
    var = ((xg * xg).mean(dim=(2, 3, 4), keepdim=True) - mean * mean).clamp(min=0)
    rstd = 1 / torch.sqrt(var + eps)
    return (xg * rstd + (-mean * rstd)).reshape(N, C, H, W)


def rms_eps_inside(x, eps):
    """RMS Norm as LLaMA and F.rms_norm compute it: x / sqrt(mean(x²) + eps)."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


def rms_eps_outside(x, eps):
    """RMS Norm as the RMSNorm paper's code computes it: x / (rms(x) + eps)."""
    return x / (x.norm(2, dim=-1, keepdim=True) * x.shape[-1] ** -0.5 + eps)


def source(*functions) -> str:
    """The source of *functions*, without docstrings, for printing beside the derivation."""
    out = []
    for fn in functions:
        lines = inspect.getsource(fn).splitlines()
        keep = [line for line in lines if not line.strip().startswith('"""')]
        out.append("\n".join(keep))
    return "\n\n".join(out)


# --- error against float64 ------------------------------------------------------------------

def shifted_images(mu: float, *, seed: int = 0) -> torch.Tensor:
    """``randn(2, 32, 8, 8) + mu`` in float32: the spread stays 1 while the mean grows."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 32, 8, 8, generator=g) + mu


def shifted_sequences(mu: float, *, seed: int = 0) -> torch.Tensor:
    """``randn(4, 50, 64) + mu`` in float32, a sequence batch [B, T, F]."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(4, 50, 64, generator=g) + mu


def _err(y, ref) -> float:
    return float((torch.as_tensor(np.asarray(y), dtype=torch.float64) - ref).abs().max())


def image_errors(mu: float, G: int = 4, eps: float = 1e-5) -> dict[str, float]:
    """Largest output error of Group Norm on :func:`shifted_images` against float64, per method."""
    from ..interop import load_keras

    x = shifted_images(mu)
    N, C, H, W = x.shape
    ref = standardize(x.double(), "N (G Cg) H W", over="Cg H W", G=G, eps=eps)
    xg = x.reshape(N, G, C // G, H, W)
    out = {"standardize (two-pass)": standardize(x, "N (G Cg) H W", over="Cg H W", G=G, eps=eps)}
    mean, var = two_pass(xg, (2, 3, 4))
    out["two-pass, plain"] = ((xg - mean) / torch.sqrt(var + eps)).reshape(x.shape)
    out["one-pass, clamped at 0"] = group_norm_one_pass(x, G, eps)
    out["F.group_norm, contiguous"] = F.group_norm(x, G, eps=eps)
    cl = x.contiguous(memory_format=torch.channels_last)
    out["F.group_norm, channels_last"] = F.group_norm(cl, G, eps=eps)
    # Keras' GroupNormalization is channels last: [N,H,W,C]
    layer = load_keras().layers.GroupNormalization(groups=G, epsilon=eps)
    out["Keras GroupNormalization"] = np.moveaxis(
        np.asarray(layer(x.permute(0, 2, 3, 1).numpy()).detach().cpu()), -1, 1)
    return {k: _err(v, ref) for k, v in out.items()}


def sequence_errors(mu: float, eps: float = 1e-5) -> dict[str, float]:
    """Largest output error of Layer Norm per frame on :func:`shifted_sequences`, per method."""
    from ..interop import load_keras

    x = shifted_sequences(mu)
    ref = standardize(x.double(), "B T F", over="F", eps=eps)
    out = {"standardize (two-pass)": standardize(x, "B T F", over="F", eps=eps)}
    mean, var = one_pass(x, -1)
    out["one-pass E[x²]−E[x]²"] = (x - mean) / torch.sqrt(var + eps)
    out["F.layer_norm"] = F.layer_norm(x, (x.shape[-1],), eps=eps)
    layer = load_keras().layers.LayerNormalization(epsilon=eps)
    out["Keras LayerNormalization"] = np.asarray(layer(x.numpy()).detach().cpu())
    return {k: _err(v, ref) for k, v in out.items()}


STABLE, LOST = 10, 100  # in units of eps·kappa: the two classes of the tables, and the gap


def stability_table(errors: dict[float, dict[str, float]], title: str) -> str:
    """A Markdown table: one row per method, one column per mean, the error's class.

    The error of a method at mean ``mu`` (spread 1) is divided by ``eps * kappa``, float32's
    machine epsilon times the condition number ``sqrt(1 + mu**2)``: up to 10 is *stable*, from 100
    on *lost*. Asserts that no error falls in the gap between, where another CPU code path could
    move it from one class to the other.
    """
    eps = float(np.finfo(np.float32).eps)
    mus = list(errors)
    methods = list(errors[mus[0]])
    head = f"| {title} | " + " | ".join(f"μ = {m:g}" for m in mus) + " |"
    rows = [head, "|---" * (len(mus) + 1) + "|"]
    for name in methods:
        cells = []
        for mu in mus:
            ratio = errors[mu][name] / (eps * math.sqrt(1 + mu * mu))
            if math.isnan(ratio):
                cells.append("NaN")
                continue
            assert not STABLE < ratio < LOST, (
                f"{name} at mu={mu:g}: error {ratio:.3g} eps·kappa, between the classes")
            cells.append("stable (≤ 10 εκ)" if ratio <= STABLE else "**lost** (≥ 100 εκ)")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def thread_check() -> str:
    """Run five computations with 1 and with 2 threads; assert which are bit-identical.

    Every kernel here is independent of the thread count except Group Norm on a channels_last
    tensor with a feature map of 1024 pixels or more: there PyTorch sums x and x² into one buffer
    per thread and adds the buffers, so the order of the additions, and with the one-pass formula
    the result, depends on how the pixels of an example are split across threads.
    """
    g = torch.Generator().manual_seed(7)
    x = torch.randn(2, 32, 8, 8, generator=g) + 100  # 64 pixels
    big = torch.randn(1, 32, 32, 32, generator=g) + 100  # one image of 1024 pixels
    seq = torch.randn(4, 50, 64, generator=g)
    cl = torch.channels_last
    work = {"F.group_norm, contiguous": lambda: F.group_norm(big, 4),
            "F.group_norm, channels_last": lambda: F.group_norm(x.contiguous(memory_format=cl), 4),
            "F.layer_norm": lambda: F.layer_norm(seq, (64,)),
            "standardize": lambda: standardize(big, "N (G Cg) H W", over="Cg H W", G=4),
            "F.group_norm, channels_last, 1024 px":
                lambda: F.group_norm(big.contiguous(memory_format=cl), 4)}
    expect_same = {k: not k.endswith("1024 px") for k in work}
    before = torch.get_num_threads()
    try:
        runs = {}
        for n in (1, 2):
            torch.set_num_threads(n)
            runs[n] = {k: fn() for k, fn in work.items()}
    finally:
        torch.set_num_threads(before)
    lines = []
    for k in work:
        same = torch.equal(runs[1][k], runs[2][k])
        assert same == expect_same[k], f"{k}: 1 vs 2 threads {'same' if same else 'differ'}"
        lines.append(f"{k:<38} 1 thread vs 2 threads: "
                     + ("bit-identical" if same else "different results"))
    return "\n".join(lines)


_PATH_SCRIPT = """
import sys, torch, torch.nn.functional as F
g = torch.Generator().manual_seed(8)
x = torch.randn(4, 50, 64, generator=g)
sys.stdout.write(F.layer_norm(x, (64,)).numpy().tobytes().hex())
"""


def cpu_path_check(max_steps: int = 16) -> str:
    """F.layer_norm in this process and in a fresh one on ``ATEN_CPU_CAPABILITY=default``.

    Asserts that they differ by at most *max_steps* float32 steps at the size of the outputs.
    """
    import os
    import subprocess
    import sys

    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    out = subprocess.run([sys.executable, "-c", _PATH_SCRIPT], env=env, check=True,
                         capture_output=True, text=True).stdout
    other = np.frombuffer(bytes.fromhex(out), dtype=np.float32).reshape(4, 50, 64)
    g = torch.Generator().manual_seed(8)
    x = torch.randn(4, 50, 64, generator=g)
    here = F.layer_norm(x, (64,)).numpy()
    # in float steps at the size of the outputs, as the ledger counts them
    steps = np.abs(here.astype(np.float64) - other).max() / np.spacing(np.abs(here).max())
    assert steps <= max_steps, f"the CPU paths differ by {steps:.0f} float32 steps"
    return (f"F.layer_norm, this process vs ATEN_CPU_CAPABILITY=default: at most {max_steps} "
            "float32 steps apart (asserted)")
