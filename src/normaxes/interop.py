"""Interop with the reference frameworks: Keras 3 on its torch backend, arrays to NumPy, and
PyTorch's channels-first layers on ``[B, T, F]`` sequences."""

from __future__ import annotations

import importlib
import os
import sys

import numpy as np

__all__ = ["load_keras", "to_numpy", "on_channels_first"]

_KERAS_SKIPS = ("sklearn", "jax")


def load_keras():
    """Import Keras 3 on the torch backend and return the module.

    Importing ``normaxes`` already sets ``KERAS_BACKEND=torch`` unless it was set; this raises
    a clear error if Keras was imported earlier with another backend.
    """
    os.environ.setdefault("KERAS_BACKEND", "torch")
    # Keras' import loads two optional integrations whenever they are installed: its scikit-learn
    # wrappers (`import sklearn`) and a JAX hook of its Orbax checkpoint callback (`import jax`).
    # The book uses neither, and they are about 40 % of the import; those not yet imported are
    # hidden while Keras is imported (Keras treats them as not installed; they import as usual
    # afterwards). Only keras.wrappers' scikit-learn estimators need scikit-learn imported first.
    hidden = [] if "keras" in sys.modules else [m for m in _KERAS_SKIPS if m not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # `import name` raises ImportError
    try:
        k = importlib.import_module("keras")
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    backend = k.backend.backend()
    if backend != "torch":
        raise RuntimeError(
            f"Keras runs on the {backend!r} backend, but the book checks it on 'torch': set "
            "KERAS_BACKEND=torch before keras is first imported (importing normaxes first does it)"
        )
    return k


def to_numpy(x) -> np.ndarray:
    """A NumPy copy of a NumPy array, torch tensor, Keras tensor or Keras variable."""
    if isinstance(x, np.ndarray):
        return x
    value = getattr(x, "value", None)  # a Keras variable wraps a torch tensor
    if value is not None and hasattr(value, "detach"):
        x = value
    detach = getattr(x, "detach", None)
    if detach is not None:
        return detach().cpu().numpy()
    return np.asarray(x)


def on_channels_first(fn, x):
    """Apply *fn*, which wants channels first, to a sequence *x* laid out ``[B, T, F]``.

    PyTorch's ``BatchNorm1d``, ``GroupNorm``, ``InstanceNorm1d`` and ``Conv1d`` read a sequence as
    ``[B, F, T]``; this swaps the last two dimensions, applies *fn* and swaps them back, so the
    result is ``[B, T, F]`` again. Works on torch tensors and NumPy arrays.
    """
    if x.ndim != 3:
        raise ValueError(f"x must be a sequence [B, T, F] with 3 dimensions, got {x.ndim} "
                         f"(shape {tuple(x.shape)})")
    return fn(x.swapaxes(1, 2)).swapaxes(1, 2)
