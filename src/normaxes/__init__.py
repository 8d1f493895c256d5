"""normaxes: every normalization as "standardize over these named axes".

Importing the package sets ``KERAS_BACKEND=torch`` (unless it is already set), so that Keras 3,
imported afterwards, runs on PyTorch.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

from .affine import affine, affine_shape  # noqa: E402
from .core import moments, parse_layout, resolve, shared_with, standardize, stat_groups  # noqa: E402
from .frameworks import keras, on_channels_first, to_numpy  # noqa: E402
from .norms import IMAGE, NORMS, SEQUENCE, NormSpec, apply, norm  # noqa: E402

__all__ = [
    "standardize", "moments", "stat_groups", "shared_with", "parse_layout", "resolve",
    "affine", "affine_shape", "NORMS", "NormSpec", "norm", "apply", "SEQUENCE", "IMAGE",
    "keras", "to_numpy", "on_channels_first",
]
__version__ = "0.1.0"
