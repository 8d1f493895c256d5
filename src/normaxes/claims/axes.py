"""Chapter 1: the one-line definitions reproduce PyTorch's functional norms on both layouts."""

import numpy as np
import torch
import torch.nn.functional as F

from .. import NORMS, data, standardize
from ..book.ledger import claim
from ..chapters.axes import (
    KERAS_LAYERS,
    TORCH_LAYERS,
    as_image,
    book_name,
    from_image,
    plain,
    table_vs_layers,
)

CH = "axes"


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
       left='standardize "B T (G Fg)" over "T Fg", G=2', right="F.group_norm on [B,F,T], 2 groups")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=1))  # [B, T, F]
    ours = standardize(x, "B T (G Fg)", over="T Fg", G=2)
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
       left='standardize "N (G Cg) H W" over "Cg H W", G=3', right="F.group_norm(x, 3)")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=2))  # [N, C, H, W]
    return standardize(x, "N (G Cg) H W", over="Cg H W", G=3), F.group_norm(x, 3)


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
    return (standardize(x, "B T (G Fg)", over="T Fg", G=4),
            standardize(torch.from_numpy(x), "B T (G Fg)", over="T Fg", G=4))


@claim("ln-tiny-by-hand", chapter=CH, layout="[B,T,F]",
       statement="On the tiny sequence every frame holds two numbers, so per-frame Layer Norm "
                 "(eps = 0) turns each frame into (-1, 1) or (1, -1), the smaller number first "
                 "getting -1: the answer written out by hand.",
       left='standardize(x, "B T F", over="F", eps=0)', right="the 12 signs written out")
def _():
    x = data.tiny_sequence()  # [[[1, 3], [2, 6], [6, 4]], [[4, 0], [5, 9], [0, 2]]]
    by_hand = np.array([[[-1, 1], [-1, 1], [1, -1]], [[1, -1], [-1, 1], [-1, 1]]])
    return standardize(x, "B T F", over="F", eps=0), by_hand


@claim("plain-equals-standardize-seq", chapter=CH, layout="[B,T,F]",
       statement="Each norm's standardize call gives what two lines of plain PyTorch give: the "
                 "mean and the biased variance over the norm's dimensions, after a reshape for "
                 "GN (Batch Norm, per-frame and per-example Layer Norm, GN(2) and Instance Norm, "
                 "stacked).",
       left="standardize(x, layout, over)", right="plain(x, dims): x.mean, x.var(unbiased=False)")
def _():
    x = torch.from_numpy(data.sequence(B=4, T=20, F=8, seed=7, dtype=np.float64))
    B, T, F = x.shape
    G, Fg = 2, F // 2
    ours = [standardize(x, "B T F", over="B T"), standardize(x, "B T F", over="F"),
            standardize(x, "B T F", over="T F"), standardize(x, "B T (G Fg)", over="T Fg", G=G),
            standardize(x, "B T F", over="T")]
    by_plain = [plain(x, (0, 1)), plain(x, (2,)), plain(x, (1, 2)),
                plain(x.reshape(B, T, G, Fg), (1, 3)).reshape(B, T, F), plain(x, (1,))]
    return torch.stack(ours), torch.stack(by_plain)


@claim("plain-equals-standardize-img", chapter=CH, layout="[N,C,H,W]",
       statement="The same on images: standardize and plain PyTorch agree for Batch Norm, "
                 "per-example and per-pixel Layer Norm, GN(3) and Instance Norm.",
       left="standardize(x, layout, over)", right="plain(x, dims): x.mean, x.var(unbiased=False)")
def _():
    x = torch.from_numpy(data.images(N=4, C=6, H=5, W=5, seed=7, dtype=np.float64))
    N, C, H, W = x.shape
    G, Cg = 3, C // 3
    ours = [standardize(x, "N C H W", over="N H W"), standardize(x, "N C H W", over="C H W"),
            standardize(x, "N C H W", over="C"),
            standardize(x, "N (G Cg) H W", over="Cg H W", G=G),
            standardize(x, "N C H W", over="H W")]
    by_plain = [plain(x, (0, 2, 3)), plain(x, (1, 2, 3)), plain(x, (1,)),
                plain(x.reshape(N, G, Cg, H, W), (2, 3, 4)).reshape(N, C, H, W), plain(x, (2, 3))]
    return torch.stack(ours), torch.stack(by_plain)


@claim("channels-last-same-stats", chapter=CH, layout="[N,H,W,C]",
       statement="Channels last changes the layout string, not the statistics: Group Norm on "
                 "[N,H,W,C] read as \"N H W (G Cg)\" equals Group Norm on [N,C,H,W].",
       left='standardize "N H W (G Cg)" over "H W Cg", moved to [N,C,H,W]',
       right='standardize "N (G Cg) H W" over "Cg H W"')
def _():
    x = data.images(N=4, C=6, H=5, W=5, seed=4)
    x_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # [N, H, W, C]
    ours = standardize(x_last, "N H W (G Cg)", over="H W Cg", G=3).transpose(0, 3, 1, 2)
    return ours, standardize(x, "N (G Cg) H W", over="Cg H W", G=3)


@claim("sequence-as-image", chapter=CH, layout="[B,T,F] as [N,C,H,W]",
       statement="A sequence is an image with C = F, H = T and W = 1: on that view Batch, Group "
                 "and Instance Norm reduce over the matching axes (B T as N H W, T F as C H W, "
                 "T as H W).",
       left="BN, GN, IN on [B,T,F]", right="the same norms on the view [B,F,T,1]")
def _():
    x = data.sequence(B=4, T=20, F=8, seed=5)
    img = as_image(x)
    seq_side, img_side = [], []
    for short, sizes in (("BN", {}), ("GN", {"G": 2}), ("IN", {})):
        seq_side.append(NORMS["B T F"][short](x, **sizes))
        img_side.append(from_image(NORMS["N C H W"][short](img, **sizes)))
    return np.stack(seq_side), np.stack(img_side)


@claim("ln-does-not-map", chapter=CH, layout="[B,T,F] as [N,C,H,W]", expect="differ",
       statement="Layer Norm is the exception: the image's per-example Layer Norm (over C H W) "
                 "on the view [B,F,T,1] reduces over F and T, the sequence's per-frame Layer Norm "
                 "over F only.",
       left='per-frame Layer Norm, over "F"',
       right='per-example Layer Norm of the view, over "C H W"')
def _():
    x = data.sequence(B=4, T=20, F=8, seed=5)
    return NORMS["B T F"]["LN"](x), from_image(NORMS["N C H W"]["LN"](as_image(x)))


# The book's answer table, NORMS, against the frameworks' own layers: one claim per norm per
# layout, each comparing the table's entry with the PyTorch and the Keras layer at once. Group Norm
# uses G = 2 of 6 channels, neither 1 nor C, so the grouping (G Cg), not (C G), is tested too.

def _table_claim(short, layout):
    spec = NORMS[layout][short]
    g = f", {spec.group_axis}=2" if spec.group_axis else ""
    return claim(
        f"norms-table-{short.lower()}-{'seq' if layout == 'B T F' else 'img'}", chapter=CH,
        layout="[B,T,F]" if layout == "B T F" else "[N,C,H,W]",
        statement=f"The book's answer for {book_name(short, layout)} on {layout}, "
                  f"standardize(x, \"{spec.layout}\", over=\"{spec.over}\"{g}), is what the "
                  "PyTorch and the Keras layer compute "
                  "(training mode, eps 1e-5, fresh scale and shift).",
        left=f'NORMS["{layout}"]["{short}"]',
        right=f"{TORCH_LAYERS[layout][short]}; Keras {KERAS_LAYERS[layout][short]}")


@_table_claim("BN", "B T F")
def _():
    return table_vs_layers("BN", "B T F")


@_table_claim("LN", "B T F")
def _():
    return table_vs_layers("LN", "B T F")


@_table_claim("GN", "B T F")
def _():
    return table_vs_layers("GN", "B T F")


@_table_claim("IN", "B T F")
def _():
    return table_vs_layers("IN", "B T F")


@_table_claim("BN", "N C H W")
def _():
    return table_vs_layers("BN", "N C H W")


@_table_claim("LN", "N C H W")
def _():
    return table_vs_layers("LN", "N C H W")


@_table_claim("GN", "N C H W")
def _():
    return table_vs_layers("GN", "N C H W")


@_table_claim("IN", "N C H W")
def _():
    return table_vs_layers("IN", "N C H W")
