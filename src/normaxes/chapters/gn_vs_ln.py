"""GN(1) against the three Layer Norms: how far apart they are, what GN's affine can do, and what
each system says and does.

On a sequence ``[B, T, F]`` Group Norm with ``G = 1``, GN(1), pools the statistics of a whole
sequence (over ``T`` and ``F``), per-frame Layer Norm those of one frame (over ``F``).
:func:`gn1_ln_gap` measures the difference of the two outputs, computed by PyTorch;
:func:`gap_curve` measures it on the family :func:`normaxes.data.sequence` of inputs whose
loudness swings by ``spread_db`` over time. :func:`fit_per_channel` finds the per-channel
scale and shift (the only affine Group Norm has) closest to a given output.
:func:`summary_rows` reads the axes of both sides of each claim off its outputs,
:func:`system_rows` lays the claims out system by system, and :func:`doc_sentences` reads what
each system's documentation says from the installed packages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import data
from .._arrays import is_integer
from ..core import resolve
from ..interop import on_channels_first, to_numpy

__all__ = ["gn1_ln_gap", "frame_level_spread_db", "GapPoint", "gap_curve", "fit_per_channel",
           "SUMMARY_INPUTS", "summary_rows", "SYSTEM_COLUMNS", "system_rows", "line_with",
           "doc_sentences"]


def _sequence(x, what: str = "x") -> np.ndarray:
    x = to_numpy(x)
    if x.ndim != 3:
        raise ValueError(f"{what} must be a sequence batch [B, T, F] with 3 dimensions, got "
                         f"{x.ndim} (shape {tuple(x.shape)})")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{what} must hold floating-point numbers, got dtype {x.dtype}")
    if 0 in x.shape:
        raise ValueError(f"{what} must not be empty, got shape {tuple(x.shape)} [B, T, F]")
    return x


def gn1_ln_gap(x, *, eps: float = 1e-5) -> tuple[float, float]:
    """RMS and largest absolute difference of Group Norm (``G = 1``) and Layer Norm on *x*.

    *x* is a sequence batch ``[B, T, F]`` (NumPy or torch). Group Norm is
    ``torch.nn.functional.group_norm`` with one group on the channels-first view ``[B, F, T]``;
    Layer Norm is ``torch.nn.functional.layer_norm`` over ``F``. Both run in float64.
    """
    import torch
    import torch.nn.functional as tF

    t = torch.from_numpy(_sequence(x).astype(np.float64))
    gn = on_channels_first(lambda v: tF.group_norm(v, 1, eps=eps), t)
    ln = tF.layer_norm(t, t.shape[-1:], eps=eps)
    d = (gn - ln).numpy()
    return float(np.sqrt(np.mean(d * d))), float(np.max(np.abs(d)))


def frame_level_spread_db(x) -> float:
    """How much the level of the frames of *x* ``[B, T, F]`` moves over time, in decibels.

    The level of a frame is its root mean square over ``F``, in dB; the spread is its standard
    deviation over ``T``, averaged over the ``B`` sequences. A stationary signal still has a
    spread above 0: each frame's level is estimated from only ``F`` values.
    """
    x = _sequence(x).astype(np.float64)
    rms = np.sqrt(np.mean(x * x, axis=2))
    if (rms <= 0).any():
        raise ValueError("x has a frame whose entries are all 0: its level in dB is undefined")
    return float(np.mean(np.std(20 * np.log10(rms), axis=1)))


@dataclass(frozen=True)
class GapPoint:
    """One point of :func:`gap_curve`."""

    spread_db: float  # the loudness swing asked of normaxes.data.sequence
    level_spread_db: float  # frame_level_spread_db of the generated batch
    rms: float  # RMS of GN(G=1) - LN over the batch
    max: float  # largest |GN(G=1) - LN|


def gap_curve(spreads_db, *, B: int = 4, T: int = 50, F: int = 8, seed: int = 0) -> list[GapPoint]:
    """Measure :func:`gn1_ln_gap` on ``data.sequence(B, T, F, spread_db=s, seed=seed)`` per *s*.

    ``spread_db = 0`` is a stationary signal; larger values swing the loudness of the frames
    further over time. The inputs are generated in float64.
    """
    spreads = [float(s) for s in np.atleast_1d(np.asarray(spreads_db, dtype=float))]
    if not spreads:
        raise ValueError("spreads_db is empty: give at least one loudness spread in dB")
    for s in spreads:
        if not np.isfinite(s) or s < 0:
            raise ValueError(f"spreads_db must be finite and >= 0 (0 is stationary), got {s}")
    for name, v in (("B", B), ("T", T), ("F", F)):
        if not is_integer(v) or v < 1:
            raise ValueError(f"size {name}={v!r} must be a positive integer")
    out = []
    for s in spreads:
        x = data.sequence(B=B, T=T, F=F, spread_db=s, seed=seed, dtype=np.float64)
        rms, largest = gn1_ln_gap(x)
        out.append(GapPoint(s, frame_level_spread_db(x), rms, largest))
    return out


def fit_per_channel(x_hat, target, layout: str = "N C H W", along: str = "C"):
    """The scale and shift per position of *along* that bring *x_hat* closest to *target*.

    Least squares: for each channel ``c``, ``weight[c]`` and ``bias[c]`` minimise
    ``sum((x_hat * weight[c] + bias[c] - target) ** 2)`` over every position of that channel.
    This is the best any per-channel affine (Group Norm's) can do to reproduce *target* from
    the normalized *x_hat*. Returns two float64 NumPy arrays of one value per channel.
    """
    xh = to_numpy(x_hat).astype(np.float64)
    tg = to_numpy(target).astype(np.float64)
    if xh.shape != tg.shape:
        raise ValueError(f"x_hat has shape {xh.shape} but target has shape {tg.shape}: they must "
                         "match")
    spec = resolve(layout, xh.shape)
    keep = spec.axes(along, what="along")
    xh, tg = xh.reshape(spec.expanded_shape), tg.reshape(spec.expanded_shape)
    axes = tuple(a for a in range(xh.ndim) if a not in keep)
    mx, mt = xh.mean(axis=axes, keepdims=True), tg.mean(axis=axes, keepdims=True)
    var = ((xh - mx) ** 2).mean(axis=axes, keepdims=True)
    if (var == 0).any():
        raise ValueError(f"x_hat is constant over a position of {along!r}: the scale there is "
                         "not determined")
    weight = ((xh - mx) * (tg - mt)).mean(axis=axes, keepdims=True) / var
    bias = mt - weight * mx
    return weight.reshape(-1), bias.reshape(-1)


def _last(img) -> np.ndarray:
    """An image batch [N, C, H, W] as channels last [N, H, W, C]."""
    return np.ascontiguousarray(np.asarray(img).transpose(0, 2, 3, 1))


SUMMARY_INPUTS = {  # each input of the chapter's claims, rebuilt, in the layout of their outputs
    "tiny": (data.tiny_sequence, "B T F"),
    "img": (lambda: data.images(N=4, C=6, H=5, W=5, seed=7), "N C H W"),
    "seq": (lambda: data.sequence(B=4, T=50, F=8, seed=7), "B T F"),
    "still": (lambda: data.sequence(B=4, T=50, F=8, spread_db=0, seed=7), "B T F"),
    "last": (lambda: _last(data.images(N=4, C=6, H=5, W=5, seed=7)), "N H W C"),
}
"""The inputs that :func:`summary_rows` reads each claim's two sides on, by key."""


def _side(y, x, layout: str) -> str:
    """The axes one side reduces over, found on its output, and its statistics sets."""
    from ..core import stat_groups
    from .frameworks import find_over

    over = find_over(y, x, layout, eps=1e-5)  # every claim read here uses eps = 1e-5
    if over is None:  # a learned scale and shift: no standardize reproduces it
        return "affine"
    counts = np.bincount(stat_groups(layout, over, x.shape).ravel())
    return f"{over} ({len(counts)}×{counts[0]})"


def summary_rows(summary) -> list[dict]:
    """The rows of the folded verdict table of chapters/gn_vs_ln: for each ``(case, claim name,
    input key)`` of *summary*, the axes each side of the claim reduces over, found on its outputs by
    :func:`~normaxes.chapters.frameworks.find_over` on the input :data:`SUMMARY_INPUTS` names (a
    side with a learned scale and shift reads as "affine"), the statistics sets as
    ``sets × size``, and the claim's measured verdict, run now."""
    from ..book import ledger

    claims = {c.name: c for c in ledger.claims()}
    rows = []
    for case, name, key in summary:
        if key not in SUMMARY_INPUTS:
            raise ValueError(f"input key {key!r} is not one of {list(SUMMARY_INPUTS)}")
        make, layout = SUMMARY_INPUTS[key]
        x = make()
        r = ledger.check(name)
        left, right = claims[name].compute()
        sides = (_side(left, x, layout), _side(right, x, layout))
        rows.append({"case": case, "claim": f"{{ref}}`{name} <{ledger.anchor(name)}>`",
                     "read in": f"`{layout}`",
                     "reduces over (sets × size): left ↔ right": " ↔ ".join(sides),
                     "measured": f"**{r.verdict}**, {r.measured}", "sides": sides})
    return rows


SYSTEM_COLUMNS = ("per-frame LN, `[B, T, F]`", "per-example LN, `[B, T, F]`",
                  "per-pixel LN, `[N, H, W, C]`", "per-example LN, images")
"""The four Layer Norms :func:`system_rows` holds GN(1) against, one column each."""


def system_rows(pairs: dict) -> list[dict]:
    """The rows of the system-by-system verdict: for each system of *pairs*, mapping it to one
    claim name (or None) per column of :data:`SYSTEM_COLUMNS`, the claim's verdict, run now, as a
    link to its block, with its largest difference (or "—" where the system has no such claim).
    """
    from ..book import ledger

    rows = []
    for system, names in pairs.items():
        if len(names) != len(SYSTEM_COLUMNS):
            raise ValueError(f"{system}: give one claim name or None per column "
                             f"({len(SYSTEM_COLUMNS)}), got {len(names)}")
        row = {"system": system}
        for column, name in zip(SYSTEM_COLUMNS, names, strict=True):
            if name is None:
                row[column] = "—"
                continue
            r = ledger.check(name, skip_missing=True)  # without .venv-tf: a Skipped
            if isinstance(r, ledger.Skipped):  # never a verdict: the link says skipped, and why
                row[column] = f"{{ref}}`skipped <{ledger.anchor(name)}>`: {r.measured}"
                continue
            measured = r.measured.split(" (")[0]  # the tolerance's name is in the claim's block
            row[column] = f"{{ref}}`{r.verdict} <{ledger.anchor(name)}>`, {measured}"
        rows.append(row)
    return rows


def line_with(text: str, words: str) -> str:
    """The line of *text* (a docstring) that contains *words*, stripped of indentation and of a
    doctest prompt; raises ``ValueError`` if no line does."""
    for line in text.splitlines():
        if words in line:
            return line.strip().removeprefix(">>> ").strip()
    raise ValueError(f"no line of the text contains {words!r}")


def doc_sentences() -> list[tuple[str, str]]:
    """What each system's documentation says of Group Norm with one group and Layer Norm, read
    from the packages installed (TF-Addons' in the TF environment): ``(where, sentence)`` pairs.
    A sentence that is no longer there raises ``ValueError`` (from :func:`line_with` or
    :func:`~normaxes.chapters.frameworks.sentence_with`)."""
    import torch
    from flax import linen

    from .. import load_keras
    from ..envs import available, skip_line
    from .frameworks import sentence_with, tf_doc

    K = load_keras()
    flax_gn = linen.GroupNorm.__doc__
    return [
        ("PyTorch, nn.GroupNorm",
         line_with(torch.nn.GroupNorm.__doc__, "single group (equivalent with LayerNorm)")),
        ("Keras 3, GroupNormalization",
         sentence_with(K.layers.GroupNormalization.__doc__, "becomes nearly")),
        ("Keras 3, LayerNormalization",
         sentence_with(K.layers.LayerNormalization.__doc__, "will not match")),
        ("TF-Addons, GroupNormalization",
         sentence_with(tf_doc("tfa.layers.GroupNormalization"), "becomes identical to Layer")
         if available("tf") else skip_line("tf")),  # without .venv-tf: the skip line instead
        ("Flax, linen.GroupNorm",
         sentence_with(flax_gn, "LayerNorm is a special case").removeprefix("note:: ")),
        ("Flax, linen.GroupNorm's example", "\n".join(
            line_with(flax_gn, words) for words in ("nn.GroupNorm(num_groups=1).apply",
                                                    "nn.LayerNorm(reduction_axes=(1, 2, 3))",
                                                    "assert_allclose(y, y2)"))),
    ]
