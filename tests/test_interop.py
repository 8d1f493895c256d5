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


def test_load_keras_skips_sklearn_and_jax_only_while_importing():
    # in a fresh process: Keras is imported without its optional scikit-learn and JAX
    # integrations, and both import as usual afterwards
    import os
    import subprocess
    import sys

    code = ("import sys\n"
            "from normaxes import load_keras\n"
            "k = load_keras()\n"
            "assert k.backend.backend() == 'torch'\n"
            "assert 'sklearn' not in sys.modules and 'jax' not in sys.modules\n"
            "import jax, sklearn\n"
            "assert sys.modules['sklearn'] is sklearn and sys.modules['jax'] is jax\n")
    env = dict(os.environ, KERAS_BACKEND="torch")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
