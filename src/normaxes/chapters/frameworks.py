"""Chapter 6 (the frameworks): the GN paper's Fig. 3 code as printed, and the layers of
TensorFlow, TF-Addons and Flax read in their own environments (see :mod:`normaxes.envs`)."""

from __future__ import annotations

import json
import re

import numpy as np

from ..envs import run_in

__all__ = ["FIG3_TF", "flax_apply", "in_tf", "tf_defaults", "tf_doc", "sentence_with"]

# The GN paper's Fig. 3 (Wu and He, 2018), as printed, but for one word: TensorFlow 2 spells the
# argument `keepdims`, where the paper, written for TensorFlow 1, has `keep_dims`.
FIG3_TF = '''\
import tensorflow as tf


def GroupNorm(x, gamma, beta, G, eps=1e-5):
    # x: input features with shape [N,C,H,W]
    # gamma, beta: scale and offset, with shape [1,C,1,1]
    # G: number of groups for GN
    N, C, H, W = x.shape
    x = tf.reshape(x, [N, G, C // G, H, W])
    mean, var = tf.nn.moments(x, [2, 3, 4], keepdims=True)
    x = (x - mean) / tf.sqrt(var + eps)
    x = tf.reshape(x, [N, C, H, W])
    return x * gamma + beta
'''


def flax_apply(layer, x, **call):
    """Initialise a Flax linen *layer* on *x* (scale 1, bias 0) and apply it: a NumPy array."""
    import jax

    variables = layer.init(jax.random.key(0), x, **call)
    y, _ = layer.apply(variables, x, mutable=["batch_stats"], **call)
    return np.asarray(y)


_TF_IMPORTS = "import tensorflow as tf, tensorflow_addons as tfa\n"


def in_tf(layer: str, call: str = ""):
    """A function ``x -> y`` that builds *layer* (TensorFlow code such as
    ``"tfa.layers.GroupNormalization()"``) in the TF environment and applies it to *x*.

    ``in_tf("tf.keras.layers.BatchNormalization()", ", training=True")`` calls it in training
    mode. Each call runs there through :func:`normaxes.envs.run_in`; *x* goes as float32.
    """
    code = _TF_IMPORTS + f"y = ({layer})(x{call}).numpy()"
    return lambda x: run_in("tf", code, {"x": np.asarray(x, dtype=np.float32)}, "y")


def tf_defaults(cls: str, *names: str) -> dict:
    """The defaults of the parameters *names* of the TensorFlow class *cls* (e.g.
    ``"tfa.layers.GroupNormalization"``), read with ``inspect.signature`` in the TF environment;
    ``"required"`` where a parameter has none."""
    text = run_in("tf", _TF_IMPORTS + f"""
import inspect, json
params = inspect.signature({cls}).parameters
missing = [n for n in names if n not in params]
if missing:
    raise ValueError("{cls} has no parameter " + ", ".join(missing))
empty = inspect.Parameter.empty
text = json.dumps({{n: "required" if params[n].default is empty else params[n].default
                   for n in names}})
""", {"names": np.array(names, dtype=str)}, "text")
    return json.loads(str(text))


def tf_doc(cls: str) -> str:
    """The docstring of the TensorFlow class *cls*, read from the package installed in the TF
    environment."""
    return str(run_in("tf", _TF_IMPORTS + f"doc = {cls}.__doc__", {}, "doc"))


def sentence_with(text: str, words: str) -> str:
    """The sentence of *text* (a docstring) that contains *words*, its lines joined; raises
    ``ValueError`` if no sentence does."""
    flat = re.sub(r"\s+", " ", text)
    for sentence in re.split(r"(?<=\.)\s", flat):
        if words in sentence:
            return sentence.strip()
    raise ValueError(f"no sentence of the text contains {words!r}")
