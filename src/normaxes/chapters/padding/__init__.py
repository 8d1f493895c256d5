"""Helpers of the padding chapter.

- :mod:`.batches`: padded batches and masks, and a Batch Norm that ignores padding when it trains.
- :mod:`.feature_encoder`: the wav2vec 2.0 feature encoder in miniature, on padded waveforms.
"""

from .batches import MaskedBatchNorm1d, pad_images, pad_sequences, padded_batches, real_frames
from .feature_encoder import (MODES, TinyFeatureEncoder, conv_output_length, padded_pair,
                              receptive_field, toy_waveform)

__all__ = ["pad_sequences", "pad_images", "real_frames", "padded_batches", "MaskedBatchNorm1d",
           "TinyFeatureEncoder", "conv_output_length", "receptive_field", "toy_waveform",
           "padded_pair", "MODES"]
