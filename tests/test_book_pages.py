"""The book's pages: figure PNGs sized for the column, and the axis explorer's reference."""

import io

import numpy as np
from PIL import Image

from normaxes import NORMS, stat_groups
from normaxes.book.figures import (
    COLUMN_PX,
    DENSITY,
    MIN_TEXT_PX,
    draw_cubes,
    draw_norms,
    min_text_pt,
    png,
)
from normaxes.book.sphinxext import EXPLORER, explorer_reference


def test_cube_figures_fit_the_column_with_legible_text():
    for layout in NORMS:
        fig = draw_norms(layout)
        data, meta = png(fig)
        im = Image.open(io.BytesIO(data))
        # a palette PNG, opaque, DENSITY pixels per CSS pixel, four panels within the column
        assert im.mode == "P" and "transparency" not in im.info
        assert im.width == DENSITY * meta["width"] and im.height == DENSITY * meta["height"]
        assert meta["width"] <= COLUMN_PX
        assert float(im.text["normaxes:min-text-px"]) >= MIN_TEXT_PX
        assert min_text_pt(fig) >= MIN_TEXT_PX


def test_png_is_deterministic_and_records_the_smallest_text():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend(fontsize=7)
    first, _ = png(fig)
    assert png(fig)[0] == first
    assert Image.open(io.BytesIO(first)).text["normaxes:min-text-px"] == "7"
    plt.close(fig)


def test_panels_in_two_rows_keep_their_titles():
    fig = draw_cubes([dict(layout="B T F", over="F", shape=(2, 3, 4), batch="B", channel="F",
                           title=f"panel {k}") for k in range(4)], ncols=2)
    titles = [ax.title for ax in fig.axes]
    boxes = [ax.get_position() for ax in fig.axes]
    # each title sits above its own panel, below the panel of the row above
    for t, b in zip(titles, boxes, strict=True):
        x, y = fig.transFigure.inverted().transform(t.get_window_extent().get_points().mean(0))
        assert b.x0 <= x <= b.x1
    assert min(b.y1 for b in boxes[:2]) > max(b.y1 for b in boxes[2:])


def test_explorer_reference_is_stat_groups():
    ref = explorer_reference()
    layout, grouped, shape = EXPLORER["img"]
    assert ref["img|GN|3|C H W"] == stat_groups(grouped, "C H W", shape, G=3).ravel().tolist()
    assert ref["seq|custom|0|B T F"] == [0] * int(np.prod(EXPLORER["seq"][2]))
    # every norm, every G of Group Norm, every non-empty set of axes, on both layouts
    assert len(ref) == 2 * (3 + 4) + (2 ** 3 - 1) + (2 ** 4 - 1)
