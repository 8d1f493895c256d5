"""The padding chapter's worked example and the inputs of its claims.

- :func:`tiny_padded`: the book's tiny sequence with its second sequence cut to 2 frames and
  zero-padded, and :func:`padded_sets`, its statistics sets with and without the mask, in exact
  fractions; :func:`plain_masked`, masked statistics written with plain PyTorch.
- :func:`two_sequences`, :func:`keras_batch`, :func:`two_images`: the padded batches the claims
  use; :func:`real_pixels` and :func:`unpack` move between padded and packed entries.
- :func:`train_bn`: a few training steps of Batch Norm on padded batches, masked or not.
- Plumbing of the chapter's tables and figures: :func:`growth_table`, :func:`masked_digest`,
  :func:`mask_support`, :func:`pollution`, :func:`draw_masked_sets`,
  :func:`draw_encoder_padding`.
"""

from __future__ import annotations

import inspect
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F

from ... import data, on_channels_first
from ...core import shared_with, stat_groups
from ...norms import book_name
from .batches import MaskedBatchNorm1d, pad_images, pad_sequences, padded_batches, real_frames

__all__ = ["tiny_padded", "padded_sets", "plain_masked", "two_sequences", "keras_batch",
           "two_images", "real_pixels", "unpack", "train_bn", "growth_table", "masked_digest",
           "mask_support", "pollution", "draw_masked_sets", "draw_encoder_padding"]


# --- the worked example ---------------------------------------------------------------------------

def tiny_padded(dtype=np.float64):
    """``(x, mask)``: :func:`normaxes.data.tiny_sequence` whose second sequence keeps 2 of its 3
    frames, ``(4, 0)`` and ``(5, 9)``; its third frame is padding, filled with 0. The mask is
    ``[B, T, 1] = [2, 3, 1]``, from :func:`normaxes.data.length_mask` with lengths ``[3, 2]``."""
    x = data.tiny_sequence(dtype)
    x[1, 2] = 0  # padding
    return x, data.length_mask([3, 2], 3)


def _fmt(entries, real):
    return " ".join(str(int(e)) if r else f"({int(e)})" for e, r in zip(entries, real, strict=True))


def padded_sets(x, mask, layout: str, over: str, **sizes) -> str:
    """The statistics sets of ``standardize(x, layout, over)`` on a padded batch as a Markdown
    table: each set's entries (padded ones in parentheses), and its size m, mean and biased
    variance (as ``m; mean; variance``) in exact fractions, without the mask (padding counted)
    and with it (real entries only). For the book's tiny integer tensors, so that every number
    can be checked by hand."""
    from ...book.tables import markdown_table

    values = np.asarray(x)
    real = np.broadcast_to(np.asarray(mask, dtype=bool), values.shape)
    labels = stat_groups(layout, over, values.shape, **sizes)
    rows = []
    for label in range(int(labels.max()) + 1):
        where = [tuple(i) for i in np.argwhere(labels == label)]
        entries = [Fraction(int(values[i])) for i in where]
        keep = [bool(real[i]) for i in where]
        row = {"set": label + 1, "entries": _fmt(entries, keep)}
        real_entries = [e for e, k in zip(entries, keep, strict=True) if k]
        for tag, chosen in (("no mask: m; mean; variance", entries),
                            ("mask: m; mean; variance", real_entries)):
            m = len(chosen)
            mu = sum(chosen) / m if m else Fraction(0)
            var = sum((e - mu) ** 2 for e in chosen) / m if m else Fraction(0)
            row[tag] = f"{m}; {mu}; {var}"
        rows.append(row)
    return markdown_table(rows)


def plain_masked(x, mask, dims, eps=1e-5):
    """Masked standardization over *dims* in plain PyTorch.

    Mean and variance are weighted: 1 at real entries, 0 at padding. The output is 0 at padding.
    """
    w = mask.expand_as(x).to(x.dtype)  # 1 at real entries, 0 at padding
    m = w.sum(dim=dims, keepdim=True)  # the number of real entries of each set
    mu = (x * w).sum(dim=dims, keepdim=True) / m
    var = ((x - mu) ** 2 * w).sum(dim=dims, keepdim=True) / m
    return (x - mu) / torch.sqrt(var + eps) * w


# --- the inputs of the claims ---------------------------------------------------------------------

def two_sequences(seed: int = 11):
    """Sequence a (20 frames) and sequence b (30 frames), F = 8, as float64 tensors ``[T_b, F]``."""
    s = torch.from_numpy(data.sequence(B=2, T=30, F=8, seed=seed, dtype=np.float64))
    return s[0, :20], s[1, :30]


def keras_batch():
    """Sequences a and b in float32 (Keras' default), zero-padded, as NumPy arrays: ``(x [B, T,
    F], mask [B, T, 1])``."""
    a, b = two_sequences()
    x, mask = pad_sequences([a.float(), b.float()])
    return x.numpy(), mask.numpy()


def two_images():
    """Images of 3 x 4 and 5 x 5 pixels, C = 6, float64 tensors, padded into ``[2, 6, 5, 5]``:
    ``(x, mask [2, 1, 5, 5], small [6, 3, 4], big [6, 5, 5])``."""
    small = data.images(N=1, C=6, H=3, W=4, seed=15, dtype=np.float64)[0]
    big = data.images(N=1, C=6, H=5, W=5, seed=14, dtype=np.float64)[0]
    x, mask = pad_images([small, big])
    return (torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(small),
            torch.from_numpy(big))


def real_pixels(x, mask):
    """The real pixels of a padded image batch ``[N, C, H, W]``, packed into ``[pixels, C]``."""
    return x.permute(0, 2, 3, 1)[mask[:, 0]]


def unpack(packed, mask):
    """Put packed real entries back in their places: the inverse of :func:`real_frames` (mask
    ``[B, T, 1]``, packed ``[sum T_b, F]``) and of :func:`real_pixels` (mask ``[N, 1, H, W]``,
    packed ``[pixels, C]``), with 0 at every padded entry."""
    mask = torch.as_tensor(mask)
    if mask.ndim == 3:  # a sequence batch [B, T, 1]
        out = packed.new_zeros(mask.shape[:2] + packed.shape[-1:])
        out[mask[..., 0]] = packed
        return out
    N, _, H, W = mask.shape
    out = packed.new_zeros((N, H, W, packed.shape[-1]))
    out[mask[:, 0]] = packed
    return out.permute(0, 3, 1, 2)


def train_bn(packed: bool):
    """Three training steps on :func:`padded_batches`. ``packed=True``: ``MaskedBatchNorm1d`` on
    the padded batches and ``nn.BatchNorm1d`` on the packed real frames; ``packed=False``:
    ``nn.BatchNorm1d`` on the padded batches ``[B, F, T]``, as it is usually called.

    Returns ``(ours, ref, outputs)``: the two layers and, per step, the pair
    (``MaskedBatchNorm1d``'s output, ``nn.BatchNorm1d``'s output unpacked into the padded batch,
    0 at padding).
    """
    g = torch.Generator().manual_seed(0)
    ref = torch.nn.BatchNorm1d(8, dtype=torch.float64)
    with torch.no_grad():  # a non-trivial affine step, shared by both layers
        ref.weight.uniform_(0.5, 1.5, generator=g), ref.bias.uniform_(-0.5, 0.5, generator=g)
    ours = MaskedBatchNorm1d(8).double()
    ours.load_state_dict(ref.state_dict())
    outs = []
    for x, mask in padded_batches():
        if packed:
            outs.append((ours(x, mask), unpack(ref(real_frames(x, mask)), mask)))
        else:
            ref(x.transpose(1, 2))
    return ours, ref, outs


# --- plumbing of the chapter's tables and figures -------------------------------------------------

TORCH_NORMS = {
    "Batch Norm": lambda v: on_channels_first(
        lambda u: F.batch_norm(u, None, None, training=True), v),
    "GN(2)": lambda v: on_channels_first(lambda u: F.group_norm(u, 2), v),
    "Instance Norm": lambda v: on_channels_first(F.instance_norm, v),
    "per-frame Layer Norm": lambda v: F.layer_norm(v, v.shape[-1:]),
}
"""PyTorch's functional norms on a sequence ``[B, T, F]`` (channels first where they need it)."""


def growth_table(seq, pads=(0, 5, 10, 20, 40)):
    """Normalize the sequence *seq* ``[T, F]`` alone and zero-padded by each of *pads* frames,
    with each of :data:`TORCH_NORMS`. Returns ``(markdown, diffs)``: the table of the largest
    difference over the real frames, and ``diffs[norm]``, one number per padding."""
    from ...book.tables import markdown_table

    T = seq.shape[0]
    diffs, rows = {}, []
    for name, norm in TORCH_NORMS.items():
        alone = norm(seq[None])[0]
        padded = [norm(pad_sequences([seq], T + p)[0])[0, :T] for p in pads]
        diffs[name] = np.array([(y - alone).abs().max().item() for y in padded])
        rows.append({"norm": name, **{f"T = {T + p}": f"{d:.2g}" for p, d in
                                      zip(pads, diffs[name], strict=True)}})
    return markdown_table(rows), diffs


def masked_digest(layout: str, shape, mask, index, G: int = 2) -> str:
    """What the masked cube figure of :func:`~normaxes.book.figures.draw_norms` shows, as text:
    for each norm, the size m of the statistics set of *index* without the mask and the number
    of its real entries (the shaded cells) with it."""
    from ... import NORMS

    real = np.broadcast_to(np.asarray(mask, dtype=bool), shape)
    lines = [f"mask {tuple(np.shape(mask))}: {int(real.sum())} of {real.size} entries real; "
             f"statistics set of entry {tuple(index)}:"]
    for short, spec in NORMS[layout].items():
        sizes = {spec.group_axis: G} if spec.group_axis else {}
        s = shared_with(spec.layout, spec.over, shape, index, **sizes)
        name = book_name(short, layout, G)
        lines.append(f"  {name:<22} over {spec.over:<6} m = {int(s.sum()):>3} without "
                     f"the mask, {int((s & real).sum()):>3} with it")
    return "\n".join(lines)


def draw_masked_sets(layout: str, shape, mask, index, G: int = 2):
    """The cubes of :func:`~normaxes.book.figures.draw_cubes`, one per norm of *layout*, titled
    with the names of :doc:`notation`: padded entries grey, the masked statistics set of *index*
    shaded. Returns ``(figure, digest)``, the digest being :func:`masked_digest` (the figure's
    data as text)."""
    from ... import NORMS
    from ...book.figures import CUBE_AXES, draw_cubes

    batch, channel = CUBE_AXES[layout]
    panels = []
    for short, spec in NORMS[layout].items():
        sizes = {spec.group_axis: G} if spec.group_axis else {}
        name = book_name(short, layout, G)
        panels.append(dict(layout=spec.layout, over=spec.over, shape=shape, batch=batch,
                           channel=channel, index=index, mask=mask,
                           title=f"{name}\nover {spec.over}", **sizes))
    return draw_cubes(panels), masked_digest(layout, shape, mask, index, G=G)


def mask_support() -> str:
    """Which norms of PyTorch (``torch.nn.functional``) and Keras 3 take a ``mask``, and which
    Keras layers pass a mask on to the next layer (``supports_masking``), one line each."""
    from ... import load_keras

    lines = []
    for fn in (F.batch_norm, F.group_norm, F.instance_norm, F.layer_norm):
        takes = "mask" in inspect.signature(fn).parameters
        lines.append(f"torch F.{fn.__name__:<20} takes mask: {takes!s:<5}")
    k = load_keras()
    for layer in (k.layers.BatchNormalization, k.layers.GroupNormalization,
                  k.layers.LayerNormalization):
        takes = "mask" in inspect.signature(layer.call).parameters
        lines.append(f"keras {layer.__name__:<20} takes mask: {takes!s:<5}  passes a mask on: "
                     f"{layer().supports_masking}")
    return "\n".join(lines)


def pollution(batches, feature: int = 0, shift: float = 3.0) -> str:
    """Zero padding in Batch Norm's running statistics, measured on *batches*.

    The real frames of feature *feature* get *shift* added (the padding stays 0). For every
    batch, checks that the statistics over B and T of the padded batch are ``r mu`` and
    ``r sigma^2 + r (1 - r) mu^2`` (r: the share of real positions), then trains two
    ``nn.BatchNorm1d(momentum=None)`` (cumulative average), one on the padded batches and one on
    the packed real frames, and asserts what the chapter says: the clean running mean is the
    plain average of the batch means, the running variance rises exactly for the features with
    ``|mu| > sigma / sqrt(r)``, the running means not near 0 shrink towards 0. Returns the lines
    the chapter prints.
    """
    F_ = batches[0][0].shape[-1]
    add = torch.zeros(F_, dtype=torch.float64)
    add[feature] = shift
    shifted = [(x + add * mask, mask) for x, mask in batches]
    rises = []
    for x, mask in shifted:
        real, r = real_frames(x, mask), mask.double().mean()
        mu, var = real.mean(0), real.var(0, unbiased=False)
        flat = x.reshape(-1, F_)  # every position, padding included
        assert torch.allclose(flat.mean(0), r * mu, atol=1e-12, rtol=0)
        assert torch.allclose(flat.var(0, unbiased=False), r * var + r * (1 - r) * mu**2,
                              atol=1e-12, rtol=0)
        rises.append((mu.abs() > var.sqrt() / r.sqrt()).numpy())  # |mu| > sigma / sqrt(r)
    rises = np.array(rises)
    assert (rises == rises[0]).all()  # the same features in every batch
    polluted = torch.nn.BatchNorm1d(F_, momentum=None, dtype=torch.float64)
    clean = torch.nn.BatchNorm1d(F_, momentum=None, dtype=torch.float64)
    for x, mask in shifted:
        polluted(x.transpose(1, 2))  # padding included
        clean(real_frames(x, mask))  # real frames only
    batch_means = torch.stack([real_frames(x, m).mean(0) for x, m in shifted])
    assert torch.allclose(clean.running_mean, batch_means.mean(0))  # the plain average
    real = sum(m.sum().item() for _, m in batches)
    padded_share = 1 - real / sum(m.numel() for _, m in batches)
    var_ratio = (polluted.running_var / clean.running_var).detach().numpy()
    mean_ratio = (polluted.running_mean / clean.running_mean).detach().numpy()
    big = np.abs(clean.running_mean.detach().numpy()) > 0.5  # means not near 0
    assert 0.2 < padded_share < 0.3
    assert ((var_ratio > 1) == rises[0]).all()  # up iff |mu| > sigma / sqrt(r)
    assert ((0 < mean_ratio[big]) & (mean_ratio[big] < 1)).all()
    others = [f for f in range(F_) if f != feature]
    return "\n".join([
        f"features with |mu| > sigma / sqrt(r): {np.flatnonzero(rises[0]).tolist()}",
        f"padded share of the positions: {padded_share:.2f}",
        f"running_var, padded / real frames: feature {feature} {var_ratio[feature]:.2f}, "
        f"features {others[0]}-{others[-1]} {var_ratio[others].min():.2f} to "
        f"{var_ratio[others].max():.2f}",
        f"running_mean, padded / real frames: {mean_ratio[big].min():.2f} to "
        f"{mean_ratio[big].max():.2f} ({big.sum()} of {F_} features with |mean| > 0.5)"])


def draw_encoder_padding(alone, batch, n: int):
    """How much each of the first *n* frames of the waveform *alone* changes when it is padded into
    *batch*, in both modes of :class:`TinyFeatureEncoder`: a figure, and its data as text
    (``(figure, digest)``). Asserts what the chapter says: every frame changes in group mode,
    none in layer mode."""
    import matplotlib.pyplot as plt

    from .feature_encoder import TinyFeatureEncoder

    delta = {}
    with torch.no_grad():
        for mode in ("group", "layer"):
            enc = TinyFeatureEncoder(mode).double()
            change = (enc(batch)[0, :n] - enc(alone)[0]).abs()  # [n, C]
            delta[mode] = change.amax(dim=-1).numpy()  # [n]
    assert (delta["group"] > 0).all()  # every frame changes in group mode
    assert delta["layer"].max() < 1e-12  # none in layer mode
    ax = plt.figure(figsize=(7, 2.8)).add_subplot()
    for mode, style in (("group", "o-"), ("layer", "s--")):
        ax.plot(np.arange(n), delta[mode], style, ms=4, label=f'feat_extract_norm="{mode}"')
    ax.set_xticks(range(0, n, 2))
    ax.set_xlabel(f"frame of the 400-sample waveform (all {n} read only real samples)")
    ax.set_ylabel("max |padded − alone|")
    ax.legend(frameon=False)
    ax.figure.tight_layout()
    def spread(d):
        if d.max() < 1e-12:
            return "every frame below 1e-12"
        return f"per frame from {d.min():.2g} to {d.max():.2g}"

    digest = "\n".join(f"{mode} mode: {int((d > 1e-12).sum())} of {n} frames change by more than "
                        f"1e-12; max |padded − alone| {spread(d)}" for mode, d in delta.items())
    return ax.figure, digest
