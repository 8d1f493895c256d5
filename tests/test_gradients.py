"""The helpers of the chapter "Gradients" (normaxes.chapters.gradients)."""

import numpy as np
import pytest
import torch

from normaxes import affine, affine_shape, data, norm, standardize
from normaxes.chapters import gradients as gr

CASES = [(layout, short) for layout in ("B T F", "N C H W") for short in ("BN", "LN", "GN", "IN")]


def _autograd(x, ybar, layout, over, **kw):
    xg = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(standardize(xg, layout, over, **kw), xg, ybar)
    return g


@pytest.mark.parametrize("layout,short", CASES)
def test_the_three_forms_are_autograd(layout, short):
    x, ybar = gr.example(layout, seed=5)
    spec, G = norm(short, layout), gr.group_sizes(short, layout, 2)
    want = _autograd(x, ybar, spec.layout, spec.over, **G)
    for got in (gr.standardize_grad(x, ybar, spec.layout, spec.over, **G),
                gr.bn_paper_grad(x, ybar, spec.layout, spec.over, **G)["dx"],
                gr.abc_grad(x, ybar, spec.layout, spec.over, **G)["dx"]):
        assert got.shape == x.shape
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


def test_standardize_grad_runs_on_numpy_too():
    x, ybar = gr.example("B T F")
    got = gr.standardize_grad(x.numpy(), ybar.numpy(), "B T F", "T F")
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, _autograd(x, ybar, "B T F", "T F").numpy(), atol=1e-12)


def test_masked_gradient_is_zero_on_padding_and_matches_autograd():
    x, ybar = gr.example("B T F")
    mask = torch.from_numpy(data.length_mask([6, 3, 1, 0], T=6))  # one empty sequence
    got = gr.standardize_grad(x, ybar, "B T F", "T", mask=mask)
    want = _autograd(x, ybar, "B T F", "T", mask=mask)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    assert (got[~mask.expand(x.shape)] == 0).all()


def test_affine_grads_are_autograd():
    x, ybar = gr.example("N C H W")
    shape = affine_shape("N (G Cg) H W", "G Cg", x.shape, G=2)
    w = torch.linspace(-1, 2, 6, dtype=torch.float64).reshape(shape).requires_grad_(True)
    b = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    y = affine(standardize(x, "N (G Cg) H W", "Cg H W", G=2), "N (G Cg) H W", "G Cg", w, b, G=2)
    y.backward(ybar)
    gw, gb = gr.affine_grads(x, ybar, "N (G Cg) H W", "Cg H W", "G Cg", G=2)
    torch.testing.assert_close(gw, w.grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(gb, b.grad, rtol=0, atol=1e-12)


def test_set_sum_and_mean_keep_reduced_axes():
    x = torch.from_numpy(data.tiny_sequence())  # [2, 3, 2]
    assert gr.set_sum(x, "B T F", "B T").shape == (1, 1, 2)
    torch.testing.assert_close(gr.set_mean(x, "B T F", "B T"), x.mean(dim=(0, 1), keepdim=True))
    assert gr.set_sum(x, "B T (G Fg)", "T Fg", G=2).shape == (2, 1, 2, 1)


def test_coupling_is_the_statistics_set():
    x, _ = gr.example("B T F")
    depends = gr.coupling(lambda a: standardize(a, "B T (G Fg)", "T Fg", G=1), x)
    assert (depends == gr.same_set("B T (G Fg)", "T Fg", x.shape, G=1)).all()
    assert gr.coupling_digest("GN(1)", depends).endswith(" 36 of 144 inputs;  4 sets of 36")


def test_layer_grads_match_the_formula_and_refuse_unknown_frameworks():
    x, ybar = gr.example("B T F")
    w, b = torch.ones(6, dtype=torch.float64), torch.zeros(6, dtype=torch.float64)
    theirs = gr.layer_grads("torch", "IN", "B T F", x, ybar, w, b)
    torch.testing.assert_close(theirs, gr.formula_grads("IN", "B T F", x, ybar, w, b),
                               rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="framework must be 'torch' or 'keras'"):
        gr.layer_grads("jax", "IN", "B T F", x, ybar, w, b)


def test_bad_input_gets_a_clear_error():
    x, ybar = gr.example("B T F")
    with pytest.raises(ValueError, match="ybar has shape"):
        gr.standardize_grad(x, ybar[:, :3], "B T F", "F")
    with pytest.raises(ValueError, match="same kind of array"):
        gr.standardize_grad(x, ybar.numpy(), "B T F", "F")
    with pytest.raises(ValueError, match="x must be a torch tensor"):
        gr.coupling(lambda a: a, x.numpy())
    with pytest.raises(ValueError, match="layout must be 'B T F' or 'N C H W'"):
        gr.example("N H W C")


def test_layer_table_lists_the_four_norms():
    x, _ = gr.example("N C H W")
    table = gr.layer_table("N C H W", x)
    assert table.count("\n") == 5 and "GroupNormalization(groups=6)" in table
