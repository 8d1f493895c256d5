"""Chapter 5: is Group Norm with one group Layer Norm? On images yes, on sequences no."""

import torch
import torch.nn.functional as F

from .. import data, on_channels_first
from ..ledger import claim

CH = "05"


@claim("gn1-equals-ln-img", chapter=CH, layout="[N,C,H,W]",
       statement="On images, Group Norm with G = 1 normalizes like the GN paper's Layer Norm: "
                 "both reduce over C, H and W.",
       left="F.group_norm(x, 1)", right="F.layer_norm(x, (C, H, W))")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=7))  # [N, C, H, W]
    return F.group_norm(x, 1), F.layer_norm(x, x.shape[1:])


@claim("gn1-differs-ln-seq", chapter=CH, layout="[B,T,F]", expect="differ",
       statement="On sequences, Group Norm with G = 1 (over T and F) is not Layer Norm as "
                 "frameworks ship it (over F, per frame).",
       left="F.group_norm on [B,F,T], 1 group", right="F.layer_norm(x, (F,))")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=50, F=8, seed=7))  # [B, T, F]
    return on_channels_first(lambda v: F.group_norm(v, 1), x), F.layer_norm(x, x.shape[-1:])
