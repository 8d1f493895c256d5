"""The exercises of the chapter "What a norm's gradient couples": the checkers of their answers."""

from __future__ import annotations

import itertools

import numpy as np

from .. import data
from ..chapters.gradients import standardize_grad
from . import exercise, same_choice, same_value

# --- 8.1: per-frame Layer Norm on the tiny sequence (F = 2, eps = 0): its gradient --------------

X = data.tiny_sequence()  # [B, T, F] = [2, 3, 2]
YBAR_81 = X[::-1].copy()  # the upstream gradient the exercise gives
_S = X.std(axis=-1, keepdims=True)  # biased: sigma of each frame
WRONG_81 = {
    "direct only": (YBAR_81 / _S, "that is ȳ/σ, the gradient with the statistics held fixed"),
    "no variance path": ((YBAR_81 - YBAR_81.mean(-1, keepdims=True)) / _S,
                         "the path through the variance is missing"),
    "Instance Norm": (standardize_grad(X, YBAR_81, "B T F", over="T", eps=0),
                      "that pools each feature over time (Instance Norm), not a frame"),
}


@exercise("coupling", 1, solution=np.zeros_like(X), wrong=[g for g, _ in WRONG_81.values()],
          right_because="With two features a frame standardizes to (-1, 1) or (1, -1) whatever "
                        "its values: the output is constant, so the gradient is 0.")
def _(answer):
    return same_value(np.zeros_like(X), tol=1e-9, what="x̄", known_wrong=WRONG_81.values())(answer)


# --- 8.2: under GN(2), which inputs does y[0, 1, 0] of the tiny sequence depend on? -------------

def _entries(*ranges):
    return frozenset(itertools.product(*ranges))


SET_82 = _entries([0], range(3), [0])  # F = 2, G = 2: one feature per group, as Instance Norm
WRONG_82 = {
    _entries([0], range(3), range(2)): "that is GN(1), the whole sequence: with G = 2 and F = 2 "
                                       "each group holds Fg = 1 feature",
    _entries([0], [1], range(2)): "that is per-frame Layer Norm: Group Norm pools every frame",
    _entries(range(2), range(3), [0]): "that is Batch Norm: Group Norm never pools across the "
                                       "batch",
    _entries([0], [1], [0]): "the output depends on every entry of its statistics set, not on "
                             "its own input alone",
}


@exercise("coupling", 2, solution=set(SET_82), wrong=[set(w) for w in WRONG_82],
          right_because="Fg = F // G = 1: GN(2) on two features is Instance Norm, so y[0, 1, 0] "
                        "depends on feature 0 of sequence 0 at every frame (m = 3).")
def _(answer):
    got = frozenset(tuple(int(i) for i in entry) for entry in answer)
    if got == SET_82:
        return None
    if got in WRONG_82:
        return WRONG_82[got]
    extra, missing = sorted(got - SET_82), sorted(SET_82 - got)
    return (f"{len(extra)} entries too many {extra[:3]}, {len(missing)} missing {missing[:3]} "
            "(give (b, t, f) index triples)")


# --- 8.3: weight decay and the effective step of a weight followed by a norm --------------------

FACTOR_83 = 1 / 0.9**2


@exercise("coupling", 3, solution=FACTOR_83, wrong=[0.9, 1 / 0.9, 0.81, 1.0],
          right_because="The gradient grows by 1/0.9 and the weights shrink by 0.9, so the "
                        "tangent of the angle a step turns grows by 1/0.9² ≈ 1.23.")
def _(answer):
    why = same_value(FACTOR_83, tol=1e-3, what="the factor")(answer)
    if why is None:
        return None
    reasons = {1 / 0.9: "the gradient grows by 1/0.9, but the step is also compared with "
                        "weights that are 0.9 times as long",
               1.0: "the loss does not change, but the step it takes does",
               0.9: "smaller weights turn faster, not slower",
               0.81: "smaller weights turn faster, not slower"}
    for value, reason in reasons.items():
        if np.isclose(float(np.asarray(answer, dtype=float)), value, atol=1e-3):
            return reason
    return why


# --- 8.4: a ResNet with Batch Norm: when does image 1 reach image 0's gradient? ----------------

MODES_84 = ["train and eval", "train only", "eval only", "neither"]


@exercise("coupling", 4, solution="train only", wrong=["train and eval", "neither", "eval only"],
          right_because="In training mode Batch Norm's statistics come from the batch, so the "
                        "gradient of image 0's output reaches image 1; in eval mode they are "
                        "running averages, constants, and it does not.")
def _(answer):
    return same_choice("train only", options=MODES_84, reasons={
        "train and eval": "in eval mode Batch Norm uses its running statistics, which do not "
                          "depend on the batch",
        "neither": "in training mode the batch's mean and variance depend on image 1",
        "eval only": "it is the other way round: eval mode uses constants"})(answer)
