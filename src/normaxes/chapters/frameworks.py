"""Chapter 6 (the frameworks): the GN paper's Fig. 3 code as printed, and the layers of
TensorFlow, TF-Addons and Flax read in their own environments (see :mod:`normaxes.envs`)."""

from __future__ import annotations

__all__ = ["FIG3_TF"]

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
