"""normaxes.core: standardize against PyTorch's functional norms, masks, statistics sets, and
errors that name the axis, size or argument at fault."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from normaxes import NORMS, moments, shared_with, standardize, stat_groups
from normaxes.data import length_mask

TOL = {np.float32: 2e-4, np.float64: 1e-9}


def _input(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.2, 5.0)
    offset = rng.uniform(-5.0, 5.0)
    return (offset + scale * rng.normal(size=shape)).astype(dtype)


def _ours(x, kind, *args, **kw):
    xin = torch.from_numpy(x) if kind == "torch" else x
    y = standardize(xin, *args, **kw)
    assert type(y) is type(xin) and tuple(y.shape) == x.shape and y.dtype == xin.dtype
    return y.numpy() if kind == "torch" else y


def _close(ours, ref, dtype):
    ref = ref.numpy() if isinstance(ref, torch.Tensor) else ref
    np.testing.assert_allclose(ours, ref, rtol=0, atol=TOL[dtype])


kinds = st.sampled_from(["numpy", "torch"])
dtypes = st.sampled_from([np.float32, np.float64])
seeds = st.integers(0, 2**31 - 1)


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(2, 7), G=st.integers(1, 4), Fg=st.integers(1, 3),
       kind=kinds, dtype=dtypes, seed=seeds)
def test_sequence_norms_match_pytorch(B, T, G, Fg, kind, dtype, seed):
    Fdim = G * Fg
    x = _input(seed, (B, T, Fdim), dtype)
    xt = torch.from_numpy(x)
    _close(_ours(x, kind, "B T F", over="F"), F.layer_norm(xt, (Fdim,)), dtype)
    _close(_ours(x, kind, "B T (G Fg)", over="T Fg", G=G),
           F.group_norm(xt.transpose(1, 2), G).transpose(1, 2), dtype)
    _close(_ours(x, kind, "B T F", over="T"), F.instance_norm(xt.transpose(1, 2)).transpose(1, 2),
           dtype)
    _close(_ours(x, kind, "B T F", over="B T"),
           F.batch_norm(xt.transpose(1, 2), None, None, training=True).transpose(1, 2), dtype)


@settings(max_examples=40, deadline=None)
@given(N=st.integers(1, 3), G=st.integers(1, 3), Cg=st.integers(1, 3), H=st.integers(1, 4),
       W=st.integers(2, 4), kind=kinds, dtype=dtypes, seed=seeds)
def test_image_norms_match_pytorch(N, G, Cg, H, W, kind, dtype, seed):
    C = G * Cg
    x = _input(seed, (N, C, H, W), dtype)
    xt = torch.from_numpy(x)
    _close(_ours(x, kind, "N C H W", over="C H W"), F.layer_norm(xt, (C, H, W)), dtype)
    _close(_ours(x, kind, "N (G Cg) H W", over="Cg H W", G=G), F.group_norm(xt, G), dtype)
    _close(_ours(x, kind, "N C H W", over="H W"), F.instance_norm(xt), dtype)
    _close(_ours(x, kind, "N C H W", over="N H W"),
           F.batch_norm(xt, None, None, training=True), dtype)
    # channels last reads the same data with another layout string
    xl = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    _close(_ours(xl, kind, "N H W (G Cg)", over="H W Cg", G=G).transpose(0, 3, 1, 2),
           F.group_norm(xt, G), dtype)


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 6), Fdim=st.integers(1, 5), dtype=dtypes, seed=seeds)
def test_numpy_and_torch_paths_agree(B, T, Fdim, dtype, seed):
    x = _input(seed, (B, T, Fdim), dtype)
    rng = np.random.default_rng(seed)
    mask = rng.random((B, T, 1)) < 0.7
    for over in ("F", "T", "B T", "T F", "B T F"):
        a = standardize(x, "B T F", over=over, mask=mask)
        b = standardize(torch.from_numpy(x), "B T F", over=over, mask=torch.from_numpy(mask))
        np.testing.assert_allclose(a, b.numpy(), rtol=0, atol=TOL[dtype])


def test_eps_is_added_to_the_biased_variance():
    x = np.array([[0.0, 2.0]])  # mean 1, biased variance 1
    y = standardize(x, "B F", over="F", eps=3.0)
    np.testing.assert_allclose(y, [[-0.5, 0.5]])


def test_group_size_may_be_given_as_inner_size():
    x = _input(0, (2, 5, 6), np.float64)
    np.testing.assert_array_equal(standardize(x, "B T (G Fg)", over="T Fg", G=3),
                                  standardize(x, "B T (G Fg)", over="T Fg", Fg=2))


def test_float16_and_device_kept():
    x = torch.randn(2, 3, 4, dtype=torch.float16, generator=torch.Generator().manual_seed(0))
    y = standardize(x, "B T F", over="F")
    assert y.dtype == torch.float16 and y.device == x.device



# --- masks: statistics over real entries only; padding content never matters

OVERS = ["F", "T", "B T", "T F", "B T F"]


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(1, 8), Fdim=st.integers(1, 4),
       seed=st.integers(0, 2**31 - 1), torch_path=st.booleans(), over=st.sampled_from(OVERS))
def test_padding_content_never_changes_the_result(B, T, Fdim, seed, torch_path, over):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, T + 1, size=B)
    mask = length_mask(lengths, T)
    x = rng.normal(size=(B, T, Fdim))
    x2 = np.where(mask, x, rng.normal(50, 30, size=x.shape))  # other padding content
    x3 = np.where(mask, x, np.inf)  # even non-finite padding
    conv = (lambda a: torch.from_numpy(a)) if torch_path else (lambda a: a)
    out = [np.asarray(standardize(conv(v), "B T F", over=over, mask=conv(mask)))
           for v in (x, x2, x3)]
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])
    assert np.isfinite(out[0]).all()
    assert (out[0][~np.broadcast_to(mask, x.shape)] == 0).all()


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(2, 8), Fdim=st.integers(1, 4),
       seed=st.integers(0, 2**31 - 1), over=st.sampled_from(["F", "T", "T F"]))
def test_masked_equals_each_sequence_alone(B, T, Fdim, seed, over):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, T + 1, size=B)
    x = rng.normal(size=(B, T, Fdim))
    y = standardize(x, "B T F", over=over, mask=length_mask(lengths, T))
    for b, n in enumerate(lengths):
        alone = standardize(x[b:b + 1, :n], "B T F", over=over)
        np.testing.assert_allclose(y[b:b + 1, :n], alone, rtol=0, atol=1e-12)


def test_empty_group_gives_zeros_not_nan():
    x = np.ones((2, 3, 4))
    mask = length_mask([0, 2], 3)
    y = standardize(x, "B T F", over="T F", mask=mask)
    assert np.isfinite(y).all()
    assert (y[0] == 0).all()


def test_mask_on_features_and_full_mask():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4))
    full = np.ones_like(x, dtype=bool)
    np.testing.assert_allclose(standardize(x, "B T F", over="T", mask=full),
                               standardize(x, "B T F", over="T"), atol=1e-12)
    fmask = np.array([True, True, False, True])[None, None, :]  # x's rank, size 1 where it
    # broadcasts (a mask of another rank is refused: see test_mask_of_another_rank_is_refused)
    y = standardize(x, "B T F", over="F", mask=fmask)
    assert (y[..., 2] == 0).all()
    np.testing.assert_allclose(y[..., [0, 1, 3]],
                               standardize(x[..., [0, 1, 3]], "B T F", over="F"), atol=1e-12)



# --- bad input raises ValueError naming the axis, size or argument at fault

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
    (lambda: standardize(x, "B T (G Fg)", over="T Fg", G=3), ["G=3", "size 8", "does not divide"]),
    (lambda: standardize(x, "B T (G Fg)", over="T Fg", Fg=5),
     ["Fg=5", "size 8", "does not divide"]),
    # a missing group size: the axis named
    (lambda: standardize(x, "B T (G Fg)", over="T Fg"),
     ["missing size for", "'G'", "'Fg'", "G=..."]),
    (lambda: standardize(x, "B T (G Fg)", over="T Fg", G=2, Fg=2), ["G=2 * Fg=2", "size 8"]),
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
    (lambda: standardize(x, "B T (G Fg)", over="Fg", G=0), ["G=0", "positive integer"]),
    (lambda: standardize(x, "B T (G F", over="F", G=2), ["never closed"]),
    (lambda: standardize(x, "B T G F)", over="F"), ["without a matching"]),
    (lambda: standardize(x, "B T (F)", over="F"), ["at least two named axes"]),
    (lambda: standardize(x, "B T ((G Fg))", over="Fg"), ["nested"]),
    (lambda: standardize(x, "", over="F"), ["layout must be a non-empty string"]),
    (lambda: standardize(x.astype(int), "B T F", over="F"), ["floating-point", "int"]),
    (lambda: standardize([1.0, 2.0], "F", over="F"), ["NumPy array or a torch tensor", "list"]),
    (lambda: standardize(x, "B T F", over="F", eps=-1), ["eps", "-1"]),
])
def test_bad_input_names_the_fault(call, words):
    with pytest.raises(ValueError) as err:
        call()
    msg = str(err.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"



# --- statistics sets

def test_stat_groups_count_and_size():
    shape = (2, 5, 6)
    cases = {"BN": (6, 10), "LN": (10, 6), "GN": (4, 15), "IN": (12, 5)}  # (groups, group size)
    for short, (n_groups, size) in cases.items():
        spec = NORMS["B T F"][short]
        sizes = {"G": 2} if spec.group_axis else {}
        labels = stat_groups(spec.layout, spec.over, shape, **sizes)
        counts = np.bincount(labels.ravel())
        assert len(counts) == n_groups and (counts == size).all(), short


def test_stat_groups_agree_with_standardize():
    # positions with the same label are standardized together: perturbing one group's inputs
    # changes exactly that group's outputs
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6, 2, 2))
    for short, spec in NORMS["N C H W"].items():
        sizes = {"G": 3} if spec.group_axis else {}
        labels = stat_groups(spec.layout, spec.over, x.shape, **sizes)
        y = standardize(x, spec.layout, spec.over, eps=0.0, **sizes)
        x2 = x.copy()
        x2[labels == 0] *= 3.0
        x2[labels == 0] += 1.0
        y2 = standardize(x2, spec.layout, spec.over, eps=0.0, **sizes)
        changed = ~np.isclose(y, y2)
        assert not changed[labels != 0].any(), short
        # eps=0: scale-invariant
        np.testing.assert_allclose(y[labels == 0], y2[labels == 0], atol=1e-9)


def test_shared_with_known_sets():
    shape = (2, 3, 4)  # B T F
    s = shared_with("B T F", "B T", shape)  # BN: feature 0 across batch and time
    assert s[:, :, 0].all() and not s[:, :, 1:].any()
    s = shared_with("B T F", "F", shape, index=(1, 2, 3))  # LN: one frame
    assert s[1, 2].all() and s.sum() == 4
    s = shared_with("B T (G Fg)", "T Fg", shape, index=(0, 0, 3), G=2)  # GN: 2nd group, sequence 0
    assert s[0, :, 2:].all() and s.sum() == 6
    with pytest.raises(ValueError, match="index"):
        shared_with("B T F", "F", shape, index=(0, 0))


# The book's answer table, NORMS, against answers written out by hand (not read from NORMS), on
# tensors small enough to read: which positions share statistics under each norm.
WRITTEN_OUT = {
    # [B, T, F] = [2, 3, 2]: entry labels in the order x[b, t, f]
    ("B T F", "BN"): ((2, 3, 2), {}, [[[0, 1], [0, 1], [0, 1]], [[0, 1], [0, 1], [0, 1]]]),
    ("B T F", "LN"): ((2, 3, 2), {}, [[[0, 0], [1, 1], [2, 2]], [[3, 3], [4, 4], [5, 5]]]),
    ("B T F", "IN"): ((2, 3, 2), {}, [[[0, 1], [0, 1], [0, 1]], [[2, 3], [2, 3], [2, 3]]]),
    # [B, T, F] = [1, 2, 4] with G = 2: features 0, 1 form group 0 and 2, 3 group 1 (contiguous)
    ("B T F", "GN"): ((1, 2, 4), {"G": 2}, [[[0, 0, 1, 1], [0, 0, 1, 1]]]),
    # [N, C, H, W] = [2, 2, 1, 2]
    ("N C H W", "BN"): ((2, 2, 1, 2), {}, [[[[0, 0]], [[1, 1]]], [[[0, 0]], [[1, 1]]]]),
    ("N C H W", "LN"): ((2, 2, 1, 2), {}, [[[[0, 0]], [[0, 0]]], [[[1, 1]], [[1, 1]]]]),
    ("N C H W", "IN"): ((2, 2, 1, 2), {}, [[[[0, 0]], [[1, 1]]], [[[2, 2]], [[3, 3]]]]),
    # [N, C, H, W] = [1, 4, 1, 2] with G = 2: channels 0, 1 form group 0 and 2, 3 group 1
    ("N C H W", "GN"): ((1, 4, 1, 2), {"G": 2}, [[[[0, 0]], [[0, 0]], [[1, 1]], [[1, 1]]]]),
}


@pytest.mark.parametrize("layout, short", sorted(WRITTEN_OUT))
def test_norms_table_matches_sets_written_out_by_hand(layout, short):
    shape, sizes, expected = WRITTEN_OUT[(layout, short)]
    spec = NORMS[layout][short]
    labels = stat_groups(spec.layout, spec.over, shape, **sizes)
    np.testing.assert_array_equal(labels, np.array(expected))


# --- large tensors: standardize in slices of the first dimension (issue 18) ---------------------

SLICED = [  # (shape, layout, over, sizes): the first axis is not reduced, so slices are offered
    ((32, 512, 64), "B T F", "F", {}),
    ((16, 96, 24, 24), "N C H W", "C H W", {}),
    ((16, 96, 24, 24), "N (G Cg) H W", "Cg H W", {"G": 8}),
    ((16, 96, 24, 24), "N C H W", "H W", {}),
    ((40, 256, 96), "B T (G Fg)", "T Fg", {"G": 4}),
    ((64, 24, 100, 7), "N C H W", "C H", {}),
]


@pytest.fixture
def whole(monkeypatch):
    """standardize that never slices (the reference for the bits of the sliced one)."""
    import normaxes._arrays as arrays

    def call(*args, _moments=False, **kwargs):
        with monkeypatch.context() as m:
            m.setattr(arrays, "SLICE_MIN", 1 << 62)
            return (moments if _moments else standardize)(*args, **kwargs)
    return call


@pytest.mark.parametrize("threads", [1, 2, 4, 8])
@pytest.mark.parametrize("shape, layout, over, sizes", SLICED)
def test_slices_give_the_bits_of_the_whole_array(shape, layout, over, sizes, threads, whole):
    from normaxes._arrays import row_slices
    from normaxes.core import resolve

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        x = torch.empty(shape).normal_(generator=torch.Generator().manual_seed(threads)) * 3 + 2
        spec = resolve(layout, shape, sizes)
        bounds = row_slices(x.reshape(spec.expanded_shape), spec.axes(over))
        assert bounds is not None and len(bounds) >= 2  # the test would be vacuous otherwise
        assert all(hi - lo >= threads for lo, hi in bounds)
        for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
            for center in (True, False):
                xd = x.to(dtype)
                y = standardize(xd, layout, over, center=center, **sizes)
                ref = whole(xd, layout, over, center=center, **sizes)
                assert y.dtype == dtype and y.shape == x.shape
                assert torch.equal(y, ref), (dtype, center, (y - ref).abs().max())
        # the sum of squares in slices (sum_squares_keep) serves moments and masked calls
        g = torch.Generator().manual_seed(threads + 100)
        mask = torch.rand(shape[:2] + (1,) * (len(shape) - 2), generator=g) < 0.7
        y = standardize(x, layout, over, mask=mask, **sizes)
        ref = whole(x, layout, over, mask=mask, **sizes)
        assert torch.equal(y, ref), (y - ref).abs().max()
        _, var, _ = moments(x, layout, over, **sizes)
        _, var_ref, _ = whole(x, layout, over, **sizes, _moments=True)
        assert torch.equal(var, var_ref)
    finally:
        torch.set_num_threads(before)


def test_slices_only_where_safe():
    from normaxes._arrays import row_slices

    x = torch.zeros(32, 512, 64)
    assert row_slices(x, (2,)) is not None
    assert row_slices(x, (0, 1)) is None  # the first axis is reduced (Batch Norm)
    assert row_slices(x.transpose(1, 2), (1,)) is None  # not contiguous
    assert row_slices(x.requires_grad_(), (2,)) is None  # autograd needs the graph
    assert row_slices(torch.zeros(4, 16), (1,)) is None  # small
    assert row_slices(np.zeros((32, 512, 64)), (2,)) is None  # NumPy: whole
    with torch.no_grad():
        assert row_slices(x, (2,)) is not None


def test_sliced_gradient_path_is_the_whole_one():
    x = torch.empty(32, 512, 64).normal_(generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = standardize(x, "B T F", "T F")
    xg = x.clone().requires_grad_()
    yg = standardize(xg, "B T F", "T F")
    assert torch.equal(y, yg.detach())
    yg.sum().backward()
    assert torch.isfinite(xg.grad).all()
