"""The exercises of the chapter "What each framework means by each name" (chapters/frameworks):
the checkers of their answers."""

from __future__ import annotations

from . import exercise, same_axes, same_choice, same_function

# --- 6.1: Keras LayerNormalization(axis=[1, 2]) on channels-last images ------------------------

@exercise("frameworks", 1, solution="H W", wrong=["H W C", "C", "N H W", "W C"],
          right_because="axis=[1, 2] names H and W: each channel of each image is standardized "
                        "on its own, Instance Norm's statistics set.")
def _(answer):
    return same_axes("H W", layout="N H W C", reasons={
        "C": "axis=[1, 2] names dimensions 1 and 2 of [N, H, W, C]: H and W; C is dimension 3",
        "N": "a Layer Norm never pools the batch",
        "H": "dimension 1 of [N, H, W, C] is H",
        "W": "dimension 2 of [N, H, W, C] is W",
    })(answer)


# --- 6.2: Keras GroupNormalization(groups=2) on [B, T, F], in plain PyTorch -------------------

def _keras_gn2(x):
    """The referee: Keras 3's GroupNormalization(groups=2), every other argument at its default."""
    from .. import load_keras

    return load_keras().layers.GroupNormalization(groups=2)(x)


def keras_gn2_plain(x):
    """The reference answer: Keras' GroupNormalization(groups=2) on ``x [B, T, F]`` in plain
    PyTorch: two groups of ``Fg = F // 2`` consecutive features, each pooled over ``T`` and its
    ``Fg`` features, biased variance, Keras' default epsilon 1e-3."""
    B, T, F = x.shape
    G = 2
    Fg = F // G
    xg = x.reshape(B, T, G, Fg)
    mean = xg.mean(dim=(1, 3), keepdim=True)
    var = xg.var(dim=(1, 3), correction=0, keepdim=True)
    return ((xg - mean) / (var + 1e-3).sqrt()).reshape(B, T, F)


def _sequences():
    import torch

    from .. import data

    return [(torch.from_numpy(data.sequence(B=3, T=7, F=8, seed=s)),) for s in (0, 1)]


def _gn2_torch_eps(x):  # wrong: PyTorch's epsilon, 1e-5, where Keras' default is 1e-3
    B, T, F = x.shape
    xg = x.reshape(B, T, 2, F // 2)
    mean, var = xg.mean(dim=(1, 3), keepdim=True), xg.var(dim=(1, 3), correction=0, keepdim=True)
    return ((xg - mean) / (var + 1e-5).sqrt()).reshape(B, T, F)


def _gn2_interleaved(x):  # wrong: groups of every other feature, reshape(B, T, Fg, G)
    B, T, F = x.shape
    xg = x.reshape(B, T, F // 2, 2)
    mean, var = xg.mean(dim=(1, 2), keepdim=True), xg.var(dim=(1, 2), correction=0, keepdim=True)
    return ((xg - mean) / (var + 1e-3).sqrt()).reshape(B, T, F)


def _gn2_per_frame(x):  # wrong: each group pooled within one frame only
    B, T, F = x.shape
    xg = x.reshape(B, T, 2, F // 2)
    mean, var = xg.mean(dim=3, keepdim=True), xg.var(dim=3, correction=0, keepdim=True)
    return ((xg - mean) / (var + 1e-3).sqrt()).reshape(B, T, F)


@exercise("frameworks", 2, solution=keras_gn2_plain,
          wrong=[_gn2_torch_eps, _gn2_interleaved, _gn2_per_frame],
          right_because="x.reshape(B, T, G, Fg), mean and biased variance over dims (1, 3), "
                        "epsilon 1e-3.")
def _(answer):
    return same_function(_keras_gn2, _sequences, tol=1e-4)(answer)


# --- 6.3: Keras RMSNormalization(), read by running it ----------------------------------------

def _keras_rms(x):
    """The referee: Keras 3's RMSNormalization() with its defaults."""
    from .. import load_keras

    return load_keras().layers.RMSNormalization()(x)


def keras_rms_plain(x):
    """The reference answer: Keras' RMSNormalization() on ``x [B, T, F]`` in plain PyTorch: each
    frame divided by the root of its mean square over ``F`` plus epsilon 1e-6, no centering."""
    return x * (x.pow(2).mean(dim=-1, keepdim=True) + 1e-6).rsqrt()


def _quiet_sequences():
    """Sequences with a quiet frame (mean square near 1e-6), where epsilon shows."""
    import torch

    from .. import data

    out = []
    for s in (0, 1):
        x = torch.from_numpy(data.sequence(B=2, T=6, F=8, seed=s))
        x[0, 2] *= 1e-3 / x[0, 2].pow(2).mean().sqrt()  # one frame of RMS 1e-3
        out.append((x,))
    return out


def _rms_no_eps(x):  # wrong: no epsilon
    return x * x.pow(2).mean(dim=-1, keepdim=True).rsqrt()


def _rms_torch_default(x):  # wrong: nn.RMSNorm's default eps, the float32 machine epsilon
    import torch

    return torch.nn.functional.rms_norm(x, x.shape[-1:])


def _rms_centered(x):  # wrong: that is per-frame Layer Norm with epsilon 1e-6
    import torch

    return torch.nn.functional.layer_norm(x, x.shape[-1:], eps=1e-6)


@exercise("frameworks", 3, solution=keras_rms_plain,
          wrong=[_rms_no_eps, _rms_torch_default, _rms_centered],
          right_because="over F, no mean subtracted, epsilon 1e-6 inside the root.")
def _(answer):
    return same_function(_keras_rms, _quiet_sequences, tol=1e-4)(answer)


# --- 6.4: the shape of Flax's LayerNorm(reduction_axes=(1, 2, 3)) scale on [N, H, W, C] -------

SHAPES_64 = ("[C]", "[H, W, C]", "[C, H, W]", "[N, H, W, C]")


@exercise("frameworks", 4, solution="[C]", wrong=["[H, W, C]", "[C, H, W]"],
          right_because="Flax keeps the parameters on feature_axes=-1, whatever the reduction "
                        "axes: one scale per channel, as GN(1) has.")
def _(answer):
    return same_choice("[C]", options=SHAPES_64, reasons={
        "[H, W, C]": "that is Keras' LayerNormalization(axis=[1, 2, 3]); Flax's parameters "
                     "follow feature_axes, which defaults to -1",
        "[C, H, W]": "that is PyTorch's nn.LayerNorm([C, H, W]); Flax's parameters follow "
                     "feature_axes, which defaults to -1",
        "[N, H, W, C]": "no layer keeps parameters per example",
    })(answer)

