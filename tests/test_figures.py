"""normaxes.book.figures: the shaded sets of the cube figures."""

import numpy as np
import pytest

from normaxes.book.figures import cube_view, draw_norms


def test_cube_view_flattens_h_w_and_applies_mask():
    shape = (2, 4, 3, 3)
    shared, real = cube_view("N (G Cg) H W", "Cg H W", shape, batch="N", channel="C", G=2)
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
        "Batch Norm", "per-frame Layer Norm", "GN(2)", "Instance Norm"]  # the notation page's
    fig = draw_norms("N C H W", G=3)
    assert [a.get_title().split("\n")[0] for a in fig.axes][1:3] == ["per-example Layer Norm",
                                                                      "GN(3)"]
    with pytest.raises(ValueError, match="layout"):
        draw_norms("B F T")


def test_draw_set_shades_exactly_the_given_set():
    import matplotlib.pyplot as plt

    from normaxes.book.figures import draw_set

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
    from normaxes.book.figures import draw_cubes

    s = np.zeros((2, 4, 3), bool)
    s[1, 2] = True
    fig = draw_cubes([
        dict(layout="B T F", over="F", shape=(2, 4, 3), batch="B", channel="F", title="LN"),
        dict(layout="B T (G Fg)", over="T Fg", shape=(2, 4, 4), batch="B", channel="Fg", G=2),
        dict(layout="B T F", shared=s, batch="B", channel="F", title="a frame"),
    ], ncols=2)
    assert len(fig.axes) == 3
    assert [a.get_title() for a in fig.axes] == ["LN", "", "a frame"]
    assert fig.axes[2].get_subplotspec().rowspan.start == 1  # third panel on the second row
    with pytest.raises(ValueError, match="panels is empty"):
        draw_cubes([])
    with pytest.raises(ValueError, match="'X'"):
        draw_cubes([dict(layout="B T F", over="X", shape=(2, 4, 3), batch="B", channel="F")])


def test_grid_faces_are_the_faces_voxels_draws():
    # _draw_voxels puts every outer face of the grid in one collection; Axes3D.voxels makes one
    # collection per voxel: the same faces, wound the same way, so shaded to the same colours
    import matplotlib.pyplot as plt
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    from normaxes.book.figures import _grid_faces

    rng = np.random.default_rng(0)
    colors = rng.uniform(size=(3, 4, 5, 4))
    faces, face_colors = _grid_faces(colors)
    ours = Poly3DCollection(faces, facecolors=face_colors, shade=True)
    fig = plt.figure()
    fig.add_subplot(projection="3d").add_collection3d(ours)
    polys = fig.add_subplot(projection="3d").voxels(np.ones((3, 4, 5), dtype=bool),
                                                    facecolors=colors)

    def keyed(fs, cs):  # vertices, in their order, -> colour after shading (before depth sort)
        return {tuple(np.asarray(f, dtype=float).ravel()): tuple(np.round(c, 12))
                for f, c in zip(fs, cs, strict=True)}

    theirs = {}
    for poly in polys.values():
        theirs.update(keyed(poly._faces, poly._facecolor3d))
    assert len(theirs) == len(faces) == 2 * (3 * 4 + 4 * 5 + 3 * 5)
    assert keyed(ours._faces, ours._facecolor3d) == theirs
    plt.close(fig)


def test_draw_cube_limits_as_voxels_alone():
    # _draw_voxels sets the limits Axes3D.voxels sets, and the axes keep the class's
    # autoscale_view
    import matplotlib.pyplot as plt

    from normaxes.book.figures import draw_cube

    fig = plt.figure()
    ours = fig.add_subplot(1, 2, 1, projection="3d")
    draw_cube(ours, "B T F", "F", (4, 8, 6), batch="B", channel="F")
    ref = fig.add_subplot(1, 2, 2, projection="3d")
    ref.voxels(np.ones((6, 4, 8), dtype=bool))  # (x=channel, y=batch, z=rest), as drawn
    assert "autoscale_view" not in vars(ours)
    for get in ("get_xlim3d", "get_ylim3d", "get_zlim3d"):
        assert getattr(ours, get)() == getattr(ref, get)()
    plt.close(fig)
