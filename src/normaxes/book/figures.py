"""Cube figures in the style of Fig. 2 of the Group Normalization paper.

Three axes are drawn: the batch axis, the channel (feature) axis, and every other axis flattened
into one (time for ``[B, T, F]``; ``H, W`` for ``[N, C, H, W]``). The positions that share one
mean and variance with a chosen position are shaded. What is shaded comes from
:func:`cube_view`, which tests can check without drawing.
"""

from __future__ import annotations

import numpy as np

from ..core import parse_layout, resolve, shared_with, stat_groups
from ..norms import NORMS, book_name

__all__ = ["cube_view", "draw_cube", "draw_set", "draw_cubes", "draw_norms", "SHADE", "MASKED",
           "png", "min_text_pt", "COLUMN_PX", "DENSITY", "TEXT_PT", "MIN_TEXT_PX", "PANEL_IN",
           "cube_facts", "cubes_digest", "panels_digest"]

SHADE = "#3b75af"
"""Colour of the positions that share one statistic."""
MASKED = "#bdbdbd"
"""Colour of padded (masked-out) positions."""

# Figures are designed at 1 point = 1 CSS pixel (72 points per inch), so a figure ``w`` inches
# wide is meant to be shown ``72 w`` CSS pixels wide and its 12-point labels are 12 CSS pixels
# high. The PNG holds DENSITY pixels per CSS pixel (sharp on high-density screens) and says so in
# its display metadata, so the page shows it at its design width.
COLUMN_PX = 672
"""Width of the book's text column at a 1280 px window (pydata-sphinx-theme, both sidebars)."""
DENSITY = 2
"""PNG pixels per CSS pixel."""
TEXT_PT = 12
"""Size of labels and titles in the cube figures (points = CSS pixels at the design width)."""
MIN_TEXT_PX = 11
"""The smallest text a figure may show in CSS pixels (the theme's caption small print)."""
PANEL_IN = (2.3, 2.6)
"""Width and height of one cube panel in inches (four panels fill the 672 px column)."""


def _dim_of(dims, name: str) -> int:
    """The dimension that axis *name* is in; a dimension split into groups, ``(G Fg)``, is also
    found by its plain name ``F`` (the channel axis of a figure is the whole dimension)."""
    for i, names in enumerate(dims):
        if name in names or (len(names) > 1 and names[-1] == name + "g"):
            return i
    raise ValueError(f"axis {name!r} is not in the layout ({' '.join(n for d in dims for n in d)})")


def cube_view(layout: str, over, shape, *, batch: str, channel: str, index=None, mask=None,
              **sizes):
    """The cube of an array of *shape*: ``[batch, channel, rest]`` boolean arrays.

    Returns ``(shared, real)``: *shared* marks the positions whose statistics are those of
    position *index* (default: the first position) and that are real entries; *real* is the
    *mask* (all True without one). *batch* and *channel* name the axes drawn as such (a name
    inside a group, like ``Cg`` in ``"N (G Cg) H W"``, or the plain name ``C`` of that
    dimension, selects the whole dimension); all other
    dimensions are flattened, in layout order, into the third axis.
    """
    spec = resolve(layout, shape, sizes)
    order, cube = _cube_order(spec.dims, spec.shape, batch, channel)
    shared = shared_with(layout, over, shape, index, **sizes)
    real = np.ones(spec.shape, dtype=bool) if mask is None else np.broadcast_to(
        np.asarray(mask, dtype=bool), spec.shape)
    return (
        np.transpose(shared & real, order).reshape(cube),
        np.transpose(real, order).reshape(cube),
    )


def _axis_label(dims, names) -> str:
    return ", ".join(d[0] if len(d) == 1 else "(" + " ".join(d) + ")" for d in names)


def draw_cube(ax, layout: str, over, shape, *, batch: str, channel: str, index=None, mask=None,
              title: str | None = None, **sizes):
    """Draw the cube of :func:`cube_view` on the 3-D axes *ax*.

    The channel axis runs left to right, the batch axis into the page and the flattened axes
    downwards from the top (first frame on top), as in the GN paper's Fig. 2. Shaded cells share
    one statistic; grey cells are masked out (padding).
    """
    shared, real = cube_view(layout, over, shape, batch=batch, channel=channel, index=index,
                             mask=mask, **sizes)
    return _draw_voxels(ax, parse_layout(layout), shared, real, batch, channel, title)


def draw_set(ax, layout: str, shared, *, batch: str, channel: str, mask=None,
             title: str | None = None, **sizes):
    """Draw an explicit set of positions *shared* (boolean, the array's shape) as a cube on *ax*.

    The same cube as :func:`draw_cube`, for a set that is not a ``(layout, over)`` statistics set,
    e.g. the frames up to ``t`` of a cumulative norm. *mask* greys out padded positions.
    """
    shared = np.asarray(shared, dtype=bool)
    spec = resolve(layout, shared.shape, sizes)
    real = np.ones(spec.shape, dtype=bool) if mask is None else np.broadcast_to(
        np.asarray(mask, dtype=bool), spec.shape)
    order, cube = _cube_order(spec.dims, spec.shape, batch, channel)
    return _draw_voxels(ax, spec.dims, np.transpose(shared & real, order).reshape(cube),
                        np.transpose(real, order).reshape(cube), batch, channel, title)


def _cube_order(dims, shape, batch: str, channel: str):
    """The transposition to ``[batch, channel, rest...]`` and the cube shape it flattens to."""
    b, c = _dim_of(dims, batch), _dim_of(dims, channel)
    if b == c:
        raise ValueError(
            f"batch axis {batch!r} and channel axis {channel!r} are the same dimension")
    order = [b, c, *[i for i in range(len(dims)) if i not in (b, c)]]
    return order, (shape[b], shape[c], -1)


def _grid_faces(colors):
    """The outer faces of a full voxel grid of ``colors.shape[:3]`` and each face's colour
    (``colors[i, j, k]``, RGBA, of the voxel it bounds): the faces and the vertex order that
    ``Axes3D.voxels`` draws for a grid with every voxel filled, so each face is shaded alike.

    ``Axes3D.voxels`` makes one collection per voxel (most of a figure's time); these faces
    go into one collection, which matplotlib sorts by depth face by face."""
    size = np.array(colors.shape[:3])
    square = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
    faces, face_colors = [], []
    perm = np.eye(3, dtype=int)
    for _ in range(3):  # the YZ, ZX and XY planes, in the order and orientation of voxels
        pc, qc, rc = perm.T.dot(size)
        pos = square.dot(perm.T)
        for p in range(pc):
            for q in range(qc):
                low = perm.dot([p, q, 0])  # the lower face, wound the other way
                faces.append(low + pos[::-1])
                face_colors.append(colors[tuple(low)])
                top = perm.dot([p, q, rc - 1])
                faces.append(perm.dot([p, q, rc]) + pos)
                face_colors.append(colors[tuple(top)])
        perm = np.roll(perm, 1, axis=0)
    return np.array(faces, dtype=float), np.array(face_colors)


def _draw_voxels(ax, dims, shared, real, batch: str, channel: str, title):
    """Draw the ``[batch, channel, rest]`` boolean cubes *shared* and *real* on *ax*."""
    b, c = _dim_of(dims, batch), _dim_of(dims, channel)
    rest = [dims[i] for i in range(len(dims)) if i not in (b, c)]
    # voxel grid indexed (x=channel, y=batch, z=rest); z grows upwards, so flip the rest axis
    sh = np.transpose(shared, (1, 0, 2))[:, :, ::-1]
    rl = np.transpose(real, (1, 0, 2))[:, :, ::-1]
    colors = np.empty(sh.shape + (4,))
    colors[...] = (1.0, 1.0, 1.0, 0.12)
    # padding light enough that a shaded set behind it (another batch element) shows through
    colors[~rl] = (*_rgb(MASKED), 0.32)
    colors[sh] = (*_rgb(SHADE), 0.92)
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    faces, face_colors = _grid_faces(colors)
    edge = np.broadcast_to(np.array((0.25, 0.25, 0.25, 0.35)), face_colors.shape)
    ax.auto_scale_xyz(*np.indices(np.array(sh.shape) + 1))  # the limits Axes3D.voxels sets
    ax.add_collection3d(Poly3DCollection(faces, facecolors=face_colors, edgecolors=edge,
                                         linewidth=0.3, shade=True))
    ax.set_box_aspect(sh.shape, zoom=0.9)
    ax.view_init(elev=18, azim=-62)
    ax.set_xticks([]), ax.set_yticks([]), ax.set_zticks([])
    ax.set_xlabel(_axis_label(dims, [dims[c]]), labelpad=-10, fontsize=TEXT_PT)
    ax.set_ylabel(_axis_label(dims, [dims[b]]), labelpad=-10, fontsize=TEXT_PT)
    ax.set_zlabel(_axis_label(dims, rest), labelpad=-10, fontsize=TEXT_PT)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.pane.set_visible(False)
        axis.line.set_color((0, 0, 0, 0))
    if title:
        ax.set_title(title, fontsize=TEXT_PT, pad=0, linespacing=1.1)
    return ax


def draw_cubes(panels, *, ncols: int | None = None, figsize=None):
    """Draw one cube per panel, in a grid of *ncols* columns (default: one row); return the figure.

    A panel is 2.3 x 2.6 inches (:data:`PANEL_IN`), so four panels in a row fill the text column
    at their design width and every label is :data:`TEXT_PT` CSS pixels high there; each panel's
    title stays above its own panel when the panels wrap into rows.

    Each panel is a dict of the keyword arguments of :func:`draw_cube` (``layout``, ``over``,
    ``shape``, ``batch``, ``channel``, and optionally ``title``, ``index``, ``mask`` and group
    sizes such as ``G``), or of :func:`draw_set` (``layout`` and ``shared`` instead of ``over``
    and ``shape``).
    """
    import matplotlib.pyplot as plt

    panels = [dict(p) for p in panels]
    if not panels:
        raise ValueError("panels is empty: give at least one panel to draw")
    ncols = ncols or len(panels)
    if ncols < 1:
        raise ValueError(f"ncols must be a positive number of columns, got {ncols}")
    nrows = -(-len(panels) // ncols)
    titled = any(p.get("title") for p in panels)
    fig = plt.figure(figsize=figsize or (PANEL_IN[0] * ncols, PANEL_IN[1] * nrows),
                     facecolor="white")
    for k, p in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, k + 1, projection="3d")
        layout = p.pop("layout")
        if "shared" in p:
            draw_set(ax, layout, p.pop("shared"), **p)
        else:
            draw_cube(ax, layout, p.pop("over"), p.pop("shape"), **p)
    top = 1 - (0.17 if titled else 0.02) / nrows
    fig.subplots_adjust(left=0, right=1, bottom=0.02, top=top, wspace=0.02,
                        hspace=0.25 if titled else 0.05)
    return fig


def _rgb(hexcolor: str):
    h = hexcolor.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))


CUBE_AXES = {"B T F": ("B", "F"), "N C H W": ("N", "C")}


def draw_norms(layout: str = "B T F", shape=None, *, G: int = 2, norms=("BN", "LN", "GN", "IN"),
               index=None, mask=None, figsize=None):
    """Draw one cube per norm of *norms* on *layout* (``"B T F"`` or ``"N C H W"``), in a row.

    Returns the matplotlib figure. Group Norm uses *G* groups; *mask* (broadcastable to *shape*)
    greys out padded positions.
    """
    if layout not in NORMS:
        raise ValueError(f"layout {layout!r} is not one of the book's layouts {list(NORMS)}")
    if shape is None:
        shape = (4, 8, 6) if layout == "B T F" else (4, 6, 3, 3)
    batch, channel = CUBE_AXES[layout]
    panels = []
    for short in norms:
        spec = NORMS[layout][short]
        sizes = {spec.group_axis: G} if spec.group_axis else {}
        title = f"{book_name(short, layout, G)}\nover {spec.over}"  # the notation page's names
        panels.append(dict(layout=spec.layout, over=spec.over, shape=shape, batch=batch,
                           channel=channel, index=index, mask=mask, title=title, **sizes))
    fig = draw_cubes(panels, figsize=figsize)
    return fig


def min_text_pt(fig) -> float:
    """The size in points of the smallest visible, non-empty text of *fig*."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and t.get_figure() is fig]
    return min(sizes) if sizes else float("inf")


def png(fig) -> tuple[bytes, dict]:
    """*fig* as a palette PNG at :data:`DENSITY` pixels per CSS pixel, with display metadata.

    Returns ``(data, {"width": w, "height": h})``, what an IPython formatter returns: the page
    shows the image at ``w`` CSS pixels, its design width (72 per inch). The PNG is drawn on an
    opaque white background (legible in the theme's dark mode), quantized to at most 256 colours
    without dithering (deterministic), and carries the smallest text size in CSS pixels as the
    ``normaxes:min-text-px`` text chunk, which the browser test reads.
    """
    import io

    from PIL import Image, PngImagePlugin

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72 * DENSITY, facecolor="white", edgecolor="white",
                transparent=False, metadata={"Software": None})
    rgb = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    pal = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    info = PngImagePlugin.PngInfo()
    info.add_text("normaxes:min-text-px", f"{min_text_pt(fig):g}")
    info.add_text("normaxes:density", str(DENSITY))
    out = io.BytesIO()
    pal.save(out, format="png", optimize=True, pnginfo=info)
    w, h = rgb.size
    return out.getvalue(), {"width": w // DENSITY, "height": h // DENSITY}


def _register_png_formatter() -> None:
    """In IPython, display every matplotlib figure with :func:`png` (after the inline backend)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is None:
        return
    import matplotlib
    from matplotlib.figure import Figure

    if "inline" in str(matplotlib.get_backend(auto_select=False)):
        # loading the inline backend registers its own PNG formatter: load it first, then ours
        import matplotlib_inline.backend_inline  # noqa: F401

    # every figure of the book (line plots too): text of TEXT_PT points, 12 CSS px at design width
    matplotlib.rcParams.update({"font.size": TEXT_PT, "figure.facecolor": "white",
                                "savefig.facecolor": "white"})

    ip.display_formatter.formatters["image/png"].for_type(Figure, png)
    for fmt in ("image/svg+xml", "application/pdf", "image/jpeg"):
        ip.display_formatter.formatters[fmt].pop(Figure, None)


_register_png_formatter()


def cube_facts(layout: str, over, shape, *, batch: str, channel: str, index=None, mask=None,
               **sizes):
    """What a cube figure of *layout* shows, as numbers: ``(counts, rows, cols, shaded, flat)``.

    *counts* are the sizes of the statistics sets (from :func:`~normaxes.stat_groups`); *rows*
    and *cols* the batch and channel indices that the shaded set (that of *index*, from
    :func:`cube_view`, the function the figures draw) touches; *shaded* how many of the *flat*
    flattened positions it covers. Each digest below prints them in its own words."""
    counts = np.bincount(stat_groups(layout, over, shape, **sizes).ravel())
    shared, _ = cube_view(layout, over, shape, batch=batch, channel=channel, index=index,
                          mask=mask, **sizes)
    rows, cols = np.flatnonzero(shared.any(axis=(1, 2))), np.flatnonzero(shared.any(axis=(0, 2)))
    return counts, rows, cols, int(shared.any(axis=(0, 1)).sum()), shared.shape[2]


def cubes_digest(panels: list[dict]) -> str:
    """What the cubes of *panels* show, as text, one line per panel (:func:`cube_facts`): the
    number of statistics sets and their size m, and the batch rows, channel columns and
    flattened positions of the shaded set. Printed beside the figure, so that nbval compares
    what the picture shows."""
    lines = []
    for p in panels:
        sizes = {k: v for k, v in p.items() if k not in (
            "layout", "over", "shape", "batch", "channel", "title", "index", "mask")}
        counts, rows, cols, shaded, flat = cube_facts(
            p["layout"], p["over"], p["shape"], batch=p["batch"], channel=p["channel"], **sizes)
        size = "" if (counts == counts[0]).all() else " (unequal)"
        groups = " ".join(f"{k}={v}" for k, v in sizes.items())
        lines.append(f"{p['layout']:<11} {groups:<4} over {p['over']}: {len(counts)} sets of "
                     f"{counts[0]}{size}, shaded {p['batch']} {_span(rows)}, {p['channel']} "
                     f"{_span(cols)}, {shaded} of {flat} positions")
    return "\n".join(lines)


def _span(indices) -> str:
    """Indices as short text: ``0-7`` for a contiguous run, else ``0,2,5``."""
    idx = [int(i) for i in indices]
    if len(idx) > 1 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{idx[0]}-{idx[-1]}"
    return ",".join(str(i) for i in idx)
def panels_digest(panels) -> str:
    """What :func:`draw_cubes` draws for *panels*, as text: one line per panel.

    For each panel (the dicts given to :func:`draw_cubes`, with ``over`` and ``shape``), from
    :func:`cube_facts`: the statistics sets of the layout (how many, of what size m) and the
    shaded cubes, the batch rows and channel columns the shaded set touches and how many of the
    flattened positions. Printed beside a figure, so that nbval compares what it shows.
    """
    lines = []
    for p in panels:
        p = dict(p)
        layout, over, shape = p.pop("layout"), p.pop("over"), p.pop("shape")
        batch, channel = p.pop("batch"), p.pop("channel")
        title = " ".join(str(p.pop("title", "")).split())
        index, mask = p.pop("index", None), p.pop("mask", None)
        counts, rows, cols, shaded, flat = cube_facts(layout, over, shape, batch=batch,
                                                      channel=channel, index=index, mask=mask, **p)
        size = f"m = {counts[0]}" if (counts == counts[0]).all() else f"m = {sorted(set(counts))}"
        lines.append(f"{title}: {len(counts)} sets of {size}; shaded {batch} {rows.tolist()}, "
                     f"{channel} {cols.tolist()}, {shaded} of {flat} positions")
    return "\n".join(lines)
