"""The exercises of the chapter "Gradients: the backward pass of every norm": the checkers of
their answers."""

from __future__ import annotations

import numpy as np
import torch

from .. import data
from . import exercise, same_choice, same_function, same_value

# --- 7.1: Instance Norm's gradient on the set x[1, 0] of the tiny image, by hand ----------------
# x[1, 0] = (0, 4, 2, 6): mean 3, variance 5, xhat = (-3, 1, -1, 3)/sqrt(5); L = y[1, 0, 0, 1].

XHAT_71 = np.array([-3.0, 1, -1, 3]) / np.sqrt(5)
YBAR_71 = np.array([0.0, 1, 0, 0])
GRAD_71 = (YBAR_71 - YBAR_71.mean() - XHAT_71 * (YBAR_71 * XHAT_71).mean()) / np.sqrt(5)

WRONG_71 = {  # plausible wrong gradients, and why each is wrong
    "direct only": (YBAR_71 / np.sqrt(5), "that is the gradient of a fixed mean and variance; "
                                          "the other three inputs act through both"),
    "no variance path": ((YBAR_71 - YBAR_71.mean()) / np.sqrt(5),
                         "the path through the variance is missing: it does not sum to 0 "
                         "against x̂"),
    "no mean path": ((YBAR_71 - XHAT_71 * (YBAR_71 * XHAT_71).mean()) / np.sqrt(5),
                     "the path through the mean is missing: the gradient must sum to 0"),
    "sums not means": ((YBAR_71 - YBAR_71.sum() - XHAT_71 * (YBAR_71 * XHAT_71).sum())
                       / np.sqrt(5), "the two corrections are means over the set (divide by "
                                     "m = 4), not sums"),
}


@exercise("gradients", 1, solution=GRAD_71, wrong=[g for g, _ in WRONG_71.values()],
          right_because="x̄ = (-1, 7, -2, -4) / (10·√5): it sums to 0 and is orthogonal to x̂.")
def _(answer):
    got = np.asarray(answer, dtype=float)
    if got.size != 4:
        return f"give the 4 entries of the gradient on x[1, 0], not {got.size} numbers"
    got = got.ravel()  # [2, 2] or [4], in reading order
    return same_value(GRAD_71, tol=1e-4, what="the gradient on x[1, 0]",
                      known_wrong=[(np.ravel(w), r) for w, r in WRONG_71.values()])(got)


# --- 7.2: the backward pass of per-frame Layer Norm in plain PyTorch ----------------------------

def _ln_backward_by_autograd(x, ybar):
    xg = x.clone().requires_grad_(True)
    y = torch.nn.functional.layer_norm(xg, x.shape[-1:], eps=1e-5)
    (xbar,) = torch.autograd.grad(y, xg, ybar)
    return xbar


def _inputs_72():
    out = []
    for k, shape in enumerate([(2, 3, 4), (3, 5, 6), (1, 2, 8)]):
        x = torch.from_numpy(data.sequence(*shape, seed=40 + k, dtype=np.float64))
        ybar = torch.from_numpy(np.random.default_rng(50 + k).normal(size=shape))
        out.append((x, ybar))
    return out


def _ln_backward(x, ybar, eps=1e-5):
    mu = x.mean(dim=-1, keepdim=True)
    s = (x.var(dim=-1, unbiased=False, keepdim=True) + eps).sqrt()
    xhat = (x - mu) / s
    return (ybar - ybar.mean(-1, keepdim=True)
            - xhat * (ybar * xhat).mean(-1, keepdim=True)) / s


def _wrong_no_variance(x, ybar, eps=1e-5):
    s = (x.var(dim=-1, unbiased=False, keepdim=True) + eps).sqrt()
    return (ybar - ybar.mean(-1, keepdim=True)) / s


def _wrong_unbiased(x, ybar, eps=1e-5):
    s = (x.var(dim=-1, keepdim=True) + eps).sqrt()  # divides by F - 1
    xhat = (x - x.mean(dim=-1, keepdim=True)) / s
    return (ybar - ybar.mean(-1, keepdim=True)
            - xhat * (ybar * xhat).mean(-1, keepdim=True)) / s


def _wrong_over_time(x, ybar, eps=1e-5):
    mu = x.mean(dim=1, keepdim=True)  # the statistics of Instance Norm, not of a frame
    s = (x.var(dim=1, unbiased=False, keepdim=True) + eps).sqrt()
    xhat = (x - mu) / s
    return (ybar - ybar.mean(1, keepdim=True) - xhat * (ybar * xhat).mean(1, keepdim=True)) / s


@exercise("gradients", 2, solution=_ln_backward,
          wrong=[_wrong_no_variance, _wrong_unbiased, _wrong_over_time, lambda x, ybar: ybar],
          right_because="It is autograd's gradient through F.layer_norm over the last axis.")
def _(answer):
    return same_function(_ln_backward_by_autograd, _inputs_72, tol=1e-9,
                         what="ln_backward(x, ybar)")(answer)


# --- 7.3: find the bug in a hand-written Batch Norm backward ------------------------------------

TERMS_73 = ["dxhat", "dvar", "dmu"]


@exercise("gradients", 3, solution="dmu", wrong=["dvar", "dxhat"],
          right_because="The paper's last equation adds ∂ℓ/∂μ · 1/m; the code computes dmu and "
                        "never adds it, so the gradient no longer sums to 0 over a feature.")
def _(answer):
    return same_choice("dmu", options=TERMS_73, reasons={
        "dvar": "dvar * 2 * (x - mu) / m is there: the path through the variance is in the sum",
        "dxhat": "ybar / (var + eps) ** 0.5 is the ∂ℓ/∂x̂ term (γ = 1): it is there"})(answer)


# --- 7.4: what PyTorch's Group Norm kernel keeps from the forward pass --------------------------

@exercise("gradients", 4, solution=4, wrong=[2, 12, 54],
          right_because="A mean and a reciprocal standard deviation per group: 2·G = 4 numbers "
                        "per image, where x̂ would take C·H·W = 54.")
def _(answer):
    why = same_value(4.0, tol=0, what="the count per image")(answer)
    if why is None:
        return None
    reasons = {2.0: "that is one mean and one rstd for the whole image: GN(2) has two groups",
               12.0: "the kernel keeps them per group, not per channel",
               54.0: "that is x̂, one number per entry: the kernel does not keep it"}
    return reasons.get(float(np.asarray(answer, dtype=float)), why)
