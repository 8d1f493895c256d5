"""normaxes on PyTorch's own test inputs, in float16, bfloat16, float32 and float64.

The OpInfo samples of ``layer_norm``, ``group_norm``, ``batch_norm`` and ``instance_norm``
(``torch.testing._internal.common_methods_invocations.op_db``) and the ModuleInfo samples of
``nn.BatchNorm1d`` (``common_modules.module_db``) are mapped to :func:`normaxes.standardize`,
:func:`normaxes.affine`, :func:`normaxes.running.running_update`, ``cumulative_standardize`` and
``MaskedBatchNorm1d``. Every result is compared with PyTorch's rule for an alternative
implementation (PyTorch's ``test/test_decomp.py``): in float16 and bfloat16 (``op_assert_ref``),
against the same computation in float64, the largest error of ours is no larger than the largest
error of PyTorch's own kernel in that dtype plus a small absolute slack; in float32 and float64
(``op_assert_equal``), ours is ``assert_close`` to PyTorch's output with the dtype's default
tolerances. Samples that normaxes refuses on purpose
(a negative ``eps`` or ``momentum``) must raise a ValueError that names the argument.

Gradients: ``gradcheck`` and ``gradgradcheck`` in float64, with and without masks, and with NaN
in the padding.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.testing._internal.common_methods_invocations import op_db
from torch.testing._internal.common_modules import module_db

from normaxes import affine, standardize
from normaxes.chapters.padding import MaskedBatchNorm1d
from normaxes.chapters.streaming import cumulative_standardize
from normaxes.running import running_update

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
# PyTorch's op_assert_ref allows 1e-5 for native_layer_norm and native_batch_norm in float16 and
# bfloat16 (its default is 1e-7).
SLACK = {torch.float16: 1e-5, torch.bfloat16: 1e-5}
# In float16 and bfloat16, standardize and affine are two steps, so the output is rounded twice
# (PyTorch's fused kernels round once): the documented precision difference (see standardize's
# docstring). Where a sample has an affine step, the slack grows by one unit in the last place
# of the largest output.
TWO_STEPS = {torch.float16: 2.0 ** -10, torch.bfloat16: 2.0 ** -7}
OPS = {"nn.functional.layer_norm", "nn.functional.group_norm", "nn.functional.batch_norm",
       "nn.functional.instance_norm"}


def _op(name):
    return next(o for o in op_db if o.name == name and o.variant_test_name == "")


def _f64(v):
    return v.detach().to(torch.float64, copy=True) if isinstance(v, torch.Tensor) else v


def _assert_ref(ours, orig, ref, dtype, what, two_steps=False):
    """PyTorch's rule for an alternative implementation (test_decomp.py): in float16 and bfloat16,
    ``op_assert_ref`` (ours as close to the float64 result as PyTorch's kernel is, plus a slack);
    in float32 and float64, ``op_assert_equal`` (``assert_close`` to PyTorch's own output with
    the default tolerances of the dtype)."""
    assert ours.dtype == orig.dtype == dtype, (what, ours.dtype, orig.dtype)
    assert ours.shape == orig.shape, (what, ours.shape, orig.shape)
    if orig.numel() == 0:
        return
    if dtype not in TWO_STEPS:
        torch.testing.assert_close(ours, orig, msg=lambda m: f"{what}: {m}")
        return
    ref = ref.to(torch.float64)
    orig_diff = (orig.to(torch.float64) - ref).abs().max().item()
    ours_diff = (ours.to(torch.float64) - ref).abs().max().item()
    slack = SLACK[dtype]
    if two_steps and dtype in TWO_STEPS:
        slack += TWO_STEPS[dtype] * ref.abs().max().item()
    assert ours_diff <= orig_diff + slack, (what, dtype, ours_diff, orig_diff, slack)


def _names(ndim):
    return [f"d{i}" for i in range(ndim)]


def _samples(name, dtype):
    return list(_op(name).sample_inputs("cpu", dtype, requires_grad=False))


def _refuses(word, fn, *args, **kwargs):
    with pytest.raises(ValueError, match=word):
        fn(*args, **kwargs)


# --- layer_norm -----------------------------------------------------------------------------------

def _layer_norm(x, shape, weight, bias, eps):
    names = _names(x.ndim)
    layout, over = " ".join(names), names[x.ndim - len(shape):]
    y = standardize(x, layout, over, eps=eps)
    if weight is None and bias is None:
        return y
    return affine(y, layout, over, weight, bias)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_layer_norm_samples(dtype):
    n = 0
    for s in _samples("nn.functional.layer_norm", dtype):
        shape = s.args[0]
        weight = s.args[1] if len(s.args) > 1 else s.kwargs.get("weight")
        bias = s.args[2] if len(s.args) > 2 else s.kwargs.get("bias")
        eps = s.kwargs.get("eps", 1e-5)
        if eps < 0:  # PyTorch's sample takes a negative eps; normaxes refuses it
            _refuses("eps", _layer_norm, s.input, shape, weight, bias, eps)
            continue
        orig = F.layer_norm(s.input, shape, weight, bias, eps)
        ref = F.layer_norm(_f64(s.input), shape, _f64(weight), _f64(bias), eps)
        ours = _layer_norm(s.input, shape, weight, bias, eps)
        _assert_ref(ours, orig, ref, dtype, f"layer_norm {tuple(s.input.shape)} {shape}",
                    two_steps=weight is not None)
        n += 1
    assert n >= 3


# --- group_norm and the cumulative norm -----------------------------------------------------------

def _group_layout(x):
    spatial = _names(x.ndim)[2:]
    return "N (G Cg) " + " ".join(spatial), ["Cg"] + spatial, spatial


def _group_norm(x, G, weight, bias, eps):
    layout, over, _ = _group_layout(x)
    y = standardize(x, layout, over, eps=eps, G=G)
    if weight is None and bias is None:
        return y
    return affine(y, layout, "G Cg", weight, bias, G=G)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_group_norm_samples(dtype):
    n = 0
    for s in _samples("nn.functional.group_norm", dtype):
        G = s.args[0]
        weight, bias, eps = s.kwargs.get("weight"), s.kwargs.get("bias"), s.kwargs.get("eps", 1e-5)
        if eps < 0:
            _refuses("eps", _group_norm, s.input, G, weight, bias, eps)
            continue
        orig = F.group_norm(s.input, G, weight, bias, eps)
        ref = F.group_norm(_f64(s.input), G, _f64(weight), _f64(bias), eps)
        ours = _group_norm(s.input, G, weight, bias, eps)
        _assert_ref(ours, orig, ref, dtype, f"group_norm {tuple(s.input.shape)} G={G}",
                    two_steps=weight is not None)
        n += 1
    assert n >= 4


@pytest.mark.parametrize("accumulate", ["naive", "shifted", "float64"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_cumulative_norm_at_the_last_step_is_group_norm(dtype, accumulate):
    """cumulative_standardize along the spatial axes, at the last position (in raster order),
    has seen the whole set: it is Group Norm there."""
    n = 0
    for s in _samples("nn.functional.group_norm", dtype):
        x, G, eps = s.input, s.args[0], s.kwargs.get("eps", 1e-5)
        if x.ndim < 3:
            continue
        layout, over, spatial = _group_layout(x)
        if eps < 0:
            _refuses("eps", cumulative_standardize, x, layout, over, spatial, eps=eps,
                     accumulate=accumulate, G=G)
            continue
        last = (Ellipsis,) + (-1,) * len(spatial)
        ours = cumulative_standardize(x, layout, over, spatial, eps=eps, accumulate=accumulate,
                                      G=G)
        orig, ref = F.group_norm(x, G, eps=eps), F.group_norm(_f64(x), G, eps=eps)
        _assert_ref(ours[last], orig[last], ref[last], dtype,
                    f"cumulative {tuple(x.shape)} G={G} {accumulate}")
        n += 1
    assert n >= 1


# --- batch_norm and the running statistics --------------------------------------------------------

def _bn_args(s):
    args = list(s.args) + [None] * (4 - len(s.args))
    rm, rv, weight, bias = args[:4]
    kw = s.kwargs
    return (rm, rv, kw.get("weight", weight), kw.get("bias", bias), kw.get("training", False),
            kw.get("momentum", 0.1), kw.get("eps", 1e-5))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_batch_norm_samples(dtype):
    n = 0
    for s in _samples("nn.functional.batch_norm", dtype):
        x = s.input
        rm, rv, weight, bias, training, momentum, eps = _bn_args(s)
        if x.ndim < 2:  # (0,): no channel axis; PyTorch returns the empty input
            assert F.batch_norm(x, rm, rv, weight, bias, training, momentum, eps).numel() == 0
            continue
        names = _names(x.ndim)
        layout = " ".join(names)
        over = [names[0]] + names[2:]
        what = f"batch_norm {tuple(x.shape)} training={training}"
        if not training:
            # eval mode is an affine step with the running statistics: a bias without a weight
            # (-mean), then the scale 1/sqrt(var + eps), then the layer's own weight and bias
            orig = F.batch_norm(x, rm, rv, weight, bias, False, momentum, eps)
            ref = F.batch_norm(_f64(x), _f64(rm), _f64(rv), _f64(weight), _f64(bias), False,
                               momentum, eps)
            centred = affine(x, layout, names[1], bias=-rm)
            ours = affine(centred, layout, names[1], torch.rsqrt(rv + eps))
            if weight is not None or bias is not None:
                ours = affine(ours, layout, names[1], weight, bias)
            _assert_ref(ours, orig, ref, dtype, what, two_steps=True)
            n += 1
            continue
        if eps < 0:
            _refuses("eps", standardize, x, layout, over, eps=eps)
        else:
            rm_t = None if rm is None else rm.clone()
            rv_t = None if rv is None else rv.clone()
            orig = F.batch_norm(x, rm_t, rv_t, weight, bias, True, momentum, eps)
            ref = F.batch_norm(_f64(x), _f64(rm), _f64(rv), _f64(weight), _f64(bias), True,
                               momentum, eps)
            ours = standardize(x, layout, over, eps=eps)
            if weight is not None or bias is not None:
                ours = affine(ours, layout, names[1], weight, bias)
            _assert_ref(ours, orig, ref, dtype, what, two_steps=weight is not None)
            n += 1
        if rm is None:
            continue
        if not 0 <= momentum <= 1:  # PyTorch's samples take momentum -1.0; normaxes refuses it
            _refuses("momentum", running_update, rm, rv, x, layout, over, momentum=momentum)
            continue
        rm_t, rv_t = rm.clone(), rv.clone()
        F.batch_norm(x, rm_t, rv_t, None, None, True, momentum, 1.0)
        rm_64, rv_64 = _f64(rm), _f64(rv)
        F.batch_norm(_f64(x), rm_64, rv_64, None, None, True, momentum, 1.0)
        new_mean, new_var = running_update(rm, rv, x, layout, over, momentum=momentum)
        _assert_ref(new_mean, rm_t, rm_64, dtype, what + " running_mean")
        _assert_ref(new_var, rv_t, rv_64, dtype, what + " running_var")
    assert n >= 5


# --- instance_norm --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_instance_norm_samples(dtype):
    """The output only: instance_norm's running statistics average per-instance statistics over
    the batch, which is not Batch Norm's running update (running_update does not model it)."""
    n = 0
    for s in _samples("nn.functional.instance_norm", dtype):
        x, kw = s.input, dict(s.kwargs)
        if not kw.get("use_input_stats", True):
            continue
        weight, bias, eps = kw.get("weight"), kw.get("bias"), kw.get("eps", 1e-5)
        names = _names(x.ndim)
        layout, over = " ".join(names), names[2:]
        orig = F.instance_norm(x, weight=weight, bias=bias, eps=eps)
        ref = F.instance_norm(_f64(x), weight=_f64(weight), bias=_f64(bias), eps=eps)
        ours = standardize(x, layout, over, eps=eps)
        if weight is not None or bias is not None:
            ours = affine(ours, layout, names[1], weight, bias)
        _assert_ref(ours, orig, ref, dtype, f"instance_norm {tuple(x.shape)}",
                    two_steps=weight is not None)
        n += 1
    assert n >= 5


# --- MaskedBatchNorm1d on nn.BatchNorm1d's ModuleInfo samples -------------------------------------

def _as_sequence(x):
    """nn.BatchNorm1d's [N, C] or [N, C, L] as MaskedBatchNorm1d's [B, T, F]."""
    return x[:, None, :] if x.ndim == 2 else x.transpose(1, 2)


def _from_sequence(y, ndim):
    return y[:, 0, :] if ndim == 2 else y.transpose(1, 2)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_masked_batchnorm1d_module_samples(dtype):
    info = next(m for m in module_db if m.module_cls is torch.nn.BatchNorm1d)
    n = 0
    for s in info.module_inputs_func(info, device="cpu", dtype=dtype, requires_grad=False,
                                     training=True):
        ca, x = s.constructor_input, s.forward_input.args[0]
        torch.manual_seed(0)
        theirs = torch.nn.BatchNorm1d(*ca.args, **ca.kwargs)
        with torch.no_grad():
            for p in theirs.parameters():
                p.uniform_(0.5, 1.5)
        ours = MaskedBatchNorm1d(*ca.args, **ca.kwargs)
        ours.load_state_dict(theirs.state_dict())
        ref = torch.nn.BatchNorm1d(*ca.args, **ca.kwargs)
        ref.load_state_dict(theirs.state_dict())
        theirs, ours, ref = theirs.to(dtype), ours.to(dtype), ref.double()
        for mode in ("train", "eval"):
            for module in (theirs, ours, ref):
                module.train(mode == "train")
            orig, want = theirs(x), ref(_f64(x))
            got = _from_sequence(ours(_as_sequence(x)), x.ndim)
            what = f"BatchNorm1d{ca.args} {s.desc} {mode}"
            _assert_ref(got, orig, want, dtype, what, two_steps=ours.weight is not None)
            if ours.track_running_stats:
                _assert_ref(ours.running_mean, theirs.running_mean, ref.running_mean, dtype,
                            what + " running_mean")
                _assert_ref(ours.running_var, theirs.running_var, ref.running_var, dtype,
                            what + " running_var")
                assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked)
            n += 1
    assert n >= 14


# --- gradients in float64 -------------------------------------------------------------------------

CASES = [("B T F", "F", {}), ("B T (G Fg)", "T Fg", {"G": 2}), ("B T F", "B T", {}),
         ("B T F", "T", {})]


def _padded(seed=0, fill=None):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(3, 5, 4, dtype=torch.float64, generator=g)
    mask = torch.arange(5)[None, :, None] < torch.tensor([5, 3, 2])[:, None, None]
    if fill is not None:
        x = x.masked_fill(~mask, fill)
    return x.requires_grad_(), mask


@pytest.mark.parametrize("layout, over, sizes", CASES)
def test_gradcheck_and_gradgradcheck(layout, over, sizes):
    x, mask = _padded()

    def f(v):
        return standardize(v, layout, over, **sizes)

    def fm(v):
        return standardize(v, layout, over, mask=mask, **sizes)

    for fn in (f, fm):
        assert torch.autograd.gradcheck(fn, (x,))
        assert torch.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("fill", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("layout, over, sizes", CASES)
def test_non_finite_padding_reaches_no_gradient(layout, over, sizes, fill):
    x, mask = _padded(1, fill)
    clean, _ = _padded(1, 0.0)

    def fm(v):
        return standardize(v, layout, over, mask=mask, **sizes)

    w = torch.randn(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    (fm(x) * w).sum().backward()
    (fm(clean) * w).sum().backward()
    assert torch.isfinite(x.grad).all()
    torch.testing.assert_close(x.grad, clean.grad, rtol=0, atol=0)
    assert (x.grad[~mask.expand_as(x)] == 0).all()
    # gradcheck holds with the non-finite padding in place (its perturbations change nothing)
    assert torch.autograd.gradcheck(fm, (x.detach().requires_grad_(),))


def test_empty_set_with_eps_zero_has_zero_output_and_finite_gradients():
    x, mask = _padded(2)
    mask = mask.clone()
    mask[2] = False  # sequence 2 has no real frame: its statistics set (over T F) is empty
    y = standardize(x, "B T F", "T F", eps=0.0, mask=mask)
    assert (y[2] == 0).all()
    (y * torch.randn_like(y)).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad[2] == 0).all()
    assert torch.autograd.gradcheck(lambda v: standardize(v, "B T F", "T F", eps=0.0, mask=mask),
                                    (x.detach().requires_grad_(),))


def test_masked_batchnorm1d_gradcheck_with_nan_padding():
    x, mask = _padded(3, float("nan"))
    bn = MaskedBatchNorm1d(4).double()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5), bn.bias.uniform_(-1, 1)

    def f(v, w, b):
        bn.weight.data, bn.bias.data = w.detach(), b.detach()
        return torch.func.functional_call(bn, {"weight": w, "bias": b}, (v, mask))

    args = (x.detach().requires_grad_(), bn.weight.detach().clone().requires_grad_(),
            bn.bias.detach().clone().requires_grad_())
    assert torch.autograd.gradcheck(f, args)
    assert torch.autograd.gradgradcheck(f, args)
    y = bn(x, mask)
    y.sum().backward()
    assert torch.isfinite(bn.weight.grad).all() and torch.isfinite(bn.bias.grad).all()
    assert torch.isfinite(x.grad).all()


def test_numpy_and_torch_agree_in_every_dtype():
    """The NumPy path follows the same rules (float16 is accumulated in float32)."""
    g = torch.Generator().manual_seed(4)
    x = 20 + torch.randn(2, 4, 64, generator=g)
    for dtype, ndt in ((torch.float16, np.float16), (torch.float32, np.float32),
                       (torch.float64, np.float64)):
        a = standardize(x.to(dtype), "B T F", "F")
        b = standardize(x.numpy().astype(ndt), "B T F", "F")
        assert b.dtype == ndt
        torch.testing.assert_close(a, torch.from_numpy(b))  # the dtype's default tolerances
