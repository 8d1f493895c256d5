"""The exercises of the chapter "Batch Normalization" (chapter 2): the checkers of their
answers."""

from __future__ import annotations

import numpy as np

from .. import data
from . import exercise, same_axes, same_function, same_value

# --- 2.1: BatchNorm2d(2)'s running statistics after one training step on the tiny image -------
# channel means 7/2 and 3, biased variances 21/4 and 7 over m = N·H·W = 8; PyTorch mixes in the
# unbiased variances, 8/7 times those: 6 and 8.

RUNNING_21 = np.array([[0.35, 0.3], [0.9 + 0.6, 0.9 + 0.8]])  # [mean, var] x channel

WRONG_21 = {
    "biased": (np.array([[0.35, 0.3], [0.9 + 0.525, 0.9 + 0.7]]),
               "the running variance mixes in the unbiased variance, m/(m-1) times the biased "
               "one (m = 8)"),
    "weights swapped": (np.array([[3.15, 2.7], [0.1 + 5.4, 0.1 + 7.2]]),
                        "PyTorch's momentum 0.1 is the weight of the new batch, not of the old "
                        "value"),
    "keras": (np.array([[0.035, 0.03], [0.99 + 0.06, 0.99 + 0.08]]),
              "that is alpha = 0.01, Keras' default; PyTorch's default momentum is 0.1"),
    "batch statistics": (np.array([[3.5, 3.0], [6.0, 8.0]]),
                         "the running statistics start at mean 0 and variance 1 and move only "
                         "a tenth of the way"),
}


@exercise("batch_norm", 1, solution=RUNNING_21, wrong=[m for m, _ in WRONG_21.values()],
          right_because="The running mean is 0.1 · (7/2, 3), the running variance "
                        "0.9 + 0.1 · (6, 8).")
def _(answer):
    return same_value(RUNNING_21, tol=1e-6, what="[running_mean, running_var]",
                      known_wrong=WRONG_21.values())(answer)


# --- 2.2: nn.BatchNorm1d(F) on x.reshape(B * T, F), reshaped back -----------------------------

@exercise("batch_norm", 2, solution="B T", wrong=["B", "T", "B F", "B T F"],
          right_because="The reshape stacks the B·T frames as one batch of rows, and "
                        "BatchNorm1d pools all rows per feature: Batch Norm, without a transpose.")
def _(answer):
    return same_axes("B T", layout="B T F", reasons={
        "B": "the B·T rows of the reshaped tensor are all one batch, pooled together",
        "T": "the B·T rows of the reshaped tensor are all one batch, pooled together",
        "F": "F is the feature axis of the [B·T, F] input: each feature keeps its own statistics",
    })(answer)


# --- 2.3: Keras momentum=0.99 ported to PyTorch -----------------------------------------------

@exercise("batch_norm", 3, solution=0.01, wrong=[0.99, 0.9, 0.1, 0.001],
          right_because="PyTorch's momentum is the weight of the new batch, 1 - 0.99.")
def _(answer):
    why = same_value(0.01, tol=1e-9, what="PyTorch's momentum")(answer)
    if why is not None and np.isclose(float(np.asarray(answer)), 0.99):
        return why + "; with momentum=0.99 the running statistics keep 1% of their old value"
    return why


# --- 2.4: one training step of BatchNorm1d in plain PyTorch -----------------------------------

def train_step_reference(x, running_mean, running_var, momentum=0.1, eps=1e-5):
    """What ``nn.BatchNorm1d(F, affine=False, momentum=momentum)`` does in one training step on
    ``x [B, T, F]`` (transposed to ``[B, F, T]`` and back): returns ``(y, new_mean, new_var)``."""
    import torch

    F = x.shape[-1]
    bn = torch.nn.BatchNorm1d(F, eps=eps, momentum=momentum, affine=False, dtype=x.dtype)
    with torch.no_grad():
        bn.running_mean.copy_(running_mean)
        bn.running_var.copy_(running_var)
        y = bn.train()(x.transpose(1, 2)).transpose(1, 2)
    return y, bn.running_mean.clone(), bn.running_var.clone()


def _flat(step):
    """A function returning ``(y, mean, var)`` as one flat tensor, for comparison."""
    import torch

    def run(x, running_mean, running_var, momentum):
        out = step(x, running_mean.clone(), running_var.clone(), momentum)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise TypeError("return the tuple (y, new_mean, new_var)")
        return torch.cat([torch.as_tensor(o, dtype=torch.float64).reshape(-1) for o in out])
    return run


def _inputs_24():
    import torch

    out = []
    for seed, (B, T, F), momentum in ((1, (4, 20, 8), 0.1), (2, (2, 5, 3), 0.3),
                                      (3, (3, 7, 5), 1.0)):
        x = torch.from_numpy(data.sequence(B=B, T=T, F=F, seed=seed, dtype=np.float64))
        g = torch.Generator().manual_seed(seed)
        mean = torch.randn(F, generator=g, dtype=torch.float64)
        var = torch.rand(F, generator=g, dtype=torch.float64) + 0.5
        out.append((x, mean, var, momentum))
    return out


def _step_biased(x, running_mean, running_var, momentum):  # wrong: stores the biased variance
    mu = x.mean(dim=(0, 1))
    var = x.var(dim=(0, 1), unbiased=False)
    y = (x - mu) / (var + 1e-5).sqrt()
    return y, (1 - momentum) * running_mean + momentum * mu, \
        (1 - momentum) * running_var + momentum * var


def _step_swapped(x, running_mean, running_var, momentum):  # wrong: Keras' weighting
    mu = x.mean(dim=(0, 1))
    var = x.var(dim=(0, 1), unbiased=False)
    y = (x - mu) / (var + 1e-5).sqrt()
    unbiased = x.var(dim=(0, 1), unbiased=True)
    return y, momentum * running_mean + (1 - momentum) * mu, \
        momentum * running_var + (1 - momentum) * unbiased


def _step_unbiased_norm(x, running_mean, running_var, momentum):  # wrong: normalizes unbiased
    mu = x.mean(dim=(0, 1))
    unbiased = x.var(dim=(0, 1), unbiased=True)
    y = (x - mu) / (unbiased + 1e-5).sqrt()
    return y, (1 - momentum) * running_mean + momentum * mu, \
        (1 - momentum) * running_var + momentum * unbiased


@exercise("batch_norm", 4, solution=train_step_reference,
          wrong=[_step_biased, _step_swapped, _step_unbiased_norm],
          right_because="Normalize with the biased variance, store the unbiased one, and weigh "
                        "the new batch by momentum.")
def _(answer):
    if not callable(answer):
        return f"the answer should be a function, got {type(answer).__name__}"
    return same_function(_flat(train_step_reference), _inputs_24, tol=1e-9,
                         what="your train_step (y, mean and var, flattened)")(_flat(answer))
