"""normaxes.affine: the affine step against PyTorch, and its errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from normaxes import affine, affine_shape, standardize


def test_affine_matches_pytorch_parameter_shapes():
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.normal(size=(2, 6, 3, 4)))
    assert affine_shape("N C H W", "C", x.shape) == (6,)
    assert affine_shape("N C H W", "C H W", x.shape) == (6, 3, 4)
    w, b = torch.from_numpy(rng.normal(size=6)), torch.from_numpy(rng.normal(size=6))
    ours = affine(standardize(x, "N (G Cg) H W", "Cg H W", G=2), "N C H W", "C", w, b)
    torch.testing.assert_close(ours, F.group_norm(x, 2, w, b))
    wl = torch.from_numpy(rng.normal(size=(6, 3, 4)))
    bl = torch.from_numpy(rng.normal(size=(6, 3, 4)))
    ours = affine(standardize(x, "N C H W", "C H W"), "N C H W", "C H W", wl, bl)
    torch.testing.assert_close(ours, F.layer_norm(x, (6, 3, 4), wl, bl))
    # a flat per-channel vector also serves a grouped layout
    ours = affine(standardize(x, "N (G Cg) H W", "Cg H W", G=2), "N (G Cg) H W", "G Cg", w, b, G=2)
    torch.testing.assert_close(ours, F.group_norm(x, 2, w, b))




X = np.zeros((2, 3, 8), dtype=np.float32)


@pytest.mark.parametrize("call, words", [
    (lambda: affine(X, "B T F", "F", np.ones(3)), ["weight has shape (3,)", "(8,)"]),
    (lambda: affine(X, "B T F", "C", np.ones(8)), ["'C'", "along"]),
])
def test_bad_input_names_the_fault(call, words):
    with pytest.raises(ValueError) as err:
        call()
    msg = str(err.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
