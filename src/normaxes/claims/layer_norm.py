"""Chapter 3: Layer Norm, per frame on sequences and per image on images."""

import numpy as np
import torch

from .. import data, standardize
from ..ledger import claim

CH = "03"


@claim("ln-channels-last-per-pixel", chapter=CH, layout="[N,H,W,C]",
       statement="nn.LayerNorm(C) on a channels-last image normalizes each pixel over its C "
                 "channels: standardize \"N H W C\" over \"C\".",
       left='standardize "N H W C" over "C"', right="nn.LayerNorm(C) on [N,H,W,C]")
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=6).transpose(0, 2, 3, 1)  # [N, H, W, C]
    x = torch.from_numpy(np.ascontiguousarray(x))
    ln = torch.nn.LayerNorm(6)
    with torch.no_grad():
        ref = ln(x)
    return standardize(x, "N H W C", over="C"), ref


@claim("ln-per-pixel-is-not-image-ln", chapter=CH, layout="[N,H,W,C]", expect="differ",
       statement="Layer Norm per pixel (over C) is not the GN paper's Layer Norm (over C, H "
                 "and W).",
       left='standardize "N H W C" over "C"', right='standardize "N H W C" over "H W C"')
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=6).transpose(0, 2, 3, 1)  # [N, H, W, C]
    return standardize(x, "N H W C", over="C"), standardize(x, "N H W C", over="H W C")
