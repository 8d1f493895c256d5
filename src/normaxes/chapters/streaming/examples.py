"""The streaming chapter's worked example, the inputs of its claims, and its tables and figures.

- :func:`cumulative_sets`: the cumulative statistics of the book's tiny sequence, frame by frame, in
  exact fractions.
- :func:`stream_batch`, :func:`cumulative_ln`, :func:`gain_bias`: the batch, the cumulative layer
  norm and the affine parameters the claims use.
- Plumbing: :func:`causality_table` (every norm of the book through the causality probes),
  :func:`float32_table`, :func:`float32_findings` and :func:`draw_float32` (the float32
  measurement).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

from ... import data
from ...book.tables import markdown_table
from .causality import batch_leak, causal_from_leak, future_leak
from .cumulative import ACCUMULATE, cumulative_standardize
from .float32 import float32_error, long_sequence

__all__ = ["cumulative_sets", "stream_batch", "cumulative_ln", "gain_bias", "causality_table",
           "float32_table", "float32_findings", "draw_float32", "measured_sets"]


def cumulative_sets(x, b: int = 0) -> str:
    """Sequence *b* of the integer batch *x* ``[B, T, F]``, frame by frame: the entries of the
    cumulative statistics set of frame t (every feature of the frames up to t), its size m, the
    running sums of x and x^2, and the mean and biased variance, as exact fractions (1-based t)."""
    values = np.asarray(x)[b]
    rows, s1, s2, entries = [], Fraction(0), Fraction(0), []
    for t, frame in enumerate(values, start=1):
        new = [Fraction(int(v)) for v in frame]
        entries += new
        s1 += sum(new)
        s2 += sum(v * v for v in new)
        m = len(entries)
        mu = s1 / m
        rows.append({"t": t, "frame": " ".join(str(v) for v in new), "m": m, "Σx": str(s1),
                     "Σx²": str(s2), "mean Σx/m": str(mu), "variance Σx²/m − mean²": str(
                         s2 / m - mu * mu)})
    return markdown_table(rows)


def stream_batch(seed: int = 8, **kw):
    """The sequence batch of the chapter's claims, ``data.sequence(B=4, T=16, F=8)`` (float32), as a
    torch tensor ``[B, T, F]``; keyword arguments override the sizes."""
    return torch.from_numpy(data.sequence(**{"B": 4, "T": 16, "F": 8, "seed": seed, **kw}))


def cumulative_ln(x, eps: float = 1e-5, **kw):
    """Conv-TasNet's cumulative layer norm on ``[B, T, F]`` without its affine step: statistics
    over F and the frames ``<= t``,
    ``cumulative_standardize(x, "B T F", over="T F", along="T")``."""
    return cumulative_standardize(x, "B T F", over="T F", along="T", eps=eps, **kw)


def gain_bias(C: int = 8, seed: int = 8):
    """A seeded gain in [0.5, 1.5) and bias (standard normal), one per feature: ``(gain, bias)``."""
    g = torch.Generator().manual_seed(seed)
    return 0.5 + torch.rand(C, generator=g), torch.randn(C, generator=g)


def causality_table(norms: dict, x, xk=None):
    """Run every implementation of every norm through :func:`future_leak`, :func:`causal_frames`
    and :func:`batch_leak` on *x* (on *xk* for implementations whose label contains "keras").

    *norms* maps a norm's name to ``{implementation label: callable on [B, T, F]}``. The
    implementations of one norm must agree on the verdicts (asserted); the table prints one row
    per norm, its implementations, and the largest changes over them. Returns
    ``(markdown, verdict)``: the table, and per norm ``(causal at every t, mixes sequences,
    largest change of the past, first t whose past changes or None)``.
    """
    rows, verdict = [], {}
    for name, impls in norms.items():
        seen = []
        for label, norm in impls.items():
            inp = xk if "keras" in label else x
            leaks = future_leak(norm, inp)  # once: causal_frames would run the same probe again
            ok, other = causal_from_leak(leaks, inp), batch_leak(norm, inp)
            first = None if ok.all() else int(np.flatnonzero(~ok)[0])
            seen.append((bool(ok.all()), other > 1e-6, float(leaks.max()), first, other))
        assert len({(c, m, f) for c, m, _, f, _ in seen}) == 1, (name, seen)  # they agree
        causal, mixes, _, first, _ = seen[0]
        leak, other = max(v[2] for v in seen), max(v[4] for v in seen)
        verdict[name] = (causal, mixes, leak, first)
        rows.append({"norm": name, "run as": ", ".join(impls),
                     "causal at every $t$": "yes" if causal else "no",
                     "first $t$ whose past changes": "none" if first is None else first,
                     "largest change of the past": f"{leak:.2g}",
                     "change from other sequences": f"{other:.2g}"})
    return markdown_table(rows), verdict


LENGTHS = (10**2, 10**3, 10**4, 10**5, 10**6)
OFFSETS = (0.0, 10.0, 100.0)
BACKENDS = ("numpy", "torch")
LABEL = {"numpy": "numpy", "torch": "torch (CPU)"}


def _bucket(e):
    return f"≤ 1e{int(np.ceil(np.log10(e))):+03d}"


def float32_table(shown=("naive", "shifted")):
    """:func:`float32_error` for every library, accumulation and mean of the chapter, at every
    length of :data:`LENGTHS`. Returns ``(markdown, err)``: the table of the accumulations
    *shown* (each error rounded up to the next power of ten) and
    ``err[(library, accumulate, mean)]``, one error per length, for every accumulation."""
    err = {(lib, acc, off): np.array([float32_error(T, acc, offset=off, backend=lib)
                                      for T in LENGTHS])
           for lib in BACKENDS for acc in ACCUMULATE for off in OFFSETS}
    rows = [{"library": LABEL[lib], "accumulate": acc, "mean": f"{off:g}",
             **{f"T = 1e{int(np.log10(T))}": _bucket(v) for T, v in zip(LENGTHS, e, strict=True)}}
            for (lib, acc, off), e in err.items() if acc in shown]
    return markdown_table(rows), err


def float32_findings(err) -> str:
    """Assert what the chapter says about the float32 measurement *err* (from
    :func:`float32_table`) and return the numbers it prints."""
    def curve(lib, acc, off):
        return err[(lib, acc, off)]

    for lib in BACKENDS:
        assert (curve(lib, "naive", 0.0) < curve(lib, "naive", 100.0)).all()  # the mean matters
        shifted = np.array([curve(lib, "shifted", off) for off in OFFSETS])
        assert (shifted.max(axis=0) / shifted.min(axis=0) < 10).all()  # ... not once shifted
        assert max(curve(lib, "float64", off).max() for off in OFFSETS) < 1e-6
        assert curve(lib, "shifted", 100.0)[-1] < curve(lib, "naive", 100.0)[-1] / 10
    assert (curve("numpy", "naive", 10.0) < curve("numpy", "naive", 100.0)).all()
    assert curve("numpy", "naive", 100.0)[-1] > 1.0
    assert curve("numpy", "shifted", 0.0)[-1] > 10 * curve("numpy", "shifted", 0.0)[0]  # T matters
    for off in OFFSETS:  # numpy: the naive error grows with the length
        assert (np.diff(curve("numpy", "naive", off)) >= 0).all()
        assert curve("numpy", "naive", off)[-1] > 10 * curve("numpy", "naive", off)[0]
    c = float(long_sequence(10**6, offset=0.0)[0, 0].mean())  # the first frame's mean
    worse = curve("numpy", "shifted", 0.0)[-1] / curve("numpy", "naive", 0.0)[-1]
    assert worse > 2  # at mean 0 the shift hurts
    assert curve("torch", "naive", 100.0)[-1] < curve("numpy", "naive", 100.0)[-1] / 100
    for off in OFFSETS:  # torch: from 1e2 to 1e6 frames, the naive error grows < tenfold
        assert curve("torch", "naive", off).max() < 10 * curve("torch", "naive", off).min()
    x64 = long_sequence(10**6, offset=100.0).astype(np.float64)  # the reference, two ways
    refs = [cumulative_standardize(x64, "B T F", over="T F", along="T", accumulate=a)
            for a in ("naive", "shifted")]
    assert np.abs(refs[0] - refs[1]).max() < 1e-9
    lines = [f"numpy, T = 1e6, mean 0: shifted / naive = {worse:.1f}; c = {c:.2f}, "
             f"1 + c^2 = {1 + c * c:.1f}"]
    for lib in BACKENDS:
        lines.append(f"{LABEL[lib]:>11}, T = 1e6, mean 100: "
                     f"naive {curve(lib, 'naive', 100.0)[-1]:.1g}, "
                     f"shifted {curve(lib, 'shifted', 100.0)[-1]:.1g}, "
                     f"float64 {curve(lib, 'float64', 100.0)[-1]:.1g}")
    return "\n".join(lines)


def draw_float32(err):
    """The float32 measurement *err* as two log-log panels (NumPy, torch): error against length,
    one line per accumulation and mean. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.2, 4.4), sharey=True)
    styles = {"naive": ("-", "o"), "shifted": ("--", "s"), "float64": (":", "^")}
    for ax, lib in zip(axes, BACKENDS, strict=True):
        for (lib_, acc, off), e in err.items():
            if lib_ != lib:
                continue
            line, marker = styles[acc]
            ax.loglog(LENGTHS, e, line, marker=marker, ms=4, lw=1.5,
                      color=plt.cm.viridis(OFFSETS.index(off) / 2.5),
                      label=f"{acc}, mean {off:g}")
        ax.set_title(f"float32 running sums: {LABEL[lib]}", fontsize=11)
        ax.set_xlabel("sequence length T (frames)")
        ax.set_ylim(1e-8, 1e2)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("max |error| vs float64")
    axes[1].legend(fontsize=11, ncol=2, loc="upper center", handlelength=3)
    fig.tight_layout()
    return fig


def measured_sets(x, index):
    """The statistics sets of per-frame Layer Norm, gLN and cLN (the cumulative layer norm) at
    *index* of the sequence batch *x* ``[B, T, F]``, measured with :func:`influence` (autograd),
    and checked: per-frame Layer Norm's and gLN's are their ``(layout, over)`` sets, cLN's is
    gLN's cut at frame t, and Batch Norm in eval mode depends on the entry alone. Returns
    ``(sets, digest)``: the three boolean arrays, keyed by name, and one line per set (its size
    and frames) for the figure."""
    import torch.nn.functional as F

    from ... import on_channels_first
    from ...core import shared_with
    from .cumulative import prefix_mask
    from .influence import influence

    index = tuple(index)
    sets = {
        "per-frame Layer Norm": influence(lambda v: F.layer_norm(v, v.shape[-1:]), x, index),
        "gLN": influence(lambda v: on_channels_first(lambda u: F.group_norm(u, 1), v), x, index),
        "cLN": influence(cumulative_ln, x, index),
    }
    shape = tuple(x.shape)
    assert (sets["per-frame Layer Norm"] == shared_with("B T F", "F", shape, index)).all()
    assert (sets["gLN"] == shared_with("B T F", "T F", shape, index)).all()
    past = shared_with("B T F", "T F", shape, index) & prefix_mask(shape, (1,), (index[1],))
    assert (sets["cLN"] == past).all()
    bn = torch.nn.BatchNorm1d(shape[-1]).double().eval()  # eval mode: fixed running statistics
    only_i = np.zeros(shape, bool)
    only_i[index] = True  # the entry itself and nothing else: no statistics set
    assert (influence(lambda v: on_channels_first(bn, v), x, index) == only_i).all()
    digest = "\n".join(f"{short:>20}: {s.sum():>2} entries, frames "
                       f"{sorted(set(np.nonzero(s)[1].tolist()))}" for short, s in sets.items())
    return sets, digest
