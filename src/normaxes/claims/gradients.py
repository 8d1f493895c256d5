"""Claims of the chapters "Gradients: the backward pass of every norm" (``CH``) and "What a norm's
gradient couples" (``COUPLING``), each keyed by the page that shows it."""

import numpy as np
import torch

from .. import moments, norm, standardize
from ..book.ledger import claim
from ..chapters.gradients import (
    abc_grad,
    bn_paper_grad,
    book_norm,
    cases,
    companions,
    coupling,
    example,
    layers_vs_formula,
    masked_grads,
    random_affine,
    same_set,
    set_sum,
    sgd_turn,
    short_of,
    standardize_grad,
    torch_layer,
)

CH = "gradients"
COUPLING = "coupling"  # the claims of the page on what the gradient couples


# --- the formula ------------------------------------------------------------------------

@claim("grad-formula-is-autograd", chapter=CH, layout="[B,T,F], [N,C,H,W]",
       statement="For Batch Norm, per-frame and per-example Layer Norm, GN(2) and Instance "
                 "Norm, the closed form "
                 "(ȳ − mean_S ȳ − x̂·mean_S(ȳ x̂))/σ is the gradient autograd computes "
                 "through standardize (float64).",
       left="torch.autograd.grad through standardize", right="standardize_grad (the formula)")
def _():
    by_autograd, by_formula = [], []
    for spec, G, x, ybar in cases():  # BN, LN, GN(2), IN on both layouts, float64
        xg = x.clone().requires_grad_(True)
        y = standardize(xg, spec.layout, spec.over, **G)
        (xbar,) = torch.autograd.grad(y, xg, ybar)  # ȳᵀ ∂y/∂x
        by_autograd.append(xbar.ravel())
        by_formula.append(standardize_grad(x, ybar, spec.layout, spec.over, **G).ravel())
    return torch.cat(by_autograd), torch.cat(by_formula)


@claim("grad-gradcheck-book", chapter=CH, layout="[B,T,F], [N,C,H,W]",
       statement="torch.autograd.gradcheck passes (float64, finite differences) on the book's "
                 "own Batch Norm, Layer Norm (per-frame, per-example), GN(2) and Instance Norm, "
                 "on both layouts, with and without the affine step.",
       left="gradcheck passed (1) or not (0), 16 cases", right="1 for every case", tol=0.0)
def _():
    passed = []
    for spec, G, x, _ in cases(small=True):  # [3, 4, 4] and [3, 4, 2, 2]
        f = book_norm(spec, G)  # f(x) = standardize(...), f(x, w, b) adds the affine step
        w, b = random_affine(spec, x, G)
        for args in [(x,), (x, w, b)]:
            args = [a.clone().requires_grad_(True) for a in args]
            passed.append(torch.autograd.gradcheck(f, args, raise_exception=False))
    return torch.tensor(passed, dtype=torch.float64), torch.ones(len(passed), dtype=torch.float64)


@claim("grad-bn-paper-simplified", chapter=CH, layout="[B,T,F], [N,C,H,W]",
       statement="The Batch Normalization paper's four backward equations (∂ℓ/∂x̂, ∂ℓ/∂σ², "
                 "∂ℓ/∂μ, ∂ℓ/∂x), summed over any statistics set, give the closed form, for "
                 "all four norms.",
       left="bn_paper_grad (Ioffe & Szegedy, Sec. 3)", right="standardize_grad")
def _():
    paper, formula = [], []
    for spec, G, x, ybar in cases():
        paper.append(bn_paper_grad(x, ybar, spec.layout, spec.over, **G)["dx"].ravel())
        formula.append(standardize_grad(x, ybar, spec.layout, spec.over, **G).ravel())
    return torch.cat(paper), torch.cat(formula)


@claim("grad-torch-abc-form", chapter=CH, layout="[B,T,F], [N,C,H,W]",
       statement="PyTorch's three-term form a·ȳ + b·x + c (its CPU LayerNorm and GroupNorm "
                 "kernels) is the closed form, for all four norms on both layouts.",
       left="abc_grad: a·ȳ + b·x + c", right="standardize_grad")
def _():
    abc, formula = [], []
    for spec, G, x, ybar in cases():
        abc.append(abc_grad(x, ybar, spec.layout, spec.over, **G)["dx"].ravel())
        formula.append(standardize_grad(x, ybar, spec.layout, spec.over, **G).ravel())
    return torch.cat(abc), torch.cat(formula)


# --- the real layers --------------------------------------------------------------------

@claim("grad-torch-layers", chapter=CH, layout="[B,T,F], [N,C,H,W]",
       statement="The gradients of PyTorch's BatchNorm, LayerNorm (per-frame on sequences, "
                 "per-example on images), GroupNorm(2) and InstanceNorm (affine, float64) with "
                 "respect to x, weight and bias are the chapter's formulas, on both layouts.",
       left="x.grad, weight.grad, bias.grad of the torch layers",
       right="formula_grads: standardize_grad(x, ȳ·γ), Σ ȳ·x̂, Σ ȳ")
def _():
    # layer_grads builds the layer, sets its weight and bias, backpropagates L = Σ ȳ·y
    return layers_vs_formula("torch")


@claim("grad-keras-layers", chapter=CH, layout="[B,T,F], [N,C,H,W]", tol=1e-5,
       statement="The gradients of Keras' BatchNormalization (training=True), "
                 "LayerNormalization and GroupNormalization (as GN(2) and as Instance Norm) with "
                 "respect to "
                 "x, gamma and beta are the chapter's formulas, on both layouts, to float32 "
                 "precision (relative to each case's largest gradient): Keras computes these "
                 "layers in float32 even for float64 input.",
       left="gradients of the Keras layers (torch backend) / largest gradient",
       right="formula_grads / largest gradient")
def _():
    # each case divided by its largest gradient: the difference is a relative error
    return layers_vs_formula("keras", relative=True)


# --- what the set couples ---------------------------------------------------------------

@claim("grad-jacobian-is-the-set", chapter=COUPLING, layout="[B,T,F], [N,C,H,W]",
       statement="Output i depends on input j (∂y_i/∂x_j ≠ 0) exactly when i and j share a "
                 "statistics set: for Batch Norm, Layer Norm (per-frame, per-example), GN(2), "
                 "GN(1) and Instance Norm on both layouts.",
       left="nonzero pattern of the Jacobian (autograd)", right="same statistics set")
def _():
    jacobian, sets = [], []
    for layout in ("B T F", "N C H W"):
        x, _ = example(layout)
        for short, G in [("BN", {}), ("LN", {}), ("GN", {"G": 2}), ("GN", {"G": 1}),
                         ("IN", {})]:
            spec = norm(short, layout)
            depends = coupling(book_norm(spec, G), x)  # the Jacobian's nonzero pattern
            jacobian.append(depends.ravel())
            sets.append(same_set(spec.layout, spec.over, x.shape, **G).ravel())
    return np.concatenate(jacobian).astype(float), np.concatenate(sets).astype(float)


@claim("grad-bn-train-depends-on-batch", chapter=COUPLING, layout="[B,T,F]", expect="differ",
       statement="In training mode, nn.BatchNorm1d's output for sequence 0 changes when the "
                 "other sequences of the batch change.",
       left="output for sequence 0, batch A", right="output for sequence 0, batch B")
def _():
    x, _ = example("B T F")  # [4, 6, 6]
    other = companions(x)  # sequence 0 as in x; the others 3x + 1
    _, bn = torch_layer("BN", "B T F", x)  # nn.BatchNorm1d(6) on x.transpose(1, 2), training
    with torch.no_grad():
        a, b = bn(x)[0], bn(other)[0]
    return a, b


@claim("grad-bn-eval-independent", chapter=COUPLING, layout="[B,T,F]",
       statement="In eval mode, nn.BatchNorm1d's output for sequence 0 does not depend on the "
                 "other sequences of the batch.",
       left="output for sequence 0, batch A", right="output for sequence 0, batch B")
def _():
    x, _ = example("B T F")
    layer, bn = torch_layer("BN", "B T F", x)
    with torch.no_grad():
        bn(x)  # one training step fills the running statistics
        layer.eval()
        a, b = bn(x)[0], bn(companions(x))[0]
    return a, b


@claim("grad-ln-gn-independent", chapter=COUPLING, layout="[B,T,F], [N,C,H,W]",
       statement="nn.LayerNorm (per-frame on sequences, per-example on images) and "
                 "nn.GroupNorm(2, ·) give sequence (image) 0 the same output whatever the other "
                 "examples of the batch are, in training mode.",
       left="outputs for example 0, batch A", right="outputs for example 0, batch B")
def _():
    a, b = [], []
    for spec, _, x, _ in cases():
        if spec.name in ("Layer Norm", "Group Norm"):
            _, layer = torch_layer(*short_of(spec), x)  # nn.LayerNorm, nn.GroupNorm(2, ·)
            with torch.no_grad():
                a.append(layer(x)[0].ravel()), b.append(layer(companions(x))[0].ravel())
    return torch.cat(a), torch.cat(b)


# --- invariances ------------------------------------------------------------------------

@claim("grad-sums-to-zero", chapter=COUPLING, layout="[B,T,F], [N,C,H,W]",
       statement="The input gradient of every norm sums to 0 over each statistics set.",
       left="Σ over each set S of x̄", right="0")
def _():
    sums = []
    for spec, G, x, ybar in cases():
        xbar = standardize_grad(x, ybar, spec.layout, spec.over, **G)
        sums.append(set_sum(xbar, spec.layout, spec.over, **G).ravel())
    sums = torch.cat(sums)
    return sums, torch.zeros_like(sums)


@claim("grad-orthogonal-to-xhat", chapter=COUPLING, layout="[B,T,F], [N,C,H,W]",
       statement="With ε = 0 the input gradient is orthogonal to x̂ on each statistics set: "
                 "Σ_S x̄·x̂ = 0.",
       left="Σ over each set S of x̄·x̂ (eps=0)", right="0")
def _():
    dots = []
    for spec, G, x, ybar in cases():
        xhat = standardize(x, spec.layout, spec.over, eps=0, **G)
        xbar = standardize_grad(x, ybar, spec.layout, spec.over, eps=0, **G)
        dots.append(set_sum(xbar * xhat, spec.layout, spec.over, **G).ravel())
    dots = torch.cat(dots)
    return dots, torch.zeros_like(dots)


@claim("grad-squared-norm-is-projection", chapter=COUPLING, layout="[B,T,F], [N,C,H,W]",
       statement="With ε = 0, on every statistics set of every norm, ‖x̄‖² = (‖ȳ‖² − ⟨1, ȳ⟩²/m "
                 "− ⟨x̂, ȳ⟩²/m)/σ²: the squared norm of ȳ less its components along the "
                 "constant and along x̂, divided by σ².",
       left="Σ_S x̄² (eps=0)", right="(Σ_S ȳ² − (Σ_S ȳ)²/m − (Σ_S ȳ·x̂)²/m)/σ²")
def _():
    left, right = [], []
    for spec, G, x, ybar in cases():
        over = (spec.layout, spec.over)
        xhat = standardize(x, *over, eps=0, **G)
        xbar = standardize_grad(x, ybar, *over, eps=0, **G)
        _, var, m = moments(x, *over, **G)  # per set: mean, biased variance, size
        left.append(set_sum(xbar**2, *over, **G).ravel())
        removed = (set_sum(ybar, *over, **G) ** 2 + set_sum(ybar * xhat, *over, **G) ** 2) / m
        right.append(((set_sum(ybar**2, *over, **G) - removed) / var).ravel())
    return torch.cat(left), torch.cat(right)


@claim("grad-scale-invariance", chapter=COUPLING, layout="[B,T,F], [N,C,H,W]",
       statement="With ε = 0, scaling the input by c = 10 leaves every norm's output unchanged "
                 "and divides its input gradient by c: y(cx) = y(x), c·x̄(cx) = x̄(x).",
       left="y(cx) and c·x̄(cx)", right="y(x) and x̄(x)")
def _():
    c, scaled, plain = 10.0, [], []
    for spec, G, x, ybar in cases():
        for inputs, out in [(c * x, scaled), (x, plain)]:
            out.append(standardize(inputs, spec.layout, spec.over, eps=0, **G).ravel())
            xbar = standardize_grad(inputs, ybar, spec.layout, spec.over, eps=0, **G)
            out.append((c * xbar if out is scaled else xbar).ravel())
    return torch.cat(scaled), torch.cat(plain)


@claim("grad-weight-norm-grows", chapter=COUPLING, layout="[B,T,F]",
       statement="For a linear layer followed by per-frame Layer Norm (ε = 0), the weight "
                 "gradient is "
                 "orthogonal to the weights, so a plain SGD step can only grow them: "
                 "‖W − η∇W‖² = ‖W‖² + η²‖∇W‖².",
       left="‖W − η∇W‖²", right="‖W‖² + η²‖∇W‖²")
def _():
    x, ybar = example("B T F")  # [4, 6, 6]
    W = torch.from_numpy(np.random.default_rng(3).normal(size=(6, 6))).requires_grad_(True)
    y = standardize(x @ W.T, "B T F", over="F", eps=0)  # Linear(F, F), then LN per frame
    (grad,) = torch.autograd.grad(y, W, ybar)
    lr = 0.5
    with torch.no_grad():
        after = ((W - lr * grad) ** 2).sum()
        pythagoras = (W ** 2).sum() + lr ** 2 * (grad ** 2).sum()
    return after, pythagoras


@claim("grad-effective-step", chapter=COUPLING, layout="[B,T,F]",
       statement="For a linear layer followed by per-frame Layer Norm (ε = 0), scaling the "
                 "weights W by c = 2 divides the tangent of the angle one SGD step turns them "
                 "by c² = 4: the effective learning rate is η/‖W‖².",
       left="c² · tan θ(cW)", right="tan θ(W)")
def _():
    x, ybar = example("B T F")
    W = torch.from_numpy(np.random.default_rng(3).normal(size=(6, 6)))
    c = 2.0  # sgd_turn: tan of the angle between W and W - 0.5 * grad
    return np.float64(c**2 * sgd_turn(c * W, x, ybar)), np.float64(sgd_turn(W, x, ybar))


@claim("grad-bn-per-channel-scale-invariant", chapter=COUPLING, layout="[B,T,F]",
       statement="Batch Norm (ε = 0) is invariant to scaling the weights of ONE output "
                 "feature of the linear layer before it; so is Instance Norm.",
       left="BN, IN after W with row 0 scaled by 5", right="BN, IN after W")
def _():
    x, _ = example("B T F")
    W = torch.from_numpy(np.random.default_rng(3).normal(size=(6, 6)))
    W5 = W.clone()
    W5[0] *= 5  # the weights of output feature 0 only
    return [torch.cat([standardize(x @ w.T, "B T F", over=over, eps=0)
                       for over in ("B T", "T")])  # BN, IN
            for w in (W5, W)]


@claim("grad-ln-per-channel-scale-changes", chapter=COUPLING, layout="[B,T,F]", expect="differ",
       statement="Per-frame Layer Norm and GN(2) are not: their sets mix features, so scaling "
                 "one feature's weights changes their output (only a common scale of all of W "
                 "cancels).",
       left="LN, GN(2) after W with row 0 scaled by 5", right="LN, GN(2) after W")
def _():
    x, _ = example("B T F")
    W = torch.from_numpy(np.random.default_rng(3).normal(size=(6, 6)))
    W5 = W.clone()
    W5[0] *= 5
    return [torch.cat([standardize(x @ w.T, "B T F", over="F", eps=0),  # LN
                       standardize(x @ w.T, "B T (G Fg)", over="T Fg", G=2, eps=0)])  # GN
            for w in (W5, W)]


# --- masked sets ------------------------------------------------------------------------

@claim("grad-masked-padding-gets-zero", chapter=COUPLING, layout="[B,T,F]",
       statement="With masked statistics, the padded frames of a batch get exactly zero "
                 "gradient, for Batch Norm, per-frame Layer Norm, GN(2) and Instance Norm.",
       left="x̄ at padded frames (autograd)", right="0")
def _():
    xbar, mask = masked_grads(pad_value=0.0)  # [4 norms, B, T, F]; mask [B, T, 1]
    padded = xbar[:, ~mask[..., 0]]
    return padded, torch.zeros_like(padded)


@claim("grad-masked-real-unaffected", chapter=COUPLING, layout="[B,T,F]",
       statement="With masked statistics, the gradient at real frames does not depend on what "
                 "the padded frames hold (zeros or 1000s).",
       left="x̄ with padding 0", right="x̄ with padding 1000")
def _():
    zeros, _ = masked_grads(pad_value=0.0)
    large, _ = masked_grads(pad_value=1000.0)
    return zeros, large


@claim("grad-masked-formula", chapter=COUPLING, layout="[B,T,F]",
       statement="The closed form with means over the real entries of each set is the masked "
                 "gradient, for Batch Norm, per-frame Layer Norm, GN(2) and Instance Norm.",
       left="autograd through standardize(..., mask=mask)",
       right="standardize_grad(..., mask=mask)")
def _():
    by_autograd, mask = masked_grads(pad_value=0.0)  # [4 norms, B, T, F]
    x, ybar = example("B T F")
    x = torch.where(mask, x, torch.zeros_like(x))  # the same padded batch
    by_formula = [standardize_grad(x, ybar, spec.layout, spec.over, mask=mask, **G)
                  for spec, G, _, _ in cases() if spec.layout.startswith("B")]
    return by_autograd, torch.stack(by_formula)
