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


# --- the helpers the two pages added ----------------------------------------------------------

def test_book_name_is_the_notation_pages_name():
    assert gr.book_name("LN", "B T F") == "per-frame Layer Norm"
    assert gr.book_name("LN", "N C H W") == "per-example Layer Norm"
    assert gr.book_name("GN", "B T F", G=1) == "GN(1)"
    assert gr.book_name("BN", "N C H W") == "Batch Norm"
    assert gr.book_name("IN", "B T F") == "Instance Norm"
    with pytest.raises(ValueError, match="'RMS' is not one of"):
        gr.book_name("RMS", "B T F")


def test_companions_keep_example_zero_and_change_the_others():
    x, _ = gr.example("N C H W")
    other = gr.companions(x)
    assert other.shape == x.shape and torch.equal(other[0], x[0])
    assert (other[1:] - x[1:]).abs().min() > 0  # every other entry moved


def test_source_line_points_at_the_line_that_holds_the_text():
    import inspect
    import pathlib

    from torch.nn.modules._functions import SyncBatchNorm

    where = gr.source_line(SyncBatchNorm.backward, "torch.distributed.all_reduce(")
    path, line = where.rsplit(":", 1)
    assert path == "torch/nn/modules/_functions.py"
    text = pathlib.Path(inspect.getsourcefile(SyncBatchNorm)).read_text().splitlines()
    assert "torch.distributed.all_reduce(" in text[int(line) - 1]
    with pytest.raises(ValueError, match="is not in the source"):
        gr.source_line(SyncBatchNorm.backward, "no such line")


def test_sgd_turn_is_the_angle_between_the_weights_before_and_after_a_step():
    x, ybar = gr.example("B T F")
    W = torch.from_numpy(np.random.default_rng(3).normal(size=(6, 6)))
    Wg = W.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(standardize(x @ Wg.T, "B T F", over="F", eps=0), Wg, ybar)
    w0, w1 = W.ravel(), (W - 0.5 * grad).ravel()
    angle = torch.arccos(w0 @ w1 / (w0.norm() * w1.norm()))
    assert gr.sgd_turn(W, x, ybar) == pytest.approx(float(torch.tan(angle)), rel=1e-9)
    assert gr.sgd_turn(W, x, ybar, lr=0.25) == pytest.approx(gr.sgd_turn(W, x, ybar) / 2, rel=1e-9)


def test_coupling_panels_name_each_norm_and_shade_its_set():
    x, _ = gr.example("N C H W")
    panels, digest = gr.coupling_panels("N C H W", x)
    assert [p["title"].split("\nover")[0] for p in panels] == [
        "Batch Norm", "per-example\nLayer Norm", "GN(2)", "Instance Norm"]
    assert [int(p["shared"].sum()) for p in panels] == [4 * 9, 6 * 9, 3 * 9, 9]
    assert digest.splitlines()[1].startswith("per-example Layer Norm 54 of 216 inputs")


# --- the printed code of each page's claims runs after that page's import cell ------------------

PAGES = ("gradients", "coupling")


def _import_cell(stem):
    import json
    from pathlib import Path

    from normaxes.book.firstcell import is_install_cell

    path = Path(__file__).resolve().parents[1] / "chapters" / f"{stem}.ipynb"
    cells = json.loads(path.read_text())["cells"]
    return next("".join(c["source"]) for c in cells
                if c["cell_type"] == "code" and not is_install_cell(c))


@pytest.mark.parametrize("stem", PAGES)
def test_printed_claims_run_after_the_pages_import_cell(stem):
    from pathlib import Path

    from normaxes.book import ledger

    chapters = Path(__file__).resolve().parents[1] / "chapters"
    shown = ledger.shown_in(chapters, besides="claims_ledger")
    names = sorted(n for n, page in shown.items() if page == stem)
    assert names, f"{stem} shows no claim"
    for c in ledger.claims():
        if c.name in names:
            assert c.chapter == stem, f"{c.name} is shown on {stem} but keyed to {c.chapter}"
    namespace = {}
    exec(_import_cell(stem), namespace)
    for c in [c for c in ledger.claims() if c.name in names]:
        scope = dict(namespace)
        exec(ledger.claim_code(c), scope)  # a NameError here: the import cell lacks a name
        assert "left" in scope and "right" in scope, c.name


# --- the exercises: each reference answer is what the code computes ---------------------------

def test_exercise_7_1_is_autograd_on_the_tiny_image():
    from normaxes.exercises.gradients import GRAD_71

    x = torch.from_numpy(data.tiny_image()).requires_grad_(True)
    standardize(x, "N C H W", over="H W", eps=0)[1, 0, 0, 1].backward()
    np.testing.assert_allclose(GRAD_71, x.grad[1, 0].ravel().numpy(), atol=1e-12)
    assert (x.grad[1, 1] == 0).all() and (x.grad[0] == 0).all()


def test_exercise_7_2_reference_is_the_books_formula():
    from normaxes.exercises.gradients import _inputs_72, _ln_backward_by_autograd

    for x, ybar in _inputs_72():
        torch.testing.assert_close(_ln_backward_by_autograd(x, ybar),
                                   gr.standardize_grad(x, ybar, "B T F", "F"), rtol=0, atol=1e-12)


def _statement_code(stem, number):
    import json
    import re
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "chapters" / f"{stem}.ipynb"
    for c in json.loads(path.read_text())["cells"]:
        text = "".join(c["source"])
        if c["cell_type"] == "markdown" and text.startswith(f"**Exercise {number}**"):
            return re.search(r"```python\n(.*?)```", text, re.S).group(1)
    raise AssertionError(f"no statement of exercise {number} in {stem}")


def test_exercise_7_3_code_misses_exactly_the_mean_term():
    scope = {"torch": torch}
    exec(_statement_code("gradients", "7.3"), scope)
    bn_backward = scope["bn_backward"]
    x, ybar = gr.example("B T F")
    right = gr.standardize_grad(x, ybar, "B T F", "B T")
    assert (bn_backward(x, ybar) - right).abs().max() > 0.05  # the bug shows
    s = (x.var(dim=(0, 1), unbiased=False, keepdim=True) + 1e-5).sqrt()
    dmu_term = -ybar.sum(dim=(0, 1), keepdim=True) / s / (x.shape[0] * x.shape[1])
    torch.testing.assert_close(bn_backward(x, ybar) + dmu_term, right, rtol=0, atol=1e-12)


def test_exercise_7_4_counts_what_the_group_norm_kernel_keeps():
    from normaxes.exercises import check

    x, _ = gr.example("N C H W")
    N, C, H, W = x.shape
    _, mean, rstd = torch.ops.aten.native_group_norm(x, None, None, N, C, H * W, 2, 1e-5)
    assert check("7.4", (mean.numel() + rstd.numel()) // N, quiet=True)


def test_exercises_8_1_and_8_2_are_autograd_on_the_tiny_sequence():
    from normaxes.exercises import check

    x = torch.from_numpy(data.tiny_sequence()).requires_grad_(True)
    standardize(x, "B T F", over="F", eps=0).backward(torch.from_numpy(data.tiny_sequence()))
    assert check("8.1", x.grad, quiet=True)
    J = torch.autograd.functional.jacobian(
        lambda a: standardize(a, "B T (G Fg)", over="T Fg", G=2), x.detach())
    assert check("8.2", {tuple(i) for i in J[0, 1, 0].nonzero().tolist()}, quiet=True)
    assert not check("8.2", {tuple(i) for i in J[0, 1, 1].nonzero().tolist()}, quiet=True)


def test_exercise_8_3_is_what_sgd_turn_measures():
    from normaxes.exercises import check

    x, ybar = gr.example("B T F")
    W = torch.from_numpy(np.random.default_rng(7).normal(size=(6, 6)))
    assert check("8.3", gr.sgd_turn(0.9 * W, x, ybar) / gr.sgd_turn(W, x, ybar), quiet=True)


def test_exercise_8_4_the_resnet_couples_images_in_train_mode_only():
    model = gr.small_resnet()
    x = torch.randn(4, 3, 16, 16, dtype=torch.float64, requires_grad=True)
    reach = {}
    for mode in ("train", "eval"):
        getattr(model, mode)()
        (g,) = torch.autograd.grad(model(x).pooler_output[0].sum(), x)
        reach[mode] = float(g[1].abs().max())
    assert reach["train"] > 1e-3 and reach["eval"] == 0.0


# --- the claims that loop over the eight cases cover all of them --------------------------------

def _n_sets():
    return sum(int(gr.set_sum(x, spec.layout, spec.over, **G).numel())
               for spec, G, x, _ in gr.cases())


@pytest.mark.parametrize("name, size", [
    ("grad-formula-is-autograd", lambda: sum(x.numel() for _, _, x, _ in gr.cases())),
    ("grad-bn-paper-simplified", lambda: sum(x.numel() for _, _, x, _ in gr.cases())),
    ("grad-torch-abc-form", lambda: sum(x.numel() for _, _, x, _ in gr.cases())),
    ("grad-sums-to-zero", _n_sets),
    ("grad-orthogonal-to-xhat", _n_sets),
    ("grad-squared-norm-is-projection", _n_sets),
])
def test_claims_over_the_cases_measure_every_case(name, size):
    """A claim that says 'every norm, both layouts' compares one number per entry (or per set)
    of all eight cases: one case left out of the loop shrinks what it measures."""
    from normaxes.book import ledger

    (c,) = [c for c in ledger.claims() if c.name == name]
    left, right = c.compute()
    assert left.numel() == right.numel() == size()
    assert len(list(gr.cases())) == 8
