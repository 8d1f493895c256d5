"""Helpers of the streaming chapter, one module per idea.

- :mod:`.causality`: does a norm's output at frame ``t`` read later frames, or other sequences?
- :mod:`.cumulative`: the cumulative norm, causal by construction, and its from-scratch check.
- :mod:`.transcriptions`: other projects' cumulative and global layer norms, transcribed.
- :mod:`.float32`: how far the float32 cumulative norm drifts on a long sequence.
- :mod:`.examples`: the worked example, the inputs of the claims, the chapter's tables and figures.
- :mod:`.influence`: the inputs an output depends on, measured with autograd.
"""

from .causality import batch_leak, causal_frames, future_leak
from .cumulative import ACCUMULATE, cumulative_standardize, prefix_mask
from .examples import (
                       causality_table,
                       cumulative_ln,
                       cumulative_sets,
                       draw_float32,
                       float32_findings,
                       float32_table,
                       gain_bias,
                       measured_sets,
                       stream_batch,
)
from .float32 import float32_error, long_sequence
from .influence import influence
from .transcriptions import (
                       asteroid_cum_ln,
                       asteroid_cum_ln_0_6_0,
                       asteroid_glob_ln,
                       conv_tasnet_cln,
)

__all__ = ["ACCUMULATE", "future_leak", "causal_frames", "batch_leak", "cumulative_standardize",
           "prefix_mask", "conv_tasnet_cln", "asteroid_cum_ln", "asteroid_cum_ln_0_6_0",
           "asteroid_glob_ln", "long_sequence", "float32_error", "influence", "cumulative_sets",
           "stream_batch", "cumulative_ln", "gain_bias", "causality_table", "float32_table",
           "float32_findings", "draw_float32", "measured_sets"]
