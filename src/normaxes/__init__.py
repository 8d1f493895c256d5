"""normaxes: every normalization as "standardize over these named axes".

The package in four layers; each depends only on the layers above it:

- public core (this namespace): ``core`` (the layout language, :func:`standardize`,
  :func:`moments`, :func:`stat_groups`, :func:`shared_with`), ``norms``, ``affine``, ``running``,
  ``data``, and ``interop`` (Keras on torch, ``to_numpy``, channels-first layers);
- ``_arrays`` (internal): the one place that tells NumPy from torch, and the argument checks;
- ``chapters/<topic>``: helpers of one chapter, named like that chapter's ``claims/<topic>``;
- ``book/``: the machinery of the book (claims ledger, figures, tables, Sphinx extension), and
  ``claims/``: each chapter's claims, run by the chapter, the ledger page and the tests.

Importing the package sets ``KERAS_BACKEND=torch`` (unless it is already set), so that Keras 3,
imported afterwards, runs on PyTorch.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

from .affine import affine, affine_shape  # noqa: E402
from .core import moments, parse_layout, resolve, shared_with, standardize, stat_groups  # noqa: E402
from .interop import load_keras, on_channels_first, to_numpy  # noqa: E402
from .norms import IMAGE, NORMS, SEQUENCE, NormSpec, apply, norm  # noqa: E402

__all__ = [
    "standardize", "moments", "stat_groups", "shared_with", "parse_layout", "resolve",
    "affine", "affine_shape", "NORMS", "NormSpec", "norm", "apply", "SEQUENCE", "IMAGE",
    "load_keras", "to_numpy", "on_channels_first",
]
__version__ = "0.1.0"
