"""Bad input raises ValueError with a message that names the axis, size or argument at fault."""

import numpy as np
import pytest
import torch

from normaxes import affine, standardize

x = np.zeros((2, 3, 8), dtype=np.float32)


@pytest.mark.parametrize("call, words", [
    # layout rank differs from x.ndim: both numbers
    (lambda: standardize(x, "B T", over="T"), ["2 dimensions", "x has 3"]),
    (lambda: standardize(x, "N C H W", over="H W"), ["4 dimensions", "x has 3"]),
    # an over axis not in the layout: named
    (lambda: standardize(x, "B T F", over="C"), ["'C'", "not in the layout"]),
    (lambda: standardize(x, "B T F", over="T X"), ["'X'", "not in the layout"]),
    # duplicate axis names
    (lambda: standardize(x, "B T T", over="T"), ["duplicate axis name", "'T'"]),
    (lambda: standardize(x, "B T (T F)", over="T", T=2), ["duplicate axis name", "'T'"]),
    (lambda: standardize(x, "B T F", over="T T"), ["'T' twice"]),
    # a group size that does not divide its dimension: both numbers
    (lambda: standardize(x, "B T (G F)", over="T F", G=3), ["G=3", "size 8", "does not divide"]),
    (lambda: standardize(x, "B T (G F)", over="T F", F=5), ["F=5", "size 8", "does not divide"]),
    # a missing group size: the axis named
    (lambda: standardize(x, "B T (G F)", over="T F"), ["missing group size", "'G'", "'F'", "G=..."]),
    (lambda: standardize(x, "B T (G F)", over="T F", G=2, F=2), ["G=2 * F=2", "size 8"]),
    # an empty over
    (lambda: standardize(x, "B T F", over=""), ["over is empty"]),
    (lambda: standardize(x, "B T F", over=[]), ["over is empty"]),
    # a mask that does not broadcast
    (lambda: standardize(x, "B T F", over="F", mask=np.ones((2, 4, 1), bool)),
     ["mask of shape (2, 4, 1)", "(2, 3, 8)"]),
    (lambda: standardize(x, "B T F", over="F", mask=np.ones((3,), bool)), ["mask of shape (3,)"]),
    # mask of the wrong kind or dtype
    (lambda: standardize(x, "B T F", over="F", mask=np.ones((2, 3, 1))), ["mask must be boolean"]),
    (lambda: standardize(torch.zeros(2, 3, 8), "B T F", over="F", mask=np.ones((2, 3, 1), bool)),
     ["mask must be a torch tensor"]),
    # sizes for unknown axes, wrong sizes, malformed layouts, wrong inputs
    (lambda: standardize(x, "B T F", over="F", G=2), ["G=2", "not an axis"]),
    (lambda: standardize(x, "B T F", over="F", T=4), ["T=4", "size 3"]),
    (lambda: standardize(x, "B T (G F)", over="F", G=0), ["G=0", "positive integer"]),
    (lambda: standardize(x, "B T (G F", over="F", G=2), ["never closed"]),
    (lambda: standardize(x, "B T G F)", over="F"), ["without a matching"]),
    (lambda: standardize(x, "B T (F)", over="F"), ["at least two named axes"]),
    (lambda: standardize(x, "B T ((G F))", over="F"), ["nested"]),
    (lambda: standardize(x, "", over="F"), ["layout must be a non-empty string"]),
    (lambda: standardize(x.astype(int), "B T F", over="F"), ["floating-point", "int"]),
    (lambda: standardize([1.0, 2.0], "F", over="F"), ["NumPy array or a torch tensor", "list"]),
    (lambda: standardize(x, "B T F", over="F", eps=-1), ["eps", "-1"]),
    (lambda: affine(x, "B T F", "F", np.ones(3)), ["weight has shape (3,)", "(8,)"]),
    (lambda: affine(x, "B T F", "C", np.ones(8)), ["'C'", "along"]),
])
def test_bad_input_names_the_fault(call, words):
    with pytest.raises(ValueError) as err:
        call()
    msg = str(err.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
