"""Transcriptions, operation by operation, of other projects' cumulative and global layer norms,
on channels-first tensors ``[B, C, T]``: the Conv-TasNet authors' ``utility/models.py`` at commit
``ae9a676``, and asteroid's ``asteroid/masknn/norms.py`` (asteroid is not a dependency of this
package)."""

from __future__ import annotations

import torch

from ..._arrays import check_array

__all__ = ["conv_tasnet_cln", "asteroid_cum_ln", "asteroid_cum_ln_0_6_0", "asteroid_glob_ln"]


def _affine_cf(y, gain, bias):
    """Per-channel gain and bias on a channels-first tensor [B, C, ...]."""
    view = (1, -1) + (1,) * (y.ndim - 2)
    return y * gain.reshape(view) + bias.reshape(view)


def conv_tasnet_cln(x, gain, bias, eps: float = 1e-8):
    """Our transcription of the cumulative layer norm (class ``cLN``) of the Conv-TasNet authors'
    code (naplab/Conv-TasNet, ``utility/models.py``, commit ``ae9a676``), on ``[B, C, T]`` tensors.

    Per frame: the sum and the sum of squares over channels; their cumulative sums over time; the
    count ``C * (t + 1)``; ``var = (cum_pow_sum - 2 * mean * cum_sum) / count + mean**2``.
    """
    check_array(x)
    B, C, T = x.shape
    cum_sum = torch.cumsum(x.sum(1), dim=1)  # [B, T]
    cum_pow_sum = torch.cumsum(x.pow(2).sum(1), dim=1)
    count = torch.arange(C, C * (T + 1), C, dtype=x.dtype).view(1, -1)
    mean = cum_sum / count
    var = (cum_pow_sum - 2 * mean * cum_sum) / count + mean.pow(2)
    std = (var + eps).sqrt()
    return _affine_cf((x - mean.unsqueeze(1)) / std.unsqueeze(1), gain, bias)


def asteroid_cum_ln(x, gamma, beta, eps: float = 1e-8):
    """Our transcription of asteroid's ``CumLN`` as fixed by asteroid PR #649 (issue #648) on
    ``[B, C, T]``: ``var = cum_pow_sum / cnt - cum_mean**2``, eps 1e-8. (asteroid's alias for it is
    ``cgLN``; its ``cLN`` is ``ChanLN``, a per-frame layer norm over channels.)"""
    check_array(x)
    B, C, T = x.shape
    cum_sum = torch.cumsum(x.sum(1, keepdim=True), dim=-1)  # [B, 1, T]
    cum_pow_sum = torch.cumsum(x.pow(2).sum(1, keepdim=True), dim=-1)
    cnt = torch.arange(C, C * (T + 1), C, dtype=x.dtype).view(1, 1, -1)
    cum_mean = cum_sum / cnt
    cum_var = cum_pow_sum / cnt - cum_mean.pow(2)
    return _affine_cf((x - cum_mean) / (cum_var + eps).sqrt(), gamma, beta)


def asteroid_cum_ln_0_6_0(x, gamma, beta, eps: float = 1e-8):
    """Our transcription of asteroid's ``CumLN`` before the fix of issue #648 (as at commit
    ``140733b``): the running sum of squares is not divided by the count,
    ``var = cum_pow_sum - cum_mean**2``. Kept to document that history."""
    check_array(x)
    B, C, T = x.shape
    cum_sum = torch.cumsum(x.sum(1, keepdim=True), dim=-1)
    cum_pow_sum = torch.cumsum(x.pow(2).sum(1, keepdim=True), dim=-1)
    cnt = torch.arange(C, C * (T + 1), C, dtype=x.dtype).view(1, 1, -1)
    cum_mean = cum_sum / cnt
    cum_var = cum_pow_sum - cum_mean.pow(2)
    return _affine_cf((x - cum_mean) / (cum_var + eps).sqrt(), gamma, beta)


def asteroid_glob_ln(x, gamma, beta, eps: float = 1e-8):
    """asteroid's ``GlobLN`` (Conv-TasNet's gLN) on ``[B, C, ...]``: mean and biased variance over
    every dimension but the batch, per-channel gamma and beta, eps 1e-8."""
    check_array(x)
    dims = list(range(1, x.ndim))
    mean = x.mean(dim=dims, keepdim=True)
    var = (x - mean).pow(2).mean(dim=dims, keepdim=True)
    return _affine_cf((x - mean) / (var + eps).sqrt(), gamma, beta)
