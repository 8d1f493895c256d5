"""The Group and Instance Norm chapter (page group_norm): the cube panels of Group Norm and the
sweep of G between its two ends."""

from __future__ import annotations

import numpy as np

from .. import NORMS
from ..book.figures import CUBE_AXES

__all__ = ["gn_panels", "gn_sweep"]


def gn_panels(layout: str, shape, groups) -> list[dict]:
    """One cube panel (for :func:`~normaxes.book.figures.draw_cubes`) per number of groups in
    *groups*: Group Norm on *layout* (``"B T F"`` or ``"N C H W"``), the set of the first entry
    shaded."""
    if layout not in CUBE_AXES:
        raise ValueError(f"layout {layout!r} is not one of the book's layouts {list(CUBE_AXES)}")
    spec = NORMS[layout]["GN"]
    batch, channel = CUBE_AXES[layout]
    m_all = int(np.prod(shape[1:]))
    return [dict(layout=spec.layout, over=spec.over, shape=tuple(shape), batch=batch,
                 channel=channel, G=G, title=f"G = {G}\nover {spec.over}, m = {m_all // G}")
            for G in groups]


def gn_sweep(x, img, seq_groups=(1, 2, 4, 8), img_groups=(1, 2, 3, 6)):
    """Group Norm for each G, by PyTorch's ``F.group_norm``, against its two ends.

    On the sequence *x* ``[B, T, F]`` the ends are Layer Norm as frameworks ship it, per frame
    (``F.layer_norm(x, (F,))``), and Instance Norm; on the images *img* ``[N, C, H, W]`` the GN
    paper's Layer Norm over ``C H W`` and Instance Norm. Each ``F.group_norm`` result is first
    checked against the book's ``NORMS[...]["GN"]`` (float32 tolerance). Returns
    ``{(layout, G): {"LN": max|GN - LN|, "IN": max|GN - IN|}}``.
    """
    import torch
    import torch.nn.functional as tF

    from ..interop import on_channels_first

    xt, it = torch.from_numpy(np.asarray(x)), torch.from_numpy(np.asarray(img))
    cases = {
        "B T F": (xt, seq_groups, lambda G: on_channels_first(lambda v: tF.group_norm(v, G), xt),
                  {"LN": tF.layer_norm(xt, xt.shape[-1:]),
                   "IN": on_channels_first(tF.instance_norm, xt)}),
        "N C H W": (it, img_groups, lambda G: tF.group_norm(it, G),
                    {"LN": tF.layer_norm(it, it.shape[1:]), "IN": tF.instance_norm(it)}),
    }
    out = {}
    for layout, (arr, groups, gn, ends) in cases.items():
        for G in groups:
            y = gn(G)
            ours = NORMS[layout]["GN"](arr, G=G)
            if float((y - ours).abs().max()) > 1e-5:
                raise AssertionError(f"F.group_norm differs from NORMS[{layout!r}]['GN'], G={G}")
            out[layout, G] = {end: float((y - ref).abs().max()) for end, ref in ends.items()}
    return out
