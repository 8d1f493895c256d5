"""normaxes.interop: channels-first layers on [B, T, F] sequences."""

import pytest
import torch


def test_on_channels_first_round_trips_a_sequence():
    from normaxes import on_channels_first

    x = torch.arange(24.0).reshape(2, 3, 4)  # [B, T, F]
    seen = []
    y = on_channels_first(lambda v: seen.append(tuple(v.shape)) or v * 2, x)
    assert seen == [(2, 4, 3)] and torch.equal(y, x * 2)
    assert on_channels_first(lambda v: v, x.numpy()).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="3 dimensions"):
        on_channels_first(lambda v: v, torch.zeros(2, 3))
