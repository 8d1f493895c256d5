"""Helpers of the padding chapter.

- :mod:`.batches`: padded batches and masks, and a Batch Norm that ignores padding when it trains.
- :mod:`.examples`: the worked example, the inputs of the claims, and the chapter's tables.
- :mod:`.feature_encoder`: the wav2vec 2.0 feature encoder in miniature, on padded waveforms.
"""

from .batches import MaskedBatchNorm1d, pad_images, pad_sequences, padded_batches, real_frames
from .examples import (
                       draw_encoder_padding,
                       draw_masked_sets,
                       growth_table,
                       keras_batch,
                       mask_support,
                       masked_digest,
                       padded_sets,
                       plain_masked,
                       pollution,
                       real_pixels,
                       tiny_padded,
                       train_bn,
                       two_images,
                       two_sequences,
                       unpack,
)
from .feature_encoder import (
                       MODES,
                       TinyFeatureEncoder,
                       conv_output_length,
                       hf_config,
                       hf_feature_encoder,
                       hf_wav2vec2,
                       padded_pair,
                       receptive_field,
                       toy_waveform,
)

__all__ = ["pad_sequences", "pad_images", "real_frames", "padded_batches", "MaskedBatchNorm1d",
           "TinyFeatureEncoder", "conv_output_length", "receptive_field", "toy_waveform",
           "padded_pair", "hf_config", "hf_feature_encoder", "hf_wav2vec2", "MODES",
           "tiny_padded", "padded_sets", "plain_masked", "two_sequences", "keras_batch",
           "two_images", "real_pixels", "unpack", "train_bn", "growth_table", "masked_digest",
           "mask_support", "pollution", "draw_masked_sets", "draw_encoder_padding"]
