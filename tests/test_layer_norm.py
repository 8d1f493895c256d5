"""normaxes.chapters.layer_norm and the checkers of the Layer Norm chapter's exercises: the tables
and numbers the chapter prints, checked against answers written out by hand."""

import re

import numpy as np
import pytest

from normaxes import data, standardize
from normaxes.chapters import layer_norm as ln


def _rows(table: str) -> list[list[str]]:
    """The body rows of a Markdown table, as lists of cells."""
    lines = [s for s in table.splitlines() if s.startswith("|")][2:]
    return [[c.strip() for c in s.strip("|").split("|")] for s in lines]


def test_eps_ratio_by_hand():
    assert ln.eps_ratio(0.0) == pytest.approx(np.sqrt(1e-5 / 1e-3))  # sqrt(1/100) = 0.1
    assert ln.eps_ratio(1e-3) == pytest.approx(np.sqrt(1.01e-3 / 2e-3))
    assert 0.99999 < ln.eps_ratio(100.0) < 1  # a large variance: eps does not matter
    assert ln.eps_ratio(1e-3, eps_keras=1e-5) == pytest.approx(1.0)  # the same eps: no ratio


def test_affine_table_counts_one_scale_per_normalized_position():
    rows = {r[1]: r for r in _rows(ln.affine_table())}
    # per-example Layer Norm on 6 x 5 x 5 images: a scale and a shift per (c, h, w)
    assert rows["`nn.LayerNorm([C, H, W])`"][3:] == ["(6, 5, 5)", "300", "C H W"]
    assert rows["`LayerNormalization(axis=[1, 2, 3])`"][3:] == ["(6, 5, 5)", "300", "C H W"]
    assert rows["`nn.LayerNorm(F)`"][3:] == ["(8,)", "16", "F"]
    for per_channel in ("`nn.BatchNorm2d(C)`", "`nn.GroupNorm(1, C)`",
                        "`nn.InstanceNorm2d(C, affine=True)`", "`BatchNormalization(axis=1)`",
                        "`GroupNormalization(groups=3, axis=1)`"):
        assert rows[per_channel][3:] == ["(6,)", "12", "C"], per_channel
    assert len(rows) == 10


def test_summary_table_names_the_three_layer_norms_and_counts_their_sets():
    rows = {r[0]: r for r in _rows(ln.summary_table())}
    # [B, T, F] = [4, 50, 8], [N, C, H, W] = [4, 6, 5, 5]: sets and m written out
    assert rows["per-frame"][3:] == ["200", "8", "(8,)"]  # B T frames of F
    assert rows["per-example, sequence"][3:] == ["4", "400", "(50, 8)"]  # B sequences of T F
    assert rows["per-example, images"][3:] == ["4", "150", "(6, 5, 5)"]  # N images of C H W
    assert rows["per-pixel"][3:] == ["100", "6", "(6,)"]  # N H W pixels of C
    assert rows["per-pixel"][2] == '`"N H W C"`, over `"C"`'


def test_size_errors_shows_each_refusal():
    text = ln.size_errors()
    heads = [s for s in text.splitlines() if not s.startswith(" ")]
    assert heads == ["nn.LayerNorm([C, 5, 5]) on 7x7 images:",
                     "Keras axis=[1, 2, 3], built on 5x5, on 7x7:",
                     "nn.LayerNorm((50, F)) on T=7:"]
    assert text.count("RuntimeError:") == 3
    assert re.search(r"\[6, 5, 5\]", text) and re.search(r"\[50, 8\]", text)
    assert "\x1b" not in text  # no colour codes


def test_gist_refuses_a_call_that_does_not_fail():
    with pytest.raises(AssertionError, match="did not fail"):
        ln._gist(lambda: None)


def test_docstring_phrases_are_read_from_the_layers():
    lines = ln.docstring_phrases().splitlines()
    assert lines[0].startswith("LayerNormalization: ... will not match a Group Normalization")
    assert lines[1].startswith("GroupNormalization: ... this operation becomes nearly identical")


# --- the exercises' reference answers, computed another way ----------------------------------

def test_exercise_answers_are_what_standardize_computes():
    from normaxes.exercises import layer_norm as ex

    img = data.tiny_image()
    assert ex.EX1 == pytest.approx(standardize(img, "N C H W", over="C H W", eps=0)[1, 0, 0, 0])
    assert ex.EX1 == pytest.approx(-5 / np.sqrt(23))


def test_exercise_3_2_inputs_have_garbage_in_their_padding():
    from normaxes.exercises import layer_norm as ex

    for x, mask in ex._padded_inputs():
        pad = ~mask.expand_as(x)
        assert pad.any() and (x[pad].abs() > 0).all()  # nonzero: an unmasked norm shows there
        assert x.dtype.is_floating_point and x.dtype.itemsize == 8
