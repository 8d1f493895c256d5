"""Exercises of the chapter "Batch Norm in training" (chapter 9): running averages in two
conventions, the bug in a precise-BN loop, the linear scaling rule, Batch Norm over a batch of
two, and SyncBatchNorm's conversion of a model."""

from . import exercise, same_choice, same_value

# 9.1: running mean after 10 steps, every batch mean 1, from 0: 1 - 0.9**10 (PyTorch, momentum
# 0.1 weighs the new batch) and 1 - 0.99**10 (Keras, momentum 0.99 weighs the old average)
_RUNNING = [1 - 0.9 ** 10, 1 - 0.99 ** 10]


@exercise("training", 1, solution=_RUNNING,
          wrong=[[0.9 ** 10, 0.99 ** 10], _RUNNING[::-1], [0.1, 0.01], [1.0, 1.0]],
          right_because="PyTorch's 0.1 weighs the new batch, Keras' 0.99 the old average.")
def _(answer):
    return same_value(_RUNNING, tol=1e-3, what="[PyTorch's, Keras'] running mean")(answer)


_MISSING = {
    "reset_running_stats": None,
    "momentum=None": "it is set: without it the statistics would be a running average again",
    "train": "the loop calls net.train(): the layers do compute batch statistics",
    "no_grad": "torch.no_grad() changes no statistic, it only skips the graph",
}


@exercise("training", 2, solution="reset_running_stats",
          wrong=["momentum=None", "train", "no_grad", "eval"],
          right_because="Without it, momentum=None averages over num_batches_tracked, which "
                        "still counts every training step: the new batches barely move the "
                        "statistics.")
def _(answer):
    return same_choice("reset_running_stats", options=list(_MISSING),
                       reasons={k: v for k, v in _MISSING.items() if v})(answer)


@exercise("training", 3, solution=[0.0125, 1280],
          wrong=[[0.1, 1280], [0.0125, 160], [0.8, 1280], [0.0125, 256]],
          right_because="0.1 * 4 / 32 = 0.0125, and 5 epochs of 1,024 images in batches of 4.")
def _(answer):
    return same_value([0.0125, 1280], tol=1e-9, what="[learning rate, steps]")(answer)


# 9.4: two entries standardize to -s and +s, s = sigma / sqrt(sigma^2 + eps), sigma = |x0-x1|/2
_PAIRS = [[3.0, 3.0], [7.0, 3.5]]  # rows: the two images; columns: two units
_SIGNS = [[-(2 / (4 + 1e-5) ** 0.5), -(0.25 / (0.0625 + 1e-5) ** 0.5)],
          [2 / (4 + 1e-5) ** 0.5, 0.25 / (0.0625 + 1e-5) ** 0.5]]


@exercise("training", 4, solution=_SIGNS,
          wrong=[[[-0.7071, -0.7071], [0.7071, 0.7071]], [[3.0, 3.0], [7.0, 3.5]],
                 [[-2.0, -0.25], [2.0, 0.25]], [[-1.0, 1.0], [1.0, -1.0]]],
          right_because="Two entries standardize to -1 and +1 (up to eps), whatever their gap.")
def _(answer):
    return same_value(_SIGNS, tol=1e-3, what="the normalized batch")(answer)


@exercise("training", 5, solution=4, wrong=[3, 1, 0, 5],
          right_because="Three BatchNorm2d layers after the convolutions and the BatchNorm1d "
                        "after the fully connected layer.")
def _(answer):
    return same_value(4, tol=0, what="the number of layers swapped")(answer)
