"""Chapter 1: the one-line definitions reproduce PyTorch's functional norms on both layouts."""

import numpy as np
import torch
import torch.nn.functional as F

from .. import NORMS, data, standardize
from ..book.ledger import claim

CH = "01"


@claim("bn-seq-torch", chapter=CH, layout="[B,T,F]",
       statement="Batch Norm on a sequence is standardize over B and T, per feature.",
       left='standardize over "B T"', right="F.batch_norm on [B,F,T], training mode")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=1))  # [B, T, F]
    ours = standardize(x, "B T F", over="B T")
    ref = F.batch_norm(x.transpose(1, 2), None, None, training=True).transpose(1, 2)
    return ours, ref


@claim("ln-seq-torch", chapter=CH, layout="[B,T,F]",
       statement="Layer Norm on a sequence, as PyTorch ships it, is standardize over F: per frame.",
       left='standardize over "F"', right="F.layer_norm(x, (F,))")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=1))  # [B, T, F]
    return standardize(x, "B T F", over="F"), F.layer_norm(x, x.shape[-1:])


@claim("gn-seq-torch", chapter=CH, layout="[B,T,F]",
       statement="Group Norm on a sequence is standardize over T and the features of one group.",
       left='standardize "B T (G F)" over "T F", G=2', right="F.group_norm on [B,F,T], 2 groups")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=1))  # [B, T, F]
    ours = standardize(x, "B T (G F)", over="T F", G=2)
    ref = F.group_norm(x.transpose(1, 2), 2).transpose(1, 2)
    return ours, ref


@claim("in-seq-torch", chapter=CH, layout="[B,T,F]",
       statement="Instance Norm on a sequence is standardize over T, per sequence and feature.",
       left='standardize over "T"', right="F.instance_norm on [B,F,T]")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=1))  # [B, T, F]
    ref = F.instance_norm(x.transpose(1, 2)).transpose(1, 2)  # wants [B, F, T]
    return standardize(x, "B T F", over="T"), ref


@claim("bn-img-torch", chapter=CH, layout="[N,C,H,W]",
       statement="Batch Norm on images is standardize over N, H and W, per channel.",
       left='standardize over "N H W"', right="F.batch_norm, training mode")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=2))  # [N, C, H, W]
    ref = F.batch_norm(x, None, None, training=True)
    return standardize(x, "N C H W", over="N H W"), ref


@claim("ln-img-torch", chapter=CH, layout="[N,C,H,W]",
       statement="Layer Norm on images (the GN paper's) is standardize over C, H and W.",
       left='standardize over "C H W"', right="F.layer_norm(x, (C, H, W))")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=2))  # [N, C, H, W]
    return standardize(x, "N C H W", over="C H W"), F.layer_norm(x, x.shape[1:])


@claim("gn-img-torch", chapter=CH, layout="[N,C,H,W]",
       statement="Group Norm on images is standardize over the channels of one group, H and W.",
       left='standardize "N (G C) H W" over "C H W", G=3', right="F.group_norm(x, 3)")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=2))  # [N, C, H, W]
    return standardize(x, "N (G C) H W", over="C H W", G=3), F.group_norm(x, 3)


@claim("in-img-torch", chapter=CH, layout="[N,C,H,W]",
       statement="Instance Norm on images is standardize over H and W, per image and channel.",
       left='standardize over "H W"', right="F.instance_norm(x)")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=2))  # [N, C, H, W]
    return standardize(x, "N C H W", over="H W"), F.instance_norm(x)


@claim("numpy-equals-torch", chapter=CH, layout="[B,T,F]",
       statement="standardize gives the same numbers on a NumPy array and on a torch tensor.",
       left="standardize on np.ndarray (float64)", right="standardize on torch.Tensor (float64)")
def _():
    x = data.sequence(B=4, T=20, F=8, seed=3, dtype=np.float64)
    return (standardize(x, "B T (G F)", over="T F", G=4),
            standardize(torch.from_numpy(x), "B T (G F)", over="T F", G=4))


@claim("channels-last-same-stats", chapter=CH, layout="[N,H,W,C]",
       statement="Channels last changes the layout string, not the statistics: Group Norm on "
                 "[N,H,W,C] read as \"N H W (G C)\" equals Group Norm on [N,C,H,W].",
       left='standardize "N H W (G C)" over "H W C", moved to [N,C,H,W]',
       right='standardize "N (G C) H W" over "C H W"')
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=4)
    x_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # [N, H, W, C]
    ours = standardize(x_last, "N H W (G C)", over="H W C", G=3).transpose(0, 3, 1, 2)
    return ours, standardize(x, "N (G C) H W", over="C H W", G=3)


def _as_image(x):
    """The sequence [B, T, F] viewed as an image [N=B, C=F, H=T, W=1], and back."""
    return np.ascontiguousarray(x.transpose(0, 2, 1)[..., None])


def _from_image(y):
    return y[..., 0].transpose(0, 2, 1)


@claim("sequence-as-image", chapter=CH, layout="[B,T,F] as [N,C,H,W]",
       statement="A sequence is an image with C = F, H = T and W = 1: on that view Batch, Group "
                 "and Instance Norm reduce over the matching axes (B T as N H W, T F as C H W, "
                 "T as H W).",
       left="BN, GN, IN on [B,T,F]", right="the same norms on the view [B,F,T,1]")
def _():
    x = data.sequence(B=4, T=20, F=8, seed=5)
    img = _as_image(x)
    seq_side, img_side = [], []
    for short, sizes in (("BN", {}), ("GN", {"G": 2}), ("IN", {})):
        seq_side.append(NORMS["B T F"][short](x, **sizes))
        img_side.append(_from_image(NORMS["N C H W"][short](img, **sizes)))
    return np.stack(seq_side), np.stack(img_side)


@claim("ln-does-not-map", chapter=CH, layout="[B,T,F] as [N,C,H,W]", expect="differ",
       statement="Layer Norm is the exception: the image Layer Norm (over C H W) on the view "
                 "[B,F,T,1] reduces over F and T, while Layer Norm on a sequence reduces over F.",
       left='sequence LN, over "F"', right='image LN on the view, over "C H W"')
def _():
    x = data.sequence(B=4, T=20, F=8, seed=5)
    return NORMS["B T F"]["LN"](x), _from_image(NORMS["N C H W"]["LN"](_as_image(x)))
