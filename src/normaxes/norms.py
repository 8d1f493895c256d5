"""The four classical norms as (layout, over) specifications on both layouts of the book."""

from __future__ import annotations

from dataclasses import dataclass

from .core import standardize

__all__ = ["NormSpec", "NORMS", "SEQUENCE", "IMAGE", "norm", "apply"]

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

    @property
    def call(self) -> str:
        """The one-line :func:`~normaxes.standardize` call, as text."""
        g = f", {self.group_axis}=G" if self.group_axis else ""
        return f'standardize(x, "{self.layout}", over="{self.over}"{g})'


NORMS = {
    SEQUENCE: {
        "BN": NormSpec("Batch Norm", "B T F", "B T"),
        "LN": NormSpec("Layer Norm", "B T F", "F"),
        "GN": NormSpec("Group Norm", "B T (G F)", "T F", "G"),
        "IN": NormSpec("Instance Norm", "B T F", "T"),
    },
    IMAGE: {
        "BN": NormSpec("Batch Norm", "N C H W", "N H W"),
        "LN": NormSpec("Layer Norm", "N C H W", "C H W"),
        "GN": NormSpec("Group Norm", "N (G C) H W", "C H W", "G"),
        "IN": NormSpec("Instance Norm", "N C H W", "H W"),
    },
}
"""``NORMS[layout][short]``: the specification of each norm on each layout of the book."""


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
