"""What the framework layers reduce over with their defaults, and on the wrong layout (the claims
of chapters/frameworks)."""

import warnings

import numpy as np
import torch

from .. import affine, data, load_keras, on_channels_first, standardize
from ..book.ledger import claim
from ..chapters.frameworks import FIG3_TF, channels_last, flax_apply
from ..envs import run_in

CH = "frameworks"


@claim("keras-bn-default-seq", chapter=CH, layout="[B,T,F]",
       statement="Keras BatchNormalization() in training normalizes a sequence over B and T.",
       left="BatchNormalization()(x, training=True)", right='standardize over "B T"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    bn = load_keras().layers.BatchNormalization()  # axis=-1: the feature axis is last
    return bn(x, training=True), standardize(x, "B T F", over="B T", eps=bn.epsilon)


@claim("keras-bn-default-img", chapter=CH, layout="[N,H,W,C]",
       statement="Keras BatchNormalization() in training normalizes a channels-last image batch "
                 "over N, H and W.",
       left="BatchNormalization()(x, training=True)", right='standardize "N H W C" over "N H W"')
def _():
    x = channels_last(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, H, W, C]
    bn = load_keras().layers.BatchNormalization()
    return bn(x, training=True), standardize(x, "N H W C", over="N H W", eps=bn.epsilon)


@claim("keras-ln-default-seq", chapter=CH, layout="[B,T,F]",
       statement="Keras LayerNormalization() on a sequence is per-frame Layer Norm: standardize "
                 "over F.",
       left="LayerNormalization()(x)", right='standardize over "F"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    ln = load_keras().layers.LayerNormalization()  # axis=-1
    return ln(x), standardize(x, "B T F", over="F", eps=ln.epsilon)


@claim("keras-ln-default-img-per-pixel", chapter=CH, layout="[N,H,W,C]",
       statement="Keras LayerNormalization() on a channels-last image batch is per-pixel Layer "
                 "Norm: each pixel over its channels, not over C, H and W.",
       left="LayerNormalization()(x)", right='standardize "N H W C" over "C"')
def _():
    x = channels_last(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, H, W, C]
    ln = load_keras().layers.LayerNormalization()  # axis=-1: the last axis only
    return ln(x), standardize(x, "N H W C", over="C", eps=ln.epsilon)


@claim("keras-ln-axis-123-is-image-ln", chapter=CH, layout="[N,H,W,C]",
       statement="Keras LayerNormalization(axis=[1, 2, 3]) on a channels-last image batch is "
                 "per-example Layer Norm, over H, W and C.",
       left="LayerNormalization(axis=[1, 2, 3])(x)", right='standardize "N H W C" over "H W C"')
def _():
    x = channels_last(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, H, W, C]
    ln = load_keras().layers.LayerNormalization(axis=[1, 2, 3])  # all but the batch axis
    return ln(x), standardize(x, "N H W C", over="H W C", eps=ln.epsilon)


@claim("keras-gn-default-seq", chapter=CH, layout="[B,T,F]",
       statement="Keras GroupNormalization() (32 groups) on a sequence with F = 64 is standardize "
                 "over T and the 2 features of each group.",
       left="GroupNormalization()(x)", right='standardize "B T (G Fg)" over "T Fg", G=32')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=10, F=64, seed=13))  # [B, T, F], F = 64
    gn = load_keras().layers.GroupNormalization()  # groups=32
    return gn(x), standardize(x, "B T (G Fg)", over="T Fg", G=gn.groups, eps=gn.epsilon)


@claim("keras-gn-minus1-is-in-seq", chapter=CH, layout="[B,T,F]",
       statement="Keras GroupNormalization(groups=-1), one group per feature, is Instance "
                 "Norm: standardize over T.",
       left="GroupNormalization(groups=-1)(x)", right='standardize over "T"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    gn = load_keras().layers.GroupNormalization(groups=-1)  # as many groups as features
    return gn(x), standardize(x, "B T F", over="T", eps=gn.epsilon)


@claim("keras-gn-minus1-is-in-img", chapter=CH, layout="[N,H,W,C]",
       statement="On channels-last images, GroupNormalization(groups=-1) is Instance Norm: "
                 "standardize over H and W.",
       left="GroupNormalization(groups=-1)(x)", right='standardize "N H W C" over "H W"')
def _():
    x = channels_last(data.images(N=4, C=6, H=5, W=5, seed=12))  # [N, H, W, C]
    gn = load_keras().layers.GroupNormalization(groups=-1)
    return gn(x), standardize(x, "N H W C", over="H W", eps=gn.epsilon)


@claim("keras-bn-on-channels-first", chapter=CH, layout="[N,C,H,W]",
       statement="Keras BatchNormalization() given a channels-first image batch takes W for the "
                 "channel axis: it reduces over N, C and H, one statistic per column.",
       left="BatchNormalization()(x [N,C,H,W], training=True)",
       right='standardize "N C H W" over "N C H"')
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=7, seed=12))  # [N, C, H, W]
    bn = load_keras().layers.BatchNormalization()  # axis=-1 is W here: x is not moved
    return bn(x, training=True), standardize(x, "N C H W", over="N C H", eps=bn.epsilon)


@claim("torch-bn1d-untransposed-differs", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="nn.BatchNorm1d given a sequence [B,T,F] without the transpose (it runs when "
                 "T = F) is not Batch Norm over B and T.",
       left="nn.BatchNorm1d(F)(x [B,T,F])", right='standardize over "B T"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=8, F=8, seed=14))  # [B, T, F] with T = F
    with torch.no_grad():
        y = torch.nn.BatchNorm1d(8)(x)  # reads dim 1, T, as the channels
    return y, standardize(x, "B T F", over="B T")


@claim("torch-bn1d-untransposed-per-step", chapter=CH, layout="[B,T,F]",
       statement="What it computes instead: one statistic per time step, over B and F.",
       left="nn.BatchNorm1d(F)(x [B,T,F])", right='standardize over "B F"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=8, F=8, seed=14))  # [B, T, F] with T = F
    with torch.no_grad():
        y = torch.nn.BatchNorm1d(8)(x)
    return y, standardize(x, "B T F", over="B F")


@claim("torch-gn-untransposed-groups-time", chapter=CH, layout="[B,T,F]",
       statement="nn.GroupNorm given a sequence [B,T,F] without the transpose (with its "
                 "default affine step it runs only when T = F) groups time steps, not "
                 "features.",
       left="nn.GroupNorm(2, F)(x [B,T,F])", right='standardize "B (G T) F" over "T F", G=2')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=8, F=8, seed=14))  # [B, T, F] with T = F
    with torch.no_grad():
        y = torch.nn.GroupNorm(2, 8)(x)  # splits dim 1, T, into 2 groups
    return y, standardize(x, "B (G T) F", over="T F", G=2)


@claim("torch-in1d-untransposed-is-ln", chapter=CH, layout="[B,T,F]",
       statement="nn.InstanceNorm1d with its default affine=False, given a sequence [B,T,F] "
                 "without the transpose, runs for any T (warning when T != F) and normalizes "
                 "each frame over F: per-frame Layer Norm, not Instance Norm.",
       left="nn.InstanceNorm1d(F)(x [B,T,F])", right='standardize over "F"')
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=11))  # [B, T, F]
    with warnings.catch_warnings():  # it warns: dim 1 (T = 20) is not num_features
        warnings.simplefilter("ignore")
        y = torch.nn.InstanceNorm1d(8)(x)  # affine=False: num_features is unused
    return y, standardize(x, "B T F", over="F")


@claim("ln-torch-vs-keras-eps", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="PyTorch's and Keras' per-frame Layer Norm, with their default eps (1e-5 and "
                 "1e-3), differ on a sequence whose loudness swings by 60 dB; with "
                 "epsilon=1e-5 passed to Keras the difference vanishes (asserted in the code).",
       left="nn.LayerNorm(F)(x)", right="LayerNormalization()(x)")
def _():
    # loudness swinging by 60 dB: some frames have a variance near 1e-3
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, spread_db=60, seed=15))
    with torch.no_grad():
        torch_default = torch.nn.LayerNorm(8)(x)  # eps = 1e-5
    LN = load_keras().layers.LayerNormalization
    keras_matched = LN(epsilon=1e-5)(x)  # only eps changed
    assert (keras_matched - torch_default).abs().max() < 1e-5  # the difference vanishes
    return torch_default, LN()(x)  # Keras' default epsilon = 1e-3


# ---- The GN paper's Fig. 3 code, run in TensorFlow 2.15 (the TF environment) ----------------

@claim("fig3-tf-img", chapter=CH, layout="[N,C,H,W]",
       statement="The GN paper's Fig. 3 code as printed, run in TensorFlow, is standardize over "
                 "the channels of one group, H and W, then one scale and shift per channel.",
       left="Fig. 3 GroupNorm(x, gamma, beta, G=3) in TensorFlow",
       right='standardize "N (G Cg) H W" over "Cg H W", then affine')
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=40)  # [N, C, H, W]
    rng = np.random.default_rng(40)
    gamma = rng.normal(1, 0.5, (1, 6, 1, 1)).astype(np.float32)  # the paper's shapes
    beta = rng.normal(0, 0.5, (1, 6, 1, 1)).astype(np.float32)
    y = run_in("tf", FIG3_TF + "y = GroupNorm(x, gamma, beta, G=3).numpy()",
               {"x": x, "gamma": gamma, "beta": beta}, "y")
    ours = affine(standardize(x, "N (G Cg) H W", over="Cg H W", G=3), "N C H W", "C",
                  gamma.ravel(), beta.ravel())
    return y, ours


@claim("fig3-tf-img-torch", chapter=CH, layout="[N,C,H,W]",
       statement="The same run of the Fig. 3 code equals PyTorch's F.group_norm with the same "
                 "groups, weight and bias.",
       left="Fig. 3 GroupNorm(x, gamma, beta, G=3) in TensorFlow",
       right="F.group_norm(x, 3, weight, bias)")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=40)  # [N, C, H, W]
    rng = np.random.default_rng(40)
    gamma = rng.normal(1, 0.5, (1, 6, 1, 1)).astype(np.float32)
    beta = rng.normal(0, 0.5, (1, 6, 1, 1)).astype(np.float32)
    y = run_in("tf", FIG3_TF + "y = GroupNorm(x, gamma, beta, G=3).numpy()",
               {"x": x, "gamma": gamma, "beta": beta}, "y")
    ref = torch.nn.functional.group_norm(torch.from_numpy(x), 3,
                                         torch.from_numpy(gamma.ravel()),
                                         torch.from_numpy(beta.ravel()), eps=1e-5)
    return y, ref


@claim("fig3-tf-seq", chapter=CH, layout="[B,T,F]",
       statement="The Fig. 3 code given a sequence as [B, F, T, 1] (T in place of H, W = 1) is "
                 'standardize "B T (G Fg)" over "T Fg", and equals nn.GroupNorm on [B, F, T].',
       left="Fig. 3 GroupNorm(x, 1, 0, G=2) on [B,F,T,1], in TensorFlow",
       right='standardize "B T (G Fg)" over "T Fg"; nn.GroupNorm(2, F) on [B,F,T]')
def _():
    x = data.sequence(B=4, T=50, F=8, seed=41)  # [B, T, F]
    x4 = np.ascontiguousarray(x.transpose(0, 2, 1)[..., None])  # [B, F, T, 1]
    y4 = run_in("tf", FIG3_TF + "y = GroupNorm(x, 1.0, 0.0, G=2).numpy()", {"x": x4}, "y")
    y = y4[..., 0].transpose(0, 2, 1)  # back to [B, T, F]
    with torch.no_grad():
        ref = on_channels_first(torch.nn.GroupNorm(2, 8), torch.from_numpy(x))
    assert np.abs(ref.numpy() - y).max() <= 1e-5  # PyTorch agrees as well
    return y, standardize(x, "B T (G Fg)", over="T Fg", G=2)


@claim("fig3-tf-g1-is-tfkeras-ln-img", chapter=CH, layout="[N,C,H,W]",
       statement="With G = 1, the Fig. 3 code on channels-first images equals tf.keras' "
                 "LayerNormalization(axis=[1, 2, 3]) with the same epsilon.",
       left="Fig. 3 GroupNorm(x, 1, 0, G=1)",
       right="tf.keras LayerNormalization(axis=[1, 2, 3], epsilon=1e-5)")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=40)  # [N, C, H, W]
    return run_in("tf", FIG3_TF + "gn = GroupNorm(x, 1.0, 0.0, G=1).numpy()\n"
                  "ln = tf.keras.layers.LayerNormalization(axis=[1, 2, 3], epsilon=1e-5)(x)",
                  {"x": x}, ["gn", "ln"])


# ---- TF-Addons' GroupNormalization against tf.keras' LayerNormalization ---------------------

@claim("tfa-gn1-differs-tfkeras-ln-seq", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="On a sequence, TF-Addons' GroupNormalization(groups=1) (over T and F) differs "
                 "from tf.keras' LayerNormalization(), per-frame Layer Norm.",
       left="tfa GroupNormalization(groups=1)", right="tf.keras LayerNormalization()")
def _():
    x = data.sequence(B=4, T=50, F=8, seed=7)  # [B, T, F]
    return run_in("tf", """
        import tensorflow as tf, tensorflow_addons as tfa
        gn = tfa.layers.GroupNormalization(groups=1)(x).numpy()
        ln = tf.keras.layers.LayerNormalization()(x).numpy()
    """, {"x": x}, ["gn", "ln"])


@claim("tfa-gn1-is-tfkeras-ln-axis12-seq", chapter=CH, layout="[B,T,F]",
       statement="On a sequence, TF-Addons' GroupNormalization(groups=1) equals tf.keras' "
                 'LayerNormalization(axis=[1, 2]), per-example Layer Norm: both are standardize '
                 'over "T F".',
       left="tfa GroupNormalization(groups=1)",
       right='tf.keras LayerNormalization(axis=[1, 2]); standardize over "T F"')
def _():
    x = data.sequence(B=4, T=50, F=8, seed=7)  # [B, T, F]
    gn, ln = run_in("tf", """
        import tensorflow as tf, tensorflow_addons as tfa
        gn = tfa.layers.GroupNormalization(groups=1)(x).numpy()
        ln = tf.keras.layers.LayerNormalization(axis=[1, 2])(x).numpy()
    """, {"x": x}, ["gn", "ln"])
    ours = standardize(x, "B T F", over="T F", eps=1e-3)  # both default to epsilon=1e-3
    assert np.abs(ours - ln).max() <= 1e-5  # the book's definition agrees
    return gn, ln


@claim("tfa-gn1-differs-tfkeras-ln-img", chapter=CH, layout="[N,H,W,C]", expect="differ",
       statement="On channels-last images, TF-Addons' GroupNormalization(groups=1) (over H, W, "
                 "C) differs from tf.keras' LayerNormalization(), per-pixel Layer Norm.",
       left="tfa GroupNormalization(groups=1)", right="tf.keras LayerNormalization()")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=12).transpose(0, 2, 3, 1)  # [N, H, W, C]
    return run_in("tf", """
        import tensorflow as tf, tensorflow_addons as tfa
        gn = tfa.layers.GroupNormalization(groups=1)(x).numpy()
        ln = tf.keras.layers.LayerNormalization()(x).numpy()
    """, {"x": x}, ["gn", "ln"])


@claim("tfa-gn1-is-tfkeras-ln-axis123-img", chapter=CH, layout="[N,H,W,C]",
       statement="On channels-last images, TF-Addons' GroupNormalization(groups=1) equals "
                 "tf.keras' LayerNormalization(axis=[1, 2, 3]): both are standardize over "
                 '"H W C".',
       left="tfa GroupNormalization(groups=1)",
       right='tf.keras LayerNormalization(axis=[1, 2, 3]); standardize over "H W C"')
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=12).transpose(0, 2, 3, 1)  # [N, H, W, C]
    gn, ln = run_in("tf", """
        import tensorflow as tf, tensorflow_addons as tfa
        gn = tfa.layers.GroupNormalization(groups=1)(x).numpy()
        ln = tf.keras.layers.LayerNormalization(axis=[1, 2, 3])(x).numpy()
    """, {"x": x}, ["gn", "ln"])
    ours = standardize(x, "N H W C", over="H W C", eps=1e-3)
    assert np.abs(ours - ln).max() <= 1e-5
    return gn, ln


@claim("tfa-gn-default-seq", chapter=CH, layout="[B,T,F]",
       statement="TF-Addons' GroupNormalization() (32 groups, epsilon 1e-3) on a sequence with "
                 "F = 64 is standardize over T and the 2 features of each group.",
       left="tfa GroupNormalization()", right='standardize "B T (G Fg)" over "T Fg", G=32')
def _():
    x = data.sequence(B=4, T=10, F=64, seed=13)  # [B, T, F], F = 64
    y = run_in("tf", """
        import tensorflow_addons as tfa
        y = tfa.layers.GroupNormalization()(x).numpy()
    """, {"x": x}, "y")
    return y, standardize(x, "B T (G Fg)", over="T Fg", G=32, eps=1e-3)


@claim("tfa-in-default-img", chapter=CH, layout="[N,H,W,C]",
       statement="TF-Addons' InstanceNormalization() on channels-last images is standardize "
                 "over H and W.",
       left="tfa InstanceNormalization()", right='standardize "N H W C" over "H W"')
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=12).transpose(0, 2, 3, 1)  # [N, H, W, C]
    y = run_in("tf", """
        import tensorflow_addons as tfa
        y = tfa.layers.InstanceNormalization()(x).numpy()
    """, {"x": x}, "y")
    return y, standardize(x, "N H W C", over="H W", eps=1e-3)


@claim("tfkeras-ln-default-seq", chapter=CH, layout="[B,T,F]",
       statement="tf.keras' LayerNormalization() on a sequence is per-frame Layer Norm, "
                 "standardize over F, as in Keras 3.",
       left="tf.keras LayerNormalization()", right='standardize over "F"')
def _():
    x = data.sequence(B=4, T=20, F=8, seed=11)  # [B, T, F]
    y = run_in("tf", """
        import tensorflow as tf
        y = tf.keras.layers.LayerNormalization()(x).numpy()
    """, {"x": x}, "y")
    return y, standardize(x, "B T F", over="F", eps=1e-3)


# ---- Flax (linen), on JAX: in the main environment ------------------------------------------

@claim("flax-gn1-differs-ln-seq", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="On a sequence, Flax's GroupNorm(num_groups=1) and LayerNorm(), per-frame "
                 "Layer Norm, both with their defaults, differ.",
       left="flax.linen GroupNorm(num_groups=1)", right="flax.linen LayerNorm()")
def _():
    from flax import linen
    x = data.sequence(B=4, T=50, F=8, seed=7)  # [B, T, F]
    return (flax_apply(linen.GroupNorm(num_groups=1), x),
            flax_apply(linen.LayerNorm(), x))  # reduction_axes=-1: F


@claim("flax-gn1-is-ln-axes12-seq", chapter=CH, layout="[B,T,F]",
       statement="Flax's GroupNorm(num_groups=1) on a sequence equals LayerNorm(reduction_axes="
                 '(1, 2)): both are standardize over "T F" with epsilon 1e-6.',
       left="flax.linen GroupNorm(num_groups=1)",
       right='flax.linen LayerNorm(reduction_axes=(1, 2)); standardize over "T F"')
def _():
    from flax import linen
    x = data.sequence(B=4, T=50, F=8, seed=7)  # [B, T, F]
    gn = flax_apply(linen.GroupNorm(num_groups=1), x)
    ln = flax_apply(linen.LayerNorm(reduction_axes=(1, 2)), x)
    assert np.abs(standardize(x, "B T F", over="T F", eps=1e-6) - ln).max() <= 1e-5
    return gn, ln


@claim("flax-gn1-differs-ln-img", chapter=CH, layout="[N,H,W,C]", expect="differ",
       statement="On channels-last images, Flax's GroupNorm(num_groups=1) (over H, W, C) and "
                 "LayerNorm(), per-pixel Layer Norm, differ.",
       left="flax.linen GroupNorm(num_groups=1)", right="flax.linen LayerNorm()")
def _():
    from flax import linen
    x = data.images(N=4, C=6, H=5, W=5, seed=12).transpose(0, 2, 3, 1)  # [N, H, W, C]
    return (flax_apply(linen.GroupNorm(num_groups=1), x),
            flax_apply(linen.LayerNorm(), x))


@claim("flax-gn1-is-ln-axes123-img", chapter=CH, layout="[N,H,W,C]",
       statement="On channels-last images, Flax's GroupNorm(num_groups=1) equals "
                 "LayerNorm(reduction_axes=(1, 2, 3)), the example in its docstring.",
       left="flax.linen GroupNorm(num_groups=1)",
       right="flax.linen LayerNorm(reduction_axes=(1, 2, 3))")
def _():
    from flax import linen
    x = data.images(N=4, C=6, H=5, W=5, seed=12).transpose(0, 2, 3, 1)  # [N, H, W, C]
    return (flax_apply(linen.GroupNorm(num_groups=1), x),
            flax_apply(linen.LayerNorm(reduction_axes=(1, 2, 3)), x))


@claim("flax-ln-default-seq", chapter=CH, layout="[B,T,F]",
       statement="Flax's LayerNorm() on a sequence is per-frame Layer Norm: standardize over F "
                 "with epsilon 1e-6.",
       left="flax.linen LayerNorm()", right='standardize over "F", eps=1e-6')
def _():
    from flax import linen
    x = data.sequence(B=4, T=20, F=8, seed=11)  # [B, T, F]
    return flax_apply(linen.LayerNorm(), x), standardize(x, "B T F", over="F", eps=1e-6)


@claim("flax-gn-default-seq", chapter=CH, layout="[B,T,F]",
       statement="Flax's GroupNorm() (32 groups, epsilon 1e-6) on a sequence with F = 64 is "
                 "standardize over T and the 2 features of each group.",
       left="flax.linen GroupNorm()", right='standardize "B T (G Fg)" over "T Fg", G=32')
def _():
    from flax import linen
    x = data.sequence(B=4, T=10, F=64, seed=13)  # [B, T, F], F = 64
    return (flax_apply(linen.GroupNorm(), x),
            standardize(x, "B T (G Fg)", over="T Fg", G=32, eps=1e-6))


@claim("flax-gn1-is-ln-axes123-img-affine", chapter=CH, layout="[N,H,W,C]",
       statement="With the same random scale and bias (both of shape [C]), Flax's "
                 "GroupNorm(num_groups=1) and LayerNorm(reduction_axes=(1, 2, 3)) agree in "
                 "full: Flax's Layer Norm keeps its parameters on feature_axes=-1.",
       left="flax.linen GroupNorm(num_groups=1), random scale and bias",
       right="flax.linen LayerNorm(reduction_axes=(1, 2, 3)), the same variables")
def _():
    from flax import linen
    x = data.images(N=4, C=6, H=5, W=5, seed=12).transpose(0, 2, 3, 1)  # [N, H, W, C]
    rng = np.random.default_rng(12)
    variables = {"params": {"scale": rng.normal(1, 0.5, 6).astype(np.float32),  # [C]
                            "bias": rng.normal(0, 0.5, 6).astype(np.float32)}}
    gn = linen.GroupNorm(num_groups=1).apply(variables, x)
    ln = linen.LayerNorm(reduction_axes=(1, 2, 3)).apply(variables, x)
    return np.asarray(gn), np.asarray(ln)
