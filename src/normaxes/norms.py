"""The four classical norms as (layout, over) specifications on both layouts of the book."""

from __future__ import annotations

from dataclasses import dataclass

from .core import parse_layout, standardize

__all__ = ["NormSpec", "NORMS", "SEQUENCE", "IMAGE", "BOOK_NAMES", "book_name", "norm", "apply"]

SEQUENCE = "B T F"
"""The sequence layout (batch, time, feature)."""
IMAGE = "N C H W"
"""The image layout, channels first (batch, channel, height, width)."""


@dataclass(frozen=True)
class NormSpec:
    """One norm on one layout: standardize over *over*, reading *x* with *layout*."""

    name: str
    layout: str
    over: str
    group_axis: str | None = None  # the axis whose size G the caller gives (Group Norm)

    def __call__(self, x, *, eps=1e-5, mask=None, **sizes):
        return standardize(x, self.layout, self.over, eps=eps, mask=mask, **sizes)

    def channel_axis(self, channel: str) -> str:
        """The name this norm's layout gives the dimension *channel* names in the plain layout:
        *channel* itself, or, where Group Norm splits it into groups, its inner axis
        (``"F"`` is ``"Fg"`` in ``"B T (G Fg)"``)."""
        for dim in parse_layout(self.layout):
            if channel in dim or (len(dim) > 1 and dim[-1] == channel + "g"):
                return dim[-1]
        raise ValueError(f"axis {channel!r} is not in the layout {self.layout!r}")

    @property
    def call(self) -> str:
        """The one-line :func:`~normaxes.standardize` call, as text."""
        g = f", {self.group_axis}=G" if self.group_axis else ""
        return f'standardize(x, "{self.layout}", over="{self.over}"{g})'


NORMS = {
    SEQUENCE: {
        "BN": NormSpec("Batch Norm", "B T F", "B T"),
        "LN": NormSpec("Layer Norm", "B T F", "F"),
        "GN": NormSpec("Group Norm", "B T (G Fg)", "T Fg", "G"),
        "IN": NormSpec("Instance Norm", "B T F", "T"),
    },
    IMAGE: {
        "BN": NormSpec("Batch Norm", "N C H W", "N H W"),
        "LN": NormSpec("Layer Norm", "N C H W", "C H W"),
        "GN": NormSpec("Group Norm", "N (G Cg) H W", "Cg H W", "G"),
        "IN": NormSpec("Instance Norm", "N C H W", "H W"),
    },
}
"""``NORMS[layout][short]``: the specification of each norm on each layout of the book."""


BOOK_NAMES = {
    SEQUENCE: {"BN": "Batch Norm", "LN": "per-frame Layer Norm", "GN": "GN({G})",
               "IN": "Instance Norm"},
    IMAGE: {"BN": "Batch Norm", "LN": "per-example Layer Norm", "GN": "GN({G})",
            "IN": "Instance Norm"},
}
"""The name the notation page gives each entry of ``NORMS``: ``NORMS["B T F"]["LN"]`` (over F) is
per-frame Layer Norm, ``NORMS["N C H W"]["LN"]`` (over C H W) per-example Layer Norm."""


def book_name(short: str, layout: str = SEQUENCE, G: int = 2) -> str:
    """The book's name of ``NORMS[layout][short]``: ``book_name("GN", "B T F", G=3)`` is
    ``"GN(3)"``, ``book_name("LN", "N C H W")`` is ``"per-example Layer Norm"``."""
    norm(short, layout)  # a clear error for an unknown norm or layout
    return BOOK_NAMES[layout][short].format(G=G)


def norm(short: str, layout: str = SEQUENCE) -> NormSpec:
    """The specification of norm *short* (``"BN"``, ``"LN"``, ``"GN"``, ``"IN"``) on *layout*."""
    if layout not in NORMS:
        raise ValueError(f"layout {layout!r} is not one of the book's layouts {list(NORMS)}")
    if short not in NORMS[layout]:
        raise ValueError(f"norm {short!r} is not one of {list(NORMS[layout])}")
    return NORMS[layout][short]


def apply(short: str, x, layout: str = SEQUENCE, **kw):
    """Apply norm *short* on *layout* to *x*; keyword arguments go to
    :func:`~normaxes.standardize`."""
    return norm(short, layout)(x, **kw)
