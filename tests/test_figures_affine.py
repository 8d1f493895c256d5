"""The shaded sets of the cube figures, stat_groups, and the affine step."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from normaxes import NORMS, affine, affine_shape, shared_with, standardize, stat_groups
from normaxes.figures import cube_view, draw_norms


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
        np.testing.assert_allclose(y[labels == 0], y2[labels == 0], atol=1e-9)  # eps=0: scale-invariant


def test_shared_with_known_sets():
    shape = (2, 3, 4)  # B T F
    s = shared_with("B T F", "B T", shape)  # BN: feature 0 across batch and time
    assert s[:, :, 0].all() and not s[:, :, 1:].any()
    s = shared_with("B T F", "F", shape, index=(1, 2, 3))  # LN: one frame
    assert s[1, 2].all() and s.sum() == 4
    s = shared_with("B T (G F)", "T F", shape, index=(0, 0, 3), G=2)  # GN: 2nd group, sequence 0
    assert s[0, :, 2:].all() and s.sum() == 6
    with pytest.raises(ValueError, match="index"):
        shared_with("B T F", "F", shape, index=(0, 0))


def test_cube_view_flattens_h_w_and_applies_mask():
    shape = (2, 4, 3, 3)
    shared, real = cube_view("N (G C) H W", "C H W", shape, batch="N", channel="C", G=2)
    assert shared.shape == (2, 4, 9)
    assert shared[0, :2].all() and shared.sum() == 18 and real.all()
    mask = np.ones((2, 1, 3, 3), bool)
    mask[0, :, 2] = False
    shared, real = cube_view("N C H W", "H W", shape, batch="N", channel="C", mask=mask)
    assert real.sum() == 2 * 4 * 9 - 4 * 3 and shared.sum() == 6


def test_draw_norms_one_panel_per_norm():
    fig = draw_norms("B T F")
    assert len(fig.axes) == 4
    assert [a.get_title().split("\n")[0] for a in fig.axes] == [
        "Batch Norm", "Layer Norm", "Group Norm", "Instance Norm"]
    fig = draw_norms("N C H W", G=3)
    assert fig.axes[2].get_title().endswith("(G=3)")
    with pytest.raises(ValueError, match="layout"):
        draw_norms("B F T")


def test_affine_matches_pytorch_parameter_shapes():
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.normal(size=(2, 6, 3, 4)))
    assert affine_shape("N C H W", "C", x.shape) == (6,)
    assert affine_shape("N C H W", "C H W", x.shape) == (6, 3, 4)
    w, b = torch.from_numpy(rng.normal(size=6)), torch.from_numpy(rng.normal(size=6))
    ours = affine(standardize(x, "N (G C) H W", "C H W", G=2), "N C H W", "C", w, b)
    torch.testing.assert_close(ours, F.group_norm(x, 2, w, b))
    wl = torch.from_numpy(rng.normal(size=(6, 3, 4)))
    bl = torch.from_numpy(rng.normal(size=(6, 3, 4)))
    ours = affine(standardize(x, "N C H W", "C H W"), "N C H W", "C H W", wl, bl)
    torch.testing.assert_close(ours, F.layer_norm(x, (6, 3, 4), wl, bl))
    # a flat per-channel vector also serves a grouped layout
    ours = affine(standardize(x, "N (G C) H W", "C H W", G=2), "N (G C) H W", "G C", w, b, G=2)
    torch.testing.assert_close(ours, F.group_norm(x, 2, w, b))


def test_on_channels_first_round_trips_a_sequence():
    from normaxes import on_channels_first

    x = torch.arange(24.0).reshape(2, 3, 4)  # [B, T, F]
    seen = []
    y = on_channels_first(lambda v: seen.append(tuple(v.shape)) or v * 2, x)
    assert seen == [(2, 4, 3)] and torch.equal(y, x * 2)
    assert on_channels_first(lambda v: v, x.numpy()).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="3 dimensions"):
        on_channels_first(lambda v: v, torch.zeros(2, 3))


def test_draw_set_shades_exactly_the_given_set():
    import matplotlib.pyplot as plt
    from normaxes.figures import draw_set

    s = np.zeros((2, 5, 3), bool)  # B T F
    s[0, :3] = True  # the frames up to t = 2 of sequence 0: not a (layout, over) set
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    assert draw_set(ax, "B T F", s, batch="B", channel="F", title="cLN") is ax
    assert ax.get_title() == "cLN" and ax.get_zlabel() == "T"
    plt.close(fig)
    # the same cube as cube_view would give for that set
    shared, real = cube_view("B T F", "B T F", s.shape, batch="B", channel="F", mask=s)
    assert shared.sum() == 9 and shared[0, :, :3].all()
    with pytest.raises(ValueError, match="same dimension"):
        draw_set(ax, "B T F", s, batch="B", channel="B")


def test_draw_cubes_grid_and_errors():
    from normaxes.figures import draw_cubes

    s = np.zeros((2, 4, 3), bool)
    s[1, 2] = True
    fig = draw_cubes([
        dict(layout="B T F", over="F", shape=(2, 4, 3), batch="B", channel="F", title="LN"),
        dict(layout="B T (G F)", over="T F", shape=(2, 4, 4), batch="B", channel="F", G=2),
        dict(layout="B T F", shared=s, batch="B", channel="F", title="a frame"),
    ], ncols=2)
    assert len(fig.axes) == 3
    assert [a.get_title() for a in fig.axes] == ["LN", "", "a frame"]
    assert fig.axes[2].get_subplotspec().rowspan.start == 1  # third panel on the second row
    with pytest.raises(ValueError, match="panels is empty"):
        draw_cubes([])
    with pytest.raises(ValueError, match="'X'"):
        draw_cubes([dict(layout="B T F", over="X", shape=(2, 4, 3), batch="B", channel="F")])
