"""The helpers of the chapter "Axes and layouts" (normaxes.chapters.axes) against answers written
out by hand and against PyTorch's functional norms, not against standardize alone."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from normaxes import data
from normaxes.chapters.axes import (
    as_image,
    book_name,
    exact_sets,
    from_image,
    norm_panels,
    plain,
    plain_norm,
    sets_digest,
    table_vs_layers,
    tiny_table,
)

# --- the worked example: every row written out by hand (entries, means, variances) -----------

SEQ_ROWS = [
    "| Batch Norm, over `B T` | 6 | 1 2 6 4 5 0; 3 6 4 0 9 2 | 3; 4 | 14/3; 25/3 |",
    "| per-frame Layer Norm, over `F` | 2 | 1 3; 2 6; 6 4; 4 0; 5 9; 0 2 | 2; 4; 5; 2; 7; 1 "
    "| 1; 4; 1; 4; 4; 1 |",
    "| RMS Norm, over `F` | 2 | 1 3; 2 6; 6 4; 4 0; 5 9; 0 2 | none subtracted "
    "| $\\rho^2$: 5; 20; 26; 8; 53; 2 |",
    "| per-example Layer Norm = GN(1), over `T F` | 6 | 1 3 2 6 6 4; 4 0 5 9 0 2 | 11/3; 10/3 "
    "| 32/9; 89/9 |",
    "| Instance Norm = GN(2), over `T` | 3 | 1 2 6; 3 6 4; 4 5 0; 0 9 2 | 3; 13/3; 3; 11/3 "
    "| 14/3; 14/9; 14/3; 134/9 |",
]
IMG_ROWS = [
    "| Batch Norm, over `N H W` | 8 | 1 3 5 7 0 4 2 6; 2 2 4 8 6 2 0 0 | 7/2; 3 | 21/4; 7 |",
    "| per-example Layer Norm = GN(1), over `C H W` | 8 | 1 3 5 7 2 2 4 8; 0 4 2 6 6 2 0 0 "
    "| 4; 5/2 | 11/2; 23/4 |",
    "| per-pixel Layer Norm, over `C` | 2 | 1 2; 3 2; 5 4; 7 8; 0 6; 4 2; 2 0; 6 0 "
    "| 3/2; 5/2; 9/2; 15/2; 3; 3; 1; 3 | 1/4; 1/4; 1/4; 1/4; 9; 1; 1; 9 |",
    "| Instance Norm = GN(2), over `H W` | 4 | 1 3 5 7; 2 2 4 8; 0 4 2 6; 6 2 0 0 | 4; 4; 3; 2 "
    "| 5; 6; 5; 6 |",
]


def test_tiny_table_of_the_sequence_is_the_one_worked_by_hand():
    lines = tiny_table(data.tiny_sequence(), "B T F").splitlines()
    assert lines[0] == "| norm, over | m | entries of each set | means | variances |"
    assert lines[2:] == SEQ_ROWS


def test_tiny_table_of_the_image_is_the_one_worked_by_hand():
    assert tiny_table(data.tiny_image(), "N C H W").splitlines()[2:] == IMG_ROWS


def test_tiny_table_refuses_a_tensor_that_is_not_tiny():
    with pytest.raises(ValueError, match="two features"):
        tiny_table(np.zeros((2, 3, 4)), "B T F")


def test_tiny_table_asserts_the_gn_rows(monkeypatch):
    # a GN whose groups were not per-example Layer Norm's sets must be refused, not printed
    from normaxes.chapters import axes

    rows = [list(r) for r in axes.TINY_NORMS["B T F"]]
    rows[3][2] = "B F"  # claim GN(1) has the sets of a per-time-step norm
    monkeypatch.setitem(axes.TINY_NORMS, "B T F", [tuple(r) for r in rows])
    with pytest.raises(AssertionError, match="GN\\(1\\)"):
        tiny_table(data.tiny_sequence(), "B T F")


def test_exact_sets_keeps_its_format_for_the_other_chapters():
    rows = exact_sets(data.tiny_sequence(), "B T F", over="B T").splitlines()
    assert rows[2:] == ["| 1 | 1 2 6 4 5 0 | 6 | 3 | 14/3 |", "| 2 | 3 6 4 0 9 2 | 6 | 4 | 25/3 |"]


# --- the book's names, the figures' digest ---------------------------------------------------

def test_book_names_follow_the_notation_page():
    assert book_name("LN", "B T F") == "per-frame Layer Norm"
    assert book_name("LN", "N C H W") == "per-example Layer Norm"
    assert book_name("GN", "B T F", G=3) == "GN(3)"
    titles = [p["title"] for p in norm_panels("N C H W", (4, 6, 3, 3), G=3)]
    assert titles == ["Batch Norm\nover N H W", "per-example Layer Norm\nover C H W",
                      "GN(3)\nover Cg H W", "Instance Norm\nover H W"]


def test_sets_digest_counts_the_sets_written_out():
    # [B, T, F] = [4, 8, 6], G = 2: BN 6 sets of 32, per-frame LN 32 of 6, GN 8 of 24, IN 24 of 8
    seq = sets_digest("B T F", (4, 8, 6), G=2).splitlines()
    for line, name, count in zip(seq, ["Batch Norm", "per-frame Layer Norm", "GN(2)",
                                       "Instance Norm"],
                                 ["6 sets of m = 32", "32 sets of m = 6 ", "8 sets of m = 24",
                                  "24 sets of m = 8 "], strict=True):
        assert line.startswith(name) and count in line, line
    assert "shaded: B 0-3, F 0, 8 of 8 positions" in seq[0]
    assert "shaded: B 0, F 0-5, 1 of 8 positions" in seq[1]
    assert "shaded: B 0, F 0-2, 8 of 8 positions" in seq[2]
    img = sets_digest("N C H W", (4, 6, 3, 3), G=3).splitlines()
    assert img[1].startswith("per-example Layer Norm") and "4 sets of m = 54" in img[1]
    assert img[2].startswith("GN(3)") and "12 sets of m = 18" in img[2] and "C 0-1," in img[2]


# --- the plain code beside the primitive, against PyTorch's functional norms -----------------

def _seq():
    return torch.from_numpy(data.sequence(B=3, T=7, F=6, seed=4, dtype=np.float64))


def _img():
    return torch.from_numpy(data.images(N=3, C=6, H=4, W=5, seed=4, dtype=np.float64))


def test_plain_uses_the_biased_variance_as_the_functional_norms_do():
    x = _seq()
    torch.testing.assert_close(plain(x, (2,)), F.layer_norm(x, (6,)))
    torch.testing.assert_close(plain(x, (1, 2)), F.layer_norm(x, (7, 6)))
    i = _img()
    torch.testing.assert_close(plain(i, (0, 2, 3)), F.batch_norm(i, None, None, training=True))


@pytest.mark.parametrize("G", [2, 3])
def test_plain_norm_groups_consecutive_channels_as_group_norm_does(G):
    x, i = _seq(), _img()
    ref = F.group_norm(x.transpose(1, 2), G).transpose(1, 2)
    torch.testing.assert_close(plain_norm(x, "GN", "B T F", G=G), ref)
    torch.testing.assert_close(plain_norm(i, "GN", "N C H W", G=G), F.group_norm(i, G))
    torch.testing.assert_close(plain_norm(i, "IN", "N C H W"), F.instance_norm(i))
    torch.testing.assert_close(plain_norm(x, "BN", "B T F"),
                               F.batch_norm(x.transpose(1, 2), None, None,
                                            training=True).transpose(1, 2))


def test_as_image_is_the_view_b_f_t_1_and_from_image_inverts_it():
    x = data.sequence(B=2, T=5, F=3, seed=1)
    img = as_image(x)
    assert img.shape == (2, 3, 5, 1) and img[1, 2, 4, 0] == x[1, 4, 2]
    assert np.array_equal(from_image(img), x)


def test_table_vs_layers_refuses_what_is_not_in_the_table():
    with pytest.raises(ValueError, match="layout"):
        table_vs_layers("BN", "N H W C")
    with pytest.raises(ValueError, match="norm 'RMS'"):
        table_vs_layers("RMS", "B T F")


# --- the exercises' checkers against answers written out by hand (not read from the checkers) -

def test_exercise_answers_written_by_hand_are_right():
    from normaxes.exercises import check

    mask = np.zeros((2, 4, 6))
    mask[0, :, 0:2] = 1  # GN(3) on F = 6: features 0 and 1, every frame, example 0
    assert check("1.1", mask, quiet=True)
    rms = [[4 / 8**0.5, 0], [5 / 53**0.5, 9 / 53**0.5], [0, 2 / 2**0.5]]
    assert check("1.2", rms, quiet=True)
    assert check("1.2", [[1.414, 0], [0.687, 1.236], [0, 1.414]], quiet=True)  # rounded by hand
    assert check("1.3", 0.9354, quiet=True)

    def ln_masked(x, mask, eps=1e-5):  # per sequence, over the real frames' T and F
        out = torch.zeros_like(x)
        for b in range(x.shape[0]):
            real = x[b, mask[b]]
            out[b, mask[b]] = F.layer_norm(real, real.shape, eps=eps)
        return out

    assert check("1.4", ln_masked, quiet=True)
