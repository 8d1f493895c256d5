"""The wav2vec 2.0 feature encoder in miniature: a few strided 1-D convolutions on a raw waveform.

The real encoder (fairseq's ``ConvFeatureExtractionModel``, Hugging Face's
``Wav2Vec2FeatureEncoder``) has seven convolutions with 512 channels and two modes:

- ``"group"`` (fairseq ``extractor_mode="default"``, the base configuration): a ``GroupNorm`` with
  one group per channel (``num_groups = num_channels``) after the **first** convolution only, i.e.
  statistics over time, per sequence and channel; the other convolutions have no norm.
- ``"layer"`` (fairseq ``extractor_mode="layer_norm"``, the large LV-60 and XLS-R
  configurations): a ``LayerNorm`` over the channels of each frame after **every** convolution.

Each convolution is followed by a GELU. :class:`TinyFeatureEncoder` builds both modes with the same
structure, few channels and seeded weights, so that their behaviour on padded input can be checked;
:func:`hf_feature_encoder` copies its weights into Hugging Face's own ``Wav2Vec2FeatureEncoder``
and :func:`hf_wav2vec2` builds a small random ``Wav2Vec2Model`` (no download), so that the claims
can run the shipped code.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..._arrays import is_torch
from ...core import standardize

__all__ = ["TinyFeatureEncoder", "conv_output_length", "receptive_field", "toy_waveform",
           "padded_pair", "hf_config", "hf_feature_encoder", "hf_wav2vec2", "MODES"]

MODES = ("group", "layer")


def conv_output_length(n_samples: int, kernels, strides) -> int:
    """Number of output frames of a stack of unpadded convolutions on *n_samples* samples.

    Layer by layer ``L -> (L - k) // s + 1`` (0 once the input is shorter than the kernel), as
    Hugging Face's ``_get_feat_extract_output_lengths`` computes it.
    """
    if len(kernels) != len(strides):
        raise ValueError(f"kernels ({len(kernels)}) and strides ({len(strides)}) must have one "
                         f"entry per layer")
    L = int(n_samples)
    if L < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples}")
    for k, s in zip(kernels, strides, strict=True):
        L = (L - k) // s + 1 if L >= k else 0
    return L


def receptive_field(kernels, strides) -> tuple[int, int]:
    """``(R, S)``: output frame ``t`` of the stack reads input samples ``t*S ... t*S + R - 1``."""
    R, S = 1, 1
    for k, s in zip(kernels, strides, strict=True):
        R += (k - 1) * S
        S *= s
    return R, S


def toy_waveform(n_samples: int, *, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """A short deterministic "recording" ``[n_samples]``: two tones and noise under a loudness
    swing."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples)
    f1, f2 = rng.uniform(0.02, 0.08), rng.uniform(0.1, 0.2)
    env = 0.2 + np.sin(np.pi * t / max(n_samples, 1)) ** 2
    wave = env * (np.sin(2 * np.pi * f1 * t) + 0.5 * np.sin(2 * np.pi * f2 * t)
                  + 0.3 * rng.normal(size=n_samples))
    return wave.astype(dtype)


def padded_pair(short: int = 400, long: int = 640, *, dtype=np.float64):
    """A waveform of *short* samples alone, ``[1, short]``, and zero-padded in a batch with a
    waveform of *long* samples, ``[2, long]`` (row 0 is the short one), as torch tensors.

    Zero padding is what Hugging Face's ``Wav2Vec2FeatureExtractor`` does by default
    (``padding_value=0.0``).
    """
    if not 1 <= short <= long:
        raise ValueError(f"short must lie in [1, long={long}], got short={short}")
    a = torch.from_numpy(toy_waveform(short, seed=1, dtype=dtype))
    b = torch.from_numpy(toy_waveform(long, seed=2, dtype=dtype))
    batch = torch.zeros(2, long, dtype=a.dtype)
    batch[0, :short], batch[1] = a, b
    return a[None], batch


class TinyFeatureEncoder(torch.nn.Module):
    """A wav2vec 2.0 feature encoder with few channels: waveform ``[B, samples]`` -> ``[B, T, C]``.

    Parameters
    ----------
    mode
        ``"group"``: per-channel GroupNorm (statistics over time) after the first convolution only;
        ``"layer"``: LayerNorm over the channels of each frame after every convolution.
    channels, kernels, strides
        One entry per convolution (the real model: 512 channels, kernels 10, 3, 3, 3, 3, 2, 2,
        strides 5, 2, 2, 2, 2, 2, 2).
    seed
        Seed of the random weights (convolutions and norm affine parameters).
    """

    def __init__(self, mode: str = "group", channels=(4, 4, 4), kernels=(10, 3, 3),
                 strides=(5, 2, 2), *, seed: int = 0):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if not (len(channels) == len(kernels) == len(strides)) or not channels:
            raise ValueError(f"channels ({len(channels)}), kernels ({len(kernels)}) and strides "
                             f"({len(strides)}) must have the same, non-zero number of entries")
        self.mode = mode
        self.kernels, self.strides = tuple(kernels), tuple(strides)
        convs, norms = [], []
        c_in = 1
        for i, (c, k, s) in enumerate(zip(channels, kernels, strides, strict=True)):
            convs.append(torch.nn.Conv1d(c_in, c, k, stride=s, bias=False))
            if mode == "layer":
                norms.append(torch.nn.LayerNorm(c))
            elif i == 0:
                norms.append(torch.nn.GroupNorm(num_groups=c, num_channels=c, affine=True))
            else:
                norms.append(torch.nn.Identity())
            c_in = c
        self.convs, self.norms = torch.nn.ModuleList(convs), torch.nn.ModuleList(norms)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for conv in self.convs:
                fan_in = conv.in_channels * conv.kernel_size[0]
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * (2 / fan_in) ** 0.5)
            for norm in self.norms:
                if getattr(norm, "weight", None) is not None:
                    norm.weight.copy_(1 + 0.2 * torch.randn(norm.weight.shape, generator=g))
                    norm.bias.copy_(0.2 * torch.randn(norm.bias.shape, generator=g))

    def output_length(self, n_samples: int) -> int:
        """Frames that *n_samples* samples alone produce: exactly the frames of a longer, padded
        input whose receptive field lies inside those samples."""
        return conv_output_length(n_samples, self.kernels, self.strides)

    def forward(self, wave: torch.Tensor, lengths=None) -> torch.Tensor:
        """Encode *wave* ``[B, samples]`` into frames ``[B, T, C]``.

        Without *lengths* this is the model as shipped: padding, if any, is part of the input.
        With *lengths* (real samples per waveform), the group-mode norm takes its statistics over
        the frames that see real samples only (``standardize(..., mask=...)``), and frames that
        see padding come out as 0.
        """
        if not is_torch(wave) or wave.ndim != 2:
            raise ValueError(f"wave must be a torch tensor [B, samples] with 2 dimensions, got "
                             f"shape {tuple(getattr(wave, 'shape', ()))}")
        if lengths is not None:
            lengths = [int(n) for n in lengths]
            if len(lengths) != wave.shape[0]:
                raise ValueError(f"lengths has {len(lengths)} entries, wave has B={wave.shape[0]}")
            if any(n < 0 or n > wave.shape[1] for n in lengths):
                raise ValueError(f"every length must lie in [0, {wave.shape[1]}] (the samples of "
                                 f"wave), got {lengths}")
        h = wave[:, None, :]  # [B, 1, samples]
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            h = conv(h)  # [B, C, T_i]
            valid = None
            if lengths is not None:
                n_i = [conv_output_length(n, self.kernels[:i + 1], self.strides[:i + 1])
                       for n in lengths]
                valid = torch.arange(h.shape[-1])[None, None, :] < torch.tensor(n_i)[:, None, None]
            if isinstance(norm, torch.nn.GroupNorm) and valid is not None:
                # statistics over the real frames of each sequence and channel, then the affine step
                h = standardize(h, "B C T", over="T", eps=norm.eps, mask=valid)
                h = h * norm.weight[None, :, None] + norm.bias[None, :, None]
            elif isinstance(norm, torch.nn.LayerNorm):
                h = norm(h.transpose(1, 2)).transpose(1, 2)
            else:
                h = norm(h)
            h = F.gelu(h)
            if valid is not None:
                h = torch.where(valid, h, torch.zeros((), dtype=h.dtype))
        return h.transpose(1, 2)  # [B, T, C]


# --- Hugging Face's implementation, with small random configurations -----------------------------

def _transformers():
    """Import ``transformers`` once, without the warning its progress bars print to stderr when
    ipywidgets is missing (a notebook output must hold no warning)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import transformers
    return transformers


def hf_config(mode: str = "group", channels=(4, 4, 4), kernels=(10, 3, 3), strides=(5, 2, 2)):
    """A small ``transformers.Wav2Vec2Config`` with the convolutions of :class:`TinyFeatureEncoder`
    and ``feat_extract_norm=mode`` (a 1-layer Transformer of width 8; no download)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return _transformers().Wav2Vec2Config(
        feat_extract_norm=mode, conv_dim=tuple(channels), conv_kernel=tuple(kernels),
        conv_stride=tuple(strides), conv_bias=False, hidden_size=8, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=16, num_conv_pos_embeddings=4,
        num_conv_pos_embedding_groups=2)


def hf_feature_encoder(tiny: TinyFeatureEncoder):
    """Hugging Face's ``Wav2Vec2FeatureEncoder`` for the configuration of *tiny*, in float64, with
    *tiny*'s convolution and norm weights copied in. It returns ``[B, C, T]`` (channels first)."""
    _transformers()
    from transformers.models.wav2vec2.modeling_wav2vec2 import Wav2Vec2FeatureEncoder

    channels = tuple(c.out_channels for c in tiny.convs)
    enc = Wav2Vec2FeatureEncoder(hf_config(tiny.mode, channels, tiny.kernels, tiny.strides))
    enc = enc.double()
    with torch.no_grad():
        for layer, conv, norm in zip(enc.conv_layers, tiny.convs, tiny.norms, strict=True):
            layer.conv.weight.copy_(conv.weight)
            if hasattr(layer, "layer_norm"):
                layer.layer_norm.weight.copy_(norm.weight)
                layer.layer_norm.bias.copy_(norm.bias)
    return enc


def hf_wav2vec2(mode: str = "group", *, seed: int = 0):
    """A small Hugging Face ``Wav2Vec2Model`` of :func:`hf_config` with random weights (seeded), in
    float64 and eval mode: the shipped forward pass, feature encoder to Transformer."""
    Wav2Vec2Model = _transformers().Wav2Vec2Model
    with torch.random.fork_rng(devices=[]):  # the global generator is left as it was
        torch.manual_seed(seed)
        return Wav2Vec2Model(hf_config(mode)).double().eval()
