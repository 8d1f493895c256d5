"""The exercises of the chapter "The norms of real architectures": the checkers of their answers."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import exercise, same_axes, same_choice, same_function, same_value

# --- 10.1: the mean at which RMS Norm divides by twice what Layer Norm divides by ------------

MU_101 = math.sqrt(3.0)  # rho^2 = sigma^2 + mu^2 = 4 sigma^2 with sigma = 1


@exercise("architectures", 1, solution=MU_101, wrong=[3.0, 2.0, 1.0, 4.0],
          right_because="rho^2 = sigma^2 + mu^2 = 1 + 3 = 4: RMS Norm divides by 2, Layer Norm "
                        "by 1.")
def _(answer):
    why = same_value(MU_101, tol=1e-3, what="the mean")(answer)
    if why is None:
        return None
    a = float(answer)
    if math.isclose(a, 3.0, rel_tol=1e-3):
        return "3 is mu^2; the mean is its root"
    if math.isclose(a, 2.0, rel_tol=1e-3):
        return ("with mu = 2, rho^2 = 1 + 4 = 5: RMS Norm divides by sqrt(5), not 2; "
                "use rho^2 = sigma^2 + mu^2")
    return why + "; twice the divisor means rho^2 = 4 sigma^2, and rho^2 = sigma^2 + mu^2"


# --- 10.2: RMS Norm in plain PyTorch, as nn.RMSNorm computes it ------------------------------

def _rms_reference(x, weight, eps):
    return F.rms_norm(x, (x.shape[-1],), weight, eps=eps)


def _rms_inputs():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 8, generator=g, dtype=torch.float64) + 0.5
    w = torch.linspace(0.5, 2.0, 8, dtype=torch.float64)
    quiet = x * 1e-3  # mean square near eps: where eps enters matters
    return [(x, w, 1e-6), (quiet, w, 1e-6), (quiet, w, 1e-5)]


def _eps_outside(x, weight, eps):
    return x / (x.pow(2).mean(dim=-1, keepdim=True).sqrt() + eps) * weight


def _centred(x, weight, eps):
    return F.layer_norm(x, (x.shape[-1],), weight, eps=eps)


def _no_weight(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)


def _sum_not_mean(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).sum(dim=-1, keepdim=True) + eps) * weight


def _rms_solution(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight


_RMS_JUDGE = same_function(_rms_reference, _rms_inputs, tol=1e-9, what="rms_norm")
_RMS_WHY = {_eps_outside: "eps goes inside the square root, as in nn.RMSNorm: "
                          "x / sqrt(mean(x²) + eps)",
            _centred: "that subtracts the mean: it is Layer Norm, not RMS Norm",
            _no_weight: "multiply by the weight (one gain per feature)",
            _sum_not_mean: "the mean of squares, not their sum: divide by F"}


@exercise("architectures", 2, solution=_rms_solution, wrong=list(_RMS_WHY),
          right_because="x * rsqrt(mean(x²) + eps) * weight, over the last axis, is "
                        "nn.RMSNorm's computation.")
def _(answer):
    why = _RMS_JUDGE(answer)
    if why is None:
        return None
    for fn, reason in _RMS_WHY.items():
        if same_function(fn, _rms_inputs, tol=1e-9)(answer) is None:
            return reason
    return why


# --- 10.3: which layer is ConvNeXt's channels-first LayerNorm? --------------------------------

OPTIONS_103 = {
    "a": "nn.GroupNorm(1, C): GN(1) pools C, H and W of the image, not one pixel's channels",
    "b": "nn.LayerNorm([C, H, W]): per-example Layer Norm, over C, H and W",
    "c": None,
    "d": "nn.GroupNorm(C, C): Instance Norm, each channel over H and W",
}


@exercise("architectures", 3, solution="c", wrong=["a", "b", "d"],
          right_because="nn.LayerNorm(C) on the channels-last tensor pools the C channels of "
                        "one pixel: per-pixel Layer Norm, as timm's LayerNorm2d computes it.")
def _(answer):
    key = answer.strip().lower().strip("()") if isinstance(answer, str) else answer
    return same_choice("c", options=list(OPTIONS_103),
                       reasons={k: v for k, v in OPTIONS_103.items() if v})(key)


# --- 10.4: the axes LeViT's MLPLayerWithBN pools in training ----------------------------------

@exercise("architectures", 4, solution="B T", wrong=["F", "T", "B T F", "B"],
          right_because="forward flattens [B, T, F] to [B*T, F] for nn.BatchNorm1d(F): one "
                        "mean per feature over every token of every example, Batch Norm.")
def _(answer):
    return same_axes("B T", layout="B T F",
                     reasons={"F": "BatchNorm1d keeps one mean per feature (its num_features)",
                              "B": "flatten(0, 1) puts the tokens in BatchNorm1d's batch",
                              "T": "flatten(0, 1) puts the tokens in BatchNorm1d's batch"})(
        answer)
