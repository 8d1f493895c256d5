"""normaxes.chapters.frameworks: reading the reduced axes and the running-statistics rule off a
layer."""

import numpy as np
import pytest
import torch

from normaxes import NORMS, data, standardize
from normaxes.chapters.frameworks import (
    apply_in,
    attempt,
    axis_subsets,
    defaults,
    find_over,
    permute,
    read_over,
    running_rule,
)
from normaxes.running import running_update

X = data.sequence(B=3, T=5, F=8, seed=0)  # [B, T, F]
IMG = data.images(N=2, C=6, H=4, W=3, seed=0)  # [N, C, H, W]


def test_axis_subsets_lists_every_nonempty_set_once():
    subsets = axis_subsets("B T F")
    assert subsets == ["B", "T", "F", "B T", "B F", "T F", "B T F"]
    assert len(axis_subsets("N (G Cg) H W")) == 2 ** 5 - 1


@pytest.mark.parametrize("layout, x", [("B T F", X), ("N C H W", IMG)])
@pytest.mark.parametrize("short", ["BN", "LN", "GN", "IN"])
def test_find_over_recovers_every_norm_of_the_book(layout, x, short):
    spec = NORMS[layout][short]
    sizes = {spec.group_axis: 2} if spec.group_axis else {}
    y = spec(x, eps=1e-3, **sizes)
    assert find_over(y, x, spec.layout, eps=1e-3, **sizes) == spec.over


def test_find_over_recovers_torch_layers_on_a_transposed_probe():
    with torch.no_grad():
        x = torch.from_numpy(X)
        y = apply_in(torch.nn.BatchNorm1d(8), x, "B T F", "B F T")
        assert find_over(y, x, "B T F", eps=1e-5) == "B T"
        y = apply_in(torch.nn.GroupNorm(4, 8), x, "B T F", "B F T")
        assert find_over(y, x, "B T (G Fg)", eps=1e-5, G=4) == "T Fg"
        gn = torch.nn.GroupNorm(4, 8)
        assert read_over(gn, x, "B T (G Fg)", "B (G Fg) T", eps=gn.eps, G=4) == "T Fg"
        assert read_over(torch.nn.InstanceNorm1d(8), x, "B T F", "B F T", eps=1e-5) == "T"


def test_find_over_returns_none_when_no_set_fits():
    y = standardize(X, "B T F", over="F") * 2.0  # not a standardization
    assert find_over(y, X, "B T F", eps=1e-5) is None
    # the right axes with the wrong eps do not fit either: eps matters on quiet frames
    y = standardize(X, "B T F", over="F", eps=1e-1)
    assert find_over(y, X, "B T F", eps=1e-5) is None


def test_find_over_refuses_bad_probes():
    with pytest.raises(ValueError,
                       match=r"y has shape \(3, 5, 8\), but the probe x has shape \(3, 5, 4\)"):
        find_over(X, X[..., :4], "B T F", eps=1e-5)
    x1 = X[:, :1]  # T = 1: over "F" and over "T F" cannot be told apart
    with pytest.raises(ValueError, match="axis 'T' of the probe has size 1"):
        find_over(standardize(x1, "B T F", over="F"), x1, "B T F", eps=1e-5)
    flat = np.broadcast_to(X[:1], X.shape).copy()  # the same values in every sequence
    with pytest.raises(ValueError, match="ambiguous"):
        find_over(standardize(flat, "B T F", over="T F"), flat, "B T F", eps=1e-5)


def test_permute_moves_axes_by_name_on_numpy_and_torch():
    assert permute(X, "B T F", "B F T").shape == (3, 8, 5)
    assert tuple(permute(torch.from_numpy(IMG), "N C H W", "N H W C").shape) == (2, 4, 3, 6)
    np.testing.assert_array_equal(permute(permute(X, "B T F", "F B T"), "F B T", "B T F"), X)
    np.testing.assert_array_equal(permute(X, "B T (G Fg)", "B (G Fg) T"), X.transpose(0, 2, 1))


@pytest.mark.parametrize("call, words", [
    (lambda: permute(X, "B T F", "B F C"), ["do not name the same dimensions"]),
    (lambda: permute(X, "B T (G Fg)", "B T G Fg"), ["do not name the same dimensions"]),
    (lambda: permute(X, "B T (G Fg)", "B (Fg G) T"), ["do not name the same dimensions"]),
    (lambda: permute(X, "N C H W", "N H W C"), ["4 dimensions", "x has 3"]),
    (lambda: defaults(torch.nn.GroupNorm, "groups"), ["no parameter 'groups'", "num_groups"]),
    (lambda: running_rule((0, 1), (0, 1), X, "B T F", "B T", momentum=1.5), ["momentum", "1.5"]),
    (lambda: running_rule((np.zeros(8), np.ones(8)), (np.zeros(5), np.ones(8)), X, "B T F", "B T",
                          momentum=0.1), ["differ in shape"]),
])
def test_bad_input_names_the_fault(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value)


def test_defaults_reads_the_signature():
    d = defaults(torch.nn.GroupNorm, "num_groups", "eps", "affine")
    assert d == {"num_groups": "required", "eps": 1e-5, "affine": True}


@pytest.mark.parametrize("convention, momentum, rule", [
    ("torch", 0.1, ("new", "unbiased")), ("keras", 0.99, ("old", "biased")),
    ("torch", 0.3, ("new", "unbiased")), ("keras", 0.3, ("old", "biased"))])
def test_running_rule_recovers_both_conventions(convention, momentum, rule):
    before = (np.full(8, 0.5), np.full(8, 2.0))
    after = running_update(*before, X, "B T F", "B T", momentum=momentum, convention=convention)
    assert running_rule(before, after, X, "B T F", "B T", momentum=momentum) == rule


def test_running_rule_returns_none_for_another_rule():
    before = (np.zeros(8), np.ones(8))
    after = (np.zeros(8), np.ones(8))  # nothing moved
    assert running_rule(before, after, X, "B T F", "B T", momentum=0.1) is None


def test_attempt_reports_the_axes_the_error_and_the_warnings():
    x = torch.from_numpy(X)  # [B, T, F] = [3, 5, 8], given untransposed
    with torch.no_grad():
        ran = attempt(torch.nn.InstanceNorm1d(8), x, "B T F", eps=1e-5)
        failed = attempt(torch.nn.BatchNorm1d(8), x, "B T F", eps=1e-5)
        fits_nothing = attempt(lambda v: 2 * v, x, "B T F", eps=1e-5)
    assert ran.over == "F" and ran.error is None
    assert len(ran.warnings) == 1 and "num_features" in ran.warnings[0]
    assert str(ran).startswith("runs; reduces over F of B T F; warns: UserWarning")
    assert failed.over is None and failed.error.startswith("RuntimeError: running_mean")
    assert str(failed).startswith("fails: RuntimeError")
    assert fits_nothing.over is None and fits_nothing.error is None
    assert "no set of axes" in str(fits_nothing)


# find_over against answers written out by hand (not read from NORMS): the axes each PyTorch
# layer pools, read off the layer itself.
@pytest.mark.parametrize("layer, layout, sizes, expected", [
    (torch.nn.BatchNorm1d(8), "B T F", {}, "B T"),
    (torch.nn.InstanceNorm1d(8), "B T F", {}, "T"),
    (torch.nn.GroupNorm(4, 8), "B T (G Fg)", {"G": 4}, "T Fg"),
    (torch.nn.GroupNorm(1, 8), "B T F", {}, "T F"),
])
def test_find_over_of_torch_sequence_layers_written_out(layer, layout, sizes, expected):
    x = torch.from_numpy(X)
    with torch.no_grad():
        y = layer(x.transpose(1, 2)).transpose(1, 2)
    assert find_over(y, x, layout, eps=1e-5, **sizes) == expected


def test_find_over_of_torch_layer_norm_written_out():
    x = torch.from_numpy(X)
    with torch.no_grad():
        assert find_over(torch.nn.LayerNorm(8)(x), x, "B T F", eps=1e-5) == "F"
        assert find_over(torch.nn.LayerNorm([5, 8])(x), x, "B T F", eps=1e-5) == "T F"


# --- fit_line: how a candidate set of axes prints -------------------------------------------

from normaxes.chapters.frameworks import fit_line  # noqa: E402


@pytest.mark.parametrize("diff, text", [
    (0.0, "equal, max|Δ| ≤ 1e-4"),
    (1e-4, "equal, max|Δ| ≤ 1e-4"),  # the tolerance itself still fits, as in find_over
    (3.5123, "differs, max|Δ| = 3.5"),
    (2.43, "differs, max|Δ| = 2.4"),
    (12.3, "differs, max|Δ| = 12"),
    (0.000761, "differs, max|Δ| = 0.00076"),
])
def test_fit_line_says_equal_or_differs_and_the_measured_value(diff, text):
    assert fit_line(diff) == text


def test_fit_line_agrees_with_find_over_at_its_tolerance():
    assert fit_line(1.5e-4).startswith("differs")  # find_over refuses it too (tol 1e-4)
    assert fit_line(1.5e-4, tol=1e-3) == "equal, max|Δ| ≤ 1e-3"


@pytest.mark.parametrize("diff", [3.45, 3.4500001, 0.125, 12.5])
def test_fit_line_refuses_a_value_on_a_rounding_edge(diff):
    # 3.45 prints 3.5 or 3.4 depending on the last bit: another CPU path could print the other
    with pytest.raises(ValueError, match="rounding edge"):
        fit_line(diff)


@pytest.mark.parametrize("diff", [float("nan"), float("inf"), -1.0])
def test_fit_line_refuses_what_is_not_a_difference(diff):
    with pytest.raises(ValueError, match="finite number >= 0"):
        fit_line(diff)
