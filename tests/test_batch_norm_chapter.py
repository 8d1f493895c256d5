"""The helpers of the chapter "Batch Normalization" (normaxes.chapters.batch_norm) against
fractions worked by hand and against the PyTorch and Keras layers."""

import numpy as np
import pytest
import torch

from normaxes import data, load_keras, on_channels_first
from normaxes.chapters import batch_norm as bn_chapter
from normaxes.chapters.batch_norm import (
    defaults_table,
    exact_running,
    fractions,
    frame_rms,
    layout_trap_curves,
    share_moved,
)


def test_exact_running_of_the_tiny_sequence_is_the_one_worked_by_hand():
    # means 3, 4; biased variances 14/3, 25/3; m = 6. PyTorch: alpha = 1/10 and the unbiased
    # variance (6/5 times); Keras: alpha = 1/100 and the biased one; both start at 0 and 1
    rows = exact_running(data.tiny_sequence()).splitlines()[2:]
    assert rows == ["| 1 | 3 | 14/3 | 3/10 | 73/50 | 3/100 | 311/300 |",
                    "| 2 | 4 | 25/3 | 2/5 | 19/10 | 1/25 | 161/150 |"]


def test_exact_running_of_the_tiny_image_per_channel():
    # channel 1: mean 7/2, variance 21/4 (m = 8, unbiased 6): 7/20, 9/10 + 6/10 = 3/2
    rows = exact_running(data.tiny_image(), feature_axis=1).splitlines()[2:]
    assert rows == ["| 1 | 7/2 | 21/4 | 7/20 | 3/2 | 7/200 | 417/400 |",
                    "| 2 | 3 | 7 | 3/10 | 17/10 | 3/100 | 53/50 |"]


def test_exact_running_is_what_the_layers_store_after_one_step():
    x = torch.from_numpy(data.tiny_sequence())
    bn = torch.nn.BatchNorm1d(2).double()
    with torch.no_grad():
        on_channels_first(bn, x)
    keras = load_keras().layers.BatchNormalization(dtype="float64")
    keras(x, training=True)
    cells = [r.split(" | ") for r in exact_running(data.tiny_sequence()).splitlines()[2:]]
    assert fractions(bn.running_mean) == " ".join(c[3] for c in cells)
    assert fractions(bn.running_var) == " ".join(c[4] for c in cells)
    assert fractions(keras.moving_mean) == " ".join(c[5] for c in cells)
    assert fractions(keras.moving_variance) == " ".join(c[6].rstrip(" |") for c in cells)


def test_fractions_prints_exact_looking_values():
    assert fractions([0.3, 1.46]) == "3/10 73/50"
    assert fractions(torch.tensor([2.0, -0.25])) == "2 -1/4"


def test_share_moved_is_the_geometric_share_the_layers_follow():
    text = share_moved(data.sequence(B=4, T=20, F=8, seed=21), steps=(3, 30))
    assert text.splitlines() == [
        "after  3 steps, the share of the way moved: PyTorch 0.27, Keras 0.03",
        "after 30 steps, the share of the way moved: PyTorch 0.96, Keras 0.26"]


def test_share_moved_fails_when_its_weight_is_not_the_layers(monkeypatch):
    from fractions import Fraction

    monkeypatch.setitem(bn_chapter.ALPHA, "Keras", Fraction(1, 10))  # PyTorch's, not Keras'
    with pytest.raises(AssertionError):
        share_moved(data.sequence(B=4, T=20, F=8, seed=21), steps=(3,))


def test_defaults_table_reads_the_defaults_and_the_conventions():
    table = defaults_table()
    assert "| `momentum` | `0.1` | `0.99` |" in table
    assert "momentum = 0.1 | 1 − momentum = 0.01 |" in table
    assert "`eps=1e-05`" in table and "`epsilon=0.001`" in table
    assert "unbiased, $\\frac{m}{m-1}\\sigma^2$ | biased, $\\sigma^2$" in table


def test_frame_rms_is_over_batch_and_features():
    y = np.zeros((2, 3, 2))
    y[:, 1, :] = 2.0  # time step 1 has RMS 2, the others 0
    y[0, 2, 0] = 4.0  # time step 2: one entry of 4 among B·F = 4 entries -> RMS 2
    np.testing.assert_allclose(frame_rms(y), [0.0, 2.0, 2.0])


def test_layout_trap_curves_flatten_only_the_wrong_layout():
    curves = layout_trap_curves(data.sequence(B=4, T=20, F=8, seed=11))
    x_rms, bn_rms, wrong_rms = curves.values()
    assert x_rms.shape == bn_rms.shape == wrong_rms.shape == (20,)
    np.testing.assert_allclose(wrong_rms, 1.0, atol=1e-3)  # one RMS per time step: 1
    ratio = {k: r.max() / r.min() for k, r in curves.items()}
    assert ratio["input x"] > 10 and 2 < ratio['Batch Norm, over "B T"'] < ratio["input x"]


# --- the exercises' checkers against answers written out by hand (not read from the checkers) -

def test_exercise_answers_written_by_hand_are_right():
    from normaxes.exercises import check

    # tiny image: channel means 7/2, 3; unbiased variances 6, 8; momentum 0.1 from 0 and 1
    assert check("2.1", [[0.35, 0.3], [1.5, 1.7]], quiet=True)
    assert check("2.2", "T B", quiet=True)
    assert check("2.3", 0.01, quiet=True)

    def train_step(x, running_mean, running_var, momentum):  # by the layer's documentation
        B, T, F = x.shape
        flat = x.reshape(B * T, F)
        mu, var = flat.mean(0), ((flat - flat.mean(0)) ** 2).mean(0)
        y = ((flat - mu) / (var + 1e-5).sqrt()).reshape(B, T, F)
        unbiased = var * (B * T) / (B * T - 1)
        return (y, running_mean + momentum * (mu - running_mean),
                running_var + momentum * (unbiased - running_var))

    assert check("2.4", train_step, quiet=True)
