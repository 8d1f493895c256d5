"""Deterministic example inputs: sequences whose loudness changes over time, and images."""

from __future__ import annotations

import numpy as np

__all__ = ["tiny_sequence", "tiny_image", "loudness_db", "sequence", "images", "length_mask"]


TINY_SEQUENCE = [[[1, 3], [2, 6], [6, 4]],
                 [[4, 0], [5, 9], [0, 2]]]
TINY_IMAGE = [[[[1, 3], [5, 7]], [[2, 2], [4, 8]]],
              [[[0, 4], [2, 6]], [[6, 2], [0, 0]]]]


def tiny_sequence(dtype=np.float64) -> np.ndarray:
    """The book's worked sequence batch ``[B, T, F] = [2, 3, 2]``: small integers to check by hand.

    Every chapter pools these same twelve numbers in its own way, so the four norms can be compared
    entry by entry with pencil and paper.
    """
    return np.array(TINY_SEQUENCE, dtype=dtype)


def tiny_image(dtype=np.float64) -> np.ndarray:
    """The book's worked image batch ``[N, C, H, W] = [2, 2, 2, 2]``: small integers to check by
    hand."""
    return np.array(TINY_IMAGE, dtype=dtype)


def loudness_db(B: int, T: int, spread_db: float = 30.0, *, seed: int = 0) -> np.ndarray:
    """Per-frame loudness in decibels, shape ``[B, T]``: a slow swing of *spread_db* peak to peak.

    ``spread_db=0`` gives a stationary signal (the same loudness in every frame); larger values
    make the per-frame statistics vary more over time.
    """
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, size=(B, 1))
    t = np.arange(T)[None, :] / max(T, 1)
    return spread_db / 2 * np.sin(2 * np.pi * t + phase)


def sequence(B: int = 4, T: int = 50, F: int = 8, *, spread_db: float = 30.0, seed: int = 0,
             dtype=np.float32) -> np.ndarray:
    """A batch of feature sequences ``[B, T, F]`` whose per-frame loudness swings by *spread_db*.

    Each frame is a per-feature offset plus unit noise, scaled by the frame's gain
    ``10 ** (loudness_db / 20)``, so frames differ in mean and variance: a norm that pools
    statistics over time behaves visibly differently from one that does not.
    """
    rng = np.random.default_rng(seed)
    offset = rng.normal(0.0, 1.0, size=(1, 1, F))
    z = rng.normal(0.0, 1.0, size=(B, T, F))
    gain = 10 ** (loudness_db(B, T, spread_db, seed=seed + 1) / 20)
    return (gain[:, :, None] * (z + offset)).astype(dtype)


def images(N: int = 4, C: int = 6, H: int = 5, W: int = 5, *, seed: int = 0,
           dtype=np.float32) -> np.ndarray:
    """A batch of images ``[N, C, H, W]`` with a scale per image and an offset per channel."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 3.0, size=(N, 1, 1, 1))
    offset = rng.normal(0.0, 2.0, size=(1, C, 1, 1))
    z = rng.normal(0.0, 1.0, size=(N, C, H, W))
    return (scale * (z + offset)).astype(dtype)


def length_mask(lengths, T: int) -> np.ndarray:
    """Boolean mask ``[B, T, 1]``, True for the first ``lengths[b]`` frames of sequence ``b``."""
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"lengths must be one number per sequence, got shape {lengths.shape}")
    if (lengths < 0).any() or (lengths > T).any():
        raise ValueError(f"every length must lie in [0, T={T}], got {lengths.tolist()}")
    return (np.arange(T)[None, :] < lengths[:, None])[:, :, None]
