"""Helpers of the chapter on the norms of real architectures.

Where the real code installs within the book's pins (Hugging Face ``transformers``, which does not
depend on torch), the claims run it. Where it does not (timm needs torchvision, whose PyPI build
does not load beside the CPU build of torch; the original research repositories are not packages),
the functions below are **our transcriptions** of the few lines that matter, operation by
operation, each pinned to the commit we read. They check our reading of that code, not the
installed code.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["convnext_layer_norm", "timm_layer_norm2d", "timm_std_conv_weight",
           "llama_rms_norm", "LLAMA_NORM_EPS", "LLAMA_RMSNORM_DEFAULT_EPS",
           "PoolFormerGroupNorm", "GroupNorm32", "MlCvnetsLayerNorm2D", "bf16_rms_norm",
           "hf_module", "ATLAS", "atlas_table"]


# --- transcriptions, each pinned to the commit we read --------------------------------------------

def convnext_layer_norm(x, weight, bias, eps: float = 1e-6, data_format: str = "channels_last"):
    """Our transcription of ``LayerNorm.forward`` of facebookresearch/ConvNeXt,
    ``models/convnext.py``, commit ``06f7b05``: ``channels_last`` calls ``F.layer_norm`` over the
    last dimension; ``channels_first`` computes mean and biased variance over dimension 1 (C).
    """
    if data_format == "channels_last":
        return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)
    if data_format != "channels_first":
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}")
    u = x.mean(1, keepdim=True)
    s = (x - u).pow(2).mean(1, keepdim=True)
    x = (x - u) / torch.sqrt(s + eps)
    return weight[:, None, None] * x + bias[:, None, None]


def timm_layer_norm2d(x, weight, bias, eps: float = 1e-6):
    """Our transcription of ``LayerNorm2d.forward`` of timm (huggingface/pytorch-image-models,
    ``timm/layers/norm.py``, commit ``05ab01d``), without its optional fused kernel: permute
    ``[N, C, H, W]`` to channels last, ``F.layer_norm`` over C, permute back.
    """
    x = x.permute(0, 2, 3, 1)
    x = F.layer_norm(x, (x.shape[-1],), weight, bias, eps)
    return x.permute(0, 3, 1, 2)


def timm_std_conv_weight(weight, eps: float = 1e-6):
    """Our transcription of the weight of timm's ``StdConv2d.forward`` (``timm/layers/std_conv.py``,
    commit ``6ee68e5``): the kernel ``[O, I, kH, kW]`` read as ``[1, O, I*kH*kW]`` and put through
    ``F.batch_norm`` in training mode, so each output channel's weights are standardized.
    """
    O = weight.shape[0]
    return F.batch_norm(weight.reshape(1, O, -1), None, None, training=True, momentum=0.0,
                        eps=eps).reshape_as(weight)


LLAMA_NORM_EPS = 1e-5
"""``ModelArgs.norm_eps`` of meta-llama/llama ``llama/model.py`` (commit ``0504cf4``)."""
LLAMA_RMSNORM_DEFAULT_EPS = 1e-6
"""The default of its ``RMSNorm(dim, eps=1e-6)``; every RMSNorm of the model passes ``norm_eps``."""


def llama_rms_norm(x, weight, eps: float = LLAMA_RMSNORM_DEFAULT_EPS):
    """Our transcription of ``RMSNorm`` of meta-llama/llama (``llama/model.py``, commit
    ``0504cf4``): ``x * rsqrt(mean(x**2) + eps)`` over the last dimension, computed on
    ``x.float()``, cast back to the dtype of *x*, then multiplied by the weight.
    """
    def _norm(v):
        return v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + eps)

    output = _norm(x.float()).type_as(x)
    return output * weight


def bf16_rms_norm(x, weight, eps: float = LLAMA_RMSNORM_DEFAULT_EPS):
    """The same lines as :func:`llama_rms_norm` without the float32 upcast: every operation in the
    dtype of *x* (the variant the upcast exists to avoid)."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


class PoolFormerGroupNorm(nn.GroupNorm):
    """Our transcription of ``GroupNorm`` of sail-sg/poolformer (``models/poolformer.py``, commit
    ``0c2a8f5``), PoolFormer's default ``norm_layer``: ``nn.GroupNorm`` with one group. timm's
    ``GroupNorm1`` (``timm/layers/norm.py``, commit ``05ab01d``) is the same subclass."""

    def __init__(self, num_channels, **kwargs):
        super().__init__(1, num_channels, **kwargs)


class GroupNorm32(nn.GroupNorm):
    """Our transcription of ``GroupNorm32`` of openai/guided-diffusion (``guided_diffusion/nn.py``,
    commit ``aca3097``): ``nn.GroupNorm`` run on ``x.float()``, the result cast back; its
    ``normalization(channels)`` is ``GroupNorm32(32, channels)``."""

    def forward(self, x):
        """Group Norm of ``x.float()``, cast back to the dtype of *x*."""
        return super().forward(x.float()).type(x.dtype)


class MlCvnetsLayerNorm2D(nn.GroupNorm):
    """Our transcription of ``LayerNorm2D_NCHW`` of apple/ml-cvnets
    (``cvnets/layers/normalization/layer_norm.py``, commit ``0c0f798``), registered as the norm
    ``"layer_norm_2d"``: ``nn.GroupNorm`` with ``num_groups=1`` (issue apple/ml-cvnets#34)."""

    def __init__(self, num_features, eps=1e-5, elementwise_affine=True, *args, **kwargs):
        super().__init__(num_channels=num_features, eps=eps, affine=elementwise_affine,
                         num_groups=1)


# --- the real modules of Hugging Face transformers ------------------------------------------------

def hf_module(name: str, **config):
    """A norm layer of a real model in Hugging Face ``transformers``, built from a small config
    with seeded random weights (nothing is downloaded).

    *name* is one of ``"t5"``, ``"llama"``, ``"bert"``, ``"vit"``, ``"swin"``, ``"whisper"``,
    ``"wav2vec2-conv"``, ``"wav2vec2-encoder"``, ``"conformer-conv"``, ``"convnext-stem"``,
    ``"convnext-block"``, ``"poolformer"``. Returns ``(module, norm)``: the model's layer (or
    block) and the norm inside it.
    """
    with warnings.catch_warnings():  # transformers imports tqdm.auto, which warns in notebooks
        warnings.simplefilter("ignore")
        import transformers as tr  # imported here: it takes a few seconds
    from transformers.models.bert.modeling_bert import BertSelfOutput
    from transformers.models.convnext.modeling_convnext import ConvNextEmbeddings, ConvNextLayer
    from transformers.models.llama.modeling_llama import LlamaRMSNorm
    from transformers.models.poolformer.modeling_poolformer import PoolFormerLayer
    from transformers.models.swin.modeling_swin import SwinLayer
    from transformers.models.t5.modeling_t5 import T5LayerNorm
    from transformers.models.vit.modeling_vit import ViTLayer
    from transformers.models.wav2vec2.modeling_wav2vec2 import (Wav2Vec2EncoderLayer,
                                                                Wav2Vec2GroupNormConvLayer)
    from transformers.models.wav2vec2_conformer.modeling_wav2vec2_conformer import (
        Wav2Vec2ConformerConvolutionModule)
    from transformers.models.whisper.modeling_whisper import WhisperEncoderLayer

    small = dict(hidden_size=8, num_attention_heads=2, intermediate_size=16)
    builders = {
        "t5": lambda: (m := T5LayerNorm(config.get("hidden_size", 8)), m),
        "llama": lambda: (m := LlamaRMSNorm(
            8, eps=tr.LlamaConfig(**config).rms_norm_eps), m),
        "bert": lambda: (m := BertSelfOutput(tr.BertConfig(**small, **config)), m.LayerNorm),
        "vit": lambda: (m := ViTLayer(tr.ViTConfig(**small, **config)), m.layernorm_before),
        "swin": lambda: (m := SwinLayer(tr.SwinConfig(**config), dim=8, input_resolution=(4, 4),
                                        num_heads=2), m.layernorm_before),
        "whisper": lambda: (m := WhisperEncoderLayer(tr.WhisperConfig(
            d_model=8, encoder_attention_heads=2, encoder_ffn_dim=16, **config)),
            m.self_attn_layer_norm),
        "wav2vec2-conv": lambda: (m := Wav2Vec2GroupNormConvLayer(tr.Wav2Vec2Config(
            conv_dim=(8,), conv_kernel=(3,), conv_stride=(1,), **config)), m.layer_norm),
        "wav2vec2-encoder": lambda: (m := Wav2Vec2EncoderLayer(tr.Wav2Vec2Config(
            **small, **config)), m.layer_norm),
        "conformer-conv": lambda: (m := Wav2Vec2ConformerConvolutionModule(
            tr.Wav2Vec2ConformerConfig(**small, conv_depthwise_kernel_size=3, **config)),
            m.batch_norm),
        "convnext-stem": lambda: (m := ConvNextEmbeddings(tr.ConvNextConfig(
            hidden_sizes=[8, 16, 32, 64], **config)), m.layernorm),
        "convnext-block": lambda: (m := ConvNextLayer(tr.ConvNextConfig(**config), dim=8),
                                   m.layernorm),
        "poolformer": lambda: (m := PoolFormerLayer(tr.PoolFormerConfig(**config), 8, 3, 8,
                                                    16, 0.0), m.before_norm),
    }
    if name not in builders:
        raise ValueError(f"hf_module: unknown model {name!r}; choose one of {sorted(builders)}")
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module, norm = builders[name]()
    with torch.no_grad():  # trained-looking affine parameters instead of ones and zeros
        for p in norm.parameters():
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)) * 0.5
                    + (1.0 if p is getattr(norm, "weight", None) else 0.0))
    return module.eval(), norm


# --- the atlas ------------------------------------------------------------------------------------

ATLAS = [
    # model, where the norm sits, name in the code, layout, pooled axes, eps, affine, equals, claim
    ("ConvNeXt", "stem, downsampling", '`LayerNorm(data_format="channels_first")`', "N C H W",
     "C", "1e-6", "[C]", "LN per pixel", "arch-convnext-stem-is-ln-per-pixel"),
    ("ConvNeXt", "every block, after the depthwise conv", "`LayerNorm` (channels last)",
     "N H W C", "C", "1e-6", "[C]", "LN per pixel", "arch-convnext-block-is-ln-per-pixel"),
    ("timm models (ConvNeXt, EdgeNeXt, ...)", "as norm_layer", "`LayerNorm2d`", "N C H W", "C",
     "1e-6", "[C]", "LN per pixel", "arch-timm-layernorm2d-is-ln-per-pixel"),
    ("PoolFormer / MetaFormer", "before token mixer and MLP", "`GroupNorm` (1 group)",
     "N C H W", "C H W", "1e-5", "[C]", "GN(1)", "arch-poolformer-is-gn1"),
    ("MobileViTv2 (ml-cvnets)", "as norm_layer", '`LayerNorm2D_NCHW` ("layer_norm_2d")',
     "N C H W", "C H W", "1e-5", "[C]", "GN(1)", "arch-mlcvnets-layernorm2d-is-gn1"),
    ("ViT", "before attention and MLP (pre-LN)", "`nn.LayerNorm`", "B T F", "F", "1e-12 (HF)",
     "[F]", "LN per token", "arch-vit-ln-per-token"),
    ("Swin", "before attention and MLP (pre-LN)", "`nn.LayerNorm`", "B T F", "F", "1e-5",
     "[F]", "LN per token", "arch-swin-ln-per-token"),
    ("BERT", "after attention and MLP (post-LN)", "`LayerNorm`", "B T F", "F", "1e-12", "[F]",
     "LN per token", "arch-bert-ln-per-token"),
    ("Whisper", "before attention and MLP (pre-LN)", "`nn.LayerNorm`", "B T F", "F", "1e-5",
     "[F]", "LN per frame", "arch-whisper-ln-per-frame"),
    ("wav2vec 2.0", "first conv of the feature encoder", "`GroupNorm(C, C)` (`layer_norm`)",
     "B F T", "T", "1e-5", "[F]", "IN", "arch-wav2vec2-conv-gn-is-in"),
    ("wav2vec 2.0", "transformer encoder (post-LN)", "`nn.LayerNorm`", "B T F", "F", "1e-5",
     "[F]", "LN per frame", "arch-wav2vec2-encoder-ln-per-frame"),
    ("Conformer (wav2vec2-conformer)", "convolution module", "`nn.BatchNorm1d`", "B F T",
     "B T", "1e-5", "[F]", "BN", "arch-conformer-conv-is-bn"),
    ("T5", "before attention and MLP (pre-norm)", "`T5LayerNorm`", "B T F", "F (no mean)",
     "1e-6", "[F], no shift", "RMSNorm", "arch-t5-is-rmsnorm"),
    ("LLaMA", "before attention and MLP (pre-norm)", "`RMSNorm`", "B T F", "F (no mean)",
     "1e-5 (class default 1e-6)", "[F], no shift", "RMSNorm", "arch-llama-is-rmsnorm"),
    ("U-Net of diffusion models", "every ResBlock", "`GroupNorm32(32, C)`", "N (G Cg) H W",
     "Cg H W in each group", "1e-5", "[C]", "GN(32)", "arch-unet-groupnorm32"),
    ("BiT ResNet-V2 (timm)", "the weights of every conv", "`StdConv2d` (Weight Standardization)",
     "O I kH kW", "I kH kW", "1e-6", "none", "LN of the weights", "arch-stdconv-weights"),
]
"""One row per norm of a real model; the last entry is the ledger claim that checks the row."""


def atlas_table(results=None) -> str:
    """The atlas as a Markdown table: one row per entry of ``ATLAS``, with the verdict of its
    ledger claim, run now unless *results* (a dict claim name -> result) is given."""
    from ..book import ledger

    head = ["model", "where", "name in the code", "layout", "pools over", "eps", "affine",
            "is", "claim: measured"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for *cells, name in ATLAS:
        r = results[name] if results else ledger.check(name)
        cells[3] = f"`{cells[3]}`"
        cells.append(f"`{name}`: {r.verdict}, {r.measured}")
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)
