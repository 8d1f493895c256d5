"""normaxes.chapters.group_norm and the cube digest of normaxes.book.figures: what chapter 4 draws
and tables, checked against answers written out by hand."""

import pytest

from normaxes import data
from normaxes.book.figures import cubes_digest
from normaxes.chapters.group_norm import gn_panels, gn_sweep


def test_gn_panels_one_per_group_count():
    panels = gn_panels("N C H W", (4, 6, 3, 3), [1, 3])
    assert [p["G"] for p in panels] == [1, 3]
    assert panels[0]["layout"] == "N (G Cg) H W" and panels[0]["over"] == "Cg H W"
    assert panels[1]["title"] == "G = 3\nover Cg H W, m = 18"


def test_gn_panels_refuses_an_unknown_layout():
    with pytest.raises(ValueError, match="is not one of the book's layouts"):
        gn_panels("N H W C", (4, 3, 3, 6), [1])


def test_cubes_digest_counts_sets_and_shading_by_hand():
    # [B, T, F] = [4, 8, 6], G = 2: 4 * 2 sets of 8 * 3 = 24 entries; the first set is
    # sequence 0, features 0 to 2, every frame
    lines = cubes_digest(gn_panels("B T F", (4, 8, 6), [2])).splitlines()
    assert lines == [
        "B T (G Fg)  G=2  over T Fg: 8 sets of 24, shaded B 0, F 0-2, 8 of 8 positions"]
    # Layer Norm per frame: 4 * 8 sets of 6, the first is frame 0 of sequence 0
    per_frame = cubes_digest([dict(layout="B T F", over="F", shape=(4, 8, 6), batch="B",
                                   channel="F")])
    assert per_frame == "B T F            over F: 32 sets of 6, shaded B 0, F 0-5, 1 of 8 positions"
    # a twelve-letter layout keeps a space before its group count
    (img,) = cubes_digest(gn_panels("N C H W", (2, 4, 2, 2), [1])).splitlines()
    assert img.startswith("N (G Cg) H W G=1  over Cg H W: 2 sets of 16,"), img


def test_gn_sweep_reaches_instance_norm_at_g_equal_c():
    dist = gn_sweep(data.sequence(B=2, T=10, F=4), data.images(N=2, C=4, H=3, W=3),
                    seq_groups=(1, 4), img_groups=(1, 4))
    assert set(dist) == {("B T F", 1), ("B T F", 4), ("N C H W", 1), ("N C H W", 4)}
    assert dist["B T F", 4]["IN"] < 1e-5 and dist["N C H W", 4]["IN"] < 1e-5
    assert dist["N C H W", 1]["LN"] < 1e-5  # one group is the GN paper's Layer Norm on images
    assert dist["B T F", 1]["LN"] > 0.1  # but not per-frame Layer Norm on a sequence


def test_summary_rows_read_the_axes_of_each_side():
    from normaxes.chapters.gn_vs_ln import summary_rows

    (row,) = summary_rows([("tiny", "gn1-differs-ln-tiny", "tiny")])
    assert row["sides"] == ("T F (2×6)", "F (6×2)")  # two sequences of 6; six frames of 2
    with pytest.raises(ValueError, match="input key 'nowhere'"):
        summary_rows([("x", "gn1-differs-ln-tiny", "nowhere")])


# --- the exercises' reference answers, computed another way ----------------------------------

def test_exercise_answers_are_what_the_library_computes():
    import numpy as np

    from normaxes import shared_with, standardize
    from normaxes.exercises import group_norm as ex

    assert (ex.EX1 == shared_with("B T (G Fg)", "T Fg", (2, 4, 6), index=(1, 2, 3), G=3)).all()
    assert ex.EX1.sum() == 8  # 4 frames x 2 features
    seq = data.tiny_sequence()
    gn1 = standardize(seq, "B T (G Fg)", over="T Fg", G=1, eps=0)[1, 1, 1]
    assert ex.EX2 == pytest.approx(gn1) and ex.EX2 == pytest.approx(17 / np.sqrt(89))


def test_exercise_4_3_the_reshape_bug_groups_frames():
    from normaxes import standardize
    from normaxes.exercises import group_norm as ex

    for (x,) in ex._sequences():
        if x.shape[1] % 2 == 0:  # T splits into two halves
            got = ex._gn_seq_reshaped(x)
            want = standardize(x, "B (G T) F", over="T F", G=2)
            assert (got - want).abs().max() < 1e-10


def test_exercise_4_1_says_why_each_wrong_set_is_wrong():
    from normaxes.exercises import check
    from normaxes.exercises import group_norm as ex

    why = {name: check("4.1", ex._mask(*where), quiet=True).why for name, where in [
        ("batch", (slice(None), slice(None), slice(2, 4))),
        ("frame", (1, 2, slice(2, 4))),
        ("interleaved", (1, slice(None), [0, 3])),
        ("instance", (1, slice(None), 3)),
        ("gn1", (1,))]}
    assert "across the batch" in why["batch"]
    assert "every frame" in why["frame"]
    assert "consecutive features" in why["interleaved"]
    assert "Instance Norm" in why["instance"]
    assert "GN(1)" in why["gn1"]
    assert "shape (2, 4, 6)" in check("4.1", ex.EX1[1], quiet=True).why
