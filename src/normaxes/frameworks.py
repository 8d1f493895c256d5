"""Access to the reference frameworks: PyTorch, and Keras 3 on its torch backend."""

from __future__ import annotations

import importlib
import os

import numpy as np

__all__ = ["keras", "to_numpy"]


def keras():
    """Import Keras 3 on the torch backend and return the module.

    Importing ``normaxes`` already sets ``KERAS_BACKEND=torch`` unless it was set; this raises
    a clear error if Keras was imported earlier with another backend.
    """
    os.environ.setdefault("KERAS_BACKEND", "torch")
    k = importlib.import_module("keras")
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
