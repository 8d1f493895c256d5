"""Padded batches and masks: padding helpers and a Batch Norm that ignores padding when it trains.

A batch of sequences of different lengths is stored as one array ``[B, T, F]``, each sequence
right-padded to ``T``, with a boolean mask that is True at real frames (``[B, T, 1]``, from
:func:`normaxes.data.length_mask` or :func:`pad_sequences`). Images of different sizes are padded
the same way into ``[N, C, H, W]`` with a mask ``[N, 1, H, W]`` (:func:`pad_images`).

:class:`MaskedBatchNorm1d` is ``torch.nn.BatchNorm1d`` for such batches: in training it takes the
batch statistics over the real frames only and updates its running statistics with them, exactly
as ``nn.BatchNorm1d`` would on the real frames packed into ``[sum_b T_b, F]``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..._arrays import (
    acc_dtype,
    check_nonnegative,
    check_positive_int,
    is_array,
    is_number,
    is_torch,
)
from ...core import centered_moments
from ...data import length_mask, sequence
from ...running import update_from_moments

__all__ = ["pad_sequences", "pad_images", "real_frames", "padded_batches", "MaskedBatchNorm1d"]


def _as_list(items, what: str):
    if is_array(items) or not hasattr(items, "__len__"):
        raise ValueError(f"{what} must be a list of arrays, got {type(items).__name__}")
    if len(items) == 0:
        raise ValueError(f"{what} is empty: give at least one array")
    return list(items)


def pad_sequences(seqs, T: int | None = None, *, value: float = 0.0):
    """Right-pad sequences ``[T_b, F]`` into one batch ``[B, T, F]``; also return the mask
    ``[B, T, 1]``.

    *T* defaults to the longest sequence; *value* fills the padded frames. Works on NumPy arrays
    and on torch tensors (the result has the kind of the first sequence).
    """
    seqs = _as_list(seqs, "seqs")
    for b, s in enumerate(seqs):
        if s.ndim != 2:
            raise ValueError(f"sequence {b} must be [T, F] with 2 dimensions, got shape "
                             f"{tuple(s.shape)}")
        if s.shape[1] != seqs[0].shape[1]:
            raise ValueError(f"sequence {b} has F={s.shape[1]} features, sequence 0 has "
                             f"F={seqs[0].shape[1]}")
    lengths = [int(s.shape[0]) for s in seqs]
    T = max(lengths) if T is None else T
    if T < max(lengths):
        raise ValueError(f"T={T} is shorter than the longest sequence, of length {max(lengths)}")
    B, F = len(seqs), int(seqs[0].shape[1])
    mask = length_mask(lengths, T)
    if is_torch(seqs[0]):
        x = torch.full((B, T, F), value, dtype=seqs[0].dtype)
        for b, s in enumerate(seqs):
            x[b, :lengths[b]] = s
        return x, torch.from_numpy(mask)
    x = np.full((B, T, F), value, dtype=seqs[0].dtype)
    for b, s in enumerate(seqs):
        x[b, :lengths[b]] = s
    return x, mask


def pad_images(imgs, H: int | None = None, W: int | None = None, *, value: float = 0.0):
    """Pad images ``[C, H_n, W_n]`` at the bottom and right into ``[N, C, H, W]``; also return the
    mask ``[N, 1, H, W]`` (True on each image's own pixels).

    *H* and *W* default to the largest height and width; *value* fills the padding. Works on
    NumPy arrays and on torch tensors (the result has the kind of the first image).
    """
    imgs = _as_list(imgs, "imgs")
    for n, im in enumerate(imgs):
        if im.ndim != 3:
            raise ValueError(f"image {n} must be [C, H, W] with 3 dimensions, got shape "
                             f"{tuple(im.shape)}")
        if im.shape[0] != imgs[0].shape[0]:
            raise ValueError(f"image {n} has C={im.shape[0]} channels, image 0 has "
                             f"C={imgs[0].shape[0]}")
    H = max(im.shape[1] for im in imgs) if H is None else H
    W = max(im.shape[2] for im in imgs) if W is None else W
    N, C = len(imgs), int(imgs[0].shape[0])
    if is_torch(imgs[0]):
        x = torch.full((N, C, H, W), value, dtype=imgs[0].dtype)
    else:
        x = np.full((N, C, H, W), value, dtype=imgs[0].dtype)
    mask = np.zeros((N, 1, H, W), dtype=bool)
    for n, im in enumerate(imgs):
        h, w = im.shape[1:]
        if h > H or w > W:
            raise ValueError(f"image {n} of size H={h}, W={w} does not fit into H={H}, W={W}")
        x[n, :, :h, :w] = im
        mask[n, :, :h, :w] = True
    return x, (torch.from_numpy(mask) if is_torch(imgs[0]) else mask)


def _frame_mask(mask, x):
    """The mask as a boolean torch tensor ``[B, T, 1]`` for the sequence batch *x* ``[B, T, F]``."""
    B, T = x.shape[:2]
    if mask is None:
        return torch.ones((B, T, 1), dtype=torch.bool, device=x.device)
    if isinstance(mask, np.ndarray):
        mask = torch.from_numpy(mask)
    if not is_torch(mask):
        raise ValueError(f"mask must be a boolean tensor [B, T] or [B, T, 1], got "
                         f"{type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must be boolean (True marks real frames), got dtype {mask.dtype}")
    given = tuple(mask.shape)
    if mask.ndim == 2:
        mask = mask[:, :, None]
    if tuple(mask.shape) != (B, T, 1):
        raise ValueError(f"mask of shape {given} does not mark the frames of x "
                         f"[B, T, F] = {tuple(x.shape)}: give [B, T] = ({B}, {T}) or [B, T, 1]")
    return mask.to(x.device)


def real_frames(x, mask):
    """The real frames of a padded batch *x* ``[B, T, F]``, packed into ``[sum_b T_b, F]``.

    Frames come sequence by sequence, in time order, as in
    ``torch.cat([x[b, :T_b] for b in range(B)])`` for right padding.
    """
    if x.ndim != 3:
        raise ValueError(f"x must be a sequence batch [B, T, F] with 3 dimensions, got shape "
                         f"{tuple(x.shape)}")
    if isinstance(x, np.ndarray):
        m = np.asarray(mask, dtype=bool)
        m = m[..., 0] if m.ndim == 3 else m
        if m.shape != x.shape[:2]:
            raise ValueError(f"mask of shape {np.shape(mask)} does not mark the frames of x "
                             f"[B, T, F] = {x.shape}")
        return x[m]
    return x[_frame_mask(mask, x)[..., 0]]


def padded_batches(n: int = 3, B: int = 4, T: int = 30, F: int = 8, *, min_length: int = 5,
                   seed: int = 12, dtype=np.float64):
    """*n* deterministic training batches ``(x [B, T, F], mask [B, T, 1])`` as torch tensors.

    Each batch holds *B* sequences from :func:`normaxes.data.sequence` with random lengths in
    ``[min_length, T]``, right-padded with zeros to the longest one.
    """
    if not 1 <= min_length <= T:
        raise ValueError(f"min_length must lie in [1, T={T}], got {min_length}")
    rng = np.random.default_rng(seed)
    out = []
    for step in range(n):
        lengths = rng.integers(min_length, T + 1, size=B)
        s = torch.from_numpy(sequence(B=B, T=T, F=F, seed=seed + step, dtype=dtype))
        out.append(pad_sequences([s[b, :k] for b, k in enumerate(lengths)]))
    return out


class MaskedBatchNorm1d(torch.nn.Module):
    r"""Batch Norm over the real frames of a padded sequence batch ``[B, T, F]``.

    In training mode the mean and the biased variance of each feature are taken over the real
    frames of the batch (the mask's True entries), the real frames are normalized with them, and
    ``running_mean`` and ``running_var`` are updated as ``torch.nn.BatchNorm1d`` does:
    ``new = (1 - momentum) * old + momentum * batch``, with the **unbiased** variance of the real
    frames. In eval mode the running statistics normalize every frame. Padded frames come out
    as 0 in both modes; their content never matters, NaN and inf included, in the output and in
    every gradient. A float16 or bfloat16 input is normalized in float32 and returned in its own
    dtype, as ``nn.BatchNorm1d`` does on CPU.

    The parameters and buffers have the names and shapes of ``nn.BatchNorm1d(num_features)``
    (``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``), so state
    dicts load either way.

    Parameters
    ----------
    num_features
        F, the size of the last dimension of the input.
    eps
        Added to the variance before the square root.
    momentum
        Weight of the new batch statistics in the running averages (PyTorch's convention), or
        ``None`` for PyTorch's cumulative average (weight ``1 / num_batches_tracked``).
    affine
        Learn a scale ``weight`` and a shift ``bias`` per feature.
    track_running_stats
        Keep running statistics (``False``: batch statistics in eval mode too, no buffers).
    bias
        With *affine*, learn the shift ``bias`` too (PyTorch's ``bias=False``: a scale only).

    Edge cases: an empty batch (``B = 0`` or ``T = 0``) gives an empty output and leaves the
    running statistics unchanged, as ``nn.BatchNorm1d`` does (``num_batches_tracked`` still counts
    it, as PyTorch's does). In training, a non-empty batch with fewer than 2 real frames raises
    ``ValueError``: one frame as PyTorch does ("Expected more than 1 value per channel when
    training"); none (an all-False mask), although PyTorch would treat the packed frames as an
    empty batch, because a training batch of padding only is almost surely a bug in the data
    pipeline, and the padding chapter shows that error.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *, bias: bool = True):
        super().__init__()
        check_positive_int("num_features", num_features)
        num_features = int(num_features)
        check_nonnegative("eps", eps)
        if momentum is not None and (not is_number(momentum) or not 0.0 <= momentum <= 1.0):
            raise ValueError(f"momentum must be a number in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps = num_features, eps
        self.momentum, self.affine = momentum, affine
        self.track_running_stats = track_running_stats
        self.weight = torch.nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = torch.nn.Parameter(torch.zeros(num_features)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def extra_repr(self) -> str:
        off = "" if self.track_running_stats else ", track_running_stats=False"
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}{off}")

    def forward(self, x: torch.Tensor, mask=None) -> torch.Tensor:
        """Normalize *x* ``[B, T, F]``; *mask* ``[B, T]`` or ``[B, T, 1]`` is True at real frames
        (``None``: every frame is real)."""
        if not is_torch(x) or x.ndim != 3:
            raise ValueError(f"x must be a torch tensor [B, T, F] with 3 dimensions, got "
                             f"{type(x).__name__} of shape {tuple(getattr(x, 'shape', ()))}")
        if x.shape[-1] != self.num_features:
            raise ValueError(f"x has F={x.shape[-1]} features in its last dimension, but the "
                             f"layer was built for num_features={self.num_features}")
        m = _frame_mask(mask, x)
        acc = acc_dtype(x)  # float16 and bfloat16 are normalized in float32, as PyTorch does
        zero = torch.zeros((), dtype=acc, device=x.device)
        batch_stats = self.training or not self.track_running_stats
        if batch_stats:
            n = int(m.sum())
            if n < 2 and self.training and x.numel() > 0:
                raise ValueError(f"training needs at least 2 real frames in the batch to take a "
                                 f"variance, the mask marks {n}")
            # one pass over the real frames gives both the normalization and the running update;
            # d is x - mean with 0 at padded frames, in the accumulation dtype
            d, _, mean, var, count = centered_moments(x, "B T F", "B T", mask=m)  # [1, 1, F] each
            if self.training and self.track_running_stats:
                with torch.no_grad():
                    self.num_batches_tracked += 1
                    if n > 0:
                        new_mean, new_var = update_from_moments(
                            self.running_mean, self.running_var, mean.detach(), var.detach(),
                            count, momentum=self.momentum, convention="torch",
                            num_batches_tracked=int(self.num_batches_tracked))
                        self.running_mean.copy_(new_mean)
                        self.running_var.copy_(new_var)
        else:
            mean, var = self.running_mean.to(acc), self.running_var.to(acc)
            d = torch.where(m, torch.where(m, x.to(acc), zero) - mean, zero)
        # padded entries are 0 before anything multiplies them: NaN or inf in the padding reach
        # neither the output nor a gradient (of x, weight or bias)
        denom = var + float(self.eps)
        if batch_stats:  # a feature without real frames: 0, not 0/0, even with eps=0
            denom = torch.where(count > 0, denom, torch.ones((), dtype=acc, device=x.device))
        if d.requires_grad and torch.is_grad_enabled():
            y = d / torch.sqrt(denom)
        else:  # d is a fresh array that autograd does not need: divide it in place
            y = d.div_(torch.sqrt(denom))
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = torch.where(m, y + self.bias, zero)
        return y.to(x.dtype)
